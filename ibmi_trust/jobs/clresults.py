"""Job results -> IBM i message records for the CL command processing
program (`--cl-results FILE`, format in ibmi_trust.ibmi.messages).

A *DIAG per finding, then exactly one *COMP (success) or *ESCAPE (failure),
so a CL MONMSG or an RPG monitor group can react. Pure Python: nothing here
needs IBM i, so every mapping is tested on Linux.
"""
from typing import List

from ibmi_trust.ibmi import messages as m
from ibmi_trust.words import whole_days


def _target(result) -> str:
    return result.target.display()


def _finding_records(check) -> List:
    out, seen = [], set()
    target, store = _target(check), check.store_spec
    for missing in check.missing():
        out.append(m.record(m.ISSUER_MISSING, missing.subject, store, target, missing.sha256 or ""))
    for variant in check.variants:
        for f in variant.report.findings:
            key = (f.code, f.sha256, f.subject)
            if key in seen:
                continue
            seen.add(key)
            if f.code == "unapproved-root":
                out.append(m.record(m.ROOT_NEEDS_APPROVAL, f.subject or "", f.sha256 or ""))
            elif f.code == "expires-soon":
                detail = f.detail or {}
                out.append(m.record(m.CA_EXPIRES, f.subject or "", str(detail.get("not_after", ""))[:10],
                                    str(whole_days(detail.get("days_left", 0))), store))
            elif f.code == "weak-signature":
                detail = f.detail or {}
                out.append(m.record(m.WEAK_SIGNATURE, f.subject or "", str(detail.get("hash", "")).upper()))
    if len(check.variants) > 1:
        failing = sum(1 for v in check.variants if v.report.verdict != "trusted")
        out.append(m.record(m.CHAIN_VARIANTS, target, str(len(check.variants)), str(failing)))
    return out


def _sslrc_records(ssl_rc, target) -> List:
    if ssl_rc is None or ssl_rc.get("explained") is None:
        return []
    msgid = m.SSLRC_EXPLAINED if ssl_rc["explained"] else m.SSLRC_NOT_EXPLAINED
    return [m.record(msgid, ssl_rc["code"], ssl_rc["constant"], target)]


def check_records(check, ssl_rc=None) -> List:
    target, store = _target(check), check.store_spec
    if check.status == "UNKNOWN":
        return [m.record(m.PROBE_FAILED, target, check.error or "no chain captured")]
    records = _finding_records(check) + _sslrc_records(ssl_rc, target)
    if check.status == "OK":
        records.append(m.record(m.TRUSTED, target, store))
    elif check.status == "WARNING":
        warnings = sum(1 for v in check.variants for f in v.report.findings if f.severity == "warning")
        records.append(m.record(m.TRUSTED_WITH_WARNINGS, target, store, str(warnings)))
    else:
        records.append(m.record(m.NOT_TRUSTED, target, store, str(len(check.missing()))))
    return records


def fix_records(fix, ssl_rc=None) -> List:
    before = fix.before
    target, store = _target(before), before.store_spec
    if before.status == "UNKNOWN":
        return [m.record(m.PROBE_FAILED, target, before.error or "no chain captured")]
    records = _finding_records(before)
    if fix.change is not None and not fix.dry_run:
        for entry in fix.change.added:
            records.append(m.record(m.IMPORTED, entry.cert.subject, store, entry.cert.sha256, entry.label))
    if fix.change is not None:
        records += trust_list_records(fix.change)
    records += _sslrc_records(ssl_rc, target)
    if fix.dry_run:
        records.append(m.record(m.FIX_PLANNED, target, str(len(fix.plan.items) if fix.plan else 0), store))
    elif fix.outcome == "partial":
        added = len(fix.change.added) if fix.change is not None else 0
        records.append(m.record(m.PARTLY_FIXED, target, str(added), store, str(len(fix.plan.blocked))))
    elif fix.change is not None and fix.change.changed:
        records.append(m.record(m.FIXED, target, str(len(fix.change.added)), store))
    else:
        records.append(m.record(m.NOTHING_CHANGED, store, target))
    return records


def trust_list_records(change) -> List:
    """APPID: ITR0013 for a CA added to an application's CA trust list, ITR0020 for
    every other decision (ibmi_trust.ibmi.trust_check) with its next command."""
    records = []
    for decision in getattr(change, "trust_list", []):
        if decision["action"] == "added":
            records.append(m.record(m.TRUST_LIST_ADDED, decision["label"], decision["app_id"]))
        else:
            records.append(m.record(m.TRUST_LIST_DECISION, decision["app_id"], decision["label"],
                                    decision["reason"], decision["next_command"] or "None needed."))
    return records


def verify_records(verify, report_path=None) -> List:
    records = []
    for o in verify.outcomes:
        detail = _verify_detail(o)
        if o.status == "CRITICAL":
            records.append(m.record(m.TARGET_CRITICAL, o.config.target, o.result.store_spec if o.result else "", detail))
        elif o.status == "WARNING":
            records.append(m.record(m.TARGET_WARNING, o.config.target, detail))
        elif o.status == "UNKNOWN":
            records.append(m.record(m.TARGET_UNKNOWN, o.config.target, detail))
    if report_path:
        records.append(m.record(m.REPORT_WRITTEN, report_path))
    counts, total = verify.counts(), str(len(verify.outcomes))
    if verify.status == "OK":
        records.append(m.record(m.VERIFY_OK, total))
    elif verify.status == "WARNING":
        records.append(m.record(m.VERIFY_WARNINGS, total, str(counts["WARNING"])))
    else:
        records.append(m.record(m.VERIFY_FAILED, total, str(counts["CRITICAL"]), str(counts["UNKNOWN"]),
                                str(counts["WARNING"])))
    return records


def _verify_detail(outcome) -> str:
    if outcome.error:
        return outcome.error
    result = outcome.result
    if result is None:
        return ""
    if result.error:
        return result.error
    missing = result.missing()
    if missing:
        return "missing " + "; ".join(x.subject for x in missing)
    warnings = [f.message for v in result.variants for f in v.report.findings if f.severity == "warning"]
    return "; ".join(warnings)


def failure_records(exc, context: dict) -> List:
    """The records for an expected failure that ended the command."""
    from ibmi_trust.errors import FixRefused, ProbeError, RolledBack, StoreError

    target, store = context.get("target", ""), context.get("store", "") or "*SYSTEM"
    if isinstance(exc, FixRefused):
        return [m.record(m.FIX_REFUSED, target, exc.message)]
    if isinstance(exc, RolledBack):
        return [m.record(m.ROLLED_BACK, store, exc.message)]
    if isinstance(exc, StoreError):
        return [m.record(m.STORE_FAILED, store, exc.message)]
    if isinstance(exc, ProbeError):
        return [m.record(m.PROBE_FAILED, target, exc.message)]
    return [m.failure_record(exc)]


def write_check_results(path, check, ssl_rc=None) -> None:
    m.write_results(path, check_records(check, ssl_rc))


def write_fix_results(path, fix, ssl_rc=None) -> None:
    m.write_results(path, fix_records(fix, ssl_rc))


def write_verify_results(path, verify, report_path=None) -> None:
    m.write_results(path, verify_records(verify, report_path))
