-- Purpose: which certificates make up each chain, in the order the server sent them (stored once).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-create-table
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the library (install-objects runs it); *NONE commitment control: the
--            tables are not journaled (CRTLIB does not journal), and ibmi-trust writes with
--            autocommit (docs/verify-on-your-system.md).
-- Parameters: none.
CREATE TABLE ITRLIB.ITRCHNCRT (
  CHAIN_SHA256 CHAR(64) NOT NULL,
  CERT_POSITION SMALLINT NOT NULL,
  CERT_SHA256 CHAR(64) NOT NULL,
  PRIMARY KEY (CHAIN_SHA256, CERT_POSITION))
