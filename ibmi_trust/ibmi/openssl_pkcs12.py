"""PKCS#12 friendly names through the openssl binary, for old cryptography.

cryptography writes friendly names for CA certificates only from 37.0 and
reads them only from 36.0 (ref 7; python-on-ibmi.md 4.2), and IBM's
python39-cryptography RPM is probably older. Without friendly names DCM
labels are lost, and labels are what DCM shows and what QycdAddCACertTrust
takes. So on old cryptography the package asks the PASE openssl binary
(ibmi_trust.openssl_binary: /QOpenSys/pkgs/bin/openssl first, then
/QOpenSys/usr/bin/openssl; ref python-on-ibmi.md 6) to write and read the
names; passwords go through its standard input, never its argv, and the child
gets a minimal environment (never the store password's variable).

IBMI_TRUST_OPENSSL names the binary explicitly.
"""
import os
import re
import shutil
import subprocess
import tempfile
from typing import List, Optional, Sequence, Tuple

from ibmi_trust import openssl_binary
from ibmi_trust.certs import Cert, load_certificates, to_pem_bundle
from ibmi_trust.errors import StoreError

_TIMEOUT = 60


def binary() -> Optional[str]:
    return openssl_binary.find()


def write(items: Sequence[Tuple[Cert, str]], password: bytes, *, legacy: bool = True) -> bytes:
    """A certificates-only PKCS#12 with one friendly name per certificate."""
    exe = binary()
    workdir = tempfile.mkdtemp(prefix="ibmi-trust-p12-")
    try:
        pem = os.path.join(workdir, "in.pem")
        out = os.path.join(workdir, "out.p12")
        with open(pem, "w", encoding="ascii") as handle:
            handle.write(to_pem_bundle(cert for cert, _label in items))
        args = [exe, "pkcs12", "-export", "-nokeys", "-in", pem, "-out", out, "-passout", "stdin"]
        if legacy:
            args += ["-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"]
        for _cert, label in items:
            args += ["-caname", label]
        _run(args, bytes(password))
        with open(out, "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read(data: bytes, password: bytes) -> List[Tuple[Cert, Optional[str]]]:
    """[(cert, friendly name or None)]; private keys are never extracted."""
    exe = binary()
    workdir = tempfile.mkdtemp(prefix="ibmi-trust-p12-")
    try:
        path = os.path.join(workdir, "in.p12")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        base = [exe, "pkcs12", "-in", path, "-nokeys", "-passin", "stdin"]
        try:
            text = _run(base, bytes(password))
        except StoreError:
            text = _run(base + ["-legacy"], bytes(password))  # OpenSSL 3 and RC2-40 files
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return parse_listing(text)


def parse_listing(text: str) -> List[Tuple[Cert, Optional[str]]]:
    """`openssl pkcs12 -nokeys` output: "Bag Attributes ... friendlyName: X" + PEM."""
    items = []
    for block in re.split(r"(?m)^(?=Bag Attributes)", text):
        if "BEGIN CERTIFICATE" not in block:
            continue
        match = re.search(r"(?m)^\s*friendlyName: (.*)$", block)
        name = match.group(1).strip() if match else None
        items.extend((cert, name) for cert in load_certificates(block.encode("utf-8")))
    return items


def _run(args: List[str], password: bytes) -> str:
    if not args[0]:
        raise StoreError("no openssl binary found to handle PKCS#12 labels",
                         hint="install the openssl RPM or set IBMI_TRUST_OPENSSL")
    try:
        proc = openssl_binary.run(args[0], args[1:], input=password + b"\n", timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreError("openssl pkcs12 could not run: %s" % exc) from None
    if proc.returncode != 0:
        first = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["exit %d" % proc.returncode])[0]
        raise StoreError("openssl pkcs12 failed: %s" % first[:200])
    return proc.stdout.decode("utf-8", "replace")
