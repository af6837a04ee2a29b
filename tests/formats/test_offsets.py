import pytest

from annotator.formats import OffsetError, Utf16Offsets, fix_newlines
from annotator.formats.errors import INSIDE_SURROGATE_PAIR, OFFSET_BEYOND_TEXT


def test_crlf_becomes_lf_and_offsets_after_each_break_shift_back():
    original = "Idlib\r\nRaqqa\r\nDeir ez-Zor"
    fix = fix_newlines(original)
    assert fix.text == "Idlib\nRaqqa\nDeir ez-Zor"
    start = original.index("Deir")
    assert fix.text[fix.offset(start) : fix.offset(len(original))] == "Deir ez-Zor"
    assert fix.offset(original.index("Raqqa")) == fix.text.index("Raqqa")


def test_an_offset_between_cr_and_lf_lands_before_the_lf():
    fix = fix_newlines("a\r\nb")
    assert fix.offset(2) == 1 == fix.text.index("\n")


def test_a_lone_cr_becomes_lf_without_shifting_offsets():
    fix = fix_newlines("Idlib\rRaqqa")
    assert fix.text == "Idlib\nRaqqa"
    assert fix.offset(6) == 6


def test_a_text_without_cr_is_left_as_it_is():
    fix = fix_newlines("Idlib\nRaqqa")
    assert fix.text == "Idlib\nRaqqa" and fix.offset(7) == 7


def test_utf16_offsets_after_an_emoji_lose_one_unit():
    units = Utf16Offsets("😀 Idlib")
    assert (units.to_codepoints(3), units.to_codepoints(8)) == (2, 7)


def test_utf16_offsets_of_a_text_without_astral_characters_are_code_points():
    units = Utf16Offsets("إدلب Idlib")
    assert units.to_codepoints(5) == 5


def test_a_utf16_offset_inside_a_surrogate_pair_is_refused():
    with pytest.raises(OffsetError) as caught:
        Utf16Offsets("😀 Idlib").to_codepoints(1)
    assert caught.value.kind == INSIDE_SURROGATE_PAIR


def test_a_utf16_offset_past_the_text_is_refused():
    with pytest.raises(OffsetError) as caught:
        Utf16Offsets("😀 Idlib").to_codepoints(9)
    assert caught.value.kind == OFFSET_BEYOND_TEXT
