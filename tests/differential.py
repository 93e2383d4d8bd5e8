"""One differential run: a generated PKI scenario (tests/pki_scenarios.py)
served verbatim by a real loopback SMTP server, judged by `check` against a
CApath directory and a PEM bundle, and compared with the real OpenSSL:

- `openssl verify -CApath|-CAfile STORE -untrusted SENT -purpose sslserver
  -auth_level N -verify_hostname NAME`, first error;
- `openssl s_client -starttls smtp -verify_return_error` with the same store,
  name and security level, first verify error.

For every scenario `check` calls fixable, `fix` runs and must end in a store
that `openssl verify` accepts, without an unapproved root, with every file
that was in the store before byte for byte the same. A scenario `check`
calls untrusted must make `fix` refuse and change nothing.

`run(seed, tmp_dir, referee)` returns a Record; `Record.problems` lists
every disagreement (empty when everything agrees).
"""
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from pki_scenarios import scenario

_VERIFY_ERROR = re.compile(r"verify error:num=(\d+)")
_S_CLIENT_OK = re.compile(r"Verif(y return code|ication): (0 \(ok\)|OK)")


@dataclass
class Side:
    """What one store kind (capath or bundle) gave."""
    kind: str
    model: Optional[tuple] = None          # (accepts, code, depth) predicted by the emulation
    verify: Optional[tuple] = None         # openssl verify
    s_client: Optional[tuple] = None       # (accepts, code)
    verdict: str = ""
    client_accepts: Optional[bool] = None
    fix: str = ""                          # "fixed", "refused", "" (not run)
    problems: List[str] = field(default_factory=list)


@dataclass
class Record:
    seed: int
    classes: List[str]
    level: int
    sides: Dict[str, Side] = field(default_factory=dict)

    @property
    def problems(self) -> List[str]:
        return ["%s: %s" % (kind, p) for kind, side in self.sides.items() for p in side.problems]


def run(seed: int, tmp: str, referee, *, fix: bool = True) -> Record:
    from ibmi_trust.testing.servers import ChainPlan, MailServer

    sc = scenario(seed)
    record = Record(seed, sc.classes, sc.level)
    sent_pem = b"".join(c.pem().encode("ascii") for c in sc.sent)
    server = MailServer("smtp", host="127.0.0.1", chains=ChainPlan(default=(sent_pem, sc.leaf.key_pem())),
                        name=sc.host.lower()).start()
    try:
        for kind in ("capath", "bundle"):
            base = os.path.join(tmp, "%d-%s" % (seed, kind))
            os.makedirs(base)
            record.sides[kind] = _one_store(sc, kind, base, server, referee, fix)
    finally:
        server.stop()
    return record


def _one_store(sc, kind, base, server, referee, fix) -> Side:
    from ibmi_trust.errors import FixRefused, RolledBack
    from ibmi_trust.jobs.check import run_check
    from ibmi_trust.jobs.fix import run_fix

    side = Side(kind)
    location, spec = _write_store(sc, kind, base)
    before_files = _files(location)
    options, target = _options(sc, spec, base, server)
    check = run_check(target, options)
    if len(check.variants) != 1:
        side.problems.append("check saw %d chains (%s)" % (len(check.variants), check.error))
        return side
    report = check.variants[0].report
    prediction = report.prediction or {}
    error = prediction.get("error") or {}
    side.model = (bool(prediction.get("accepts")), error.get("code"), error.get("depth"))
    side.verdict, side.client_accepts = report.verdict, report.client_accepts
    truth = referee.verify(sc.sent, host=sc.host, level=sc.level, **_where(kind, location))
    side.verify = (truth.ok, truth.code, truth.depth)
    side.s_client = s_client(referee.binary, server.port, sc.host, sc.level, kind, location)
    if side.model != side.verify:
        side.problems.append("model %s != openssl verify %s (%s)" % (side.model, side.verify, truth.text))
    if side.client_accepts != truth.ok:
        side.problems.append("check says %s (client_accepts=%s) but openssl verify %s" % (
            report.verdict, side.client_accepts, "accepts" if truth.ok else "rejects: " + truth.text))
    if side.s_client[0] != truth.ok or (not truth.ok and side.s_client[1] != truth.code):
        side.problems.append("s_client %s != openssl verify %s" % (side.s_client, side.verify))
    if not fix or report.verdict == "trusted":
        return side
    try:
        run_fix(target, options, confirm=None)
        side.fix = "fixed"
    except FixRefused as exc:
        side.fix = "refused"
        if report.verdict == "fixable":
            side.problems.append("check said fixable but fix refused: %s" % exc.message)
    except RolledBack as exc:
        side.fix = "rolled-back"
        side.problems.append("fix rolled back: %s" % exc.message)
    after_files = _files(location)
    changed = [name for name, data in before_files.items() if not _kept(data, after_files.get(name), kind)]
    if changed:
        side.problems.append("files that were in the store changed: %s" % changed)
    if side.fix != "fixed":
        if after_files != before_files:
            side.problems.append("a refused fix changed the store")
        return side
    added = _added_certs(kind, location, before_files)
    roots = {c.sha256 for c in sc.roots}
    unapproved = [c.subject for c in added if c.self_issued and c.sha256 not in roots]
    if unapproved:
        side.problems.append("unapproved roots added: %s" % unapproved)
    path_only = referee.verify(sc.sent, level=sc.level, **_where(kind, location))
    if not path_only.ok:
        side.problems.append("after fix, openssl verify still fails: %s %s" % (path_only.code, path_only.text))
    return side


# -- stores -------------------------------------------------------------------------
def _write_store(sc, kind, base):
    if kind == "bundle":
        path = os.path.join(base, "ca-bundle.pem")
        with open(path, "w", encoding="ascii") as handle:
            handle.write("".join(c.pem() for c in sc.store))
        return path, "bundle:" + path
    path = os.path.join(base, "certs")
    os.makedirs(path)
    for index, cert in enumerate(sc.store):
        with open(os.path.join(path, "%03d-ca.pem" % index), "w", encoding="ascii") as handle:
            handle.write(cert.pem())
    subprocess.run(["openssl", "rehash", path], check=True, capture_output=True, timeout=60)
    return path, "capath:" + path


def _where(kind, location) -> dict:
    return {"capath": location} if kind == "capath" else {"cafile": location}


def _files(location) -> Dict[str, object]:
    """Regular files (bytes) and links (target) of a store, by name."""
    if os.path.isfile(location):
        with open(location, "rb") as handle:
            return {os.path.basename(location): handle.read()}
    out: Dict[str, object] = {}
    for name in os.listdir(location):
        path = os.path.join(location, name)
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            out[name] = ("link", os.readlink(path))
        elif stat.S_ISREG(mode) and not name.startswith(".ibmi-trust"):
            with open(path, "rb") as handle:
                out[name] = handle.read()
    return out


def _kept(before, after, kind) -> bool:
    """A CApath file or link is unchanged; a bundle keeps every byte it had (new CAs are appended)."""
    if kind == "bundle" and isinstance(before, bytes) and isinstance(after, bytes):
        return after[:len(before)] == before
    return after == before


def _added_certs(kind, location, before_files):
    from ibmi_trust.certs import load_certificates

    if kind == "bundle":
        with open(location, "rb") as handle:
            data = handle.read()
        return load_certificates(data[len(before_files[os.path.basename(location)]):])
    out = []
    for name, data in _files(location).items():
        if name not in before_files and isinstance(data, bytes):
            out.extend(load_certificates(data))
    return out


def _options(sc, spec, base, server):
    from ibmi_trust.analyse.validators import ValidatorOptions
    from ibmi_trust.fetch import RootProgram, Sourcing
    from ibmi_trust.jobs.check import CheckOptions
    from ibmi_trust.probe import ProbeOptions, Target
    from ibmi_trust.store.spec import StoreOptions

    roots_path = os.path.join(base, "roots.pem")
    with open(roots_path, "w", encoding="ascii") as handle:
        handle.write("".join(c.pem() for c in sc.roots) or _placeholder_root())
    sourcing = Sourcing(fetch=False, root_program=RootProgram.from_file(roots_path), extra=[], timeout=3.0)
    if sc.extra:
        extra_path = os.path.join(base, "carried-in.pem")
        with open(extra_path, "w", encoding="ascii") as handle:
            handle.write("".join(c.pem() for c in sc.extra))
        sourcing.add_files([extra_path])
    host = sc.host.lower()
    probe = ProbeOptions(timeout=3.0, rounds=1, sni=("on",), key_types=("ecdsa",), rate=1000.0, concurrency=2,
                         resolve={"%s:%d" % (host, server.port): ["127.0.0.1"]})
    options = CheckOptions(store_spec=spec, store_options=StoreOptions(backup_dir=os.path.join(base, "backups")),
                           probe_options=probe, sourcing=sourcing, warn_days=0,
                           validator_options=ValidatorOptions(seclevel=sc.level, check_names=True))
    return options, Target.parse("%s:%d" % (sc.host, server.port), protocol="smtp")


def _placeholder_root() -> str:
    from ibmi_trust.testing.pki import CA

    return CA.root("Differential Empty Root Program").cert.pem()


# -- s_client ------------------------------------------------------------------------------
def s_client(binary: str, port: int, host: str, level: int, kind: str, location: str):
    """(accepts, first verify error) of a real `openssl s_client -starttls smtp` handshake."""
    args = [binary, "s_client", "-connect", "127.0.0.1:%d" % port, "-starttls", "smtp", "-servername",
            host.lower(), "-verify_return_error", "-verify_hostname", host, "-purpose", "sslserver",
            "-cipher", "DEFAULT:@SECLEVEL=%d" % level, "-no-CAstore"]
    args += ["-CApath", location, "-no-CAfile"] if kind == "capath" else ["-CAfile", location, "-no-CApath"]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ.get("PATH", os.defpath)})
    out = proc.stdout + proc.stderr
    match = _VERIFY_ERROR.search(out)
    if match:
        return False, int(match.group(1))
    return (bool(_S_CLIENT_OK.search(out)) and proc.returncode == 0), None


def scratch(tmp: str) -> str:
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    return tmp
