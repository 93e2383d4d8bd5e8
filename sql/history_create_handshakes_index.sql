-- Purpose: index of the handshakes by target and time (the window ibmi-trust reads every run).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-create-index
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the library (install-objects runs it); *NONE commitment control: the
--            tables are not journaled (CRTLIB does not journal), and ibmi-trust writes with
--            autocommit (docs/verify-on-your-system.md).
-- Parameters: none.
CREATE INDEX ITRLIB.ITRHSHKIX ON ITRLIB.ITRHSHK (HOST, PORT, PROTOCOL, HANDSHAKE_AT)
