-- Purpose: the escape message a failed CL command (sql/qcmdexc.sql) left in the job log of
--          this database server job: its message id (CPF9801, CPF2407, ...) and text.
-- IBM doc: https://www.ibm.com/docs/en/ssw_ibm_i_74/rzajq/rzajqudfjobloginfo.htm
-- Authority: none for the current job ('*').
-- Parameters: none.
SELECT MESSAGE_ID, MESSAGE_TEXT
  FROM TABLE(QSYS2.JOBLOG_INFO('*')) AS J
 WHERE MESSAGE_TYPE = 'ESCAPE' AND MESSAGE_ID IS NOT NULL AND MESSAGE_ID NOT LIKE 'SQL%'
 ORDER BY ORDINAL_POSITION DESC
 FETCH FIRST 1 ROW ONLY
