"""textwrap.wrap(text, width) without importing textwrap.

textwrap imports re, which alone costs about as much as the rest of
`ibmi-trust explain`. This module gives the same lines as textwrap.wrap with
its defaults for the text explain wraps (ASCII words and spaces): it cuts the
text into textwrap's chunks (runs of spaces; words, split after a hyphen
between letters as in "goof-/ball", and before an em-dash "--") and fills
lines greedily as TextWrapper._wrap_chunks does. What it does not reproduce
goes to textwrap itself: non-ASCII text, tabs and other ASCII whitespace
(textwrap expands and translates them), and a chunk longer than the width
(textwrap's long-word breaking differs between Python versions).
tests/test_cli_fast.py compares the two on the whole code table and on
random text.
"""
_OTHER_WHITESPACE = "\t\n\x0b\x0c\r"
_WORD_PUNCT = "!\"'&.,?"


def wrap(text: str, width: int) -> "list[str]":
    chunks = _chunks(text) if text.isascii() and not any(ch in text for ch in _OTHER_WHITESPACE) else None
    if chunks is None or any(len(chunk) > width for chunk in chunks):
        import textwrap

        return textwrap.wrap(text, width=width)
    return _fill(chunks, width)


def _fill(chunks: "list[str]", width: int) -> "list[str]":
    """TextWrapper._wrap_chunks without indents, line limits or long words."""
    lines = []
    chunks = chunks[::-1]
    while chunks:
        line, length = [], 0
        if lines and chunks[-1].strip() == "":
            del chunks[-1]                      # spaces at the start of a line but the first
        while chunks and length + len(chunks[-1]) <= width:
            length += len(chunks[-1])
            line.append(chunks.pop())
        if line and line[-1].strip() == "":
            del line[-1]                        # spaces at the end of a line
        if line:
            lines.append("".join(line))
    return lines


def _is_word(ch: str) -> bool:                  # \w
    return ch.isalnum() or ch == "_"


def _is_letter(ch: str) -> bool:                # [^\d\W]
    return ch.isalpha() or ch == "_"


def _is_word_punct(ch: str) -> bool:            # [\w!"'&.,?]
    return _is_word(ch) or ch in _WORD_PUNCT


def _at(text: str, pos: int) -> str:
    return text[pos] if 0 <= pos < len(text) else ""


def _em_dash_at(text: str, pos: int) -> int:
    """End of '-{2,}(?=\\w)' at pos, or -1."""
    end = pos
    while _at(text, end) == "-":
        end += 1
    return end if end - pos >= 2 and _is_word(_at(text, end)) else -1


def _hyphen_breaks_after(text: str, pos: int) -> bool:
    """text[pos] is a hyphen textwrap breaks after: between letters, as in
    -(?:(?<=lt{2}-)|(?<=lt-lt-))(?=lt-?lt)."""
    if _at(text, pos) != "-":
        return False
    before = (_is_letter(_at(text, pos - 2)) and _is_letter(_at(text, pos - 1))) or (
        _is_letter(_at(text, pos - 3)) and _at(text, pos - 2) == "-" and _is_letter(_at(text, pos - 1)))
    after = _is_letter(_at(text, pos + 1)) and (
        _is_letter(_at(text, pos + 2)) or (_at(text, pos + 2) == "-" and _is_letter(_at(text, pos + 3))))
    return before and after


def _chunks(text: str) -> "list[str]":
    """textwrap's wordsep_re split of ASCII text whose only whitespace is ' '."""
    chunks, pos = [], 0
    while pos < len(text):
        if text[pos] == " ":
            end = pos + 1
            while end < len(text) and text[end] == " ":
                end += 1
            chunks.append(text[pos:end])
        else:
            end = text.find(" ", pos)
            end = len(text) if end < 0 else end
            if "-" in text[pos:end]:
                chunks.extend(_word_chunks(text, pos, end))
            else:
                chunks.append(text[pos:end])    # no hyphen: nothing to split at
        pos = end
    return chunks


def _word_chunks(text: str, pos: int, word_end: int) -> "list[str]":
    """The chunks of the word text[pos:word_end] (it holds a hyphen). The
    look-arounds may see past the word: a space is neither letter nor word
    character, as in the pattern."""
    chunks = []
    while pos < word_end:
        if pos > 0 and _is_word_punct(text[pos - 1]) and _em_dash_at(text, pos) > 0:
            end = _em_dash_at(text, pos)        # an em-dash between words: its own chunk
        else:
            end = pos + 1                       # the shortest chunk that ends in one of:
            while end < word_end:
                if _hyphen_breaks_after(text, end):
                    end += 1                    # a hyphen between letters (kept with the chunk)
                    break
                if _is_word_punct(text[end - 1]) and _em_dash_at(text, end) > 0:
                    break                       # an em-dash ahead
                end += 1
        chunks.append(text[pos:end])
        pos = end
    return chunks
