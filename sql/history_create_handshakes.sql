-- Purpose: the history's handshakes: one row per attempt (time in UTC, address, SNI, key-type offer,
--          TLS version, outcome 'ok' or the failure, and the chain's SHA-256 for a success).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-create-table
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the library (install-objects runs it); *NONE commitment control: the
--            tables are not journaled (CRTLIB does not journal), and ibmi-trust writes with
--            autocommit (docs/verify-on-your-system.md).
-- Parameters: none.
CREATE TABLE ITRLIB.ITRHSHK (
  RUN_ID BIGINT NOT NULL,
  HOST VARCHAR(253) NOT NULL,
  PORT INTEGER NOT NULL,
  PROTOCOL VARCHAR(16) NOT NULL,
  HANDSHAKE_AT TIMESTAMP NOT NULL,
  ADDRESS VARCHAR(45) NOT NULL,
  SNI VARCHAR(253),
  KEY_TYPE VARCHAR(8) NOT NULL,
  TLS_VERSION VARCHAR(16),
  OUTCOME VARCHAR(512) NOT NULL,
  CHAIN_SHA256 CHAR(64))
