"""The work queue: next document, taking on first write, submit, reopen, release, abandonment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from annotator import access
from annotator.models import Assignment, AssignmentState, AuditEvent, RelationType, Role
from annotator.services import (
    AssignmentStateError,
    assignment_create,
    assignment_next,
    assignment_release,
    assignment_reopen,
    assignment_submit,
    assignment_take,
    assignment_warnings,
    assignments_release_abandoned,
    relation_create,
    span_create,
)
from annotator.services.assignments import (
    ADJUDICATION_STARTED,
    ALREADY_ASSIGNED,
    DOCUMENT_FULL,
    DOCUMENT_TAKEN,
    NOT_A_CODER,
    NOT_ASSIGNED_TO_YOU,
    NOT_OPEN,
    NOT_SUBMITTED,
    NOT_YOURS,
    SUBMIT_BLOCKED,
    SUBMITTED_READ_ONLY,
    shuffle_key,
)
from annotator.services.projects import documents_reshuffle
from tests.factories import add_member, assign, make_document, make_project, make_user, quote_span


def make_coder(project, name: str | None = None):
    user = make_user(name)
    add_member(project, user, Role.CODER)
    return user


def make_documents(project, count: int) -> list:
    return [make_document(project, title=f"Article {n}") for n in range(1, count + 1)]


def fill(document, count: int) -> None:
    """`count` other coders take the document."""
    for _ in range(count):
        assign(document, make_coder(document.project))


def states(assignment) -> str:
    assignment.refresh_from_db()
    return assignment.state


def messages_of(error) -> list[str]:
    return error.value.messages


# --- assignment_next: the order ---------------------------------------------------------------


def test_next_follows_the_import_order(project, coder):
    first, second, _ = make_documents(project, 3)

    taken = assignment_next(project=project, coder=coder)
    assignment_submit(assignment=taken, coder=coder)

    assert taken.document == first
    assert assignment_next(project=project, coder=coder).document == second


def _random_project(manager, seed: int):
    project = make_project(manager)
    project.document_order = "random"
    project.random_seed = seed
    project.save()
    return project


def _order_taken(project, coder, count: int) -> list[int]:
    """Positions of the documents `coder` is handed, one after the other."""
    positions = []
    for _ in range(count):
        assignment = assignment_next(project=project, coder=coder)
        positions.append(assignment.document.position)
        assignment_submit(assignment=assignment, coder=coder)
    return positions


def test_next_follows_the_seeded_random_order(manager):
    project = _random_project(manager, seed=42)
    make_documents(project, 8)
    coder = make_coder(project)

    positions = _order_taken(project, coder, 8)

    assert positions == sorted(range(1, 9), key=lambda position: shuffle_key(42, position))
    assert positions != sorted(positions)


def test_the_same_seed_gives_the_same_order_in_another_project(manager):
    orders = []
    for _ in range(2):
        project = _random_project(manager, seed=7)
        make_documents(project, 6)
        orders.append(_order_taken(project, make_coder(project), 6))

    assert orders[0] == orders[1]


def test_a_new_seed_gives_a_new_order_once_reshuffled(manager):
    project = _random_project(manager, seed=7)
    make_documents(project, 8)
    project.random_seed = 8
    project.save()
    documents_reshuffle(project=project)

    positions = _order_taken(project, make_coder(project), 8)

    assert positions == sorted(range(1, 9), key=lambda position: shuffle_key(8, position))


# --- assignment_next: what it hands out -------------------------------------------------------


def test_next_returns_the_open_assignment_before_a_new_one(project, coder):
    make_documents(project, 3)
    first = assignment_next(project=project, coder=coder)

    again = assignment_next(project=project, coder=coder)

    assert again == first
    assert Assignment.objects.filter(coder=coder).count() == 1


def test_next_returns_the_one_in_progress_before_an_assigned_one(project, coder):
    first, second = make_documents(project, 2)
    assign(first, coder)
    started = assign(second, coder, state="in_progress")

    assert assignment_next(project=project, coder=coder) == started


def test_next_never_gives_a_document_the_coder_already_submitted(project, coder):
    first, second = make_documents(project, 2)
    assign(first, coder, state="submitted")

    assert assignment_next(project=project, coder=coder).document == second


def test_next_does_not_hand_back_a_document_released_from_the_coder(project, coder, manager):
    first, second = make_documents(project, 2)
    assignment_release(assignment=assign(first, coder), user=manager)

    assert assignment_next(project=project, coder=coder).document == second


def test_next_skips_documents_that_have_their_k_coders(project, coder):
    full, free = make_documents(project, 2)
    fill(full, project.overlap_k)

    assert assignment_next(project=project, coder=coder).document == free


def test_next_gives_none_when_nothing_is_left(project, coder):
    (document,) = make_documents(project, 1)
    fill(document, project.overlap_k)

    assert assignment_next(project=project, coder=coder) is None


def test_next_records_who_took_what(project, coder):
    make_documents(project, 1)

    assignment = assignment_next(project=project, coder=coder)

    event = AuditEvent.objects.get(object_type="assignment", object_id=assignment.pk)
    assert (event.action, event.user, event.after["state"]) == (
        "assignment.create",
        coder,
        "assigned",
    )


def test_next_in_manual_mode_gives_only_what_a_manager_assigned(project, coder):
    first, second = make_documents(project, 2)
    project.assignment_mode = "manual"
    project.save()

    assert assignment_next(project=project, coder=coder) is None
    assigned = assign(second, coder)
    assert assignment_next(project=project, coder=coder) == assigned


def test_next_refuses_someone_who_does_not_code_in_the_project(project, manager):
    make_documents(project, 1)

    with pytest.raises(ValidationError) as error:
        assignment_next(project=project, coder=manager)

    assert messages_of(error) == [NOT_A_CODER.format(username="manager")]


# --- taking a document by writing to it -------------------------------------------------------


def test_a_coders_first_write_takes_the_document_and_starts_it(document, coder):
    assignment = assignment_take(document=document, coder=coder)

    assert (assignment.coder, assignment.state) == (coder, AssignmentState.IN_PROGRESS)
    actions = AuditEvent.objects.filter(object_type="assignment").order_by("id")
    assert [event.action for event in actions] == ["assignment.create", "assignment.start"]


def test_a_write_to_a_document_that_filled_up_meanwhile_is_refused(document, coder):
    fill(document, document.project.overlap_k)

    with pytest.raises(AssignmentStateError) as error:
        assignment_take(document=document, coder=coder)

    assert messages_of(error) == [DOCUMENT_TAKEN.format(k=2)]
    assert not Assignment.objects.filter(coder=coder).exists()


def test_a_write_without_assignment_is_refused_in_manual_mode(document, coder, project):
    project.assignment_mode = "manual"
    project.save()

    with pytest.raises(AssignmentStateError) as error:
        assignment_take(document=document, coder=coder)

    assert messages_of(error) == [NOT_ASSIGNED_TO_YOU]


def test_a_write_starts_an_assigned_document(document, coder):
    assignment = assign(document, coder)

    assert (
        assignment_take(document=document, coder=coder, current=assignment).state == "in_progress"
    )


def test_a_write_to_a_submitted_document_is_refused(document, coder):
    assignment = assign(document, coder, state="submitted")

    with pytest.raises(AssignmentStateError) as error:
        assignment_take(document=document, coder=coder, current=assignment)

    assert messages_of(error) == [SUBMITTED_READ_ONLY]


def test_a_write_refreshes_the_last_activity(document, coder):
    assignment = assign(document, coder, state="in_progress")
    Assignment.objects.filter(pk=assignment.pk).update(last_activity_at=None)

    assignment_take(document=document, coder=coder, current=assignment)

    assignment.refresh_from_db()
    assert assignment.last_activity_at is not None


# --- a manager assigning ----------------------------------------------------------------------


def test_a_manager_cannot_assign_a_full_document(document, coder, manager):
    fill(document, 2)

    with pytest.raises(ValidationError) as error:
        assignment_create(
            project=document.project, document=document, coder=coder, assigned_by=manager
        )

    assert error.value.message_dict == {
        "document": [DOCUMENT_FULL.format(document=document.pk, k=2)]
    }


def test_a_manager_cannot_assign_the_same_document_twice_to_a_coder(document, coder, manager):
    assign(document, coder)

    with pytest.raises(ValidationError) as error:
        assignment_create(
            project=document.project, document=document, coder=coder, assigned_by=manager
        )

    assert error.value.message_dict == {
        "coder": [ALREADY_ASSIGNED.format(username="coder", document=document.pk)]
    }


def test_a_manager_cannot_assign_a_document_of_another_project(project, coder, manager):
    elsewhere = make_document(make_project(manager))

    with pytest.raises(ValidationError):
        assignment_create(project=project, document=elsewhere, coder=coder, assigned_by=manager)


# --- submit, reopen, release --------------------------------------------------------------------


def test_coder_submits_an_open_assignment(document, coder):
    assignment = assign(document, coder, state="in_progress")

    assignment = assignment_submit(assignment=assignment, coder=coder)

    assert assignment.state == AssignmentState.SUBMITTED
    assert assignment.submitted_at is not None


def test_submitting_twice_is_refused(document, coder):
    assignment = assign(document, coder, state="submitted")

    with pytest.raises(AssignmentStateError) as error:
        assignment_submit(assignment=assignment, coder=coder)

    assert messages_of(error) == [NOT_OPEN.format(state="submitted", verb="submitted")]


def test_only_the_coder_may_submit_their_assignment(document, coder, other_coder):
    assignment = assign(document, coder)

    with pytest.raises(ValidationError) as error:
        assignment_submit(assignment=assignment, coder=other_coder)

    assert messages_of(error) == [NOT_YOURS.format(verb="submit")]
    assert states(assignment) == AssignmentState.ASSIGNED


def test_coder_reopens_a_submitted_assignment(document, coder):
    assignment = assign(document, coder, state="submitted")
    Assignment.objects.filter(pk=assignment.pk).update(
        last_activity_at=timezone.now() - timedelta(days=30)
    )

    assignment = assignment_reopen(assignment=assignment, coder=coder)

    assert assignment.state == AssignmentState.IN_PROGRESS
    assert assignment.submitted_at is None
    # A fresh start: the old activity would have it released at once as abandoned.
    assert assignment.last_activity_at > timezone.now() - timedelta(minutes=1)


def test_reopening_an_open_assignment_is_refused(document, coder):
    assignment = assign(document, coder, state="in_progress")

    with pytest.raises(AssignmentStateError) as error:
        assignment_reopen(assignment=assignment, coder=coder)

    assert messages_of(error) == [NOT_SUBMITTED.format(state="in progress")]


def test_reopening_is_refused_once_adjudication_started(document, coder):
    assignment = assign(document, coder, state="submitted")
    type(document).objects.filter(pk=document.pk).update(adjudication_started_at=timezone.now())

    with pytest.raises(AssignmentStateError) as error:
        assignment_reopen(assignment=assignment, coder=coder)

    assert messages_of(error) == [ADJUDICATION_STARTED]
    assert states(assignment) == AssignmentState.SUBMITTED


def test_release_gives_the_slot_to_another_coder(document, coder, other_coder, manager):
    assign(document, other_coder)
    released = assignment_release(assignment=assign(document, coder), user=manager)
    newcomer = make_coder(document.project)

    assert released.state == AssignmentState.RELEASED
    assert assignment_next(project=document.project, coder=newcomer).document == document


def test_a_submitted_assignment_cannot_be_released(document, coder, manager):
    assignment = assign(document, coder, state="submitted")

    with pytest.raises(AssignmentStateError) as error:
        assignment_release(assignment=assignment, user=manager)

    assert messages_of(error) == [NOT_OPEN.format(state="submitted", verb="released")]


def test_every_state_change_is_audited_with_who_and_before_and_after(document, coder, manager):
    assignment = assign(document, coder, state="submitted")
    assignment_reopen(assignment=assignment, coder=coder)
    assignment_release(assignment=assignment, user=manager)

    events = AuditEvent.objects.filter(object_type="assignment", object_id=assignment.pk).order_by(
        "id"
    )

    assert [
        (e.action, e.user.username, (e.before or {}).get("state"), e.after["state"]) for e in events
    ] == [
        ("assignment.create", "manager", None, "assigned"),
        ("assignment.start", "coder", "assigned", "in_progress"),
        ("assignment.submit", "coder", "in_progress", "submitted"),
        ("assignment.reopen", "coder", "submitted", "in_progress"),
        ("assignment.release", "manager", "in_progress", "released"),
    ]


# --- abandoned assignments ---------------------------------------------------------------------


def _idle(assignment, hours: float) -> None:
    then = timezone.now() - timedelta(hours=hours)
    Assignment.objects.filter(pk=assignment.pk).update(last_activity_at=then, created=then)


def test_an_idle_open_assignment_is_released(document, coder, project):
    assignment = assign(document, coder, state="in_progress")
    _idle(assignment, project.abandon_after_hours + 1)

    assert assignments_release_abandoned(project=project) == 1
    assert states(assignment) == AssignmentState.RELEASED


def test_an_assignment_never_touched_is_released_by_its_age(document, coder, project):
    assignment = assign(document, coder)
    Assignment.objects.filter(pk=assignment.pk).update(
        created=timezone.now() - timedelta(hours=project.abandon_after_hours + 1)
    )

    assert assignments_release_abandoned(project=project) == 1


def test_a_recently_active_assignment_is_kept(document, coder, project):
    assignment = assign(document, coder, state="in_progress")
    _idle(assignment, project.abandon_after_hours - 1)

    assert assignments_release_abandoned(project=project) == 0
    assert states(assignment) == AssignmentState.IN_PROGRESS


def test_a_submitted_assignment_is_never_abandoned(document, coder, project):
    assignment = assign(document, coder, state="submitted")
    _idle(assignment, project.abandon_after_hours * 10)

    assert assignments_release_abandoned(project=project) == 0


def test_abandoning_is_audited_under_the_coder(document, coder, project):
    assignment = assign(document, coder, state="in_progress")
    _idle(assignment, project.abandon_after_hours + 1)

    assignments_release_abandoned(project=project)

    event = AuditEvent.objects.filter(object_id=assignment.pk, object_type="assignment").latest(
        "id"
    )
    assert (event.action, event.user, event.before["state"], event.after["state"]) == (
        "assignment.abandon",
        coder,
        "in_progress",
        "released",
    )


def test_the_work_of_an_abandoned_assignment_stays_visible_to_managers(
    document, coder, manager, project
):
    assignment = assign(document, coder, state="in_progress")
    span, _ = span_create(
        document=document, coder=coder, label="ACTOR", **quote_span(document, "Russian")
    )
    _idle(assignment, project.abandon_after_hours + 1)

    assignments_release_abandoned(project=project)

    assert list(access.visible_annotations(manager, document)) == [span]


def test_next_releases_abandoned_assignments_so_their_documents_return_to_the_pool(
    document, coder, other_coder, project
):
    idle = assign(document, coder, state="in_progress")
    assign(document, other_coder)
    _idle(idle, project.abandon_after_hours + 1)
    newcomer = make_coder(project)

    assert assignment_next(project=project, coder=newcomer).document == document
    assert states(idle) == AssignmentState.RELEASED


def test_the_release_abandoned_command_sweeps_every_project(document, coder, manager, capsys):
    elsewhere = make_project(manager)
    stranger = make_coder(elsewhere)
    idle_here = assign(document, coder)
    idle_there = assign(make_document(elsewhere), stranger)
    for assignment in (idle_here, idle_there):
        _idle(assignment, 1000)

    call_command("release_abandoned")

    assert {states(idle_here), states(idle_there)} == {AssignmentState.RELEASED}
    assert "Released 2 abandoned assignments." in capsys.readouterr().out


# --- the pre-submit warnings --------------------------------------------------------------------


def tag(document, coder, label: str, phrase: str):
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase)
    )
    return span


def test_a_casualty_without_claimed_by_is_a_warning(document, coder):
    assignment = assign(document, coder, state="in_progress")
    claim = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    [warning] = assignment_warnings(assignment=assignment)

    assert warning.code == "claim_without_source"
    assert warning.span_ids == (str(claim.pk),)
    assert "2,359 ISIS terrorists" in warning.message


def test_a_claim_with_its_source_has_no_warnings(document, coder):
    assignment = assign(document, coder, state="in_progress")
    claim = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    source = tag(document, coder, "SOURCE", "Russian ministry of defense")
    relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )

    assert assignment_warnings(assignment=assignment) == []


def test_warnings_see_only_the_coders_own_work(document, coder, other_coder):
    assignment = assign(document, coder, state="in_progress")
    tag(document, other_coder, "CASUALTY", "2,359 ISIS terrorists")

    assert assignment_warnings(assignment=assignment) == []


def test_warnings_follow_the_codebooks_cardinalities(document, coder, project):
    assignment = assign(document, coder, state="in_progress")
    claim = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    source = tag(document, coder, "SOURCE", "Russian ministry of defense")
    relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )
    for phrase in ("Russian", "Syria"):
        actor = tag(document, coder, "ACTOR", phrase)
        relation_create(
            document=document,
            coder=coder,
            type="perpetrator",
            source_id=claim.pk,
            target_id=actor.pk,
        )
    # The manager narrows the codebook afterwards: at most one perpetrator per claim.
    RelationType.objects.filter(project=project, name="perpetrator").update(max_per_source=1)
    project.codebook_version += 1
    project.save()

    assert [w.code for w in assignment_warnings(assignment=assignment)] == ["too_many_relations"]


def test_no_claimed_by_warning_when_the_codebook_does_not_require_one(document, coder, project):
    RelationType.objects.filter(project=project, name="claimed_by").update(min_per_source=0)
    project.codebook_version += 1
    project.save()
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    assert assignment_warnings(assignment=assignment) == []


def test_a_finding_the_project_made_blocking_refuses_the_submission(document, coder, project):
    project.blocking_checks = ["claim_without_source"]
    project.save()
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    [finding] = assignment_warnings(assignment=assignment)

    with pytest.raises(AssignmentStateError) as error:
        assignment_submit(assignment=assignment, coder=coder)

    assert messages_of(error) == [SUBMIT_BLOCKED.format(findings=finding.message)]
    assert states(assignment) == AssignmentState.IN_PROGRESS


def test_a_finding_that_is_not_blocking_does_not_stop_the_submission(document, coder, project):
    project.blocking_checks = ["count_not_a_number"]
    project.save()
    assignment = assign(document, coder, state="in_progress")
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")

    assert assignment_submit(assignment=assignment, coder=coder).state == AssignmentState.SUBMITTED
