"""Reading the quantifier of a CASUALTY span into count_text / quantifier_type / low / best / high.

The rules are the codebook's NUMBER LEXICON; the words come from a `Lexicon`, so a project can
change them without touching this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from annotator.claims._text import Token, number_value, tokenize
from annotator.claims.lexicon import Lexicon, Phrases, VagueWord, load_lexicon


class QuantifierType(StrEnum):
    EXACT = "exact"
    APPROXIMATE = "approximate"
    LOWER_BOUND = "lower_bound"
    UPPER_BOUND = "upper_bound"
    RANGE = "range"
    VAGUE = "vague"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True, slots=True)
class Quantity:
    """What a span's quantifier says. Offsets are code points into the parsed text, half-open."""

    count_text: str
    quantifier_type: QuantifierType
    low: int | None
    best: int | None
    high: int | None
    single_figure: int | None
    count_start: int
    count_end: int

    def as_attributes(self) -> dict[str, Any]:
        """The CASUALTY attributes the normaliser fills (codebook: coders never type numbers)."""
        return {
            "count_text": self.count_text,
            "quantifier_type": str(self.quantifier_type),
            "low": self.low,
            "best": self.best,
            "high": self.high,
        }


def parse_quantity(span_text: str, lexicon: Lexicon | None = None) -> Quantity | None:
    """Read the quantity of a CASUALTY span such as "over 400 citizens from the former ...".

    The quantity is looked for at the start of the span (after fillers such as "the" or
    "a total of"), else right after a word of outcome ("deaths of 2,359 ..."); numbers further
    inside the victim phrase are never the count. A span with words but no quantity is a bare
    plural (unspecified, low 1); a span with no words and no quantity gives None.
    """
    lex = lexicon or load_lexicon("en")
    tokens = tokenize(span_text)
    i = 0
    while i < len(tokens) and tokens[i].kind == "punct":
        i += 1
    while (filler := _phrase_at(tokens, i, lex.filler_phrases)) is not None:
        i = filler[1]
    found = match_quantity(tokens, i, lex, span_text)
    if found is not None:
        return found[0]
    for j, token in enumerate(tokens):
        if token.key in lex.outcome_words:
            k = j + 1
            if k < len(tokens) and tokens[k].key in lex.connectors:
                k += 1
            found = match_quantity(tokens, k, lex, span_text)
            if found is not None:
                return found[0]
    if any(token.kind == "word" for token in tokens):
        return Quantity("", QuantifierType.UNSPECIFIED, 1, None, None, None, 0, 0)
    return None


# --- the grammar -------------------------------------------------------------------------------

CoreKind = Literal["number", "approx", "range", "vague", "zero", "one"]


@dataclass(frozen=True, slots=True)
class _Core:
    kind: CoreKind
    low: int
    high: int
    single: int
    end: int  # index of the first token after the core


def match_quantity(
    tokens: list[Token], i: int, lexicon: Lexicon, text: str
) -> tuple[Quantity, int] | None:
    """The quantity starting exactly at token `i`, and the index of the token after it.

    `text` is the string the tokens were cut from; Quantity offsets point into it.
    """
    if i >= len(tokens):
        return None
    modifier = _phrase_at(tokens, i, lexicon.prefix_phrases)
    core = _core(tokens, modifier[1], lexicon) if modifier else None
    if core is None:
        modifier = None
        core = _core(tokens, i, lexicon)
    if core is None:
        return None
    end = core.end
    kind: str | None = modifier[0] if modifier else None
    if kind is None and core.kind in ("number", "approx", "vague", "one"):
        suffix = _phrase_at(tokens, end, lexicon.suffix_phrases)
        if suffix is not None:
            kind, end = suffix
    if core.kind == "vague" and end < len(tokens) and tokens[end].key in lexicon.connectors:
        end += 1  # "dozens of": the codebook keeps the "of" with the quantifier
    start_char, end_char = tokens[i].start, tokens[end - 1].end
    qtype, low, best, high, single = _compose(kind, core)
    quantity = Quantity(
        text[start_char:end_char], qtype, low, best, high, single, start_char, end_char
    )
    return quantity, end


def _compose(
    modifier: str | None, core: _Core
) -> tuple[QuantifierType, int | None, int | None, int | None, int | None]:
    q = QuantifierType
    if core.kind == "zero":
        return q.EXACT, 0, 0, 0, 0
    if core.kind == "range":
        if modifier == "lower_bound":
            return q.LOWER_BOUND, core.low, core.low, None, core.low
        if modifier == "upper_bound":
            return q.UPPER_BOUND, None, core.high, core.high, core.high
        return q.RANGE, core.low, None, core.high, core.low
    if core.kind == "vague":
        if modifier == "lower_bound":  # "at least dozens": a lower bound of dozens' low
            return q.LOWER_BOUND, core.low, core.low, None, core.low
        if modifier == "upper_bound":  # "up to hundreds": bounded above, no best guess
            return q.UPPER_BOUND, None, None, core.high, core.single
        return q.VAGUE, core.low, None, core.high, core.single
    n = core.low
    if modifier == "lower_bound":
        return q.LOWER_BOUND, n, n, None, n
    if modifier == "upper_bound":
        return q.UPPER_BOUND, None, n, n, n
    if modifier == "approximate" or core.kind == "approx":
        return q.APPROXIMATE, n, n, n, n
    return q.EXACT, n, n, n, n


def _core(tokens: list[Token], i: int, lex: Lexicon) -> _Core | None:
    if i >= len(tokens):
        return None
    zero = _phrase_at(tokens, i, lex.zero_phrases)
    if zero is not None:
        return _Core("zero", 0, 0, 0, zero[1])

    for before, between in lex.range_pattern_keys:
        j = _key_at(tokens, i, before)
        first = _number(tokens, j, lex) if j is not None else None
        k = _key_at(tokens, first[1], between) if first else None
        second = _number(tokens, k, lex) if first and k is not None else None
        if first and second and first[0] < second[0]:
            return _Core("range", first[0], second[0], first[0], second[1])

    vague = _phrase_at(tokens, i, lex.vague_phrases)
    if vague is not None:
        word: VagueWord = vague[0]
        low, high, single, j = word.low, word.high, word.single, vague[1]
        while True:  # "several hundred", "tens of thousands", "a few dozen"
            k = j + 1 if j < len(tokens) and tokens[j].key in lex.connectors else j
            if k < len(tokens) and tokens[k].key in lex.multiplier_units:
                unit = lex.multiplier_units[tokens[k].key]
                low, high, single, j = low * unit, high * unit, single * unit, k + 1
            else:
                break
        return _Core("vague", low, high, single, j)

    if tokens[i].key in lex.articles and i + 1 < len(tokens):
        unit = lex.approximate_units.get(tokens[i + 1].key)
        if unit is not None:  # "a dozen"
            return _Core("approx", unit, unit, unit, i + 2)

    number = _number(tokens, i, lex)
    if number is not None:
        value, j = number
        if j < len(tokens) and tokens[j].key in lex.approximate_units:  # "two dozen"
            value *= lex.approximate_units[tokens[j].key]
            return _Core("approx", value, value, value, j + 1)
        for separator in lex.range_separator_keys:
            k = _key_at(tokens, j, separator)
            second = _number(tokens, k, lex) if k is not None else None
            if second is not None and value < second[0]:
                return _Core("range", value, second[0], value, second[1])
        return _Core("number", value, value, value, j)

    one = _phrase_at(tokens, i, lex.one_phrases)
    if one is not None and one[1] < len(tokens) and tokens[one[1]].kind == "word":
        return _Core("one", 1, 1, 1, one[1])  # "a soldier"
    return None


def _number(tokens: list[Token], i: int, lex: Lexicon) -> tuple[int, int] | None:
    """An exact number at token i (digits, digits + scale word, or number words) and its end."""
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token.kind == "num":
        return _digits(tokens, i, lex)
    if token.kind == "word":
        return _number_words(tokens, i, lex)
    return None


def _digits(tokens: list[Token], i: int, lex: Lexicon) -> tuple[int, int] | None:
    value = number_value(tokens[i].text)  # "2.359" in a count is 2359 (codebook)
    j = i + 1
    while j < len(tokens) and tokens[j].key in lex.scale_words:  # "1.5 million"
        value *= lex.scale_words[tokens[j].key]
        j += 1
    if value != int(value):
        return None  # "2.5 people" is not a count
    return int(value), j


def _number_words(tokens: list[Token], i: int, lex: Lexicon) -> tuple[int, int] | None:
    """ "sixteen", "twenty-one", "one hundred and twenty", "a thousand", "two thousand three hundred"."""
    words, scales = lex.number_words, lex.scale_words
    n = len(tokens)
    total = current = 0
    j = end = i
    last: str | None = None  # "unit", "teen", "tens" or "scale"
    if tokens[i].key in lex.articles and i + 1 < n and tokens[i + 1].key in scales:
        current, last, j = 1, "unit", i + 1  # "a hundred" is "one hundred"
    while j < n:
        key = tokens[j].key
        if key in words:
            value = words[key]
            if last in ("unit", "teen") or (last == "tens" and value >= 10):
                break  # "five six", "twenty thirty"
            current += value
            last = "tens" if value >= 20 else "teen" if value >= 10 else "unit"
            j = end = j + 1
        elif key in scales and last is not None and last != "scale" and current > 0:
            scale = scales[key]
            if scale < 1000:
                current *= scale
            else:
                total, current = total + current * scale, 0
            last = "scale"
            j = end = j + 1
        elif (
            key in lex.number_conjunctions
            and last == "scale"
            and j + 1 < n
            and tokens[j + 1].key in words
        ):
            j += 1  # "one hundred and twenty": the "and" belongs only if a number follows
        elif (
            tokens[j].text in "-\u2010\u2011"
            and last == "tens"
            and j + 1 < n
            and tokens[j].start == tokens[j - 1].end
            and tokens[j + 1].start == tokens[j].end
            and words.get(tokens[j + 1].key, 10) < 10
        ):
            j += 1  # "twenty-one"
        else:
            break
    if last is None or end == i:
        return None
    return total + current, end


def _phrase_at(tokens: list[Token], i: int, phrases: Phrases) -> tuple[Any, int] | None:
    """The longest phrase of `phrases` starting at token i: (its value, index after it)."""
    if i >= len(tokens) or tokens[i].key not in phrases.first_words:
        return None
    for size in range(min(phrases.longest, len(tokens) - i), 0, -1):
        key = tuple(token.key for token in tokens[i : i + size])
        if key in phrases:
            return phrases[key], i + size
    return None


def _key_at(tokens: list[Token], i: int, key: tuple[str, ...]) -> int | None:
    size = len(key)
    if i + size <= len(tokens) and tuple(t.key for t in tokens[i : i + size]) == key:
        return i + size
    return None
