-- Purpose: record one handshake of a run.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-insert
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the table (*OBJOPR, *ADD/*DLT/*READ/*UPD as the statement needs).
-- Typed markers: every parameter marker is CAST to its column's type.
-- Parameters:
--   1  RUN_ID  the run (history_insert_run.sql)
--   2  HOST  the target's host
--   3  PORT  its port
--   4  PROTOCOL  its protocol
--   5  HANDSHAKE_AT  when (UTC)
--   6  ADDRESS  the address connected to
--   7  SNI  the name sent (null: no SNI)
--   8  KEY_TYPE  ecdsa, rsa or system (the offer)
--   9  TLS_VERSION  the version negotiated (null for a failure)
--   10  OUTCOME  'ok', or why it failed
--   11  CHAIN_SHA256  the chain captured (null for a failure)
INSERT INTO ITRLIB.ITRHSHK (RUN_ID, HOST, PORT, PROTOCOL, HANDSHAKE_AT, ADDRESS, SNI, KEY_TYPE, TLS_VERSION,
                            OUTCOME, CHAIN_SHA256)
VALUES (CAST(? AS BIGINT), CAST(? AS VARCHAR(253)), CAST(? AS INTEGER), CAST(? AS VARCHAR(16)),
        CAST(? AS TIMESTAMP), CAST(? AS VARCHAR(45)), CAST(? AS VARCHAR(253)), CAST(? AS VARCHAR(8)),
        CAST(? AS VARCHAR(16)), CAST(? AS VARCHAR(512)), CAST(? AS CHAR(64)))
