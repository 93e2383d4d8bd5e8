"""An Explanation as text (for people), as a dict (for --json) and as IBM i
message records (for the DSPSSLRC command's job log)."""
from ibmi_trust.explain.advice import advice_for
from ibmi_trust.explain.codes import ReturnCode, table
from ibmi_trust.explain.lookup import Explanation
from ibmi_trust.explain.wrapping import wrap

JSON_SCHEMA_VERSION = 1


def _twins(code: ReturnCode):
    return table().twins.get(code.key, [])


def candidate_dict(code: ReturnCode, likelier: bool) -> dict:
    advice = advice_for(code)
    return {
        "api": code.api,
        "code": code.code,
        "family": code.family,
        "constant": code.constant,
        "aliases": list(code.aliases),
        "message_id": code.message_id or None,
        "category": code.category,
        "meaning": code.meaning,
        "likely_cause": advice.cause,
        "remedy": advice.remedy,
        "commands": list(advice.commands),
        "ibm_i_steps": code.ibm_steps,
        "counterparts": [{"api": t.code.api, "code": t.code.code, "constant": t.code.constant,
                          "confirmed": t.confirmed} for t in _twins(code)],
        "source": code.source,
        "notes": code.notes,
        "likelier": likelier,
    }


def to_dict(explanation: Explanation) -> dict:
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "kind": "explain",
        "query": explanation.query,
        "matched_by": explanation.matched_by,
        "note": explanation.note or None,
        "candidates": [candidate_dict(code, i == 0 and explanation.ranked)
                       for i, code in enumerate(explanation.candidates)],
    }


def _wrap(label: str, text: str, width: int = 100) -> "list[str]":
    lines = wrap(text, width - 16) or [""]
    return ["  %-13s %s" % (label, lines[0])] + ["  %-13s %s" % ("", line) for line in lines[1:]]


def to_text(explanation: Explanation) -> str:
    out = []
    if explanation.note:
        out += wrap(explanation.note, 100) + [""]
    for i, code in enumerate(explanation.candidates):
        advice = advice_for(code)
        head = "%s %d  %s" % (code.api, code.code, code.constant)
        if explanation.ranked:
            head += "  (likelier reading)" if i == 0 else "  (other reading)"
        out.append(head)
        out += _wrap("API:", code.family)
        out += _wrap("Message ID:", code.message_id or "not recorded (docs/explain.md: how to look it up)")
        if code.aliases:
            out += _wrap("Also named:", ", ".join(code.aliases))
        out += _wrap("Meaning:", code.meaning)
        out += _wrap("Likely cause:", "(mail/STARTTLS) " + advice.cause)
        out += _wrap("Remedy:", advice.remedy)
        for command in advice.commands:
            out.append("  %-13s %s" % ("", "-> " + command))
        out += _wrap("IBM i steps:", code.ibm_steps)
        for twin in _twins(code):
            how = "confirmed" if twin.confirmed else "inferred from the names"
            out += _wrap("Counterpart:", "%s (%s)" % (twin.code.label(), how))
        out += _wrap("Source:", code.source)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_records(explanation: Explanation) -> list:
    """CODE_MEANING per reading, then CODE_EXPLAINED."""
    from ibmi_trust.ibmi import messages

    records = []
    for code in explanation.candidates:
        advice = advice_for(code)
        records.append(messages.record(
            messages.CODE_MEANING, code.api, str(code.code), code.constant, code.meaning,
            code.message_id or "-", code.family, advice.cause, advice.remedy, code.ibm_steps))
    first = explanation.candidates[0]
    if explanation.ranked:
        summary = "%d readings, likelier %s" % (len(explanation.candidates), first.label())
    elif explanation.ambiguous:
        summary = "%d codes: %s" % (len(explanation.candidates), ", ".join(c.label() for c in explanation.candidates))
    else:
        summary = "%s: %s" % (first.label(), first.meaning.rstrip("."))
    records.append(messages.record(messages.CODE_EXPLAINED, explanation.query, summary, explanation.note))
    return records


def unknown_records(query: str, reason: str) -> list:
    from ibmi_trust.ibmi import messages

    return [messages.record(messages.CODE_UNKNOWN, query, reason)]
