"""The real OpenSSL as referee: `openssl verify` on a chain, exactly as sent,
against a CApath directory or a CAfile bundle.

    referee = Referee.find()            # None when no openssl binary is on the machine
    verdict = referee.verify(chain, capath="/etc/mail/certs", host="mx.example.com", level=2)
    verdict.ok, verdict.code, verdict.depth, verdict.text

How the command line mirrors a TLS client (openssl-chain-building.md, rule 19):
- the whole chain the server sent, leaf included, is `-untrusted` (libssl
  hands the whole Certificate message to the verifier);
- `-purpose sslserver` (libssl sets purpose and trust to "ssl_server");
- `-auth_level N`: libssl sets the verifier's auth level to the SSL security
  level; `openssl verify` applies none unless told;
- `-verify_hostname NAME` / `-verify_ip ADDR` when the client checks names;
- `-attime` pins the time the analysis used;
- only the store under test: `-no-CAfile` with `-CApath` (and `-no-CApath`
  with `-CAfile`), plus `-no-CAstore` on 3.x: without them `openssl verify`
  also loads the system's default CA file.
`openssl verify` continues past some errors and prints each; the first
printed is what a client with OpenSSL's default callback reports.

The binary is ibmi_trust.openssl_binary.find() (on IBM i the RPM's first);
it runs with a minimal environment and a time limit.
"""
import datetime
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional, Sequence

from ibmi_trust import openssl_binary
from ibmi_trust.certs import Cert

_ERROR_LINE = re.compile(r"^error (\d+) at (-?\d+) depth lookup: ?(.*)$", re.MULTILINE)
_VERSION = re.compile(r"^(?:OpenSSL|LibreSSL) (\d+)\.(\d+)\.(\d+)")
TIMEOUT = 20.0


@dataclass
class RefereeVerdict:
    ok: bool
    code: Optional[int]            # first error reported (None when ok, or when it could not run)
    depth: Optional[int]
    text: str                      # OpenSSL's own words for the first error, or why it could not run
    ran: bool = True               # False: the referee could not give a verdict

    def to_json(self) -> dict:
        return {"ok": self.ok, "code": self.code, "depth": self.depth, "text": self.text, "ran": self.ran}


class Referee:
    def __init__(self, binary: str, version_text: str):
        self.binary = binary
        self.version_text = version_text
        match = _VERSION.match(version_text)
        self.version = tuple(int(p) for p in match.groups()) if match else (0, 0, 0)

    @classmethod
    def find(cls) -> Optional["Referee"]:
        binary = openssl_binary.find()
        if not binary:
            return None
        try:
            proc = openssl_binary.run(binary, ["version"], timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError):
            return None
        text = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not _VERSION.match(text):
            return None
        return cls(binary, text)

    @property
    def profile(self) -> str:
        """The chain-building profile this binary follows: "3" or "1.1.1"."""
        return "3" if self.version >= (3, 0, 0) else "1.1.1"

    def describe(self) -> str:
        return "%s (%s)" % (self.version_text.split(" (")[0], self.binary)

    def verify(self, chain: Sequence[Cert], *, capath: Optional[str] = None, cafile: Optional[str] = None,
               cafile_certs: Optional[Sequence[Cert]] = None, host: Optional[str] = None, level: int = 0,
               now: Optional[datetime.datetime] = None) -> RefereeVerdict:
        """`openssl verify` of `chain` (leaf first, as sent) against one store:
        a CApath directory, a CAfile, or certificates written as a CAfile here."""
        if sum(x is not None for x in (capath, cafile, cafile_certs)) != 1:
            raise ValueError("give exactly one of capath, cafile and cafile_certs")
        workdir = tempfile.mkdtemp(prefix="ibmi-trust-referee-")
        try:
            if cafile_certs:
                cafile = os.path.join(workdir, "store.pem")
                with open(cafile, "w", encoding="ascii") as handle:
                    handle.write("".join(c.pem() for c in cafile_certs))
            leaf = os.path.join(workdir, "leaf.pem")
            sent = os.path.join(workdir, "sent.pem")
            with open(leaf, "w", encoding="ascii") as handle:
                handle.write(chain[0].pem())
            with open(sent, "w", encoding="ascii") as handle:
                handle.write("".join(c.pem() for c in chain))
            args = self._arguments(capath, cafile, host, level, now) + ["-untrusted", sent, leaf]
            try:
                proc = openssl_binary.run(self.binary, args, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                return RefereeVerdict(False, None, None, "openssl verify did not answer within %gs" % TIMEOUT,
                                      ran=False)
            except OSError as exc:
                return RefereeVerdict(False, None, None, "cannot run %s: %s" % (self.binary, exc.strerror or exc),
                                      ran=False)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        out = proc.stdout.decode("utf-8", "replace") + "\n" + proc.stderr.decode("utf-8", "replace")
        match = _ERROR_LINE.search(out)
        if proc.returncode == 0 and match is None:
            return RefereeVerdict(True, None, None, "OK")
        if match is None:
            first = next((line for line in out.splitlines() if line.strip()), "exit %d" % proc.returncode)
            return RefereeVerdict(False, None, None, first.strip()[:200], ran=False)
        return RefereeVerdict(False, int(match.group(1)), int(match.group(2)), match.group(3).strip())

    def _arguments(self, capath, cafile, host, level, now) -> List[str]:
        args = ["verify", "-purpose", "sslserver", "-auth_level", str(int(level))]
        if now is not None:
            args += ["-attime", str(int(now.timestamp()))]
        if host:
            args += ["-verify_ip" if _is_ip(host) else "-verify_hostname", host.strip("[]")]
        if capath is not None:
            args += ["-CApath", capath, "-no-CAfile"]
        elif cafile is not None:
            args += ["-CAfile", cafile, "-no-CApath"]
        else:                                       # no certificate OpenSSL could look up: an empty store
            args += ["-no-CAfile", "-no-CApath"]
        if self.version >= (3, 0, 0):
            args.append("-no-CAstore")
        return args


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


REDUCE_ABOVE = 200          # CAfile stores with more certificates are given to the referee reduced


def store_arguments(store, view, chain: Sequence[Cert]) -> dict:
    """`verify()` keyword arguments that let the referee judge `chain` against `store`.

    A CApath directory is given as it is (OpenSSL reads only the hash buckets it
    needs). A big CAfile is costly to load (OpenSSL 3.0 takes seconds for 5,000
    certificates), so one with more than REDUCE_ABOVE certificates is given as
    the certificates OpenSSL can look up for this chain (StoreModel.lookups), in
    file order: the same lookups give the same answers. Not when the bundle has
    something this reduction could change: an unreadable block (OpenSSL then
    refuses the whole file), or TRUSTED CERTIFICATE blocks (their trust settings
    are not kept): then the whole file.
    """
    location = store_location(store)
    if "cafile" in location and (view.size or 0) > REDUCE_ABOVE and _reducible(store, view, location["cafile"]):
        return {"cafile_certs": view.openssl_model().lookups(chain)}
    return location


def _reducible(store, view, path: str) -> bool:
    lookup = getattr(view, "lookup", None)
    if (lookup.problems if lookup is not None else getattr(store, "problems", None)):
        return False
    try:
        with open(path, "rb") as handle:
            return b"TRUSTED CERTIFICATE" not in handle.read()
    except OSError:
        return False


def store_location(store) -> Optional[dict]:
    """`verify()` keyword arguments naming a file store as OpenSSL reads it, or None."""
    kind = getattr(store, "kind", "")
    if kind == "capath":
        return {"capath": str(store.path)}
    if kind == "bundle":
        return {"cafile": str(getattr(store, "target", store.path))}
    return None


def settle(report, verdict: RefereeVerdict, referee: "Referee") -> None:
    """Let the real OpenSSL decide: record its answer on `report`; when it
    disagrees with the prediction, say so (finding `validator-disagrees`) and
    take its side."""
    from ibmi_trust.analyse.model import CRITICAL, INFO, TRUSTED, UNTRUSTED, Finding

    report.referee = dict(verdict.to_json(), binary=referee.describe())
    if not verdict.ran:
        report.findings.append(Finding("referee-unavailable", INFO, "the real OpenSSL could not judge this chain "
                                       "(%s); the verdict is the model's" % verdict.text, "", None,
                                       {"reason": verdict.text}))
        return
    report.decided_by = "openssl"
    predicted = report.prediction or {}
    leaf = report.path[0] if report.path else None
    subject, sha = (leaf.subject, leaf.sha256) if leaf is not None else ("", None)
    if verdict.ok == report.client_accepts:
        error = predicted.get("error") or {}
        if not verdict.ok and (error.get("code"), error.get("depth")) != (verdict.code, verdict.depth):
            report.findings.append(Finding("referee-reports-other-error", INFO, "OpenSSL reports error %s at depth "
                                           "%s (%s) first; the model expected %s" % (
                                               verdict.code, verdict.depth, verdict.text, error.get("code")),
                                           subject, sha, {"referee": verdict.to_json(), "model": error}))
        return
    if verdict.ok:
        report.verdict = TRUSTED
        report.to_add, report.missing = [], []
        for finding in report.findings:
            if finding.severity == CRITICAL:
                finding.severity = INFO
        report.findings.insert(0, Finding("validator-disagrees", INFO, "the real OpenSSL accepts this chain; the "
                                          "model expected %s: OpenSSL's answer decides (please report this)"
                                          % _expected(predicted), subject, sha, {"referee": verdict.to_json(),
                                                                                 "model": predicted}))
    else:
        report.verdict = UNTRUSTED
        report.to_add = []
        report.findings.insert(0, Finding("validator-disagrees", CRITICAL, "the real OpenSSL rejects this chain: "
                                          "error %s at depth %s (%s); the model expected it to verify: OpenSSL's "
                                          "answer decides (please report this)" % (
                                              verdict.code, verdict.depth, verdict.text),
                                          subject, sha, {"referee": verdict.to_json(), "model": predicted}))


def _expected(predicted: dict) -> str:
    error = predicted.get("error")
    if not error:
        return "it to verify"
    return "error %s at depth %s (%s)" % (error.get("code"), error.get("depth"), error.get("text"))


_FOUND: dict = {}


def cached() -> Optional[Referee]:
    """Referee.find(), once per binary per process."""
    key = openssl_binary.find()
    if key not in _FOUND:
        _FOUND[key] = Referee.find()
    return _FOUND[key]
