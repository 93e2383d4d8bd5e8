"""The history as check, fix and verify use it: nothing here ever fails a check.

    journal = Journal.open(settings)          # once per command (verify: shared by its threads)
    recall = journal.recall(target)           # before the probe: the window, known addresses
    merged = journal.merge(recall, probe)     # tonight's chains + the window's
    ...analysis...
    journal.record(target, recall, probe, check_result, command)

Any failure of the history (corrupt, locked past the busy timeout,
read-only, disk full, Db2 tables missing, not on IBM i) becomes a warning
on the check's result and the check goes on as without history. Reading
and writing fail separately: a read-only history is still read.
"""
import datetime
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from ibmi_trust.errors import IbmiTrustError
from ibmi_trust.history import cumulative, location, retention
from ibmi_trust.history.records import HandshakeRow, HistoryError, RunRecord, TargetKey, utc

ENV_TIMEOUT = "IBMI_TRUST_HISTORY_TIMEOUT"


@dataclass
class HistorySettings:
    location: location.Location
    window_days: int = cumulative.DEFAULT_WINDOW_DAYS
    retention_days: int = retention.DEFAULT_RETENTION_DAYS
    busy_timeout: Optional[float] = None
    clock: Callable[[], datetime.datetime] = utc


@dataclass
class Recalled:
    """What one check learnt from the history (and what went wrong with it)."""
    target: TargetKey
    started_at: datetime.datetime
    recall: Optional[cumulative.Recall] = None           # None: nothing could be read
    warnings: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seen: Dict[str, cumulative.ChainSeen] = field(default_factory=dict)
    historic: List[str] = field(default_factory=list)    # chains judged from the history only
    retired: List[dict] = field(default_factory=list)
    new: dict = field(default_factory=dict)
    run_id: Optional[int] = None
    guarantee: dict = field(default_factory=dict)


def open_backend(where: location.Location, busy_timeout: Optional[float] = None):
    if where.kind == "db2":
        from ibmi_trust.history.db2_store import Db2History

        return Db2History(where.where)
    from ibmi_trust.history.sqlite_store import DEFAULT_BUSY_TIMEOUT, SqliteHistory

    return SqliteHistory(where.where, busy_timeout=busy_timeout if busy_timeout is not None else DEFAULT_BUSY_TIMEOUT)


def default_busy_timeout() -> Optional[float]:
    import os

    text = os.environ.get(ENV_TIMEOUT, "").strip()
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None


class Journal:
    def __init__(self, settings: HistorySettings, backend=None):
        self.settings = settings
        self.backend = backend
        self.opening_problem: Optional[str] = None

    @classmethod
    def open(cls, settings: HistorySettings) -> "Journal":
        journal = cls(settings)
        if settings.location.kind == "off":
            return journal
        try:
            journal.backend = open_backend(settings.location, settings.busy_timeout)
        except IbmiTrustError as exc:
            journal.opening_problem = _words(exc)
        return journal

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    @property
    def where(self) -> str:
        return self.backend.location if self.backend is not None else self.settings.location.where

    def describe(self) -> dict:
        loc = self.settings.location
        return {"location": self.where if loc.kind != "off" else None, "kind": loc.kind, "source": loc.source,
                "window_days": self.settings.window_days, "retention_days": self.settings.retention_days}

    # -- before the probe --------------------------------------------------------------
    def recall(self, target) -> Recalled:
        key = TargetKey.of(target)
        now = utc(self.settings.clock())
        out = Recalled(target=key, started_at=now)
        if self.backend is None:
            if self.opening_problem:
                out.warnings.append("history not used: %s" % self.opening_problem)
            elif self.settings.location.source == "default":
                out.warnings.append("history not used: %s; %s" % (self.settings.location.where,
                                                                  location.NO_LOCATION_HINT))
            return out
        since = now - datetime.timedelta(days=self.settings.window_days)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        try:
            runs = self.backend.runs(key, since)
            window = self.backend.summary(key, since)
            everything = self.backend.summary(key, epoch)
            all_runs = len(self.backend.runs(key, epoch))
        except (IbmiTrustError, sqlite3.Error, OSError) as exc:
            out.warnings.append("history not read (the check runs without it): %s" % _words(exc))
            return out
        out.recall = cumulative.Recall(now, self.settings.window_days, runs, window, everything, all_runs)
        return out

    # -- after the probe ------------------------------------------------------------------
    def merge(self, recalled: Recalled, probe_result):
        """Tonight's chains, then the window's chains not seen tonight (unless retired)."""
        from ibmi_trust.certs import Cert
        from ibmi_trust.probe.result import ChainVariant

        recall = recalled.recall
        if recall is None:
            return _Chains(list(probe_result.chains))
        recalled.seen = recall.seen(probe_result)
        tonight = {v.sha256 for v in probe_result.chains}
        candidates = []
        for item in sorted(recalled.seen.values(), key=lambda s: s.last_seen, reverse=True):
            if item.sha256 in tonight:
                continue
            if recall.retired(item, probe_result):
                recalled.retired.append({"chain_sha256": item.sha256, "last_seen": cumulative.iso_seconds(item.last_seen),
                                         "share": round(item.share, 6)})
                continue
            candidates.append(item.sha256)
        historic = []
        if candidates:
            try:
                ders = self.backend.chain_certs(candidates)
            except (IbmiTrustError, sqlite3.Error, OSError) as exc:
                recalled.warnings.append("chains from the history not read: %s" % _words(exc))
                ders = {}
            for sha in candidates:
                if sha not in ders:
                    continue
                try:
                    variant = ChainVariant([Cert(der) for der in ders[sha]])
                except IbmiTrustError:
                    recalled.warnings.append("a chain in the history cannot be read any more (%s...)" % sha[:16])
                    continue
                historic.append(variant)
                recalled.historic.append(sha)
        runs = len(recall.runs) + 1
        handshakes = recall.handshakes + probe_result.handshakes
        recalled.guarantee = cumulative.window_guarantee(runs, handshakes, recall.since or recalled.started_at,
                                                         self.settings.window_days)
        return _Chains(list(probe_result.chains) + historic)

    def flag_changes(self, recalled: Recalled, variants) -> None:
        """Attach what the history says to each VariantReport, and flag what is new."""
        from ibmi_trust.history import novelty

        for v in variants:
            seen = recalled.seen.get(v.variant.sha256)
            v.source = "history" if v.variant.sha256 in recalled.historic else "tonight"
            v.history = seen.to_json() if seen is not None else None
        if recalled.recall is None:
            return
        try:
            recalled.new = novelty.flag(variants, recalled.recall, self.backend.chain_certs)
        except (IbmiTrustError, sqlite3.Error, OSError) as exc:
            recalled.warnings.append("changes since earlier runs not computed: %s" % _words(exc))

    def record(self, recalled: Recalled, probe_result, check_result, command: str) -> None:
        """Write tonight's run (handshakes, chains, verdicts); a failure is a warning."""
        if self.backend is None or probe_result is None:
            return
        start = recalled.started_at
        rows = [HandshakeRow(start + datetime.timedelta(seconds=h.offset), h.combo.address, h.combo.sni,
                             h.combo.key_type, h.tls_version, h.outcome[:512], h.chain) for h in probe_result.log]
        run = RunRecord(target=recalled.target, started_at=start, command=command, status=check_result.status,
                        store=check_result.store_spec or "", handshakes=rows,
                        chains={v.sha256: [c.der for c in v.certificates] for v in probe_result.chains},
                        verdicts={v.variant.sha256: (v.report.verdict, v.source == "history")
                                  for v in check_result.variants})
        try:
            note = retention.prune_once(self.backend, start, self.settings.retention_days)
            if note:
                recalled.notes.append(note)
        except (IbmiTrustError, sqlite3.Error, OSError) as exc:
            recalled.warnings.append("history retention not applied: %s" % _words(exc))
        try:
            recalled.run_id = self.backend.write_run(run)
        except (IbmiTrustError, sqlite3.Error, OSError) as exc:
            recalled.warnings.append("this run was not written to the history (the check itself is complete): %s"
                                     % _words(exc))

    def to_json(self, recalled: Optional[Recalled]) -> dict:
        out = self.describe()
        if recalled is None:
            return out
        out.update({"read": recalled.recall is not None, "run_id": recalled.run_id,
                    "earlier_runs_in_window": len(recalled.recall.runs) if recalled.recall else 0,
                    "guarantee": dict(recalled.guarantee) or None, "from_history": list(recalled.historic),
                    "retired": list(recalled.retired), "new": dict(recalled.new) or None,
                    "warnings": list(recalled.warnings), "notes": list(recalled.notes)})
        return out


class _Chains:
    """What the analysis iterates: `chains` (probe's ChainVariant objects)."""

    def __init__(self, chains):
        self.chains = chains


def _words(exc: Exception) -> str:
    if isinstance(exc, IbmiTrustError):
        return exc.message + ("; next: %s" % exc.hint if exc.hint else "")
    return str(exc) or type(exc).__name__


__all__ = ["Journal", "HistorySettings", "Recalled", "HistoryError", "open_backend"]
