"""text.py: UTF-16 <-> code point offsets, chunking, and rendering a text with its spans.
Pure Python: no database."""

from html.parser import HTMLParser

import pytest

from annotator.text import (
    CHUNK_TARGET,
    Chunk,
    RenderSpan,
    chunks,
    chunks_touching,
    codepoints_to_utf16,
    render_chunk,
    render_text,
    utf16_to_codepoints,
)

ARTICLE = (
    "Russian air strikes in Syria between September 19-29 resulted in the deaths of "
    "2,359 ISIS terrorists all over the war-torn country, the Russian ministry of defense "
    "has announced."
)
# Astral emoji, a ZWJ family, a skin-tone modifier, a flag, Arabic with harakat and
# Arabic-Indic digits, combining accents, a mathematical letter.
MIXED = "🔥 قُتل ١٦ مدنياً 👨‍👩‍👧 في دير الزور 👍🏽 🇸🇾 Cafe\u0301 n\u0303 𝔸 (Deir ez-Zor)."
TEXTS = {
    "ascii": ARTICLE,
    "mixed": MIXED,
    "arabic": "قال المرصد السوري إن ١٦ مدنياً قُتلوا في دير الزور.",
    "combining": "Cafe\u0301 re\u0301sume\u0301 n\u0303 a\u0308\u0304",
    "only emoji": "😀😃😄👨‍👩‍👧",
}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- UTF-16 <-> code points --------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_code_point_offsets_survive_a_round_trip_through_utf16(text):
    for offset in range(len(text) + 1):
        assert utf16_to_codepoints(text, codepoints_to_utf16(text, offset)) == offset


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_utf16_offset_counts_what_a_browser_counts(text):
    for offset in range(len(text) + 1):
        assert codepoints_to_utf16(text, offset) == utf16_length(text[:offset])


def test_emoji_counts_two_in_utf16_and_one_in_code_points():
    assert codepoints_to_utf16("😀a", 1) == 2
    assert utf16_to_codepoints("😀a", 2) == 1


def test_arabic_and_combining_marks_count_the_same_in_both():
    text = TEXTS["arabic"] + TEXTS["combining"]

    assert [codepoints_to_utf16(text, i) for i in range(len(text) + 1)] == list(
        range(len(text) + 1)
    )


def test_utf16_offset_after_emoji_finds_the_same_word():
    word = "Deir ez-Zor"
    browser_start = utf16_length(MIXED[: MIXED.index(word)])

    start = utf16_to_codepoints(MIXED, browser_start)

    assert MIXED[start : start + len(word)] == word


def test_utf16_offset_inside_a_surrogate_pair_moves_past_the_character():
    assert utf16_to_codepoints("😀a", 1) == 1


def test_offsets_at_both_ends_of_the_text_are_valid():
    assert utf16_to_codepoints(MIXED, 0) == 0
    assert utf16_to_codepoints(MIXED, utf16_length(MIXED)) == len(MIXED)
    assert codepoints_to_utf16(MIXED, len(MIXED)) == utf16_length(MIXED)


def test_utf16_offset_beyond_the_text_is_refused():
    with pytest.raises(ValueError):
        utf16_to_codepoints("😀a", 4)


def test_code_point_offset_beyond_the_text_is_refused():
    with pytest.raises(ValueError):
        codepoints_to_utf16("😀a", 3)


# --- chunks ------------------------------------------------------------------------------------

CHUNK_TEXTS = {
    "one line": ARTICLE,
    "paragraphs": "First paragraph.\nSecond one.\n\n\nThird.\n",
    "leading newlines": "\n\nStarts late.",
    "only newlines": "\n\n\n",
    "mixed": MIXED + "\n" + MIXED,
    "long with spaces": "word " * 2000,
    "long without spaces": "x" * 10_000,
    "long arabic": ("قُتل ١٦ مدنياً " * 800).strip(),
    "long paragraphs": ("A sentence of the report. " * 200 + "\n\n") * 5,
}


def assert_cover_exactly(text, pieces):
    assert pieces[0].start == 0
    assert pieces[-1].end == len(text)
    for index, (before, after) in enumerate(zip(pieces, pieces[1:], strict=False)):
        assert before.end == after.start
        assert before.index == index
    assert all(piece.end > piece.start for piece in pieces)
    assert "".join(text[p.start : p.end] for p in pieces) == text


@pytest.mark.parametrize("text", CHUNK_TEXTS.values(), ids=CHUNK_TEXTS.keys())
def test_chunks_cover_the_text_exactly(text):
    assert_cover_exactly(text, chunks(text))


@pytest.mark.parametrize("text", CHUNK_TEXTS.values(), ids=CHUNK_TEXTS.keys())
def test_no_chunk_grows_beyond_twice_the_target(text):
    assert max(p.end - p.start for p in chunks(text)) <= 2 * CHUNK_TARGET


def test_empty_text_has_no_chunks():
    assert chunks("") == []


def test_short_text_is_one_chunk():
    assert chunks(ARTICLE) == [Chunk(0, 0, len(ARTICLE))]


def test_chunk_ends_after_each_run_of_newlines():
    text = "One.\nTwo.\n\n\nThree."

    assert [text[p.start : p.end] for p in chunks(text)] == ["One.\n", "Two.\n\n\n", "Three."]


def test_long_line_is_cut_after_a_space():
    text = "word " * 2000

    pieces = chunks(text)

    assert len(pieces) > 1
    for piece in pieces[:-1]:
        assert text[piece.end - 1] == " "
        assert piece.end - piece.start >= CHUNK_TARGET


def test_long_text_without_spaces_or_newlines_is_still_cut():
    text = "无人机袭击造成十六名平民死亡" * 1000

    pieces = chunks(text)

    assert len(pieces) >= len(text) // (2 * CHUNK_TARGET)
    assert max(p.end - p.start for p in pieces) <= 2 * CHUNK_TARGET
    assert_cover_exactly(text, pieces)


def test_smaller_target_makes_smaller_chunks():
    text = "word " * 100

    pieces = chunks(text, target=20)

    assert max(p.end - p.start for p in pieces) <= 40
    assert_cover_exactly(text, pieces)


def test_chunks_touching_a_range_are_those_sharing_a_character():
    pieces = [Chunk(0, 0, 10), Chunk(1, 10, 20), Chunk(2, 20, 30)]

    assert chunks_touching(pieces, 5, 15) == pieces[:2]
    assert chunks_touching(pieces, 10, 20) == [pieces[1]]
    assert chunks_touching(pieces, 19, 21) == pieces[1:]
    assert chunks_touching(pieces, 30, 31) == []


# --- rendering ---------------------------------------------------------------------------------


class Rendered(HTMLParser):
    """The chunks and segments of rendered HTML, with their attributes and text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.open: list[dict] = []
        self.chunks: list[dict] = []
        self.segments: list[dict] = []
        self.feed(html)
        self.close()
        assert not self.open, "unclosed elements"

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.open.append(element)
        classes = (element["attrs"].get("class") or "").split()
        if "chunk" in classes:
            self.chunks.append(element)
        else:
            assert "data-o" in element["attrs"], f"a segment without data-o: {tag} {attrs}"
            self.segments.append(element)

    def handle_endtag(self, tag):
        assert self.open.pop()["tag"] == tag

    def handle_data(self, data):
        assert self.open and self.open[-1] in self.segments, f"text outside a segment: {data!r}"
        self.open[-1]["text"] += data

    @property
    def text(self) -> str:
        return "".join(segment["text"] for segment in self.segments)

    def segment_at(self, offset: int) -> dict:
        return next(s for s in self.segments if int(s["attrs"]["data-o"]) == offset)


def assert_offsets_right(html, text, start=0):
    rendered = Rendered(html)
    offset = start
    for segment in rendered.segments:
        assert int(segment["attrs"]["data-o"]) == offset, segment
        offset += len(segment["text"])
    assert rendered.text == text[start:offset]
    return rendered


def spans_of(text, *specs):
    """RenderSpans from (id, label id, label name, phrase) tuples."""
    result = []
    for span_id, label_id, label_name, phrase in specs:
        start = text.index(phrase)
        result.append(RenderSpan(span_id, label_id, label_name, start, start + len(phrase)))
    return result


def test_plain_text_renders_as_itself():
    rendered = assert_offsets_right(render_text(ARTICLE, []), ARTICLE)

    assert rendered.text == ARTICLE
    assert all(s["tag"] == "span" for s in rendered.segments)


def test_every_segment_carries_its_code_point_offset_after_emoji_and_arabic():
    spans = spans_of(
        MIXED,
        (1, 10, "CASUALTY", "١٦ مدنياً"),
        (2, 11, "LOCATION", "دير الزور"),
        (3, 11, "LOCATION", "Deir ez-Zor"),
        (4, 12, "ACTOR", "👨‍👩‍👧"),
    )

    rendered = assert_offsets_right(render_text(MIXED, spans), MIXED)

    for span in spans:
        segment = rendered.segment_at(span.start)
        assert segment["tag"] == "mark"
        assert segment["text"] == MIXED[span.start : span.end]


def test_span_is_rendered_as_a_mark_with_its_ids_and_label():
    spans = spans_of(ARTICLE, (7, 3, "LOCATION", "Syria"))

    rendered = assert_offsets_right(render_text(ARTICLE, spans), ARTICLE)

    mark = rendered.segment_at(spans[0].start)
    assert mark["tag"] == "mark"
    assert mark["text"] == "Syria"
    assert mark["attrs"]["class"].split() == ["ann", "l3", "s", "e"]
    assert mark["attrs"]["data-ids"] == "7"
    assert mark["attrs"]["data-starts"] == "7"
    assert mark["attrs"]["data-tag"] == "LOCATION"


def test_script_in_the_text_is_escaped():
    text = 'The "source" said: <script>alert("x")</script> & \'left\' <b>now</b>.'

    html = render_text(text, spans_of(text, (1, 1, "SOURCE", '"source"')))

    assert "<script" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;" in html
    assert_offsets_right(html, text)


def test_character_references_in_the_text_are_not_decoded():
    text = "AT&amp;T &lt;b&gt; &#60;"

    assert_offsets_right(render_text(text, []), text)


def test_label_name_with_quotes_and_markup_is_escaped():
    label_name = "\"><script>alert(1)</script><x y='"
    text = "Russian air strikes"
    spans = [RenderSpan(1, 1, label_name, 0, 7)]

    html = render_text(text, spans)

    assert "<script" not in html
    rendered = assert_offsets_right(html, text)
    assert rendered.segment_at(0)["attrs"]["data-tag"] == label_name


def test_nested_spans_render_with_the_inner_one_first():
    outer, inner = spans_of(
        ARTICLE, (1, 10, "CASUALTY", "2,359 ISIS terrorists"), (2, 20, "ACTOR", "ISIS")
    )

    rendered = assert_offsets_right(render_text(ARTICLE, [outer, inner]), ARTICLE)

    before = rendered.segment_at(outer.start)
    middle = rendered.segment_at(inner.start)
    after = rendered.segment_at(inner.end)
    assert (before["text"], middle["text"], after["text"]) == ("2,359 ", "ISIS", " terrorists")
    assert before["attrs"]["data-ids"] == "1"
    assert middle["attrs"]["data-ids"] == "2 1"
    assert middle["attrs"]["class"].split() == ["ann", "l20", "o10", "s", "e"]
    assert middle["attrs"]["data-starts"] == "2"
    assert middle["attrs"]["data-tag"] == "ACTOR"
    assert after["attrs"]["data-tag"] == "CASUALTY"


def test_overlapping_spans_render_with_the_shared_part_marked_by_both():
    text = ARTICLE
    first = RenderSpan(1, 10, "ACTOR", 0, 19)  # "Russian air strikes"
    second = RenderSpan(2, 20, "EVENT", 8, 28)  # "air strikes in Syria"

    rendered = assert_offsets_right(render_text(text, [second, first]), text)

    texts = [s["text"] for s in rendered.segments[:3]]
    assert texts == ["Russian ", "air strikes", " in Syria"]
    assert rendered.segment_at(0)["attrs"]["data-ids"] == "1"
    assert set(rendered.segment_at(8)["attrs"]["data-ids"].split()) == {"1", "2"}
    assert rendered.segment_at(8)["attrs"]["data-tag"] == "ACTOR"
    assert rendered.segment_at(19)["attrs"]["data-ids"] == "2"
    assert rendered.segment_at(19)["attrs"]["data-tag"] == "EVENT"


def test_spans_sharing_both_ends_render_as_one_segment():
    text = ARTICLE
    spans = [RenderSpan(1, 10, "ACTOR", 23, 28), RenderSpan(2, 20, "LOCATION", 23, 28)]

    rendered = assert_offsets_right(render_text(text, spans), text)

    mark = rendered.segment_at(23)
    assert mark["text"] == "Syria"
    assert mark["attrs"]["data-starts"] == "1 2"
    assert mark["attrs"]["data-tag"] == "ACTOR LOCATION"


def test_adjacent_spans_render_as_two_segments():
    text = ARTICLE
    spans = [RenderSpan(1, 10, "ACTOR", 0, 7), RenderSpan(2, 10, "ACTOR", 7, 11)]

    rendered = assert_offsets_right(render_text(text, spans), text)

    assert rendered.segment_at(0)["attrs"]["data-ids"] == "1"
    assert rendered.segment_at(7)["attrs"]["data-ids"] == "2"


def test_span_crossing_a_chunk_boundary_is_marked_in_both_chunks():
    text = "word " * 1000
    boundary = chunks(text)[0].end
    span = RenderSpan(9, 10, "CASUALTY", boundary - 10, boundary + 10)

    rendered = assert_offsets_right(render_text(text, [span]), text)

    assert len(rendered.chunks) == len(chunks(text))
    assert [int(c["attrs"]["data-o"]) for c in rendered.chunks] == [c.start for c in chunks(text)]
    marked = [s for s in rendered.segments if s["tag"] == "mark"]
    assert "".join(s["text"] for s in marked) == text[span.start : span.end]
    assert [int(s["attrs"]["data-o"]) for s in marked] == [boundary - 10, boundary]
    assert "data-starts" in marked[0]["attrs"] and "data-tag" not in marked[0]["attrs"]
    assert "data-tag" in marked[1]["attrs"] and "data-starts" not in marked[1]["attrs"]


def test_many_nested_and_overlapping_spans_keep_every_offset_right():
    text = MIXED * 3
    spans = [
        RenderSpan(i, i % 5, f"L{i % 5}", start, min(start + width, len(text)))
        for i, (start, width) in enumerate(
            (start, width) for start in range(0, len(text) - 1, 7) for width in (3, 11, 25)
        )
    ]

    assert_offsets_right(render_text(text, spans), text)


def test_one_chunk_renders_only_its_own_text_at_its_own_offsets():
    text = "First paragraph.\nSecond paragraph with Syria.\n"
    chunk = chunks(text)[1]
    spans = spans_of(text, (1, 3, "ACTOR", "First"), (2, 4, "LOCATION", "Syria"))

    html = render_chunk(text, chunk, spans)

    rendered = assert_offsets_right(html, text, start=chunk.start)
    assert rendered.text == text[chunk.start : chunk.end]
    assert rendered.chunks[0]["attrs"]["id"] == "k1"
    assert rendered.chunks[0]["attrs"]["data-o"] == str(chunk.start)
    assert [s["attrs"].get("data-ids") for s in rendered.segments if s["tag"] == "mark"] == ["2"]


def test_chunk_rendered_for_an_out_of_band_swap_says_so():
    chunk = chunks(ARTICLE)[0]

    rendered = Rendered(render_chunk(ARTICLE, chunk, [], oob=True))

    assert rendered.chunks[0]["attrs"]["hx-swap-oob"] == "true"


def test_cached_chunks_follow_the_text_they_are_given():
    from annotator.text import cached_chunks

    first = "One paragraph.\nAnother one, longer than the first.\n"
    edited = "One paragraph, edited.\nAnother one, longer than the first.\n"

    assert cached_chunks(first) == tuple(chunks(first))
    assert cached_chunks(edited) == tuple(chunks(edited))
    assert cached_chunks(edited)[0].end == len("One paragraph, edited.\n")
