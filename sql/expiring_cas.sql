-- Purpose: certificates in *SYSTEM that expire within 90 days (or have expired), soonest first.
--          For operators; ibmi-trust runs it for `expiring_certificates()` and its tests.
--          CERTIFICATE_INFO has no attested column that tells CA from server certificates
--          (UNCONFIRMED), so every certificate of the store is listed; CAs are what *SYSTEM
--          mostly holds. Change 90 DAYS to taste.
-- IBM doc: https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqudfcertificateinfo.htm
--          (IBM's own expiry example uses '*NOPWD' and VALIDITY_END < CURRENT DATE + 1 MONTH)
-- Authority: *ALLOBJ and *SECADM; *NOPWD needs 7.4 SF99704 level 13 / 7.3 SF99703 level 24.
-- Parameters: none.
SELECT CERTIFICATE_LABEL, VALIDITY_START, VALIDITY_END
  FROM TABLE(QSYS2.CERTIFICATE_INFO(CERTIFICATE_STORE_PASSWORD => '*NOPWD')) AS C
 WHERE VALIDITY_END < CURRENT TIMESTAMP + 90 DAYS
 ORDER BY VALIDITY_END
