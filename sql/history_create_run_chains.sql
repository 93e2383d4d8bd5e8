-- Purpose: the verdict each chain got in a run (FROM_HISTORY 1: judged from the history, not seen that run).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-create-table
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the library (install-objects runs it); *NONE commitment control: the
--            tables are not journaled (CRTLIB does not journal), and ibmi-trust writes with
--            autocommit (docs/verify-on-your-system.md).
-- Parameters: none.
CREATE TABLE ITRLIB.ITRRUNCHN (
  RUN_ID BIGINT NOT NULL,
  CHAIN_SHA256 CHAR(64) NOT NULL,
  VERDICT VARCHAR(16) NOT NULL,
  FROM_HISTORY SMALLINT NOT NULL,
  PRIMARY KEY (RUN_ID, CHAIN_SHA256))
