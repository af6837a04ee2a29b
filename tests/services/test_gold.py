"""services/gold.py: how an adjudicator's decisions build the gold layer, and what they refuse.

The article (tests/factories.ARTICLE): "Russian air strikes in Syria between September 19-29
resulted in the deaths of 2,359 ISIS terrorists all over the war-torn country, the Russian
ministry of defense has announced."
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.models import (
    Assignment,
    AuditEvent,
    Document,
    GoldRejection,
    GoldRelation,
    GoldSpan,
    Label,
    Role,
)
from annotator.services import assignment_reopen, gold
from annotator.services.annotations import QUOTE_MISMATCH
from tests.api.helpers import make_relation, make_span
from tests.factories import add_member, make_document, make_user, quote_span


def submit(document, *coders):
    """Each coder has submitted the document: the state adjudication counts."""
    return [
        Assignment.objects.create(
            project=document.project,
            document=document,
            coder=coder,
            state="submitted",
            submitted_at=timezone.now(),
        )
        for coder in coders
    ]


def alive_gold(document):
    return list(GoldSpan.objects.for_document(document).alive())


def messages(error: ValidationError) -> list[str]:
    return [m for ms in error.message_dict.values() for m in ms]


@pytest.fixture
def third_coder(project):
    user = make_user("third_coder")
    add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def ready(document, coder, other_coder):
    """Two coders (the project's k) submitted the document."""
    submit(document, coder, other_coder)
    return document


# --- accepting --------------------------------------------------------------------------------


def test_accepting_a_coders_span_copies_it_into_the_gold_with_its_attributes(
    ready, coder, other_coder, adjudicator
):
    span = make_span(
        ready,
        coder,
        "2,359 ISIS terrorists",
        label="CASUALTY",
        attributes={"outcome": "killed", "best": 2359},
    )

    [accepted] = gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert (accepted.start, accepted.end, accepted.text) == (span.start, span.end, span.text)
    assert accepted.label_id == span.label_id
    assert accepted.attributes == {"outcome": "killed", "best": 2359, "factuality": "asserted"}
    assert accepted.origin == "accepted"


def test_a_gold_span_records_every_coders_identical_span_as_its_provenance(
    ready, coder, other_coder, adjudicator
):
    mine = make_span(ready, coder, "Syria", label="LOCATION")
    theirs = make_span(ready, other_coder, "Syria", label="LOCATION")

    [accepted] = gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[mine.pk])

    assert accepted.source_annotations == sorted([mine.pk, theirs.pk])


def test_the_decisions_note_is_kept_with_the_gold_span(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")

    [accepted] = gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[span.pk], note="country only"
    )

    assert GoldSpan.objects.get(pk=accepted.pk).note == "country only"


def test_accept_brings_a_link_whose_other_end_is_already_in_the_gold(
    ready, coder, other_coder, adjudicator
):
    claim = make_span(ready, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    link = make_relation(ready, coder, claim, source, type="claimed_by")
    [gold_source] = gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[source.pk]
    )

    [gold_claim] = gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[claim.pk]
    )

    relation = GoldRelation.objects.get()
    assert (relation.source_id, relation.target_id) == (gold_claim.pk, gold_source.pk)
    assert relation.source_relations == [link.pk]


def test_accept_brings_a_link_once_its_second_end_is_accepted(
    ready, coder, other_coder, adjudicator
):
    claim = make_span(ready, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    make_relation(ready, coder, claim, source, type="claimed_by")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[claim.pk])
    assert not GoldRelation.objects.exists()

    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[source.pk])

    assert GoldRelation.objects.alive().count() == 1


def test_accept_leaves_out_a_link_whose_other_end_is_not_in_the_gold(
    ready, coder, other_coder, adjudicator
):
    claim = make_span(ready, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    make_relation(ready, coder, claim, source, type="claimed_by")

    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[claim.pk])

    assert not GoldRelation.objects.exists()


def test_accepting_another_version_with_replace_swaps_the_units_gold(
    ready, coder, other_coder, adjudicator
):
    short = make_span(ready, coder, "Russian", label="ACTOR")
    long = make_span(ready, other_coder, "Russian air strikes", label="ACTOR")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[short.pk])

    gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[long.pk], replace=True
    )

    assert [g.text for g in alive_gold(ready)] == ["Russian air strikes"]


def test_an_overlapping_accept_without_replace_is_refused(ready, coder, other_coder, adjudicator):
    short = make_span(ready, coder, "Russian", label="ACTOR")
    long = make_span(ready, other_coder, "Russian air strikes", label="ACTOR")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[short.pk])

    with pytest.raises(ValidationError) as refused:
        gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[long.pk])

    assert "does not allow overlapping spans" in messages(refused.value)[0]


def test_accepting_a_span_twice_keeps_one_gold_span(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert len(alive_gold(ready)) == 1


def test_a_span_of_a_coder_whose_coding_does_not_count_cannot_be_accepted(
    ready, coder, other_coder, third_coder, adjudicator
):
    Assignment.objects.create(
        project=ready.project, document=ready, coder=third_coder, state="released"
    )
    released = make_span(ready, third_coder, "Syria", label="LOCATION")

    with pytest.raises(ValidationError) as refused:
        gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[released.pk])

    assert messages(refused.value) == [gold.NO_SUCH_ANNOTATION.format(id=released.pk)]


# --- the document's adjudication state ----------------------------------------------------------


def test_decisions_are_refused_until_k_codings_are_submitted(document, coder, adjudicator):
    submit(document, coder)
    span = make_span(document, coder, "Syria", label="LOCATION")

    with pytest.raises(ValidationError) as refused:
        gold.gold_accept(adjudicator=adjudicator, document=document, annotation_ids=[span.pk])

    assert messages(refused.value) == [gold.NOT_READY.format(submitted=1, k=2)]


def test_the_first_decision_starts_the_adjudication(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")

    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert Document.objects.get(pk=ready.pk).adjudication_started_at is not None


def test_once_adjudication_starts_a_coder_cannot_reopen_their_submission(ready, coder, adjudicator):
    assignment = Assignment.objects.get(document=ready, coder=coder)

    gold.adjudication_start(document=ready, adjudicator=adjudicator)

    with pytest.raises(ValidationError):
        assignment_reopen(assignment=assignment, coder=coder)
    assert Assignment.objects.get(pk=assignment.pk).state == "submitted"


def test_complete_is_refused_while_a_unit_is_open(ready, coder, other_coder, adjudicator):
    make_span(ready, coder, "Syria", label="LOCATION")

    with pytest.raises(ValidationError) as refused:
        gold.adjudication_complete(adjudicator=adjudicator, document=ready)

    assert messages(refused.value) == [gold.UNITS_OPEN.format(count=1)]


def test_complete_marks_the_document_adjudicated(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    gold.adjudication_complete(adjudicator=adjudicator, document=ready)

    document = Document.objects.get(pk=ready.pk)
    assert gold.adjudication_state(document, 2) == "adjudicated"


def test_the_gold_of_an_adjudicated_document_cannot_change(ready, coder, other_coder, adjudicator):
    gold.adjudication_complete(adjudicator=adjudicator, document=ready)

    with pytest.raises(ValidationError) as refused:
        gold.gold_add(
            adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
        )

    assert messages(refused.value) == [gold.ADJUDICATED]


def test_reopening_is_audited_and_lets_the_gold_change_again(
    ready, coder, other_coder, adjudicator
):
    gold.adjudication_complete(adjudicator=adjudicator, document=ready)

    gold.adjudication_reopen(adjudicator=adjudicator, document=ready, note="missed a location")
    gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )

    event = AuditEvent.objects.get(action="adjudication.reopen")
    assert (event.user, event.after) == (adjudicator, {"note": "missed a location"})
    assert Document.objects.get(pk=ready.pk).adjudicated_at is None


# --- rejecting, adding, editing ----------------------------------------------------------------


def test_reject_records_the_decision_with_its_note(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "war-torn country", label="LOCATION")

    gold.gold_reject(
        adjudicator=adjudicator, document=ready, annotation_ids=[span.pk], note="vague"
    )

    rejection = GoldRejection.objects.get()
    assert (rejection.annotations, rejection.note) == ([span.pk], "vague")


def test_a_rejected_unit_counts_as_settled(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "war-torn country", label="LOCATION")

    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    units = gold.document_units(ready, [coder.pk, other_coder.pk])
    assert [s.status for s in gold.settlements(ready, units).values()] == ["rejected"]


def test_reject_takes_out_the_gold_that_came_from_the_rejected_spans(
    ready, coder, other_coder, adjudicator
):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert alive_gold(ready) == []


def test_accepting_a_rejected_span_supersedes_the_rejection(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert not GoldRejection.objects.alive().exists()


def test_add_makes_a_gold_span_nobody_marked(ready, coder, other_coder, adjudicator):
    added = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="DATE",
        **quote_span(ready, "September 19-29"),
        note="both missed it",
    )

    assert (added.origin, added.source_annotations, added.note) == ("added", [], "both missed it")
    assert added.attributes == {"date_role": "event_date"}


def test_add_refuses_a_quote_that_is_not_the_documents_text(ready, adjudicator):
    with pytest.raises(ValidationError) as refused:
        gold.gold_add(
            adjudicator=adjudicator,
            document=ready,
            label="LOCATION",
            start=23,
            end=28,
            text="Syrja",
        )

    assert messages(refused.value) == [
        QUOTE_MISMATCH.format(start=23, end=28, expected="Syria", got="Syrja")
    ]


def test_edit_changes_the_bounds_and_marks_an_accepted_span_edited(
    ready, coder, other_coder, adjudicator
):
    span = make_span(ready, coder, "Russian", label="ACTOR")
    [accepted] = gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])
    wider = quote_span(ready, "Russian air strikes")

    gold.gold_edit(adjudicator=adjudicator, gold_span=accepted, version=1, **wider)

    stored = GoldSpan.objects.get(pk=accepted.pk)
    assert (stored.text, stored.origin, stored.version) == ("Russian air strikes", "edited", 2)
    assert stored.source_annotations == [span.pk]


def test_a_stale_gold_edit_is_refused_and_changes_nothing(ready, coder, other_coder, adjudicator):
    added = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="ACTOR", **quote_span(ready, "Russian")
    )
    gold.gold_edit(
        adjudicator=adjudicator,
        gold_span=added,
        version=1,
        attributes={"actor_type": "state_forces"},
    )

    with pytest.raises(gold.GoldConflictError) as conflict:
        gold.gold_edit(adjudicator=adjudicator, gold_span=added, version=1, label="SOURCE")

    assert conflict.value.current_version == 2
    assert GoldSpan.objects.get(pk=added.pk).label.name == "ACTOR"


def test_an_edit_that_would_break_a_gold_link_is_refused(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    source = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="SOURCE",
        **quote_span(ready, "Russian ministry of defense"),
    )
    gold.gold_relation_add(
        adjudicator=adjudicator,
        document=ready,
        type="claimed_by",
        source_id=claim.pk,
        target_id=source.pk,
    )

    with pytest.raises(ValidationError) as refused:
        gold.gold_edit(adjudicator=adjudicator, gold_span=source, version=1, label="ACTOR")

    assert "would break 1 gold link(s) (claimed_by)" in messages(refused.value)[0]


def test_delete_takes_a_span_and_its_links_out_of_the_gold(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    source = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="SOURCE",
        **quote_span(ready, "Russian ministry of defense"),
    )
    gold.gold_relation_add(
        adjudicator=adjudicator,
        document=ready,
        type="claimed_by",
        source_id=claim.pk,
        target_id=source.pk,
    )

    gold.gold_delete(adjudicator=adjudicator, gold_span=source, version=1)

    assert [g.pk for g in alive_gold(ready)] == [claim.pk]
    assert not GoldRelation.objects.alive().exists()


# --- links ------------------------------------------------------------------------------------


def test_a_gold_link_must_fit_the_codebook(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    place = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )

    with pytest.raises(ValidationError) as refused:
        gold.gold_relation_add(
            adjudicator=adjudicator,
            document=ready,
            type="claimed_by",
            source_id=claim.pk,
            target_id=place.pk,
        )

    assert (
        "claimed_by links CASUALTY → SOURCE, not CASUALTY → LOCATION" in messages(refused.value)[0]
    )


def test_accepting_a_coders_link_needs_both_ends_in_the_gold(
    ready, coder, other_coder, adjudicator
):
    claim = make_span(ready, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    link = make_relation(ready, coder, claim, source, type="claimed_by")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[claim.pk])

    with pytest.raises(ValidationError) as refused:
        gold.gold_relation_accept(adjudicator=adjudicator, document=ready, relation_ids=[link.pk])

    assert messages(refused.value) == [gold.LINK_END_NOT_IN_GOLD.format(end="target")]


def test_a_deleted_gold_link_leaves_the_gold(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    source = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="SOURCE",
        **quote_span(ready, "Russian ministry of defense"),
    )
    link = gold.gold_relation_add(
        adjudicator=adjudicator,
        document=ready,
        type="claimed_by",
        source_id=claim.pk,
        target_id=source.pk,
    )

    gold.gold_relation_delete(adjudicator=adjudicator, gold_relation=link)

    assert not GoldRelation.objects.alive().exists()


# --- bulk -------------------------------------------------------------------------------------


def test_accept_agreed_takes_only_spans_every_coder_made_identically(
    ready, coder, other_coder, adjudicator
):
    for who in (coder, other_coder):
        make_span(ready, who, "Syria", label="LOCATION")
    make_span(ready, coder, "Russian", label="ACTOR")
    make_span(ready, other_coder, "Russian air strikes", label="ACTOR")
    make_span(ready, coder, "September 19-29", label="DATE")

    created = gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    assert [g.text for g in created] == ["Syria"]
    assert len(created[0].source_annotations) == 2


def test_accept_agreed_takes_the_majoritys_attribute_values(
    ready, coder, other_coder, third_coder, adjudicator
):
    submit(ready, third_coder)
    for who, outcome in ((coder, "injured"), (other_coder, "killed"), (third_coder, "killed")):
        make_span(
            ready, who, "2,359 ISIS terrorists", label="CASUALTY", attributes={"outcome": outcome}
        )

    [created] = gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    assert created.attributes["outcome"] == "killed"
    assert not created.needs_review


def test_accept_agreed_flags_attributes_without_a_majority_and_takes_the_first_coders(
    ready, coder, other_coder, adjudicator
):
    make_span(
        ready, coder, "2,359 ISIS terrorists", label="CASUALTY", attributes={"outcome": "killed"}
    )
    make_span(
        ready,
        other_coder,
        "2,359 ISIS terrorists",
        label="CASUALTY",
        attributes={"outcome": "injured"},
    )

    [created] = gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    assert created.attributes["outcome"] == "killed"  # coder has the smaller user id
    assert created.needs_review
    assert gold.DISPUTED_NOTE.format(names="outcome") in created.note


def test_accept_majority_takes_spans_two_of_three_coders_made(
    ready, coder, other_coder, third_coder, adjudicator
):
    submit(ready, third_coder)
    make_span(ready, coder, "Russian", label="ACTOR")
    make_span(ready, other_coder, "Russian", label="ACTOR")
    make_span(ready, third_coder, "Russian air strikes", label="ACTOR")
    make_span(ready, coder, "Syria", label="LOCATION")

    created = gold.gold_accept_majority(adjudicator=adjudicator, document=ready, threshold="2/3")

    assert [(g.text, len(g.source_annotations)) for g in created] == [("Russian", 2)]


def test_a_majority_threshold_of_one_half_is_refused(ready, adjudicator):
    with pytest.raises(ValidationError) as refused:
        gold.gold_accept_majority(adjudicator=adjudicator, document=ready, threshold="0.5")

    assert messages(refused.value) == [gold.THRESHOLD_RANGE.format(value="0.5")]


def test_thresholds_are_read_as_exact_fractions():
    assert gold.parse_threshold("2/3") == Fraction(2, 3)
    assert gold.parse_threshold(0.75) == Fraction(3, 4)


def test_bulk_accept_leaves_units_the_adjudicator_decided_alone(
    ready, coder, other_coder, adjudicator
):
    spans = [make_span(ready, who, "Syria", label="LOCATION") for who in (coder, other_coder)]
    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[s.pk for s in spans])

    created = gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    assert created == []


def test_bulk_accept_brings_the_links_between_accepted_spans(
    ready, coder, other_coder, adjudicator
):
    for who in (coder, other_coder):
        claim = make_span(ready, who, "2,359 ISIS terrorists", label="CASUALTY")
        source = make_span(ready, who, "Russian ministry of defense", label="SOURCE")
        make_relation(ready, who, claim, source, type="claimed_by")

    gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    [relation] = GoldRelation.objects.alive()
    assert len(relation.source_relations) == 2


def test_every_bulk_accepted_span_is_audited(ready, coder, other_coder, adjudicator):
    for who in (coder, other_coder):
        make_span(ready, who, "Syria", label="LOCATION")
        make_span(ready, who, "Russian", label="ACTOR")

    created = gold.gold_accept_agreed(adjudicator=adjudicator, document=ready)

    audited = set(
        AuditEvent.objects.filter(action="gold.accept_agreed").values_list("object_id", flat=True)
    )
    assert audited == {g.pk for g in created}


# --- audit ------------------------------------------------------------------------------------


def test_every_decision_writes_an_audit_event(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    [accepted] = gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])
    gold.gold_edit(
        adjudicator=adjudicator, gold_span=accepted, version=1, attributes={"loc_type": "country"}
    )
    gold.gold_delete(adjudicator=adjudicator, gold_span=accepted, version=2)
    gold.gold_reject(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    actions = list(
        AuditEvent.objects.filter(user=adjudicator).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "adjudication.start",
        "gold.accept",
        "gold.edit",
        "gold.delete",
        "gold.reject",
    ]


# --- agreement of each coder against the gold -----------------------------------------------------


def test_each_coder_is_scored_against_the_gold_of_adjudicated_documents(
    ready, coder, other_coder, adjudicator
):
    right = make_span(ready, coder, "Syria", label="LOCATION")
    make_span(ready, other_coder, "Syria", label="LOCATION")
    make_span(ready, other_coder, "Russian", label="ACTOR")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[right.pk])
    gold.gold_reject(
        adjudicator=adjudicator,
        document=ready,
        annotation_ids=[
            s.pk for s in gold.coder_spans(ready, [other_coder.pk]).filter(label__name="ACTOR")
        ],
    )
    gold.adjudication_complete(adjudicator=adjudicator, document=ready)

    comparison = gold.gold_scores(ready.project)

    overall = {s.coder: s.exact for s in comparison.scores if s.label is None}
    assert (overall[coder.pk].precision, overall[coder.pk].recall) == (1.0, 1.0)
    assert (overall[other_coder.pk].precision, overall[other_coder.pk].recall) == (0.5, 1.0)
    actor = next(s for s in comparison.scores if s.coder == other_coder.pk and s.label == "ACTOR")
    assert (actor.exact.tp, actor.exact.n_reference, actor.exact.n_predicted) == (0, 0, 1)


def test_documents_not_adjudicated_do_not_count_against_the_gold(
    ready, coder, other_coder, adjudicator
):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    assert gold.gold_scores(ready.project).scores == []


# --- the database's own guard ----------------------------------------------------------------------


def test_the_database_refuses_a_gold_span_whose_quote_is_not_the_text(document, adjudicator):
    location = Label.objects.get(project=document.project, name="LOCATION")

    with pytest.raises(IntegrityError), transaction.atomic():
        GoldSpan.objects.create(
            document=document,
            label=location,
            start=23,
            end=28,
            text="Syrja",
            origin="added",
            created_by=adjudicator,
        )


def test_the_database_refuses_two_alive_identical_gold_spans(document, adjudicator):
    location = Label.objects.get(project=document.project, name="LOCATION")
    fields = {
        "document": document,
        "label": location,
        "start": 23,
        "end": 28,
        "text": "Syria",
        "origin": "added",
        "created_by": adjudicator,
    }
    GoldSpan.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        GoldSpan.objects.create(**fields)


def test_the_text_of_a_document_with_gold_spans_cannot_change(document, adjudicator):
    location = Label.objects.get(project=document.project, name="LOCATION")
    GoldSpan.objects.create(
        document=document,
        label=location,
        start=23,
        end=28,
        text="Syria",
        origin="added",
        created_by=adjudicator,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(text="Another text entirely.")


def test_a_document_without_gold_or_spans_may_still_change_its_text(project):
    document = make_document(project)

    Document.objects.filter(pk=document.pk).update(text="Another text entirely.")

    assert Document.objects.get(pk=document.pk).text == "Another text entirely."


def test_saving_a_gold_span_unchanged_leaves_it_accepted(ready, coder, other_coder, adjudicator):
    span = make_span(ready, coder, "Syria", label="LOCATION", attributes={"loc_type": "country"})
    [accepted] = gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])

    gold.gold_edit(
        adjudicator=adjudicator,
        gold_span=accepted,
        version=1,
        label="LOCATION",
        start=accepted.start,
        end=accepted.end,
        attributes=dict(accepted.attributes),
        note="",
    )

    stored = GoldSpan.objects.get(pk=accepted.pk)
    assert (stored.origin, stored.version) == ("accepted", 1)
