"""Never losing work: failed creates stay listed and are retried without duplicates, and
leaving the page with unsaved work asks first."""

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from annotator.codebook import get_codebook
from annotator.models import Annotation
from tests.browser.actions import open_coding, select_phrase, wait_saved, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = "2,359 ISIS terrorists"


def client_ids(requests):
    return {parse_qs(body)["client_id"][0] for body in requests}


def test_create_that_never_reached_the_server_is_kept_and_retried_into_one_span(
    login, coder, document
):
    page = login(coder)
    open_coding(page, document)
    network = {"up": False}
    sent = []

    def flaky_network(route):
        sent.append(route.request.post_data)
        if network["up"]:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    page.route("**/spans/", flaky_network)
    select_phrase(page, CLAIM)
    page.keyboard.press("c")

    expect(page.locator("#pending li.failed")).to_contain_text(f"Not saved: “{CLAIM}”")
    expect(page.locator("#pending li.failed")).to_contain_text("no connection")
    assert Annotation.objects.count() == 0
    network["up"] = True
    page.locator("#pending").get_by_role("button", name="Retry now").click()

    wait_saved(page)
    expect(page.locator("#pending li")).to_have_count(0)
    assert Annotation.objects.get().text == CLAIM
    assert len(sent) >= 2 and len(client_ids(sent)) == 1


def test_retry_after_a_lost_answer_does_not_duplicate_the_span(login, coder, document):
    page = login(coder)
    open_coding(page, document)
    sent = []

    def lose_first_answer(route):
        sent.append(route.request.post_data)
        if len(sent) == 1:
            route.fetch()  # the server creates the span...
            route.abort("connectionreset")  # ...and its answer never arrives
        else:
            route.continue_()

    page.route("**/spans/", lose_first_answer)
    select_phrase(page, CLAIM)
    page.keyboard.press("c")

    wait_saved(page)  # the automatic retry, a second later
    expect(page.locator("#pending li")).to_have_count(0)
    casualty = get_codebook(document.project).label_by_name("CASUALTY").id
    expect(page.locator(f"#list-{casualty} li")).to_have_text([CLAIM])
    expect(page.locator(f"#count-{casualty}")).to_have_text("1")
    expect(page.locator("#article mark")).to_have_text([CLAIM])
    assert Annotation.objects.count() == 1
    assert len(sent) == 2 and len(client_ids(sent)) == 1


def test_leaving_with_an_unsaved_create_asks_first(login, coder, document):
    page = login(coder)
    open_coding(page, document)
    page.route("**/spans/", lambda route: route.abort("internetdisconnected"))
    select_phrase(page, CLAIM)
    page.keyboard.press("c")
    expect(page.locator("#pending li.failed")).to_contain_text("Not saved")
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.locator(".crumbs").get_by_role("link", name="Projects").click()

    wait_until(page, lambda: dialogs)
    assert dialogs == ["beforeunload"]
    expect(page.locator("#pending li.failed")).to_contain_text(f"Not saved: “{CLAIM}”")
    assert page.url.endswith(f"/documents/{document.pk}/")
