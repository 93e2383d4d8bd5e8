"""GSKit itself as referee of the GSKit model (*SYSTEM and .KDB stores): the
counterpart of referee.settle() for OpenSSL.

`answer` is what GSKit's own handshakes (GSKPROBE, ibmi_trust.ibmi.gskprobe)
said about one chain: {"decision": "accepts" | "rejects" | None, "words": its
code in words, "gsk": the code described, "store": ..., "reason": why there
is no decision, ...}. GSKit's answer
decides the path verdict; both answers stay in the report (`referee` holds
GSKit's, with `model_verdict`), so users' reports calibrate the model. GSKit
checks no host name here: a name-mismatch finding stays as Python found it.
"""
from ibmi_trust.analyse.model import CRITICAL, INFO, TRUSTED, UNCONFIRMED, UNTRUSTED, WARNING, Finding

NAME_FINDING = "name-mismatch"


def settle_gskit(report, answer: dict) -> None:
    model_verdict = report.verdict
    report.referee = dict(answer, model_verdict=model_verdict)
    decision = answer.get("decision")
    leaf = report.path[0] if report.path else None
    subject, sha = (leaf.subject, leaf.sha256) if leaf is not None else ("", None)
    if decision not in ("accepts", "rejects"):
        report.findings.append(Finding("gskit-no-verdict", WARNING, "GSKit's own handshakes gave no verdict on "
                                       "this chain (%s); the verdict is the GSKit model's"
                                       % (answer.get("reason") or "not met"), subject, sha,
                                       {"gskit": dict(answer)}))
        return
    report.decided_by = "gskit"
    model_accepts = model_verdict in (TRUSTED, UNCONFIRMED)
    if decision == "accepts":
        report.verdict = TRUSTED
        if model_accepts:
            for finding in report.findings:
                if finding.code == "ca-state-unknown":
                    finding.severity = INFO
                    finding.message += " (GSKit trusted the chain, so the CA is enabled)"
            return
        report.to_add, report.missing = [], []
        for finding in report.findings:
            if finding.severity == CRITICAL and finding.code != NAME_FINDING:
                finding.severity = INFO
        report.findings.insert(0, Finding("gskit-disagrees", INFO, "GSKit accepts this chain; the GSKit model "
                                          "expected it to be %s: GSKit's answer decides (please report this: it "
                                          "calibrates the model)" % model_verdict, subject, sha,
                                          {"gskit": dict(answer), "model": model_verdict}))
        return
    if model_accepts:
        report.verdict = UNTRUSTED
        report.to_add = []
        why = ""
        if str(answer.get("store", "")).startswith("app:"):
            why = ("; the application's CA trust list may leave the CA out (`ibmi-trust store trust --app-id %s`)"
                   % answer["store"][4:])
        elif model_verdict == UNCONFIRMED:
            why = "; the CA may be disabled (DCM: Manage Certificates > Set CA status)"
        report.findings.insert(0, Finding("gskit-disagrees", CRITICAL, "GSKit rejects this chain: %s; the GSKit "
                                          "model expected it to be trusted: GSKit's answer decides%s (please "
                                          "report this)" % (answer.get("words") or "no code", why),
                                          subject, sha, {"gskit": dict(answer), "model": model_verdict}))
