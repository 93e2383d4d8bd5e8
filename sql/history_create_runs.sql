-- Purpose: the history's runs: one row per probe of one target (check, fix, one target of verify).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-create-table
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the library (install-objects runs it); *NONE commitment control: the
--            tables are not journaled (CRTLIB does not journal), and ibmi-trust writes with
--            autocommit (docs/verify-on-your-system.md).
-- Parameters: none.
CREATE TABLE ITRLIB.ITRRUN (
  RUN_ID BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1) NOT NULL PRIMARY KEY,
  HOST VARCHAR(253) NOT NULL,
  PORT INTEGER NOT NULL,
  PROTOCOL VARCHAR(16) NOT NULL,
  STARTED_AT TIMESTAMP NOT NULL,
  RUN_COMMAND VARCHAR(16) NOT NULL,
  HANDSHAKES INTEGER NOT NULL,
  ATTEMPTS INTEGER NOT NULL,
  RUN_STATUS VARCHAR(8) NOT NULL,
  STORE_SPEC VARCHAR(1024) NOT NULL)
