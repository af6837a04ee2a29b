"""The codebook: the shipped default, its snapshot per version, and attribute validation."""

import dataclasses

import pytest
from django.core.exceptions import ValidationError

from annotator.codebook import (
    AttributeSpec,
    LabelSpec,
    _load_codebook,
    clean_attributes,
    get_codebook,
    load_default_codebook,
)
from annotator.models import AttributeDefinition, Label

CLAIM = LabelSpec(
    id=1,
    name="CLAIM",
    colour="#ffffff",
    hotkey="c",
    enabled=True,
    description="",
    examples="",
    attributes=(
        AttributeSpec(name="outcome", kind="enum", values=("killed", "injured")),
        AttributeSpec(name="precision", kind="enum", values=(1, 2, 3)),
        AttributeSpec(name="groups", kind="multi_enum", values=("army", "police", "civilians")),
        AttributeSpec(name="low", kind="integer"),
        AttributeSpec(name="hedged", kind="boolean"),
        AttributeSpec(name="note", kind="text"),
        AttributeSpec(
            name="actor",
            kind="reference",
            list_name="actors",
            allow_other=True,
            list_values=("Islamic State",),
        ),
        AttributeSpec(
            name="outlet",
            kind="reference",
            list_name="outlets",
            allow_other=False,
            list_values=("SANA", "Alwaght"),
        ),
    ),
)


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def errors_for(attributes) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        clean_attributes(CLAIM, attributes)
    return excinfo.value.message_dict["attributes"]


# --- the shipped default -----------------------------------------------------------------------


def test_default_codebook_switches_the_optional_labels_off(project):
    codebook = get_codebook(project)

    assert [label.name for label in codebook.enabled_labels] == [
        "ACTOR",
        "LOCATION",
        "DATE",
        "SOURCE",
        "CASUALTY",
    ]
    assert {label.name for label in codebook.labels if not label.enabled} == {
        "MATERIEL",
        "EVENT",
        "WEAPON",
    }


def test_default_codebook_forbids_overlap(project):
    assert get_codebook(project).allow_overlap is False


def test_default_relations_have_the_codebooks_cardinalities(project):
    codebook = get_codebook(project)

    cardinality = {rt.name: rt.cardinality for rt in codebook.relation_types}
    assert cardinality == {
        "claimed_by": "exactly 1",
        "perpetrator": "any",
        "victim_group": "any",
        "location": "any",
        "date": "any",
        "subset_of": "at most 1",
        "cites": "at most 1",
        "located_in": "at most 1",
    }


def test_default_relations_link_the_codebooks_labels(project):
    codebook = get_codebook(project)

    ends = {
        rt.name: (
            codebook.label_by_id(rt.from_label_id).name,
            codebook.label_by_id(rt.to_label_id).name,
        )
        for rt in codebook.relation_types
    }
    assert ends == {
        "claimed_by": ("CASUALTY", "SOURCE"),
        "perpetrator": ("CASUALTY", "ACTOR"),
        "victim_group": ("CASUALTY", "ACTOR"),
        "location": ("CASUALTY", "LOCATION"),
        "date": ("CASUALTY", "DATE"),
        "subset_of": ("CASUALTY", "CASUALTY"),
        "cites": ("SOURCE", "SOURCE"),
        "located_in": ("LOCATION", "LOCATION"),
    }


def test_default_attribute_defaults_are_values_of_their_lists():
    for label in load_default_codebook()["labels"]:
        for attribute in label.get("attributes", []):
            if attribute.get("default") is not None:
                assert attribute["default"] in attribute["values"], (
                    label["name"],
                    attribute["name"],
                )


def test_default_label_hotkeys_are_distinct():
    hotkeys = [label["hotkey"] for label in load_default_codebook()["labels"]]

    assert len(hotkeys) == len(set(hotkeys))


def test_default_reference_attributes_see_the_project_lists(project):
    actor = get_codebook(project).label_by_name("ACTOR")

    assert "Islamic State" in actor.attribute("canonical").list_values


def test_relation_types_from_a_label_are_the_ones_it_may_start(project):
    codebook = get_codebook(project)
    source = codebook.label_by_name("SOURCE")

    assert [rt.name for rt in codebook.relation_types_from(source.id)] == ["cites"]


# --- the snapshot ------------------------------------------------------------------------------


def test_codebook_snapshot_cannot_be_changed_in_place(project):
    codebook = get_codebook(project)

    with pytest.raises(dataclasses.FrozenInstanceError):
        codebook.allow_overlap = True


def test_codebook_snapshot_is_shared_while_the_version_stands(project):
    assert get_codebook(project) is get_codebook(project)


def test_codebook_change_is_seen_once_the_version_is_bumped(project):
    get_codebook(project)
    Label.objects.filter(project=project, name="WEAPON").update(enabled=True)
    project.codebook_version += 1
    project.save(update_fields=["codebook_version"])

    codebook = get_codebook(project)

    assert codebook.version == project.codebook_version
    assert codebook.label_by_name("WEAPON").enabled


def test_codebook_snapshot_follows_the_overlap_setting(project):
    get_codebook(project)
    project.allow_overlap = True
    project.save(update_fields=["allow_overlap"])

    assert get_codebook(project).allow_overlap is True


def test_codebook_snapshots_of_two_projects_are_separate(project, outsider):
    other = outsider.memberships.get().project
    mine, theirs = get_codebook(project), get_codebook(other)

    assert mine.label_by_name("ACTOR").id != theirs.label_by_name("ACTOR").id
    assert mine.label_by_id(theirs.label_by_name("ACTOR").id) is None


def test_new_attribute_definition_reaches_the_snapshot_with_the_next_version(project):
    actor = Label.objects.get(project=project, name="ACTOR")
    AttributeDefinition.objects.create(label=actor, name="strength", kind="integer")
    project.codebook_version += 1
    project.save(update_fields=["codebook_version"])

    spec = get_codebook(project).label_by_name("ACTOR")

    assert clean_attributes(spec, {"strength": "1500"}) == {"strength": 1500}


# --- clean_attributes --------------------------------------------------------------------------


def test_no_attributes_clean_to_an_empty_dict():
    assert clean_attributes(CLAIM, None) == {}
    assert clean_attributes(CLAIM, {}) == {}


def test_attributes_that_are_not_an_object_are_refused():
    assert errors_for(["outcome", "killed"]) == ["must be an object of attribute name to value"]


def test_unset_values_are_left_out():
    cleaned = clean_attributes(CLAIM, {"outcome": None, "note": "", "groups": [], "low": 3})

    assert cleaned == {"low": 3}


def test_text_of_only_whitespace_is_left_out():
    assert clean_attributes(CLAIM, {"note": "   \t"}) == {}


def test_unknown_attribute_is_refused_naming_the_known_ones():
    assert errors_for({"colour": "red"}) == [
        "colour: CLAIM has no attribute 'colour' "
        "(it has: outcome, precision, groups, low, hedged, note, actor, outlet)"
    ]


def test_every_fault_is_reported_at_once():
    errors = errors_for({"colour": "red", "outcome": "dead", "low": "many"})

    assert [error.split(":")[0] for error in errors] == ["colour", "outcome", "low"]


def test_enum_value_from_the_list_is_kept():
    assert clean_attributes(CLAIM, {"outcome": "killed"}) == {"outcome": "killed"}


def test_enum_value_outside_the_list_is_refused():
    assert errors_for({"outcome": "Killed"}) == ["outcome: 'Killed' is not one of: killed, injured"]


def test_numeric_enum_accepts_the_number_as_text():
    assert clean_attributes(CLAIM, {"precision": "2"}) == {"precision": 2}


@pytest.mark.parametrize("bad", [True, "4", 4, "two"])
def test_numeric_enum_refuses_values_not_in_the_list(bad):
    assert errors_for({"precision": bad}) == [f"precision: {bad!r} is not one of: 1, 2, 3"]


def test_multi_enum_keeps_each_value_once_in_order():
    cleaned = clean_attributes(CLAIM, {"groups": ["police", "army", "police"]})

    assert cleaned == {"groups": ["police", "army"]}


def test_multi_enum_refuses_a_single_value():
    assert errors_for({"groups": "army"}) == ["groups: 'army' is not a list of values"]


def test_multi_enum_refuses_a_value_outside_the_list():
    assert errors_for({"groups": ["army", "rebels"]}) == [
        "groups: 'rebels' is not one of: army, police, civilians"
    ]


@pytest.mark.parametrize(
    ("given", "stored"), [(12, 12), ("12", 12), (" 12 ", 12), ("-3", -3), ("١٦", 16)]
)
def test_integer_accepts_whole_numbers_and_their_text(given, stored):
    assert clean_attributes(CLAIM, {"low": given}) == {"low": stored}


@pytest.mark.parametrize("bad", [True, False, 12.0, "12.5", "twelve", "2,359", [12]])
def test_integer_refuses_anything_else(bad):
    assert errors_for({"low": bad}) == [f"low: {bad!r} is not a whole number"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [(True, True), (False, False), ("yes", True), ("No", False), ("1", True), ("false", False)],
)
def test_boolean_accepts_yes_and_no_in_their_usual_forms(given, stored):
    assert clean_attributes(CLAIM, {"hedged": given}) == {"hedged": stored}


def test_boolean_refuses_anything_else():
    assert errors_for({"hedged": "maybe"}) == ["hedged: 'maybe' is not yes or no"]


def test_text_is_stripped():
    assert clean_attributes(CLAIM, {"note": "  two dozen \n"}) == {"note": "two dozen"}


def test_text_longer_than_500_characters_is_refused():
    assert errors_for({"note": "x" * 501}) == ["note: is longer than 500 characters"]


def test_text_refuses_a_number():
    assert errors_for({"note": 12}) == ["note: 12 is not text"]


def test_reference_open_to_other_names_accepts_a_new_name():
    assert clean_attributes(CLAIM, {"actor": "Tiger Forces"}) == {"actor": "Tiger Forces"}


def test_reference_closed_to_other_names_accepts_a_listed_name():
    assert clean_attributes(CLAIM, {"outlet": " SANA "}) == {"outlet": "SANA"}


def test_reference_closed_to_other_names_refuses_a_new_name():
    assert errors_for({"outlet": "Reuters"}) == [
        "outlet: 'Reuters' is not in the project's outlets list"
    ]
