-- Purpose: one run by its RUN_ID, with its target.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-select
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *USE on the table.
-- Parameters:
--   1  RUN_ID  the run
SELECT HOST, PORT, PROTOCOL, RUN_ID, STARTED_AT, RUN_COMMAND, HANDSHAKES, ATTEMPTS, RUN_STATUS, STORE_SPEC
  FROM ITRLIB.ITRRUN
 WHERE RUN_ID = CAST(? AS BIGINT)
