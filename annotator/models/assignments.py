"""Who codes which document: the work queue of blind multiple coding."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce

from annotator.models.documents import Document
from annotator.models.projects import Project


class AssignmentState(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    # Released by a manager or returned to the pool after inactivity. The row (and the coder's
    # spans) stay, visible to managers; the slot counts no more.
    RELEASED = "released", "Released"


ACTIVE_STATES = (AssignmentState.ASSIGNED, AssignmentState.IN_PROGRESS, AssignmentState.SUBMITTED)
OPEN_STATES = (AssignmentState.ASSIGNED, AssignmentState.IN_PROGRESS)


class AssignmentQuerySet(models.QuerySet):
    def active(self) -> "AssignmentQuerySet":
        return self.filter(state__in=ACTIVE_STATES)

    def open(self) -> "AssignmentQuerySet":
        return self.filter(state__in=OPEN_STATES)

    def for_coder(self, coder) -> "AssignmentQuerySet":
        return self.filter(coder=coder)


class Assignment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    state = models.CharField(
        max_length=20, choices=AssignmentState.choices, default=AssignmentState.ASSIGNED
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Time with the coding page focused and the coder active, reported by the page in beats.
    active_seconds = models.PositiveIntegerField(default=0)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "coder", "state"], name="assignment_coder_state"),
            models.Index(fields=["document", "state"], name="assignment_document_state"),
            # The dashboard's submissions per day (an index-only range scan).
            models.Index(
                fields=["project", "submitted_at"],
                condition=Q(state="submitted"),
                name="assignment_submitted_day",
            ),
            # The sweep for abandoned assignments ("Next document" runs it every time): the
            # open ones by their last sign of life, so that it reads only the stale ones.
            models.Index(
                "project",
                Coalesce("last_activity_at", "created"),
                condition=Q(state__in=OPEN_STATES),
                name="assignment_open_idle",
            ),
        ]
        constraints = [
            # One live assignment per coder and document; released ones are history.
            models.UniqueConstraint(
                fields=["document", "coder"],
                condition=~Q(state="released"),
                name="assignment_one_live_per_coder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coder} on {self.document_id}: {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
