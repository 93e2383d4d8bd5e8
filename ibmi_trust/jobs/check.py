"""`check`: probe a server with variant discovery, analyse every chain it
presented against a trust store, and say what is missing.

The result is data (`CheckResult`); rendering lives in jobs/render.py.
"""
import datetime
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ibmi_trust.errors import ProbeError
from ibmi_trust.jobs import status as st
from ibmi_trust.timestamps import iso_utc


@dataclass
class CheckOptions:
    store_spec: Optional[str] = None
    store_options: object = None            # ibmi_trust.store.spec.StoreOptions
    probe_options: object = None            # ibmi_trust.probe.ProbeOptions
    sourcing: object = None                 # ibmi_trust.fetch.Sourcing, None = do not source
    warn_days: int = 30
    validator_options: object = None        # ibmi_trust.analyse.validators.ValidatorOptions
    referee: bool = True                    # ask the real OpenSSL when it is here (OpenSSL-profile stores)
    history: object = None                  # ibmi_trust.history.journal.Journal, None = no history
    command: str = "check"                  # what the history records the run as
    proof: str = "auto"                     # *SYSTEM/.KDB: gskit | model | auto (GSKit when GSKPROBE is installed)
    chain_file: Optional[str] = None        # --chain: read the chains from this file, connect to nothing
    critical_days: Optional[int] = None     # CRITICAL when a path certificate expires within N days


@dataclass
class VariantReport:
    """One distinct chain the server presented, and its analysis."""
    index: int
    variant: object                         # probe ChainVariant
    report: object                          # analyse ChainReport
    source: str = "tonight"                 # "history": seen in the window, not in this run's handshakes
    history: Optional[dict] = None          # ChainSeen.to_json(): first/last seen, handshakes, share

    @property
    def status(self) -> str:
        return self.report.status

    def to_json(self) -> dict:
        out = {
            "index": self.index,
            "chain_sha256": self.variant.sha256,
            "share": round(self.variant.share, 4),
            "count": self.variant.count,
            "served_by": [
                {"address": a, "sni": s, "key_type": k} for (a, s, k) in self.variant.combos
            ],
            "certificates": [c.summary() for c in self.variant.certificates],
        }
        analysis = self.report.to_json()
        out.update(analysis)
        out["verdict"] = self.report.verdict
        out["status"] = self.report.status
        out["missing"] = [_missing_json(m) for m in self.report.missing]
        out["source"] = self.source
        out["history"] = self.history
        return out


def _missing_json(missing) -> dict:
    out = missing.to_json()
    if out.get("sha256") is None and missing.cert is not None:
        out["sha256"] = missing.cert.sha256
    return out


@dataclass
class CheckResult:
    target: object
    store_spec: str
    status: str
    variants: List[VariantReport] = field(default_factory=list)
    probe: object = None                    # ProbeResult, None when probing failed
    error: Optional[str] = None             # why UNKNOWN
    store_problems: List[str] = field(default_factory=list)
    elapsed: float = 0.0
    checked_at: str = ""
    validator: dict = field(default_factory=dict)      # the validator's to_json()
    referee: Optional[str] = None           # the openssl that refereed, or why none did
    history: Optional[dict] = None          # Journal.to_json(): window, guarantee, new, warnings
    gskit: Optional[dict] = None            # *SYSTEM/.KDB: GSKit's own handshakes (jobs.gskit.Referee)
    critical_days: Optional[int] = None     # --critical-days: expiring this soon is CRITICAL

    @property
    def exit_code(self) -> int:
        return st.exit_code(self.status)

    def missing(self):
        """Distinct missing certificates across variants (by sha256 or subject+key id)."""
        seen, out = set(), []
        for v in self.variants:
            for m in v.report.missing:
                key = m.sha256 or (m.subject, m.key_id)
                if key not in seen:
                    seen.add(key)
                    out.append(m)
        return out

    def earliest_expiry_days(self) -> Optional[float]:
        soonest = self.expiring()
        return soonest[0][2] if soonest else None

    def expiring(self, within: Optional[float] = None, now=None) -> list:
        """(chain number, certificate, days left) for every certificate on a
        chain's path (as sent, when there is no path), soonest first; only
        those expiring within `within` days when given."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        out, seen = [], set()
        for v in self.variants:
            for cert in list(v.report.path) or list(v.variant.certificates):
                days = cert.days_left(now)
                if (v.index, cert.sha256) not in seen and (within is None or days <= within):
                    seen.add((v.index, cert.sha256))
                    out.append((v.index, cert, days))
        return sorted(out, key=lambda item: item[2])

    def to_json(self) -> dict:
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "check",
            "target": self.target.display(),
            "store": self.store_spec,
            "status": self.status,
            "error": self.error,
            "checked_at": self.checked_at,
            "elapsed_seconds": round(self.elapsed, 3),
            "handshakes": self.probe.handshakes if self.probe is not None else 0,
            "probe": self.probe.to_json() if self.probe is not None else None,
            "chains": [v.to_json() for v in self.variants],
            "missing": [_missing_json(m) for m in self.missing()],
            "store_problems": list(self.store_problems),
            "validator": dict(self.validator),
            "referee": self.referee,
            "history": self.history,
            "gskit": self.gskit,
            "critical_days": self.critical_days,
        }


def open_configured_store(options: CheckOptions):
    from ibmi_trust.store.spec import open_store

    return open_store(options.store_spec, options.store_options)


def validator_for(store, options: CheckOptions):
    from ibmi_trust.analyse.validators import ValidatorOptions, for_store

    return for_store(store, options.validator_options or ValidatorOptions())


def analyse_probe(probe_result, view, target, options: CheckOptions, *, validator,
                  store=None, now=None) -> List[VariantReport]:
    """Analyse every chain variant with `validator` against the store `view`
    (analyse.core.view_of); with `store` given, and when the validator is
    OpenSSL's and the `openssl` binary is here, the real OpenSSL referees every
    verdict (analyse.referee)."""
    from ibmi_trust.analyse import analyse_chain
    from ibmi_trust.analyse.core import StoreView, utc

    if not hasattr(view, "issuers_of"):
        view = StoreView(view)                         # store entries given as a list
    host = target.host
    now = utc(now)
    referee = _referee_for(store, validator, options)
    out = []
    for index, variant in enumerate(probe_result.chains, 1):
        chain = list(variant.certificates)
        report = analyse_chain(chain, view, host=host, sourcing=options.sourcing, now=now,
                               warn_days=options.warn_days, validator=validator)
        if referee is not None:
            from ibmi_trust.analyse.referee import settle, store_arguments

            verdict = referee.verify(chain, host=host if validator.check_names else None, level=validator.level,
                                     now=now, **store_arguments(store, view, chain))
            settle(report, verdict, referee)
        out.append(VariantReport(index=index, variant=variant, report=report))
    return out


def store_view(store, validator):
    """Read the store for the analysis: for OpenSSL, a CApath directory one subject
    at a time (as its clients read it) and a bundle indexed without a Cert per CA
    (store/bundle_lookup.py); any other store whole. Returns the view and a
    function giving the read problems met so far (a CApath lookup meets them as
    it goes)."""
    from ibmi_trust.analyse.core import LookupView, StoreView

    lookup = store.lookup() if validator.kind == "openssl" else None
    if lookup is not None:
        return LookupView(lookup), lambda: ["%s: %s" % (p.where, p.reason) for p in lookup.problems]
    view = StoreView(store.list())
    problems = ["%s: %s" % (p.where, p.reason) for p in store.problems]
    return view, lambda: list(problems)


def _referee_for(store, validator, options: CheckOptions):
    if store is None or not options.referee or validator.kind != "openssl":
        return None
    from ibmi_trust.analyse.referee import cached, store_location

    if store_location(store) is None:
        return None
    return cached()


def referee_words(store, validator, options: CheckOptions) -> Optional[str]:
    if validator.kind != "openssl":
        return None
    referee = _referee_for(store, validator, options)
    if referee is not None:
        return referee.describe()
    return "none: no openssl binary found (the verdicts are the model's)" if options.referee else "off"


def run_check(target, options: CheckOptions, *, store=None, views=None,
              progress: Optional[Callable[[int, int], None]] = None) -> CheckResult:
    """Probe, read the store, analyse. Store errors propagate (exit 4);
    probe failures are an UNKNOWN result, not an exception (monitoring wants
    the status line). `views(store, validator)` replaces `store_view` (verify
    shares one read of each store between its targets)."""
    from ibmi_trust.probe import probe

    started = time.monotonic()
    checked_at = iso_utc()
    store = store if store is not None else open_configured_store(options)
    validator = validator_for(store, options)
    view, problems_so_far = (views or store_view)(store, validator)   # read before probing: fail fast
    spec = store.spec
    journal = options.history if not options.chain_file else None      # chains read from a file: not a probe
    recalled = journal.recall(target) if journal is not None else None     # never raises
    known = recalled.recall.addresses() if recalled is not None and recalled.recall is not None else ()
    try:
        if options.chain_file:
            from ibmi_trust.probe.offline import read_chains

            result = read_chains(options.chain_file, target, options.probe_options)
        else:
            result = probe(target, options.probe_options, progress=progress, known_addresses=known)
    except ProbeError as exc:
        return CheckResult(target=target, store_spec=spec, status=st.UNKNOWN, error=exc.message,
                           store_problems=problems_so_far(), elapsed=time.monotonic() - started,
                           checked_at=checked_at, history=journal.to_json(recalled) if journal is not None else None)
    judged = journal.merge(recalled, result) if journal is not None else result
    variants = analyse_probe(judged, view, target, options, validator=validator, store=store)
    if journal is not None:
        journal.flag_changes(recalled, variants)
    from ibmi_trust.jobs.gskit import referee_check

    gskit = None if options.chain_file else referee_check(target, result, variants, store, options)   # GSKit decides
    problems = problems_so_far()
    status = st.worst(v.status for v in variants) if variants else st.UNKNOWN
    check = CheckResult(target=target, store_spec=spec, status=status, variants=variants, probe=result,
                        store_problems=problems, elapsed=time.monotonic() - started, checked_at=checked_at,
                        error=None if variants else "no chain captured", validator=validator.to_json(),
                        referee=gskit.words() if gskit else referee_words(store, validator, options),
                        gskit=gskit.to_json() if gskit else None, critical_days=options.critical_days)
    if options.critical_days is not None and check.expiring(options.critical_days):
        check.status = st.CRITICAL
    if journal is not None:
        journal.record(recalled, result, check, options.command)
        check.history = journal.to_json(recalled)
    return check
