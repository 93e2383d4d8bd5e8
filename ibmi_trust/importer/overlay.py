"""Check a plan before writing: the store plus the plan, in a scratch copy,
judged by the real OpenSSL.

The copy is made by the store's own backup code (`snapshot`) and the plan is
written into it by the store's own `add`, so the scratch store holds exactly
the files, links and link numbers the real write will make. Every chain
variant the server presented is then verified against it with `openssl
verify` (the referee; the path only: a host-name mismatch is no store
problem). A plan that leaves any variant failing is not applied.

Without an `openssl` binary the copy is judged by the OpenSSL emulation
instead, and the result says so.
"""
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from ibmi_trust.analyse.referee import store_location


@dataclass
class OverlayResult:
    checked_by: str                                   # "openssl verify (...)" or "the OpenSSL model"
    failures: List[str] = field(default_factory=list)  # one line per chain that would still fail
    verdicts: List[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict:
        return {"checked_by": self.checked_by, "ok": self.ok, "failures": list(self.failures),
                "chains": list(self.verdicts)}


def supported(store) -> bool:
    """Only file stores can be copied aside and judged by OpenSSL."""
    return store_location(store) is not None and hasattr(store, "snapshot")


def check_plan(store, plan, variants, validator, referee, now) -> OverlayResult:
    """Judge every variant against a scratch copy of `store` with `plan` added."""
    from ibmi_trust.store.spec import StoreOptions

    scratch = Path(tempfile.mkdtemp(prefix="ibmi-trust-overlay-"))
    try:
        copy_dir = scratch / "copy"
        copy_dir.mkdir()
        store.snapshot(copy_dir)
        copy = type(store)(copy_dir / store.path.name, StoreOptions(backup_dir=str(scratch / "backups"),
                                                                    retention=1, lock_timeout=1.0))
        copy.add(plan.certs)
        return judge(copy, variants, validator, referee, now)
    finally:
        shutil.rmtree(str(scratch), ignore_errors=True)


def judge(store, variants, validator, referee, now, failing: str = "would still fail with the plan") -> OverlayResult:
    """Every variant against `store` as it is: by `openssl verify` when `referee`
    is given, else by the OpenSSL model; `failing` words a failure."""
    if referee is not None:
        return _by_referee(store, variants, referee, validator, now, failing)
    return _by_model(store, variants, validator, now, failing)


def _by_referee(copy, variants, referee, validator, now, failing) -> OverlayResult:
    result = OverlayResult(checked_by="openssl verify (%s) at security level %d" % (referee.describe(),
                                                                                     validator.level))
    from ibmi_trust.analyse.core import view_of
    from ibmi_trust.analyse.referee import store_arguments

    view = view_of(copy)
    for v in variants:
        chain = list(v.variant.certificates)
        verdict = referee.verify(chain, level=validator.level, now=now, **store_arguments(copy, view, chain))
        result.verdicts.append(dict(verdict.to_json(), chain=v.index))
        if not verdict.ok:
            why = ("error %s at depth %s (%s)" % (verdict.code, verdict.depth, verdict.text) if verdict.ran
                   else "OpenSSL could not judge it: %s" % verdict.text)
            result.failures.append("chain %d %s: %s" % (v.index, failing, why))
    return result


def _by_model(copy, variants, validator, now, failing) -> OverlayResult:
    from ibmi_trust.analyse.core import index_store
    from ibmi_trust.analyse.openssl.verify import verify

    result = OverlayResult(checked_by="the OpenSSL model (no openssl binary here) at security level %d"
                           % validator.level)
    model = index_store(copy.list()).openssl_model()
    for v in variants:
        outcome = verify(list(v.variant.certificates), model, validator.settings(None, now))
        errors = outcome.path_errors()
        result.verdicts.append({"chain": v.index, "ok": not errors,
                                "code": errors[0].code if errors else None,
                                "depth": errors[0].depth if errors else None})
        if errors:
            result.failures.append("chain %d %s: error %d at depth %d (%s)"
                                   % (v.index, failing, errors[0].code, errors[0].depth,
                                      errors[0].text(validator.version)))
    return result


def scratch_note(result: Optional[OverlayResult]) -> str:
    if result is None:
        return ""
    return "plan checked against a scratch copy of the store by %s: %s" % (
        result.checked_by, "every chain verifies" if result.ok else "; ".join(result.failures))
