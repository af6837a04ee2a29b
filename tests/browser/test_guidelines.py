"""The guidelines panel of the coding screen, in a real browser: `?` opens it (fetched only
then), it shows the codebook and the manager's Markdown, Escape closes it, and a `?` typed
into a form field stays a character."""

import pytest
from playwright.sync_api import expect

from annotator.models import Project
from tests.browser.actions import make_span, open_coding, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "Someone killed or injured, with the number the article gives."
RULING = "Count **wounded** separately from the dead."


@pytest.fixture
def written(project):
    casualty = project.labels.get(name="CASUALTY")
    casualty.description = DESCRIPTION
    casualty.save()
    Project.objects.filter(pk=project.pk).update(guidelines=RULING)
    return project


def test_question_mark_opens_the_guidelines_and_escape_closes_them(login, coder, document, written):
    page = login(coder)
    fetched = []
    page.on(
        "request",
        lambda request: fetched.append(request.url) if "/guidelines/" in request.url else None,
    )
    open_coding(page, document)
    panel = page.locator("#guidelines")
    expect(panel).to_be_hidden()
    assert fetched == []  # the coding screen does not pay for the guidelines
    select_phrase(page, "Russian ministry of defense")

    page.keyboard.press("?")

    expect(panel).to_be_visible()
    expect(panel).to_contain_text(DESCRIPTION)
    expect(panel.locator(".gl-prose strong")).to_have_text("wounded")
    expect(page.locator("#guidelines-toggle")).to_have_attribute("aria-expanded", "true")
    assert len(fetched) == 1

    page.keyboard.press("Escape")

    expect(panel).to_be_hidden()
    # Escape closed the panel only: the coder's selection is still there.
    assert page.evaluate("window.getSelection().toString()") == "Russian ministry of defense"
    page.keyboard.press("?")
    expect(panel).to_be_visible()
    page.keyboard.press("?")
    expect(panel).to_be_hidden()
    assert len(fetched) == 1  # loaded once


def test_the_button_opens_and_the_close_button_closes_the_panel(login, coder, document, written):
    page = login(coder)
    open_coding(page, document)

    page.click("#guidelines-toggle")
    expect(page.locator("#guidelines")).to_contain_text("wounded")
    page.click("#guidelines-close")

    expect(page.locator("#guidelines")).to_be_hidden()


def test_typing_a_question_mark_in_a_form_field_does_not_open_the_panel(
    login, coder, document, written
):
    span = make_span(document, coder, "ACTOR", "Russian")
    page = login(coder)
    open_coding(page, document, span)
    field = page.locator("#attr-canonical")

    field.click()
    page.keyboard.type("Who?")

    expect(field).to_have_value("Who?")
    expect(page.locator("#guidelines")).to_be_hidden()
