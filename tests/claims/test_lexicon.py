"""The lexicon is data a manager edits: it loads, round-trips and names every bad entry."""

import copy

import pytest

from annotator.claims import Lexicon, LexiconError, load_lexicon


@pytest.fixture
def english():
    return load_lexicon("en").to_dict()


def _error_for(data) -> LexiconError:
    with pytest.raises(LexiconError) as caught:
        Lexicon.from_dict(data)
    return caught.value


def test_the_english_default_loads():
    assert load_lexicon("en").language == "en"


def test_the_arabic_lexicon_loads():
    assert load_lexicon("ar").language == "ar"


def test_an_unknown_language_is_a_lookup_error():
    with pytest.raises(LookupError, match="xx"):
        load_lexicon("xx")


def test_the_default_vague_words_carry_the_codebook_figures():
    dozens = load_lexicon("en").vague["dozens"]
    assert (dozens.low, dozens.high, dozens.single) == (24, 99, 12)


def test_a_lexicon_round_trips_through_its_json(english):
    assert Lexicon.from_dict(english) == load_lexicon("en")


def test_to_dict_returns_a_copy_the_caller_may_change(english):
    english["vague"].clear()
    assert load_lexicon("en").to_dict()["vague"]


def test_a_vague_word_with_low_above_high_is_named(english):
    english["vague"]["dozens"]["low"] = 100
    assert "vague['dozens']: low 100 > high 99" in _error_for(english).errors


def test_a_vague_word_with_a_missing_figure_is_named(english):
    del english["vague"]["scores"]["single"]
    assert (
        "vague['scores']: single must be a non-negative integer, got None"
        in _error_for(english).errors
    )


def test_a_number_word_with_a_non_integer_value_is_named(english):
    english["number_words"]["sixteen"] = "16"
    assert (
        "number_words['sixteen']: must be an integer >= 0, got '16'" in _error_for(english).errors
    )


def test_a_number_word_of_two_words_is_named(english):
    english["number_words"]["a score"] = 20
    assert "number_words['a score']: must be a single word" in _error_for(english).errors


def test_an_empty_modifier_is_named_by_its_position(english):
    english["modifiers"]["lower_bound"].append("  ")
    errors = _error_for(english).errors
    index = len(english["modifiers"]["lower_bound"]) - 1
    assert f"modifiers['lower_bound'][{index}]: must be a non-empty phrase, got '  '" in errors


def test_an_unknown_modifier_kind_is_named(english):
    english["modifiers"]["roughly"] = ["roughly"]
    assert any(
        e.startswith("modifiers['roughly']: unknown modifier kind")
        for e in _error_for(english).errors
    )


def test_a_modifier_listed_under_two_kinds_is_named(english):
    english["modifiers"]["upper_bound"].append("over")
    assert (
        "modifiers: 'over' is listed as both lower_bound and upper_bound"
        in _error_for(english).errors
    )


def test_a_bad_range_pattern_is_named(english):
    english["range_patterns"].append(["between"])
    assert any(e.startswith("range_patterns[2]:") for e in _error_for(english).errors)


def test_an_unknown_outcome_is_named(english):
    english["suggest"]["outcome_words"]["slaughtered"] = "murdered"
    assert any(
        e.startswith("suggest['outcome_words']['slaughtered']: outcome must be one of")
        for e in _error_for(english).errors
    )


def test_an_unknown_top_level_key_is_named(english):
    english["vauge"] = {}
    assert "unknown key 'vauge'" in _error_for(english).errors


def test_a_missing_required_key_is_named(english):
    del english["number_words"]
    assert "missing key 'number_words'" in _error_for(english).errors


def test_every_bad_entry_is_reported_at_once(english):
    broken = copy.deepcopy(english)
    broken["vague"]["dozens"]["low"] = 100
    broken["number_words"]["one"] = -1
    assert len(_error_for(broken).errors) == 2


def test_the_error_message_lists_the_entries(english):
    english["vague"]["dozens"]["low"] = 100
    assert "vague['dozens']" in str(_error_for(english))


def test_a_lexicon_must_be_a_json_object():
    assert _error_for(["dozens"]).errors == ["the lexicon must be a JSON object, got list"]


def test_a_minimal_lexicon_needs_only_the_required_keys():
    lexicon = Lexicon.from_dict(
        {
            "number_words": {"one": 1},
            "scale_words": {},
            "modifiers": {},
            "vague": {"loads": {"low": 10, "high": 50, "single": 10}},
        }
    )
    assert lexicon.vague["loads"].high == 50
