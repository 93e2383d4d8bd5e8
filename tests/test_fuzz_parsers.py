"""Property-based fuzzing of every parser of untrusted input (issue 11).

The property, for each parser: whatever the bytes, only the package's own
error types escape (IbmiTrustError and its subclasses, or the documented
module-level error of a pure parser such as tls12.NotFound), and each input
is handled within hypothesis' deadline. Where a parser has an inverse, the
round trip is checked too.

Budget: CI runs FUZZ_EXAMPLES (200) examples per test, derandomized (the
same inputs every run, no database). IBMI_TRUST_FUZZ_EXAMPLES=N runs N
random examples per test instead, e.g. before a release:

    IBMI_TRUST_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz_parsers.py
"""
import base64
import datetime
import json
import os
import tempfile
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ibmi_trust.certs import Cert, load_certificates  # noqa: E402
from ibmi_trust.certs.der import name_text  # noqa: E402
from ibmi_trust.errors import CertificateError, ConfigError, IbmiTrustError, ProbeError, StoreError  # noqa: E402
from ibmi_trust.fetch.aia import AiaClient  # noqa: E402
from ibmi_trust.ibmi import messages  # noqa: E402
from ibmi_trust.jobs import clresults  # noqa: E402
from ibmi_trust.jobs.config import load_config  # noqa: E402
from ibmi_trust.probe import starttls, tls12  # noqa: E402
from ibmi_trust.probe.target import Target, parse_resolve  # noqa: E402
from ibmi_trust.probe.wire import Wire  # noqa: E402
from ibmi_trust.store import pemfile  # noqa: E402
from ibmi_trust.store.bundle import parse_bundle  # noqa: E402
from ibmi_trust.store.capath import linkable_content  # noqa: E402
from ibmi_trust.testing.aia_server import AiaServer  # noqa: E402
from ibmi_trust.testing.pki import CA  # noqa: E402

FUZZ_EXAMPLES = 200
_LOCAL = os.environ.get("IBMI_TRUST_FUZZ_EXAMPLES", "").strip()
settings.register_profile(
    "ibmi-trust-fuzz",
    max_examples=int(_LOCAL) if _LOCAL.isdigit() else FUZZ_EXAMPLES,
    derandomize=not _LOCAL.isdigit(),
    database=None,
    deadline=datetime.timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
FUZZ = settings.get_profile("ibmi-trust-fuzz")

_ROOT = CA.root("Fuzz Root")
_INTER = _ROOT.intermediate("Fuzz Issuing CA", aia_url="http://127.0.0.1:1/x.cer")
_LEAF = _INTER.leaf(["mx.example.test", "127.0.0.1"])
REAL_DERS = [_ROOT.cert.der, _INTER.cert.der, _LEAF.cert.der]


# -- strategies ------------------------------------------------------------------------
def mutated(blob: bytes):
    """`blob` with a few bytes changed, cut or inserted."""
    @st.composite
    def build(draw):
        data = bytearray(blob)
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            if not data:
                break
            pos = draw(st.integers(0, len(data) - 1))
            if kind == "flip":
                data[pos] = draw(st.integers(0, 255))
            elif kind == "cut":
                del data[pos:pos + draw(st.integers(1, 16))]
            elif kind == "insert":
                data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
            else:
                del data[pos:]
        return bytes(data)
    return build()


def _b64_lines(der: bytes) -> str:
    text = base64.b64encode(der).decode("ascii")
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64))


LABELS = st.sampled_from(["CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE", "PKCS7", "X509 CRL",
                          "PRIVATE KEY", "FOO", "", "certificate", "CERTIFICATE-----", "A" * 80])
DERS = st.one_of(st.sampled_from(REAL_DERS), st.sampled_from(REAL_DERS).flatmap(mutated), st.binary(max_size=64))


@st.composite
def pem_texts(draw):
    """PEM-looking text: BEGIN/END lines (matched or not), base64 bodies, junk."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["block", "begin", "end", "junk", "header", "mismatch"]))
        label = draw(LABELS)
        if kind == "block":
            parts.append("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, _b64_lines(draw(DERS)), label))
        elif kind == "begin":
            parts.append("-----BEGIN %s-----\n" % label * draw(st.integers(1, 50)))
        elif kind == "end":
            parts.append("-----END %s-----\n" % label)
        elif kind == "header":
            parts.append("-----BEGIN %s-----\nProc-Type: 4,ENCRYPTED\n\n%s\n-----END %s-----\n"
                         % (label, _b64_lines(draw(DERS)), label))
        elif kind == "mismatch":
            parts.append("-----BEGIN %s-----\n%s\n-----END %s-----\n"
                         % (label, _b64_lines(draw(DERS)), draw(LABELS)))
        else:
            parts.append(draw(st.text(max_size=80)))
    separator = draw(st.sampled_from(["", "\r\n", "\n\n", " "]))
    return separator.join(parts).encode("utf-8", "surrogatepass")


CERT_INPUTS = st.one_of(pem_texts(), DERS, st.binary(max_size=512))


# -- PEM / DER / PKCS#7 ------------------------------------------------------------------
@FUZZ
@given(CERT_INPUTS, st.booleans())
def test_fuzz_certificate_loading_raises_only_certificate_errors(data, strict):
    problems = []
    try:
        certs = load_certificates(data, strict=strict, problems=problems)
    except CertificateError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert all(isinstance(c, Cert) for c in certs)
    assert all("\n" not in p for p in problems)


@FUZZ
@given(st.one_of(st.sampled_from(REAL_DERS).flatmap(mutated), st.sampled_from(REAL_DERS), st.binary(max_size=64)))
def test_fuzz_usual_certificate_reader_equals_the_general_one(der):
    """certs/fields.py reads the usual certificate layout without building lists
    (_read_usual_tbs) and anything else with the general reader: same fields,
    same refusals."""
    from ibmi_trust.certs import fields
    from ibmi_trust.certs.der import DerError

    def outcome(reader):
        try:
            tbs = reader(der)
        except DerError as exc:
            return ("refused", str(exc))
        return (tbs.version, tbs.issuer, tbs.subject, list(tbs._at))

    expected = outcome(fields._read_any_tbs)
    try:
        quick = outcome(fields._read_usual_tbs)
    except (fields._Unusual, IndexError):
        quick = None                                    # left to the general reader
    assert outcome(fields.read_tbs) == expected
    assert quick is None or quick == expected


def reference_canonical_name(name_der: bytes) -> bytes:
    """OpenSSL's canonical name encoding (x509_name_canon) the plain way: every
    RDN and attribute through the general reader, no cache, no fast path."""
    from ibmi_trust.certs import fields
    from ibmi_trust.certs.der import der_encode, der_tlv

    tag, start, end = der_tlv(name_der, 0)
    if tag != 0x30 or end != len(name_der):
        raise fields.NameHashError("not a Name")
    out = []
    for set_pos, set_start, set_end in fields.children(name_der, start, end):
        if name_der[set_pos] != 0x31:
            raise fields.NameHashError("RDN is not a SET")
        members = sorted(fields._canonical_attribute(name_der, *attribute)
                         for attribute in fields.children(name_der, set_start, set_end))
        out.append(der_encode(0x31, b"".join(members)))
    return b"".join(out)


_NAMES = [c.subject_der for c in (_ROOT.cert, _INTER.cert, _LEAF.cert)] + [
    bytes.fromhex("3040310b300906035504061302555331133011060355040a0c0a4578616d706c6520436f31"
                  "1c301a0603550403131320204d6978656420202043617365204e616d65")]


@FUZZ
@given(st.one_of(st.sampled_from(_NAMES).flatmap(mutated), st.sampled_from(_NAMES), st.binary(max_size=48)))
def test_fuzz_canonical_name_equals_the_plain_reference(name_der):
    """certs/fields.py canonicalises the usual one-attribute RDN without lists and
    caches RDNs; the result (or the refusal) is the plain reference's."""
    from ibmi_trust.certs.der import DerError
    from ibmi_trust.certs.fields import canonical_name

    def outcome(function):
        try:
            return function(name_der)
        except DerError:
            return "refused"

    assert outcome(canonical_name) == outcome(reference_canonical_name)
    assert outcome(canonical_name) == outcome(reference_canonical_name)     # again: now from the cache


@FUZZ
@given(st.sampled_from(REAL_DERS).flatmap(mutated))
def test_fuzz_cert_reads_every_field_up_front_or_refuses(der):
    try:
        cert = Cert(der)
    except CertificateError:
        return
    # everything the stages read later must already work
    cert.summary(), cert.common_name, cert.dns_names(), cert.ip_names(), cert.pem(), cert.self_issued
    cert.key_description(), cert.signature_hash_name()
    assert cert.subject.isprintable() and cert.issuer.isprintable()


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.sampled_from(REAL_DERS).flatmap(mutated)))
def test_fuzz_name_text_never_raises(data):
    text, defects = name_text(data)
    assert text.isprintable() and all(isinstance(d, str) for d in defects)


@FUZZ
@given(CERT_INPUTS)
def test_fuzz_store_file_parsers_report_problems_never_raise(data):
    try:
        scan = parse_bundle(data, "fuzz.pem")
    except StoreError:
        pass
    else:
        assert all(p.reason and "\n" not in p.reason for p in scan.problems)
        for block in scan.blocks:                          # cut points lie inside the data, in order
            assert 0 <= block.cut_from <= block.cut_to <= len(data)
    held, why = linkable_content(data, "fuzz.pem")
    assert (held is None) or why is None
    for block in pemfile.blocks(data):
        assert data[block.start:block.start + 11] == b"-----BEGIN " and block.start < block.end <= len(data)


def test_pem_blocks_round_trip():
    text = "".join(Cert(der).pem() for der in REAL_DERS).encode("ascii")
    assert [c.der for c in load_certificates(text)] == REAL_DERS


# -- SMTP / IMAP / POP3 reply readers ----------------------------------------------------
class FakeSocket:
    """What the server sends, in the chunks given; then the connection closes."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.sent = []

    def settimeout(self, _value):
        pass

    def recv(self, _size):
        return self.chunks.pop(0) if self.chunks else b""

    def sendall(self, data):
        self.sent.append(data)

    def getsockname(self):
        return ("127.0.0.1", 40000)

    def setsockopt(self, *_args):
        pass

    def close(self):
        pass


class FakeWire(Wire):
    def __init__(self, chunks):
        self._fake = FakeSocket(chunks)
        super().__init__("192.0.2.1", 25, 1.0)

    def _connect(self):
        return self._fake


SMTP_LINES = st.sampled_from([b"220 mx ESMTP", b"220-mx", b"250-mx", b"250-STARTTLS", b"250 STARTTLS", b"250 OK",
                              b"454 no", b"554 go away", b"220 go ahead", b"* OK IMAP", b"* CAPABILITY IMAP4 STARTTLS",
                              b"A1 OK done", b"A2 OK begin TLS", b"A1 NO", b"* PREAUTH", b"* BYE", b"+OK POP3",
                              b"STLS", b".", b"-ERR", b"+OK begin", b"", b"\xff\xfe", b"2", b"250"])


@st.composite
def server_replies(draw):
    lines = draw(st.lists(st.one_of(SMTP_LINES, st.binary(max_size=40)), max_size=30))
    ending = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    data = b"".join(line + ending for line in lines) + draw(st.binary(max_size=20))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    chunks, last = [], 0
    for cut in cuts + [len(data)]:
        if cut > last:
            chunks.append(data[last:cut])
            last = cut
    return chunks


@FUZZ
@given(st.sampled_from(["smtp", "imap", "pop3"]), server_replies())
def test_fuzz_starttls_dialogues_raise_only_probe_errors(dialogue, chunks):
    wire = FakeWire(chunks)
    try:
        starttls.negotiate(wire, dialogue, ehlo="client.example.test")
    except ProbeError as exc:
        assert exc.message and "\n" not in exc.message and len(exc.message) < 600
    else:                                      # the go-ahead was given: nothing may be left buffered
        assert wire.buffer == b""


@FUZZ
@given(st.binary(min_size=0, max_size=20000))
def test_fuzz_one_huge_line_is_refused_not_buffered(data):
    wire = FakeWire([data[i:i + 997] for i in range(0, len(data), 997)])
    try:
        wire.read_line("fuzzing")
    except ProbeError:
        pass
    assert len(wire.buffer) <= 8192 + 997


# -- the TLS 1.2 record reader ----------------------------------------------------------
def _records(handshake: bytes, sizes) -> bytes:
    out, pos = b"", 0
    for size in sizes:
        piece = handshake[pos:pos + size]
        if not piece:
            break
        out += bytes([22, 3, 3]) + len(piece).to_bytes(2, "big") + piece
        pos += size
    if pos < len(handshake):
        out += bytes([22, 3, 3]) + (len(handshake) - pos).to_bytes(2, "big") + handshake[pos:]
    return out


def _certificate_message(ders) -> bytes:
    body = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    body = len(body).to_bytes(3, "big") + body
    return bytes([11]) + len(body).to_bytes(3, "big") + body


@FUZZ
@given(st.lists(st.sampled_from(REAL_DERS), min_size=1, max_size=4),
       st.lists(st.integers(1, 3000), max_size=6), st.binary(max_size=80))
def test_fuzz_tls12_reader_reads_back_what_was_framed(ders, sizes, hello):
    server_hello = bytes([2]) + len(hello).to_bytes(3, "big") + hello
    records = _records(server_hello + _certificate_message(ders), sizes)
    try:
        assert tls12.certificates(records) == ders
    except tls12.NotFound as exc:                 # only when the random ServerHello says TLS 1.3
        assert "TLS 1.3" in str(exc)


@FUZZ
@given(st.one_of(st.binary(max_size=3000),
                 st.lists(st.sampled_from(REAL_DERS), min_size=1, max_size=3).map(
                     lambda d: _records(_certificate_message(d), [700])).flatmap(mutated)))
def test_fuzz_tls12_reader_raises_only_not_found(records):
    try:
        ders = tls12.certificates(records)
    except tls12.NotFound:
        return
    assert all(isinstance(d, bytes) and d for d in ders)


# -- the targets file and target text ---------------------------------------------------
_DIR = tempfile.mkdtemp(prefix="ibmi-trust-fuzz-")
INI_LINES = st.sampled_from(["[mx.example.test:25]", "[defaults]", "[", "]", "[]", "host = a.example.test",
                             "port = 25", "port = x", "warn_days = 5", "warn_days = -1", "resolve = a:25:127.0.0.1",
                             "  continued", "# c", "; c", "key", "=value", "colour = blue", "[a:b:c]",
                             "protocol = smtps", "store = capath:/x"])


@FUZZ
@given(st.one_of(st.lists(st.one_of(INI_LINES, st.text(max_size=40)), max_size=20).map("\n".join),
                 st.text(max_size=300)), st.sampled_from(["t.ini", "t.json"]))
def test_fuzz_targets_file_raises_only_config_errors(text, name):
    path = os.path.join(_DIR, name)
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)
    try:
        targets = load_config(path)
    except ConfigError as exc:
        assert "\n" not in exc.message and len(exc.message) < 1200
        return
    for cfg in targets:
        try:
            Target.parse(cfg.target, cfg.protocol)
        except ConfigError:
            pass


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)


@FUZZ
@given(st.dictionaries(st.sampled_from(["targets", "defaults", "x"]), JSON_VALUES, max_size=3),
       st.lists(st.dictionaries(st.sampled_from(["host", "port", "name", "warn_days", "colour"]), JSON_VALUES,
                                max_size=4), max_size=4))
def test_fuzz_json_targets_raise_only_config_errors(document, targets):
    if "targets" not in document:
        document["targets"] = targets
    path = os.path.join(_DIR, "t.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in exc.message


@FUZZ
@given(st.text(max_size=300), st.sampled_from([None, "smtp", "smtps", "imap"]))
def test_fuzz_target_and_resolve_text_raise_only_config_errors(text, protocol):
    for parse in (lambda: Target.parse(text, protocol), lambda: parse_resolve(text)):
        try:
            parse()
        except ConfigError as exc:
            assert len(exc.message) < 400 and "\n" not in exc.message


# -- AIA responses ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def aia_server():
    with AiaServer() as srv:
        yield srv


_PATHS = iter(range(10 ** 9))


@FUZZ
@given(st.one_of(CERT_INPUTS, st.binary(max_size=2000)),
       st.sampled_from(["application/pkix-cert", "application/x-pem-file", "application/pkcs7-mime",
                        "text/html", "", "\u00e9/\u00e9"]),
       st.sampled_from(["body", "status", "redirect"]), st.integers(100, 599), st.text(max_size=40))
def test_fuzz_aia_answers_become_findings_never_exceptions(aia_server, body, content_type, kind, code, location):
    path = "/fuzz-%d.cer" % next(_PATHS)
    if kind == "body":
        url = aia_server.serve(path, body, content_type.encode("latin-1", "replace").decode("latin-1"))
    elif kind == "status":
        url = aia_server.status(path, code)
    else:
        url = aia_server.redirect(path, location.encode("ascii", "replace").decode("ascii") or "/")
    client = AiaClient(timeout=1.5, max_bytes=4096, max_redirects=2)
    started = time.monotonic()
    answer = client.get(url, _LEAF.cert)
    assert time.monotonic() - started < 1.5 + 0.5
    assert answer.certs or answer.finding is not None
    if answer.finding is not None:
        assert "\n" not in answer.finding.message


# -- the CL results writer ----------------------------------------------------------------
MSGIDS = sorted(messages.DEFAULT_TYPES)


@FUZZ
@given(st.sampled_from(MSGIDS), st.data())
def test_fuzz_cl_records_fit_their_fields_and_read_back(msgid, data):
    fields = messages.catalog()[msgid].fields
    values = data.draw(st.lists(st.one_of(st.text(max_size=3000), st.none(), st.integers()),
                                min_size=len(fields), max_size=len(fields)))
    record = messages.record(msgid, *values)
    assert [len(v) for v in record.data] == list(fields)
    assert all(" " <= ch <= "~" for ch in record.msgdta)
    terminal = record if record.type in messages.TERMINAL_TYPES else messages.record(messages.FAILED, "x", "")
    records = [record] if record is terminal else [record, terminal]
    path = os.path.join(_DIR, "results.txt")
    messages.write_results(path, records)
    text = open(path, encoding="ascii").read()
    assert all(len(line) == messages.RECORD_LENGTH for line in text.splitlines())
    assert [(r.msgid, r.data) for r in messages.read_results(path)] == [
        (r.msgid, r.data) for r in messages.order_for_cl(records)]


@FUZZ
@given(st.sampled_from([IbmiTrustError, ProbeError, StoreError, CertificateError, ConfigError]),
       st.text(max_size=5000), st.text(max_size=500))
def test_fuzz_failure_records_take_any_message(kind, message, hint):
    records = clresults.failure_records(kind(message, hint=hint), {"target": message[:300], "store": hint})
    assert len(records) == 1 and records[0].type == messages.ESCAPE
    assert messages.format_results(records).count("\n") == 1


# -- the PEM scanner against the plain line-by-line reference -------------------------------
def reference_scan_pem(data: bytes):
    """The original one-line-at-a-time reader (OpenSSL's rules), kept as the
    reference the marker-to-marker scanner in certs/loading.py must equal."""
    from ibmi_trust.certs.loading import _BEGIN, _BOM, _END, _label

    def decode(body):
        import base64
        import binascii

        text = b"".join(line.strip() for line in body if b":" not in line)
        try:
            return base64.b64decode(text, validate=True), ""
        except (binascii.Error, ValueError):
            return b"", "its base64 is broken"

    blocks, unterminated, first_unterminated = [], 0, 0
    label, start, start_line, body = None, 0, 0, []
    pos = len(_BOM) if data.startswith(_BOM) else 0
    first = data[pos:] if pos else data
    for number, line in enumerate(first.split(b"\n"), 1):
        line_start, pos = pos, pos + len(line) + 1
        text = line.rstrip()
        if text.startswith(_BEGIN):
            opened = _label(text, _BEGIN)
            if opened is not None:
                if label is not None:
                    unterminated += 1
                    first_unterminated = first_unterminated or start_line
                label, start, start_line, body = opened, line_start, number, []
                continue
        if label is None:
            continue
        if text.startswith(_END):
            closed = _label(text, _END)
            der, problem = decode(body) if closed == label else (
                b"", "its END line names %s" % (closed or "no valid label"))
            blocks.append((label, der, start, line_start + len(text), problem))
            label = None
            continue
        body.append(text)
    if label is not None:
        unterminated += 1
        first_unterminated = first_unterminated or start_line
    return blocks, unterminated, first_unterminated


_PEM_PIECES = st.sampled_from([
    b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----", b"-----BEGIN PKCS7-----",
    b"-----END PKCS7-----", b"-----BEGIN x-----", b"-----END-----", b"-----", b"\xef\xbb\xbf",
    b"Proc-Type: 4,ENCRYPTED", b"  ", b"\r", b"\n", b"\t", b"AAAA", b"QUJD", b"=", b"garbage",
    _ROOT.cert.pem().encode().split(b"\n")[1], b"-----BEGIN CERTIFICATE----- ",
])


@FUZZ
@given(st.lists(st.one_of(_PEM_PIECES, st.binary(max_size=8)), max_size=60).map(lambda parts: b"\n".join(parts)))
def test_pem_scanner_equals_the_line_by_line_reference(data):
    from ibmi_trust.certs.loading import scan_pem

    found = scan_pem(data)
    expected = reference_scan_pem(data)
    assert ([tuple(b) for b in found.blocks], found.unterminated, found.first_unterminated) == expected


def test_pem_scanner_equals_the_reference_on_real_bundles():
    from ibmi_trust.certs.loading import scan_pem

    bundle = b"".join(c.pem().encode() for c in (_ROOT.cert, _INTER.cert, _LEAF.cert))
    for data in (bundle, bundle.replace(b"\n", b"\r\n"), b"\xef\xbb\xbf" + bundle, bundle[:-30],
                 b"# comment\n" + bundle + b"trailing", bundle.replace(b"-----END", b"-----BEGIN", 1)):
        found = scan_pem(data)
        assert ([tuple(b) for b in found.blocks], found.unterminated, found.first_unterminated) == \
            reference_scan_pem(data)
