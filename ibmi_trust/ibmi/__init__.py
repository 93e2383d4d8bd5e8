"""The IBM i side: Db2 for i SQL services, DCM APIs and CL, through one session.

    session.py        IbmiSession: pyodbc to *LOCAL + itoolkit over the same
                      connection (or DirectTransport); query / call_program / run_cl
    failures.py       SQL and XMLSERVICE failures -> IbmiApiError (message id, hint)
    apiparm.py        itoolkit parameter builders for OPM/ILE API calls (ERRC0100)
    sql_text.py       the statements in sql/*.sql, as the package sends them
    keystore_api.py   QYKMIMPK / QYKMEXPK (import / export a store as PKCS#12)
    cert_info.py      QSYS2.CERTIFICATE_INFO rows -> label facts
    pkcs12_import.py  certificates-only PKCS#12 with DCM-readable labels
    password.py       the store password: *NOPWD, env var or owner-only file
    trustlist.py      CERTIFICATE_USAGE_INFO and QycdAddCACertTrust
    sysvals.py        QSSLPCL / QSSLCSL / QSSLCSLCTL
    kdb_backup.py     copies of DEFAULT.KDB/.RDB(/.STH) with retention
    system_store.py   SystemStore: the TrustStore for *SYSTEM and .KDB paths

Nothing here is imported on start-up paths; pyodbc and itoolkit are imported
inside functions only. Spec: shared/reference/ibmi-interfaces.md (cited
by section number as "ref N.N"); see docs/ibmi-backend.md.
"""
