-- Purpose: record one certificate (DER), unless the history holds it already (stored once).
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-merge
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *CHANGE on the table (*OBJOPR, *ADD/*DLT/*READ/*UPD as the statement needs).
-- Typed markers: every parameter marker is CAST to its column's type.
-- A concurrent duplicate (SQL0803) is taken as "already there".
-- Parameters:
--   1  SHA256  the SHA-256 of the DER
--   2  DER  the certificate
MERGE INTO ITRLIB.ITRCERT AS T
USING (VALUES (CAST(? AS CHAR(64)), CAST(? AS BLOB(1M)))) AS S (SHA256, DER)
   ON T.SHA256 = S.SHA256
 WHEN NOT MATCHED THEN INSERT (SHA256, DER) VALUES (S.SHA256, S.DER)
