"""verify --notify MSGQ: tell the operator about WARNING and CRITICAL targets
(IBM i: SNDPGMMSG to QSYSOPR or another message queue, with the message file
qualified by the install library: ibmi_trust.ibmi.install_record)."""
from ibmi_trust.jobs.clresults import verify_records


def operator_records(verify):
    from ibmi_trust.ibmi import messages as m

    return [r for r in verify_records(verify) if r.msgid in m.OPERATOR_MESSAGES]


def message_library(library: str = "") -> str:
    """The library of ITRMSGF, resolved before any probing so that a missing one
    fails the run at once (--library, IBMI_TRUST_LIBRARY, the install record)."""
    from ibmi_trust.ibmi import install_record

    return install_record.library(library)


def notify_operator(verify, msgq: str, session=None, library: str = "") -> int:
    """Send one message per WARNING/CRITICAL target; returns how many."""
    from ibmi_trust.ibmi import messages as m

    records = operator_records(verify)
    if not records:
        return 0
    library = message_library(library)
    if session is None:
        from ibmi_trust.ibmi.session import IbmiSession

        session = IbmiSession()      # ConfigError off IBM i
    for rec in records:
        m.notify_operator(session, rec, msgq, library)
    return len(records)
