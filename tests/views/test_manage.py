"""The manager's screens: new projects and accounts, settings, members, manual assignment, the
dashboard and the history pages. Managers can do each thing; everyone else gets a 404."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from annotator.models import Assignment, AssignmentState, Document, Membership, Role
from annotator.services import projects as services
from annotator.services.annotations import span_update
from annotator.services.assignments import NOT_A_CODER, shuffle_key
from annotator.views.manage import describe_changes
from tests.api.helpers import make_span
from tests.factories import add_member, make_document, make_project, make_user
from tests.services.test_projects_manage import assign, make_coder

HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def staff(db):
    return make_user("staff", is_staff=True)


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def body(response) -> str:
    return response.content.decode()


def manager_pages(project, document, coder) -> list[str]:
    return [
        url("project-settings", project.pk),
        url("project-members", project.pk),
        url("project-assignments", project.pk),
        url("project-dashboard", project.pk),
        url("document-history", project.pk, document.pk),
        url("coder-history", project.pk, coder.pk),
    ]


def manager_actions(project, document, coder, assignment) -> list[tuple[str, dict]]:
    return [
        (url("project-settings", project.pk), {"name": "Taken over", "overlap_k": "3"}),
        (url("project-members", project.pk), {"username": "outsider", "roles": ["manager"]}),
        (url("project-member-remove", project.pk, coder.pk), {}),
        (url("project-assignments", project.pk), {"coders": [coder.pk]}),
        (url("assignment-release", project.pk, assignment.pk), {}),
        (url("assignment-reassign", project.pk, assignment.pk), {"coder": "other_coder"}),
    ]


# --- Who may -----------------------------------------------------------------------------


def test_manager_opens_every_manager_page(manager_client, project, document, coder):
    for page in manager_pages(project, document, coder):
        assert manager_client.get(page).status_code == 200, page


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_people_who_do_not_manage_the_project_get_404_on_every_page(
    client, request, persona, project, document, coder
):
    client.force_login(request.getfixturevalue(persona))

    for page in manager_pages(project, document, coder):
        assert client.get(page).status_code == 404, page


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_people_who_do_not_manage_the_project_get_404_on_every_action_and_change_nothing(
    client, request, persona, project, manager, document, coder, other_coder
):
    assignment = assign(document, coder, manager)
    client.force_login(request.getfixturevalue(persona))

    for action, data in manager_actions(project, document, coder, assignment):
        assert client.post(action, data).status_code == 404, action

    project.refresh_from_db()
    assignment.refresh_from_db()
    assert (project.name, project.overlap_k) == ("Syria claims", 2)
    assert project.roles_of(coder) == {"coder"}
    assert assignment.state == AssignmentState.ASSIGNED


def test_anonymous_visitors_are_sent_to_log_in(client, project, document, coder):
    for page in manager_pages(project, document, coder):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_project_page_links_managers_to_their_screens(manager_client, project):
    html = body(manager_client.get(url("project", project.pk)))

    assert url("project-dashboard", project.pk) in html
    assert url("project-members", project.pk) in html


def test_project_page_shows_coders_no_manager_links(coder_client, project):
    html = body(coder_client.get(url("project", project.pk)))

    assert url("project-dashboard", project.pk) not in html


# --- New projects ------------------------------------------------------------------------


def test_staff_create_a_project_and_become_its_manager(client, staff):
    client.force_login(staff)

    response = client.post(url("project-create"), {"name": "Yemen 2025", "description": "Ports"})

    project = staff.memberships.get().project
    assert response.status_code == 302
    assert response["Location"] == url("project-members", project.pk)
    assert (project.name, project.description) == ("Yemen 2025", "Ports")
    assert project.roles_of(staff) == {"manager"}


def test_a_new_project_has_the_default_codebook(client, staff):
    client.force_login(staff)

    client.post(url("project-create"), {"name": "Yemen 2025"})

    project = staff.memberships.get().project
    assert project.labels.filter(name="CASUALTY").exists()


def test_a_manager_of_another_project_may_create_a_project(manager_client, manager, project):
    response = manager_client.post(url("project-create"), {"name": "Second team"})

    assert response.status_code == 302
    assert manager.memberships.filter(role=Role.MANAGER).count() == 2


def test_a_coder_cannot_create_a_project(coder_client):
    assert coder_client.get(url("project-create")).status_code == 404
    assert coder_client.post(url("project-create"), {"name": "Mine"}).status_code == 404


def test_a_project_without_a_name_is_refused_with_422(manager_client, project):
    response = manager_client.post(url("project-create"), {"name": ""})

    assert response.status_code == 422
    assert "This field is required." in body(response)


# --- Accounts ----------------------------------------------------------------------------


def test_staff_create_an_account_and_see_its_generated_password_once(client, staff):
    client.force_login(staff)

    response = client.post(url("user-create"), {"username": "amira", "password": ""})

    assert response.status_code == 200
    password = re.search(r"<dt>Password</dt><dd><code>([^<]+)</code>", body(response)).group(1)
    assert get_user_model().objects.get(username="amira").check_password(password)
    assert "no-store" in response["Cache-Control"]


def test_the_new_account_form_is_empty_after_creating_one(client, staff):
    client.force_login(staff)

    response = client.post(url("user-create"), {"username": "amira", "password": ""})

    assert 'name="username" value="amira"' not in body(response)


def test_managers_who_are_not_staff_cannot_create_accounts(manager_client):
    assert manager_client.get(url("user-create")).status_code == 404
    assert manager_client.post(url("user-create"), {"username": "x"}).status_code == 404
    assert not get_user_model().objects.filter(username="x").exists()


def test_a_taken_username_is_refused_with_422(client, staff, manager):
    client.force_login(staff)

    response = client.post(url("user-create"), {"username": "manager", "password": ""})

    assert response.status_code == 422
    assert "already taken" in body(response)


# --- Settings ----------------------------------------------------------------------------


def settings_data(project, **changes) -> dict:
    data = {field: getattr(project, field) for field in services.SETTINGS_FIELDS}
    data["hide_coder_names"] = "on" if data["hide_coder_names"] else ""
    return {**data, **changes}


def test_manager_saves_settings_and_is_redirected(manager_client, project):
    response = manager_client.post(
        url("project-settings", project.pk), settings_data(project, overlap_k=3)
    )

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.overlap_k == 3


def test_manager_saves_settings_through_htmx_and_gets_the_form_back(manager_client, project):
    response = manager_client.post(
        url("project-settings", project.pk),
        settings_data(project, abandon_after_hours=24, hide_coder_names="on"),
        headers=HTMX,
    )

    assert response.status_code == 200
    html = body(response)
    assert html.lstrip().startswith('<form id="settings-form"')
    assert "Settings saved." in html
    project.refresh_from_db()
    assert (project.abandon_after_hours, project.hide_coder_names) == (24, True)


def test_a_k_outside_one_to_ten_comes_back_422_with_the_error(manager_client, project):
    response = manager_client.post(
        url("project-settings", project.pk), settings_data(project, overlap_k=11), headers=HTMX
    )

    assert response.status_code == 422
    assert "must be between 1 and 10, got 11" in body(response)
    assert '<form id="settings-form"' in body(response)


def test_refused_settings_without_htmx_render_the_whole_page_with_422(manager_client, project):
    response = manager_client.post(
        url("project-settings", project.pk), settings_data(project, name="")
    )

    assert response.status_code == 422
    assert "<html" in body(response)


def test_changing_the_seed_in_the_settings_reorders_the_documents(manager_client, project):
    documents = [make_document(project, title=f"Article {n}") for n in range(5)]

    manager_client.post(
        url("project-settings", project.pk),
        settings_data(project, document_order="random", random_seed=99),
    )

    expected = sorted(documents, key=lambda d: shuffle_key(99, d.position))
    assert list(Document.objects.filter(project=project).order_by("shuffle_key")) == expected


# --- Members -----------------------------------------------------------------------------


def test_the_members_page_lists_members_with_their_roles(manager_client, project, coder):
    add_member(project, coder, Role.ADJUDICATOR)

    html = body(manager_client.get(url("project-members", project.pk)))

    row = re.search(rf'<tr id="member-{coder.pk}">.*?</tr>', html, re.S).group()
    assert "adjudicator" in row and "coder" in row


def test_manager_adds_a_member_with_two_roles_through_htmx(manager_client, project):
    amira = make_user("amira")

    response = manager_client.post(
        url("project-members", project.pk),
        {"username": "amira", "roles": ["coder", "adjudicator"]},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="members"')
    assert f'id="member-{amira.pk}"' in body(response)
    assert project.roles_of(amira) == {"coder", "adjudicator"}


def test_adding_an_unknown_user_comes_back_422_with_the_message(manager_client, project):
    response = manager_client.post(
        url("project-members", project.pk), {"username": "ghost", "roles": ["coder"]}, headers=HTMX
    )

    assert response.status_code == 422
    assert "there is no user called &#x27;ghost&#x27;" in body(response)


def test_removing_the_last_manager_is_refused_with_422(manager_client, project, manager):
    response = manager_client.post(
        url("project-member-remove", project.pk, manager.pk), headers=HTMX
    )

    assert response.status_code == 422
    assert "last manager" in body(response)
    assert project.roles_of(manager) == {"manager"}


def test_manager_removes_a_coder_without_losing_their_work(
    manager_client, project, manager, coder, document
):
    span = make_span(document, coder, "Russian")
    assign(document, coder, manager, AssignmentState.SUBMITTED)

    response = manager_client.post(url("project-member-remove", project.pk, coder.pk))

    assert response.status_code == 302
    assert project.roles_of(coder) == set()
    span.refresh_from_db()
    assert span.deleted_at is None
    assert Assignment.objects.get(coder=coder).state == AssignmentState.SUBMITTED


def test_a_manager_who_steps_down_is_sent_home(manager_client, project, manager, adjudicator):
    add_member(project, adjudicator, Role.MANAGER)

    response = manager_client.post(
        url("project-member-remove", project.pk, manager.pk), {"role": "manager"}, headers=HTMX
    )

    assert response["HX-Redirect"] == url("home")
    assert project.roles_of(manager) == set()


def test_manager_takes_one_role_away(manager_client, project, coder):
    add_member(project, coder, Role.ADJUDICATOR)

    manager_client.post(url("project-member-remove", project.pk, coder.pk), {"role": "coder"})

    assert project.roles_of(coder) == {"adjudicator"}


# --- Manual assignment -------------------------------------------------------------------


@pytest.fixture
def three_coders(project, coder, other_coder):
    return [coder, other_coder, make_coder(project, "third_coder")]


def test_bulk_assignment_through_htmx_reports_what_it_created_and_skipped(
    manager_client, project, three_coders
):
    for n in range(2):
        make_document(project, title=f"Article {n}")

    response = manager_client.post(
        url("project-assignments", project.pk),
        {"coders": [c.pk for c in three_coders]},
        headers={**HTMX, "HX-Target": "assignment-work"},
    )

    assert response.status_code == 200
    html = body(response)
    assert html.lstrip().startswith('<div id="assignment-work"')
    assert "Created 4 assignments. Skipped 2: 2 document full." in html
    assert Assignment.objects.filter(project=project).count() == 4


def test_bulk_assignment_takes_only_the_documents_in_the_chosen_state(
    manager_client, project, manager, coder, other_coder, document
):
    fresh = make_document(project, title="Fresh")
    assign(document, coder, manager)
    assign(document, other_coder, manager)
    third = make_coder(project, "third_coder")

    manager_client.post(
        url("project-assignments", project.pk), {"coders": [third.pk], "state": "needs_coders"}
    )

    assert list(Assignment.objects.filter(coder=third).values_list("document", flat=True)) == [
        fresh.pk
    ]


def test_bulk_assignment_stops_at_the_limit(manager_client, project, coder):
    documents = [make_document(project, title=f"Article {n}") for n in range(4)]

    manager_client.post(url("project-assignments", project.pk), {"coders": [coder.pk], "limit": 2})

    assigned = set(Assignment.objects.filter(coder=coder).values_list("document", flat=True))
    assert assigned == {documents[0].pk, documents[1].pk}


def test_bulk_assignment_without_js_redirects_with_the_report_in_messages(
    manager_client, project, manager, coder, document
):
    assign(document, coder, manager)

    response = manager_client.post(
        url("project-assignments", project.pk), {"coders": [coder.pk], "title": "air"}, follow=True
    )

    html = body(response)
    assert response.redirect_chain[0][0] == url("project-assignments", project.pk) + "?title=air"
    assert "Created 0 assignments. Skipped 1: 1 already assigned." in html
    assert f"document {document.pk} for coder: already assigned" in html


def test_bulk_assignment_without_coders_is_refused_with_422(
    manager_client, project, coder, document
):
    response = manager_client.post(
        url("project-assignments", project.pk), {}, headers={**HTMX, "HX-Target": "assignment-work"}
    )

    assert response.status_code == 422
    assert "choose at least one coder" in body(response)


def test_manager_releases_an_assignment_and_gets_its_row_back(
    manager_client, project, manager, coder, document
):
    assignment = assign(document, coder, manager, AssignmentState.IN_PROGRESS)

    response = manager_client.post(
        url("assignment-release", project.pk, assignment.pk), headers=HTMX
    )

    assert response.status_code == 200
    assert body(response).lstrip().startswith(f'<tr id="document-{document.pk}"')
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.RELEASED


def test_manager_reassigns_an_assignment_to_another_coder(
    manager_client, project, manager, coder, other_coder, document
):
    assignment = assign(document, coder, manager)

    response = manager_client.post(
        url("assignment-reassign", project.pk, assignment.pk),
        {"coder": "other_coder"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "moved to other_coder" in body(response)
    live = Assignment.objects.active().filter(document=document)
    assert [a.coder for a in live] == [other_coder]


def test_reassigning_to_someone_who_is_not_a_coder_is_refused_with_422(
    manager_client, project, manager, coder, adjudicator, document
):
    assignment = assign(document, coder, manager)

    response = manager_client.post(
        url("assignment-reassign", project.pk, assignment.pk),
        {"coder": "adjudicator"},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert NOT_A_CODER.format(username="adjudicator") in body(response)
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.ASSIGNED


def test_an_assignment_of_another_project_is_404(manager_client, manager):
    other = make_project(make_user("elsewhere"))
    stranger = make_user("stranger")
    add_member(other, stranger, Role.CODER)
    assignment = assign(make_document(other), stranger, stranger.memberships.get().user)
    mine = make_project(manager)

    response = manager_client.post(url("assignment-release", mine.pk, assignment.pk))

    assert response.status_code == 404


def test_releasing_without_js_goes_back_only_to_a_page_of_this_site(
    manager_client, project, manager, coder, document
):
    assignment = assign(document, coder, manager)

    response = manager_client.post(
        url("assignment-release", project.pk, assignment.pk), {"next": "https://evil.example/"}
    )

    assert response["Location"] == url("project-assignments", project.pk)


# --- Dashboard ---------------------------------------------------------------------------


@pytest.fixture
def known_project(project, manager, coder, other_coder):
    """Four documents, k = 2: one needs coders, one in progress, one fully coded, one
    adjudicated; coder submitted three, other_coder one."""
    docs = [make_document(project, title=name) for name in ("Empty", "Busy", "Done", "Judged")]
    assign(docs[1], coder, manager, AssignmentState.IN_PROGRESS)
    assign(docs[1], other_coder, manager)
    for document in docs[2:]:
        assign(document, coder, manager, AssignmentState.SUBMITTED, active_seconds=600)
        assign(document, other_coder, manager, AssignmentState.SUBMITTED, active_seconds=1200)
    Document.objects.filter(pk=docs[3].pk).update(adjudication_started_at=timezone.now())
    make_span(docs[2], coder, "Russian")
    return docs


def legend_count(html: str, label: str) -> int:
    return int(re.search(rf"{label}</a> <strong>(\d+)</strong>", html).group(1))


def test_dashboard_shows_the_document_counts_of_a_small_known_project(
    manager_client, project, known_project
):
    html = body(manager_client.get(url("project-dashboard", project.pk)))

    assert [
        legend_count(html, label)
        for label in ("Needs coders", "In progress", "Fully coded", "Adjudicated")
    ] == [1, 1, 1, 1]


def test_dashboard_shows_each_coders_numbers(manager_client, project, known_project, coder):
    html = body(manager_client.get(url("project-dashboard", project.pk)))

    row = re.search(rf'coders/{coder.pk}/history/">coder</a>.*?</tr>', html, re.S).group()
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    # assigned, in progress, submitted, annotations, median active minutes
    assert cells == ["3", "1", "2", "1", "10.0"]


def test_dashboard_refreshes_its_stats_every_15_seconds(manager_client, project, known_project):
    html = body(manager_client.get(url("project-dashboard", project.pk)))

    section = re.search(r'<section id="dashboard-stats"[^>]*>', html).group()
    assert 'hx-trigger="every 15s"' in section
    assert f'hx-get="{url("project-dashboard", project.pk)}"' in section


def test_the_stats_refresh_returns_only_the_stats_section(manager_client, project, known_project):
    response = manager_client.get(
        url("project-dashboard", project.pk), headers={**HTMX, "HX-Target": "dashboard-stats"}
    )

    html = body(response).strip()
    assert html.startswith('<section id="dashboard-stats"') and html.endswith("</section>")
    assert "<html" not in html and 'id="dashboard-documents"' not in html


def test_the_documents_filter_returns_only_the_documents_section(
    manager_client, project, known_project
):
    response = manager_client.get(
        url("project-dashboard", project.pk) + "?state=in_progress",
        headers={**HTMX, "HX-Target": "dashboard-documents"},
    )

    html = body(response).strip()
    assert html.startswith('<section id="dashboard-documents"')
    assert "Busy" in html and "Empty" not in html and 'id="dashboard-stats"' not in html


def test_dashboard_documents_are_paginated(manager_client, project):
    for n in range(55):
        make_document(project, title=f"Article {n:02}")

    first = body(manager_client.get(url("project-dashboard", project.pk)))
    second = body(manager_client.get(url("project-dashboard", project.pk) + "?page=2"))

    assert "Article 49" in first and "Article 50" not in first
    assert "Article 50" in second and "Page 2 of 2" in second


def test_dashboard_charts_carry_no_style_attribute(manager_client, project, known_project):
    html = body(manager_client.get(url("project-dashboard", project.pk)))

    assert "<svg" in html
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert "<style" not in html.lower()


def test_throughput_chart_has_a_bar_per_day_with_submissions_and_axis_labels(
    manager_client, project, known_project
):
    html = body(manager_client.get(url("project-dashboard", project.pk)))

    chart = re.search(r'<svg class="chart".*?</svg>', html, re.S).group()
    assert len(re.findall(r'<rect class="day"', chart)) == 1  # all four submitted today
    assert timezone.localdate().strftime("%d %b") in chart
    assert re.search(r'<text class="tick"[^>]*>0</text>', chart)
    assert "4 submissions from" in html


def build(project, manager, coders: int, documents: int) -> None:
    people = [make_coder(project, f"c{n}") for n in range(coders)]
    for n in range(documents):
        document = make_document(project, title=f"Article {n}")
        state = [AssignmentState.ASSIGNED, AssignmentState.IN_PROGRESS, AssignmentState.SUBMITTED][
            n % 3
        ]
        assign(document, people[n % coders], manager, state, active_seconds=60 * n)
        make_span(document, people[n % coders], "Russian")


@pytest.mark.parametrize(("coders", "documents"), [(2, 3), (8, 24)])
def test_the_dashboard_costs_the_same_number_of_queries_at_any_size(
    manager_client, project, manager, coders, documents, django_assert_max_num_queries
):
    build(project, manager, coders, documents)

    with django_assert_max_num_queries(14):
        response = manager_client.get(url("project-dashboard", project.pk))

    assert response.status_code == 200


@pytest.mark.parametrize(("coders", "documents"), [(2, 3), (8, 24)])
def test_the_stats_refresh_costs_the_same_number_of_queries_at_any_size(
    manager_client, project, manager, coders, documents, django_assert_max_num_queries
):
    build(project, manager, coders, documents)

    # Counted afresh (nothing to reuse yet): the progress version, then the figures.
    with django_assert_max_num_queries(11):
        manager_client.get(
            url("project-dashboard", project.pk), headers={**HTMX, "HX-Target": "dashboard-stats"}
        )


# --- History -----------------------------------------------------------------------------


def test_document_history_shows_who_changed_what_from_what_to_what(
    manager_client, project, document, coder
):
    span = make_span(document, coder, "Russian", label="ACTOR")
    span_update(annotation=span, coder=coder, version=span.version, label="LOCATION")

    html = body(manager_client.get(url("document-history", project.pk, document.pk)))

    assert "span.update" in html and "span.create" in html
    assert '<span class="field-name">label</span>: <del>ACTOR</del> → <ins>LOCATION</ins>' in html
    assert f'coders/{coder.pk}/history/">coder</a>' in html


def test_coder_history_lists_only_that_coders_changes(
    manager_client, project, document, coder, other_coder
):
    make_span(document, coder, "air strikes")
    make_span(document, other_coder, "ministry of defense")

    html = body(manager_client.get(url("coder-history", project.pk, coder.pk)))

    assert "air strikes" in html and "ministry of defense" not in html


def test_history_of_a_removed_coder_stays_readable(
    manager_client, project, manager, document, coder
):
    make_span(document, coder, "Russian")
    Membership.objects.filter(project=project, user=coder).delete()

    response = manager_client.get(url("coder-history", project.pk, coder.pk))

    assert response.status_code == 200
    assert "Russian" in body(response)


def test_history_of_someone_unrelated_to_the_project_is_404(manager_client, project, outsider):
    assert manager_client.get(url("coder-history", project.pk, outsider.pk)).status_code == 404


def test_history_of_another_projects_document_is_404(manager_client, project, manager):
    elsewhere = make_document(make_project(make_user("elsewhere")))

    response = manager_client.get(url("document-history", project.pk, elsewhere.pk))

    assert response.status_code == 404


def relabel(span, coder, times: int) -> None:
    """`times` label changes of one span, back and forth."""
    for n in range(times):
        span.refresh_from_db()
        label = "LOCATION" if n % 2 == 0 else "ACTOR"
        span_update(annotation=span, coder=coder, version=span.version, label=label)


def test_history_is_paginated_newest_first(manager_client, project, document, coder):
    relabel(make_span(document, coder, "Russian"), coder, 60)

    first = body(manager_client.get(url("document-history", project.pk, document.pk)))
    second = body(manager_client.get(url("document-history", project.pk, document.pk) + "?page=2"))

    assert "Page 1 of 2" in first and "span.create" not in first
    assert "span.create" in second


@pytest.mark.parametrize("changes", [1, 30])
def test_history_costs_the_same_number_of_queries_for_any_length(
    manager_client, project, document, coder, changes, django_assert_max_num_queries
):
    relabel(make_span(document, coder, "Russian"), coder, changes)

    with django_assert_max_num_queries(10):
        manager_client.get(url("document-history", project.pk, document.pk))


def test_describe_changes_lists_only_what_an_update_changed():
    names = {"label": {1: "ACTOR", 2: "LOCATION"}}

    changes = describe_changes(
        {"id": 5, "label_id": 1, "start": 0, "attributes": {"actor_type": "state_forces"}},
        {"id": 5, "label_id": 2, "start": 0, "attributes": {}},
        names,
    )

    assert [(c.field, c.before, c.after) for c in changes] == [
        ("label", "ACTOR", "LOCATION"),
        ("attributes", "actor_type=state_forces", "(none)"),
    ]


def test_describe_changes_lists_every_value_of_a_creation():
    changes = describe_changes(None, {"id": 5, "state": "assigned", "coder_id": 7}, {})

    assert [(c.field, c.before, c.after) for c in changes] == [
        ("state", None, "assigned"),
        ("coder", None, "#7"),
    ]
