"""--ssl-rc CODE: do the check's findings explain the code the program saw?

The code is resolved with the explainer (ibmi_trust.explain); its category in
ssl-return-codes.csv decides which findings would cause it:
  trust         a chain that does not reach a trusted anchor (-23, 6000, 8, ...)
  expiry codes  an expired or not-yet-valid certificate on a path (-24, 107, 401)
anything else is not a trust-store problem, and the answer says so.
"""
from typing import List

EXPIRY_FINDINGS = {"leaf-expired", "leaf-not-yet-valid", "ca-expired-in-store", "expired", "not-yet-valid"}


def _is_expiry(code) -> bool:
    return "EXPIRED" in code.constant or "BAD_DATE" in code.constant or "NOT_YET_VALID" in code.constant


def explain_findings(code_text: str, check) -> dict:
    from ibmi_trust.explain.lookup import UnknownCode, explain

    try:
        explanation = explain(code_text)
    except UnknownCode as exc:
        return {"code": code_text, "explained": None, "codes": [], "constant": "",
                "text": "--ssl-rc %s: %s" % (code_text, exc.reason)}
    code = explanation.candidates[0]
    failing = [v for v in check.variants if v.report.verdict != "trusted"]
    finding_codes = {f.code for v in check.variants for f in v.report.findings}
    reasons: List[str] = []
    if _is_expiry(code):
        hits = sorted(finding_codes & EXPIRY_FINDINGS)
        reasons = ["finding %s" % h for h in hits]
    elif code.category == "trust":
        for v in failing:
            missing = ", ".join(m.subject for m in v.report.missing) or "no trusted anchor"
            reasons.append("chain %d (%.0f%% of connections) does not verify: %s" % (v.index, 100 * v.variant.share, missing))
    explained = bool(reasons)
    label = code.label()
    if explained:
        text = "%s is explained by the findings: %s." % (label, "; ".join(reasons))
        if code.category == "trust":
            text += " Importing the missing certificates (fix) removes the cause."
    elif code.category in ("trust",) or _is_expiry(code):
        text = ("%s is NOT explained: every chain seen verifies against %s. Check the program's DCM application "
                "ID and its CA trust list, and the chain variants it may meet (more --rounds)." % (label, check.store_spec))
    else:
        text = ("%s is a %s problem, not a missing CA: see `ibmi-trust explain %s`." % (label, code.category, code_text))
    return {"code": code_text, "explained": explained, "codes": [c.label() for c in explanation.candidates],
            "constant": code.constant, "text": text}
