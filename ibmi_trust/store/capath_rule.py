"""How OpenSSL's CApath lookup treats a hash name it cannot use.

OpenSSL finds a subject's certificates in a CApath directory by trying
`HHHHHHHH.0`, `.1`, ... until a name does not exist (crypto/x509/by_dir.c,
get_cert_by_subject_ex). A name that exists but cannot be used (a dangling
link, an empty or unparsable file, a directory) is treated in one of two ways:

  skip   the next suffix is tried: releases with the fix of
         https://github.com/openssl/openssl/issues/23882
         (https://github.com/openssl/openssl/pull/31594, mid-2026; measured
         with OpenSSL 3.0.22 here);
  stop   the lookup of that subject ends there: OpenSSL 1.1.1 and 3.x before
         the fix, so a broken `.0` hides every later suffix.

A link to a readable certificate of another subject (a stale link) is used
(and its certificate simply does not match) under both.

Which one the clients of this machine's OpenSSL follow is settled once per
process, and only when a lookup meets such a name:
IBMI_TRUST_CAPATH_BROKEN_NAMES=skip|stop; else asked of the `openssl` binary
(a directory built for the question: a dangling `.0`, the certificate at
`.1`); else assumed from the version of the OpenSSL Python's ssl links
(skip from 3.0.22, stop before; docs/verify-on-your-system.md).
"""
import os
import re
import shutil
import subprocess
import tempfile
import threading
from typing import NamedTuple, Optional

SKIP, STOP = "skip", "stop"
ENV = "IBMI_TRUST_CAPATH_BROKEN_NAMES"


class Rule(NamedTuple):
    name: str            # SKIP or STOP
    source: str          # how it was settled, for the output


_SETTLED: Optional[Rule] = None
_LOCK = threading.Lock()

# A self-signed CA (P-256, valid 2000-9999) made for the question only; its key was thrown away.
_PROBE_PEM = """-----BEGIN CERTIFICATE-----
MIIBZzCCAQygAwIBAgIBATAKBggqhkjOPQQDAjApMScwJQYDVQQDDB5pYm1pLXRy
dXN0IENBcGF0aCBsb29rdXAgcHJvYmUwIBcNMDAwMTAxMDAwMDAwWhgPOTk5OTEy
MzEyMzU5NTlaMCkxJzAlBgNVBAMMHmlibWktdHJ1c3QgQ0FwYXRoIGxvb2t1cCBw
cm9iZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB3HzpBFUo/lvEzSUeLFciGg
Y1UdGvohNuH+06FNBUxjR038LlxES3X/AYtBBkxGi/OQsWzEs1pbUJa3pfzESWyj
IzAhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMC
A0kAMEYCIQCmoAiZylKOfqz423FRd3fUUzOEG9YY5LUWngnTx3/9oAIhAOowQaVY
6hUvwRb0PSPcQNYSFFa2lFcrlTCmAfqnD1RS
-----END CERTIFICATE-----
"""
_TIMEOUT = 10.0


def broken_name_rule() -> Rule:
    """The rule this machine's OpenSSL clients follow (settled once per process)."""
    global _SETTLED
    with _LOCK:
        if _SETTLED is None:
            _SETTLED = _settle()
        return _SETTLED


def _settle() -> Rule:
    chosen = os.environ.get(ENV, "").strip().lower()
    if chosen in (SKIP, STOP):
        return Rule(chosen, ENV)
    measured = _measured()
    if measured is not None:
        return measured
    import ssl

    return Rule(_by_version(ssl.OPENSSL_VERSION), "assumed from %s (Python's ssl)" % ssl.OPENSSL_VERSION)


def _by_version(text: str) -> str:
    found = re.search(r"OpenSSL (\d+)\.(\d+)\.(\d+)", text)
    if found is None:
        return STOP
    major, minor, patch = (int(x) for x in found.groups())
    return SKIP if (major, minor) == (3, 0) and patch >= 22 else STOP


def _measured() -> Optional[Rule]:
    from ibmi_trust import openssl_binary
    from ibmi_trust.certs.loading import load_certificates
    from ibmi_trust.store.rehash import hash_text, subject_hash

    binary = openssl_binary.find()
    if not binary:
        return None
    bucket = hash_text(subject_hash(load_certificates(_PROBE_PEM.encode("ascii"))[0]))
    workdir = tempfile.mkdtemp(prefix="ibmi-trust-capath-rule-")
    try:
        probe = os.path.join(workdir, "probe.pem")
        with open(probe, "w", encoding="ascii") as handle:
            handle.write(_PROBE_PEM)
        os.symlink("gone.pem", os.path.join(workdir, bucket + ".0"))
        os.symlink("probe.pem", os.path.join(workdir, bucket + ".1"))
        version = openssl_binary.run(binary, ["version"], timeout=_TIMEOUT)
        args = ["verify", "-CApath", workdir, "-no-CAfile"]
        if version.stdout.startswith(b"OpenSSL 3") or version.stdout.startswith(b"OpenSSL 4"):
            args.append("-no-CAstore")
        proc = openssl_binary.run(binary, args + [probe], timeout=_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    named = version.stdout.decode("utf-8", "replace").strip().split(" (")[0]
    said = proc.stdout + proc.stderr
    if proc.returncode == 0 and b"OK" in said:
        return Rule(SKIP, "measured with %s (%s)" % (binary, named))
    if re.search(rb"error (18|19|20) at 0 depth", said):         # the probe was not found at .1
        return Rule(STOP, "measured with %s (%s)" % (binary, named))
    return None                                                   # an answer to another question


def forget() -> None:
    """Settle again on next use (tests)."""
    global _SETTLED
    with _LOCK:
        _SETTLED = None
