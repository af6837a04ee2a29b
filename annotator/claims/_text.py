"""Tokens with offsets, and the folding that makes lexicon look-ups ignore case and diacritics."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

TokenKind = Literal["num", "word", "punct"]

# Thousands groups must use one separator throughout ("2,359", "2.359", "2 359", "٢٬٣٥٩"),
# and exactly three digits per group, so "19 2017" or "2.35" are not read as one number.
_GROUPED = r"(?<!\d)\d{1,3}(?P<sep>[,.\u066C\u00A0\u202F\u2009 ])\d{3}(?:(?P=sep)\d{3})*(?!\d)"
_DECIMAL = r"\d+[.\u066B]\d+"
_PLAIN = r"\d+"
# Arabic short vowels and other combining marks stay inside the word they decorate.
_WORD = r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036F\u064B-\u065F\u0670])*"
_GROUPED_RE = re.compile(_GROUPED)
_DECIMAL_RE = re.compile(_DECIMAL)
_TOKEN_RE = re.compile(
    rf"(?P<num>{_GROUPED}|{_DECIMAL}|{_PLAIN})|(?P<word>{_WORD})|(?P<punct>[^\s\w]|_)"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int
    key: str


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case, compatibility-decompose and drop combining marks ("Ḥamā" -> "hama").

    For Arabic this also unifies alef-with-hamza/madda with bare alef and removes short vowels.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("\u0640", "").casefold()  # U+0640 tatweel is decoration only


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(text):
        kind: TokenKind
        if match.group("num") is not None:
            kind = "num"
        elif match.group("word") is not None:
            kind = "word"
        else:
            kind = "punct"
        surface = match.group(0)
        tokens.append(Token(kind, surface, match.start(), match.end(), fold(surface)))
    return tokens


def phrase_key(phrase: str) -> tuple[str, ...]:
    """The token keys of a lexicon phrase ("more than" -> ("more", "than"), "-plus" -> ("-", "plus"))."""
    return tuple(token.key for token in tokenize(phrase))


def number_value(text: str) -> int | Decimal:
    """The value of a "num" token: "2,359", "2.359" and "2 359" are 2359; "2.5" is 2.5.

    Any script's decimal digits count (Arabic-Indic "٢٣٥٩", Persian "۲۳۵۹").
    """
    digits = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)
    if _GROUPED_RE.fullmatch(text):
        return int(re.sub(r"\D", "", digits))
    if _DECIMAL_RE.fullmatch(text):
        return Decimal(digits.replace("\u066b", "."))  # exact: 2.3 million is 2300000
    return int(digits)
