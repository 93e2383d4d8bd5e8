"""Turn what an operator has in hand into return codes.

Accepted forms (case does not matter):
  -23, +6000, 6000      a number; IBM's convention: negative = SSL_ API,
                        positive = GSKit
  23, RC(23), rc=23     an unsigned number may be either: some products log
                        the absolute value, and "RC(23)" in a product log is
                        usually SSL_ -23. Both readings are returned, the
                        likelier first (RC(..) form: SSL_; bare number:
                        GSKit, IBM's sign convention)
  SSL_ERROR_NOT_TRUSTED_ROOT, GSK_OS400_ERROR_NOT_TRUSTED_ROOT
                        a constant, current or older name
  CPDBC84               an IBM message ID (may belong to several codes)
"""
import re
from dataclasses import dataclass
from typing import List, Optional

from ibmi_trust.explain.codes import GSKIT_API, SSL_API, CodeTable, ReturnCode, table

_NUMBER_RE = re.compile(r"^(?P<rc>RC\s*[(=:]?\s*)?(?P<num>[+-]?\d{1,9})\s*\)?$", re.IGNORECASE)
_MESSAGE_ID_RE = re.compile(r"^[A-Z]{3}[0-9A-F]{4}$")
_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")


class UnknownCode(LookupError):
    def __init__(self, query: str, reason: str):
        super().__init__(reason)
        self.query = query
        self.reason = reason


@dataclass
class Explanation:
    query: str
    candidates: List[ReturnCode]
    note: str = ""                    # why several, or why the other sign was used
    matched_by: str = ""              # "code", "absolute value", "constant", "alias", "message ID"
    ranked: bool = False              # several candidates, the first is the likelier reading

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def explain(query: str, codes: Optional[CodeTable] = None) -> Explanation:
    """The codes `query` stands for; UnknownCode when it names none."""
    codes = codes or table()
    text = " ".join(str(query).split())
    if not text:
        raise UnknownCode(query, "no return code given")
    number = _NUMBER_RE.match(text)
    if number:
        return _by_number(text, number, codes)
    upper = text.upper()
    if upper.startswith("ITR") and _MESSAGE_ID_RE.match(upper):
        raise UnknownCode(query, "%s is an ibmi-trust message, not a TLS return code: docs/messages.md "
                                 "describes it (DSPMSGD RANGE(%s) MSGF(ITRMSGF) shows its text)" % (upper, upper))
    if _MESSAGE_ID_RE.match(upper) and not upper.startswith(("SSL", "GSK")):
        rows = codes.by_message_id.get(upper)
        if not rows:
            raise UnknownCode(query, "%s is not the message ID of any SSL_ or GSKit return code on record"
                                     " (docs/explain.md says how to look it up with DSPMSGD)" % upper)
        note = ""
        if len(rows) > 1:
            note = "IBM uses %s for %d codes; the message ID alone cannot tell which." % (upper, len(rows))
        return Explanation(text, rows, note, "message ID")
    if _NAME_RE.match(upper):
        row = codes.by_name.get(upper)
        if row is None:
            raise UnknownCode(query, "%s is not a known SSL_ or GSKit constant" % upper)
        if row.constant == upper:
            return Explanation(text, [row], "", "constant")
        return Explanation(text, [row], "%s is an older name of %s." % (upper, row.constant), "alias")
    raise UnknownCode(query, "%r is neither a return code, a constant name nor a message ID" % text)


def _by_number(text: str, match, codes: CodeTable) -> Explanation:
    digits = match.group("num")
    value = int(digits)
    rc_form = bool(match.group("rc"))
    if digits.startswith("-"):
        exact, other = codes.get(SSL_API, value), codes.get(GSKIT_API, -value)
        return _signed(text, value, exact, other, "SSL_", "GSKit")
    if digits.startswith("+"):
        exact, other = codes.get(GSKIT_API, value), codes.get(SSL_API, -value)
        return _signed(text, value, exact, other, "GSKit", "SSL_")
    gskit, ssl = codes.get(GSKIT_API, value), codes.get(SSL_API, -value)
    if gskit and ssl:
        first, second = (ssl, gskit) if rc_form else (gskit, ssl)
        why = ("in product logs RC(%d) is usually the SSL_ code without its sign" % value if rc_form
               else "IBM writes SSL_ codes negative, so a positive number is read as GSKit first")
        note = ("%d can be GSKit %d or SSL_ %d (some products log the absolute value); likelier: %s %d, "
                "because %s." % (value, value, -value, first.api, first.code, why))
        return Explanation(text, [first, second], note, "absolute value", ranked=True)
    if ssl:
        return Explanation(text, [ssl], "No GSKit code %d exists; read as SSL_ %d (products that log the "
                                        "absolute value write it without the sign)." % (value, -value),
                           "absolute value")
    if gskit:
        return Explanation(text, [gskit], "", "code")
    raise UnknownCode(text, "%d is not a known SSL_ or GSKit return code" % value)


def _signed(text, value, exact, other, exact_api, other_api) -> Explanation:
    if exact:
        return Explanation(text, [exact], "", "code")
    if other:
        return Explanation(text, [other], "No %s code %d exists; shown: %s %d, the same number with the "
                                          "other sign." % (exact_api, value, other_api, other.code),
                           "absolute value")
    raise UnknownCode(text, "%d is not a known SSL_ or GSKit return code" % value)
