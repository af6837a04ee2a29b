"""Spans (one row each), the links between them, and the audit trail of every change."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from annotator.models.codebooks import Label, RelationType
from annotator.models.documents import Document
from annotator.models.projects import Project


class AnnotationQuerySet(models.QuerySet):
    def alive(self) -> "AnnotationQuerySet":
        return self.filter(deleted_at__isnull=True)

    def for_document(self, document) -> "AnnotationQuerySet":
        return self.filter(document=document)

    def by_coder(self, coder) -> "AnnotationQuerySet":
        return self.filter(coder=coder)

    def touching(self, start: int, end: int) -> "AnnotationQuerySet":
        """Spans sharing a character with [start, end).

        Spans are at most ANNOTATOR_MAX_SPAN_LENGTH long, so the lower bound on `start` keeps
        this a bounded range scan of the (document, coder, start) index however many spans the
        document has.
        """
        return self.filter(
            start__gte=max(0, start - settings.ANNOTATOR_MAX_SPAN_LENGTH),
            start__lt=end,
            end__gt=start,
        )


class Annotation(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="annotations")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    # RESTRICT, not PROTECT: a label with spans cannot be deleted, but a project can be,
    # cascading to its labels and spans together.
    label = models.ForeignKey(Label, on_delete=models.RESTRICT, related_name="annotations")
    # Python string indices (code points) into document.text, half-open.
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    codebook_version = models.PositiveIntegerField(default=1)
    # Chosen by the client so that a retried POST never creates a second span.
    # NULL, not "": many spans have no client_id, and the unique constraint must skip them.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["start", "end", "id"]
        indexes = [
            models.Index(fields=["document", "coder", "start"], name="annotation_doc_coder"),
            # The dashboard's spans per coder (an index-only scan of the live spans).
            models.Index(
                fields=["document", "coder"],
                condition=Q(deleted_at__isnull=True),
                name="annotation_alive_doc_coder",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="annotation_start_nonnegative"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="annotation_end_after_start"
            ),
            # The quote's length equals the span's length; a trigger (migration 0002) checks
            # that it equals document.text[start:end] and that end <= len(document.text).
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("text")), name="annotation_quote_length"
            ),
            models.UniqueConstraint(
                fields=["coder", "client_id"],
                condition=Q(client_id__isnull=False),
                name="annotation_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label.name} [{self.start}, {self.end}) {self.text!r}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class RelationQuerySet(models.QuerySet):
    def alive(self) -> "RelationQuerySet":
        return self.filter(deleted_at__isnull=True)

    def for_document(self, document) -> "RelationQuerySet":
        return self.filter(document=document)

    def by_coder(self, coder) -> "RelationQuerySet":
        return self.filter(coder=coder)


class Relation(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="relations")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="relations"
    )
    type = models.ForeignKey(RelationType, on_delete=models.RESTRICT, related_name="relations")
    source = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="incoming")
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = RelationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document", "coder"], name="relation_doc_coder")]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("target")), name="relation_not_reflexive"),
            models.UniqueConstraint(
                fields=["type", "source", "target"],
                condition=Q(deleted_at__isnull=True),
                name="relation_unique_alive",
            ),
            models.UniqueConstraint(
                fields=["coder", "client_id"],
                condition=Q(client_id__isnull=False),
                name="relation_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.type.name}-> {self.target_id}"


class AuditEvent(models.Model):
    """Who changed what, when, with the state before and after. Undo reads it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_events")
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Set when an undo reverted this event, so the next undo goes one step further back.
    undone = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["document", "user", "undone"], name="audit_doc_user"),
            # The project's latest event: the dashboard's progress version.
            models.Index(fields=["project", "id"], name="audit_project_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_type} {self.object_id}"
