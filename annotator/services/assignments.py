"""The work queue: handing out documents to coders, never more than k per document.

The race for the last slot of a document is settled by a row lock on the document
(PostgreSQL) or by SQLite's single writer (IMMEDIATE transactions), then a recount.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from annotator.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    Assignment,
    AssignmentState,
    Document,
    Project,
    Role,
)
from annotator.services import audit

NOT_A_CODER = "{username} is not a coder in this project"
ALREADY_ASSIGNED = "{username} already has document {document} assigned"
DOCUMENT_FULL = "document {document} already has its {k} coders"
NOT_OPEN = "this assignment is {state}; only an assigned or in-progress one can be {verb}"
NOT_SUBMITTED = "only a submitted assignment can be reopened (this one is {state})"
ADJUDICATION_STARTED = "adjudication of this document has started; it can no longer be reopened"
NOTHING_LEFT = "no document needs a coder right now"


def shuffle_key(seed: int, position: int) -> int:
    """A stable pseudo-random order: the same seed always gives the same order."""
    digest = hashlib.sha256(f"{seed}:{position}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _ordered(documents, project: Project):
    if project.document_order == "random":
        return documents.order_by("shuffle_key", "id")
    return documents.order_by("position", "id")


def _record(assignment: Assignment, user, action: str, before: str | None) -> None:
    audit.record(
        user=user,
        document=assignment.document,
        action=action,
        obj=assignment,
        before={"state": before, "coder_id": assignment.coder_id} if before else None,
        after={"state": assignment.state, "coder_id": assignment.coder_id},
    )


def _lock_document_with_room(document_id: int, project: Project) -> bool:
    """Lock the document row, then count its live assignments under the lock."""
    locked = Document.objects.select_for_update().filter(pk=document_id).values_list("pk", flat=True)
    if not list(locked):
        return False
    live = Assignment.objects.filter(document_id=document_id, state__in=ACTIVE_STATES).count()
    return live < project.overlap_k


@transaction.atomic
def assignment_next(*, project: Project, coder) -> Assignment | None:
    """The coder's open assignment if they have one, else the next document that still needs
    coders and that they have not coded, in the project's order. None when nothing is left."""
    current = (
        Assignment.objects.filter(project=project, coder=coder, state__in=OPEN_STATES)
        .select_related("document")
        .order_by("id")
        .first()
    )
    if current is not None:
        return current
    touched = Assignment.objects.filter(project=project, coder=coder).values("document_id")
    candidates = _ordered(
        Document.objects.filter(project=project)
        .exclude(pk__in=touched)
        .annotate(live=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES)))
        .filter(live__lt=project.overlap_k),
        project,
    ).values_list("pk", flat=True)
    # Try a few candidates: under concurrency the first ones may fill up meanwhile.
    for document_id in candidates[:50]:
        with transaction.atomic():
            if not _lock_document_with_room(document_id, project):
                continue
            try:
                with transaction.atomic():
                    assignment = Assignment.objects.create(
                        project=project,
                        document_id=document_id,
                        coder=coder,
                        state=AssignmentState.ASSIGNED,
                    )
            except IntegrityError:
                continue
            _record(assignment, coder, "assignment.create", None)
            return assignment
    return None


@transaction.atomic
def assignment_create(*, project: Project, document: Document, coder, assigned_by) -> Assignment:
    """A manager assigns a document to a coder (manual mode, or on top of the queue)."""
    if not project.memberships.filter(user=coder, role=Role.CODER).exists():
        raise ValidationError({"coder": [NOT_A_CODER.format(username=coder.get_username())]})
    if Assignment.objects.filter(document=document, coder=coder).exclude(state=AssignmentState.RELEASED).exists():
        raise ValidationError(
            {"coder": [ALREADY_ASSIGNED.format(username=coder.get_username(), document=document.pk)]}
        )
    if not _lock_document_with_room(document.pk, project):
        raise ValidationError(
            {"document": [DOCUMENT_FULL.format(document=document.pk, k=project.overlap_k)]}
        )
    assignment = Assignment.objects.create(
        project=project, document=document, coder=coder, assigned_by=assigned_by
    )
    _record(assignment, assigned_by, "assignment.create", None)
    return assignment


def _transition(assignment: Assignment, user, *, to: str, allowed_from, verb: str, **fields) -> Assignment:
    before = assignment.state
    written = Assignment.objects.filter(pk=assignment.pk, state__in=allowed_from).update(state=to, **fields)
    if written != 1:
        assignment.refresh_from_db(fields=["state"])
        raise ValidationError({"state": [NOT_OPEN.format(state=assignment.state, verb=verb)]})
    assignment.refresh_from_db()
    _record(assignment, user, f"assignment.{verb}", before)
    return assignment


@transaction.atomic
def assignment_touch(*, assignment: Assignment, active_seconds: int = 0) -> Assignment:
    """The coder is working on it: start it, and add measured active time (bounded per beat
    so a misbehaving page cannot inflate it)."""
    now = timezone.now()
    seconds = max(0, min(int(active_seconds), 120))
    updates = {"last_activity_at": now}
    if assignment.state == AssignmentState.ASSIGNED:
        Assignment.objects.filter(pk=assignment.pk, state=AssignmentState.ASSIGNED).update(
            state=AssignmentState.IN_PROGRESS, started_at=now
        )
        assignment.refresh_from_db()
        _record(assignment, assignment.coder, "assignment.start", AssignmentState.ASSIGNED)
    Assignment.objects.filter(pk=assignment.pk).update(active_seconds=F("active_seconds") + seconds, **updates)
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def assignment_submit(*, assignment: Assignment, coder) -> Assignment:
    return _transition(
        assignment, coder, to=AssignmentState.SUBMITTED, allowed_from=OPEN_STATES, verb="submit",
        submitted_at=timezone.now(),
    )


@transaction.atomic
def assignment_reopen(*, assignment: Assignment, coder) -> Assignment:
    if assignment.state != AssignmentState.SUBMITTED:
        raise ValidationError({"state": [NOT_SUBMITTED.format(state=assignment.state)]})
    if Document.objects.filter(pk=assignment.document_id, adjudication_started_at__isnull=False).exists():
        raise ValidationError({"state": [ADJUDICATION_STARTED]})
    return _transition(
        assignment, coder, to=AssignmentState.IN_PROGRESS, allowed_from=[AssignmentState.SUBMITTED],
        verb="reopen", submitted_at=None,
    )


@transaction.atomic
def assignment_release(*, assignment: Assignment, user) -> Assignment:
    """Return the slot to the pool. The coder's spans stay (managers still see them)."""
    return _transition(
        assignment, user, to=AssignmentState.RELEASED, allowed_from=OPEN_STATES, verb="release",
        released_at=timezone.now(),
    )


@transaction.atomic
def assignments_release_abandoned(*, project: Project, now=None) -> int:
    """Release open assignments idle for longer than the project allows. Returns the count."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=project.abandon_after_hours)
    stale = Assignment.objects.filter(project=project, state__in=OPEN_STATES).filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created__lt=cutoff)
    ).select_related("document", "coder")
    count = 0
    for assignment in stale:
        before = assignment.state
        assignment.state = AssignmentState.RELEASED
        assignment.released_at = now
        assignment.save(update_fields=["state", "released_at"])
        audit.record(
            user=assignment.coder, document=assignment.document, action="assignment.abandon",
            obj=assignment, before={"state": before}, after={"state": assignment.state},
        )
        count += 1
    return count
