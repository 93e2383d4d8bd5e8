-- Purpose: every target in the history, with its number of runs and the last one's time.
-- IBM doc: https://www.ibm.com/docs/en/i/7.5?topic=statements-select
-- Library: ITRLIB stands for the history library (--history db2:LIBRARY); ibmi-trust puts
--          the library name in its place after checking it is one (ibmi_trust/ibmi/sql_text.py).
--          To run it yourself (ACS Run SQL Scripts), replace ITRLIB with your library.
-- Authority: *USE on the table.
-- Parameters: none.
SELECT HOST, PORT, PROTOCOL, COUNT(*) AS RUNS, MAX(STARTED_AT) AS LAST_RUN
  FROM ITRLIB.ITRRUN
 GROUP BY HOST, PORT, PROTOCOL
 ORDER BY HOST, PORT, PROTOCOL
