"""The IBM i side: Db2 for i SQL services, DCM APIs and CL, through one session.

    session.py        IbmiSession: pyodbc to *LOCAL; CL via QSYS2.QCMDEXC; itoolkit
                      over the same connection (or DirectTransport) for API calls
    failures.py       SQL and XMLSERVICE failures -> IbmiApiError (message id, hint)
    apiparm.py        itoolkit parameter builders for OPM/ILE API calls (ERRC0100)
    sql_text.py       the statements in sql/*.sql, as the package sends them
    keystore_api.py   QYKMIMPK / QYKMEXPK (import / export a store as PKCS#12)
    cert_info.py      QSYS2.CERTIFICATE_INFO rows -> label facts
    pkcs12_import.py  certificates-only PKCS#12 with DCM-readable labels
    password.py       the store password: *NOPWD, env var or owner-only file
    trustlist.py      CERTIFICATE_USAGE_INFO and QycdAddCACertTrust
    trust_check.py    QycdCheckCACertTrust (via ITRCATRST) and the add-or-not rule
    services.py       QSYS2.SERVICES_INFO: is a service there, which PTF group
    tls_attributes.py QsoRtvTLSA for --like-system, else the system values
    install_record.py the library install-objects used, for every entry point
    doctor.py         `ibmi-trust doctor`: each prerequisite with its fix
    sysvals.py        QSSLPCL / QSSLCSL / QSSLCSLCTL
    kdb_backup.py     copies of DEFAULT.KDB/.RDB(/.STH) with retention
    system_store.py   SystemStore: the TrustStore for *SYSTEM and .KDB paths

Nothing here is imported on start-up paths; pyodbc and itoolkit are imported
inside functions only. Spec: shared/reference/ibmi-interfaces.md (cited
by section number as "ref N.N"); see docs/ibmi-backend.md.
"""
