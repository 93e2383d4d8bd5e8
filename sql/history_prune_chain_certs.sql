-- Purpose: retention, step 4: chains no handshake and no verdict refers to any more.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-delete
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the tables.
-- Retention: ibmi-trust deletes what is older than --history-retention days (90 by
--   default), in this order: handshakes, run verdicts, runs, then chains and certificates
--   no handshake or verdict refers to any more.
-- Parameters: none.
DELETE FROM ITRLIB.ITRCHNCRT
 WHERE CHAIN_SHA256 NOT IN (SELECT CHAIN_SHA256 FROM ITRLIB.ITRHSHK WHERE CHAIN_SHA256 IS NOT NULL)
   AND CHAIN_SHA256 NOT IN (SELECT CHAIN_SHA256 FROM ITRLIB.ITRRUNCHN)
