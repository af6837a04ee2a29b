"""Offset conversions every reader uses: line ends and UTF-16 code units.

Annotator stores texts with ``\\n`` line ends and offsets in code points (Python string
indices). Other tools count differently:

* a text with ``\\r\\n`` line ends has one more character per line break than the same text
  with ``\\n``; every offset after a break shifts. :func:`fix_newlines` gives the ``\\n``
  text and converts offsets counted over the original text. A lone ``\\r`` (old Mac line
  end) becomes ``\\n`` without shifting anything.
* browsers (and so doccano) count UTF-16 code units: a character outside the Basic
  Multilingual Plane (most emoji) counts two. :class:`Utf16Offsets` converts such offsets
  to code points, and refuses an offset that falls between the two halves of a pair.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from annotator.formats.errors import INSIDE_SURROGATE_PAIR, OFFSET_BEYOND_TEXT

_CRLF = re.compile("\r\n")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class OffsetError(ValueError):
    """An offset that cannot be converted; ``kind`` is one of the error kinds."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class NewlineFix:
    """A text with its line ends made ``\\n``, and the way from old offsets to new ones."""

    text: str
    # Indices, in the original text, of the "\r" of each "\r\n" pair: the characters removed.
    removed: tuple[int, ...] = ()

    def offset(self, original: int) -> int:
        """The offset in ``text`` of an offset counted over the original text. An offset
        between the ``\\r`` and the ``\\n`` of a pair lands just before the ``\\n``."""
        if not self.removed:
            return original
        return original - bisect_left(self.removed, original)


def fix_newlines(text: str) -> NewlineFix:
    """Turn ``\\r\\n`` and lone ``\\r`` into ``\\n``; see :class:`NewlineFix`."""
    if "\r" not in text:
        return NewlineFix(text)
    removed = tuple(m.start() for m in _CRLF.finditer(text))
    return NewlineFix(text.replace("\r\n", "\n").replace("\r", "\n"), removed)


class Utf16Offsets:
    """Converts UTF-16 code-unit offsets into one text to code-point offsets."""

    __slots__ = ("_starts", "length")

    def __init__(self, text: str) -> None:
        # The UTF-16 index of each astral character: its code-point index plus the number of
        # astral characters before it.
        self._starts = [m.start() + k for k, m in enumerate(_ASTRAL.finditer(text))]
        self.length = len(text) + len(self._starts)

    def to_codepoints(self, offset: int) -> int:
        if offset < 0 or offset > self.length:
            raise OffsetError(
                OFFSET_BEYOND_TEXT,
                f"UTF-16 offset {offset} is outside the text (0 to {self.length} code units)",
            )
        before = bisect_left(self._starts, offset)
        if before and self._starts[before - 1] == offset - 1:
            raise OffsetError(
                INSIDE_SURROGATE_PAIR,
                f"UTF-16 offset {offset} falls inside a character that takes two code units "
                "(an emoji or another character outside the Basic Multilingual Plane); "
                "were the offsets counted in code points? Try offsets='codepoints'",
            )
        return offset - before
