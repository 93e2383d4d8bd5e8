"""Is an IBM i SQL service on this system? Asked before a newer service is used.

QSYS2.SERVICES_INFO (sql/services_info.sql) lists the IBM i services the
running release and Db2 PTF group provide, with the group level that
introduced each one (IBM: https://www.ibm.com/docs/en/i/7.5.0?topic=services-info-table).
A service that is not listed is not installed: ibmi-trust says which PTF
group brings it instead of failing on SQL0204 halfway through a job.

The Db2 for i PTF groups per release are IBM's (IBM i Services table,
https://www.ibm.com/support/pages/ibm-i-services-sql). Which level brings
CERTIFICATE_USAGE_INFO on 7.4/7.5 is UNCONFIRMED (docs/verify-on-your-system.md);
the message names the group and the page that lists the level.
"""
from ibmi_trust.errors import ConfigError, IbmiApiError

DB2_PTF_GROUPS = "SF99703 on 7.3, SF99704 on 7.4, SF99950 on 7.5, SF99960 on 7.6"
SERVICES_PAGE = "https://www.ibm.com/support/pages/ibm-i-services-sql"


def require(session, service: str, purpose: str) -> dict:
    """The SERVICES_INFO row of QSYS2.`service`; ConfigError naming the PTF group when absent."""
    try:
        rows = session.query("services_info.sql", (service,))
    except IbmiApiError as exc:
        if exc.message_id != "SQL0204":
            raise
        rows = []      # SERVICES_INFO itself is missing: older still than the service
    if not rows:
        raise ConfigError("QSYS2.%s is not on this system, and %s needs it" % (service, purpose),
                          hint="install the current Db2 for i PTF group (%s); %s lists the level that "
                               "brings %s" % (DB2_PTF_GROUPS, SERVICES_PAGE, service))
    return rows[0]
