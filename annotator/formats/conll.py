"""CoNLL-2003 style BIO export: one token per line, ``TOKEN<TAB>TAG``.

Layout: each document starts with ``-DOCSTART-<TAB>O`` and a blank line; sentences are
separated by a blank line. Tags are IOB2: ``B-LABEL`` on a span's first token, ``I-LABEL``
on the rest, ``O`` outside spans (whitespace in labels becomes ``_``).

Tokenizer (:func:`tokenize`), first match wins at each position, whitespace skipped:

1. abbreviations written with dots: ``U.S.``, ``U.N.``;
2. numbers, with thousands or decimal separators (``,`` ``.`` and the Arabic ``٫`` ``٬``)
   and ranges or dates joined by ``-`` ``–`` ``/``: ``2,359``, ``1.5``, ``19-29``,
   ``2017-09-30``; any script's digits (``١٦``); a number glued to letters (``5th``,
   ``F-16``) is read as a word instead;
3. words: letters and digits of any script with their combining marks (Arabic harakat,
   ZWNJ), joined by an inner hyphen or apostrophe: ``ez-Zor``, ``al-Thardat``, ``country’s``,
   ``إدلب``;
4. a flag (two regional indicators), or an emoji with its variation selector, skin tone
   and zero-width-joiner sequence, as one token;
5. ``...`` or ``…``;
6. any other single non-space character (punctuation, symbols).

Sentences end at a line break, and after ``.`` ``!`` ``?`` ``؟`` ``…`` (with the closing
quotes or brackets glued to it), but never inside a span. ``Mr.`` ends a sentence: the
segmenter is deliberately simple and predictable.

Nested and overlapping spans: BIO can hold one span per token, so the longest span wins
(ties: the earlier one, then by label) and every span overlapping a kept one is dropped.
Outermost spans are therefore kept and nested ones dropped. Spans are widened to whole
tokens; a span whose every token already belongs to a kept span is dropped too. Drops are
counted in :class:`ConllStats`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from annotator.formats.model import ImportedDocument, Span

_MARKS = (
    "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4"
    "\u06e7\u06e8\u06ea-\u06ed\u200c"
)
_WORD_CHAR = rf"[\w{_MARKS}]"
_SEP = "[.,\u066b\u066c]"
_EMOJI = "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d\u3297\u3299]"
_EMOJI_MOD = "[\ufe0f\U0001f3fb-\U0001f3ff]*"
_TOKEN = re.compile(
    "|".join(
        [
            r"(?:[A-Za-z]\.){2,}",
            rf"\d+(?:{_SEP}\d+)*(?:[-\u2013/]\d+(?:{_SEP}\d+)*)*(?!{_WORD_CHAR})",
            rf"{_WORD_CHAR}+(?:['\u2019\-]{_WORD_CHAR}+)*",
            "[\U0001f1e6-\U0001f1ff]{2}",
            rf"{_EMOJI}{_EMOJI_MOD}(?:\u200d{_EMOJI}{_EMOJI_MOD})*",
            r"\.{2,}|\u2026",
            r"\S",
        ]
    )
)
_SENTENCE_END = re.compile(r"^(?:[.!?\u061f\u2026]+|\.{2,})$")
_CLOSER = re.compile(r"^[\"'\u201d\u2019\u00bb)\]}]$")
_WHITESPACE = re.compile(r"\s+")

DOCSTART = "-DOCSTART-\tO\n"


def tokenize(text: str) -> list[tuple[int, int]]:
    """The tokens of a text as ``(start, end)`` code-point offsets (see the module doc)."""
    return [m.span() for m in _TOKEN.finditer(text)]


@dataclass
class ConllStats:
    """Filled in while :func:`write_conll` runs; read it once the output is consumed."""

    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    spans_written: int = 0
    spans_dropped_overlapping: int = 0
    spans_dropped_no_token: int = 0


def outermost_spans(spans: Iterable[Span]) -> tuple[list[Span], int]:
    """The spans BIO can hold: longest first, skipping any that overlaps one already kept.
    Returns the kept spans in text order and how many were dropped."""
    kept_starts: list[int] = []
    kept: dict[int, Span] = {}
    dropped = 0
    for span in sorted(spans, key=lambda s: (s.start - s.end, s.start, s.label, s.id)):
        i = bisect_left(kept_starts, span.start)
        overlaps_before = i > 0 and kept[kept_starts[i - 1]].end > span.start
        overlaps_after = i < len(kept_starts) and kept_starts[i] < span.end
        if overlaps_before or overlaps_after:
            dropped += 1
            continue
        insort(kept_starts, span.start)
        kept[span.start] = span
    return [kept[s] for s in kept_starts], dropped


def _tags(
    tokens: Sequence[tuple[int, int]], spans: Sequence[Span]
) -> tuple[list[str], list[int], int]:
    """Each token's tag, each token's span index (-1 outside), and spans left with no token."""
    tags = ["O"] * len(tokens)
    owner = [-1] * len(tokens)
    lost = 0
    t = 0
    for index, span in enumerate(spans):
        while t < len(tokens) and tokens[t][1] <= span.start:
            t += 1
        label = _WHITESPACE.sub("_", span.label)
        first = True
        k = t
        while k < len(tokens) and tokens[k][0] < span.end:
            if owner[k] == -1:
                tags[k] = f"{'B' if first else 'I'}-{label}"
                owner[k] = index
                first = False
            k += 1
        if first:
            lost += 1
    return tags, owner, lost


def _sentence_breaks(
    text: str, tokens: Sequence[tuple[int, int]], owner: Sequence[int]
) -> list[bool]:
    """breaks[i] is True when a sentence ends after token i."""
    breaks = [False] * len(tokens)
    ending = False
    for i in range(len(tokens) - 1):
        start, end = tokens[i]
        next_start = tokens[i + 1][0]
        gap = text[end:next_start]
        if _SENTENCE_END.match(text[start:end]):
            ending = True
        if ending and not gap and _CLOSER.match(text[next_start : tokens[i + 1][1]]):
            continue  # the closing quote belongs to the sentence it closes
        inside_span = owner[i] != -1 and owner[i] == owner[i + 1]
        if ("\n" in gap or ending) and not inside_span:
            breaks[i] = True
        ending = False
    return breaks


def conll_lines(item: ImportedDocument, stats: ConllStats | None = None) -> Iterator[str]:
    """The lines of one document, from its ``-DOCSTART-`` line on."""
    stats = stats if stats is not None else ConllStats()
    text = item.document.text
    spans, dropped = outermost_spans(item.spans)
    tokens = tokenize(text)
    tags, owner, lost = _tags(tokens, spans)
    breaks = _sentence_breaks(text, tokens, owner)
    stats.documents += 1
    stats.tokens += len(tokens)
    stats.spans_dropped_overlapping += dropped
    stats.spans_dropped_no_token += lost
    stats.spans_written += len(spans) - lost
    yield DOCSTART
    yield "\n"
    in_sentence = False
    for i, (start, end) in enumerate(tokens):
        yield f"{text[start:end]}\t{tags[i]}\n"
        in_sentence = True
        if breaks[i]:
            yield "\n"
            stats.sentences += 1
            in_sentence = False
    if in_sentence:
        yield "\n"
        stats.sentences += 1


def write_conll(
    items: Iterable[ImportedDocument], *, stats: ConllStats | None = None
) -> Iterator[str]:
    """Yield the export line by line, document after document (see the module doc)."""
    for item in items:
        yield from conll_lines(item, stats)
