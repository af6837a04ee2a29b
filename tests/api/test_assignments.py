"""The work queue in the API: next, list, submit, reopen, release; writes need an open
assignment."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotator.models import Assignment, AssignmentState, Document, Role
from annotator.services.assignments import (
    ADJUDICATION_STARTED,
    DOCUMENT_TAKEN,
    NOT_ASSIGNED_TO_YOU,
    SUBMITTED_READ_ONLY,
)
from tests.api.helpers import make_span
from tests.factories import add_member, assign, make_document, make_project, make_user, quote_span


def make_coder(project, name: str | None = None):
    user = make_user(name)
    add_member(project, user, Role.CODER)
    return user


def fill(document, count: int = 2) -> None:
    for _ in range(count):
        assign(document, make_coder(document.project))


def next_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/assignments/next/"


def list_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/assignments/"


def action_url(assignment, action: str) -> str:
    return f"/api/v1/assignments/{assignment.pk}/{action}/"


@pytest.fixture
def manual(project):
    project.assignment_mode = "manual"
    project.save()
    return project


# --- next -----------------------------------------------------------------------------------------


def test_next_takes_a_document_and_answers_201_with_the_assignment(api_as, coder, document):
    response = api_as(coder).post(next_url(document.project))

    assert response.status_code == 201
    body = response.json()
    assert (body["document"], body["coder"], body["state"]) == (document.pk, "coder", "assigned")
    assert body["assigned_by"] is None


def test_next_answers_the_open_assignment_again(api_as, coder, document):
    client = api_as(coder)
    first = client.post(next_url(document.project)).json()

    assert client.post(next_url(document.project)).json()["id"] == first["id"]


def test_next_answers_204_when_nothing_is_left(api_as, coder, document):
    fill(document)

    response = api_as(coder).post(next_url(document.project))

    assert response.status_code == 204
    assert not Assignment.objects.filter(coder=coder).exists()


def test_next_is_404_for_a_manager_who_does_not_code(api_as, manager, project):
    assert api_as(manager).post(next_url(project)).status_code == 404


def test_next_is_404_for_an_outsider(api_as, outsider, project):
    assert api_as(outsider).post(next_url(project)).status_code == 404


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def both_assigned(document, coder, other_coder):
    return {
        "coder": assign(document, coder),
        "other": assign(document, other_coder, state="submitted"),
    }


def test_a_coder_lists_only_their_own_assignments(api_as, coder, project, both_assigned):
    body = api_as(coder).get(list_url(project)).json()

    assert [row["id"] for row in body["results"]] == [both_assigned["coder"].pk]


def test_a_coder_cannot_list_another_coders_assignments_by_filtering(
    api_as, coder, project, both_assigned
):
    body = api_as(coder).get(list_url(project), {"coder": "other_coder"}).json()

    assert body["results"] == []


def test_a_manager_lists_every_coders_assignments(api_as, manager, project, both_assigned):
    body = api_as(manager).get(list_url(project)).json()

    assert {row["coder"] for row in body["results"]} == {"coder", "other_coder"}


def test_a_manager_filters_by_coder_and_state(api_as, manager, project, both_assigned):
    client = api_as(manager)

    by_coder = client.get(list_url(project), {"coder": "other_coder"}).json()["results"]
    by_state = client.get(list_url(project), {"state": "assigned"}).json()["results"]

    assert [row["id"] for row in by_coder] == [both_assigned["other"].pk]
    assert [row["id"] for row in by_state] == [both_assigned["coder"].pk]


def test_an_unknown_state_filter_is_refused_naming_state(api_as, manager, project):
    response = api_as(manager).get(list_url(project), {"state": "done"})

    assert response.status_code == 400
    assert "state" in response.json()


def test_an_adjudicator_sees_no_one_elses_assignments(api_as, adjudicator, project, both_assigned):
    assert api_as(adjudicator).get(list_url(project)).json()["results"] == []


def test_an_outsider_gets_404_on_the_list(api_as, outsider, project):
    assert api_as(outsider).get(list_url(project)).status_code == 404


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_costs_the_same_queries_for_any_number(
    api_as, manager, project, count, django_assert_max_num_queries
):
    for _ in range(count):
        assign(make_document(project), make_coder(project))

    with django_assert_max_num_queries(4):
        response = api_as(manager).get(list_url(project))

    assert response.json()["count"] == count


# --- submit ---------------------------------------------------------------------------------------


def test_submit_returns_the_assignment_and_the_warnings(api_as, coder, document):
    assignment = assign(document, coder, state="in_progress")
    claim = make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")

    response = api_as(coder).post(action_url(assignment, "submit"))

    assert response.status_code == 200
    body = response.json()
    assert body["assignment"]["state"] == "submitted"
    assert [(w["code"], w["span_ids"]) for w in body["warnings"]] == [
        ("claim_without_source", [str(claim.pk)])
    ]


def test_a_blocking_finding_makes_submit_a_409(api_as, coder, document, project):
    project.blocking_checks = ["claim_without_source"]
    project.save()
    assignment = assign(document, coder, state="in_progress")
    make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")

    response = api_as(coder).post(action_url(assignment, "submit"))

    assert response.status_code == 409
    assert response.json()["detail"].startswith("fix this before submitting: ")
    assert Assignment.objects.get(pk=assignment.pk).state == AssignmentState.IN_PROGRESS


def test_submitting_twice_is_a_409(api_as, coder, document):
    assignment = assign(document, coder, state="submitted")

    response = api_as(coder).post(action_url(assignment, "submit"))

    assert response.status_code == 409
    assert "submitted" in response.json()["detail"]


def test_another_coder_gets_404_on_my_assignment(api_as, coder, other_coder, document):
    assignment = assign(document, coder)

    for action in ("submit", "reopen", "release"):
        assert api_as(other_coder).post(action_url(assignment, action)).status_code == 404
    assert Assignment.objects.get(pk=assignment.pk).state == AssignmentState.ASSIGNED


def test_a_manager_may_not_submit_for_a_coder(api_as, manager, coder, document):
    assignment = assign(document, coder)

    assert api_as(manager).post(action_url(assignment, "submit")).status_code == 403


# --- read-only after submit, reopen ---------------------------------------------------------------


def test_a_submitted_document_refuses_new_spans_with_409(api_as, coder, document):
    assign(document, coder, state="submitted")

    response = api_as(coder).post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
    )

    assert response.status_code == 409
    assert response.json() == {"detail": SUBMITTED_READ_ONLY}


def test_a_submitted_document_refuses_changes_and_deletes(api_as, coder, document):
    assignment = assign(document, coder, state="in_progress")
    span = make_span(document, coder, "Russian")
    client = api_as(coder)
    client.post(action_url(assignment, "submit"))

    patched = client.patch(f"/api/v1/annotations/{span.pk}/", {"version": 1, "label": "LOCATION"})
    deleted = client.delete(f"/api/v1/annotations/{span.pk}/?version=1")

    assert (patched.status_code, deleted.status_code) == (409, 409)
    span.refresh_from_db()
    assert (span.label.name, span.deleted_at) == ("ACTOR", None)


def test_reopen_makes_the_document_writable_again(api_as, coder, document):
    assignment = assign(document, coder, state="submitted")
    client = api_as(coder)

    reopened = client.post(action_url(assignment, "reopen"))
    created = client.post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
    )

    assert reopened.status_code == 200
    assert reopened.json()["state"] == "in_progress"
    assert created.status_code == 201


def test_reopen_after_adjudication_started_is_a_409(api_as, coder, document):
    assignment = assign(document, coder, state="submitted")
    Document.objects.filter(pk=document.pk).update(adjudication_started_at=timezone.now())

    response = api_as(coder).post(action_url(assignment, "reopen"))

    assert response.status_code == 409
    assert response.json() == {"detail": ADJUDICATION_STARTED}


# --- writes need an assignment ----------------------------------------------------------------------


def test_a_first_span_takes_a_document_with_room(api_as, coder, document):
    response = api_as(coder).post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
    )

    assert response.status_code == 201
    assert Assignment.objects.get(coder=coder, document=document).state == "in_progress"


def test_a_span_on_a_full_document_is_a_409_and_takes_nothing(api_as, coder, document):
    fill(document)

    response = api_as(coder).post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
    )

    assert response.status_code == 409
    assert response.json() == {"detail": DOCUMENT_TAKEN.format(k=2)}
    assert not Assignment.objects.filter(coder=coder).exists()


def test_a_refused_first_span_takes_no_slot(api_as, coder, document):
    response = api_as(coder).post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "NO_SUCH_LABEL", **quote_span(document, "Russian")},
    )

    assert response.status_code == 400
    assert not Assignment.objects.filter(coder=coder).exists()


def test_in_manual_mode_a_span_needs_an_assignment(api_as, coder, manual):
    document = make_document(manual)

    response = api_as(coder).post(
        f"/api/v1/documents/{document.pk}/annotations/",
        {"label": "ACTOR", **quote_span(document, "Russian")},
    )

    assert response.status_code == 409
    assert response.json() == {"detail": NOT_ASSIGNED_TO_YOU}


# --- release ----------------------------------------------------------------------------------------


def test_a_manager_releases_a_coders_open_assignment(api_as, manager, coder, document):
    assignment = assign(document, coder, state="in_progress")

    response = api_as(manager).post(action_url(assignment, "release"))

    assert response.status_code == 200
    assert response.json()["state"] == "released"


def test_a_coder_releases_their_own_open_assignment(api_as, coder, document):
    assignment = assign(document, coder)

    assert api_as(coder).post(action_url(assignment, "release")).json()["state"] == "released"


def test_a_submitted_assignment_cannot_be_released(api_as, manager, coder, document):
    assignment = assign(document, coder, state="submitted")

    assert api_as(manager).post(action_url(assignment, "release")).status_code == 409


def test_a_manager_of_another_project_gets_404(api_as, coder, document):
    stranger = make_user("stranger")
    make_project(stranger)
    assignment = assign(document, coder)

    assert api_as(stranger).post(action_url(assignment, "release")).status_code == 404
