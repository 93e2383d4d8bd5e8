"""analyse_chain without the network: path building, verdicts, findings, to_add."""
import datetime
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ibmi_trust.analyse import analyse_chain
from ibmi_trust.certs import compat
from ibmi_trust.fetch import RootProgram, Sourcing
from ibmi_trust.store.base import StoreEntry
from ibmi_trust.testing.pki import CA, new_key

HOST = "mx.example.test"
NOW = datetime.datetime.now(datetime.timezone.utc)


def store(*certs, **flags):
    return [StoreEntry(c, "#%d" % i, **flags) for i, c in enumerate(certs)]


def program(*certs):
    return RootProgram("test-program", "(memory)", list(certs))


def sha1_ca(tmp_path, cn, issuer=None):
    """A CA certificate signed with SHA-1 by the openssl binary (cryptography 50 refuses to)."""
    key = new_key("ec")
    key_file = tmp_path / ("%s.key" % cn.replace(" ", "_"))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    out = tmp_path / ("%s.pem" % cn.replace(" ", "_"))
    subject = "/O=ibmi-trust test/CN=%s" % cn
    ext = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign",
           "subjectKeyIdentifier=hash"]
    if issuer is None:
        cmd = ["openssl", "req", "-x509", "-key", str(key_file), "-subj", subject, "-sha1", "-days", "30",
               "-out", str(out)]
        for e in ext:
            cmd += ["-addext", e]
        subprocess.run(cmd, check=True, capture_output=True)
    else:
        issuer_key = tmp_path / "issuer.key"
        issuer_key.write_bytes(issuer.key_pem())
        issuer_pem = tmp_path / "issuer.pem"
        issuer_pem.write_bytes(issuer.cert_pem())
        csr = tmp_path / "req.csr"
        subprocess.run(["openssl", "req", "-new", "-key", str(key_file), "-subj", subject, "-out", str(csr)],
                       check=True, capture_output=True)
        extfile = tmp_path / "ext.cnf"
        extfile.write_text("\n".join(ext + ["authorityKeyIdentifier=keyid"]) + "\n")
        subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(issuer_pem), "-CAkey",
                        str(issuer_key), "-set_serial", "4660", "-sha1", "-days", "30", "-extfile", str(extfile),
                        "-out", str(out)], check=True, capture_output=True)
    cert = x509.load_pem_x509_certificate(out.read_bytes(), compat.BACKEND)
    return CA(cert, key, issuer, cert.subject)


@pytest.fixture(scope="module")
def cross():
    """Old root X (in many stores), new root R, R cross-signed by X, I under R."""
    old = CA.root("Old Root X")
    new = CA.root("New Root R")
    new_by_old = old.cross_sign(new)
    inter = new.intermediate("Issuing CA under R")
    leaf = inter.leaf([HOST])
    return {"old": old, "new": new, "cross": new_by_old, "inter": inter, "leaf": leaf}


# -- trusted ------------------------------------------------------------------
def test_complete_chain_is_trusted(pki):
    a = pki["A"]
    report = analyse_chain(a["ec"].chain(), store(a["root"].cert), HOST)
    assert (report.verdict, report.status) == ("trusted", "OK")
    assert report.anchor == a["root"].cert
    assert report.path == [a["ec"].cert, a["inter"].cert, a["root"].cert]
    assert report.missing == [] and report.to_add == [] and report.findings == []
    assert report.crosscheck == ("agreed" if compat.HAVE_X509_VERIFICATION else "unavailable")


def test_root_sent_by_server_and_in_store_is_just_the_anchor(pki):
    a = pki["A"]
    report = analyse_chain(a["rsa"].chain() + [a["root"].cert], store(a["root"].cert), "127.0.0.1")
    assert report.verdict == "trusted" and report.findings == []


def test_ip_hosts_match_ip_san_entries(pki):
    a = pki["A"]
    for host in ("127.0.0.2", "::1", "[::1]", "LOCALHOST", "localhost."):
        assert analyse_chain(a["ec"].chain(), store(a["root"].cert), host).verdict == "trusted", host
    assert "name-mismatch" in analyse_chain(a["ec"].chain(), store(a["root"].cert), "127.0.0.9").codes()


def test_intermediate_in_store_completes_a_leaf_only_server(pki):
    a = pki["A"]
    report = analyse_chain([a["ec"].cert], store(a["inter"].cert, a["root"].cert), HOST)
    assert report.verdict == "trusted" and report.status == "OK"
    finding = next(f for f in report.findings if f.code == "incomplete-chain")
    assert finding.severity == "info" and report.anchor == a["inter"].cert


# -- missing issuers ------------------------------------------------------------
def test_leaf_only_without_sources_names_the_missing_intermediate(pki):
    a = pki["A"]
    report = analyse_chain([a["ec"].cert], store(a["root"].cert), HOST)
    assert (report.verdict, report.status) == ("untrusted", "CRITICAL")
    assert {"missing-issuer", "incomplete-chain"} <= set(report.codes())
    (missing,) = report.missing
    assert missing.subject == a["inter"].cert.subject
    assert missing.key_id == a["ec"].cert.aki == a["inter"].cert.ski
    assert missing.sha256 is None and missing.sources == [] and missing.cert is None


def test_from_file_supplies_the_intermediate(pki, tmp_path):
    a = pki["A"]
    path = tmp_path / "carried.pem"
    path.write_bytes(a["inter"].cert_pem() + pki["B"]["inter"].cert_pem())
    sourcing = Sourcing(fetch=False)
    sourcing.add_files([str(path)])
    report = analyse_chain([a["ec"].cert], store(a["root"].cert), HOST, sourcing)
    assert (report.verdict, report.status) == ("fixable", "CRITICAL")
    (added,) = report.to_add
    assert (added.cert, added.role, added.provenance) == (a["inter"].cert, "intermediate", "file:%s" % path)
    assert report.missing[0].cert == a["inter"].cert and report.missing[0].sources == ["file:%s" % path]
    assert report.anchor == a["root"].cert


def test_missing_root_comes_from_the_root_program(pki, tmp_path):
    a = pki["A"]
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(pki["B"]["root"].cert_pem() + a["root"].cert_pem())
    sourcing = Sourcing(fetch=False, root_program=RootProgram.from_file(str(bundle), name="corp"))
    report = analyse_chain(a["ec"].chain(), [], HOST, sourcing)
    assert report.verdict == "fixable"
    assert [(s.cert, s.role, s.provenance) for s in report.to_add] == [(a["root"].cert, "root", "root-program:corp")]
    assert "root-not-in-store" in report.codes() and "incomplete-chain" not in report.codes()


def test_root_sent_by_the_server_is_not_enough(pki):
    a = pki["A"]
    chain = a["ec"].chain() + [a["root"].cert]
    report = analyse_chain(chain, [], HOST, Sourcing(fetch=False, root_program=program(pki["B"]["root"].cert)))
    assert report.verdict == "untrusted" and report.to_add == []
    finding = next(f for f in report.findings if f.code == "unapproved-root")
    assert finding.sha256 == a["root"].cert.sha256 and a["root"].cert.sha256 in finding.message
    approved = Sourcing(fetch=False, approved_roots={":".join(a["root"].cert.sha256[i:i + 2].upper()
                                                              for i in range(0, 64, 2))})
    report = analyse_chain(chain, [], HOST, approved)
    assert report.verdict == "fixable"
    assert [(s.cert, s.role, s.provenance) for s in report.to_add] == [
        (a["root"].cert, "root", "approved:" + a["root"].cert.sha256)]


def test_wrong_intermediate_sent(pki):
    a, b = pki["A"], pki["B"]
    report = analyse_chain([a["ec"].cert, b["inter"].cert], store(a["root"].cert, b["root"].cert), HOST)
    assert report.verdict == "untrusted"
    assert {"wrong-intermediate", "missing-issuer"} <= set(report.codes())
    assert report.missing[0].subject == a["inter"].cert.subject


# -- cross-signed CAs -----------------------------------------------------------
def test_cross_signed_prefers_the_anchor_already_in_the_store(cross, tmp_path):
    carried = tmp_path / "cross.pem"
    carried.write_bytes(cross["cross"].cert_pem())
    sourcing = Sourcing(fetch=False, root_program=program(cross["new"].cert, cross["old"].cert))
    sourcing.add_files([str(carried)])
    presented = [cross["leaf"].cert, cross["inter"].cert]
    report = analyse_chain(presented, store(cross["old"].cert), HOST, sourcing)
    assert report.verdict == "fixable"
    assert [(s.cert, s.role) for s in report.to_add] == [(cross["cross"].cert, "intermediate")]
    assert report.anchor == cross["old"].cert
    assert report.path[-2:] == [cross["cross"].cert, cross["old"].cert]


def test_cross_signed_chain_is_trusted_by_either_root(cross):
    presented = [cross["leaf"].cert, cross["inter"].cert, cross["cross"].cert]
    by_old = analyse_chain(presented, store(cross["old"].cert), HOST)
    assert by_old.verdict == "trusted" and by_old.anchor == cross["old"].cert
    by_new = analyse_chain(presented, store(cross["new"].cert), HOST)
    assert by_new.verdict == "trusted" and by_new.anchor == cross["new"].cert
    assert len(by_new.path) == 3 and "unused-certificate" in by_new.codes()


def test_without_the_cross_certificate_the_new_root_is_offered(cross):
    sourcing = Sourcing(fetch=False, root_program=program(cross["new"].cert))
    report = analyse_chain([cross["leaf"].cert, cross["inter"].cert], store(cross["old"].cert), HOST, sourcing)
    assert [(s.cert, s.role) for s in report.to_add] == [(cross["new"].cert, "root")]


# -- the store's own state -------------------------------------------------------
def test_expired_root_in_store_with_a_renewal_in_the_root_program(pki):
    a = pki["A"]
    expired = a["root"].reissue(not_before=NOW - datetime.timedelta(days=400), days=30)
    assert expired.cert.spki_sha256 == a["root"].cert.spki_sha256
    alone = analyse_chain(a["ec"].chain(), store(expired.cert), HOST)
    assert alone.verdict == "untrusted" and "ca-expired-in-store" in alone.codes()
    assert alone.missing[0].subject == a["root"].cert.subject and alone.missing[0].key_id == a["root"].cert.ski
    report = analyse_chain(a["ec"].chain(), store(expired.cert), HOST,
                           Sourcing(fetch=False, root_program=program(a["root"].cert)))
    assert report.verdict == "fixable"
    assert [s.cert for s in report.to_add] == [a["root"].cert]
    assert {"ca-expired-in-store", "renewed-ca-available"} <= set(report.codes())
    renewed = next(f for f in report.findings if f.code == "renewed-ca-available")
    assert renewed.detail["replaces"] == expired.cert.sha256


def test_disabled_anchor_is_reported(pki):
    a = pki["A"]
    report = analyse_chain(a["ec"].chain(), store(a["root"].cert, enabled=False), HOST)
    assert report.verdict == "untrusted" and "ca-disabled-in-store" in report.codes()
    report = analyse_chain(a["ec"].chain(), store(a["root"].cert, trusted=False), HOST)
    assert "ca-disabled-in-store" in report.codes()


# -- the leaf ---------------------------------------------------------------------
def test_leaf_validity_and_name(pki):
    a = pki["A"]
    anchors = store(a["root"].cert)
    old = a["inter"].leaf([HOST], not_before=NOW.replace(tzinfo=None) - datetime.timedelta(days=50), days=10)
    future = a["inter"].leaf([HOST], not_before=NOW.replace(tzinfo=None) + datetime.timedelta(days=5))
    assert "leaf-expired" in analyse_chain(old.chain(), anchors, HOST).codes()
    assert "leaf-not-yet-valid" in analyse_chain(future.chain(), anchors, HOST).codes()
    # a name mismatch is its own finding: the path still verifies (importing cannot change the name)
    report = analyse_chain(a["ec"].chain(), anchors, "other.example.test")
    assert (report.verdict, report.status, report.codes()) == ("trusted", "CRITICAL", ["name-mismatch"])
    assert not report.client_accepts
    assert analyse_chain(a["ec"].chain(), anchors, None).codes() == []   # no host: no name check


def test_wildcards_match_one_leftmost_label():
    root = CA.root("Wildcard Root")
    leaf = root.leaf(["*.example.test"])
    anchors = store(root.cert)
    assert analyse_chain([leaf.cert], anchors, "mx.example.test").client_accepts
    assert "name-mismatch" in analyse_chain([leaf.cert], anchors, "a.mx.example.test").codes()
    assert "name-mismatch" in analyse_chain([leaf.cert], anchors, "example.test").codes()


def test_self_signed_leaf(pki):
    server = CA.root(HOST)   # a self-signed certificate, as a small server makes for itself
    report = analyse_chain([server.cert], [], HOST, Sourcing(fetch=False))
    assert report.verdict == "untrusted"
    assert {"self-signed-leaf", "unapproved-root"} <= set(report.codes())
    pinned = analyse_chain([server.cert], store(server.cert), None)
    assert pinned.verdict == "trusted" and pinned.status == "OK" and pinned.codes() == ["self-signed-leaf"]
    disabled = analyse_chain([server.cert], store(server.cert, enabled=False), None)
    assert disabled.verdict == "untrusted" and "ca-disabled-in-store" in disabled.codes()
    approved = analyse_chain([server.cert], [], None, Sourcing(fetch=False, approved_roots={server.cert.sha256}))
    assert approved.verdict == "fixable" and [s.role for s in approved.to_add] == ["root"]


# -- warnings on a path that works ---------------------------------------------------
def test_weak_signature_small_key_and_near_expiry_warn(tmp_path):
    root = CA.root("Warn Root")
    inter = sha1_ca(tmp_path, "SHA-1 Issuing CA", issuer=root)
    assert inter.cert.signature_hash_name() == "sha1"
    leaf = inter.leaf([HOST], key_type="rsa1024", days=10)
    report = analyse_chain(leaf.chain(), store(root.cert), HOST)
    assert (report.verdict, report.status) == ("trusted", "WARNING")
    assert {"weak-signature", "small-key", "expires-soon"} <= set(report.codes())
    weak = next(f for f in report.findings if f.code == "weak-signature")
    assert weak.sha256 == inter.cert.sha256 and weak.severity == "warning"
    if compat.HAVE_X509_VERIFICATION:
        assert report.crosscheck == "disagreed" and "verifier-disagrees" in report.codes()
    quiet = analyse_chain(leaf.chain(), store(root.cert), HOST, warn_days=5)
    assert "expires-soon" not in quiet.codes()


def test_sha1_self_signed_root_is_not_a_weak_signature(tmp_path):
    root = sha1_ca(tmp_path, "Old SHA-1 Root")
    assert root.cert.signature_hash_name() == "sha1" and root.cert.self_signed
    leaf = root.intermediate("CA").leaf([HOST])
    report = analyse_chain(leaf.chain(), store(root.cert), HOST)
    assert "weak-signature" not in report.codes()


def test_expiring_anchor_warns(pki):
    root = CA.root("Short Root", days=20)
    leaf = root.leaf([HOST])
    report = analyse_chain([leaf.cert], store(root.cert), HOST)
    assert report.status == "WARNING"
    assert [f.sha256 for f in report.findings if f.code == "expires-soon"] == [root.cert.sha256]


# -- path constraints ----------------------------------------------------------------
def test_path_length_and_depth_limits():
    root = CA.root("Depth Root")
    first = root.intermediate("Level 1", path_length=0)
    second = first.intermediate("Level 2")
    leaf = second.leaf([HOST])
    report = analyse_chain(leaf.chain(), store(root.cert), HOST)
    assert report.verdict == "untrusted" and "path-length-exceeded" in report.codes()
    ca = CA.root("Deep Root")
    chain_cas = []
    for level in range(10):
        ca = ca.intermediate("Deep %d" % level, path_length=None)
        chain_cas.append(ca)
    deep = ca.leaf([HOST])
    report = analyse_chain(deep.chain(), store(chain_cas[0].issuer.cert), HOST)
    assert report.verdict == "untrusted" and "chain-too-long" in report.codes()
    assert analyse_chain(deep.chain(), store(chain_cas[0].issuer.cert), HOST, max_chain_depth=12).verdict == "trusted"


def test_a_mesh_of_cross_signed_cas_stops_at_the_budget():
    roots = [CA.root("Mesh %d" % i) for i in range(7)]
    certs = []
    for signer in roots:
        for other in roots:
            if signer is not other:
                certs.append(signer.cross_sign(other).cert)
    leaf = roots[0].leaf([HOST])
    start = time.monotonic()
    report = analyse_chain([leaf.cert] + certs, store(CA.root("Unrelated").cert), HOST)
    assert time.monotonic() - start < 20
    assert report.verdict == "untrusted"
    assert "search-limit" in report.codes()


def test_report_json_shape(pki):
    a = pki["A"]
    data = analyse_chain([a["ec"].cert], store(a["root"].cert), HOST,
                         Sourcing(fetch=False, extra=[a["inter"].cert])).to_json()
    assert set(data) >= {"verdict", "status", "anchor", "path", "missing", "to_add", "findings", "crosscheck"}
    assert data["verdict"] == "fixable" and data["anchor"]["sha256"] == a["root"].cert.sha256
    assert data["to_add"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert data["missing"][0]["obtained"] is True
    assert all(set(f) == {"code", "severity", "message", "subject", "sha256", "detail"} for f in data["findings"])


def test_empty_presented_chain_is_a_programming_error():
    with pytest.raises(ValueError):
        analyse_chain([], [], HOST)


def test_issuer_name_in_another_string_encoding_still_chains():
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    root = CA.root("Encoding Root")
    inter = root.intermediate("Encoding CA")                 # subject in UTF8String
    printable = x509.Name([x509.NameAttribute(a.oid, a.value, _ASN1Type.PrintableString)
                           for a in inter.x509.subject])
    as_printable = CA(inter.x509, inter.key, root, printable)
    leaf = as_printable.leaf([HOST])
    assert leaf.cert.issuer_der != inter.cert.subject_der
    assert leaf.cert.issuer == inter.cert.subject and printable.get_attributes_for_oid(NameOID.COMMON_NAME)
    report = analyse_chain([leaf.cert, inter.cert], store(root.cert), HOST, crosscheck=False)
    assert report.verdict == "trusted" and report.path == [leaf.cert, inter.cert, root.cert]
    by_key_id = analyse_chain([leaf.cert], store(inter.cert), HOST, crosscheck=False)
    assert by_key_id.verdict == "trusted" and by_key_id.anchor == inter.cert


def test_misordered_chain_is_trusted_with_a_note():
    root = CA.root("Order Root")
    upper = root.intermediate("Upper", path_length=1)
    lower = upper.intermediate("Lower")
    leaf = lower.leaf([HOST])
    report = analyse_chain([leaf.cert, upper.cert, lower.cert], store(root.cert), HOST)
    assert report.verdict == "trusted" and report.codes() == ["chain-out-of-order"]
    assert report.status == "OK"
    assert analyse_chain([leaf.cert, lower.cert, upper.cert], store(root.cert), HOST).codes() == []


def test_a_path_without_warnings_wins_over_an_expiring_anchor():
    root = CA.root("Lasting Root")
    inter = root.intermediate("Issuing CA")
    expiring_copy = inter.reissue(days=10)          # same name and key, in the store, about to expire
    leaf = inter.leaf([HOST])
    anchors = store(expiring_copy.cert, root.cert)
    report = analyse_chain(leaf.chain(), anchors, HOST)
    assert report.path == [leaf.cert, inter.cert, root.cert]
    assert (report.verdict, report.status) == ("trusted", "OK")
    only_copy = analyse_chain([leaf.cert], anchors, HOST)
    assert only_copy.anchor == expiring_copy.cert and only_copy.status == "WARNING"
