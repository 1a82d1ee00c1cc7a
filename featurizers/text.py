"""Checks on raw input text that must run before a parser sees it.

Parsers read some bad text as a *different* valid input instead of failing: RDKit stops a SMILES at
the first whitespace and skips characters it does not know, so ``"CC<tab>O"`` parses as ``CC`` and
``"ОССO"`` (Cyrillic letters) as ``O``. Files are decoded with ``errors="surrogateescape"`` so that
one undecodable byte flags its row instead of failing the whole file; such bytes show up here as lone
surrogates (U+DC80..U+DCFF).
"""

from __future__ import annotations

import re
import unicodedata

#: a CXSMILES extension block after one space (``"C1CC1 |$R;;$|"``), the one place a SMILES has a space
_CXSMILES_TAIL = re.compile(r" \|[\x21-\x7e]*\|$")
NOT_PRINTABLE_ASCII = re.compile(r"[^\x21-\x7e]")
_SURROGATE = re.compile("[\udc80-\udcff]")
_NAMES = {" ": "space", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x0b": "vertical tab",
          "\x0c": "form feed"}


def undecodable_reason(text: str) -> str | None:
    """``"invalid UTF-8 byte 0xFF at position 2"`` if ``text`` holds an undecodable byte, else ``None``."""
    m = _SURROGATE.search(text)
    if m is None:
        return None
    n = len(_SURROGATE.findall(text))
    more = f" ({n} undecodable bytes in all)" if n > 1 else ""
    return f"invalid UTF-8 byte 0x{ord(m.group()) - 0xDC00:02X} at position {m.start() + 1}{more}"


def has_undecodable(text: str) -> bool:
    """Whether ``text`` holds a byte that was not valid UTF-8 (a lone surrogate)."""
    return _SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """``text`` with undecodable bytes replaced by U+FFFD, so it can be written as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def char_name(ch: str) -> str:
    """A readable name for one character: ``tab``, ``U+0007``, ``'О' (U+041E CYRILLIC CAPITAL LETTER O)``."""
    if ch in _NAMES:
        return _NAMES[ch]
    code = f"U+{ord(ch):04X}"
    if ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0:
        return f"control character {code}"
    return f"{ch!r} ({code} {unicodedata.name(ch, 'unnamed')})"


def smiles_text_reason(smiles: str) -> str | None:
    """Why ``smiles`` cannot be read as written (whitespace, control or non-ASCII), else ``None``.

    A SMILES is printable ASCII without spaces; the only space allowed is the one before a CXSMILES
    ``|...|`` block at the end.
    """
    core = _CXSMILES_TAIL.sub("", smiles)
    m = NOT_PRINTABLE_ASCII.search(core)
    if m is None:
        return None
    bad = undecodable_reason(core)
    if bad is not None:
        return bad
    ch, pos = m.group(), m.start() + 1
    if ch.isspace():
        return (f"{char_name(ch)} at position {pos} inside the SMILES (RDKit would read only the part "
                "before it)")
    if ord(ch) < 0xA0:
        return f"{char_name(ch)} at position {pos} (SMILES are printable ASCII)"
    return f"non-ASCII character {char_name(ch)} at position {pos} (SMILES are ASCII; RDKit would skip it)"
