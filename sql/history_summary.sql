-- Purpose: the handshakes of one target since a time, grouped by chain x address x SNI x key type
--          (CHAIN_SHA256 null: failed attempts): what check, fix, verify and history read.
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
SELECT CHAIN_SHA256, ADDRESS, SNI, KEY_TYPE, COUNT(*) AS HANDSHAKES,
       MIN(HANDSHAKE_AT) AS FIRST_AT, MAX(HANDSHAKE_AT) AS LAST_AT
  FROM ITRLIB.ITRHSHK
 WHERE HOST = CAST(? AS VARCHAR(253)) AND PORT = CAST(? AS INTEGER) AND PROTOCOL = CAST(? AS VARCHAR(16))
   AND HANDSHAKE_AT >= CAST(? AS TIMESTAMP)
 GROUP BY CHAIN_SHA256, ADDRESS, SNI, KEY_TYPE
