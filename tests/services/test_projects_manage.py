"""What managers do to a project (settings, members, manual assignment), what site staff do
(accounts), and the numbers the dashboard reads. Real database, the personas of conftest."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotator.models import Assignment, AssignmentState, AuditEvent, Document, Membership, Role
from annotator.services import projects as services
from annotator.services.assignments import (
    assignment_create,
    assignment_release,
    assignment_submit,
    assignment_touch,
    shuffle_key,
)
from annotator.services.projects import DocumentState, SkipReason
from tests.api.helpers import make_span
from tests.factories import add_member, make_document, make_user


def make_coder(project, username):
    user = make_user(username)
    add_member(project, user, Role.CODER)
    return user


def assign(document, coder, manager, state=AssignmentState.ASSIGNED, active_seconds=0):
    """An assignment brought to `state` through the services, as a coder would."""
    assignment = assignment_create(
        project=document.project, document=document, coder=coder, assigned_by=manager
    )
    if state in (AssignmentState.IN_PROGRESS, AssignmentState.SUBMITTED):
        assignment_touch(assignment=assignment)
    if state == AssignmentState.SUBMITTED:
        assignment_submit(assignment=assignment, coder=coder)
    if active_seconds:
        Assignment.objects.filter(pk=assignment.pk).update(active_seconds=active_seconds)
    assignment.refresh_from_db()
    return assignment


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Settings -----------------------------------------------------------------------------


def test_manager_changes_the_overlap_k(project, manager):
    services.project_update(project=project, user=manager, overlap_k="3")

    project.refresh_from_db()
    assert project.overlap_k == 3


@pytest.mark.parametrize("k", [0, 11, "two"])
def test_overlap_k_outside_one_to_ten_is_refused(project, manager, k):
    with pytest.raises(ValidationError) as excinfo:
        services.project_update(project=project, user=manager, overlap_k=k)

    assert list(errors_of(excinfo)) == ["overlap_k"]
    project.refresh_from_db()
    assert project.overlap_k == 2


def test_a_blank_project_name_is_refused(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.project_update(project=project, user=manager, name="   ")

    assert errors_of(excinfo) == {"name": [services.NAME_REQUIRED]}


def test_an_unknown_assignment_mode_is_refused(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.project_update(project=project, user=manager, assignment_mode="lottery")

    assert "assignment_mode" in errors_of(excinfo)


def _random_order(project) -> list[int]:
    return list(
        Document.objects.filter(project=project)
        .order_by("shuffle_key", "id")
        .values_list("position", flat=True)
    )


def test_changing_the_seed_reorders_documents_deterministically(project, manager):
    for n in range(8):
        make_document(project, title=f"Article {n}")
    services.project_update(project=project, user=manager, document_order="random", random_seed=7)
    order_seven = _random_order(project)

    services.project_update(project=project, user=manager, random_seed=8)
    order_eight = _random_order(project)
    services.project_update(project=project, user=manager, random_seed=7)

    assert order_eight != order_seven
    assert _random_order(project) == order_seven
    assert order_seven == sorted(range(1, 9), key=lambda position: shuffle_key(7, position))


def test_new_documents_take_their_place_in_the_seeded_order(project, manager):
    services.project_update(project=project, user=manager, document_order="random", random_seed=42)

    document = make_document(project, title="Late arrival")

    assert document.shuffle_key == shuffle_key(42, document.position)


def test_a_settings_change_is_audited_with_before_and_after(project, manager):
    services.project_update(project=project, user=manager, overlap_k=3, name="Syria claims")

    event = AuditEvent.objects.get(project=project, action="project.update")
    assert (event.user, event.before, event.after) == (manager, {"overlap_k": 2}, {"overlap_k": 3})


def test_saving_unchanged_settings_records_nothing(project, manager):
    services.project_update(project=project, user=manager, overlap_k=2, name=project.name)

    assert not AuditEvent.objects.filter(action="project.update").exists()


# --- Members ------------------------------------------------------------------------------


def test_manager_adds_a_member_by_username_with_several_roles(project, manager):
    amira = make_user("amira")

    services.membership_add(
        project=project, username="amira", roles=["coder", "adjudicator"], by=manager
    )

    assert project.roles_of(amira) == {"coder", "adjudicator"}


def test_adding_an_unknown_username_is_refused(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.membership_add(project=project, username="nobody", roles=["coder"], by=manager)

    assert errors_of(excinfo) == {"username": [services.NO_SUCH_USER.format(username="nobody")]}


def test_adding_a_member_without_a_role_is_refused(project, manager):
    make_user("amira")

    with pytest.raises(ValidationError) as excinfo:
        services.membership_add(project=project, username="amira", roles=[], by=manager)

    assert errors_of(excinfo) == {"roles": [services.NO_ROLES]}


def test_adding_a_role_someone_holds_keeps_one_membership(project, manager, coder):
    services.membership_add(project=project, username="coder", roles=["coder"], by=manager)

    assert Membership.objects.filter(project=project, user=coder).count() == 1
    assert not AuditEvent.objects.filter(action="membership.add").exists()


def test_the_last_manager_cannot_be_removed(project, manager):
    with pytest.raises(ValidationError) as excinfo:
        services.membership_remove(project=project, user=manager, by=manager)

    assert errors_of(excinfo) == {"user": [services.LAST_MANAGER.format(username="manager")]}
    assert project.roles_of(manager) == {"manager"}


def test_the_last_manager_cannot_give_up_the_manager_role(project, manager):
    add_member(project, manager, Role.CODER)

    with pytest.raises(ValidationError):
        services.membership_remove(project=project, user=manager, role=Role.MANAGER, by=manager)

    assert project.roles_of(manager) == {"manager", "coder"}


def test_a_manager_can_leave_when_another_manager_remains(project, manager, adjudicator):
    add_member(project, adjudicator, Role.MANAGER)

    services.membership_remove(project=project, user=manager, by=adjudicator)

    assert project.roles_of(manager) == set()


def test_removing_one_role_keeps_the_others(project, manager, coder):
    add_member(project, coder, Role.ADJUDICATOR)

    services.membership_remove(project=project, user=coder, role=Role.CODER, by=manager)

    assert project.roles_of(coder) == {"adjudicator"}


def test_removing_a_coder_keeps_their_spans_and_submissions(project, manager, coder, document):
    span = make_span(document, coder, "Russian")
    submitted = assign(document, coder, manager, AssignmentState.SUBMITTED)

    services.membership_remove(project=project, user=coder, by=manager)

    span.refresh_from_db()
    submitted.refresh_from_db()
    assert span.deleted_at is None
    assert submitted.state == AssignmentState.SUBMITTED


def test_removing_a_coder_releases_their_open_assignments(project, manager, coder, document):
    open_assignment = assign(document, coder, manager, AssignmentState.IN_PROGRESS)

    services.membership_remove(project=project, user=coder, by=manager)

    open_assignment.refresh_from_db()
    assert open_assignment.state == AssignmentState.RELEASED


def test_removing_someone_who_is_not_a_member_is_refused(project, manager, outsider):
    with pytest.raises(ValidationError) as excinfo:
        services.membership_remove(project=project, user=outsider, by=manager)

    assert errors_of(excinfo) == {"user": [services.NOT_A_MEMBER.format(username="outsider")]}


def test_membership_changes_are_audited(project, manager):
    make_user("amira")

    services.membership_add(project=project, username="amira", roles=["coder"], by=manager)

    event = AuditEvent.objects.get(project=project, action="membership.add")
    assert event.after == {"username": "amira", "roles": ["coder"]}


# --- Accounts -----------------------------------------------------------------------------


def test_staff_create_a_user_with_a_generated_password(db):
    user, password = services.user_create(username="amira")

    assert len(password) >= 12
    assert user.check_password(password)


def test_staff_create_a_user_with_the_password_they_chose(db):
    user, password = services.user_create(username="amira", password="long enough passphrase 7")

    assert password == "long enough passphrase 7"
    assert user.check_password(password)


def test_a_taken_username_is_refused_whatever_its_case(manager):
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="Manager")

    assert errors_of(excinfo) == {"username": [services.USERNAME_TAKEN.format(username="Manager")]}


def test_a_weak_password_is_refused(db):
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="amira", password="123")

    assert "password" in errors_of(excinfo)
    assert not get_user_model().objects.filter(username="amira").exists()


# --- Manual assignment --------------------------------------------------------------------


@pytest.fixture
def three_coders(project, coder, other_coder):
    return [coder, other_coder, make_coder(project, "third_coder")]


def test_bulk_assignment_gives_each_document_k_coders(project, manager, three_coders):
    documents = [make_document(project, title=f"Article {n}") for n in range(3)]

    result = services.assignments_create_bulk(
        project=project, documents=documents, coders=three_coders, assigned_by=manager
    )

    assert len(result.created) == 6
    for document in documents:
        assert Assignment.objects.filter(document=document).count() == project.overlap_k
    assert result.skipped_by_reason() == {SkipReason.DOCUMENT_FULL: 3}


def test_bulk_assignment_spreads_documents_evenly_over_the_coders(project, manager, three_coders):
    documents = [make_document(project, title=f"Article {n}") for n in range(3)]

    services.assignments_create_bulk(
        project=project, documents=documents, coders=three_coders, assigned_by=manager
    )

    assert [Assignment.objects.filter(coder=c).count() for c in three_coders] == [2, 2, 2]


def test_bulk_assignment_reports_documents_a_coder_already_has(
    project, manager, coder, other_coder, document
):
    assign(document, coder, manager)

    result = services.assignments_create_bulk(
        project=project, documents=[document], coders=[coder, other_coder], assigned_by=manager
    )

    assert [a.coder for a in result.created] == [other_coder]
    assert [(s.document_id, s.username, s.reason) for s in result.skipped] == [
        (document.pk, "coder", SkipReason.ALREADY_ASSIGNED)
    ]


def test_bulk_assignment_never_gives_a_document_more_than_k_coders(
    project, manager, three_coders, document
):
    services.project_update(project=project, user=manager, overlap_k=1)
    project.refresh_from_db()
    assign(document, three_coders[0], manager, AssignmentState.SUBMITTED)

    result = services.assignments_create_bulk(
        project=project, documents=[document], coders=three_coders[1:], assigned_by=manager
    )

    assert result.created == []
    assert result.skipped_by_reason() == {SkipReason.DOCUMENT_FULL: 2}
    assert Assignment.objects.active().filter(document=document).count() == 1


def test_bulk_assignment_reports_someone_who_is_not_a_coder(
    project, manager, adjudicator, document
):
    result = services.assignments_create_bulk(
        project=project, documents=[document], coders=[adjudicator], assigned_by=manager
    )

    assert [s.reason for s in result.skipped] == [SkipReason.NOT_A_CODER]


def test_reassigning_moves_an_open_assignment_to_another_coder(
    project, manager, coder, other_coder, document
):
    first = assign(document, coder, manager, AssignmentState.IN_PROGRESS)

    second = services.assignment_reassign(assignment=first, to_coder=other_coder, by=manager)

    first.refresh_from_db()
    assert first.state == AssignmentState.RELEASED
    assert (second.coder, second.state) == (other_coder, AssignmentState.ASSIGNED)


def test_reassigning_to_the_same_coder_is_refused(project, manager, coder, document):
    first = assign(document, coder, manager)

    with pytest.raises(ValidationError) as excinfo:
        services.assignment_reassign(assignment=first, to_coder=coder, by=manager)

    assert "coder" in errors_of(excinfo)


def test_reassigning_a_submitted_assignment_is_refused_and_changes_nothing(
    project, manager, coder, other_coder, document
):
    submitted = assign(document, coder, manager, AssignmentState.SUBMITTED)

    with pytest.raises(ValidationError):
        services.assignment_reassign(assignment=submitted, to_coder=other_coder, by=manager)

    submitted.refresh_from_db()
    assert submitted.state == AssignmentState.SUBMITTED
    assert not Assignment.objects.filter(coder=other_coder).exists()


# --- The dashboard's numbers --------------------------------------------------------------


@pytest.fixture
def known_project(project, manager, coder, other_coder):
    """Six documents, k = 2: one in each state, and two that need coders."""
    docs = {
        name: make_document(project, title=name)
        for name in ("empty", "half", "busy", "done", "judged", "dropped")
    }
    assign(docs["half"], coder, manager, AssignmentState.SUBMITTED, active_seconds=600)
    assign(docs["busy"], coder, manager, AssignmentState.IN_PROGRESS)
    assign(docs["busy"], other_coder, manager, AssignmentState.SUBMITTED, active_seconds=300)
    assign(docs["done"], coder, manager, AssignmentState.SUBMITTED, active_seconds=1200)
    assign(docs["done"], other_coder, manager, AssignmentState.SUBMITTED, active_seconds=900)
    assign(docs["judged"], coder, manager, AssignmentState.SUBMITTED, active_seconds=1800)
    Document.objects.filter(pk=docs["judged"].pk).update(adjudication_started_at=timezone.now())
    assignment_release(assignment=assign(docs["dropped"], other_coder, manager), user=manager)
    make_span(docs["done"], coder, "Russian")
    make_span(docs["done"], coder, "Syria")
    make_span(docs["busy"], other_coder, "Syria")
    return docs


def test_progress_counts_documents_in_each_state(project, known_project):
    counts = services.project_progress(project).documents

    assert counts == services.DocumentCounts(
        total=6, needs_coders=3, in_progress=1, fully_coded=1, adjudicated=1
    )


def test_progress_counts_each_coders_work(project, known_project, coder, other_coder):
    coders = {c.username: c for c in services.project_progress(project).coders}

    assert (coders["coder"].assigned, coders["coder"].in_progress, coders["coder"].submitted) == (
        4,
        1,
        3,
    )
    assert (coders["other_coder"].assigned, coders["other_coder"].submitted) == (2, 2)
    assert (coders["coder"].annotations, coders["other_coder"].annotations) == (2, 1)


def test_progress_follows_a_submission_made_after_a_first_look(
    project, known_project, manager, other_coder
):
    before = services.project_progress(project)
    assign(known_project["half"], other_coder, manager, AssignmentState.SUBMITTED)

    after = services.project_progress(project)

    assert (before.documents.fully_coded, after.documents.fully_coded) == (1, 2)
    assert {c.username: c.submitted for c in after.coders}["other_coder"] == 3


def test_an_idle_projects_progress_is_not_counted_again(
    project, known_project, django_assert_max_num_queries
):
    first = services.project_progress(project)

    with django_assert_max_num_queries(1):
        again = services.project_progress(project)

    assert again == first


def test_median_active_minutes_are_over_submitted_documents(project, known_project):
    coders = {c.username: c for c in services.project_progress(project).coders}

    # coder: 600, 1200, 1800 s -> 20 min; other_coder: 300, 900 s -> 10 min.
    assert coders["coder"].median_active_minutes == 20.0
    assert coders["other_coder"].median_active_minutes == 10.0


def test_a_coder_with_nothing_submitted_has_no_median(project, known_project):
    newcomer = make_coder(project, "newcomer")

    coders = {c.username: c for c in services.project_progress(project).coders}

    assert coders[newcomer.username].median_active_minutes is None
    assert coders[newcomer.username].assigned == 0


def test_throughput_counts_submissions_per_day_for_thirty_days(project, known_project):
    today = dt.date(2025, 3, 31)
    noon = dt.datetime(2025, 3, 31, 12, tzinfo=dt.UTC)
    submitted = Assignment.objects.filter(state=AssignmentState.SUBMITTED).order_by("pk")
    when = [
        noon,
        noon,
        noon - dt.timedelta(days=2),
        noon - dt.timedelta(days=29),
        noon - dt.timedelta(days=30),
    ]
    for assignment, at in zip(submitted, when, strict=True):
        Assignment.objects.filter(pk=assignment.pk).update(submitted_at=at)

    throughput = services.project_progress(project, today=today).throughput

    assert len(throughput) == 30
    assert (throughput[0].day, throughput[-1].day) == (dt.date(2025, 3, 2), today)
    assert {d.day: d.submitted for d in throughput if d.submitted} == {
        dt.date(2025, 3, 31): 2,
        dt.date(2025, 3, 29): 1,
        dt.date(2025, 3, 2): 1,
    }


@pytest.mark.parametrize(
    ("state", "titles"),
    [
        (DocumentState.NEEDS_CODERS, {"empty", "half", "dropped"}),
        (DocumentState.IN_PROGRESS, {"busy"}),
        (DocumentState.FULLY_CODED, {"done"}),
        (DocumentState.ADJUDICATED, {"judged"}),
        ("", {"empty", "half", "busy", "done", "judged", "dropped"}),
    ],
)
def test_documents_can_be_selected_by_state(project, known_project, state, titles):
    documents = services.documents_matching(project, state=state)

    assert {d.title for d in documents} == titles


def test_documents_can_be_selected_by_title_and_id_range(project, known_project):
    ids = sorted(d.pk for d in known_project.values())

    documents = services.documents_matching(project, title="ONE", id_from=ids[1], id_to=ids[4])

    assert {d.title for d in documents} == {"done"}
