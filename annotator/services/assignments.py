"""The work queue: handing out documents to coders, never more than k per document.

Every change of a document's live or submitted assignments happens under the document's row
lock (PostgreSQL; SQLite has a single writer, IMMEDIATE transactions) and ends with
`documents_recount`, which writes the document's counts (Document.live_coders,
submitted_coders, needs_coders) from its assignments in the same transaction. The lock is
taken before the change, so the count under it is the truth, and the race for the last slot
of a document is settled by reading live_coders from the locked row. The queue and the
dashboard read the counts instead of counting assignments.

Locks are taken in one order (a coder's membership, then documents, then assignments), and
"Next document" never waits for a document while it holds another, so coders pressing it at
once cannot deadlock each other.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from annotator import checks
from annotator.claims.checks import Finding
from annotator.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    Assignment,
    AssignmentState,
    AuditEvent,
    Document,
    Membership,
    Project,
    Role,
)
from annotator.models.projects import AssignmentMode, DocumentOrder
from annotator.services import audit

NOT_A_CODER = "{username} is not a coder in this project"
NOT_IN_PROJECT = "document {document} is not in this project"
ALREADY_ASSIGNED = "{username} already has document {document} assigned"
DOCUMENT_FULL = "document {document} already has its {k} coders"
NOT_OPEN = "this assignment is {state}; only an assigned or in-progress one can be {verb}"
NOT_SUBMITTED = "only a submitted assignment can be reopened (this one is {state})"
NOT_YOURS = "only the coder it is assigned to may {verb} this assignment"
ADJUDICATION_STARTED = "adjudication of this document has started; it can no longer be reopened"
SUBMITTED_READ_ONLY = "you submitted this document; reopen it to change it"
NOT_ASSIGNED_TO_YOU = (
    "this document is not assigned to you; a manager assigns documents in this project"
)
DOCUMENT_TAKEN = (
    "this document has meanwhile been taken by its {k} coders and needs no more; "
    "nothing was saved — take the next document instead"
)
SUBMIT_BLOCKED = "fix this before submitting: {findings}"
NOTHING_LEFT = "nothing left to code in {project}: every document has its coders or was yours"
NOTHING_ASSIGNED = "nothing is assigned to you in {project} right now"

# How many abandoned assignments one sweep releases; the rest wait for the next sweep.
RELEASE_BATCH = 500
# Candidates fetched per round by assignment_next; a round whose candidates all filled up
# meanwhile (lost races) is followed by a fresh one.
CANDIDATE_BATCH = 20
MAX_ROUNDS = 10
# Documents per UPDATE of documents_recount (SQLite's bound parameters are limited).
RECOUNT_BATCH = 500


class AssignmentStateError(ValidationError):
    """Refused because of an assignment's state (submitted, released, the document full): the
    request was well formed, the state of things does not allow it. The API answers 409."""


def shuffle_key(seed: int, position: int) -> int:
    """A stable pseudo-random order: the same seed always gives the same order."""
    digest = hashlib.sha256(f"{seed}:{position}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _order_fields(project: Project, prefix: str = "") -> list[str]:
    first = "shuffle_key" if project.document_order == DocumentOrder.RANDOM else "position"
    return [f"{prefix}{first}", f"{prefix}id"]


def _count(assignments) -> Subquery:
    """COUNT of an OuterRef-filtered assignment query, as a subquery (0, never NULL)."""
    return Subquery(
        assignments.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"),
        output_field=IntegerField(),
    )


def documents_recount(*, document_ids) -> int:
    """Write the documents' coder counts from their assignments: one UPDATE per 500.

    Call it in the transaction that changed their assignments, after taking the documents'
    row locks (_lock_documents): the counts are then exact. Returns how many were updated."""
    live = Assignment.objects.filter(document=OuterRef("pk"), state__in=ACTIVE_STATES)
    k = Subquery(Project.objects.filter(pk=OuterRef("project_id")).values("overlap_k")[:1])
    ids = sorted(set(document_ids))
    return sum(
        Document.objects.filter(pk__in=ids[first : first + RECOUNT_BATCH]).update(
            live_coders=_count(live),
            submitted_coders=_count(live.filter(state=AssignmentState.SUBMITTED)),
            needs_coders=LessThan(_count(live), k),
        )
        for first in range(0, len(ids), RECOUNT_BATCH)
    )


def _record(assignment: Assignment, user, action: str, before: str | None) -> None:
    audit.record(
        user=user,
        document=assignment.document,
        action=action,
        obj=assignment,
        before={"state": before, "coder_id": assignment.coder_id} if before else None,
        after={"state": assignment.state, "coder_id": assignment.coder_id},
    )


# Document row locks are FOR NO KEY UPDATE: they exclude each other (and adjudication's FOR
# UPDATE) but not the key-share lock that inserting a span or an audit row takes on its
# document, so coders keep writing spans while a document's assignments change.


def _lock_documents(document_ids) -> list[int]:
    """Lock the documents (in id order, waiting for them) before changing their assignments."""
    locked = Document.objects.filter(pk__in=set(document_ids)).select_for_update(no_key=True)
    return list(locked.order_by("pk").values_list("pk", flat=True))


def _lock_document_with_room(
    document_id: int, project: Project, *, skip_locked: bool = False
) -> bool | None:
    """Lock the document row and say whether it has room for one more coder, from its count
    under the lock. With skip_locked, None when another transaction holds it."""
    locked = Document.objects.filter(pk=document_id).select_for_update(
        no_key=True, skip_locked=skip_locked
    )
    live = locked.values_list("live_coders", flat=True).first()
    if live is None:
        return None if skip_locked else False
    return live < project.overlap_k


def _lock_coder(project: Project, coder) -> None:
    """Lock the coder's membership: one coder's concurrent requests for work queue up behind
    each other (a double click must not hand out two documents). Refuses non-coders."""
    membership = (
        Membership.objects.select_for_update()
        .filter(project=project, user_id=coder.pk, role=Role.CODER)
        .values_list("pk", flat=True)
    )
    if not list(membership):
        raise ValidationError({"coder": [NOT_A_CODER.format(username=coder.get_username())]})


def _open_assignment(project: Project, coder) -> Assignment | None:
    """The coder's open assignment to continue: one in progress first, then in coding order."""
    return (
        Assignment.objects.filter(project=project, coder=coder, state__in=OPEN_STATES)
        .select_related("document")
        .order_by(
            Case(When(state=AssignmentState.IN_PROGRESS, then=Value(0)), default=Value(1)),
            *_order_fields(project, "document__"),
        )
        .first()
    )


def assignment_next(*, project: Project, coder, now: datetime | None = None) -> Assignment | None:
    """The coder's open assignment if they have one, else the next document that still needs
    coders and that they never had (a released one is not handed back), in the project's
    order. In manual mode only the open assignment. None when nothing is left.

    Abandoned assignments of the project are released first (in a transaction of their own),
    so their slots are offered."""
    assignments_release_abandoned(project=project, now=now)
    return _next_locked(project=project, coder=coder)


_BUSY = object()  # _take_slot: another transaction holds the document


class _Full(Exception):
    """Rolls a full document's savepoint back, which releases its row lock."""


@transaction.atomic
def _next_locked(*, project: Project, coder) -> Assignment | None:
    _lock_coder(project, coder)
    current = _open_assignment(project, coder)
    if current is not None or project.assignment_mode == AssignmentMode.MANUAL:
        return current
    had = Assignment.objects.filter(document=OuterRef("pk"), coder=coder)
    candidates = (
        Document.objects.filter(project=project, needs_coders=True)
        .exclude(Exists(had))
        .order_by(*_order_fields(project))
        .values_list("pk", flat=True)
    )
    # Coders pressing at once do not queue behind each other: a document another one is
    # being given right now is skipped, and tried again (waiting for it) only when nothing
    # else is left. A document found full is unlocked at once (its savepoint rolled back), so
    # a transaction waits for a document only while it holds none: no deadlock.
    tried: set[int] = set()
    busy: list[int] = []
    for _ in range(MAX_ROUNDS):
        batch = list(candidates.exclude(pk__in=tried)[:CANDIDATE_BATCH])
        if not batch:
            break
        tried.update(batch)
        for document_id in batch:
            assignment = _take_slot(project, coder, document_id, skip_locked=True)
            if assignment is _BUSY:
                busy.append(document_id)
            elif assignment is not None:
                return assignment
    for document_id in busy:
        assignment = _take_slot(project, coder, document_id, skip_locked=False)
        if assignment is not None:
            return assignment
    return None


def _take_slot(project: Project, coder, document_id: int, *, skip_locked: bool):
    """The coder's new assignment on the document if it has room; None if it is full (its
    lock released again); _BUSY if skip_locked and another transaction holds it."""
    try:
        with transaction.atomic():
            room = _lock_document_with_room(document_id, project, skip_locked=skip_locked)
            if room is None:
                return _BUSY
            if not room:
                raise _Full
            assignment = Assignment.objects.create(
                project=project,
                document_id=document_id,
                coder=coder,
                state=AssignmentState.ASSIGNED,
            )
            documents_recount(document_ids=[document_id])
    except _Full:
        return None
    except IntegrityError:  # pragma: no cover - the coder lock rules this out
        return None
    _record(assignment, coder, "assignment.create", None)
    return assignment


@transaction.atomic
def assignment_create(*, project: Project, document: Document, coder, assigned_by) -> Assignment:
    """A manager assigns a document to a coder (manual mode, or on top of the queue)."""
    if document.project_id != project.pk:
        raise ValidationError({"document": [NOT_IN_PROJECT.format(document=document.pk)]})
    if not project.memberships.filter(user=coder, role=Role.CODER).exists():
        raise ValidationError({"coder": [NOT_A_CODER.format(username=coder.get_username())]})
    already = ValidationError(
        {"coder": [ALREADY_ASSIGNED.format(username=coder.get_username(), document=document.pk)]}
    )
    room = _lock_document_with_room(document.pk, project)
    if Assignment.objects.filter(document=document, coder=coder, state__in=ACTIVE_STATES).exists():
        raise already
    if not room:
        raise ValidationError(
            {"document": [DOCUMENT_FULL.format(document=document.pk, k=project.overlap_k)]}
        )
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                project=project, document=document, coder=coder, assigned_by=assigned_by
            )
    except IntegrityError:
        raise already from None
    documents_recount(document_ids=[document.pk])
    _record(assignment, assigned_by, "assignment.create", None)
    return assignment


def assignment_take(*, document: Document, coder, current: Assignment | None = None) -> Assignment:
    """Before a coder's write to a document: make sure they hold an open assignment on it.

    In automatic mode a coder without one takes the slot (locked and recounted as in
    assignment_next; refused if the document filled up meanwhile). An assigned one becomes in
    progress. A submitted one is read-only until reopened. `current` is the live assignment
    the caller already read (access.coding_assignment); the common case, an assignment
    already in progress, then costs one UPDATE (which needs no transaction of its own; call
    this inside the write's transaction, so that a refused write takes nothing).
    """
    if current is not None and current.state == AssignmentState.IN_PROGRESS:
        now = timezone.now()
        fresh = Assignment.objects.filter(pk=current.pk, state=AssignmentState.IN_PROGRESS)
        if fresh.update(last_activity_at=now) == 1:
            current.last_activity_at = now
            return current
    return _take_locked(document=document, coder=coder)


@transaction.atomic
def _take_locked(*, document: Document, coder) -> Assignment:
    project = document.project
    room = _lock_document_with_room(document.pk, project)
    assignment = (
        Assignment.objects.select_for_update()
        .filter(document=document, coder=coder, state__in=ACTIVE_STATES)
        .first()
    )
    if assignment is None:
        if project.assignment_mode != AssignmentMode.AUTOMATIC:
            raise AssignmentStateError(NOT_ASSIGNED_TO_YOU)
        if not room:
            raise AssignmentStateError(DOCUMENT_TAKEN.format(k=project.overlap_k))
        assignment = Assignment.objects.create(
            project=project, document=document, coder=coder, state=AssignmentState.ASSIGNED
        )
        documents_recount(document_ids=[document.pk])
        _record(assignment, coder, "assignment.create", None)
    if assignment.state == AssignmentState.SUBMITTED:
        raise AssignmentStateError(SUBMITTED_READ_ONLY)
    return assignment_touch(assignment=assignment)


@transaction.atomic
def assignment_touch(*, assignment: Assignment, active_seconds: int = 0) -> Assignment:
    """The coder is working on it: start it, and add measured active time (bounded per beat
    so a misbehaving page cannot inflate it). Only an open assignment can be touched."""
    now = timezone.now()
    seconds = max(0, min(int(active_seconds), 120))
    started = Assignment.objects.filter(pk=assignment.pk, state=AssignmentState.ASSIGNED).update(
        state=AssignmentState.IN_PROGRESS, started_at=now
    )
    touched = Assignment.objects.filter(pk=assignment.pk, state__in=OPEN_STATES).update(
        last_activity_at=now, active_seconds=F("active_seconds") + seconds
    )
    assignment.refresh_from_db()
    if not touched:
        raise AssignmentStateError(
            {
                "state": [
                    NOT_OPEN.format(state=assignment.get_state_display().lower(), verb="worked on")
                ]
            }
        )
    if started:
        _record(assignment, assignment.coder, "assignment.start", AssignmentState.ASSIGNED)
    return assignment


def _transition(
    assignment: Assignment, user, *, to: str, allowed_from, verb: str, past: str, **fields
) -> Assignment:
    before = assignment.state
    _lock_documents([assignment.document_id])
    written = Assignment.objects.filter(pk=assignment.pk, state__in=allowed_from).update(
        state=to, **fields
    )
    if written != 1:
        assignment.refresh_from_db(fields=["state"])
        state = assignment.get_state_display().lower()
        raise AssignmentStateError({"state": [NOT_OPEN.format(state=state, verb=past)]})
    documents_recount(document_ids=[assignment.document_id])
    assignment.refresh_from_db()
    _record(assignment, user, f"assignment.{verb}", before)
    return assignment


def _check_own(assignment: Assignment, coder, verb: str) -> None:
    if assignment.coder_id != coder.pk:
        raise ValidationError({"coder": [NOT_YOURS.format(verb=verb)]})


@transaction.atomic
def assignment_submit(*, assignment: Assignment, coder) -> Assignment:
    """The coder is done with the document. Show them assignment_warnings() first: a finding
    the project made blocking (Project.blocking_checks) refuses the submission."""
    _check_own(assignment, coder, "submit")
    # Only a project with blocking checks needs the findings here (the view has shown them);
    # reading every span and link again would double the cost of each submit.
    if assignment.project.blocking_checks and (
        blocking := checks.blocking_findings(
            assignment.project, assignment_warnings(assignment=assignment)
        )
    ):
        shown = " ".join(finding.message for finding in blocking)
        raise AssignmentStateError(SUBMIT_BLOCKED.format(findings=shown))
    return _transition(
        assignment,
        coder,
        to=AssignmentState.SUBMITTED,
        allowed_from=OPEN_STATES,
        verb="submit",
        past="submitted",
        submitted_at=timezone.now(),
    )


@transaction.atomic
def assignment_reopen(*, assignment: Assignment, coder) -> Assignment:
    """Back to work on a submitted document, until its adjudication starts."""
    _check_own(assignment, coder, "reopen")
    # The document's row lock orders this against adjudication starting meanwhile.
    document = (
        Document.objects.select_for_update()
        .only("id", "adjudication_started_at")
        .get(pk=assignment.document_id)
    )
    if document.adjudication_started_at is not None:
        raise AssignmentStateError({"state": [ADJUDICATION_STARTED]})
    state = Assignment.objects.filter(pk=assignment.pk).values_list("state", flat=True).first()
    if state != AssignmentState.SUBMITTED:
        shown = AssignmentState(state).label.lower() if state else "gone"
        raise AssignmentStateError({"state": [NOT_SUBMITTED.format(state=shown)]})
    # Activity restarts now: an old last activity would have the reopened assignment
    # released as abandoned by the next sweep.
    return _transition(
        assignment,
        coder,
        to=AssignmentState.IN_PROGRESS,
        allowed_from=[AssignmentState.SUBMITTED],
        verb="reopen",
        past="reopened",
        submitted_at=None,
        last_activity_at=timezone.now(),
    )


@transaction.atomic
def assignment_release(*, assignment: Assignment, user) -> Assignment:
    """Return the slot to the pool. The coder's spans stay (managers still see them)."""
    return _transition(
        assignment,
        user,
        to=AssignmentState.RELEASED,
        allowed_from=OPEN_STATES,
        verb="release",
        past="released",
        released_at=timezone.now(),
    )


@transaction.atomic
def assignments_release_abandoned(*, project: Project, now: datetime | None = None) -> int:
    """Release the project's open assignments idle for longer than its abandon_after_hours.
    The coder's spans stay, visible to managers. Returns the count.

    Cheap when nothing is stale (one query on an index of the open assignments by their last
    activity), so assignment_next runs it every time. It never waits: a document or an
    assignment another transaction holds (a coder writing right now) is left for the next
    sweep."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=project.abandon_after_hours)
    stale = Assignment.objects.filter(project=project, state__in=OPEN_STATES).alias(
        idle_since=Coalesce("last_activity_at", "created")
    )
    stale = stale.filter(idle_since__lt=cutoff)
    # Unordered: an ORDER BY here leads the planner away from the index of idle ones.
    documents = set(stale.order_by().values_list("document_id", flat=True)[:RELEASE_BATCH])
    if not documents:
        return 0
    locked = list(
        Document.objects.filter(pk__in=documents)
        .select_for_update(no_key=True, skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not locked:
        return 0
    rows = list(
        stale.filter(document_id__in=locked)
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", "project_id", "document_id", "coder_id", "state")
    )
    if not rows:
        return 0
    Assignment.objects.filter(pk__in=[row[0] for row in rows]).update(
        state=AssignmentState.RELEASED, released_at=now
    )
    documents_recount(document_ids={row[2] for row in rows})
    AuditEvent.objects.bulk_create(
        AuditEvent(
            project_id=project_id,
            document_id=document_id,
            user_id=coder_id,
            action="assignment.abandon",
            object_type="assignment",
            object_id=pk,
            before={"state": state, "coder_id": coder_id},
            after={"state": AssignmentState.RELEASED.value, "coder_id": coder_id},
        )
        for pk, project_id, document_id, coder_id, state in rows
    )
    return len(rows)


def assignment_warnings(*, assignment: Assignment) -> list[Finding]:
    """What the pre-submit checks say about the coder's spans and links in the document
    (through annotator.checks, the one adapter from rows to annotator.claims.checks)."""
    return checks.coder_findings(assignment.document, assignment.coder_id)
