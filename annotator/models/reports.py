"""Computed reports kept in the database, so every gunicorn worker shares one computation."""

from django.db import models

from annotator.models.projects import Project


class SnapshotState(models.TextChoices):
    COMPUTING = "computing", "Computing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class AgreementSnapshot(models.Model):
    """One agreement report of a project under one set of filters and one state of its data.

    ``key`` hashes the project, the filters and a fingerprint of the data (see
    ``annotator.reports.snapshot_key``): any change to spans, links, submissions or the
    codebook gives a new key, so a row never goes stale; old rows are pruned.
    A ``computing`` row is the claim of the worker computing it: a second worker that finds it
    waits instead of computing the same report again.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="agreement_snapshots"
    )
    key = models.CharField(max_length=64)
    # The project and filters alone: finds the latest report of a view whatever the data.
    filters_key = models.CharField(max_length=64, db_index=True)
    filters = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=20, choices=SnapshotState.choices, default=SnapshotState.COMPUTING
    )
    # What the computation is doing now, shown while the page polls.
    stage = models.CharField(max_length=200, blank=True)
    # When the computation (re)started: "computing since ...".
    created = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    payload = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="agreement_snapshot_key"),
        ]

    def __str__(self) -> str:
        return f"agreement of project {self.project_id} ({self.state}, {self.key[:8]})"

    @property
    def is_ready(self) -> bool:
        return self.state == SnapshotState.READY

    @property
    def is_computing(self) -> bool:
        return self.state == SnapshotState.COMPUTING

    @property
    def is_failed(self) -> bool:
        return self.state == SnapshotState.FAILED
