"""What the coding screen must never do: show one coder's work to another, or run anything
that came with an article."""

import pytest
from playwright.sync_api import expect

from annotator.models import Annotation
from tests.browser.actions import open_coding, select_phrase, wait_saved
from tests.factories import make_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "2,359 ISIS terrorists"
SOURCE = "Russian ministry of defense"
HOSTILE = "Officials said <img src=x onerror=alert(1)> and <script>alert(1)</script> were found."


def test_coders_code_blind_and_never_see_each_others_spans(login, coder, other_coder, document):
    mine, theirs = login(coder), login(other_coder)
    open_coding(mine, document)
    open_coding(theirs, document)

    select_phrase(mine, CLAIM)
    mine.keyboard.press("c")
    wait_saved(mine)
    select_phrase(theirs, SOURCE)
    theirs.keyboard.press("s")
    wait_saved(theirs)
    mine.reload()
    theirs.reload()

    expect(mine.locator("#article mark")).to_have_text([CLAIM])
    expect(theirs.locator("#article mark")).to_have_text([SOURCE])
    expect(mine.locator("#sidebar")).not_to_contain_text(SOURCE)
    expect(theirs.locator("#sidebar")).not_to_contain_text(CLAIM)
    expect(mine.locator("#span-total")).to_have_text("1")
    expect(theirs.locator("#span-total")).to_have_text("1")
    assert set(Annotation.objects.values_list("coder__username", "text")) == {
        ("coder", CLAIM),
        ("other_coder", SOURCE),
    }


def test_coding_page_sends_a_csp_without_unsafe_script_sources(login, coder, document):
    page = login(coder)

    response = page.goto(f"/documents/{document.pk}/")

    policy = response.headers["content-security-policy"]
    directives = {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }
    script_src = directives.get("script-src", directives["default-src"])
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["object-src"] == ["'none'"]


def test_markup_in_article_text_is_shown_literally_and_never_runs(login, coder, project):
    document = make_document(project, text=HOSTILE, title="<script>alert(2)</script>")
    page = login(coder)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    open_coding(page, document)
    select_phrase(page, "<img src=x onerror=alert(1)>")
    page.keyboard.press("a")  # the span's fragments come back through htmx too
    wait_saved(page)

    expect(page.locator("#article")).to_have_text(HOSTILE)
    expect(page.locator("#panel .quote")).to_have_text("<img src=x onerror=alert(1)>")
    expect(page.locator("h1")).to_have_text("<script>alert(2)</script>")
    expect(page.locator("main img, main script:not([type='application/json'])")).to_have_count(0)
    page.wait_for_timeout(300)  # an onerror handler would fire by now
    assert dialogs == []
    # The side list is built in Python on a full page load: it escapes the quote too.
    page.reload()
    expect(page.locator("#sidebar .span-list li")).to_have_text(["<img src=x onerror=alert(1)>"])
    expect(page.locator("main img, main script:not([type='application/json'])")).to_have_count(0)
    page.wait_for_timeout(300)
    assert dialogs == []


def test_coding_screen_works_within_its_own_csp(login, coder, document):
    page = login(coder)
    violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )

    open_coding(page, document)
    select_phrase(page, CLAIM)
    page.keyboard.press("c")
    wait_saved(page, version=1)
    page.select_option("#attr-outcome", "killed")
    wait_saved(page, version=2)

    assert violations == []
