"""The coder's work in the browser: home page, next document, project page, submit, reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.models import Assignment, AssignmentState, Document, Role
from annotator.services import relation_create, span_create
from annotator.services.assignments import (
    DOCUMENT_TAKEN,
    NOTHING_LEFT,
    SUBMITTED_READ_ONLY,
)
from tests.factories import add_member, assign, make_document, make_project, make_user, quote_span

HTMX = {"HX-Request": "true"}


def make_coder(project):
    user = make_user()
    add_member(project, user, Role.CODER)
    return user


def fill(document, count: int = 2) -> None:
    for _ in range(count):
        assign(document, make_coder(document.project))


def tag(document, coder, label: str, phrase: str):
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase)
    )
    return span


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def manual(project):
    project.assignment_mode = "manual"
    project.save()
    return project


# --- the home page ----------------------------------------------------------------------------


def test_home_shows_the_coders_queue_in_progress_and_submitted(coder_client, project, coder):
    queued = assign(make_document(project, title="Queued article"), coder)
    started = assign(make_document(project, title="Started article"), coder, state="in_progress")
    done = assign(make_document(project, title="Done article"), coder, state="submitted")

    html = page(coder_client.get("/"))

    queue = html[html.index("Your queue") : html.index('aria-label="Submitted"')]
    in_progress = html[html.index("In progress") : html.index("Your queue")]
    submitted = html[html.index('aria-label="Submitted"') : html.index("Your throughput")]
    assert f"/documents/{queued.document_id}/" in queue
    assert f"/documents/{started.document_id}/" in in_progress
    assert f"/documents/{done.document_id}/" in submitted


def test_home_shows_the_coders_throughput(coder_client, project, coder):
    for minutes in (10, 20, 60):
        assignment = assign(make_document(project), coder, state="submitted")
        Assignment.objects.filter(pk=assignment.pk).update(active_seconds=minutes * 60)
    last_week = assign(make_document(project), coder, state="submitted")
    Assignment.objects.filter(pk=last_week.pk).update(
        active_seconds=30 * 60, submitted_at=timezone.now() - timedelta(weeks=1)
    )

    html = page(coder_client.get("/"))

    throughput = html[html.index("Your throughput") :]
    assert '<td class="num">1</td><td class="num">3</td></tr>' in throughput
    assert "25.0 min" in throughput  # the median of 10, 20, 30 and 60


def test_home_shows_no_work_for_a_manager_who_does_not_code(client, manager, project):
    client.force_login(manager)

    html = page(client.get("/"))

    assert project.name in html
    assert "Next document" not in html


def test_home_has_no_next_button_in_manual_mode(coder_client, manual):
    html = page(coder_client.get("/"))

    assert "Next document" not in html
    assert "Nothing assigned to you yet." in html


def test_home_costs_the_same_queries_for_many_projects_and_assignments(
    coder_client, coder, project, django_assert_max_num_queries
):
    for _ in range(4):
        other = make_project()
        add_member(other, coder, Role.CODER)
        for state in ("assigned", "in_progress", "submitted", "submitted"):
            assign(make_document(other), coder, state=state)

    # session, user, projects, roles, open assignments, submitted stats, latest submitted
    with django_assert_max_num_queries(7):
        response = coder_client.get("/")

    assert response.status_code == 200


# --- next document ------------------------------------------------------------------------------


def test_next_document_takes_a_document_and_opens_it(coder_client, coder, document):
    response = coder_client.post(f"/projects/{document.project_id}/next/")

    assert response.status_code == 302
    assert response["Location"] == f"/documents/{document.pk}/"
    assert Assignment.objects.get(coder=coder).document == document


def test_next_document_says_when_nothing_is_left(coder_client, project, document):
    fill(document)

    response = coder_client.post(f"/projects/{project.pk}/next/", follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert NOTHING_LEFT.format(project=project.name).capitalize() in page(response)


def test_next_document_is_only_for_coders(client, manager, project, document):
    client.force_login(manager)

    assert client.post(f"/projects/{project.pk}/next/").status_code == 404


def test_next_document_takes_posts_only(coder_client, project):
    assert coder_client.get(f"/projects/{project.pk}/next/").status_code == 405


# --- the project page -----------------------------------------------------------------------------


def test_project_page_lists_a_coders_documents_and_those_with_room(coder_client, coder, project):
    mine = make_document(project, title="Mine to code")
    assign(mine, coder)
    with_room = make_document(project, title="Room for one more")
    full = make_document(project, title="Already coded twice")
    fill(full)

    html = page(coder_client.get(f"/projects/{project.pk}/"))

    assert "Mine to code" in html and "Room for one more" in html
    assert "Already coded twice" not in html
    assert f"/documents/{with_room.pk}/" in html


def test_project_page_in_manual_mode_lists_only_assigned_documents(coder_client, coder, manual):
    assign(make_document(manual, title="Assigned to me"), coder)
    make_document(manual, title="Not mine")

    html = page(coder_client.get(f"/projects/{manual.pk}/"))

    assert "Assigned to me" in html
    assert "Not mine" not in html


def test_project_page_lists_every_document_for_a_manager(client, manager, project):
    full = make_document(project, title="Already coded twice")
    fill(full)
    client.force_login(manager)

    assert "Already coded twice" in page(client.get(f"/projects/{project.pk}/"))


# --- the coding screen ----------------------------------------------------------------------------


def test_a_coder_may_open_a_document_with_room_and_their_first_change_takes_it(
    coder_client, coder, document
):
    screen = coder_client.get(f"/documents/{document.pk}/")
    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
        headers=HTMX,
    )

    assert "your first change takes this document" in page(screen)
    assert response.status_code == 201
    assert (
        Assignment.objects.get(coder=coder, document=document).state == AssignmentState.IN_PROGRESS
    )


def test_a_coder_cannot_open_a_document_that_has_its_coders(coder_client, document):
    fill(document)

    assert coder_client.get(f"/documents/{document.pk}/").status_code == 404


def test_a_change_to_a_document_that_filled_up_meanwhile_is_refused(coder_client, coder, document):
    coder_client.get(f"/documents/{document.pk}/")
    fill(document)

    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert DOCUMENT_TAKEN.format(k=2) in page(response)
    assert not Assignment.objects.filter(coder=coder).exists()
    assert not document.annotations.exists()


def test_in_manual_mode_a_coder_cannot_open_an_unassigned_document(coder_client, manual):
    document = make_document(manual)

    assert coder_client.get(f"/documents/{document.pk}/").status_code == 404


def test_the_coding_screen_shows_the_assignment_and_a_submit_button(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")

    html = page(coder_client.get(f"/documents/{document.pk}/"))

    assert 'data-state="in_progress"' in html
    assert f'action="/assignments/{assignment.pk}/submit/"' in html


# --- submit, read-only, reopen --------------------------------------------------------------------


def test_submit_with_warnings_asks_first_then_submits(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    asked = coder_client.post(f"/assignments/{assignment.pk}/submit/")

    assert asked.status_code == 200
    assert "has no claimed_by link" in page(asked)
    assert "Submit anyway" in page(asked) and "Go back" in page(asked)
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.IN_PROGRESS

    confirmed = coder_client.post(f"/assignments/{assignment.pk}/submit/", {"confirm": "1"})

    assert confirmed.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.SUBMITTED


def test_a_blocking_finding_leaves_only_go_back(coder_client, coder, document, project):
    project.blocking_checks = ["claim_without_source"]
    project.save()
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    asked = coder_client.post(f"/assignments/{assignment.pk}/submit/")
    forced = coder_client.post(
        f"/assignments/{assignment.pk}/submit/", {"confirm": "1"}, follow=True
    )

    assert "must fix" in page(asked) and "Go back" in page(asked)
    assert "Submit anyway" not in page(asked)
    assert "fix this before submitting" in page(forced)
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.IN_PROGRESS


def test_submit_without_warnings_submits_at_once(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")
    claim = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    source = tag(document, coder, "SOURCE", "Russian ministry of defense")
    relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )

    response = coder_client.post(f"/assignments/{assignment.pk}/submit/", follow=True)

    assert response.redirect_chain == [(f"/documents/{document.pk}/", 302)]
    assert "Submitted" in page(response)
    assert 'data-state="submitted"' in page(response)


def test_a_submitted_document_is_read_only_for_htmx_span_create(coder_client, coder, document):
    assign(document, coder, state="submitted")

    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert SUBMITTED_READ_ONLY in page(response)
    assert not document.annotations.exists()


def test_a_submitted_document_is_read_only_for_deleting_a_span(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")
    span = tag(document, coder, "ACTOR", "Russian")
    coder_client.post(f"/assignments/{assignment.pk}/submit/", {"confirm": "1"})

    response = coder_client.post(f"/spans/{span.pk}/delete/", {"version": 1}, headers=HTMX)

    assert response.status_code == 422
    assert SUBMITTED_READ_ONLY in page(response)


def test_a_submitted_document_is_read_only_for_undo(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "ACTOR", "Russian")
    coder_client.post(f"/assignments/{assignment.pk}/submit/", {"confirm": "1"})

    response = coder_client.post(f"/documents/{document.pk}/undo/", headers=HTMX)

    assert response.status_code == 422
    assert document.annotations.alive().count() == 1


def test_a_submitted_document_shows_reopen(coder_client, coder, document):
    assignment = assign(document, coder, state="submitted")

    html = page(coder_client.get(f"/documents/{document.pk}/"))

    assert f'action="/assignments/{assignment.pk}/reopen/"' in html
    assert SUBMITTED_READ_ONLY.capitalize() in html


def test_coder_reopens_and_may_change_the_document_again(coder_client, coder, document):
    assignment = assign(document, coder, state="submitted")

    reopened = coder_client.post(f"/assignments/{assignment.pk}/reopen/")
    created = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
        headers=HTMX,
    )

    assert reopened.status_code == 302
    assert created.status_code == 201


def test_reopen_is_refused_once_adjudication_started(coder_client, coder, document):
    assignment = assign(document, coder, state="submitted")
    Document.objects.filter(pk=document.pk).update(adjudication_started_at=timezone.now())

    response = coder_client.post(f"/assignments/{assignment.pk}/reopen/", follow=True)

    assert "it can no longer be reopened" in page(response)
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.SUBMITTED


def test_another_coder_cannot_submit_my_assignment(client, coder, other_coder, document):
    assignment = assign(document, coder, state="in_progress")
    client.force_login(other_coder)

    assert client.post(f"/assignments/{assignment.pk}/submit/", {"confirm": "1"}).status_code == 404


def test_a_manager_cannot_submit_for_a_coder(client, manager, coder, document):
    assignment = assign(document, coder, state="in_progress")
    client.force_login(manager)

    assert client.post(f"/assignments/{assignment.pk}/submit/", {"confirm": "1"}).status_code == 403


# --- active coding time -----------------------------------------------------------------------------


def test_an_open_assignment_carries_its_beat_url(coder_client, coder, document):
    assignment = assign(document, coder)

    html = page(coder_client.get(f"/documents/{document.pk}/"))

    assert f'data-beat-url="/assignments/{assignment.pk}/beat/"' in html
    assert "annotator/js/activity.js" in html


def test_a_beat_adds_active_time_and_starts_the_assignment(coder_client, coder, document):
    assignment = assign(document, coder)

    response = coder_client.post(f"/assignments/{assignment.pk}/beat/", {"seconds": "30"})

    assert response.status_code == 204
    assignment.refresh_from_db()
    assert (assignment.active_seconds, assignment.state) == (30, AssignmentState.IN_PROGRESS)
    assert assignment.last_activity_at is not None


def test_a_beat_counts_at_most_two_minutes(coder_client, coder, document):
    assignment = assign(document, coder, state="in_progress")

    coder_client.post(f"/assignments/{assignment.pk}/beat/", {"seconds": "100000"})

    assignment.refresh_from_db()
    assert assignment.active_seconds == 120


def test_a_beat_on_a_submitted_assignment_changes_nothing(coder_client, coder, document):
    assignment = assign(document, coder, state="submitted")

    response = coder_client.post(f"/assignments/{assignment.pk}/beat/", {"seconds": "30"})

    assert response.status_code == 409
    assignment.refresh_from_db()
    assert assignment.active_seconds == 0


def test_another_coder_cannot_beat_my_assignment(client, coder, other_coder, document):
    assignment = assign(document, coder)
    client.force_login(other_coder)

    assert client.post(f"/assignments/{assignment.pk}/beat/", {"seconds": "30"}).status_code == 404


def test_home_links_site_staff_to_new_accounts_and_projects(client, db):
    client.force_login(make_user("staff", is_staff=True))

    html = client.get("/").content.decode()

    assert 'href="/users/new/"' in html and 'href="/projects/new/"' in html


def test_home_links_a_manager_to_new_projects_but_not_accounts(client, manager, project):
    client.force_login(manager)

    html = client.get("/").content.decode()

    assert 'href="/projects/new/"' in html and 'href="/users/new/"' not in html


def test_home_shows_a_coder_no_administration_links(coder_client, project):
    html = coder_client.get("/").content.decode()

    assert 'href="/projects/new/"' not in html and 'href="/users/new/"' not in html
