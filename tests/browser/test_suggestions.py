"""Suggestions in a real browser: drawn dashed, accepted with a click or Enter (an ordinary
span create that is saved only once the server answered), rejected with Delete for good."""

import pytest
from playwright.sync_api import expect

from annotator.models import Annotation, SuggestionRejection
from annotator.services.projects import project_update
from tests.browser.actions import open_coding, wait_saved, wait_until
from tests.factories import quote_span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "2,359 ISIS terrorists"


@pytest.fixture
def suggesting(project, manager):
    return project_update(project=project, user=manager, suggestions_enabled=True)


def suggestion(page, document, phrase, label):
    place = quote_span(document, phrase)
    key = f"{place['start']}-{place['end']}-{label}"
    return page.locator(f'#article mark.sug.s[data-sug="{key}"]')


def test_a_clicked_suggestion_is_accepted_and_saved_after_the_server_answers(
    login, coder, document, suggesting
):
    page = login(coder)
    open_coding(page, document)
    syria = suggestion(page, document, "Syria", "LOCATION")
    expect(syria).to_have_text("Syria")
    assert syria.evaluate("m => getComputedStyle(m).outlineStyle") == "dashed"
    assert syria.evaluate("m => getComputedStyle(m).backgroundColor") == "rgba(0, 0, 0, 0)"
    expect(page.locator("#sug-legend")).to_be_visible()
    held = []
    page.route("**/spans/", lambda route: held.append(route))

    syria.click()
    expect(page.locator("#suggestion-box")).to_contain_text("Suggested LOCATION")
    expect(page.locator("#suggestion-box")).to_contain_text("Syria (country, SY)")
    page.locator("[data-sug-accept]").click()

    expect(page.locator("#pending")).to_contain_text("Saving “Syria” as LOCATION (suggested)")
    wait_until(page, lambda: held)
    assert not Annotation.objects.exists()
    held[0].continue_()
    wait_saved(page)
    expect(page.locator("#pending li")).to_have_count(0)
    expect(page.locator("#article mark.ann", has_text="Syria").first).to_be_visible()
    expect(syria).to_have_count(0)
    span = Annotation.objects.get()
    assert (span.coder, span.text, span.attributes["loc_type"]) == (coder, "Syria", "country")


def test_enter_on_a_focused_suggestion_accepts_it(login, coder, document, suggesting):
    page = login(coder)
    open_coding(page, document)
    claim = suggestion(page, document, CLAIM, "CASUALTY")
    claim.focus()
    expect(page.locator("#suggestion-box")).to_contain_text("Suggested CASUALTY")
    page.keyboard.press("Enter")
    wait_saved(page)
    expect(claim).to_have_count(0)
    span = Annotation.objects.get()
    assert (span.text, span.attributes["best"], span.attributes["outcome"]) == (
        CLAIM,
        2359,
        "killed",
    )


def test_delete_rejects_a_suggestion_for_good(login, coder, document, suggesting):
    page = login(coder)
    open_coding(page, document)
    claim = suggestion(page, document, CLAIM, "CASUALTY")
    claim.focus()
    page.keyboard.press("Delete")
    expect(page.locator("#panel [data-saved=suggestion-rejected]")).to_be_visible()
    expect(claim).to_have_count(0)
    assert SuggestionRejection.objects.filter(coder=coder, label="CASUALTY").count() == 1
    open_coding(page, document)
    expect(suggestion(page, document, "Syria", "LOCATION")).to_have_count(1)
    expect(suggestion(page, document, CLAIM, "CASUALTY")).to_have_count(0)
    assert not Annotation.objects.exists()
