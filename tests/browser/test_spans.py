"""Making spans in a real browser: selecting, snapping, offsets, deleting, keys, refusals."""

import re

import pytest
from playwright.sync_api import expect

from annotator.codebook import get_codebook
from annotator.models import Annotation
from annotator.services.annotations import OVERLAP_REFUSED
from tests.browser.actions import (
    drag_select,
    make_span,
    mark_of,
    open_coding,
    select_phrase,
    wait_saved,
    wait_until,
)
from tests.factories import make_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "2,359 ISIS terrorists"


def label_id(project, name):
    return get_codebook(project).label_by_name(name).id


def test_coder_drags_over_a_claim_and_presses_c_to_save_a_casualty_span(login, coder, document):
    page = login(coder)
    page.click(f'a[href="/projects/{document.project_id}/"]')
    page.click(f'a.button[href="/documents/{document.pk}/"]')
    casualty = label_id(document.project, "CASUALTY")
    held = []  # the create is held here until the panel has been checked
    page.route("**/spans/", lambda route: held.append(route))

    drag_select(page, CLAIM)
    page.keyboard.press("c")

    expect(page.locator("#pending")).to_contain_text(f"Saving “{CLAIM}” as CASUALTY")
    wait_until(page, lambda: held)
    expect(page.locator("#panel")).not_to_contain_text("Saved")
    assert Annotation.objects.count() == 0
    held[0].continue_()
    wait_saved(page)
    expect(page.locator("#pending li")).to_have_count(0)
    expect(page.locator(f"#article mark.ann.l{casualty}")).to_have_text(CLAIM)
    expect(page.locator(f"#count-{casualty}")).to_have_text("1")
    expect(page.locator(f"#list-{casualty} li")).to_have_text([CLAIM])
    expect(page.locator("#span-total")).to_have_text("1")
    # The Checks section fetches itself after the save: a claim with no claimed_by yet.
    expect(page.locator("#checks-count")).to_have_text("1")
    expect(page.locator("#checks")).to_contain_text("has no claimed_by link")
    span = Annotation.objects.get()
    start = document.text.index(CLAIM)
    assert (span.start, span.end, span.text) == (start, start + len(CLAIM), CLAIM)
    assert (span.coder, span.label_id) == (coder, casualty)


def test_offsets_after_emoji_and_arabic_are_python_string_indices(login, coder, project):
    text = "🚨 عاجل: مقتل ١٦ مدنياً\nAt least 12 civilians were killed 😢 in Idlib."
    document = make_document(project, text=text, title="Idlib")
    page = login(coder)
    open_coding(page, document)

    select_phrase(page, "Idlib")
    page.keyboard.press("l")
    expect(page.locator("#panel .quote")).to_have_text("Idlib")
    wait_saved(page)
    select_phrase(page, "١٦")
    page.keyboard.press("c")
    expect(page.locator("#panel .quote")).to_have_text("١٦")
    wait_saved(page)

    for phrase in ("Idlib", "١٦"):
        span = Annotation.objects.get(text=phrase)
        start = text.index(phrase)
        assert (span.start, span.end) == (start, start + len(phrase))
        assert text[span.start : span.end] == phrase
        expect(mark_of(page, span)).to_have_text(phrase)


def test_partial_word_selection_snaps_to_whole_words(login, coder, document):
    page = login(coder)
    open_coding(page, document)

    select_phrase(page, "359 ISIS terr")
    page.keyboard.press("c")

    expect(page.locator("#panel .quote")).to_have_text(CLAIM)
    wait_saved(page)
    assert Annotation.objects.get().text == CLAIM


def test_alt_drag_keeps_the_exact_characters(login, coder, document):
    page = login(coder)
    open_coding(page, document)

    page.keyboard.down("Alt")
    drag_select(page, "359 ISIS terr")
    page.keyboard.up("Alt")
    page.keyboard.press("c")

    expect(page.locator("#panel .quote")).to_have_text("359 ISIS terr")
    wait_saved(page)
    span = Annotation.objects.get()
    assert (span.text, span.start) == ("359 ISIS terr", document.text.index("359 ISIS terr"))


def test_delete_key_deletes_the_span_and_ctrl_z_brings_it_back(login, coder, document):
    span = make_span(document, coder, "CASUALTY", CLAIM)
    page = login(coder)
    open_coding(page, document)
    expect(page.locator("#checks-count")).to_have_text("1")  # fetched once the page is up
    mark_of(page, span).click()
    expect(page.locator("#panel .quote")).to_have_text(CLAIM)

    page.keyboard.press("Delete")

    expect(page.locator("#panel [data-saved=deleted]")).to_contain_text(f"Deleted “{CLAIM}”")
    expect(page.locator("#article mark")).to_have_count(0)
    expect(page.locator("#span-total")).to_have_text("0")
    expect(page.locator("#checks-count")).to_have_text("0")
    span.refresh_from_db()
    assert span.deleted_at is not None

    page.keyboard.press("Control+z")

    expect(page.locator("#panel [data-saved=undo]")).to_be_visible()
    expect(mark_of(page, span)).to_have_text(CLAIM)
    expect(page.locator("#span-total")).to_have_text("1")
    span.refresh_from_db()
    assert span.deleted_at is None


def test_delete_pressed_before_htmx_settles_the_panel_still_deletes(login, coder, document):
    # Under load the key can arrive between htmx's swap and its settle step (when the new
    # form gets its listeners); a long settle delay makes that window wide on purpose.
    span = make_span(document, coder, "CASUALTY", CLAIM)
    page = login(coder)
    open_coding(page, document)
    page.evaluate("htmx.config.defaultSettleDelay = 3000")
    mark_of(page, span).click()
    expect(page.locator("#panel .quote")).to_have_text(CLAIM)

    page.keyboard.press("Delete")

    expect(page.locator("#panel [data-saved=deleted]")).to_contain_text(f"Deleted “{CLAIM}”")
    span.refresh_from_db()
    assert span.deleted_at is not None


def test_keyboard_only_coder_selects_with_shift_arrows_and_moves_with_n_and_p(
    login, coder, document
):
    page = login(coder)
    open_coding(page, document)
    page.locator("#article").focus()

    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#status")).to_contain_text("Selected “Russian air strikes”")
    page.keyboard.press("a")
    expect(page.locator("#panel .quote")).to_have_text("Russian air strikes")
    wait_saved(page)
    page.keyboard.press("ArrowRight")  # the caret moves past "in"
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("l")
    expect(page.locator("#panel .quote")).to_have_text("Syria")
    wait_saved(page)
    actor, location = Annotation.objects.order_by("start")
    assert (actor.text, actor.label.name) == ("Russian air strikes", "ACTOR")
    assert (location.text, location.label.name) == ("Syria", "LOCATION")

    page.keyboard.press("n")  # from the last span round to the first
    expect(page.locator("#panel .quote")).to_have_text("Russian air strikes")
    expect(mark_of(page, actor)).to_be_focused()
    expect(mark_of(page, actor)).to_have_class(re.compile(r"\bsel\b"))
    page.keyboard.press("n")
    expect(page.locator("#panel .quote")).to_have_text("Syria")
    page.keyboard.press("p")
    expect(page.locator("#panel .quote")).to_have_text("Russian air strikes")
    page.keyboard.press("Enter")
    expect(page.locator("#span-label")).to_be_focused()


def test_selection_across_a_span_boundary_shows_the_overlap_refusal_and_creates_nothing(
    login, coder, document
):
    existing = make_span(document, coder, "ACTOR", "ISIS terrorists")
    page = login(coder)
    open_coding(page, document)

    select_phrase(page, "2,359 ISIS")  # ends inside the ACTOR span
    page.keyboard.press("c")

    refusal = OVERLAP_REFUSED.format(
        label="ACTOR", text="ISIS terrorists", start=existing.start, end=existing.end
    )
    expect(page.locator("#panel [role=alert]")).to_contain_text("Span not created")
    expect(page.locator("#panel [role=alert]")).to_contain_text(refusal)
    expect(page.locator("#pending li")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("was not saved")
    expect(page.locator("#article mark")).to_have_text(["ISIS terrorists"])
    assert list(Annotation.objects.values_list("text", flat=True)) == ["ISIS terrorists"]
