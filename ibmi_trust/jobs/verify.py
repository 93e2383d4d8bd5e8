"""`verify`: the nightly job. Check every configured target concurrently,
within the probe's per-host limits, and summarise.

Concurrency: a thread pool over targets; handshakes to one host are still
capped by the probe's process-wide per-host limiter, so twenty targets on one
host do not become an abusive burst.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import List, Optional

from ibmi_trust.errors import IbmiTrustError
from ibmi_trust.jobs import status as st
from ibmi_trust.jobs.check import CheckOptions, run_check
from ibmi_trust.timestamps import iso_utc


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


def _check_one(cfg, make_options, store_cache):
    from ibmi_trust.probe import Target

    try:
        target = Target.parse(cfg.target, protocol=cfg.protocol)
        options = make_options(cfg)
        store = store_cache(options)
        result = run_check(target, options, store=store)
        return TargetOutcome(config=cfg, result=result, status=result.status)
    except IbmiTrustError as exc:
        return TargetOutcome(config=cfg, result=None, error=exc.message, status=st.UNKNOWN)


def run_verify(configs, make_options, *, workers: int = 8, progress=None) -> VerifyResult:
    """`make_options(TargetConfig) -> CheckOptions`. Stores are opened once per
    spec and shared (their list() is read per check: cheap for files, one SQL
    query + export on IBM i)."""
    started = time.monotonic()
    started_at = iso_utc()
    stores, lock = {}, threading.Lock()

    def store_cache(options: CheckOptions):
        from ibmi_trust.store.spec import open_store

        key = options.store_spec
        with lock:
            if key not in stores:
                stores[key] = open_store(options.store_spec, options.store_options)
            return stores[key]

    outcomes: List[Optional[TargetOutcome]] = [None] * len(configs)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(configs)))) as pool:
        futures = {pool.submit(_check_one, cfg, make_options, store_cache): i for i, cfg in enumerate(configs)}
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
            done += 1
            if progress is not None:
                progress(done, len(configs))
    return VerifyResult(outcomes=[o for o in outcomes if o is not None], elapsed=time.monotonic() - started,
                        started_at=started_at)


def verify_text(result: VerifyResult) -> str:
    counts = result.counts()
    lines = ["%s: %d target(s): %d OK, %d WARNING, %d CRITICAL, %d UNKNOWN in %.1f s" % (
        result.status, len(result.outcomes), counts[st.OK], counts[st.WARNING], counts[st.CRITICAL],
        counts[st.UNKNOWN], result.elapsed)]
    for o in result.outcomes:
        detail = ""
        if o.error:
            detail = o.error
        elif o.result is not None:
            if o.result.error:
                detail = o.result.error
            else:
                missing = o.result.missing()
                detail = "%d chain(s)" % len(o.result.variants) + _history_detail(o.result)
                if missing:
                    detail += "; missing: " + "; ".join(m.subject for m in missing)
        lines.append("  %-8s %-40s %s" % (o.status, o.config.target, detail))
    warnings = dict.fromkeys(w for o in result.outcomes if o.result is not None and o.result.history
                             for w in o.result.history.get("warnings") or [])
    lines.extend("  WARNING  history: %s" % w for w in warnings)
    return "\n".join(lines)


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
