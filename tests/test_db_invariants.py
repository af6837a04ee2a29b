"""The database itself refuses a span whose quote is not the document's text, whatever code
path writes it (migration 0002 triggers, model constraints). These tests go around the services
on purpose: the ORM's create, bulk_create and queryset.update."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from annotator.codebook import _load_codebook
from annotator.models import Annotation, Document, Label, Relation, RelationType
from annotator.services import span_create
from tests.factories import make_document, quote_span

# Emoji (outside the BMP), a ZWJ sequence, a flag, Arabic with harakat and Arabic-Indic digits.
MIXED = "🔥 قُتل ١٦ مدنياً 👨‍👩‍👧 في دير الزور 🇸🇾 (Deir ez-Zor)."


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


@pytest.fixture
def actor(project):
    return Label.objects.get(project=project, name="ACTOR")


def write(document, coder, label, start, end, text) -> Annotation:
    """A span written straight through the ORM, as a careless import script would."""
    return Annotation.objects.create(
        document=document, coder=coder, label=label, start=start, end=end, text=text
    )


@contextmanager
def refused():
    """The statement inside must fail; the savepoint keeps the test's transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


def test_the_database_supports_the_triggers():
    assert connection.vendor in {"postgresql", "sqlite"}


def test_span_with_the_documents_quote_is_stored(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")

    assert Annotation.objects.get(pk=span.pk).text == "Russian"


def test_create_with_a_wrong_quote_is_refused(document, coder, actor):
    with refused():
        write(document, coder, actor, 0, 7, "Russia!")

    assert not Annotation.objects.exists()


def test_create_with_a_quote_of_the_wrong_length_is_refused(document, coder, actor):
    with refused():
        write(document, coder, actor, 0, 7, "Russian air")


def test_create_ending_beyond_the_text_is_refused(document, coder, actor):
    length = len(document.text)

    with refused():
        write(document, coder, actor, length - 1, length + 1, document.text[-1] + "x")


def test_create_with_end_equal_to_start_is_refused(document, coder, actor):
    with refused():
        write(document, coder, actor, 3, 3, "")


def test_create_with_a_negative_start_is_refused(document, coder, actor):
    with refused():
        write(document, coder, actor, -1, 6, "Russia")


def test_create_in_another_documents_text_is_refused(project, document, coder, actor):
    other = make_document(project, text="Turkish forces advanced.")

    with refused():
        write(other, coder, actor, 0, 7, "Russian")


def test_bulk_create_with_one_wrong_quote_stores_nothing(document, coder, actor):
    spans = [
        Annotation(document=document, coder=coder, label=actor, start=0, end=7, text="Russian"),
        Annotation(document=document, coder=coder, label=actor, start=23, end=28, text="Syrie"),
    ]

    with refused():
        Annotation.objects.bulk_create(spans)

    assert not Annotation.objects.exists()


def test_bulk_create_of_correct_spans_is_stored(document, coder, actor):
    Annotation.objects.bulk_create(
        [
            Annotation(document=document, coder=coder, label=actor, start=0, end=7, text="Russian"),
            Annotation(document=document, coder=coder, label=actor, start=23, end=28, text="Syria"),
        ]
    )

    assert Annotation.objects.count() == 2


def test_update_moving_a_span_off_its_quote_is_refused(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")

    with refused():
        Annotation.objects.filter(pk=span.pk).update(start=1, end=8)

    assert Annotation.objects.get(pk=span.pk).start == 0


def test_update_changing_the_quote_alone_is_refused(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")

    with refused():
        Annotation.objects.filter(pk=span.pk).update(text="Soviets")


def test_update_moving_a_span_beyond_the_text_is_refused(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")
    length = len(document.text)

    with refused():
        Annotation.objects.filter(pk=span.pk).update(start=length, end=length + 7)


def test_update_moving_a_span_to_another_document_is_refused(project, document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")
    other = make_document(project, text="Turkish forces advanced.")

    with refused():
        Annotation.objects.filter(pk=span.pk).update(document=other)


def test_update_of_other_fields_is_not_checked_against_the_text(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")

    Annotation.objects.filter(pk=span.pk).update(
        attributes={"actor_type": "state_forces"}, version=2
    )

    assert Annotation.objects.get(pk=span.pk).version == 2


def test_model_save_with_a_changed_quote_is_refused(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")
    span.text = "RUSSIAN"

    with refused():
        span.save()


# --- the document's text is frozen once coding started -----------------------------------------


def test_text_of_an_annotated_document_cannot_change(document, coder, actor):
    write(document, coder, actor, 0, 7, "Russian")
    document.text = "Soviet" + document.text[7:]

    with refused():
        document.save()

    assert Document.objects.get(pk=document.pk).text.startswith("Russian")


def test_text_of_an_annotated_document_cannot_change_through_update(document, coder, actor):
    write(document, coder, actor, 0, 7, "Russian")

    with refused():
        Document.objects.filter(pk=document.pk).update(text=document.text + " More.")


def test_text_stays_frozen_when_every_span_is_deleted(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")
    Annotation.objects.filter(pk=span.pk).update(deleted_at="2017-09-30T00:00:00Z")

    with refused():
        Document.objects.filter(pk=document.pk).update(text="Something else.")


def test_text_of_a_document_nobody_annotated_may_change(document):
    Document.objects.filter(pk=document.pk).update(text="A corrected text.")

    assert Document.objects.get(pk=document.pk).text == "A corrected text."


def test_other_fields_of_an_annotated_document_may_change(document, coder, actor):
    write(document, coder, actor, 0, 7, "Russian")
    document.title = "Corrected title"

    document.save()

    assert Document.objects.get(pk=document.pk).title == "Corrected title"


def test_document_with_empty_text_is_refused(project):
    with refused():
        Document.objects.create(project=project, text="", content_hash="0" * 64)


# --- code points, not UTF-16 units or bytes ----------------------------------------------------


def test_span_after_emoji_and_arabic_is_checked_in_code_points(project, coder, actor):
    document = make_document(project, text=MIXED)
    span = quote_span(document, "دير الزور")

    stored = write(document, coder, actor, span["start"], span["end"], span["text"])

    assert Annotation.objects.get(pk=stored.pk).text == "دير الزور"
    assert document.text[stored.start : stored.end] == "دير الزور"


def test_span_at_utf16_offsets_after_emoji_is_refused(project, coder, actor):
    document = make_document(project, text=MIXED)
    span = quote_span(document, "Deir ez-Zor")
    # A browser counts the astral characters before it twice (UTF-16 surrogate pairs).
    shift = sum(1 for char in MIXED[: span["start"]] if ord(char) > 0xFFFF)
    assert shift > 0

    with refused():
        write(document, coder, actor, span["start"] + shift, span["end"] + shift, span["text"])


def test_span_covering_an_emoji_sequence_is_stored(project, coder, actor):
    document = make_document(project, text=MIXED)
    family = quote_span(document, "👨‍👩‍👧")

    stored = write(document, coder, actor, family["start"], family["end"], family["text"])

    assert stored.end - stored.start == 5


def test_service_and_database_agree_on_every_span_of_a_mixed_text(project, coder):
    document = make_document(project, text=MIXED)

    for phrase in ["قُتل", "١٦ مدنياً", "دير الزور", "Deir ez-Zor"]:
        span_create(
            document=document, coder=coder, label="LOCATION", **quote_span(document, phrase)
        )

    for span in Annotation.objects.filter(document=document):
        assert document.text[span.start : span.end] == span.text


# --- other constraints -------------------------------------------------------------------------


def test_client_id_is_unique_per_coder(document, coder, actor):
    Annotation.objects.create(
        document=document, coder=coder, label=actor, start=0, end=7, text="Russian", client_id="c"
    )

    with refused():
        Annotation.objects.create(
            document=document,
            coder=coder,
            label=actor,
            start=23,
            end=28,
            text="Syria",
            client_id="c",
        )


def test_relation_from_a_span_to_itself_is_refused(document, coder, actor):
    span = write(document, coder, actor, 0, 7, "Russian")
    any_type = RelationType.objects.filter(project=document.project).first()

    with refused():
        Relation.objects.create(
            document=document, coder=coder, type=any_type, source=span, target=span
        )


def test_the_same_live_relation_twice_is_refused(document, coder, project):
    claim = write(
        document,
        coder,
        Label.objects.get(project=project, name="CASUALTY"),
        **quote_span(document, "2,359 ISIS terrorists"),
    )
    source = write(
        document,
        coder,
        Label.objects.get(project=project, name="SOURCE"),
        **quote_span(document, "Russian ministry of defense"),
    )
    claimed_by = RelationType.objects.get(project=project, name="claimed_by")
    Relation.objects.create(
        document=document, coder=coder, type=claimed_by, source=claim, target=source
    )

    with refused():
        Relation.objects.create(
            document=document, coder=coder, type=claimed_by, source=claim, target=source
        )
