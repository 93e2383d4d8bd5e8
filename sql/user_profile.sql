-- Purpose: does a user profile have PASSWORD(*NONE)? DSN=*LOCAL signs on as the current
--          user (*CURRENT), which fails with CWBSY0003 / SQLSTATE 28000 for such a profile
--          (https://github.com/IBM/ibmi-oss-issues/issues/77); install-objects --job-user
--          and doctor say so before the nightly job finds out.
-- IBM doc: https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqviewuserinfo.htm
-- Authority: *OBJOPR and *READ on the *USRPRF.
-- Parameters:
--   1  AUTHORIZATION_NAME  the user profile, upper case
SELECT AUTHORIZATION_NAME, NO_PASSWORD_INDICATOR, STATUS
  FROM QSYS2.USER_INFO
 WHERE AUTHORIZATION_NAME = CAST(? AS VARCHAR(10))
