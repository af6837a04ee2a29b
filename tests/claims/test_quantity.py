"""The number normaliser against the codebook's NUMBER LEXICON, row by row."""

import dataclasses

import pytest

from annotator.claims import Lexicon, QuantifierType, load_lexicon, parse_quantity

# The codebook's NUMBER LEXICON, one line per expression it lists ("–" is no value, "" no text).
LEXICON_TABLE = """
span text                       | count_text            | type        | low   | best | high  | single
2,359 ISIS terrorists           | 2,359                 | exact       | 2359  | 2359 | 2359  | 2359
sixteen soldiers                | sixteen               | exact       | 16    | 16   | 16    | 16
١٦ soldiers                     | ١٦                    | exact       | 16    | 16   | 16    | 16
about 50 civilians              | about 50              | approximate | 50    | 50   | 50    | 50
around 50 civilians             | around 50             | approximate | 50    | 50   | 50    | 50
approximately 50 civilians      | approximately 50      | approximate | 50    | 50   | 50    | 50
some 50 civilians               | some 50               | approximate | 50    | 50   | 50    | 50
roughly 50 civilians            | roughly 50            | approximate | 50    | 50   | 50    | 50
nearly 50 civilians             | nearly 50             | approximate | 50    | 50   | 50    | 50
almost 50 civilians             | almost 50             | approximate | 50    | 50   | 50    | 50
close to 50 civilians           | close to 50           | approximate | 50    | 50   | 50    | 50
over 400 civilians              | over 400              | lower_bound | 400   | 400  | –     | 400
more than 400 civilians         | more than 400         | lower_bound | 400   | 400  | –     | 400
at least 400 civilians          | at least 400          | lower_bound | 400   | 400  | –     | 400
upwards of 400 civilians        | upwards of 400        | lower_bound | 400   | 400  | –     | 400
400-plus civilians              | 400-plus              | lower_bound | 400   | 400  | –     | 400
400+ civilians                  | 400+                  | lower_bound | 400   | 400  | –     | 400
up to 30 civilians              | up to 30              | upper_bound | –     | 30   | 30    | 30
as many as 30 civilians         | as many as 30         | upper_bound | –     | 30   | 30    | 30
no more than 30 civilians       | no more than 30       | upper_bound | –     | 30   | 30    | 30
5–10 civilians                  | 5–10                  | range       | 5     | –    | 10    | 5
5-10 civilians                  | 5-10                  | range       | 5     | –    | 10    | 5
between 5 and 10 civilians      | between 5 and 10      | range       | 5     | –    | 10    | 5
from 5 to 10 civilians          | from 5 to 10          | range       | 5     | –    | 10    | 5
a dozen soldiers                | a dozen               | approximate | 12    | 12   | 12    | 12
two dozen soldiers              | two dozen             | approximate | 24    | 24   | 24    | 24
a couple of soldiers            | a couple of           | vague       | 2     | –    | 3     | 2
a couple soldiers               | a couple              | vague       | 2     | –    | 3     | 2
a few soldiers                  | a few                 | vague       | 2     | –    | 5     | 2
several soldiers                | several               | vague       | 3     | –    | 9     | 3
tens of civilians               | tens of               | vague       | 20    | –    | 99    | 10
dozens of civilians             | dozens of             | vague       | 24    | –    | 99    | 12
scores of civilians             | scores of             | vague       | 40    | –    | 199   | 20
hundreds of civilians           | hundreds of           | vague       | 200   | –    | 999   | 100
thousands of civilians          | thousands of          | vague       | 2000  | –    | 9999  | 1000
a few dozen fighters            | a few dozen           | vague       | 24    | –    | 60    | 24
several hundred fighters        | several hundred       | vague       | 300   | –    | 900   | 300
tens of thousands of people     | tens of thousands of  | vague       | 20000 | –    | 99000 | 10000
ISIS terrorists                 | ""                    | unspecified | 1     | –    | –     | –
one soldier                     | one                   | exact       | 1     | 1    | 1     | 1
a soldier                       | a                     | exact       | 1     | 1    | 1     | 1
no casualties                   | no                    | exact       | 0     | 0    | 0     | 0
no one was killed               | no one                | exact       | 0     | 0    | 0     | 0
"""


def _cell(text):
    if text == "–":
        return None
    if text == '""':
        return ""
    return int(text) if text.isascii() and text.isdigit() else text


LEXICON_ROWS = [
    pytest.param(cells[0], tuple(_cell(c) for c in cells[1:]), id=cells[0])
    for line in LEXICON_TABLE.strip().splitlines()[1:]
    for cells in [[c.strip() for c in line.split("|")]]
]


def _values(q):
    return (q.count_text, q.quantifier_type, q.low, q.best, q.high, q.single_figure)


@pytest.mark.parametrize(("text", "expected"), LEXICON_ROWS)
def test_every_lexicon_row_normalises_as_the_codebook_says(text, expected):
    assert _values(parse_quantity(text)) == expected


@pytest.mark.parametrize("claim_id", ["C1", "C2", "C3", "C4"])
def test_demo_claims_normalise_to_exactly_the_gold_attributes(seed_gold, claim_id):
    span = next(s for s in seed_gold["spans"] if s["id"] == claim_id)
    gold = {
        k: span["attributes"][k] for k in ("count_text", "quantifier_type", "low", "best", "high")
    }

    assert parse_quantity(span["text"]).as_attributes() == gold


def test_demo_gold_has_exactly_the_four_claims_tested_above(seed_gold):
    claims = [s["id"] for s in seed_gold["spans"] if s["label"] == "CASUALTY"]
    assert claims == ["C1", "C2", "C3", "C4"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("٢٣٥٩ قتيلا", 2359),
        ("٢٬٣٥٩ civilians", 2359),
        ("١٦ soldiers", 16),
        ("۲۳۵۹ نفر", 2359),
        ("۱۶ نفر", 16),
    ],
    ids=[
        "arabic-indic",
        "arabic-indic-with-arabic-separator",
        "arabic-indic-16",
        "persian",
        "persian-16",
    ],
)
def test_arabic_indic_and_persian_digits_are_read_as_numbers(text, value):
    q = parse_quantity(text)
    assert (q.quantifier_type, q.best) == ("exact", value)


@pytest.mark.parametrize(
    "text", ["2,359 men", "2.359 men", "2 359 men", "2\u202f359 men", "2\u00a0359 men"]
)
def test_thousands_separators_may_be_comma_dot_or_space(text):
    assert parse_quantity(text).best == 2359


def test_a_dot_followed_by_other_than_three_digits_is_a_decimal_not_a_count():
    assert parse_quantity("2.35 men").quantifier_type == "unspecified"


def test_a_decimal_with_a_scale_word_is_an_exact_count():
    assert parse_quantity("2.3 million people").best == 2_300_000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("one hundred and twenty people", 120),
        ("twenty-one civilians", 21),
        ("twenty one civilians", 21),
        ("a thousand people", 1000),
        ("a hundred people", 100),
        ("two thousand three hundred fifty-nine people", 2359),
        ("nineteen soldiers", 19),
    ],
)
def test_number_words_are_numbers(text, value):
    q = parse_quantity(text)
    assert (q.quantifier_type, q.best) == ("exact", value)


def test_number_words_stop_at_the_first_word_that_does_not_continue_them():
    assert parse_quantity("five six-year-old children").best == 5


def test_over_a_dozen_is_a_lower_bound_of_twelve():
    q = parse_quantity("over a dozen soldiers")
    assert _values(q) == ("over a dozen", "lower_bound", 12, 12, None, 12)


def test_at_least_dozens_is_a_lower_bound_of_twenty_four():
    q = parse_quantity("at least dozens of soldiers")
    assert _values(q) == ("at least dozens of", "lower_bound", 24, 24, None, 24)


def test_an_upper_bound_on_a_vague_word_keeps_no_best_guess():
    q = parse_quantity("up to hundreds of civilians")
    assert _values(q) == ("up to hundreds of", "upper_bound", None, None, 999, 100)


def test_an_approximate_modifier_leaves_a_vague_word_vague():
    q = parse_quantity("some dozens of civilians")
    assert _values(q) == ("some dozens of", "vague", 24, None, 99, 12)


def test_hundreds_of_thousands_multiplies_the_vague_word_by_a_thousand():
    q = parse_quantity("hundreds of thousands of people")
    assert (q.low, q.high, q.single_figure) == (200_000, 999_000, 100_000)


def test_a_number_inside_the_victim_phrase_is_not_the_count():
    assert (
        parse_quantity("citizens from 15 former Soviet Republics").quantifier_type == "unspecified"
    )


def test_the_count_at_the_start_wins_over_a_number_later_in_the_phrase():
    assert parse_quantity("over 400 citizens from 15 former Soviet Republics").best == 400


def test_a_count_after_a_word_of_outcome_is_found_when_the_span_starts_too_early():
    q = parse_quantity("the deaths of 2,359 ISIS terrorists")
    assert (q.count_text, q.count_start, q.count_end, q.best) == ("2,359", 14, 19, 2359)


def test_leading_fillers_are_not_part_of_the_count_text():
    q = parse_quantity("a total of 35 civilians")
    assert (q.count_text, q.count_start, q.best) == ("35", 11, 35)


def test_count_offsets_point_at_the_count_text_within_the_span():
    text = "the nearly 200 civilians"
    q = parse_quantity(text)
    assert text[q.count_start : q.count_end] == q.count_text == "nearly 200"


def test_a_modifier_word_without_a_number_is_not_a_quantity():
    assert parse_quantity("some military posts").quantifier_type == "unspecified"


def test_a_descending_pair_is_not_a_range():
    assert parse_quantity("10-5 civilians").quantifier_type == "exact"


@pytest.mark.parametrize("text", ["", "   ", ", -"])
def test_text_without_quantity_or_words_gives_none(text):
    assert parse_quantity(text) is None


def test_quantity_is_immutable():
    q = parse_quantity("16 soldiers")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.best = 17


def test_quantifier_type_compares_equal_to_its_plain_string():
    assert parse_quantity("16 soldiers").quantifier_type == QuantifierType.EXACT == "exact"


def test_as_attributes_holds_the_five_normaliser_fields_as_plain_json():
    assert parse_quantity("over 400 citizens").as_attributes() == {
        "count_text": "over 400",
        "quantifier_type": "lower_bound",
        "low": 400,
        "best": 400,
        "high": None,
    }


def test_a_project_lexicon_edit_changes_the_figures():
    data = load_lexicon("en").to_dict()
    data["vague"]["dozens"] = {"low": 24, "high": 99, "single": 24}
    q = parse_quantity("dozens of civilians", Lexicon.from_dict(data))
    assert q.single_figure == 24


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أكثر من ٤٠٠ مدني", ("أكثر من ٤٠٠", "lower_bound", 400, 400, None, 400)),
        ("عشرات المدنيين", ("عشرات", "vague", 20, None, 99, 10)),
        ("مئات القتلى", ("مئات", "vague", 200, None, 999, 100)),
        ("عشرات الآلاف من النازحين", ("عشرات الآلاف", "vague", 20_000, None, 99_000, 10_000)),
        ("بين ٥ و١٠ أشخاص", ("بين ٥ و١٠", "range", 5, None, 10, 5)),
        ("خمسة جنود", ("خمسة", "exact", 5, 5, 5, 5)),
        ("٣ آلاف شخص", ("٣ آلاف", "exact", 3000, 3000, 3000, 3000)),
        ("نحو ٥٠ مدنيا", ("نحو ٥٠", "approximate", 50, 50, 50, 50)),
    ],
)
def test_the_arabic_lexicon_reads_arabic_quantifiers(text, expected):
    assert _values(parse_quantity(text, load_lexicon("ar"))) == expected
