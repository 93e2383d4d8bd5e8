/* VFYTLSTRST: Verify TLS Trust, the nightly check.                   */
/* Checks every target of a configuration file; each CRITICAL,        */
/* WARNING or UNKNOWN target gets a *DIAG message, WARNING and        */
/* CRITICAL ones also go to the message queue MSGQ. REPORT keeps the  */
/* JSON report. HISTORY as on CHKTLSTRST: *DFT, *NONE, a library or   */
/* a path starting with / (--history db2:LIB or --history PATH).      */
/* Processing program: ITRVFYC. Runs: ibmi-trust verify.             */
             CMD        PROMPT('Verify TLS Trust')
             PARM       KWD(CFG) TYPE(*PNAME) LEN(256) MIN(1) +
                          CASE(*MIXED) PROMPT('Configuration file')
             PARM       KWD(MSGQ) TYPE(QUALMSGQ) DFT(QSYSOPR) +
                          SNGVAL((*NONE)) +
                          PROMPT('Message queue for problems')
             PARM       KWD(REPORT) TYPE(*PNAME) LEN(256) DFT(*NONE) +
                          SPCVAL((*NONE)) CASE(*MIXED) +
                          PROMPT('JSON report file')
             PARM       KWD(HISTORY) TYPE(*PNAME) LEN(256) DFT(*DFT) +
                          SPCVAL((*DFT) (*NONE)) CASE(*MIXED) +
                          PROMPT('History library or file')
 QUALMSGQ:   QUAL       TYPE(*NAME) LEN(10)
             QUAL       TYPE(*NAME) LEN(10) DFT(*LIBL) +
                          SPCVAL((*LIBL)) PROMPT('Library')
