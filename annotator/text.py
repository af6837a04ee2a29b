"""Offsets and rendering of a text by its spans.

Offsets everywhere are Python string indices (code points), half-open. Browsers count UTF-16
code units; the two differ after any character outside the Basic Multilingual Plane (most
emoji), which is where other tools shift their spans.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

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


@dataclass(frozen=True)
class RenderSpan:
    id: int
    label_id: int
    label_name: str
    start: int
    end: int


def render_chunk(
    text: str, chunk: Chunk, spans: Iterable[RenderSpan], *, oob: bool = False
) -> SafeString:
    """HTML for one chunk: a run of segments, each carrying its code-point offset (data-o) so
    that the browser can turn a selection into offsets without counting the whole text.

    Every piece of article text and every label name goes through html.escape; this function
    builds the only markup, which is why marking the result safe is sound.
    """
    clipped = sorted(
        (s for s in spans if s.start < chunk.end and s.end > chunk.start),
        key=lambda s: (s.start, -s.end, s.id),
    )
    cuts = {chunk.start, chunk.end}
    for s in clipped:
        cuts.add(max(s.start, chunk.start))
        cuts.add(min(s.end, chunk.end))
    points = sorted(cuts)
    parts = [
        f'<span class="chunk" id="k{chunk.index}" data-o="{chunk.start}"'
        + (' hx-swap-oob="true"' if oob else "")
        + ">"
    ]
    for seg_start, seg_end in zip(points, points[1:], strict=False):
        piece = escape(text[seg_start:seg_end], quote=False)
        covering = [s for s in clipped if s.start <= seg_start and s.end >= seg_end]
        if not covering:
            parts.append(f'<span data-o="{seg_start}">{piece}</span>')
            continue
        # The innermost span gives the colour, the next one out an underline.
        covering.sort(key=lambda s: (s.end - s.start, s.id))
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


def render_text(text: str, spans: Sequence[RenderSpan]) -> SafeString:
    """The whole article: all chunks, spans bucketed so the cost is linear in text + spans."""
    all_chunks = chunks(text)
    buckets: list[list[RenderSpan]] = [[] for _ in all_chunks]
    starts = [c.start for c in all_chunks]
    for span in spans:
        first = bisect.bisect_right(starts, span.start) - 1
        index = max(first, 0)
        while index < len(all_chunks) and all_chunks[index].start < span.end:
            buckets[index].append(span)
            index += 1
    return mark_safe(
        "".join(render_chunk(text, c, b) for c, b in zip(all_chunks, buckets, strict=True))
    )  # noqa: S308
