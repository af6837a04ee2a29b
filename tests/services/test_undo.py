"""undo_last: a coder walks back their own changes to one document, one step at a time."""

import pytest
from django.core.exceptions import ValidationError

from annotator.codebook import _load_codebook
from annotator.models import Annotation, AuditEvent, Relation
from annotator.services import (
    ConflictError,
    relation_create,
    relation_delete,
    span_create,
    span_delete,
    span_update,
    undo_last,
)
from annotator.services.annotations import NOTHING_TO_UNDO
from tests.factories import make_document, quote_span


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def tag(document, coder, label, phrase, **extra):
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase), **extra
    )
    return span


def link(document, coder, type, source, target):
    relation, _ = relation_create(
        document=document, coder=coder, type=type, source_id=source.pk, target_id=target.pk
    )
    return relation


def alive(span) -> bool:
    return Annotation.objects.alive().filter(pk=span.pk).exists()


def assert_nothing_to_undo(document, coder):
    with pytest.raises(ValidationError) as excinfo:
        undo_last(document=document, coder=coder)
    assert excinfo.value.message_dict == {"undo": [NOTHING_TO_UNDO]}


@pytest.fixture
def claim(document, coder):
    return tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")


@pytest.fixture
def ministry(document, coder):
    return tag(document, coder, "SOURCE", "Russian ministry of defense")


def test_nothing_to_undo_on_an_untouched_document(document, coder):
    assert_nothing_to_undo(document, coder)


def test_undo_of_a_create_deletes_the_span(document, coder):
    span = tag(document, coder, "LOCATION", "Syria")

    event = undo_last(document=document, coder=coder)

    assert (event.action, event.object_id) == ("span.create", span.pk)
    assert not alive(span)


def test_undo_of_an_update_restores_the_previous_state(document, coder):
    span = tag(document, coder, "ACTOR", "Syria", attributes={"actor_type": "state_forces"})
    actor_id = span.label_id
    span_update(
        annotation=span,
        coder=coder,
        version=1,
        label="LOCATION",
        attributes={"loc_type": "country"},
        **quote_span(document, "in Syria"),
    )

    undo_last(document=document, coder=coder)

    stored = Annotation.objects.get(pk=span.pk)
    assert stored.label_id == actor_id
    assert (stored.start, stored.end, stored.text) == (23, 28, "Syria")
    assert stored.attributes == {"actor_type": "state_forces"}


def test_undo_of_an_update_moves_the_version_forward(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "unknown"})

    undo_last(document=document, coder=coder)

    assert Annotation.objects.get(pk=span.pk).version == 3


def test_editing_the_version_from_before_an_undo_raises_conflict(document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    span_update(annotation=span, coder=coder, version=1, attributes={"actor_type": "unknown"})
    undo_last(document=document, coder=coder)

    with pytest.raises(ConflictError):
        span_update(annotation=span, coder=coder, version=2, attributes={"actor_type": "civilians"})

    assert Annotation.objects.get(pk=span.pk).attributes == {}


def test_undo_of_a_delete_brings_back_the_span_and_its_links(document, coder, claim, ministry):
    relation = link(document, coder, "claimed_by", claim, ministry)
    span_delete(annotation=ministry, coder=coder, version=1)

    undo_last(document=document, coder=coder)

    assert alive(ministry)
    assert Relation.objects.alive().filter(pk=relation.pk).exists()


def test_undo_of_a_link_removes_it(document, coder, claim, ministry):
    relation = link(document, coder, "claimed_by", claim, ministry)

    event = undo_last(document=document, coder=coder)

    assert (event.action, event.object_id) == ("relation.create", relation.pk)
    assert not Relation.objects.alive().exists()
    assert alive(claim) and alive(ministry)


def test_undo_of_a_link_deletion_restores_it(document, coder, claim, ministry):
    relation = link(document, coder, "claimed_by", claim, ministry)
    relation_delete(relation=relation, coder=coder)

    undo_last(document=document, coder=coder)

    assert Relation.objects.alive().filter(pk=relation.pk).exists()


def test_repeated_undo_walks_back_through_the_history(document, coder):
    actor = tag(document, coder, "ACTOR", "Russian")
    place = tag(document, coder, "LOCATION", "Syria")
    span_update(annotation=actor, coder=coder, version=1, attributes={"actor_type": "unknown"})

    undone = [undo_last(document=document, coder=coder).action for _ in range(3)]

    assert undone == ["span.update", "span.create", "span.create"]
    assert not alive(actor) and not alive(place)
    assert Annotation.objects.get(pk=actor.pk).attributes == {}
    assert_nothing_to_undo(document, coder)


def test_undo_never_undoes_an_undo(document, coder):
    span = tag(document, coder, "LOCATION", "Syria")
    undo_last(document=document, coder=coder)

    assert_nothing_to_undo(document, coder)
    assert not alive(span)


def test_new_change_after_an_undo_is_the_next_one_undone(document, coder):
    first = tag(document, coder, "ACTOR", "Russian")
    undo_last(document=document, coder=coder)
    second = tag(document, coder, "LOCATION", "Syria")

    event = undo_last(document=document, coder=coder)

    assert event.object_id == second.pk
    assert not alive(second)
    assert not alive(first)
    assert_nothing_to_undo(document, coder)


def test_undo_marks_the_event_undone_and_records_itself(document, coder):
    span = tag(document, coder, "LOCATION", "Syria")

    event = undo_last(document=document, coder=coder)

    event.refresh_from_db()
    assert event.undone
    record = AuditEvent.objects.get(action="undo:span.create")
    assert (record.user, record.document, record.object_type, record.object_id) == (
        coder,
        document,
        "annotation",
        span.pk,
    )
    assert record.undone
    assert record.before["version"] == 1
    assert record.after["version"] == 2


def test_undo_of_a_link_is_recorded_with_the_link(document, coder, claim, ministry):
    relation = link(document, coder, "claimed_by", claim, ministry)

    undo_last(document=document, coder=coder)

    record = AuditEvent.objects.get(action="undo:relation.create")
    assert (record.object_type, record.object_id) == ("relation", relation.pk)
    assert record.before == record.after
    assert record.before["source_id"] == claim.pk


def test_undo_ignores_other_coders_changes(document, coder, other_coder):
    mine = tag(document, coder, "ACTOR", "Russian")
    theirs = tag(document, other_coder, "ACTOR", "Russian")

    event = undo_last(document=document, coder=coder)

    assert event.object_id == mine.pk
    assert alive(theirs)
    assert_nothing_to_undo(document, coder)


def test_undo_ignores_changes_to_other_documents(document, project, coder):
    mine_here = tag(document, coder, "ACTOR", "Russian")
    elsewhere = make_document(project, text="Russian forces advanced.")
    mine_elsewhere = tag(elsewhere, coder, "ACTOR", "Russian")

    event = undo_last(document=document, coder=coder)

    assert event.object_id == mine_here.pk
    assert alive(mine_elsewhere)
    assert_nothing_to_undo(document, coder)


def test_undone_create_frees_the_place_for_a_new_span(document, coder):
    tag(document, coder, "LOCATION", "Syria")
    undo_last(document=document, coder=coder)

    _, created = span_create(
        document=document, coder=coder, label="LOCATION", **quote_span(document, "Syria")
    )

    assert created
