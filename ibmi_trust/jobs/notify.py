"""verify --notify MSGQ: tell the operator about WARNING and CRITICAL targets
(IBM i: SNDPGMMSG to QSYSOPR or another message queue)."""
from ibmi_trust.jobs.clresults import verify_records


def operator_records(verify):
    from ibmi_trust.ibmi import messages as m

    return [r for r in verify_records(verify) if r.msgid in m.OPERATOR_MESSAGES]


def notify_operator(verify, msgq: str, session=None) -> int:
    """Send one message per WARNING/CRITICAL target; returns how many."""
    from ibmi_trust.ibmi import messages as m

    records = operator_records(verify)
    if not records:
        return 0
    if session is None:
        from ibmi_trust.ibmi.session import IbmiSession

        session = IbmiSession()      # ConfigError off IBM i
    for rec in records:
        m.notify_operator(session, rec, msgq)
    return len(records)
