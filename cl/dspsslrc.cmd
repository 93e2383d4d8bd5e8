/* DSPSSLRC: Display SSL Return Code.                                 */
/* Explains an SSL_ or GSKit return code, constant name or IBM       */
/* message ID: one *DIAG message per reading (F1 shows the meaning,  */
/* likely cause and remedy), then a *COMP message.                    */
/* Processing program: ITRDSPC. Runs: ibmi-trust explain.            */
             CMD        PROMPT('Display SSL Return Code')
             PARM       KWD(CODE) TYPE(*CHAR) LEN(32) MIN(1) +
                          PROMPT('Return code, constant or msg ID')
