-- Purpose: record one run and return the RUN_ID Db2 gave it.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-insert (FINAL TABLE: https://www.ibm.com/docs/en/i/7.5?topic=clause-table-reference)
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the table (*OBJOPR, *ADD/*DLT/*READ/*UPD as the statement needs).
-- Typed markers: every parameter marker is CAST to its column's type.
-- Parameters:
--   1  HOST  the target's host name (or address)
--   2  PORT  its port
--   3  PROTOCOL  smtp, submission, smtps, imap, ...
--   4  STARTED_AT  when the run started (UTC)
--   5  RUN_COMMAND  check, fix or verify
--   6  HANDSHAKES  successful handshakes
--   7  ATTEMPTS  handshakes attempted
--   8  RUN_STATUS  OK, WARNING, CRITICAL or UNKNOWN
--   9  STORE_SPEC  the store the chains were judged against
SELECT RUN_ID FROM FINAL TABLE (
  INSERT INTO ITRLIB.ITRRUN (HOST, PORT, PROTOCOL, STARTED_AT, RUN_COMMAND, HANDSHAKES, ATTEMPTS, RUN_STATUS,
                             STORE_SPEC)
  VALUES (CAST(? AS VARCHAR(253)), CAST(? AS INTEGER), CAST(? AS VARCHAR(16)), CAST(? AS TIMESTAMP),
          CAST(? AS VARCHAR(16)), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS VARCHAR(8)),
          CAST(? AS VARCHAR(1024))))
