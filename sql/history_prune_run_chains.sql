-- Purpose: retention, step 2: the verdicts of runs started before a time.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-delete
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the tables.
-- Retention: ibmi-trust deletes what is older than --history-retention days (90 by
--   default), in this order: handshakes, run verdicts, runs, then chains and certificates
--   no handshake or verdict refers to any more.
-- Parameters:
--   1  BEFORE  the retention limit (UTC): runs started earlier go
DELETE FROM ITRLIB.ITRRUNCHN
 WHERE RUN_ID IN (SELECT RUN_ID FROM ITRLIB.ITRRUN WHERE STARTED_AT < CAST(? AS TIMESTAMP))
