"""Offsets and rendering of a text by its spans.

Offsets everywhere are Python string indices (code points), half-open. Browsers count UTF-16
code units; the two differ after any character outside the Basic Multilingual Plane (most
emoji), which is where other tools shift their spans.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from django.utils.safestring import SafeString, mark_safe

# Long runs without a newline are cut into chunks of about this size (at a space), so that a
# save re-renders a bounded piece of the article, however long the article is.
CHUNK_TARGET = 1500


def utf16_to_codepoints(text: str, utf16_offset: int) -> int:
    """The code point index of a UTF-16 offset into text (as a browser counts)."""
    units = 0
    for index, char in enumerate(text):
        if units >= utf16_offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    if units >= utf16_offset:
        return len(text)
    raise ValueError(f"UTF-16 offset {utf16_offset} is beyond the text ({units} units)")


def codepoints_to_utf16(text: str, offset: int) -> int:
    if offset > len(text):
        raise ValueError(f"offset {offset} is beyond the text ({len(text)} characters)")
    return offset + sum(1 for char in text[:offset] if ord(char) > 0xFFFF)


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int


_PARAGRAPH_END = re.compile(r"\n+")


def chunks(text: str, target: int = CHUNK_TARGET) -> list[Chunk]:
    """Cut text into consecutive chunks ending after newline runs, or at a space once a chunk
    grows past `target` characters (anywhere, if no space comes before 2 * target). The chunks
    cover the text exactly."""
    bounds: list[int] = []
    position = 0
    for match in _PARAGRAPH_END.finditer(text):
        _split_long(text, position, match.end(), target, bounds)
        position = match.end()
    if position < len(text):
        _split_long(text, position, len(text), target, bounds)
    result = []
    start = 0
    for index, end in enumerate(bounds):
        result.append(Chunk(index, start, end))
        start = end
    return result


@functools.lru_cache(maxsize=32)
def cached_chunks(text: str) -> tuple[Chunk, ...]:
    """chunks(text), kept for the few articles being coded right now: every save re-renders
    the chunks it touched, and cutting a 50,000-character article costs ~1.5 ms each time.
    Keyed by the text itself, so an edited text can never get stale chunks."""
    return tuple(chunks(text))


def _split_long(text: str, start: int, end: int, target: int, bounds: list[int]) -> None:
    while end - start > 2 * target:
        cut = text.find(" ", start + target, start + 2 * target)
        if cut == -1:
            # No space in reach (a script written without spaces, a long URL): cut anyway,
            # so that no chunk grows beyond 2 * target however the text is written.
            cut = start + 2 * target - 1
        bounds.append(cut + 1)
        start = cut + 1
    bounds.append(end)


def chunks_touching(all_chunks: Sequence[Chunk], start: int, end: int) -> list[Chunk]:
    return [c for c in all_chunks if c.start < end and c.end > start]


class RenderSpan(NamedTuple):
    # A tuple rather than a frozen dataclass: the long article makes thousands per page.
    id: int
    label_id: int
    label_name: str
    start: int
    end: int


@dataclass(frozen=True)
class RenderSuggestion:
    """A suggested span: drawn dashed, never overlapping the coder's spans or another one."""

    key: str
    label_id: int
    label_name: str
    start: int
    end: int


def render_chunk(
    text: str,
    chunk: Chunk,
    spans: Iterable[RenderSpan],
    *,
    oob: bool = False,
    suggestions: Iterable[RenderSuggestion] = (),
) -> SafeString:
    """HTML for one chunk: a run of segments, each carrying its code-point offset (data-o) so
    that the browser can turn a selection into offsets without counting the whole text.

    Every piece of article text and every label name goes through html.escape; this function
    builds the only markup, which is why marking the result safe is sound.
    """
    first, last = chunk.start, chunk.end
    # Innermost first (shortest, then oldest): the order every segment lists its spans in,
    # so filtering this list per segment needs no sort of its own.
    clipped = sorted(
        (s for s in spans if s.start < last and s.end > first),
        key=lambda s: (s.end - s.start, s.id),
    )
    suggested = [s for s in suggestions if s.start < last and s.end > first]
    head = (
        f'<span class="chunk" id="k{chunk.index}" data-o="{first}"'
        + (' hx-swap-oob="true"' if oob else "")
        + ">"
    )
    if not clipped and not suggested:
        piece = escape(text[first:last], quote=False)
        return mark_safe(f'{head}<span data-o="{first}">{piece}</span></span>')  # noqa: S308
    cuts = {first, last}
    for s in (*clipped, *suggested):
        cuts.add(s.start if s.start > first else first)
        cuts.add(s.end if s.end < last else last)
    points = sorted(cuts)
    parts = [head]
    for seg_start, seg_end in zip(points, points[1:], strict=False):
        piece = escape(text[seg_start:seg_end], quote=False)
        covering = [s for s in clipped if s.start <= seg_start and s.end >= seg_end]
        if not covering:
            suggestion = next(
                (s for s in suggested if s.start <= seg_start and s.end >= seg_end), None
            )
            if suggestion is None:
                parts.append(f'<span data-o="{seg_start}">{piece}</span>')
            else:
                parts.append(_suggestion_mark(suggestion, seg_start, seg_end, piece))
            continue
        # The innermost span gives the colour, the next one out an underline.
        inner = covering[0]
        classes = ["ann", f"l{inner.label_id}"]
        if len(covering) > 1:
            classes.append(f"o{covering[1].label_id}")
        starts = [s for s in covering if s.start == seg_start]
        ends = [s for s in covering if s.end == seg_end]
        # data-ids / data-l: the covering spans, innermost first, and their label ids.
        attrs = (
            f' data-o="{seg_start}" data-ids="{" ".join(str(s.id) for s in covering)}"'
            f' data-l="{" ".join(str(s.label_id) for s in covering)}"'
        )
        if starts:
            classes.append("s")
            attrs += f' data-starts="{" ".join(str(s.id) for s in starts)}" tabindex="0"'
        if ends:
            classes.append("e")
            attrs += f' data-tag="{escape(" ".join(s.label_name for s in ends))}"'
        parts.append(f'<mark class="{" ".join(classes)}"{attrs}>{piece}</mark>')
    parts.append("</span>")
    return mark_safe("".join(parts))  # noqa: S308 - every text piece is escaped above


def _suggestion_mark(suggestion: RenderSuggestion, seg_start: int, seg_end: int, piece: str) -> str:
    """One piece of a suggestion; its first piece is the one keyboard stop (tabindex)."""
    classes = ["sug", f"l{suggestion.label_id}"]
    attrs = f' data-o="{seg_start}" data-sug="{escape(suggestion.key)}"'
    if seg_start == suggestion.start:
        classes.append("s")
        label = escape(suggestion.label_name)
        attrs += f' tabindex="0" title="Suggested {label}: Enter accepts, Delete rejects"'
    if seg_end == suggestion.end:
        classes.append("e")
        attrs += f' data-tag="{escape(suggestion.label_name)}?"'
    return f'<mark class="{" ".join(classes)}"{attrs}>{piece}</mark>'


def _buckets(all_chunks: list[Chunk], items: Sequence) -> list[list]:
    """Items (with start and end) per chunk they touch: linear in chunks + items."""
    buckets: list[list] = [[] for _ in all_chunks]
    starts = [c.start for c in all_chunks]
    for item in items:
        index = max(bisect.bisect_right(starts, item.start) - 1, 0)
        while index < len(all_chunks) and all_chunks[index].start < item.end:
            buckets[index].append(item)
            index += 1
    return buckets


def render_text(
    text: str, spans: Sequence[RenderSpan], suggestions: Sequence[RenderSuggestion] = ()
) -> SafeString:
    """The whole article: all chunks, spans bucketed so the cost is linear in text + spans."""
    all_chunks = cached_chunks(text)
    return mark_safe(
        "".join(
            render_chunk(text, c, b, suggestions=sb)
            for c, b, sb in zip(
                all_chunks,
                _buckets(all_chunks, spans),
                _buckets(all_chunks, suggestions),
                strict=True,
            )
        )
    )  # noqa: S308
