"""`verify`: the nightly job. Check every configured target concurrently,
within the probe's per-host limits, and summarise.

Concurrency: a thread pool over targets; handshakes to one host are still
capped by the probe's process-wide per-host limiter, so twenty targets on one
host do not become an abusive burst. A worker mostly waits (for the limiter's
spacing, for the server), so there are many: what binds is each host's limit
(10 handshakes a second by default: a target's ~60-handshake discovery takes
about 6 s) and, with many hosts, the CPU of the handshakes and analyses
(docs/nightly.md, benchmarks/bench_verify.py).

Each distinct store is opened and read once per run (`SharedStores`); its
index (or CApath lookup) is shared by every target that names it.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ibmi_trust.errors import IbmiTrustError
from ibmi_trust.jobs import status as st
from ibmi_trust.jobs.check import CheckOptions, run_check
from ibmi_trust.timestamps import iso_utc

DEFAULT_WORKERS = 32             # targets at once: workers mostly wait on the per-host limiter


@dataclass
class TargetOutcome:
    config: object                 # TargetConfig
    result: Optional[object]       # CheckResult
    error: Optional[str] = None    # set when the check could not run (store error, bad target)
    status: str = st.UNKNOWN

    def to_json(self) -> dict:
        out = {"name": self.config.name, "target": self.config.target, "status": self.status}
        if self.result is not None:
            out["check"] = self.result.to_json()
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class VerifyResult:
    outcomes: List[TargetOutcome] = field(default_factory=list)
    elapsed: float = 0.0
    started_at: str = ""

    @property
    def status(self) -> str:
        return st.worst(o.status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        return st.exit_code(self.status)

    def counts(self) -> dict:
        out = {s: 0 for s in (st.OK, st.WARNING, st.CRITICAL, st.UNKNOWN)}
        for o in self.outcomes:
            out[o.status] += 1
        return out

    def to_json(self) -> dict:
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "verify",
            "status": self.status,
            "started_at": self.started_at,
            "elapsed_seconds": round(self.elapsed, 3),
            "counts": self.counts(),
            "targets": [o.to_json() for o in self.outcomes],
        }


class SharedStores:
    """Each store spec opened once and each store read once (per kind of
    validator: a CApath directory is read one subject at a time for OpenSSL),
    for every target of a run; thread-safe. A store that cannot be opened or
    read fails each target that names it, with the same message."""

    def __init__(self):
        self._stores: Dict[str, object] = {}
        self._views: Dict[Tuple[int, bool], tuple] = {}
        self._lock = threading.Lock()

    def store(self, options: CheckOptions):
        from ibmi_trust.store.spec import open_store

        with self._lock:
            if options.store_spec not in self._stores:
                self._stores[options.store_spec] = open_store(options.store_spec, options.store_options)
            return self._stores[options.store_spec]

    def view(self, store, validator):
        from ibmi_trust.jobs.check import store_view

        key = (id(store), validator.kind == "openssl")
        with self._lock:                               # one reader per store; the others wait for its view
            if key not in self._views:
                try:
                    self._views[key] = store_view(store, validator)
                except IbmiTrustError as exc:
                    self._views[key] = exc
            found = self._views[key]
        if isinstance(found, IbmiTrustError):
            raise found
        return found


def _check_one(cfg, make_options, shared: SharedStores):
    from ibmi_trust.probe import Target

    try:
        target = Target.parse(cfg.target, protocol=cfg.protocol)
        options = make_options(cfg)
        store = shared.store(options)
        result = run_check(target, options, store=store, views=shared.view)
        return TargetOutcome(config=cfg, result=result, status=result.status)
    except IbmiTrustError as exc:
        return TargetOutcome(config=cfg, result=None, error=exc.message, status=st.UNKNOWN)


def run_verify(configs, make_options, *, workers: int = DEFAULT_WORKERS, progress=None) -> VerifyResult:
    """`make_options(TargetConfig) -> CheckOptions`. Each store is opened and
    read once and shared (SharedStores)."""
    started = time.monotonic()
    started_at = iso_utc()
    shared = SharedStores()
    outcomes: List[Optional[TargetOutcome]] = [None] * len(configs)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(configs)))) as pool:
        futures = {pool.submit(_check_one, cfg, make_options, shared): i for i, cfg in enumerate(configs)}
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
            done += 1
            if progress is not None:
                progress(done, len(configs))
    return VerifyResult(outcomes=[o for o in outcomes if o is not None], elapsed=time.monotonic() - started,
                        started_at=started_at)


def verify_text(result: VerifyResult, paint=lambda word: word, next_lines=lambda outcome: []) -> str:
    """The summary: one line per target with what matters (missing CAs, name
    mismatches, handshake failures, warnings), and its next command."""
    counts = result.counts()
    lines = ["%s: %d target(s): %d OK, %d WARNING, %d CRITICAL, %d UNKNOWN in %.1f s" % (
        paint(result.status), len(result.outcomes), counts[st.OK], counts[st.WARNING], counts[st.CRITICAL],
        counts[st.UNKNOWN], result.elapsed)]
    for o in result.outcomes:
        lines.append("  %s%s %-40s %s" % (paint(o.status), " " * (8 - len(o.status)), o.config.target,
                                          "; ".join(target_details(o))))
        if o.status != st.OK:
            lines.extend("      " + line for line in next_lines(o))
    warnings = dict.fromkeys(w for o in result.outcomes if o.result is not None and o.result.history
                             for w in o.result.history.get("warnings") or [])
    lines.extend("  WARNING  history: %s" % w for w in warnings)
    return "\n".join(lines)


def target_details(outcome: TargetOutcome) -> List[str]:
    """What the summary says about one target."""
    if outcome.error:
        return [outcome.error]
    result = outcome.result
    if result is None:
        return []
    if result.error and not result.variants:
        return [result.error]
    details = ["%d chain(s)" % len(result.variants) + _history_detail(result)]
    missing = result.missing()
    if missing:
        details.append("missing: " + ", ".join(m.subject for m in missing))
    for v in result.variants:
        for f in v.report.findings:
            if f.code == "name-mismatch":
                details.append("chain %d: %s" % (v.index, f.message))
    failing = [v for v in result.variants if v.report.status == st.CRITICAL and not v.report.missing
               and not any(f.code == "name-mismatch" for f in v.report.findings)]
    for v in failing:
        first = next((f for f in v.report.findings if f.severity == "critical"), None)
        details.append("chain %d: %s" % (v.index, first.message if first else v.report.verdict))
    if result.probe is not None:
        from ibmi_trust.jobs.render import failure_lines

        details.extend(line.strip() for line in failure_lines(result.probe.failures))
    warnings = [f.message for v in result.variants for f in v.report.findings if f.severity == "warning"]
    details.extend(dict.fromkeys(warnings))
    return details


def _history_detail(check) -> str:
    """", 1 from the history; NEW: 1 chain, 1 address" for a target's line."""
    history = check.history or {}
    old = len(history.get("from_history") or [])
    new = history.get("new") or {}
    text = ", %d from the history" % old if old else ""
    fresh = [("chain", len(new.get("chains", []))), ("issuer", len(new.get("issuers", []))),
             ("address", len(new.get("addresses", [])))]
    if any(n for _w, n in fresh):
        text += "; NEW: " + ", ".join("%d %s%s" % (n, w, "" if n == 1 else ("es" if w == "address" else "s"))
                                      for w, n in fresh if n)
    return text
