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
from ibmi_trust.explain.codes import GSKIT_API, SSL_API, CodeTable, table

_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX_UPPER = "0123456789ABCDEF"
_NAME_TAIL = _ASCII_UPPER + "0123456789_"


class UnknownCode(LookupError):
    def __init__(self, query: str, reason: str):
        super().__init__(reason)
        self.query = query
        self.reason = reason


class Explanation:
    """The codes a query stands for."""

    def __init__(self, query: str, candidates: list, note: str = "", matched_by: str = "", ranked: bool = False):
        self.query = query
        self.candidates = candidates      # [ReturnCode], the likelier first when ranked
        self.note = note                  # why several, or why the other sign was used
        self.matched_by = matched_by      # "code", "absolute value", "constant", "alias", "message ID"
        self.ranked = ranked              # several candidates, the first is the likelier reading

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    def __eq__(self, other):
        return type(other) is Explanation and vars(other) == vars(self)

    def __repr__(self):
        return "Explanation(%s)" % ", ".join("%s=%r" % item for item in vars(self).items())


# What an operator types, read without the re module (it costs as much as the
# rest of `explain` together). Each reader matches exactly what the pattern in
# its docstring matches on a whitespace-normalised query (tests/test_cli_fast.py
# checks them against those patterns).
def _number(text: str) -> "tuple[bool, str] | None":
    r"""'^(?P<rc>RC\s*[(=:]?\s*)?(?P<num>[+-]?\d{1,9})\s*\)?$' (re.IGNORECASE)
    -> (RC form given, the signed digits), else None."""
    pos, rc_form = 0, False
    if text[:1] in ("r", "R") and text[1:2] in ("c", "C"):
        rc_form, pos = True, _skip_spaces(text, 2)
        if text[pos:pos + 1] in ("(", "=", ":"):
            pos = _skip_spaces(text, pos + 1)
    start = pos
    if text[pos:pos + 1] in ("+", "-"):
        pos += 1
    digits_from = pos
    while pos < len(text) and text[pos].isdecimal():
        pos += 1
    if not 1 <= pos - digits_from <= 9:
        return None
    if text[_skip_spaces(text, pos):] not in ("", ")"):
        return None
    return rc_form, text[start:pos]


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _is_message_id(upper: str) -> bool:
    """'^[A-Z]{3}[0-9A-F]{4}$'"""
    return (len(upper) == 7 and all(ch in _ASCII_UPPER for ch in upper[:3])
            and all(ch in _HEX_UPPER for ch in upper[3:]))


def _is_name(upper: str) -> bool:
    """'^[A-Z][A-Z0-9_]+$'"""
    return len(upper) >= 2 and upper[0] in _ASCII_UPPER and all(ch in _NAME_TAIL for ch in upper[1:])


def explain(query: str, codes: "CodeTable | None" = None) -> Explanation:
    """The codes `query` stands for; UnknownCode when it names none."""
    codes = codes or table()
    text = " ".join(str(query).split())
    if not text:
        raise UnknownCode(query, "no return code given")
    number = _number(text)
    if number:
        return _by_number(text, number, codes)
    upper = text.upper()
    if upper.startswith("ITR") and _is_message_id(upper):
        raise UnknownCode(query, "%s is an ibmi-trust message, not a TLS return code: docs/messages.md "
                                 "describes it (DSPMSGD RANGE(%s) MSGF(ITRMSGF) shows its text)" % (upper, upper))
    if _is_message_id(upper) and not upper.startswith(("SSL", "GSK")):
        rows = codes.by_message_id.get(upper)
        if not rows:
            raise UnknownCode(query, "%s is not the message ID of any SSL_ or GSKit return code on record"
                                     " (docs/explain.md says how to look it up with DSPMSGD)" % upper)
        note = ""
        if len(rows) > 1:
            note = "IBM uses %s for %d codes; the message ID alone cannot tell which." % (upper, len(rows))
        return Explanation(text, rows, note, "message ID")
    if _is_name(upper):
        row = codes.by_name.get(upper)
        if row is None:
            raise UnknownCode(query, "%s is not a known SSL_ or GSKit constant" % upper)
        if row.constant == upper:
            return Explanation(text, [row], "", "constant")
        return Explanation(text, [row], "%s is an older name of %s." % (upper, row.constant), "alias")
    raise UnknownCode(query, "%r is neither a return code, a constant name nor a message ID" % text)


def _by_number(text: str, number: "tuple[bool, str]", codes: CodeTable) -> Explanation:
    rc_form, digits = number
    value = int(digits)
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
