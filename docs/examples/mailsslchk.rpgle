**free
// MAILSSLCHK: what a mail program does after its TLS start failed.
//
// Example for ibmi-trust (docs/rpg-example.md). A mail program that uses
// GSKit or the SSL_ API calls this with the server and the return code it
// got (for example -23 or 6000). MAILSSLCHK asks ibmi-trust whether the
// server's certificate chain is trusted, imports the missing CA
// certificates when allowed, and tells the caller whether a retry makes
// sense. ibmi-trust puts its findings in the job log (ITRxxxx messages).
//
// Needs the ibmi-trust library (here ITRUST) in the library list.
// Compile: CRTBNDRPG PGM(MYLIB/MAILSSLCHK) SRCSTMF('.../mailsslchk.rpgle')
ctl-opt dftactgrp(*no) actgrp(*caller) option(*srcstmt: *nodebugio);

// ITRSSLERR: the ibmi-trust call for programs (cl/itrsslerr.clle)
dcl-pr ItrSslErr extpgm('ITRSSLERR');
  host char(255) const;
  port packed(5: 0) const;      // 0 = the protocol's default port
  sslRc char(32) const;         // the return code as text, e.g. '-23'
  action char(6) const;         // '*CHECK', '*PLAN' or '*FIX'
  result char(1);               // out: see the RESULT_ constants
  msgId char(7);                // out: ITRxxxx of the outcome (or CPFxxxx)
end-pr;

dcl-c RESULT_TRUSTED '0';       // trusted (or fixed): the cause is elsewhere
dcl-c RESULT_WARNING '1';       // trusted, but something expires soon
dcl-c RESULT_NOT_TRUSTED '2';   // a CA certificate is missing: fixable
dcl-c RESULT_NOT_RUN '3';       // could not check or fix: see the job log

dcl-pi *n;
  mailHost char(255) const;
  mailPort packed(5: 0) const;
  tlsRc int(10) const;          // what gsk_secure_soc_init / SSL_Handshake returned
  mayFix ind const;             // allowed to change *SYSTEM?
  retry ind;                    // out: *on when a new attempt may succeed
  outcome char(7);              // out: message ID for the caller's own log
end-pi;

dcl-s result char(1);

retry = *off;
ItrSslErr(mailHost: mailPort: %char(tlsRc): '*CHECK': result: outcome);

select;
  when result = RESULT_NOT_TRUSTED and mayFix;
    // outcome is ITR0008: import what is missing (backed up, proven by a
    // new handshake, rolled back otherwise)
    ItrSslErr(mailHost: mailPort: %char(tlsRc): '*FIX': result: outcome);
    retry = (result = RESULT_TRUSTED);      // ITR0009 fixed
  when result = RESULT_NOT_TRUSTED;
    // not allowed to fix here: the job log names the missing certificates
    // (ITR0002); an operator runs CHKTLSTRST ... ACTION(*FIX)
  when result = RESULT_TRUSTED or result = RESULT_WARNING;
    // the chain is fine: the return code has another cause.
    // DSPSSLRC CODE(-23) (ibmi-trust explain) lists the likely ones.
  other;
    // RESULT_NOT_RUN: ITR0005 could not probe, ITR0902 no result, or a
    // CPF message when the command itself did not run
endsl;

*inlr = *on;
return;
