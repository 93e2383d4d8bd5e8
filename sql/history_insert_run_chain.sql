-- Purpose: record the verdict one chain got in a run.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-insert
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the table (*OBJOPR, *ADD/*DLT/*READ/*UPD as the statement needs).
-- Typed markers: every parameter marker is CAST to its column's type.
-- Parameters:
--   1  RUN_ID  the run
--   2  CHAIN_SHA256  the chain
--   3  VERDICT  trusted, fixable, untrusted or unconfirmed
--   4  FROM_HISTORY  1 when the chain was judged from the history (not seen in that run), else 0
INSERT INTO ITRLIB.ITRRUNCHN (RUN_ID, CHAIN_SHA256, VERDICT, FROM_HISTORY)
VALUES (CAST(? AS BIGINT), CAST(? AS CHAR(64)), CAST(? AS VARCHAR(16)), CAST(? AS SMALLINT))
