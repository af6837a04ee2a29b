"""Changing the codebook: every change bumps the version the codebook snapshot is cached
under, is audited, and is refused when it would invalidate coded spans or links."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from annotator.codebook import _load_codebook, get_codebook
from annotator.models import (
    Annotation,
    AttributeDefinition,
    AuditEvent,
    Label,
    ListEntry,
    RelationType,
)
from annotator.services import relation_create, span_create, span_delete
from annotator.services.codebook import (
    ATTRIBUTE_IN_USE,
    ATTRIBUTE_KIND_IN_USE,
    ATTRIBUTE_RENAME_IN_USE,
    BAD_COLOUR,
    ENTRY_IN_USE,
    ENTRY_NAME_TAKEN,
    LABEL_HAS_RELATION_TYPES,
    LABEL_HOTKEY_TAKEN,
    LABEL_IN_USE,
    LABEL_NAME_TAKEN,
    MAX_BELOW_MIN,
    RESERVED_HOTKEY,
    VALUE_IN_USE,
    attribute_create,
    attribute_delete,
    attribute_update,
    label_create,
    label_delete,
    label_update,
    list_entry_add,
    list_entry_remove,
    relation_type_create,
    relation_type_delete,
    relation_type_update,
)
from tests.factories import quote_span


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def tag(document, coder, label, phrase, **attributes):
    span, _ = span_create(
        document=document,
        coder=coder,
        label=label,
        attributes=attributes or None,
        **quote_span(document, phrase),
    )
    return span


def label(project, name) -> Label:
    return project.labels.get(name=name)


def attribute(project, label_name, name) -> AttributeDefinition:
    # Through the label, so attribute.label.project is `project` and sees its version bumps.
    return label(project, label_name).attributes.get(name=name)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def versions(project) -> tuple[int, int]:
    """(the instance's version, the stored version): the service keeps them in step."""
    return project.codebook_version, type(project).objects.get(pk=project.pk).codebook_version


# --- Labels -------------------------------------------------------------------------------


def test_manager_adds_a_label_and_the_codebook_shows_it(project, manager):
    before = project.codebook_version
    new = label_create(
        project=project,
        user=manager,
        name="WEAPON_SYSTEM",
        colour="#AABBCC",
        hotkey="x",
        description="Named weapon systems",
        examples="S-400\nKalibr",
    )
    assert versions(project) == (before + 1, before + 1)
    spec = get_codebook(project).label_by_name("WEAPON_SYSTEM")
    assert spec is not None and spec.colour == "#aabbcc" and spec.hotkey == "x" and spec.enabled
    assert new.order == max(project.labels.exclude(pk=new.pk).values_list("order", flat=True)) + 1
    event = AuditEvent.objects.get(action="codebook.label.create")
    assert (event.project_id, event.user, event.object_type, event.object_id) == (
        project.pk,
        manager,
        "label",
        new.pk,
    )
    assert event.before is None and event.after["name"] == "WEAPON_SYSTEM"


def test_manager_renames_and_recolours_a_label(project, manager):
    actor = label(project, "ACTOR")
    before = project.codebook_version
    label_update(label=actor, user=manager, name="ARMED_ACTOR", colour="#123456")
    codebook = get_codebook(actor.project)
    assert codebook.version == before + 1
    assert codebook.label_by_name("ACTOR") is None
    assert codebook.label_by_id(actor.pk).name == "ARMED_ACTOR"
    event = AuditEvent.objects.get(action="codebook.label.update")
    assert event.before["name"] == "ACTOR" and event.after["name"] == "ARMED_ACTOR"
    assert event.after["colour"] == "#123456"


def test_renaming_a_label_keeps_its_spans(project, manager, document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    label_update(label=label(project, "ACTOR"), user=manager, name="FORCE")
    span.refresh_from_db()
    assert get_codebook(project).label_by_id(span.label_id).name == "FORCE"


def test_switching_off_a_label_in_use_is_allowed_and_its_spans_stay(
    project, manager, document, coder
):
    span = tag(document, coder, "ACTOR", "Russian")
    label_update(label=label(project, "ACTOR"), user=manager, enabled=False)
    assert get_codebook(project).label_by_name("ACTOR").enabled is False
    assert Annotation.objects.alive().filter(pk=span.pk).exists()


def test_a_save_without_changes_leaves_the_version_alone(project, manager):
    actor = label(project, "ACTOR")
    before = project.codebook_version
    label_update(label=actor, user=manager, name="ACTOR", colour=actor.colour)
    assert versions(actor.project) == (before, before)
    assert not AuditEvent.objects.filter(action__startswith="codebook.").exists()


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#gggggg", ""])
def test_a_colour_must_be_rrggbb(project, manager, colour):
    with pytest.raises(ValidationError) as excinfo:
        label_create(project=project, user=manager, name="NEW", colour=colour)
    assert errors_of(excinfo) == {"colour": [BAD_COLOUR.format(value=colour)]}


def test_a_hotkey_is_unique_in_the_project(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        label_update(label=label(project, "DATE"), user=manager, hotkey="a")
    assert errors_of(excinfo) == {"hotkey": [LABEL_HOTKEY_TAKEN.format(value="a", other="ACTOR")]}


def test_a_hotkey_is_one_character_and_not_a_coding_screen_key(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        label_create(project=project, user=manager, name="NEW", hotkey="xy")
    assert "hotkey 'xy' must be a single character" in errors_of(excinfo)["hotkey"][0]
    with pytest.raises(ValidationError) as excinfo:
        label_create(project=project, user=manager, name="NEW", hotkey="n")
    assert errors_of(excinfo) == {"hotkey": [RESERVED_HOTKEY.format(value="n")]}


def test_a_label_name_is_unique_ignoring_case(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        label_create(project=project, user=manager, name="actor", colour="#nope")
    assert errors_of(excinfo) == {
        "name": [LABEL_NAME_TAKEN.format(value="actor", other="ACTOR")],
        "colour": [BAD_COLOUR.format(value="#nope")],
    }
    assert project.labels.filter(name__iexact="actor").count() == 1


def test_manager_deletes_an_unused_label(project, manager):
    weapon = label(project, "WEAPON")
    before = project.codebook_version
    label_delete(label=weapon, user=manager)
    assert not Label.objects.filter(pk=weapon.pk).exists()
    assert get_codebook(weapon.project).version == before + 1
    assert get_codebook(weapon.project).label_by_name("WEAPON") is None
    event = AuditEvent.objects.get(action="codebook.label.delete")
    assert event.object_id == weapon.pk and event.before["name"] == "WEAPON" and event.after is None


def test_deleting_a_label_in_use_is_refused_with_the_count(
    project, manager, document, coder, other_coder
):
    tag(document, coder, "ACTOR", "Russian")
    tag(document, other_coder, "ACTOR", "Russian")
    before = project.codebook_version
    with pytest.raises(ValidationError) as excinfo:
        label_delete(label=label(project, "ACTOR"), user=manager)
    assert errors_of(excinfo) == {
        NON_FIELD_ERRORS: [LABEL_IN_USE.format(label="ACTOR", annotations="2 annotations")]
    }
    assert "ACTOR is used by 2 annotations; switch it off instead" in str(excinfo.value)
    assert project.labels.filter(name="ACTOR").exists()
    assert versions(project) == (before, before)


def test_deleted_spans_count_too_since_undo_brings_them_back(project, manager, document, coder):
    span = tag(document, coder, "DATE", "September 19-29")
    span_delete(annotation=span, coder=coder, version=span.version)
    with pytest.raises(ValidationError) as excinfo:
        label_delete(label=label(project, "DATE"), user=manager)
    assert "DATE is used by 1 annotation (1 of them deleted, which undo can bring back)" in str(
        excinfo.value
    )


def test_deleting_a_label_that_relation_types_name_is_refused(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        label_delete(label=label(project, "DATE"), user=manager)
    assert errors_of(excinfo) == {
        NON_FIELD_ERRORS: [LABEL_HAS_RELATION_TYPES.format(label="DATE", types="date")]
    }


# --- Attributes ---------------------------------------------------------------------------


def test_manager_adds_an_enum_attribute(project, manager):
    actor = label(project, "ACTOR")
    before = project.codebook_version
    added = attribute_create(
        label=actor,
        user=manager,
        name="strength",
        kind="enum",
        values="small\nlarge\n\nsmall",
        default="small",
        help_text="How big the force is",
    )
    assert added.values == ["small", "large"]
    spec = get_codebook(actor.project).label_by_name("ACTOR").attribute("strength")
    assert get_codebook(actor.project).version == before + 1
    assert spec.kind == "enum" and spec.values == ("small", "large") and spec.default == "small"
    assert AuditEvent.objects.get(action="codebook.attribute.create").object_type == "attribute"


def test_a_default_must_fit_the_attribute(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        attribute_create(
            label=label(project, "ACTOR"),
            user=manager,
            name="strength",
            kind="enum",
            values=["small", "large"],
            default="huge",
        )
    (message,) = errors_of(excinfo)["default"]
    assert "default 'huge' does not fit this attribute" in message and "small, large" in message


def test_an_enum_needs_values_and_a_reference_a_list(project, manager):
    actor = label(project, "ACTOR")
    with pytest.raises(ValidationError) as excinfo:
        attribute_create(label=actor, user=manager, name="strength", kind="enum", values="")
    assert list(errors_of(excinfo)) == ["values"]
    with pytest.raises(ValidationError) as excinfo:
        attribute_create(label=actor, user=manager, name="unit", kind="reference")
    assert list(errors_of(excinfo)) == ["list_name"]


def test_whole_number_values_stay_numbers(project, manager, document, coder):
    precision = attribute(project, "LOCATION", "geo_precision")
    tag(document, coder, "LOCATION", "Syria", geo_precision="5")
    attribute_update(attribute=precision, user=manager, values="1\n2\n3\n4\n5\n6")
    precision.refresh_from_db()
    assert precision.values == [1, 2, 3, 4, 5, 6]


def test_adding_and_dropping_unused_enum_values_is_allowed(project, manager, document, coder):
    actor_type = attribute(project, "ACTOR", "actor_type")
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    values = [v for v in actor_type.values if v != "civilians"] + ["private_military"]
    attribute_update(attribute=actor_type, user=manager, values=values)
    spec = get_codebook(project).label_by_name("ACTOR").attribute("actor_type")
    assert "private_military" in spec.values and "civilians" not in spec.values


def test_dropping_an_enum_value_in_use_is_refused_with_the_count(project, manager, document, coder):
    actor_type = attribute(project, "ACTOR", "actor_type")
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    before = project.codebook_version
    with pytest.raises(ValidationError) as excinfo:
        attribute_update(attribute=actor_type, user=manager, values=["rebel_group", "unknown"])
    assert errors_of(excinfo) == {
        "values": [
            VALUE_IN_USE.format(
                value="state_forces", label="ACTOR", name="actor_type", annotations="1 annotation"
            )
        ]
    }
    assert versions(project) == (before, before)


def test_dropping_a_multi_enum_value_in_use_is_refused(project, manager, document, coder):
    actor = label(project, "ACTOR")
    tactics = attribute_create(
        label=actor,
        user=manager,
        name="tactics",
        kind="multi_enum",
        values=["air", "ground", "sea"],
    )
    tag(document, coder, "ACTOR", "Russian", tactics=["air", "ground"])
    with pytest.raises(ValidationError) as excinfo:
        attribute_update(attribute=tactics, user=manager, values=["air", "sea"])
    assert "value 'ground' of ACTOR.tactics is used by 1 annotation" in str(excinfo.value)


def test_changing_the_kind_of_an_attribute_with_values_is_refused(
    project, manager, document, coder
):
    actor_type = attribute(project, "ACTOR", "actor_type")
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    with pytest.raises(ValidationError) as excinfo:
        attribute_update(attribute=actor_type, user=manager, kind="text")
    assert errors_of(excinfo) == {
        "kind": [
            ATTRIBUTE_KIND_IN_USE.format(
                label="ACTOR", name="actor_type", annotations="1 annotation", old="enum", new="text"
            )
        ]
    }


def test_changing_the_kind_of_an_unused_attribute_resets_what_it_no_longer_needs(project, manager):
    actor_type = attribute(project, "ACTOR", "actor_type")
    attribute_update(attribute=actor_type, user=manager, kind="text")
    actor_type.refresh_from_db()
    assert (actor_type.kind, actor_type.values) == ("text", [])
    assert get_codebook(project).label_by_name("ACTOR").attribute("actor_type").kind == "text"


def test_renaming_an_attribute_with_values_is_refused_and_allowed_without(
    project, manager, document, coder
):
    actor_type = attribute(project, "ACTOR", "actor_type")
    attribute_update(attribute=actor_type, user=manager, name="kind_of_actor")
    tag(document, coder, "ACTOR", "Russian", kind_of_actor="state_forces")
    with pytest.raises(ValidationError) as excinfo:
        attribute_update(attribute=actor_type, user=manager, name="actor_kind")
    assert errors_of(excinfo) == {
        "name": [
            ATTRIBUTE_RENAME_IN_USE.format(
                label="ACTOR", name="kind_of_actor", annotations="1 annotation", value="actor_kind"
            )
        ]
    }


def test_deleting_an_attribute_with_values_is_refused(project, manager, document, coder):
    actor_type = attribute(project, "ACTOR", "actor_type")
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    with pytest.raises(ValidationError) as excinfo:
        attribute_delete(attribute=actor_type, user=manager)
    assert errors_of(excinfo) == {
        NON_FIELD_ERRORS: [
            ATTRIBUTE_IN_USE.format(label="ACTOR", name="actor_type", annotations="1 annotation")
        ]
    }


def test_manager_deletes_an_unused_attribute(project, manager, document, coder):
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")  # canonical stays unset
    canonical = attribute(project, "ACTOR", "canonical")
    attribute_delete(attribute=canonical, user=manager)
    assert get_codebook(project).label_by_name("ACTOR").attribute("canonical") is None
    assert AuditEvent.objects.get(action="codebook.attribute.delete").before["name"] == "canonical"


def test_closing_a_reference_to_its_list_is_refused_while_spans_hold_other_names(
    project, manager, document, coder
):
    canonical = attribute(project, "ACTOR", "canonical")
    tag(document, coder, "ACTOR", "Russian", canonical="Wagner Group")
    with pytest.raises(ValidationError) as excinfo:
        attribute_update(attribute=canonical, user=manager, allow_other=False)
    (message,) = errors_of(excinfo)["allow_other"]
    assert "outside the 'actors' list on 1 annotation" in message and "'Wagner Group'" in message


# --- Relation types -----------------------------------------------------------------------


@pytest.fixture
def claim(document, coder):
    casualty = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    source = tag(document, coder, "SOURCE", "Russian ministry of defense")
    relation, _ = relation_create(
        document=document,
        coder=coder,
        type="claimed_by",
        source_id=casualty.pk,
        target_id=source.pk,
    )
    return relation


def test_manager_adds_and_edits_a_relation_type(project, manager):
    before = project.codebook_version
    rt = relation_type_create(
        project=project,
        user=manager,
        name="attacked",
        from_label="ACTOR",
        to_label=label(project, "LOCATION").pk,
        max_per_source="",
        hotkey="9",
    )
    spec = get_codebook(project).relation_type_by_name("attacked")
    assert spec.from_label_id == label(project, "ACTOR").pk and spec.max_per_source is None
    relation_type_update(
        relation_type=rt, user=manager, name="struck", min_per_source=1, max_per_source=2
    )
    codebook = get_codebook(project)
    assert codebook.version == before + 2
    assert codebook.relation_type_by_name("struck").cardinality == "at most 2"
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "codebook.relation_type.create",
        "codebook.relation_type.update",
    ]


def test_at_most_cannot_be_below_at_least(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        relation_type_create(
            project=project,
            user=manager,
            name="x",
            from_label="ACTOR",
            to_label="ACTOR",
            min_per_source=2,
            max_per_source=1,
        )
    assert errors_of(excinfo) == {"max_per_source": [MAX_BELOW_MIN.format(max=1, min=2)]}


def test_relation_type_labels_must_belong_to_the_project(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        relation_type_create(
            project=project, user=manager, name="x", from_label="NOPE", to_label=999999
        )
    assert errors_of(excinfo) == {
        "from_label": ["from 'NOPE' is not a label of this project"],
        "to_label": ["to 999999 is not a label of this project"],
    }


def test_deleting_a_relation_type_in_use_is_refused(project, manager, claim):
    claimed_by = project.relation_types.get(name="claimed_by")
    with pytest.raises(ValidationError) as excinfo:
        relation_type_delete(relation_type=claimed_by, user=manager)
    assert "claimed_by is used by 1 link; it cannot be deleted" in str(excinfo.value)
    assert RelationType.objects.filter(pk=claimed_by.pk).exists()


def test_manager_deletes_an_unused_relation_type(project, manager, claim):
    cites = project.relation_types.get(name="cites")
    relation_type_delete(relation_type=cites, user=manager)
    assert get_codebook(project).relation_type_by_name("cites") is None


def test_changing_the_labels_of_a_relation_type_in_use_is_refused(project, manager, claim):
    claimed_by = project.relation_types.get(name="claimed_by")
    with pytest.raises(ValidationError) as excinfo:
        relation_type_update(relation_type=claimed_by, user=manager, to_label="ACTOR")
    assert list(errors_of(excinfo)) == ["to_label"]
    assert "claimed_by is used by 1 link from CASUALTY to SOURCE" in str(excinfo.value)
    # Renaming and loosening stay allowed.
    relation_type_update(
        relation_type=claimed_by, user=manager, name="claimed", max_per_source=None
    )
    assert get_codebook(project).relation_type_by_name("claimed").max_per_source is None


def test_lowering_at_most_below_existing_links_is_refused(project, manager, document, coder, claim):
    perpetrator = project.relation_types.get(name="perpetrator")
    casualty = Annotation.objects.get(label__name="CASUALTY")
    for phrase in ("Russian", "Syria"):
        target = tag(document, coder, "ACTOR", phrase)
        relation_create(
            document=document,
            coder=coder,
            type="perpetrator",
            source_id=casualty.pk,
            target_id=target.pk,
        )
    with pytest.raises(ValidationError) as excinfo:
        relation_type_update(relation_type=perpetrator, user=manager, max_per_source=1)
    assert errors_of(excinfo) == {
        "max_per_source": [
            "1 span already have more than 1 perpetrator link(s); at most cannot go below 2"
        ]
    }


# --- Lists --------------------------------------------------------------------------------


def test_manager_adds_and_removes_a_list_entry(project, manager):
    before = project.codebook_version
    entry = list_entry_add(
        project=project,
        user=manager,
        list_name="actors",
        name="Wagner Group",
        aliases="Wagner\nPMC Wagner\n\nWagner",
    )
    assert entry.aliases == ["Wagner", "PMC Wagner"]
    spec = get_codebook(project).label_by_name("ACTOR").attribute("canonical")
    assert "Wagner Group" in spec.list_values
    list_entry_remove(entry=entry, user=manager)
    assert versions(project) == (before + 2, before + 2)
    assert (
        "Wagner Group"
        not in get_codebook(project).label_by_name("ACTOR").attribute("canonical").list_values
    )
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "codebook.list_entry.add",
        "codebook.list_entry.remove",
    ]


def test_a_list_entry_name_is_unique_in_its_list(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        list_entry_add(project=project, user=manager, list_name="actors", name="hezbollah")
    assert errors_of(excinfo) == {
        "name": [ENTRY_NAME_TAKEN.format(list_name="actors", value="hezbollah")]
    }
    # Another list may hold the same name.
    list_entry_add(project=project, user=manager, list_name="sources", name="Hezbollah")


def test_removing_an_entry_a_closed_reference_uses_is_refused(project, manager, document, coder):
    canonical = attribute(project, "ACTOR", "canonical")
    attribute_update(attribute=canonical, user=manager, allow_other=False)
    tag(document, coder, "ACTOR", "Russian", canonical="Russian armed forces")
    entry = ListEntry.objects.get(project=project, name="Russian armed forces")
    with pytest.raises(ValidationError) as excinfo:
        list_entry_remove(entry=entry, user=manager)
    assert errors_of(excinfo) == {
        NON_FIELD_ERRORS: [
            ENTRY_IN_USE.format(
                name="Russian armed forces",
                attributes="ACTOR.canonical",
                annotations="1 annotation",
                list_name="actors",
            )
        ]
    }
