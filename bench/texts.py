"""Texts and span plans for the bench: plain data, no Django.

A planned span is (start, end, text) with text == document_text[start:end], so that the
service's quote check and the database trigger accept it. Spans are single words, so any
two different words never overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w[\w'’-]*")


@dataclass(frozen=True)
class PlannedSpan:
    start: int
    end: int
    text: str


def words(text: str) -> list[PlannedSpan]:
    """Every word of the text as a span, in order; no two of them overlap."""
    return [PlannedSpan(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def spread(items: list, count: int, offset: int = 0) -> list:
    """`count` items taken evenly over the whole list (from index `offset` of each stride),
    so that spans land all over a document rather than at its start."""
    if count > len(items):
        raise ValueError(f"asked for {count} items from {len(items)}")
    stride = len(items) / count
    return [items[min(int(i * stride) + offset, len(items) - 1)] for i in range(count)]


def long_article(seed: str, length: int) -> str:
    """An article of exactly `length` characters: the seed's paragraphs over and over, each
    round numbered so that the copies are not byte-identical."""
    parts: list[str] = []
    size = 0
    round_no = 0
    while size < length:
        round_no += 1
        part = f"Update {round_no}.\n\n{seed.strip()}\n\n"
        parts.append(part)
        size += len(part)
    return "".join(parts)[:length]


def seeded_and_free(
    text: str, seeded: int, free: int
) -> tuple[list[PlannedSpan], list[PlannedSpan]]:
    """Two disjoint sets of word spans over the whole text: `seeded` to store beforehand and
    `free` to create during a measurement (from the words between the seeded ones)."""
    all_words = words(text)
    stride = len(all_words) / seeded
    if stride < 3:
        raise ValueError(f"{len(all_words)} words are too few for {seeded} seeded spans")
    seeded_idx = [int(i * stride) for i in range(seeded)]
    taken = set(seeded_idx)
    between = [i + 1 for i in seeded_idx if i + 1 < len(all_words) and i + 1 not in taken]
    free_idx = spread(between, free)
    return [all_words[i] for i in seeded_idx], [all_words[i] for i in free_idx]
