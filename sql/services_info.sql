-- Purpose: is an IBM i service (e.g. CERTIFICATE_USAGE_INFO) on this system, and since
--          which Db2 PTF group level; checked before the service is used.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5.0?topic=services-info-table
-- Authority: *EXECUTE on QSYS2, *OBJOPR and *READ on QSYS2/SERV_INFO.
-- Parameters:
--   1  SERVICE_NAME  the service, e.g. 'CERTIFICATE_USAGE_INFO' (schema QSYS2)
SELECT SERVICE_NAME, SQL_OBJECT_TYPE, EARLIEST_POSSIBLE_RELEASE,
       INITIAL_DB2_GROUP_LEVEL, LATEST_DB2_GROUP_LEVEL
  FROM QSYS2.SERVICES_INFO
 WHERE SERVICE_SCHEMA_NAME = 'QSYS2' AND SERVICE_NAME = CAST(? AS VARCHAR(128))
