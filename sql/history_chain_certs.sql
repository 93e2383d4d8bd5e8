-- Purpose: the certificates of one chain (DER), in the order the server sent them.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-select
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *USE on the table.
-- Parameters:
--   1  CHAIN_SHA256  the chain
SELECT CC.CERT_POSITION, C.DER
  FROM ITRLIB.ITRCHNCRT CC JOIN ITRLIB.ITRCERT C ON C.SHA256 = CC.CERT_SHA256
 WHERE CC.CHAIN_SHA256 = CAST(? AS CHAR(64))
 ORDER BY CC.CERT_POSITION
