-- Purpose: the registered DCM applications, their certificate store and whether each one
--          keeps its own list of trusted CAs (MANAGED_CA_TRUSTS). When it does, a CA added
--          to *SYSTEM must also be added to that list (QycdAddCACertTrust, --app-id).
-- IBM doc: https://www.ibm.com/support/knowledgecenter/ssw_ibm_i_76/rzajq/rzajqviewcertificateusageinfo.htm
-- Authority: *ALLOBJ and *SECADM. Returns data only when option 34 (DCM) is installed.
-- Parameters: none.
SELECT APPLICATION_ID, APPLICATION_TYPE, DESCRIPTION, CERTIFICATE_STORE, MANAGED_CA_TRUSTS
  FROM QSYS2.CERTIFICATE_USAGE_INFO
 ORDER BY APPLICATION_ID
