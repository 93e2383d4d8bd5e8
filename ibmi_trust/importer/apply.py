"""Apply an import plan the way an operator would want DCM to be used:

    back up -> import (the store confirms each certificate) -> prove every
    variant (importer.proof) -> keep if all verify, else restore the backup
    and say why.

The store's own add() already locks, backs up, writes atomically, re-reads
and rolls back on a failed write (ibmi_trust.store.base). This module adds the
end-to-end proof and the roll back when that proof fails.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from ibmi_trust.errors import RolledBack, StoreError
from ibmi_trust.importer.proof import Proof


@dataclass
class ApplyOutcome:
    change: object               # store ChangeReport
    proof: Optional[Proof]       # None on a dry run


def apply_plan(store, plan, reprobe: Callable[[], Proof], *, dry_run: bool = False) -> ApplyOutcome:
    change = store.add(plan.certs, dry_run=dry_run)
    if dry_run or not change.changed:
        # nothing was written: prove only when something could have changed
        return ApplyOutcome(change=change, proof=None if dry_run else reprobe())
    try:
        proof = reprobe()
    except Exception as exc:  # a re-probe crash must not leave an unproven store
        _restore(store, change)
        raise RolledBack("the proof could not run (%s); the store was restored from backup %s"
                         % (exc, change.backup.id if change.backup else "?")) from None
    if not proof.ok:
        _restore(store, change)
        raise RolledBack(
            "after importing %d certificate(s) the server still fails verification (proof: %s: %s); "
            "the store was restored from backup %s"
            % (len(change.added), proof.kind, "; ".join(proof.failures),
               change.backup.id if change.backup else "?"),
            hint="run `ibmi-trust check` for details; a new chain variant may have appeared")
    return ApplyOutcome(change=change, proof=proof)


def _restore(store, change) -> None:
    if change.backup is None:
        raise StoreError("cannot roll back: the store reported no backup for this change")
    store.restore(change.backup.id)
