"""relation_create / relation_delete, and what deleting a span does to its links."""

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
)
from annotator.services.annotations import (
    CLIENT_ID_REUSED,
    LABEL_CHANGE_BREAKS_LINKS,
    NO_SUCH_SPAN,
    NOT_AN_INTEGER,
    RELATION_CARDINALITY,
    RELATION_DUPLICATE,
    RELATION_LABELS,
    RELATION_SELF,
    UNKNOWN_RELATION_TYPE,
)
from tests.factories import make_document, quote_span

REPORT = (
    "The source said, citing local media reports, that the army and allied militias killed "
    "dozens of ISIS terrorists, among them 16 field commanders, and 3 civilians near "
    "Deir ez-Zor on Saturday."
)
RELATION_TYPES = (
    "claimed_by, perpetrator, victim_group, location, date, subset_of, cites, located_in"
)


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def tag(document, coder, label, phrase):
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase)
    )
    return span


def link(document, coder, type, source, target, **extra):
    relation, _ = relation_create(
        document=document, coder=coder, type=type, source_id=source.pk, target_id=target.pk, **extra
    )
    return relation


def refusal(**kwargs) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        relation_create(**kwargs)
    return excinfo.value.message_dict


@pytest.fixture
def report(project):
    return make_document(project, text=REPORT, title="Deir ez-Zor")


@pytest.fixture
def spans(report, coder):
    """The coder's spans of the report, by a short name."""
    return {
        "source": tag(report, coder, "SOURCE", "The source"),
        "media": tag(report, coder, "SOURCE", "local media reports"),
        "army": tag(report, coder, "ACTOR", "the army"),
        "militias": tag(report, coder, "ACTOR", "allied militias"),
        "toll": tag(report, coder, "CASUALTY", "dozens of ISIS terrorists"),
        "commanders": tag(report, coder, "CASUALTY", "16 field commanders"),
        "civilians": tag(report, coder, "CASUALTY", "3 civilians"),
        "place": tag(report, coder, "LOCATION", "Deir ez-Zor"),
        "day": tag(report, coder, "DATE", "Saturday"),
    }


def test_coder_links_a_claim_to_its_source(report, coder, spans):
    relation, created = relation_create(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["source"].pk,
    )

    assert created
    stored = Relation.objects.get(pk=relation.pk)
    assert stored.type.name == "claimed_by"
    assert (stored.source, stored.target) == (spans["toll"], spans["source"])
    assert (stored.document, stored.coder) == (report, coder)
    assert stored.deleted_at is None


def test_span_ids_sent_as_text_are_accepted(report, coder, spans):
    _, created = relation_create(
        document=report,
        coder=coder,
        type="location",
        source_id=str(spans["toll"].pk),
        target_id=str(spans["place"].pk),
    )

    assert created


def test_link_is_recorded_in_the_audit_trail(report, coder, spans):
    relation = link(report, coder, "date", spans["toll"], spans["day"])

    event = AuditEvent.objects.get(action="relation.create")
    assert (event.object_type, event.object_id, event.user) == ("relation", relation.pk, coder)
    assert event.before is None
    assert event.after == {
        "id": relation.pk,
        "type_id": relation.type_id,
        "source_id": spans["toll"].pk,
        "target_id": spans["day"].pk,
    }


def test_unknown_relation_type_is_refused(report, coder, spans):
    errors = refusal(
        document=report,
        coder=coder,
        type="killed_by",
        source_id=spans["toll"].pk,
        target_id=spans["army"].pk,
    )

    assert errors == {
        "type": [UNKNOWN_RELATION_TYPE.format(name="killed_by", known=RELATION_TYPES)]
    }


def test_link_between_the_wrong_labels_is_refused(report, coder, spans):
    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["army"].pk,
    )

    assert errors == {
        "type": [
            RELATION_LABELS.format(
                type="claimed_by",
                expected_from="CASUALTY",
                expected_to="SOURCE",
                got_from="CASUALTY",
                got_to="ACTOR",
            )
        ]
    }
    assert not Relation.objects.exists()


def test_link_in_the_wrong_direction_is_refused(report, coder, spans):
    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["source"].pk,
        target_id=spans["toll"].pk,
    )

    assert errors == {
        "type": [
            RELATION_LABELS.format(
                type="claimed_by",
                expected_from="CASUALTY",
                expected_to="SOURCE",
                got_from="SOURCE",
                got_to="CASUALTY",
            )
        ]
    }


def test_span_cannot_be_linked_to_itself(report, coder, spans):
    errors = refusal(
        document=report,
        coder=coder,
        type="subset_of",
        source_id=spans["toll"].pk,
        target_id=spans["toll"].pk,
    )

    assert errors == {"target": [RELATION_SELF]}


def test_the_same_link_twice_is_refused(report, coder, spans):
    link(report, coder, "perpetrator", spans["toll"], spans["army"])

    errors = refusal(
        document=report,
        coder=coder,
        type="perpetrator",
        source_id=spans["toll"].pk,
        target_id=spans["army"].pk,
    )

    assert errors == {"target": [RELATION_DUPLICATE.format(type="perpetrator")]}
    assert Relation.objects.count() == 1


def test_claim_may_have_several_perpetrators(report, coder, spans):
    link(report, coder, "perpetrator", spans["toll"], spans["army"])

    _, created = relation_create(
        document=report,
        coder=coder,
        type="perpetrator",
        source_id=spans["toll"].pk,
        target_id=spans["militias"].pk,
    )

    assert created


def test_same_two_spans_may_be_linked_by_two_types(report, coder, spans):
    link(report, coder, "perpetrator", spans["toll"], spans["army"])

    _, created = relation_create(
        document=report,
        coder=coder,
        type="victim_group",
        source_id=spans["toll"].pk,
        target_id=spans["army"].pk,
    )

    assert created


def test_claim_may_be_claimed_by_only_one_source(report, coder, spans):
    link(report, coder, "claimed_by", spans["toll"], spans["source"])

    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["media"].pk,
    )

    assert errors == {
        "type": [
            RELATION_CARDINALITY.format(
                label="CASUALTY",
                text="dozens of ISIS terrorists",
                count=1,
                type="claimed_by",
                limit=1,
            )
        ]
    }


def test_claim_may_be_a_subset_of_only_one_other_claim(report, coder, spans):
    link(report, coder, "subset_of", spans["commanders"], spans["toll"])

    errors = refusal(
        document=report,
        coder=coder,
        type="subset_of",
        source_id=spans["commanders"].pk,
        target_id=spans["civilians"].pk,
    )

    assert errors == {
        "type": [
            RELATION_CARDINALITY.format(
                label="CASUALTY", text="16 field commanders", count=1, type="subset_of", limit=1
            )
        ]
    }


def test_two_claims_may_be_subsets_of_the_same_claim(report, coder, spans):
    link(report, coder, "subset_of", spans["commanders"], spans["toll"])

    _, created = relation_create(
        document=report,
        coder=coder,
        type="subset_of",
        source_id=spans["civilians"].pk,
        target_id=spans["toll"].pk,
    )

    assert created


def test_cardinality_counts_only_live_links(report, coder, spans):
    first = link(report, coder, "claimed_by", spans["toll"], spans["source"])
    relation_delete(relation=first, coder=coder)

    _, created = relation_create(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["media"].pk,
    )

    assert created


def test_deleted_link_can_be_made_again(report, coder, spans):
    first = link(report, coder, "cites", spans["source"], spans["media"])
    relation_delete(relation=first, coder=coder)

    again, created = relation_create(
        document=report,
        coder=coder,
        type="cites",
        source_id=spans["source"].pk,
        target_id=spans["media"].pk,
    )

    assert created
    assert again.pk != first.pk


def test_link_to_another_coders_span_is_refused(report, coder, other_coder, spans):
    theirs = tag(report, other_coder, "SOURCE", "The source")

    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=theirs.pk,
    )

    assert errors == {"target": [NO_SUCH_SPAN.format(id=theirs.pk)]}


def test_link_from_another_coders_span_is_refused(report, coder, other_coder, spans):
    theirs = tag(report, other_coder, "CASUALTY", "dozens of ISIS terrorists")

    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=theirs.pk,
        target_id=spans["source"].pk,
    )

    assert errors == {"source": [NO_SUCH_SPAN.format(id=theirs.pk)]}


def test_link_to_a_span_in_another_document_is_refused(project, report, coder, spans):
    elsewhere = make_document(project, text="The ministry said it.")
    ministry = tag(elsewhere, coder, "SOURCE", "The ministry")

    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=ministry.pk,
    )

    assert errors == {"target": [NO_SUCH_SPAN.format(id=ministry.pk)]}


def test_link_made_through_another_document_is_refused(project, report, coder, spans):
    elsewhere = make_document(project, text="The ministry said it.")

    errors = refusal(
        document=elsewhere,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["source"].pk,
    )

    assert errors == {"source": [NO_SUCH_SPAN.format(id=spans["toll"].pk)]}


def test_link_to_a_deleted_span_is_refused(report, coder, spans):
    span_delete(annotation=spans["source"], coder=coder, version=1)

    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id=spans["toll"].pk,
        target_id=spans["source"].pk,
    )

    assert errors == {"target": [NO_SUCH_SPAN.format(id=spans["source"].pk)]}


def test_span_id_that_is_not_a_number_is_refused(report, coder, spans):
    errors = refusal(
        document=report,
        coder=coder,
        type="claimed_by",
        source_id="toll",
        target_id=spans["source"].pk,
    )

    assert errors == {"source": [NOT_AN_INTEGER.format(value="toll")]}


def test_repeated_client_id_returns_the_first_link(report, coder, spans):
    first = link(report, coder, "location", spans["toll"], spans["place"], client_id="r-1")

    again, created = relation_create(
        document=report,
        coder=coder,
        type="location",
        source_id=spans["toll"].pk,
        target_id=spans["place"].pk,
        client_id="r-1",
    )

    assert not created
    assert again.pk == first.pk
    assert Relation.objects.count() == 1
    assert AuditEvent.objects.filter(action="relation.create").count() == 1


def test_relation_client_id_reused_on_another_document_is_refused(project, report, coder, spans):
    link(report, coder, "location", spans["toll"], spans["place"], client_id="r-1")
    elsewhere = make_document(project, text="The ministry said 4 soldiers died.")
    claim = tag(elsewhere, coder, "CASUALTY", "4 soldiers")
    ministry = tag(elsewhere, coder, "SOURCE", "The ministry")

    errors = refusal(
        document=elsewhere,
        coder=coder,
        type="claimed_by",
        source_id=claim.pk,
        target_id=ministry.pk,
        client_id="r-1",
    )

    assert errors == {"client_id": [CLIENT_ID_REUSED.format(client_id="r-1")]}
    assert not Relation.objects.filter(document=elsewhere).exists()


# --- deleting links ----------------------------------------------------------------------------


def test_relation_delete_is_soft_and_audited(report, coder, spans):
    relation = link(report, coder, "claimed_by", spans["toll"], spans["source"])

    relation_delete(relation=relation, coder=coder)

    stored = Relation.objects.get(pk=relation.pk)
    assert stored.deleted_at is not None
    assert not Relation.objects.alive().exists()
    event = AuditEvent.objects.get(action="relation.delete")
    assert event.object_id == relation.pk
    assert event.before == {
        "id": relation.pk,
        "type_id": relation.type_id,
        "source_id": spans["toll"].pk,
        "target_id": spans["source"].pk,
    }
    assert event.after is None


def test_deleting_a_deleted_link_records_nothing_more(report, coder, spans):
    relation = link(report, coder, "claimed_by", spans["toll"], spans["source"])
    relation_delete(relation=relation, coder=coder)

    relation_delete(relation=relation, coder=coder)

    assert AuditEvent.objects.filter(action="relation.delete").count() == 1


def test_deleting_a_span_deletes_its_outgoing_and_incoming_links(report, coder, spans):
    claimed_by = link(report, coder, "claimed_by", spans["toll"], spans["source"])
    cites = link(report, coder, "cites", spans["source"], spans["media"])
    unrelated = link(report, coder, "location", spans["toll"], spans["place"])

    span_delete(annotation=spans["source"], coder=coder, version=1)

    assert set(Relation.objects.alive().values_list("pk", flat=True)) == {unrelated.pk}
    assert Relation.objects.filter(pk__in=[claimed_by.pk, cites.pk]).count() == 2
    event = AuditEvent.objects.get(action="span.delete")
    assert sorted(event.after["relation_ids"]) == sorted([claimed_by.pk, cites.pk])


def test_stale_span_delete_keeps_the_span_and_its_links(report, coder, spans):
    relation = link(report, coder, "claimed_by", spans["toll"], spans["source"])
    other_tab = Annotation.objects.get(pk=spans["source"].pk)
    span_update(annotation=spans["source"], coder=coder, version=1, attributes={"named": "no"})

    with pytest.raises(ConflictError):
        span_delete(annotation=other_tab, coder=coder, version=1)

    assert Annotation.objects.alive().filter(pk=spans["source"].pk).exists()
    assert Relation.objects.alive().filter(pk=relation.pk).exists()


def test_label_change_is_refused_when_links_would_break(report, coder, spans):
    link(report, coder, "claimed_by", spans["toll"], spans["source"])
    link(report, coder, "cites", spans["source"], spans["media"])

    with pytest.raises(ValidationError) as excinfo:
        span_update(annotation=spans["source"], coder=coder, version=1, label="ACTOR")

    assert excinfo.value.message_dict == {
        "label": [
            LABEL_CHANGE_BREAKS_LINKS.format(label="ACTOR", count=2, types="cites, claimed_by")
        ]
    }
    stored = Annotation.objects.get(pk=spans["source"].pk)
    assert stored.label.name == "SOURCE"
    assert stored.version == 1


def test_label_change_is_allowed_once_the_links_are_gone(report, coder, spans):
    relation = link(report, coder, "claimed_by", spans["toll"], spans["source"])
    relation_delete(relation=relation, coder=coder)

    span_update(annotation=spans["source"], coder=coder, version=1, label="ACTOR")

    assert Annotation.objects.get(pk=spans["source"].pk).label.name == "ACTOR"
