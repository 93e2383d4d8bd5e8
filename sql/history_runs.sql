-- Purpose: the runs of one target since a time, oldest first.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-select
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *USE on the table.
-- Parameters:
--   1  HOST  the target's host
--   2  PORT  its port
--   3  PROTOCOL  its protocol
--   4  SINCE  the window's start (UTC)
SELECT RUN_ID, STARTED_AT, RUN_COMMAND, HANDSHAKES, ATTEMPTS, RUN_STATUS, STORE_SPEC
  FROM ITRLIB.ITRRUN
 WHERE HOST = CAST(? AS VARCHAR(253)) AND PORT = CAST(? AS INTEGER) AND PROTOCOL = CAST(? AS VARCHAR(16))
   AND STARTED_AT >= CAST(? AS TIMESTAMP)
 ORDER BY STARTED_AT, RUN_ID
