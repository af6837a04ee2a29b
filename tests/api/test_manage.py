"""The manager's API: members, progress and history. Managers only; everyone else gets a 404
(anonymous callers a 401), and refusals come back as 400 with the services' messages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotator.models import AssignmentState, AuditEvent, Document, Role
from annotator.services import projects as services
from tests.api.helpers import make_span
from tests.factories import add_member, make_document, make_user
from tests.services.test_projects_manage import assign, make_coder


def members_url(project, user=None) -> str:
    base = f"/api/v1/projects/{project.pk}/members/"
    return f"{base}{user.pk}/" if user else base


ROUTES = [
    ("get", "/api/v1/projects/{project}/members/", None),
    ("post", "/api/v1/projects/{project}/members/", {"username": "outsider", "roles": ["manager"]}),
    ("delete", "/api/v1/projects/{project}/members/{manager}/", None),
    ("get", "/api/v1/projects/{project}/progress/", None),
    ("get", "/api/v1/projects/{project}/history/", None),
]


@pytest.mark.parametrize(("method", "path", "data"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_people_who_do_not_manage_the_project_get_404(
    api_as, request, persona, project, manager, coder, method, path, data
):
    client = api_as(request.getfixturevalue(persona))

    response = getattr(client, method)(path.format(project=project.pk, manager=manager.pk), data)

    assert response.status_code == 404
    assert project.roles_of(manager) == {"manager"}


@pytest.mark.parametrize(("method", "path", "data"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_anonymous_callers_get_401(api_as, project, manager, method, path, data):
    response = getattr(api_as(), method)(path.format(project=project.pk, manager=manager.pk), data)

    assert response.status_code == 401


# --- Members -----------------------------------------------------------------------------


def test_manager_lists_the_members_with_their_roles(api_as, project, manager, coder):
    add_member(project, coder, Role.ADJUDICATOR)

    response = api_as(manager).get(members_url(project))

    assert response.status_code == 200
    assert response.json() == [
        {"user_id": coder.pk, "username": "coder", "roles": ["adjudicator", "coder"]},
        {"user_id": manager.pk, "username": "manager", "roles": ["manager"]},
    ]


def test_manager_adds_a_member_with_two_roles(api_as, project, manager):
    amira = make_user("amira")

    response = api_as(manager).post(
        members_url(project), {"username": "amira", "roles": ["coder", "adjudicator"]}
    )

    assert response.status_code == 201
    assert response.json() == {
        "user_id": amira.pk,
        "username": "amira",
        "roles": ["adjudicator", "coder"],
    }


def test_adding_an_unknown_username_is_400_with_the_message(api_as, project, manager):
    response = api_as(manager).post(members_url(project), {"username": "ghost", "roles": ["coder"]})

    assert response.status_code == 400
    assert response.json() == {"username": [services.NO_SUCH_USER.format(username="ghost")]}


def test_adding_with_an_unknown_role_is_400(api_as, project, manager):
    make_user("amira")

    response = api_as(manager).post(members_url(project), {"username": "amira", "roles": ["boss"]})

    assert response.status_code == 400
    assert response.json() == {"roles": [services.UNKNOWN_ROLE.format(role="boss")]}


def test_manager_takes_one_role_from_a_member(api_as, project, manager, coder):
    add_member(project, coder, Role.ADJUDICATOR)

    response = api_as(manager).delete(members_url(project, coder) + "?role=coder")

    assert response.status_code == 204
    assert project.roles_of(coder) == {"adjudicator"}


def test_manager_removes_a_member_entirely(api_as, project, manager, coder):
    response = api_as(manager).delete(members_url(project, coder))

    assert response.status_code == 204
    assert project.roles_of(coder) == set()


def test_removing_the_last_manager_is_400(api_as, project, manager):
    response = api_as(manager).delete(members_url(project, manager))

    assert response.status_code == 400
    assert response.json() == {"user": [services.LAST_MANAGER.format(username="manager")]}
    assert project.roles_of(manager) == {"manager"}


def test_removing_someone_who_is_not_a_member_is_404(api_as, project, manager, outsider):
    assert api_as(manager).delete(members_url(project, outsider)).status_code == 404


# --- Progress ----------------------------------------------------------------------------


@pytest.fixture
def known_project(project, manager, coder, other_coder):
    """Three documents, k = 2: one needs coders, one fully coded, one adjudicated."""
    empty, done, judged = (make_document(project, title=t) for t in ("Empty", "Done", "Judged"))
    for document in (done, judged):
        assign(document, coder, manager, AssignmentState.SUBMITTED, active_seconds=120)
        assign(document, other_coder, manager, AssignmentState.SUBMITTED, active_seconds=360)
    Document.objects.filter(pk=judged.pk).update(adjudication_started_at=timezone.now())
    make_span(done, coder, "Russian")
    return empty, done, judged


def test_progress_reports_documents_per_state(api_as, project, manager, known_project):
    response = api_as(manager).get(f"/api/v1/projects/{project.pk}/progress/")

    assert response.status_code == 200
    assert response.json()["documents"] == {
        "total": 3,
        "needs_coders": 1,
        "in_progress": 0,
        "fully_coded": 1,
        "adjudicated": 1,
    }


def test_progress_reports_each_coders_work(api_as, project, manager, coder, known_project):
    data = api_as(manager).get(f"/api/v1/projects/{project.pk}/progress/").json()

    mine = next(c for c in data["coders"] if c["username"] == "coder")
    assert mine == {
        "user_id": coder.pk,
        "username": "coder",
        "is_member": True,
        "assigned": 2,
        "in_progress": 0,
        "submitted": 2,
        "annotations": 1,
        "median_active_minutes": 2.0,
    }


def test_progress_reports_thirty_days_of_submissions(api_as, project, manager, known_project):
    throughput = (
        api_as(manager).get(f"/api/v1/projects/{project.pk}/progress/").json()["throughput"]
    )

    assert len(throughput) == 30
    assert throughput[-1] == {"day": timezone.localdate().isoformat(), "submitted": 4}


@pytest.mark.parametrize("coders", [2, 12])
def test_progress_costs_the_same_number_of_queries_for_any_team(
    api_as, project, manager, coders, django_assert_max_num_queries
):
    for n in range(coders):
        person = make_coder(project, f"c{n}")
        document = make_document(project, title=f"Article {n}")
        assign(document, person, manager, AssignmentState.SUBMITTED, active_seconds=60 * n)
        make_span(document, person, "Russian")
    client = api_as(manager)

    # Counted afresh (nothing to reuse yet): the progress version, then the figures.
    with django_assert_max_num_queries(9):
        response = client.get(f"/api/v1/projects/{project.pk}/progress/")

    assert len(response.json()["coders"]) == coders


# --- History -----------------------------------------------------------------------------


def test_history_lists_the_projects_changes_newest_first(api_as, project, manager, document, coder):
    make_span(document, coder, "Russian")
    services.project_update(project=project, user=manager, overlap_k=3)

    results = api_as(manager).get(f"/api/v1/projects/{project.pk}/history/").json()["results"]

    assert [(e["action"], e["user"]) for e in results] == [
        ("project.update", "manager"),
        ("span.create", "coder"),
    ]
    assert (results[0]["before"], results[0]["after"]) == ({"overlap_k": 2}, {"overlap_k": 3})


def test_history_filters_by_document(api_as, project, manager, document, coder):
    other = make_document(project, title="Other")
    make_span(document, coder, "Russian")
    make_span(other, coder, "Syria")

    response = api_as(manager).get(f"/api/v1/projects/{project.pk}/history/?document={other.pk}")

    assert [e["after"]["text"] for e in response.json()["results"]] == ["Syria"]


def test_history_filters_by_the_user_who_acted(
    api_as, project, manager, document, coder, other_coder
):
    make_span(document, coder, "Russian")
    make_span(document, other_coder, "Syria")

    response = api_as(manager).get(f"/api/v1/projects/{project.pk}/history/?coder={other_coder.pk}")

    assert [e["user"] for e in response.json()["results"]] == ["other_coder"]


def test_history_with_a_malformed_filter_is_400(api_as, project, manager):
    response = api_as(manager).get(f"/api/v1/projects/{project.pk}/history/?document=abc")

    assert response.status_code == 400
    assert "document" in response.json()


def test_history_is_paginated(api_as, project, manager, document, coder):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            project=project,
            document=document,
            user=coder,
            action="span.touch",
            object_type="annotation",
        )
        for _ in range(120)
    )

    data = api_as(manager).get(f"/api/v1/projects/{project.pk}/history/").json()

    assert (data["count"], len(data["results"])) == (120, 100)
    assert data["next"]
