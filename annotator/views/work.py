"""The coder's work: the home page (queue, in progress, submitted, throughput), taking the next
document, submitting (after the pre-submit checks) and reopening.

Plain forms with post/redirect/get: all of it works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from annotator import access, checks, services
from annotator.models import OPEN_STATES, Assignment, AssignmentState, Project, Role
from annotator.models.projects import AssignmentMode, DocumentOrder
from annotator.services.assignments import NOTHING_ASSIGNED, NOTHING_LEFT

# The home page lists this many of a project's latest submissions, and this many weeks.
RECENT_SUBMITTED = 10
WEEKS_SHOWN = 6
SUBMITTED = "Submitted “{document}”."
REOPENED = "Reopened “{document}”: you can change it again."


@dataclass
class ProjectWork:
    """One coder's work in one project, as the home page shows it."""

    automatic: bool
    queue: list[Assignment] = field(default_factory=list)
    in_progress: list[Assignment] = field(default_factory=list)
    submitted: list[Assignment] = field(default_factory=list)
    submitted_total: int = 0
    weeks: list[tuple[dt.date, int]] = field(default_factory=list)
    median_minutes: float | None = None


def weekly_counts(moments, *, today: dt.date, weeks: int) -> list[tuple[dt.date, int]]:
    """How many of `moments` fell in each of the last `weeks` weeks (Monday first, oldest
    first, this week last), in the current time zone."""
    monday = today - dt.timedelta(days=today.weekday())
    days = (timezone.localdate(moment) for moment in moments)
    counts = Counter(day - dt.timedelta(days=day.weekday()) for day in days)
    starts = [monday - dt.timedelta(weeks=n) for n in reversed(range(weeks))]
    return [(start, counts.get(start, 0)) for start in starts]


def _coder_work(user, projects: list[Project]) -> dict[int, ProjectWork]:
    """The user's work in the projects where they code: three queries however many projects
    and assignments."""
    work = {
        project.pk: ProjectWork(automatic=project.assignment_mode == AssignmentMode.AUTOMATIC)
        for project in projects
    }
    if not work:
        return work
    mine = Assignment.objects.filter(coder=user, project_id__in=list(work))
    random_order = {p.pk for p in projects if p.document_order == DocumentOrder.RANDOM}
    open_ones = (
        mine.filter(state__in=OPEN_STATES)
        .select_related("document")
        .only(
            "id", "project_id", "state", "document__id", "document__title", "document__external_id"
        )
        .order_by("document__position", "document__id")
    )
    for assignment in sorted(
        open_ones,
        key=lambda a: a.document.shuffle_key if a.project_id in random_order else 0,
    ):
        bucket = work[assignment.project_id]
        if assignment.state == AssignmentState.IN_PROGRESS:
            bucket.in_progress.append(assignment)
        else:
            bucket.queue.append(assignment)
    submitted = mine.filter(state=AssignmentState.SUBMITTED)
    done: dict[int, list[tuple[dt.datetime, int]]] = {}
    for project_id, submitted_at, seconds in submitted.values_list(
        "project_id", "submitted_at", "active_seconds"
    ):
        done.setdefault(project_id, []).append((submitted_at, seconds))
    recent = (
        submitted.annotate(
            rank=Window(
                RowNumber(), partition_by=F("project_id"), order_by=F("submitted_at").desc()
            )
        )
        .filter(rank__lte=RECENT_SUBMITTED)
        .select_related("document")
        .only(
            "id",
            "project_id",
            "submitted_at",
            "document__id",
            "document__title",
            "document__external_id",
        )
        .order_by("-submitted_at")
    )
    for assignment in recent:
        work[assignment.project_id].submitted.append(assignment)
    today = timezone.localdate()
    for project_id, bucket in work.items():
        rows = done.get(project_id, [])
        bucket.submitted_total = len(rows)
        bucket.weeks = weekly_counts([at for at, _ in rows if at], today=today, weeks=WEEKS_SHOWN)
        if rows:
            bucket.median_minutes = statistics.median(seconds for _, seconds in rows) / 60
    return work


@login_required
@require_GET
def home(request):
    user = request.user
    projects = access.with_roles(
        user, access.projects_for(user).annotate(document_count=Count("documents", distinct=True))
    )
    coding = [project for project in projects if access.is_coder(user, project)]
    work = _coder_work(user, coding)
    items = [
        {
            "project": project,
            "roles": sorted(access.roles_in(user, project)),
            "work": work.get(project.pk),
        }
        for project in projects
    ]
    context = {
        "items": items,
        "weeks_shown": WEEKS_SHOWN,
        "may_create_projects": access.may_create_projects(user, all_projects=projects),
        "may_administer_users": access.may_administer_users(user),
    }
    return render(request, "annotator/work/home.html", context)


@login_required
@require_POST
def next_document(request, project_id: int):
    """Take the next document (or continue the open one) and go code it."""
    project = access.get_project_for_user(request.user, project_id, roles={Role.CODER})
    assignment = services.assignment_next(project=project, coder=request.user)
    if assignment is None:
        nothing = (
            NOTHING_LEFT
            if project.assignment_mode == AssignmentMode.AUTOMATIC
            else NOTHING_ASSIGNED
        )
        messages.info(request, nothing.format(project=project.name).capitalize())
        return redirect("home")
    return redirect("coding", assignment.document_id)


@login_required
@require_POST
def submit(request, assignment_id: int):
    """Submit after the pre-submit checks: with warnings, a confirmation page first."""
    assignment = access.get_assignment_for_coder(request.user, assignment_id)
    if assignment.is_open and not request.POST.get("confirm"):
        warnings = services.assignment_warnings(assignment=assignment)
        if warnings:
            context = {
                "assignment": assignment,
                "document": assignment.document,
                "warnings": warnings,
                # The project's blocking findings leave no "Submit anyway".
                "blocking": {
                    f.code for f in checks.blocking_findings(assignment.project, warnings)
                },
            }
            return render(request, "annotator/work/submit.html", context)
    try:
        services.assignment_submit(assignment=assignment, coder=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, SUBMITTED.format(document=assignment.document))
    return redirect("coding", assignment.document_id)


@login_required
@require_POST
def reopen(request, assignment_id: int):
    assignment = access.get_assignment_for_coder(request.user, assignment_id)
    try:
        services.assignment_reopen(assignment=assignment, coder=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, REOPENED.format(document=assignment.document))
    return redirect("coding", assignment.document_id)


@login_required
@require_POST
def beat(request, assignment_id: int):
    """Active coding time from the coding screen (activity.js): `seconds` counted since the
    last beat. 204; 409 once the assignment is no longer open (the page stops mattering)."""
    assignment = access.get_assignment_for_coder(request.user, assignment_id)
    try:
        seconds = int(request.POST.get("seconds", 0))
    except ValueError:
        seconds = 0
    try:
        services.assignment_touch(assignment=assignment, active_seconds=seconds)
    except services.AssignmentStateError:
        return HttpResponse(status=409)
    return HttpResponse(status=204)
