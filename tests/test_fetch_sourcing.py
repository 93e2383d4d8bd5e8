"""Sourcing parts: root programs, --from files, the candidate gate, the AIA client."""
import datetime
import os
import time

import pytest

from ibmi_trust.errors import CertificateError
from ibmi_trust.fetch import RootProgram, Sourcing
from ibmi_trust.fetch.check import candidate_problem
from ibmi_trust.fetch.roots import default_candidates
from ibmi_trust.testing.aia_server import AiaServer
from ibmi_trust.testing.pki import CA

NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.mark.filterwarnings("ignore:Parsed a serial number")   # system bundles hold such roots
def test_default_root_program_is_the_first_bundle_found():
    program = RootProgram.default()
    found = [(name, path) for name, path in default_candidates() if path and os.path.isfile(path)]
    if not found:
        assert program is None
        return
    assert (program.name, program.path) == found[0]
    assert program.provenance == "root-program:" + found[0][0]
    assert len(program) > 10 and all(c.is_ca for c in program.certificates()[:10])


def test_root_program_from_file_and_lookups(pki, tmp_path):
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(pki["A"]["root"].cert_pem() + pki["B"]["root"].cert_pem() + b"garbage\n")
    program = RootProgram.from_file(str(bundle))
    assert program.name == "roots.pem" and len(program) == 2
    assert program.contains(pki["A"]["root"].cert) and not program.contains(pki["A"]["inter"].cert)
    assert program.issuers_of(pki["B"]["inter"].cert) == [pki["B"]["root"].cert]
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(CertificateError):
        RootProgram.from_file(str(empty))
    with pytest.raises(CertificateError):
        RootProgram.from_file(str(tmp_path / "absent.pem"))


def test_root_program_is_parsed_on_first_use_only(pki, tmp_path):
    bundle = tmp_path / "lazy.pem"
    bundle.write_bytes(pki["A"]["root"].cert_pem())
    program = RootProgram("lazy", str(bundle))
    bundle.write_bytes(pki["B"]["root"].cert_pem())        # changed before first use: the new content counts
    assert program.contains(pki["B"]["root"].cert)


def test_only_roots_of_the_program_or_approved_ones_end_a_path(pki):
    a, b = pki["A"], pki["B"]
    sourcing = Sourcing(fetch=False, root_program=RootProgram("p", "-", [a["root"].cert, a["inter"].cert]),
                        approved_roots={b["root"].cert.sha256.upper()})
    assert sourcing.trust_point(a["root"].cert) == "root-program:p"
    assert sourcing.trust_point(a["inter"].cert) is None       # not self-issued: not a root
    assert sourcing.trust_point(b["root"].cert) == "approved:" + b["root"].cert.sha256
    assert sourcing.trust_point(b["inter"].cert) is None


def test_from_files_in_every_container(pki, tmp_path):
    a = pki["A"]
    (tmp_path / "one.der").write_bytes(a["inter"].cert.der)
    (tmp_path / "two.pem").write_bytes(pki["B"]["inter"].cert_pem() + a["root"].cert_pem())
    sourcing = Sourcing(fetch=False)
    added = sourcing.add_files([str(tmp_path / "one.der"), str(tmp_path / "two.pem")])
    assert added == [a["inter"].cert, pki["B"]["inter"].cert, a["root"].cert]
    assert sourcing.issuer_candidates(a["ec"].cert) == [(a["inter"].cert, "file:%s" % (tmp_path / "one.der"))]
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateError):
        sourcing.add_files([str(tmp_path / "bad.pem")])


def test_candidate_gate(pki):
    a, b = pki["A"], pki["B"]
    leaf = a["ec"].cert
    assert candidate_problem(leaf, a["inter"].cert, NOW) is None
    assert "subject" in candidate_problem(leaf, b["inter"].cert, NOW)
    impostor = CA.root(a["inter"].cert.subject.split("CN=")[1].split(",")[0])   # same name, other key
    assert impostor.cert.subject_der == a["inter"].cert.subject_der
    assert "signature" in candidate_problem(leaf, impostor.cert, NOW)
    expired = a["inter"].reissue(not_before=datetime.datetime(2001, 1, 1), days=30)
    assert "expired" in candidate_problem(leaf, expired.cert, NOW)
    early = a["inter"].reissue(not_before=NOW.replace(tzinfo=None) + datetime.timedelta(days=3))
    assert "valid only from" in candidate_problem(leaf, early.cert, NOW)
    not_ca = a["inter"].leaf(["x.example.test"])
    child = CA(not_ca.x509, not_ca.key, a["inter"], not_ca.x509.subject).leaf(["y.example.test"])
    assert "not a CA" in candidate_problem(child.cert, not_ca.cert, NOW)


def test_aia_client_caps_downloads_per_run(pki, no_network_env):
    a = pki["A"]
    with AiaServer() as server:
        for n in range(3):
            server.serve("/%d.cer" % n, a["inter"].cert.der)
        sourcing = Sourcing(timeout=5, max_fetches=2)
        leaves = [a["inter"].leaf(["n%d.example.test" % n], aia_url=server.url("/%d.cer" % n)) for n in range(3)]
        answers = [sourcing.fetch_issuers(leaf.cert)[0] for leaf in leaves]
        assert [ans.finding is None for ans in answers] == [True, True, False]
        assert answers[2].finding.detail["reason"] == "fetch-limit"
        assert server.requests == ["/0.cer", "/1.cer"]
        assert sourcing.fetch_issuers(leaves[0].cert)[0].certs == (a["inter"].cert,)   # cached
        assert server.requests == ["/0.cer", "/1.cer"]


def test_one_sourcing_shared_by_threads_fetches_each_url_once(pki, no_network_env):
    import threading

    from ibmi_trust.analyse import analyse_chain
    from ibmi_trust.store.base import StoreEntry

    a = pki["A"]
    with AiaServer() as server:
        server.drip("/shared.cer", a["inter"].cert.der, delay=0.02, chunk=64)   # slow enough to overlap
        leaves = [a["inter"].leaf(["t%d.example.test" % n], aia_url=server.url("/shared.cer")) for n in range(8)]
        sourcing = Sourcing(timeout=5)
        verdicts = []
        threads = [threading.Thread(target=lambda leaf=leaf, n=n: verdicts.append(analyse_chain(
            [leaf.cert], [StoreEntry(a["root"].cert, "r")], "t%d.example.test" % n, sourcing).verdict))
            for n, leaf in enumerate(leaves)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert verdicts == ["fixable"] * 8
        assert server.requests == ["/shared.cer"]


def test_download_time_budget_per_run(pki, no_network_env):
    a = pki["A"]
    with AiaServer() as server:
        server.drip("/slow1.cer", b"0" * 100, delay=0.1)
        server.drip("/slow2.cer", b"0" * 100, delay=0.1)
        sourcing = Sourcing(timeout=5, fetch_budget=0.8)
        first = a["inter"].leaf(["one.example.test"], aia_url=server.url("/slow1.cer"))
        second = a["inter"].leaf(["two.example.test"], aia_url=server.url("/slow2.cer"))
        started = time.monotonic()
        assert sourcing.fetch_issuers(first.cert)[0].finding.detail["reason"] == "timeout"
        assert sourcing.fetch_issuers(second.cert)[0].finding.detail["reason"] == "fetch-limit"
        assert time.monotonic() - started < 2.0
        assert server.requests == ["/slow1.cer"]
