-- Purpose: record one position of a chain, unless another run already did (stored once).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-merge
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the table (*OBJOPR, *ADD/*DLT/*READ/*UPD as the statement needs).
-- Typed markers: every parameter marker is CAST to its column's type.
-- Two writers may both find it missing: the second insert fails with SQL0803 (duplicate
--   key), which ibmi-trust takes as "already there".
-- Parameters:
--   1  CHAIN_SHA256  the chain (SHA-256 of its certificates' DER, in order)
--   2  CERT_POSITION  0 for the server certificate, 1 for the next, ...
--   3  CERT_SHA256  the certificate at that position
MERGE INTO ITRLIB.ITRCHNCRT AS T
USING (VALUES (CAST(? AS CHAR(64)), CAST(? AS SMALLINT), CAST(? AS CHAR(64))))
      AS S (CHAIN_SHA256, CERT_POSITION, CERT_SHA256)
   ON T.CHAIN_SHA256 = S.CHAIN_SHA256 AND T.CERT_POSITION = S.CERT_POSITION
 WHEN NOT MATCHED THEN INSERT (CHAIN_SHA256, CERT_POSITION, CERT_SHA256)
                       VALUES (S.CHAIN_SHA256, S.CERT_POSITION, S.CERT_SHA256)
