"""The guidelines: a printable page every member reads, the coding screen's panel (its body,
fetched by htmx), and the manager's Markdown editor (preview, save, stale saves refused,
audited). The Markdown is rendered safely: no script, no javascript: links."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.guidelines import digest, render_markdown
from annotator.models import AuditEvent, Project
from annotator.services.codebook import (
    GUIDELINES_CHANGED,
    RESERVED_HOTKEY,
    guidelines_update,
    label_create,
)
from tests.factories import assign

HTMX = {"HX-Request": "true"}
RULING = "Count **only** the dead, never the wounded."
HOSTILE = (
    "## Hard cases\n\n"
    "<script>alert('owned')</script>\n\n"
    '[click me](javascript:alert(1)) and <a href="JaVaScRiPt:alert(2)">this</a>\n\n'
    '<img src="x" onerror="alert(3)"> <p onclick="alert(4)" style="color:red">styled</p>\n\n'
    "[the manual](https://example.org/manual)"
)


def page_url(project):
    return reverse("guidelines", args=[project.pk])


def edit_url(project):
    return reverse("guidelines-edit", args=[project.pk])


def fresh(project) -> Project:
    return Project.objects.get(pk=project.pk)


def with_guidelines(project, text: str) -> Project:
    Project.objects.filter(pk=project.pk).update(guidelines=text)
    return fresh(project)


def as_user(client, user):
    client.force_login(user)
    return client


# --- Reading: every member, nobody else ----------------------------------------------------


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "manager"])
def test_every_member_reads_the_guidelines_page(client, project, persona, request):
    with_guidelines(project, RULING)
    user = request.getfixturevalue(persona)

    response = as_user(client, user).get(page_url(project))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>only</strong> the dead" in html
    assert "Reported casualties" in html or "CASUALTY" in html


def test_the_page_lists_labels_with_colour_hotkey_description_examples_and_attributes(
    client, project, coder
):
    casualty = project.labels.get(name="CASUALTY")
    casualty.description = "A number of people killed or injured."
    casualty.examples = "2,359 ISIS terrorists\nat least 12 civilians"
    casualty.save()

    html = as_user(client, coder).get(page_url(project)).content.decode()

    assert f'id="gl-label-{casualty.pk}"' in html
    assert casualty.colour in html
    assert f'<kbd title="Hotkey">{casualty.hotkey}</kbd>' in html
    assert "A number of people killed or injured." in html
    assert "<q>at least 12 civilians</q>" in html
    assert "claimed_by" in html  # the relation type CASUALTY → SOURCE
    assert "numbers_overridden" not in html  # the normaliser's own bookkeeping


def test_an_outsider_gets_404(client, project, outsider):
    assert as_user(client, outsider).get(page_url(project)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, project):
    response = client.get(page_url(project))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_htmx_gets_only_the_panel_body(client, project, coder):
    with_guidelines(project, RULING)

    response = as_user(client, coder).get(page_url(project), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>only</strong> the dead" in html
    assert "<html" not in html and "topbar" not in html


def test_the_panel_body_costs_a_fixed_number_of_queries(
    client, project, coder, django_assert_max_num_queries
):
    as_user(client, coder).get(page_url(project), headers=HTMX)  # the codebook is cached now

    with django_assert_max_num_queries(4):
        client.get(page_url(project), headers=HTMX)


def test_the_coding_screen_links_the_panel_but_does_not_render_the_guidelines(
    client, project, coder, document
):
    with_guidelines(project, RULING)
    assign(document, coder)

    html = as_user(client, coder).get(reverse("coding", args=[document.pk])).content.decode()

    assert 'id="guidelines-toggle"' in html and f'href="{page_url(project)}"' in html
    assert 'id="guidelines-body"' in html
    assert "the dead" not in html


# --- Rendering safely -----------------------------------------------------------------------


def test_script_is_removed_from_the_page(client, project, coder):
    with_guidelines(project, HOSTILE)

    html = as_user(client, coder).get(page_url(project)).content.decode()

    rendered = html[html.index("gl-prose") :]
    assert "Hard cases</h2>" in rendered
    assert "<script" not in rendered and "owned" not in rendered
    assert "javascript:" not in rendered.lower()
    assert "onerror" not in rendered and "onclick" not in rendered and "style=" not in rendered
    assert "<img" not in rendered
    assert 'href="https://example.org/manual"' in rendered


def test_render_markdown_removes_javascript_links_but_keeps_their_text():
    html = render_markdown("[click me](javascript:alert(1)) [mail](mailto:a@b.org)")

    assert "javascript" not in html
    assert "click me" in html
    assert 'href="mailto:a@b.org"' in html


def test_render_markdown_keeps_tables_without_inline_style():
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")

    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert "style" not in html


# --- Editing: managers only ----------------------------------------------------------------


def test_the_manager_sees_the_editor_with_the_current_text_and_its_preview(
    client, project, manager
):
    with_guidelines(project, RULING)

    response = as_user(client, manager).get(edit_url(project))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Count **only** the dead" in html  # in the textarea, as typed
    assert "<strong>only</strong>" in html  # in the preview
    assert f'value="{digest(RULING)}"' in html


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_only_managers_may_edit(client, project, persona, request):
    user = request.getfixturevalue(persona)
    client = as_user(client, user)

    assert client.get(edit_url(project)).status_code == 404
    response = client.post(edit_url(project), {"guidelines": "Mine now", "based_on": digest("")})

    assert response.status_code == 404
    assert fresh(project).guidelines == ""
    assert not AuditEvent.objects.filter(action="codebook.guidelines.update").exists()


def test_preview_renders_without_saving(client, project, manager):
    response = as_user(client, manager).post(
        edit_url(project),
        {"guidelines": HOSTILE, "based_on": digest(""), "preview": "1"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="guidelines-preview"')
    assert "Hard cases</h2>" in html and "<script" not in html
    assert fresh(project).guidelines == ""


def test_saving_stores_the_markdown_and_audits_it(client, project, manager):
    response = as_user(client, manager).post(
        edit_url(project), {"guidelines": RULING, "based_on": digest(""), "save": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == edit_url(project)
    assert fresh(project).guidelines == RULING
    event = AuditEvent.objects.get(action="codebook.guidelines.update")
    assert (event.user, event.project_id) == (manager, project.pk)
    assert event.before == {"guidelines": ""} and event.after == {"guidelines": RULING}


def test_a_save_over_someone_elses_newer_text_is_refused_and_keeps_both(client, project, manager):
    opened_on = digest("")
    guidelines_update(project=project, user=manager, text="Theirs.", based_on=opened_on)

    response = as_user(client, manager).post(
        edit_url(project), {"guidelines": "Mine.", "based_on": opened_on, "save": "1"}
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert fresh(project).guidelines == "Theirs."
    assert "Mine." in html and "Theirs." in html
    assert "someone else saved the guidelines" in html
    # Saving again, having seen theirs, is allowed: the form now carries their digest.
    assert f'value="{digest("Theirs.")}"' in html


def test_the_service_refuses_a_stale_save_naming_the_field(project, manager):
    guidelines_update(project=project, user=manager, text="One.", based_on=digest(""))

    with pytest.raises(ValidationError) as excinfo:
        guidelines_update(project=project, user=manager, text="Two.", based_on=digest(""))

    assert excinfo.value.message_dict == {"guidelines": [GUIDELINES_CHANGED]}
    assert fresh(project).guidelines == "One."


def test_saving_the_same_text_records_nothing(project, manager):
    guidelines_update(project=project, user=manager, text=RULING, based_on=None)

    changed = guidelines_update(project=project, user=manager, text=RULING, based_on=None)

    assert changed is False
    assert AuditEvent.objects.filter(action="codebook.guidelines.update").count() == 1


def test_saving_guidelines_keeps_the_codebook_version(project, manager):
    version = project.codebook_version

    guidelines_update(project=project, user=manager, text=RULING, based_on=None)

    assert fresh(project).codebook_version == version


def test_question_mark_cannot_be_a_label_hotkey(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        label_create(project=project, user=manager, name="VEHICLE", hotkey="?")

    assert excinfo.value.message_dict == {"hotkey": [RESERVED_HOTKEY.format(value="?")]}
