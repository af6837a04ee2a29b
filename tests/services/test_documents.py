"""document_create, project_create and member_add."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError

from annotator.models import Document, Label, Membership, Role
from annotator.services import document_create, member_add, project_create
from annotator.services.projects import BAD_DATE, TEXT_REQUIRED, TEXT_TOO_LONG, TEXT_UNSTORABLE
from tests.factories import make_user


def refusal(**kwargs) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        document_create(**kwargs)
    return excinfo.value.message_dict


def test_windows_line_endings_become_newlines(project):
    document = document_create(project=project, text="Homs.\r\nHama.\r\n\r\nIdlib.")

    assert document.text == "Homs.\nHama.\n\nIdlib."


def test_lone_carriage_returns_become_newlines(project):
    document = document_create(project=project, text="Homs.\rHama.\r\rIdlib.")

    assert document.text == "Homs.\nHama.\n\nIdlib."


def test_mixed_line_endings_become_one_newline_each(project):
    document = document_create(project=project, text="a\r\r\nb\n\rc")

    assert document.text == "a\n\nb\n\nc"


def test_everything_but_line_endings_is_kept_as_given(project):
    text = (
        "  Leading spaces,\ttabs,  double  spaces, trailing spaces   \n"
        "Arabic: قُتل ١٦ مدنياً في دير الزور\n"
        "Combining: Cafe\u0301 (decomposed) and Café (composed)\n"
        "Emoji: 🔥👨‍👩‍👧 and a flag 🇸🇾\n"
        "No-break\u00a0space, zero\u200bwidth, line\u2028separator, next\x85line\n\n"
    )

    document = document_create(project=project, text=text)

    assert document.text == text
    assert Document.objects.get(pk=document.pk).text == text


def test_content_hash_is_the_sha256_of_the_stored_text(project):
    document = document_create(project=project, text="Homs.\r\nHama.")

    assert document.content_hash == hashlib.sha256(b"Homs.\nHama.").hexdigest()


def test_same_article_with_other_line_endings_has_the_same_hash(project):
    unix = document_create(project=project, text="Homs.\nHama.\n")
    windows = document_create(project=project, text="Homs.\r\nHama.\r\n")

    assert unix.content_hash == windows.content_hash


def test_different_texts_have_different_hashes(project):
    one = document_create(project=project, text="Homs.")
    other = document_create(project=project, text="Homs. ")

    assert one.content_hash != other.content_hash


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t\n", None, 42, ["Homs"]])
def test_empty_or_missing_text_is_refused(project, text):
    errors = refusal(project=project, text=text)

    assert errors == {"text": [TEXT_REQUIRED]}
    assert not Document.objects.exists()


def test_text_longer_than_the_limit_is_refused(project, settings):
    settings.ANNOTATOR_MAX_DOCUMENT_LENGTH = 10

    errors = refusal(project=project, text="Eleven char")

    assert errors == {"text": [TEXT_TOO_LONG.format(length=11, limit=10)]}


def test_limit_is_measured_after_line_endings_are_normalised(project, settings):
    settings.ANNOTATOR_MAX_DOCUMENT_LENGTH = 10

    document = document_create(project=project, text="Homs\r\nHama")

    assert len(document.text) == 9


def test_text_with_a_nul_character_is_refused_on_every_database(project):
    errors = refusal(project=project, text="Homs.\r\nHama\x00.")

    assert errors == {"text": [TEXT_UNSTORABLE.format(char="U+0000", position=10)]}
    assert not Document.objects.exists()


def test_text_with_an_unpaired_surrogate_is_refused(project):
    errors = refusal(project=project, text="Homs \ud83d.")

    assert errors == {"text": [TEXT_UNSTORABLE.format(char="U+D83D", position=5)]}


def test_documents_are_numbered_in_import_order(project):
    first = document_create(project=project, text="First.")
    second = document_create(project=project, text="Second.")

    assert (first.position, second.position) == (1, 2)
    assert list(project.documents.all()) == [first, second]


def test_numbering_is_per_project(project, manager):
    document_create(project=project, text="First.")
    other = project_create(name="Other", created_by=manager)

    assert document_create(project=other, text="First elsewhere.").position == 1


def test_metadata_fields_are_stored(project):
    document = document_create(
        project=project,
        text="Homs.",
        title="Shelling",
        outlet="Alwaght",
        url="https://example.org/a",
        published="2017-09-30",
        language="en",
        external_id="alwaght-1",
        metadata={"header": "date 2017-09-30"},
    )

    stored = Document.objects.get(pk=document.pk)
    assert (stored.title, stored.outlet, stored.url) == (
        "Shelling",
        "Alwaght",
        "https://example.org/a",
    )
    assert stored.published == dt.date(2017, 9, 30)
    assert (stored.language, stored.external_id) == ("en", "alwaght-1")
    assert stored.metadata == {"header": "date 2017-09-30"}


def test_published_date_that_is_not_a_date_is_refused(project):
    errors = refusal(project=project, text="Homs.", published="30/09/2017")

    assert errors == {"published": [BAD_DATE.format(value="30/09/2017")]}


def test_metadata_that_is_not_an_object_is_refused(project):
    errors = refusal(project=project, text="Homs.", metadata=["header"])

    assert errors == {"metadata": ["must be an object"]}


def test_invalid_url_is_refused(project):
    errors = refusal(project=project, text="Homs.", url="not a url")

    assert list(errors) == ["url"]
    assert not Document.objects.exists()


def test_new_project_gets_the_default_codebook(manager):
    project = project_create(name="Syria claims", created_by=manager)

    names = list(Label.objects.filter(project=project).values_list("name", flat=True))
    assert names == [
        "ACTOR",
        "LOCATION",
        "DATE",
        "SOURCE",
        "CASUALTY",
        "MATERIEL",
        "EVENT",
        "WEAPON",
    ]
    assert not project.allow_overlap


def test_creator_manages_the_new_project(manager):
    project = project_create(name="Syria claims", created_by=manager)

    assert project.roles_of(manager) == {Role.MANAGER}


def test_new_project_may_start_from_a_given_codebook(manager):
    project = project_create(
        name="Vehicles",
        created_by=manager,
        codebook={"allow_overlap": True, "labels": [{"name": "VEHICLE", "colour": "#123456"}]},
    )

    assert list(project.labels.values_list("name", flat=True)) == ["VEHICLE"]
    assert project.allow_overlap


def test_adding_a_member_twice_keeps_one_membership(project):
    user = make_user("coder")

    first = member_add(project=project, user=user, role=Role.CODER)
    second = member_add(project=project, user=user, role=Role.CODER)

    assert first.pk == second.pk
    assert Membership.objects.filter(project=project, user=user).count() == 1


def test_member_may_hold_two_roles(project):
    user = make_user("coder")

    member_add(project=project, user=user, role=Role.CODER)
    member_add(project=project, user=user, role=Role.ADJUDICATOR)

    assert project.roles_of(user) == {Role.CODER, Role.ADJUDICATOR}
