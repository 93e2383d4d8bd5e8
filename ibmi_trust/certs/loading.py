"""Bytes in any common container -> [Cert]: PEM (one or many), DER, PKCS#7.

Broken blocks in a PEM bundle are skipped and reported, not fatal: a store
with one garbage entry must still be readable.

The PEM reader is a single pass over the lines (no regular expression, no
backtracking), so its time grows with the input's length whatever the input
holds: a megabyte of `-----BEGIN` lines without an END costs milliseconds.
As OpenSSL's PEM reader does, a block starts with a `-----BEGIN LABEL-----`
line and ends at the first `-----END ...-----` line; a BEGIN line inside a
block, or the end of the input, leaves that block unterminated (counted and
reported, never a certificate). Besides the byte limit, a total budget
bounds the work: at most MAX_BLOCKS blocks, and an optional deadline checked
between blocks (the AIA fetcher passes its time limit).
"""
import binascii
import os
import time
from typing import List, NamedTuple, Optional, Tuple

from ibmi_trust.certs.cert import Cert
from ibmi_trust.errors import BadCertificateName, CertificateError

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_BLOCKS = 100000               # a root program holds ~150; a year of CT logs would not reach this
MAX_LABEL = 64
MAX_PROBLEMS_LISTED = 20          # broken blocks reported one by one; the rest as a count
CERT_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
_BEGIN, _END, _DASHES = b"-----BEGIN ", b"-----END ", b"-----"
_LABEL_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
_BOM = b"\xef\xbb\xbf"


class RawBlock(NamedTuple):
    label: str
    der: bytes          # b"" when the block is broken (see `problem`)
    start: int          # offset of "-----BEGIN"
    end: int            # offset just after "-----END ...-----"
    problem: str        # "" for a well-formed block


class PemScan(NamedTuple):
    blocks: List[RawBlock]
    unterminated: int   # BEGIN lines whose block never ended
    first_unterminated: int   # 1-based line number of the first one (0: none)

    def unterminated_text(self) -> str:
        """One line about the BEGIN lines that never ended ("" when none)."""
        if not self.unterminated:
            return ""
        return ("%d BEGIN line%s without a matching END line (first at line %d), ignored"
                % (self.unterminated, "" if self.unterminated == 1 else "s", self.first_unterminated))


def scan_pem(data: bytes) -> PemScan:
    """Every PEM block in `data`, in one pass from marker line to marker line
    (lines starting with `-----`, found by bytes.find); the lines between two
    markers are only split and joined, never looked at one by one in Python.

    Raises CertificateError beyond MAX_BLOCKS blocks (the work budget).
    """
    blocks: List[RawBlock] = []
    unterminated = 0
    first_unterminated_at = -1               # offset of the first BEGIN line that never ended
    label: Optional[str] = None
    start = body_from = 0
    size = len(data)
    pos = len(_BOM) if data.startswith(_BOM) else 0
    line_start = pos if data.startswith(_DASHES, pos) else _next_marker(data, pos)
    while line_start >= 0:
        line_end = data.find(b"\n", line_start)
        if line_end < 0:
            line_end = size
        text = data[line_start:line_end].rstrip()
        opened = _label(text, _BEGIN) if text.startswith(_BEGIN) else None
        if opened is not None:
            if label is not None:
                unterminated += 1
                if first_unterminated_at < 0:
                    first_unterminated_at = start
            label, start, body_from = opened, line_start, line_end + 1
        elif label is not None and text.startswith(_END):
            closed = _label(text, _END)
            if closed == label:
                der, problem = _decode(data[body_from:line_start])
            else:
                der, problem = b"", "its END line names %s" % (closed or "no valid label")
            blocks.append(RawBlock(label, der, start, line_start + len(text), problem))
            if len(blocks) > MAX_BLOCKS:
                raise CertificateError("more than %d PEM blocks; not read any further" % MAX_BLOCKS)
            label = None
        line_start = _next_marker(data, line_end)
    if label is not None:
        unterminated += 1
        if first_unterminated_at < 0:
            first_unterminated_at = start
    first_line = data.count(b"\n", 0, first_unterminated_at) + 1 if first_unterminated_at >= 0 else 0
    return PemScan(blocks, unterminated, first_line)


def _next_marker(data: bytes, pos: int) -> int:
    """Start of the next line after `pos` that begins with `-----`, or -1."""
    found = data.find(b"\n-----", pos)
    return found + 1 if found >= 0 else -1


def _label(line: bytes, prefix: bytes) -> Optional[str]:
    """LABEL of a `-----BEGIN LABEL-----` / `-----END LABEL-----` line, else None."""
    known = _KNOWN_LINES[prefix].get(line)
    if known is not None:
        return known
    if not line.endswith(_DASHES) or len(line) < len(prefix) + len(_DASHES) + 1:
        return None
    label = line[len(prefix):-len(_DASHES)]
    if len(label) > MAX_LABEL or not _LABEL_BYTES.issuperset(label):
        return None
    return label.decode("ascii")


# The marker lines of the usual blocks, answered without looking at them byte by byte.
_KNOWN_LINES = {prefix: {prefix + label.encode("ascii") + _DASHES: label
                         for label in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE", "X509 CRL", "PKCS7")}
                for prefix in (_BEGIN, _END)}


def _decode(body: bytes) -> Tuple[bytes, str]:
    """The DER of a block's body; header lines ("Proc-Type: ...") are skipped,
    white space at the ends of lines ignored: base64.b64decode(validate=True)
    of the stripped lines, without its regular expression."""
    text = body.replace(b"\n", b"")             # the usual body: base64 lines and nothing else
    if not _only_base64(text):
        lines = body.split(b"\n")
        if b":" in body:
            lines = [line for line in lines if b":" not in line]
        text = b"".join([line.strip() for line in lines])
        if not _only_base64(text):
            return b"", "its base64 is broken"
    try:
        return binascii.a2b_base64(text), ""
    except (binascii.Error, ValueError):
        return b"", "its base64 is broken"


def _only_base64(text: bytes) -> bool:
    """The alphabet, then at most two "=" (what b64decode's validate=True accepts)."""
    core = text.rstrip(b"=")
    return len(text) - len(core) <= 2 and not core.translate(None, _BASE64_ALPHABET)


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def pem_blocks(data: bytes) -> List[Tuple[str, bytes]]:
    """[(label, der)] for each PEM block; a broken block has der b""."""
    return [(block.label, block.der) for block in scan_pem(data).blocks]


def cert_from_block(label: str, der: bytes) -> Cert:
    """The certificate of a CERTIFICATE / TRUSTED CERTIFICATE block."""
    return Cert(certificate_der(label, der))


def certificate_der(label: str, der: bytes) -> bytes:
    """The certificate's DER in a CERTIFICATE / TRUSTED CERTIFICATE block. A
    TRUSTED CERTIFICATE is the certificate followed by OpenSSL's trust settings;
    only the certificate is kept (the settings are not modelled)."""
    if label == "TRUSTED CERTIFICATE":
        from ibmi_trust.certs.der import DerError, der_tlv

        try:
            return der[:der_tlv(der, 0)[2]]
        except DerError:
            raise CertificateError("a TRUSTED CERTIFICATE block is not DER") from None
    return der


def check_deadline(deadline: Optional[float], done: int) -> None:
    """CertificateError once `deadline` (time.monotonic()) has passed."""
    if deadline is not None and time.monotonic() > deadline:
        raise CertificateError("gave up reading certificates: time limit reached after %d block%s"
                               % (done, "" if done == 1 else "s"))


def load_certificates(data: bytes, *, strict: bool = True, problems: list = None,
                      deadline: Optional[float] = None) -> List[Cert]:
    """Certificates in `data`, in order.

    PEM text may hold CERTIFICATE and PKCS7 blocks (other blocks, such as
    keys, are ignored). Binary input is tried as one DER certificate, then as
    DER PKCS#7 (a .p7c from AIA). With strict=False broken PEM blocks are
    appended to `problems` instead of raising (the first MAX_PROBLEMS_LISTED
    one by one, then their number). `deadline` (a time.monotonic() value)
    bounds the whole parse: past it, CertificateError.
    """
    if len(data) > MAX_INPUT_BYTES:
        raise CertificateError("input is larger than %d bytes" % MAX_INPUT_BYTES)
    if b"-----BEGIN" in data:
        return _load_pem(data, strict, problems, deadline)
    try:
        return [Cert(data)]
    except BadCertificateName:
        raise                                     # a certificate, with a named defect
    except CertificateError:
        pass
    try:
        certs = _pkcs7(data)
    except CertificateError:
        raise CertificateError("not a certificate (tried PEM, DER and PKCS#7)") from None
    if not certs:
        raise CertificateError("PKCS#7 structure holds no certificate")
    return certs


def _load_pem(data: bytes, strict: bool, problems: Optional[list], deadline: Optional[float]) -> List[Cert]:
    scan = scan_pem(data)
    certs: List[Cert] = []
    broken = 0
    for index, block in enumerate(scan.blocks):
        check_deadline(deadline, index)
        try:
            if block.label in CERT_LABELS:
                if block.problem:
                    raise CertificateError("PEM block %d: %s" % (index + 1, block.problem))
                certs.append(cert_from_block(block.label, block.der))
            elif block.label == "PKCS7":
                certs.extend(_pkcs7(block.der))
        except CertificateError as exc:
            if strict:
                raise
            broken += 1
            if problems is not None and broken <= MAX_PROBLEMS_LISTED:
                problems.append("block %d: %s" % (index + 1, exc))
    if problems is not None and broken > MAX_PROBLEMS_LISTED:
        problems.append("%d more broken blocks not listed" % (broken - MAX_PROBLEMS_LISTED))
    if problems is not None and scan.unterminated:
        problems.append(scan.unterminated_text())
    if not certs and strict:
        more = "; " + scan.unterminated_text() if scan.unterminated else ""
        raise CertificateError("no certificate found in PEM input%s" % more)
    return certs


def _pkcs7(der: bytes) -> List[Cert]:
    from ibmi_trust.certs import compat

    try:
        objs = compat.load_pkcs7(der)
    except Exception as exc:
        raise CertificateError("not a PKCS#7 certificate bundle: %s" % (str(exc)[:120] or type(exc).__name__)) from None
    from cryptography.hazmat.primitives.serialization import Encoding

    return [Cert(c.public_bytes(Encoding.DER)) for c in objs]


def load_certificate_file(path, *, strict: bool = True, problems: list = None) -> List[Cert]:
    p = os.fspath(path)                         # (not pathlib: a probe does not otherwise load it)
    try:
        with open(p, "rb") as handle:      # a device or pipe may not know its size:
            data = handle.read(MAX_INPUT_BYTES + 1)   # read no more than the limit
    except OSError as exc:
        raise CertificateError("cannot read %s: %s" % (p, exc.strerror or exc)) from None
    if len(data) > MAX_INPUT_BYTES:
        raise CertificateError("%s is larger than %d bytes" % (p, MAX_INPUT_BYTES))
    try:
        return load_certificates(data, strict=strict, problems=problems)
    except CertificateError as exc:
        raise CertificateError("%s: %s" % (p, exc)) from None


def to_pem_bundle(certs) -> str:
    return "".join(c.pem() for c in certs)
