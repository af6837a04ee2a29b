"""The Syria gazetteer: built from GeoNames rows, matched ignoring case, diacritics and the
article, in Latin and Arabic script, with every place a name may mean as a candidate."""

import json
from pathlib import Path

import pytest

from annotator.claims import geonames
from annotator.claims.gazetteer import (
    GAZETTEER_PATH,
    Place,
    load_gazetteer,
    sites_from_list,
    suggest_document,
)
from annotator.claims.suggest import name_key

EXTRACT = Path(geonames.__file__).with_name("geonames")


def _locations(text, **kwargs):
    return [
        (p.suggestion.text, [c.name for c in p.candidates])
        for p in suggest_document(text, **kwargs)
        if p.suggestion.label == "LOCATION"
    ]


def test_the_shipped_file_is_what_the_build_script_makes_from_the_geonames_rows(capsys):
    assert geonames.main([str(EXTRACT)]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(GAZETTEER_PATH.read_text("utf-8"))


def test_the_shipped_file_is_small_and_credits_geonames():
    data = json.loads(GAZETTEER_PATH.read_text("utf-8"))
    assert GAZETTEER_PATH.stat().st_size < 300_000
    assert "GeoNames" in data["attribution"] and "CC BY 4.0" in data["license"]


def test_the_gazetteer_has_syria_its_neighbours_and_its_fourteen_governorates():
    places = load_gazetteer().places
    countries = {p.code for p in places if p.kind == "country"}
    assert countries == {"SY", "IQ", "JO", "IL", "TR", "LB"}
    governorates = sorted(p.code for p in places if p.kind == "admin1")
    assert governorates == [f"SY.{n:02d}" for n in range(1, 15)]


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("ALEPPO", "Aleppo"),  # case
        ("Ḩalab", "Aleppo"),  # diacritics
        ("Halab", "Aleppo"),
        ("al-Mayadeen", "Mayādīn"),  # an al- prefix
        ("Mayadeen", "Mayādīn"),  # ... dropped
        ("el-Bab", "Al Bāb"),  # el- for al-
        ("Deir Ez-Zor", "Dayr az Zawr"),  # hyphen or space between the words
        ("حلب", "Aleppo"),  # Arabic
        ("الرقة", "Ar Raqqah"),  # Arabic with its article
        ("رقة", "Ar Raqqah"),  # ... and without it
        ("إدلب", "Idlib"),  # hamza on the alef
    ],
)
def test_a_place_is_found_whatever_way_its_name_is_written(written, meant):
    assert meant in [p.name for p in load_gazetteer().candidates(written)]


def test_a_name_of_a_town_and_its_governorate_gives_both_as_candidates():
    found = load_gazetteer().candidates("Idlib")
    assert sorted(p.description for p in found) == [
        "governorate, SY.12",
        "populated place, in Idlib",
    ]


def test_an_ambiguous_location_suggestion_keeps_only_the_attributes_its_candidates_share():
    placed = suggest_document("Jets struck Idlib and Syria.")
    attributes = {p.suggestion.text: p.suggestion.attributes for p in placed}
    assert attributes["Idlib"] == {}
    assert attributes["Syria"] == {"loc_type": "country", "geo_precision": 5}


def test_suggestions_match_arabic_names_in_arabic_text():
    # The city and the governorate are both called حلب (the governorate's Arabic name is from
    # names-supplement.tsv); a name with the conjunction wa- joined to it ("وإدلب") is not
    # matched.
    assert _locations("قصف على حلب وإدلب") == [("حلب", ["Aleppo", "Aleppo"])]
    assert _locations("قصف على الرقة") == [
        ("الرقة", ["Ar-Raqqah", "Ar Raqqah"])
    ]  # governorate, city


def test_common_english_words_among_the_alternate_names_are_not_places():
    assert _locations("They tell us Sam was at the bab.") == []
    assert _locations("Shelling hit Bab.") == [("Bab", ["Al Bāb"])]
    assert not geonames.keep_alias("Tell")


@pytest.mark.parametrize(
    ("alias", "kept"),
    [
        ("Deir ez Zor", True),
        ("دير الزور", True),
        ("hlb", False),  # GeoNames' lowercase romanisation of an Arabic spelling
        ("ALP", False),  # an airport code
        ("Алеппо", False),  # another script
        ("Alepo - حلب", False),
    ],
)
def test_the_build_keeps_latin_and_arabic_names_only(alias, kept):
    assert geonames.keep_alias(alias) is kept


def test_a_managers_site_is_matched_with_its_aliases_and_comes_first_among_candidates():
    sites = sites_from_list([{"name": "Thardat hills", "aliases": ["al-Thardat", "Tharda"]}])
    assert _locations("Fighting in the Thardat area.", sites=sites) == [
        ("Thardat", ["Thardat hills"])
    ]
    assert sites[0] == Place(
        "site:Thardat hills", "Thardat hills", "site", ("al-Thardat", "Tharda")
    )


def test_name_keys_ignore_case_diacritics_articles_and_joiners():
    assert name_key("Deir Ez-Zor") == name_key("deir ez zor") == "deir ez zor"
    assert name_key("al-Ḥasakah") == name_key("Hasakah")
    assert name_key("الحسكة") == name_key("حسكة")


def test_the_builder_reads_full_dumps_and_refuses_a_short_row():
    with pytest.raises(ValueError, match="columns"):
        geonames.read_admin1(["SY.01\tAl-Hasakah"])
    rows = geonames.read_admin1(["TR.31\tHatay\tHatay\t312394", "SY.12\tIdlib\tIdlib\t169387"])
    assert rows == [{"code": "SY.12", "name": "Idlib", "ascii": "Idlib", "id": 169387}]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("دير الزور", "SY.07"),  # a governorate by its Arabic name
        ("Rural Damascus", "SY.08"),  # ... by a press spelling
        ("ريف دمشق", "SY.08"),
        ("Raqqa", "SY.04"),
        ("سوريا", "SY"),  # a country by its Arabic name
        ("Türkiye", "TR"),
    ],
)
def test_governorates_and_countries_have_their_arabic_and_press_names(written, code):
    assert code in [p.code for p in load_gazetteer().candidates(written)]


def test_the_hand_kept_names_are_marked_as_not_geonames_data():
    supplement = (EXTRACT / "names-supplement.tsv").read_text("utf-8")
    assert "NOT GeoNames data" in supplement
    assert "names-supplement.tsv" in json.loads(GAZETTEER_PATH.read_text("utf-8"))["about"]
