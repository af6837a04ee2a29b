"""The number normaliser at work: a claim's numbers come from its text, an override needs a
note, boundaries re-read what the coder did not override, and the project's lexicon decides
the reading. Through the service, the coding screen (htmx) and the API alike."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from annotator.claims import load_lexicon, parse_quantity
from annotator.codebook import get_codebook
from annotator.models import Annotation, AttributeDefinition, AuditEvent, Project
from annotator.services import span_create, span_update
from annotator.services.numbers import lexicon_update
from annotator.services.numbers import shipped_lexicon as default_lexicon
from tests.factories import make_document, quote_span

TEXT = (
    "The source said the army repelled an attack, killing dozens of ISIS terrorists near "
    "the road; another report put the toll at scores of ISIS fighters, and 2,359 ISIS "
    "terrorists were killed over the month."
)


@pytest.fixture
def article(project):
    return make_document(project, text=TEXT, title="Claims")


def claim(document, coder, phrase, **fields):
    span, _ = span_create(
        document=document, coder=coder, label="CASUALTY", **quote_span(document, phrase), **fields
    )
    return Annotation.objects.get(pk=span.pk)


def numbers(span):
    keys = ("count_text", "quantifier_type", "low", "best", "high")
    return {key: span.attributes.get(key) for key in keys}


def change(span, coder, **attributes):
    """Save the span as the coding panel does: every attribute, some of them changed."""
    values = {k: v for k, v in span.attributes.items() if k != "numbers_overridden"}
    values.update(attributes)
    updated = span_update(annotation=span, coder=coder, version=span.version, attributes=values)
    return Annotation.objects.get(pk=updated.pk)


# -- Filling on create --------------------------------------------------------------------------


def test_an_exact_count_is_filled_from_the_text(article, coder):
    span = claim(article, coder, "2,359 ISIS terrorists")

    assert numbers(span) == {
        "count_text": "2,359",
        "quantifier_type": "exact",
        "low": 2359,
        "best": 2359,
        "high": 2359,
    }


def test_dozens_is_filled_as_vague_from_24_to_99_without_a_best(article, coder):
    span = claim(article, coder, "dozens of ISIS terrorists")

    assert numbers(span) == {
        "count_text": "dozens of",
        "quantifier_type": "vague",
        "low": 24,
        "best": None,
        "high": 99,
    }


def test_filled_numbers_are_not_marked_as_the_coders(article, coder):
    span = claim(article, coder, "dozens of ISIS terrorists")

    assert "numbers_overridden" not in span.attributes


def test_numbers_the_client_sends_are_kept_and_marked_where_they_differ(article, coder):
    span = claim(article, coder, "dozens of ISIS terrorists", attributes={"low": 30, "high": 99})

    assert (span.attributes["low"], span.attributes["high"]) == (30, 99)
    assert "quantifier_type" not in span.attributes
    assert span.attributes["numbers_overridden"] == ["low"]


def test_other_attributes_sent_on_create_do_not_stop_the_filling(article, coder):
    span = claim(article, coder, "2,359 ISIS terrorists", attributes={"outcome": "killed"})

    assert span.attributes["outcome"] == "killed"
    assert span.attributes["best"] == 2359


def test_spans_of_other_labels_get_no_numbers(article, coder):
    span, _ = span_create(
        document=article, coder=coder, label="ACTOR", **quote_span(article, "the army")
    )

    assert "low" not in Annotation.objects.get(pk=span.pk).attributes


def test_the_coding_screen_fills_the_numbers_and_says_so(coder_client, article):
    response = coder_client.post(
        f"/documents/{article.pk}/spans/",
        {"label": "CASUALTY", **quote_span(article, "2,359 ISIS terrorists")},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 201, response.content.decode()
    assert numbers(Annotation.objects.get())["best"] == 2359
    body = response.content.decode()
    assert "Numbers filled from the text: “2,359” read as an exact number" in body
    assert body.count('data-number-source="normaliser"') == 5


def test_the_api_fills_the_numbers(coder, article):
    client = APIClient()
    client.force_authenticate(coder)

    response = client.post(
        f"/api/v1/documents/{article.pk}/annotations/",
        {"label": "CASUALTY", **quote_span(article, "dozens of ISIS terrorists")},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["attributes"]["quantifier_type"] == "vague"
    assert (response.json()["attributes"]["low"], response.json()["attributes"]["high"]) == (24, 99)


# -- Overrides need a note ------------------------------------------------------------------------


def test_an_override_without_a_note_is_refused_naming_the_field(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")

    with pytest.raises(ValidationError) as refused:
        change(span, coder, low=24)

    assert refused.value.message_dict["attributes"] == [
        'low: 24 differs from the text\'s reading 40 ("scores of"); add a short note in '
        "numbers_note"
    ]
    assert Annotation.objects.get(pk=span.pk).attributes["low"] == 40


def test_an_override_names_every_field_that_differs(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")

    with pytest.raises(ValidationError) as refused:
        change(span, coder, quantifier_type="approximate", best=60)

    message = refused.value.message_dict["attributes"][0]
    assert "quantifier_type: approximate differs from the text's reading vague" in message
    assert "best: 60 differs from the text's reading no value" in message


def test_an_override_with_a_note_is_accepted_and_marked_as_the_coders(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")

    span = change(span, coder, low=24, numbers_note="the source's table gives 24")

    assert span.attributes["low"] == 24
    assert span.attributes["numbers_overridden"] == ["low"]


def test_a_blank_note_is_no_note(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")

    with pytest.raises(ValidationError):
        change(span, coder, low=24, numbers_note="   ")


def test_saving_other_attributes_needs_no_note(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")

    span = change(span, coder, outcome="killed", victim_status="combatant")

    assert span.attributes["outcome"] == "killed" and span.attributes["low"] == 40


def test_changing_a_number_back_to_the_reading_clears_its_mark(article, coder):
    span = claim(article, coder, "scores of ISIS fighters")
    span = change(span, coder, low=24, numbers_note="typo in the source")

    span = change(span, coder, low=40)

    assert "numbers_overridden" not in span.attributes


def test_the_api_refuses_an_override_without_a_note(coder, article):
    span = claim(article, coder, "scores of ISIS fighters")
    client = APIClient()
    client.force_authenticate(coder)

    response = client.patch(
        f"/api/v1/annotations/{span.pk}/",
        {"version": span.version, "attributes": {**span.attributes, "high": 150}},
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert response.json() == {
        "attributes": [
            'high: 150 differs from the text\'s reading 199 ("scores of"); add a short note in '
            "numbers_note"
        ]
    }


def test_the_coding_panel_refuses_an_override_without_a_note(coder_client, coder, article):
    span = claim(article, coder, "scores of ISIS fighters")
    form = {f"attr-{k}": v for k, v in span.attributes.items()}

    response = coder_client.post(
        f"/spans/{span.pk}/",
        {"version": span.version, "label": "CASUALTY", **form, "attr-low": "24"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "add a short note in numbers_note" in response.content.decode()


# -- Boundaries ------------------------------------------------------------------------------------


def test_new_boundaries_reread_the_numbers_the_coder_left_alone(article, coder):
    start = TEXT.index("2,359 ISIS terrorists")
    span, _ = span_create(
        document=article,
        coder=coder,
        label="CASUALTY",
        start=start + 6,
        end=start + 21,
        text="ISIS terrorists",
    )
    assert Annotation.objects.get(pk=span.pk).attributes["quantifier_type"] == "unspecified"

    updated = span_update(
        annotation=span, coder=coder, version=span.version, start=start, end=start + 21
    )

    assert numbers(Annotation.objects.get(pk=updated.pk))["best"] == 2359


def test_new_boundaries_keep_the_numbers_the_coder_overrode(article, coder):
    span = claim(article, coder, "dozens of ISIS terrorists")
    span = change(span, coder, low=30, numbers_note="elsewhere the report says thirty")
    start = TEXT.index("dozens of ISIS terrorists")

    span_update(annotation=span, coder=coder, version=span.version, start=start, end=start + 15)

    stored = Annotation.objects.get(pk=span.pk)
    assert (stored.text, stored.attributes["low"], stored.attributes["high"]) == (
        "dozens of ISIS ",
        30,
        99,
    )


def test_relabelling_a_span_into_a_claim_fills_its_numbers(article, coder):
    span, _ = span_create(
        document=article, coder=coder, label="ACTOR", **quote_span(article, "2,359 ISIS terrorists")
    )

    span_update(annotation=span, coder=coder, version=span.version, label="CASUALTY")

    assert numbers(Annotation.objects.get(pk=span.pk))["best"] == 2359


# -- The project's lexicon ----------------------------------------------------------------------------


def _with_dozens(low: int) -> dict:
    data = default_lexicon("en").to_dict()
    data["vague"] = {**data["vague"], "dozens": {"low": low, "high": 99, "single": 12}}
    return data


def test_the_projects_lexicon_changes_what_gets_filled(project, manager, article, coder):
    lexicon_update(project=project, user=manager, language="en", lexicon=_with_dozens(12))
    article.refresh_from_db()

    span = claim(article, coder, "dozens of ISIS terrorists")

    assert (span.attributes["low"], span.attributes["high"]) == (12, 99)


def test_changing_the_lexicon_bumps_the_codebook_version_and_is_audited(project, manager):
    before = project.codebook_version

    lexicon_update(project=project, user=manager, language="en", lexicon=_with_dozens(12))

    assert Project.objects.get(pk=project.pk).codebook_version == before + 1
    assert AuditEvent.objects.filter(action="codebook.lexicon.update").count() == 1


def test_an_invalid_lexicon_is_refused_naming_each_entry(project, manager):
    data = _with_dozens(100)

    with pytest.raises(ValidationError) as refused:
        lexicon_update(project=project, user=manager, language="en", lexicon=data)

    assert refused.value.message_dict["lexicon"] == ["vague['dozens']: low 100 > high 99"]


def test_a_document_is_read_with_the_lexicon_of_its_language(project, manager, coder):
    lexicon_update(project=project, user=manager, language="en", lexicon=_with_dozens(12))
    arabic = make_document(project, text="قتل عشرات من المسلحين", language="ar")

    span = claim(arabic, coder, "عشرات من المسلحين")

    shipped = parse_quantity("عشرات من المسلحين", load_lexicon("ar"))
    assert (span.attributes["low"], span.attributes["high"]) == (shipped.low, shipped.high)


# -- Existing projects ------------------------------------------------------------------------------


def test_the_migration_gives_existing_claims_a_note_and_bumps_the_version(project):
    from importlib import import_module

    migration = import_module("annotator.migrations.0008_project_lexicon")
    AttributeDefinition.objects.filter(
        label__project=project, name__in=["numbers_note", "numbers_overridden"]
    ).delete()
    before = Project.objects.get(pk=project.pk).codebook_version

    migration.add_number_attributes(apps, None)

    project.refresh_from_db()
    label = get_codebook(project).label_by_name("CASUALTY")
    assert label.attribute("numbers_note").kind == "text"
    assert label.attribute("numbers_overridden").kind == "multi_enum"
    assert project.codebook_version == before + 1
