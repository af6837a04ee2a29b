"""span_create / span_update / span_delete: what a coder may write, and what is refused."""

import pytest
from django.core.exceptions import ValidationError

from annotator.codebook import _load_codebook
from annotator.models import Annotation, AuditEvent, Label
from annotator.services import ConflictError, span_create, span_delete, span_update
from annotator.services.annotations import (
    CLIENT_ID_REUSED,
    DISABLED_LABEL,
    DUPLICATE_SPAN,
    END_BEYOND_TEXT,
    END_NOT_AFTER_START,
    NOT_AN_INTEGER,
    OVERLAP_REFUSED,
    QUOTE_MISMATCH,
    SPAN_TOO_LONG,
    START_NEGATIVE,
    UNKNOWN_LABEL,
)
from tests.factories import make_document, make_project, quote_span

ENABLED_LABELS = "ACTOR, LOCATION, DATE, SOURCE, CASUALTY"


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def tag(document, coder, label, phrase, occurrence=1, **extra):
    span, _ = span_create(
        document=document,
        coder=coder,
        label=label,
        **quote_span(document, phrase, occurrence),
        **extra,
    )
    return span


def refusal(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        call(**kwargs)
    return excinfo.value.message_dict


@pytest.fixture
def overlap_allowed(document):
    document.project.allow_overlap = True
    document.project.save(update_fields=["allow_overlap"])
    return document.project


# --- creating a span --------------------------------------------------------------------------


def test_coder_creates_a_span_at_the_given_offsets(document, coder):
    span, created = span_create(
        document=document, coder=coder, label="ACTOR", start=0, end=7, text="Russian"
    )

    assert created
    stored = Annotation.objects.get(pk=span.pk)
    assert (stored.start, stored.end, stored.text) == (0, 7, "Russian")
    assert stored.label.name == "ACTOR"
    assert stored.label.project == document.project
    assert stored.coder == coder
    assert stored.document == document
    assert stored.version == 1
    assert stored.deleted_at is None


def test_new_span_gets_the_defaults_of_its_label(document, coder):
    span = tag(document, coder, "LOCATION", "Syria")

    assert span.attributes == {"role": "event_location"}


def test_attribute_given_by_the_coder_wins_over_the_default(document, coder):
    span = tag(document, coder, "LOCATION", "Syria", attributes={"role": "origin"})

    assert span.attributes == {"role": "origin"}


def test_attribute_cleared_by_the_coder_drops_the_default(document, coder):
    span = tag(document, coder, "LOCATION", "Syria", attributes={"role": ""})

    assert span.attributes == {}


def test_label_without_defaults_starts_with_no_attributes(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    assert span.attributes == {}


def test_attributes_are_stored_cleaned(document, coder):
    span = tag(
        document,
        coder,
        "CASUALTY",
        "2,359 ISIS terrorists",
        attributes={"outcome": "killed", "low": "2359", "best": 2359, "count_text": " 2,359 "},
    )

    stored = Annotation.objects.get(pk=span.pk)
    assert stored.attributes == {
        "outcome": "killed",
        "low": 2359,
        "best": 2359,
        "count_text": "2,359",
        "factuality": "asserted",
    }


def test_numeric_enum_value_sent_as_text_is_stored_as_the_number(document, coder):
    span = tag(document, coder, "LOCATION", "Syria", attributes={"geo_precision": "5"})

    assert Annotation.objects.get(pk=span.pk).attributes["geo_precision"] == 5


def test_offsets_sent_as_text_are_accepted(document, coder):
    span, created = span_create(
        document=document, coder=coder, label="ACTOR", start="0", end="7", text="Russian"
    )

    assert created
    assert (span.start, span.end) == (0, 7)


def test_span_remembers_the_codebook_version_it_was_made_under(document, coder):
    document.project.codebook_version = 3
    document.project.save(update_fields=["codebook_version"])

    span = tag(document, coder, "ACTOR", "Russian")

    assert span.codebook_version == 3


def test_label_is_taken_from_the_documents_project_when_another_has_the_same_name(
    document, coder, outsider
):
    span = tag(document, coder, "ACTOR", "Russian")

    assert Label.objects.filter(name="ACTOR").count() == 2
    assert span.label == Label.objects.get(project=document.project, name="ACTOR")


def test_span_may_cover_the_whole_document(document, coder):
    text = document.text

    span, created = span_create(
        document=document, coder=coder, label="CASUALTY", start=0, end=len(text), text=text
    )

    assert created
    assert span.end == len(text)


# --- offsets and quote --------------------------------------------------------------------------


def test_end_beyond_the_document_is_refused(document, coder):
    length = len(document.text)

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="ACTOR",
        start=length - 3,
        end=length + 1,
        text=document.text[length - 3 :] + "x",
    )

    assert errors == {"end": [END_BEYOND_TEXT.format(end=length + 1, length=length)]}


def test_span_starting_at_the_end_of_the_document_is_refused(document, coder):
    length = len(document.text)

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="ACTOR",
        start=length,
        end=length + 1,
        text="x",
    )

    assert errors == {"end": [END_BEYOND_TEXT.format(end=length + 1, length=length)]}


def test_negative_start_is_refused(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="ACTOR", start=-1, end=7, text="Russian"
    )

    assert errors == {"start": [START_NEGATIVE.format(start=-1)]}


def test_end_equal_to_start_is_refused(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="ACTOR", start=3, end=3, text=""
    )

    assert errors == {"end": [END_NOT_AFTER_START.format(start=3, end=3)]}


def test_end_before_start_is_refused(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="ACTOR", start=7, end=0, text="Russian"
    )

    assert errors == {"end": [END_NOT_AFTER_START.format(start=7, end=0)]}


@pytest.mark.parametrize("bad", ["seven", None, True, "3.5", [0]])
def test_offset_that_is_not_a_whole_number_is_refused(document, coder, bad):
    errors = refusal(
        span_create, document=document, coder=coder, label="ACTOR", start=bad, end=7, text="Russian"
    )

    assert errors == {"start": [NOT_AN_INTEGER.format(value=bad)]}


def test_quote_that_differs_from_the_document_is_refused(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="ACTOR", start=0, end=7, text="Russia!"
    )

    assert errors == {
        "text": [QUOTE_MISMATCH.format(start=0, end=7, expected="Russian", got="Russia!")]
    }


def test_quote_taken_at_utf16_offsets_is_refused_after_an_emoji(project, coder):
    # A browser counting UTF-16 units puts "Homs" one place further than Python does.
    document = make_document(project, text="🔥 Homs shelled")

    errors = refusal(
        span_create, document=document, coder=coder, label="LOCATION", start=3, end=7, text="Homs"
    )

    assert errors == {"text": [QUOTE_MISMATCH.format(start=3, end=7, expected="oms ", got="Homs")]}


def test_quote_with_emoji_at_code_point_offsets_is_accepted(project, coder):
    document = make_document(project, text="🔥 Homs shelled")

    span, created = span_create(
        document=document, coder=coder, label="LOCATION", start=2, end=6, text="Homs"
    )

    assert created
    assert document.text[span.start : span.end] == "Homs"


def test_span_longer_than_the_limit_is_refused(project, coder, settings):
    document = make_document(project, text="word " * 500)
    limit = settings.ANNOTATOR_MAX_SPAN_LENGTH

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="CASUALTY",
        start=0,
        end=limit + 1,
        text=document.text[: limit + 1],
    )

    assert errors == {"end": [SPAN_TOO_LONG.format(length=limit + 1, limit=limit)]}


def test_span_exactly_as_long_as_the_limit_is_accepted(project, coder, settings):
    document = make_document(project, text="word " * 500)
    limit = settings.ANNOTATOR_MAX_SPAN_LENGTH

    _, created = span_create(
        document=document,
        coder=coder,
        label="CASUALTY",
        start=0,
        end=limit,
        text=document.text[:limit],
    )

    assert created


# --- labels and attributes ----------------------------------------------------------------------


def test_unknown_label_is_refused(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="PERSON", start=0, end=7, text="Russian"
    )

    assert errors == {"label": [UNKNOWN_LABEL.format(name="PERSON", known=ENABLED_LABELS)]}


def test_label_is_matched_exactly_not_ignoring_case(document, coder):
    errors = refusal(
        span_create, document=document, coder=coder, label="actor", start=0, end=7, text="Russian"
    )

    assert errors == {"label": [UNKNOWN_LABEL.format(name="actor", known=ENABLED_LABELS)]}


def test_switched_off_label_is_refused(document, coder):
    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="MATERIEL",
        start=0,
        end=7,
        text="Russian",
    )

    assert errors == {"label": [DISABLED_LABEL.format(name="MATERIEL")]}


def test_label_of_another_project_is_refused(document, coder):
    make_project(name="Vehicles", codebook={"labels": [{"name": "VEHICLE", "colour": "#123456"}]})

    errors = refusal(
        span_create, document=document, coder=coder, label="VEHICLE", start=0, end=7, text="Russian"
    )

    assert errors == {"label": [UNKNOWN_LABEL.format(name="VEHICLE", known=ENABLED_LABELS)]}


def test_attribute_not_in_the_codebook_is_refused(document, coder):
    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="ACTOR",
        start=0,
        end=7,
        text="Russian",
        attributes={"nationality": "Russian"},
    )

    assert errors == {
        "attributes": [
            "nationality: ACTOR has no attribute 'nationality' (it has: canonical, actor_type)"
        ]
    }


def test_attribute_of_another_label_is_refused(document, coder):
    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="ACTOR",
        start=0,
        end=7,
        text="Russian",
        attributes={"outcome": "killed"},
    )

    assert list(errors) == ["attributes"]
    assert errors["attributes"][0].startswith("outcome: ACTOR has no attribute 'outcome'")


def test_enum_value_outside_its_list_is_refused(document, coder):
    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="ACTOR",
        start=0,
        end=7,
        text="Russian",
        attributes={"actor_type": "army"},
    )

    assert errors == {
        "attributes": [
            "actor_type: 'army' is not one of: state_forces, rebel_group, political_militia, "
            "identity_militia, external_forces, civilians, unknown"
        ]
    }


@pytest.mark.parametrize("bad", ["many", "12.5", 12.5, True])
def test_integer_attribute_that_is_not_a_whole_number_is_refused(document, coder, bad):
    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="CASUALTY",
        **quote_span(document, "2,359 ISIS terrorists"),
        attributes={"low": bad},
    )

    assert errors == {"attributes": [f"low: {bad!r} is not a whole number"]}


def test_refused_span_writes_nothing(document, coder):
    with pytest.raises(ValidationError):
        span_create(
            document=document,
            coder=coder,
            label="ACTOR",
            start=0,
            end=7,
            text="Russian",
            attributes={"actor_type": "army"},
        )

    assert not Annotation.objects.exists()
    assert not AuditEvent.objects.exists()


# --- overlap and duplicates ---------------------------------------------------------------------


def test_overlapping_span_is_refused_when_the_project_forbids_overlap(document, coder):
    tag(document, coder, "ACTOR", "Russian air strikes")

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="LOCATION",
        **quote_span(document, "strikes in Syria"),
    )

    assert errors == {
        "start": [
            OVERLAP_REFUSED.format(label="ACTOR", text="Russian air strikes", start=0, end=19)
        ]
    }


def test_nested_span_is_refused_when_the_project_forbids_overlap(document, coder):
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    isis = quote_span(document, "ISIS")

    errors = refusal(span_create, document=document, coder=coder, label="ACTOR", **isis)

    assert list(errors) == ["start"]
    assert "does not allow overlapping spans" in errors["start"][0]


def test_span_enclosing_another_is_refused_when_the_project_forbids_overlap(document, coder):
    tag(document, coder, "ACTOR", "ISIS")

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="CASUALTY",
        **quote_span(document, "2,359 ISIS terrorists"),
    )

    assert list(errors) == ["start"]


def test_same_place_with_another_label_is_refused_when_the_project_forbids_overlap(document, coder):
    tag(document, coder, "ACTOR", "Syria")

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="LOCATION",
        **quote_span(document, "Syria"),
    )

    assert errors == {
        "start": [OVERLAP_REFUSED.format(label="ACTOR", text="Syria", start=23, end=28)]
    }


def test_adjacent_spans_do_not_overlap(document, coder):
    tag(document, coder, "ACTOR", "Russian")

    _, created = span_create(
        document=document, coder=coder, label="ACTOR", start=7, end=11, text=" air"
    )

    assert created


def test_another_coders_span_never_counts_as_overlap(document, coder, other_coder):
    tag(document, other_coder, "ACTOR", "Russian air strikes")

    _, created = span_create(
        document=document, coder=coder, label="ACTOR", **quote_span(document, "Russian air strikes")
    )

    assert created


def test_deleted_span_does_not_block_a_new_one_at_its_place(document, coder):
    old = tag(document, coder, "ACTOR", "Russian")
    span_delete(annotation=old, coder=coder, version=1)

    _, created = span_create(
        document=document, coder=coder, label="ACTOR", **quote_span(document, "Russian")
    )

    assert created


def test_overlapping_spans_are_allowed_when_the_project_allows_overlap(
    document, coder, overlap_allowed
):
    tag(document, coder, "ACTOR", "Russian air strikes")

    _, created = span_create(
        document=document, coder=coder, label="LOCATION", **quote_span(document, "strikes in Syria")
    )

    assert created
    assert Annotation.objects.by_coder(coder).alive().count() == 2


def test_nested_spans_are_allowed_when_the_project_allows_overlap(document, coder, overlap_allowed):
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    _, created = span_create(
        document=document, coder=coder, label="ACTOR", **quote_span(document, "ISIS")
    )

    assert created


def test_same_place_with_another_label_is_allowed_when_the_project_allows_overlap(
    document, coder, overlap_allowed
):
    tag(document, coder, "ACTOR", "Syria")

    _, created = span_create(
        document=document, coder=coder, label="LOCATION", **quote_span(document, "Syria")
    )

    assert created


def test_duplicate_span_is_refused(document, coder):
    tag(document, coder, "LOCATION", "Syria")

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="LOCATION",
        **quote_span(document, "Syria"),
    )

    assert errors == {"start": [DUPLICATE_SPAN.format(label="LOCATION", start=23, end=28)]}


def test_duplicate_span_is_refused_even_when_the_project_allows_overlap(
    document, coder, overlap_allowed
):
    tag(document, coder, "LOCATION", "Syria")

    errors = refusal(
        span_create,
        document=document,
        coder=coder,
        label="LOCATION",
        **quote_span(document, "Syria"),
    )

    assert errors == {"start": [DUPLICATE_SPAN.format(label="LOCATION", start=23, end=28)]}
    assert Annotation.objects.count() == 1


# --- client_id ---------------------------------------------------------------------------------


def test_repeated_client_id_returns_the_first_span_without_creating_another(document, coder):
    first, created_first = span_create(
        document=document,
        coder=coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )

    again, created_again = span_create(
        document=document,
        coder=coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )

    assert created_first and not created_again
    assert again.pk == first.pk
    assert Annotation.objects.count() == 1


def test_repeated_client_id_wins_over_a_different_payload(document, coder):
    first, _ = span_create(
        document=document,
        coder=coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )

    again, created = span_create(
        document=document,
        coder=coder,
        label="LOCATION",
        **quote_span(document, "Syria"),
        client_id="c-1",
    )

    assert not created
    assert again.pk == first.pk
    assert again.text == "Russian"


def test_repeated_client_id_writes_a_single_audit_row(document, coder):
    for _ in range(3):
        span_create(
            document=document,
            coder=coder,
            label="ACTOR",
            **quote_span(document, "Russian"),
            client_id="c-1",
        )

    assert AuditEvent.objects.filter(action="span.create").count() == 1


def test_client_id_reused_on_another_document_is_refused(document, project, coder):
    span_create(
        document=document,
        coder=coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )
    second = make_document(project, text="Russian forces advanced.")

    errors = refusal(
        span_create,
        document=second,
        coder=coder,
        label="ACTOR",
        **quote_span(second, "Russian"),
        client_id="c-1",
    )

    assert errors == {"client_id": [CLIENT_ID_REUSED.format(client_id="c-1")]}
    assert not Annotation.objects.filter(document=second).exists()


def test_two_coders_may_use_the_same_client_id(document, coder, other_coder):
    mine, _ = span_create(
        document=document,
        coder=coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )

    theirs, created = span_create(
        document=document,
        coder=other_coder,
        label="ACTOR",
        **quote_span(document, "Russian"),
        client_id="c-1",
    )

    assert created
    assert theirs.pk != mine.pk
    assert theirs.coder == other_coder


# --- updating a span ---------------------------------------------------------------------------


def test_update_bumps_the_version(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "state_forces"})

    stored = Annotation.objects.get(pk=span.pk)
    assert stored.version == 2
    assert stored.attributes == {"actor_type": "state_forces"}
    assert span.version == 2


def test_update_with_a_stale_version_raises_conflict_and_changes_nothing(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "state_forces"})

    with pytest.raises(ConflictError) as excinfo:
        span_update(annotation=span, coder=coder, version=1, label="LOCATION", attributes={})

    assert (excinfo.value.sent_version, excinfo.value.current_version) == (1, 2)
    stored = Annotation.objects.get(pk=span.pk)
    assert stored.label.name == "ACTOR"
    assert stored.attributes == {"actor_type": "state_forces"}
    assert stored.version == 2
    assert AuditEvent.objects.filter(action="span.update").count() == 1


def test_update_from_a_stale_copy_raises_conflict_and_changes_nothing(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    other_tab = Annotation.objects.get(pk=span.pk)
    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "state_forces"})

    with pytest.raises(ConflictError) as excinfo:
        span_update(
            annotation=other_tab, coder=coder, version=1, attributes={"actor_type": "unknown"}
        )

    assert excinfo.value.current_version == 2
    stored = Annotation.objects.get(pk=span.pk)
    assert stored.attributes == {"actor_type": "state_forces"}
    assert stored.version == 2


def test_update_of_a_deleted_span_raises_conflict(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    other_tab = Annotation.objects.get(pk=span.pk)
    span_delete(annotation=span, coder=coder, version=1)

    with pytest.raises(ConflictError) as excinfo:
        span_update(
            annotation=other_tab, coder=coder, version=1, attributes={"actor_type": "unknown"}
        )

    assert excinfo.value.current_version is None
    assert Annotation.objects.get(pk=span.pk).attributes == {}


def test_update_with_a_version_that_is_not_a_number_is_refused(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    errors = refusal(span_update, annotation=span, coder=coder, version="latest", attributes={})

    assert errors == {"version": [NOT_AN_INTEGER.format(value="latest")]}


def test_update_without_changes_keeps_the_version_and_writes_no_audit_row(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_update(annotation=span, coder=coder, version=1, label="ACTOR")

    assert Annotation.objects.get(pk=span.pk).version == 1
    assert not AuditEvent.objects.filter(action="span.update").exists()


def test_update_replaces_the_attributes_as_a_whole(document, coder):
    span = tag(
        document,
        coder,
        "ACTOR",
        "Russian",
        attributes={"actor_type": "state_forces", "canonical": "Russia"},
    )

    span_update(annotation=span, coder=coder, version=1, attributes={"canonical": "Russian Army"})

    assert Annotation.objects.get(pk=span.pk).attributes == {"canonical": "Russian Army"}


def test_update_with_invalid_attributes_changes_nothing(document, coder):
    span = tag(document, coder, "ACTOR", "Russian", attributes={"actor_type": "state_forces"})

    errors = refusal(
        span_update, annotation=span, coder=coder, version=1, attributes={"actor_type": "army"}
    )

    assert list(errors) == ["attributes"]
    stored = Annotation.objects.get(pk=span.pk)
    assert stored.attributes == {"actor_type": "state_forces"}
    assert stored.version == 1


def test_update_moves_the_span_and_takes_the_quote_from_the_document(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_update(annotation=span, coder=coder, version=1, end=11)

    stored = Annotation.objects.get(pk=span.pk)
    assert (stored.start, stored.end, stored.text) == (0, 11, "Russian air")


def test_update_refuses_a_quote_that_does_not_match_the_new_offsets(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    errors = refusal(
        span_update, annotation=span, coder=coder, version=1, start=0, end=11, text="Russian aid"
    )

    assert errors == {
        "text": [QUOTE_MISMATCH.format(start=0, end=11, expected="Russian air", got="Russian aid")]
    }
    assert Annotation.objects.get(pk=span.pk).text == "Russian"


def test_update_refuses_offsets_beyond_the_document(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    length = len(document.text)

    errors = refusal(span_update, annotation=span, coder=coder, version=1, end=length + 5)

    assert errors == {"end": [END_BEYOND_TEXT.format(end=length + 5, length=length)]}


def test_update_refuses_boundaries_that_overlap_another_span(document, coder):
    tag(document, coder, "LOCATION", "Syria")
    span = tag(document, coder, "ACTOR", "Russian air strikes")

    errors = refusal(
        span_update,
        annotation=span,
        coder=coder,
        version=1,
        **quote_span(document, "Russian air strikes in Syria"),
    )

    assert errors == {
        "start": [OVERLAP_REFUSED.format(label="LOCATION", text="Syria", start=23, end=28)]
    }
    assert Annotation.objects.get(pk=span.pk).end == 19


def test_update_may_grow_a_span_over_its_own_old_place(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_update(
        annotation=span, coder=coder, version=1, **quote_span(document, "Russian air strikes")
    )

    assert Annotation.objects.get(pk=span.pk).text == "Russian air strikes"


def test_label_change_keeps_the_attributes_the_new_label_has(document, coder):
    span = tag(
        document,
        coder,
        "ACTOR",
        "Russian ministry of defense",
        attributes={"canonical": "Russian Ministry of Defence", "actor_type": "state_forces"},
    )

    span_update(annotation=span, coder=coder, version=1, label="SOURCE")

    stored = Annotation.objects.get(pk=span.pk)
    assert stored.label.name == "SOURCE"
    assert stored.attributes == {"canonical": "Russian Ministry of Defence"}
    assert stored.version == 2


def test_label_change_with_attributes_uses_the_given_attributes(document, coder):
    span = tag(document, coder, "ACTOR", "Syria", attributes={"actor_type": "state_forces"})

    span_update(
        annotation=span,
        coder=coder,
        version=1,
        label="LOCATION",
        attributes={"loc_type": "country"},
    )

    assert Annotation.objects.get(pk=span.pk).attributes == {"loc_type": "country"}


def test_label_change_to_a_switched_off_label_is_refused(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    errors = refusal(span_update, annotation=span, coder=coder, version=1, label="WEAPON")

    assert errors == {"label": [DISABLED_LABEL.format(name="WEAPON")]}
    assert Annotation.objects.get(pk=span.pk).label.name == "ACTOR"


def test_label_change_to_an_unknown_label_is_refused(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    errors = refusal(span_update, annotation=span, coder=coder, version=1, label="PERSON")

    assert errors == {"label": [UNKNOWN_LABEL.format(name="PERSON", known=ENABLED_LABELS)]}


def test_label_change_onto_an_identical_span_of_that_label_is_refused(
    document, coder, overlap_allowed
):
    tag(document, coder, "LOCATION", "Syria")
    span = tag(document, coder, "ACTOR", "Syria")

    errors = refusal(span_update, annotation=span, coder=coder, version=1, label="LOCATION")

    assert errors == {"start": [DUPLICATE_SPAN.format(label="LOCATION", start=23, end=28)]}
    assert Annotation.objects.get(pk=span.pk).label.name == "ACTOR"


def test_label_change_in_place_is_allowed_for_spans_that_overlapped_before_the_rule(
    document, coder, overlap_allowed
):
    span = tag(document, coder, "ACTOR", "Russian air strikes")
    tag(document, coder, "LOCATION", "strikes in Syria")
    overlap_allowed.allow_overlap = False
    overlap_allowed.save(update_fields=["allow_overlap"])

    span_update(annotation=span, coder=coder, version=1, label="SOURCE")

    assert Annotation.objects.get(pk=span.pk).label.name == "SOURCE"


# --- deleting a span ---------------------------------------------------------------------------


def test_delete_is_soft(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_delete(annotation=span, coder=coder, version=1)

    stored = Annotation.objects.get(pk=span.pk)
    assert stored.deleted_at is not None
    assert stored.is_deleted
    assert not Annotation.objects.alive().filter(pk=span.pk).exists()


def test_delete_bumps_the_version(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_delete(annotation=span, coder=coder, version=1)

    assert Annotation.objects.get(pk=span.pk).version == 2


def test_delete_with_a_stale_version_raises_conflict_and_keeps_the_span(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "unknown"})

    with pytest.raises(ConflictError) as excinfo:
        span_delete(annotation=span, coder=coder, version=1)

    assert excinfo.value.current_version == 2
    stored = Annotation.objects.get(pk=span.pk)
    assert stored.deleted_at is None
    assert stored.version == 2
    assert not AuditEvent.objects.filter(action="span.delete").exists()


def test_delete_of_a_span_already_deleted_raises_conflict(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    other_tab = Annotation.objects.get(pk=span.pk)
    span_delete(annotation=span, coder=coder, version=1)

    with pytest.raises(ConflictError) as excinfo:
        span_delete(annotation=other_tab, coder=coder, version=1)

    assert excinfo.value.current_version is None
    assert AuditEvent.objects.filter(action="span.delete").count() == 1


# --- the audit trail ---------------------------------------------------------------------------


def test_create_records_the_new_span_in_the_audit_trail(document, coder):
    span = tag(document, coder, "LOCATION", "Syria")

    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id) == (
        "span.create",
        "annotation",
        span.pk,
    )
    assert (event.user, event.document, event.project) == (coder, document, document.project)
    assert event.before is None
    assert event.after == {
        "id": span.pk,
        "label_id": span.label_id,
        "start": 23,
        "end": 28,
        "text": "Syria",
        "attributes": {"role": "event_location"},
        "version": 1,
    }
    assert not event.undone


def test_update_records_the_span_before_and_after(document, coder):
    span = tag(document, coder, "ACTOR", "Syria")
    actor_id = span.label_id

    span_update(annotation=span, coder=coder, version=1, label="LOCATION")

    event = AuditEvent.objects.get(action="span.update")
    assert event.object_id == span.pk
    assert event.before["label_id"] == actor_id
    assert event.before["version"] == 1
    assert event.after["label_id"] == span.label_id != actor_id
    assert event.after["version"] == 2


def test_delete_records_the_span_before_it_went(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    span_delete(annotation=span, coder=coder, version=1)

    event = AuditEvent.objects.get(action="span.delete")
    assert event.object_id == span.pk
    assert event.before["text"] == "Russian"
    assert event.before["version"] == 1
    assert event.after == {"relation_ids": []}


def test_refused_update_records_nothing(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")

    with pytest.raises(ValidationError):
        span_update(annotation=span, coder=coder, version=1, label="PERSON")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["span.create"]
