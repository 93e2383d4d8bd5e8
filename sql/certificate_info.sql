-- Purpose: every certificate (server and CA) in one certificate store: labels and dates.
--          ibmi-trust joins these rows by label with the certificates exported by QYKMEXPK.
-- IBM doc: https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqudfcertificateinfo.htm
--          (*NOPWD: https://ibm.com/support/pages/node/6156105)
-- Authority: *ALLOBJ and *SECADM special authorities.
-- Parameters:
--   1  CERTIFICATE_STORE_PASSWORD  the store password, or '*NOPWD' to use the stashed password
--   2  CERTIFICATE_STORE           '*SYSTEM' or the IFS path of a .KDB store
-- Typed markers: a parameter marker as a named argument of a table function has no type
--   Db2 for i can infer (SQL0418), so each one is CAST to the type of the argument.
-- Not a store: "If the file name does not identify a certificate store, no rows are
--   returned" (IBM doc above); ibmi-trust says so before it tries an export.
-- Columns: SELECT * on purpose. The documented column list is not pinned yet (UNCONFIRMED;
--   see docs/verify-on-your-system.md); ibmi-trust reads the columns it knows by name
--   (ibmi_trust/ibmi/cert_info.py, CERTIFICATE_INFO_COLUMNS) and reports missing ones.
-- Run it yourself (ACS Run SQL Scripts), e.g.:
--   SELECT * FROM TABLE(QSYS2.CERTIFICATE_INFO(CERTIFICATE_STORE_PASSWORD => '*NOPWD')) AS C
SELECT *
  FROM TABLE(QSYS2.CERTIFICATE_INFO(
         CERTIFICATE_STORE_PASSWORD => CAST(? AS VARCHAR(1024)),
         CERTIFICATE_STORE => CAST(? AS VARCHAR(1024)))) AS C
