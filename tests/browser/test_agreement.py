"""The agreement page in a real browser: a big report computes in the background while the
page polls, then swaps in; nothing on the page trips the Content-Security-Policy."""

import threading

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from annotator import reports
from annotator.models import Assignment
from tests.api.helpers import make_span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def disagreeing(project, document, coder, other_coder):
    for who in (coder, other_coder):
        make_span(document, who, "Russian air strikes", label="ACTOR")
        Assignment.objects.create(
            project=project,
            document=document,
            coder=who,
            state="submitted",
            submitted_at=timezone.now(),
        )
    make_span(document, coder, "Russian ministry of defense", label="SOURCE")
    return document


def test_a_report_computed_in_the_background_is_swapped_in(
    login, manager, project, disagreeing, monkeypatch
):
    release = threading.Event()
    real = reports.compute_payload

    def held(*args, **kwargs):
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 0)
    monkeypatch.setattr(reports, "compute_payload", held)
    page = login(manager)
    problems = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"/projects/{project.pk}/agreement/")
    expect(page.locator("#report-status")).to_contain_text("Computing the report since")
    release.set()

    expect(page.locator("#h-labels")).to_be_visible()
    expect(page.locator("#report-status")).to_contain_text("Computed")
    expect(page.locator("#report-status")).not_to_have_attribute("hx-trigger", "every 2s")
    expect(page.locator(".ag-heatmap svg").first).to_be_visible()
    assert not problems, problems


def test_the_side_by_side_comparison_shows_both_versions(login, manager, project, disagreeing):
    page = login(manager)

    page.goto(f"/projects/{project.pk}/agreement/documents/{disagreeing.pk}/")

    expect(page.locator(".ag-column")).to_have_count(2)
    expect(page.locator(".ag-column").first.locator("mark.ann")).to_have_count(2)
    expect(page.locator("#h-differences")).to_be_visible()
