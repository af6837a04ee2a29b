"""Describing spans in a real browser: attributes, links, and what survives a reload."""

import re

import pytest
from playwright.sync_api import expect

from annotator.models import Annotation, Relation
from tests.browser.actions import (
    drag_select,
    make_span,
    mark_of,
    open_coding,
    wait_saved,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "2,359 ISIS terrorists"
SOURCE = "Russian ministry of defense"


def test_chosen_outcome_is_saved_and_still_there_after_reload(login, coder, document):
    span = make_span(document, coder, "CASUALTY", CLAIM)
    page = login(coder)
    open_coding(page, document)
    mark_of(page, span).click()

    page.select_option("#attr-outcome", "killed")

    wait_saved(page, version=2)
    page.reload()
    mark_of(page, span).click()
    expect(page.locator("#panel .quote")).to_have_text(CLAIM)
    expect(page.locator("#attr-outcome")).to_have_value("killed")
    span.refresh_from_db()
    assert span.attributes["outcome"] == "killed"


def test_enter_in_a_text_attribute_saves_without_leaving_the_page(login, coder, document):
    span = make_span(document, coder, "DATE", "September 19-29")
    page = login(coder)
    open_coding(page, document, span)

    page.fill("#attr-normalized", "2015-09-19/2015-09-29")
    page.keyboard.press("Enter")  # DATE's only text field: the browser would submit the form

    wait_saved(page, version=2)
    page.wait_for_timeout(300)  # a native submission would be navigating by now
    assert page.url.endswith(f"/documents/{document.pk}/?span={span.pk}")
    expect(page.locator("#article")).to_be_visible()
    span.refresh_from_db()
    assert (span.attributes["normalized"], span.version) == ("2015-09-19/2015-09-29", 2)


def test_attribute_changed_while_the_previous_save_is_on_its_way_is_saved_too(
    login, coder, document
):
    span = make_span(document, coder, "CASUALTY", CLAIM)
    page = login(coder)
    open_coding(page, document, span)
    held = []  # the first save waits here, so the second change is made while it is in flight

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(f"**/spans/{span.pk}/", hold_first)
    page.select_option("#attr-outcome", "killed")
    wait_until(page, lambda: held)
    page.select_option("#attr-victim_status", "combatant")
    held[0].continue_()

    wait_saved(page, version=3)
    expect(page.locator("#attr-outcome")).to_have_value("killed")
    expect(page.locator("#attr-victim_status")).to_have_value("combatant")
    span.refresh_from_db()
    assert (span.attributes["outcome"], span.attributes["victim_status"]) == ("killed", "combatant")


def test_claim_linked_to_its_source_shows_in_panel_and_links_list_after_reload(
    login, coder, document
):
    claim = make_span(document, coder, "CASUALTY", CLAIM)
    source = make_span(document, coder, "SOURCE", SOURCE)
    page = login(coder)
    open_coding(page, document)
    mark_of(page, claim).click()

    page.click("button.link-type[data-type=claimed_by]")
    expect(mark_of(page, source)).to_have_class(re.compile(r"\blink-target\b"))
    mark_of(page, source).click()

    expect(page.locator("#panel .links li")).to_contain_text(f"claimed_by → {SOURCE}")
    expect(page.locator("#links li")).to_have_text([f"{CLAIM} claimed_by → {SOURCE}"])
    page.reload()
    expect(page.locator("#links li")).to_have_text([f"{CLAIM} claimed_by → {SOURCE}"])
    mark_of(page, claim).click()
    expect(page.locator("#panel .links li")).to_contain_text(f"claimed_by → {SOURCE}")
    relation = Relation.objects.get()
    assert (relation.source, relation.target, relation.type.name) == (claim, source, "claimed_by")
    assert relation.deleted_at is None


def test_issue_scenario_select_code_describe_link_and_reload(login, coder, document):
    page = login(coder)
    open_coding(page, document)

    drag_select(page, CLAIM)
    page.keyboard.press("c")
    wait_saved(page, version=1)
    page.select_option("#attr-outcome", "killed")
    wait_saved(page, version=2)
    page.select_option("#attr-victim_status", "combatant")
    wait_saved(page, version=3)
    page.fill("#attr-victim_affiliation", "Islamic State")
    page.keyboard.press("Tab")
    wait_saved(page, version=4)
    drag_select(page, SOURCE)
    page.keyboard.press("s")
    expect(page.locator("#panel .quote")).to_have_text(SOURCE)
    wait_saved(page, version=1)
    claim = Annotation.objects.get(text=CLAIM)
    source = Annotation.objects.get(text=SOURCE)
    mark_of(page, claim).click()
    expect(page.locator("#panel .quote")).to_have_text(CLAIM)
    page.keyboard.press("1")  # claimed_by's hotkey
    mark_of(page, source).click()
    expect(page.locator("#links li")).to_have_text([f"{CLAIM} claimed_by → {SOURCE}"])

    page.reload()

    expect(mark_of(page, claim)).to_have_text(CLAIM)
    expect(mark_of(page, source)).to_have_text(SOURCE)
    expect(page.locator("#links li")).to_have_text([f"{CLAIM} claimed_by → {SOURCE}"])
    mark_of(page, claim).click()
    expect(page.locator("#attr-outcome")).to_have_value("killed")
    expect(page.locator("#attr-victim_status")).to_have_value("combatant")
    expect(page.locator("#attr-victim_affiliation")).to_have_value("Islamic State")
    expect(page.locator("#panel .links li")).to_contain_text(f"claimed_by → {SOURCE}")
    claim.refresh_from_db()
    assert claim.label.name == "CASUALTY"
    assert {k: claim.attributes[k] for k in ("outcome", "victim_status", "victim_affiliation")} == {
        "outcome": "killed",
        "victim_status": "combatant",
        "victim_affiliation": "Islamic State",
    }
    assert Relation.objects.alive().get().target == source


def test_stale_attribute_edit_is_refused_with_a_conflict_message(login, coder, document):
    span = make_span(document, coder, "CASUALTY", CLAIM)
    first = login(coder)
    second = login(coder)
    open_coding(first, document, span)
    open_coding(second, document, span)

    first.select_option("#attr-outcome", "killed")
    wait_saved(first, version=2)
    second.select_option("#attr-outcome", "injured")

    expect(second.locator("#save-state .conflict")).to_contain_text(
        f"span {span.pk} was changed meanwhile"
    )
    expect(second.locator("#attr-outcome")).to_have_value("killed")  # the current version
    span.refresh_from_db()
    assert (span.attributes["outcome"], span.version) == ("killed", 2)
