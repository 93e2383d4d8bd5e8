/* CHKTLSTRST: Check TLS Trust.                                       */
/* Checks whether this system trusts the certificate chains a mail    */
/* (or HTTPS) server sends, and with ACTION(*FIX) imports the         */
/* missing CA certificates. Processing program: ITRCHKC.              */
/* F1 help: panel group ITRHELP. Runs: ibmi-trust check / fix.        */
/* HISTORY: a library name (the Db2 for i history tables, --history   */
/* db2:LIB) or a path starting with / (an SQLite file).               */
             CMD        PROMPT('Check TLS Trust')
             PARM       KWD(HOST) TYPE(*CHAR) LEN(255) MIN(1) +
                          CASE(*MIXED) PROMPT('Host name or address')
             PARM       KWD(PORT) TYPE(*DEC) LEN(5 0) DFT(*PROTOCOL) +
                          RANGE(0 65535) SPCVAL((*PROTOCOL 0)) +
                          PROMPT('Port')
             PARM       KWD(PROTOCOL) TYPE(*CHAR) LEN(11) RSTD(*YES) +
                          DFT(*PORT) VALUES(*PORT *SMTP *SUBMISSION +
                          *SMTPS *IMAP *IMAPS *POP3 *POP3S *HTTPS) +
                          PROMPT('Protocol')
             PARM       KWD(ACTION) TYPE(*CHAR) LEN(6) RSTD(*YES) +
                          DFT(*CHECK) VALUES(*CHECK *PLAN *FIX) +
                          PROMPT('Action')
             PARM       KWD(STORE) TYPE(*CHAR) LEN(256) DFT(*SYSTEM) +
                          SPCVAL((*SYSTEM)) CASE(*MIXED) +
                          PROMPT('Certificate store')
             PARM       KWD(SSLRC) TYPE(*CHAR) LEN(32) DFT(*NONE) +
                          SPCVAL((*NONE)) +
                          PROMPT('Return code the program got')
             PARM       KWD(APPID) TYPE(*CHAR) LEN(100) DFT(*NONE) +
                          SPCVAL((*NONE)) PMTCTL(FIXONLY) +
                          PROMPT('Application ID')
             PARM       KWD(WARNDAYS) TYPE(*DEC) LEN(5 0) DFT(*DFT) +
                          RANGE(0 3650) SPCVAL((*DFT -1)) +
                          PMTCTL(CHECKONLY) +
                          PROMPT('Warn days before expiry')
             PARM       KWD(TRUSTROOT) TYPE(*CHAR) LEN(95) DFT(*NONE) +
                          SNGVAL((*NONE)) MAX(5) CASE(*MIXED) +
                          PMTCTL(FIXONLY) +
                          PROMPT('Approved root SHA-256')
             PARM       KWD(FROM) TYPE(*PNAME) LEN(256) DFT(*NONE) +
                          SPCVAL((*NONE)) CASE(*MIXED) PMTCTL(FIXONLY) +
                          PROMPT('Certificates from file')
             PARM       KWD(FETCH) TYPE(*CHAR) LEN(4) RSTD(*YES) +
                          DFT(*YES) VALUES(*YES *NO) PMTCTL(FIXONLY) +
                          PROMPT('Fetch missing certificates')
             PARM       KWD(PARTIAL) TYPE(*CHAR) LEN(4) RSTD(*YES) +
                          DFT(*NO) VALUES(*NO *YES) PMTCTL(FIXONLY) +
                          PROMPT('Fix the fixable chains only')
             PARM       KWD(PROOF) TYPE(*CHAR) LEN(6) RSTD(*YES) +
                          DFT(*DFT) VALUES(*DFT *GSKIT *MODEL) +
                          PROMPT('Judge and prove with')
             PARM       KWD(HISTORY) TYPE(*PNAME) LEN(256) DFT(*DFT) +
                          SPCVAL((*DFT) (*NONE)) CASE(*MIXED) +
                          PROMPT('History library or file')
 CHECKONLY:  PMTCTL     CTL(ACTION) COND((*EQ *CHECK))
 FIXONLY:    PMTCTL     CTL(ACTION) COND((*NE *CHECK))
