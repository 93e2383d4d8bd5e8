-- Purpose: the System TLS protocol and cipher-suite system values (QSSLPCL, QSSLCSL,
--          QSSLCSLCTL), to compare the package's own probe with what IBM i offers.
-- IBM doc: https://ibm.com/support/knowledgecenter/ssw_ibm_i_75/rzajq/rzajqviewsysvalinfo.htm
--          QSSLPCL: https://ibm.com/support/knowledgecenter/ssw_ibm_i_73/rzakz/rzakzqsslpcl.htm
--          QSSLCSLCTL: https://www.ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzarl/rzarlqsslcslctl.htm
-- Authority: none beyond *USE on the view.
-- Parameters: none.
SELECT SYSTEM_VALUE_NAME, CURRENT_CHARACTER_VALUE
  FROM QSYS2.SYSTEM_VALUE_INFO
 WHERE SYSTEM_VALUE_NAME IN ('QSSLPCL', 'QSSLCSL', 'QSSLCSLCTL')
