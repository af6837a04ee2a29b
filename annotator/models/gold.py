"""The gold layer: an adjudicator's resolution of the coders' versions of one document.

Gold spans and links are their own rows, beside the coders' (never a flag on an Annotation),
and each carries its provenance: which coders' spans or links it came from (``source_*``: the
ids, kept as plain lists so that the record survives whatever happens to those rows later), or
that the adjudicator made it, and the note of the decision. A decision to drop coders' spans
leaves a GoldRejection row. Services in ``annotator.services.gold`` are the only writers.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from annotator.models.codebooks import Label, RelationType
from annotator.models.documents import Document


class GoldOrigin(models.TextChoices):
    ACCEPTED = "accepted", "Accepted from coders"
    EDITED = "edited", "Coders' version, edited"
    ADDED = "added", "Added by the adjudicator"


class GoldQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def for_document(self, document):
        return self.filter(document=document)


class GoldSpan(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="gold_spans")
    # RESTRICT as for Annotation: a label in the gold cannot be deleted, its project can.
    label = models.ForeignKey(Label, on_delete=models.RESTRICT, related_name="gold_spans")
    # Python string indices (code points) into document.text, half-open, as for Annotation.
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    origin = models.CharField(max_length=20, choices=GoldOrigin.choices)
    # Ids of the coders' Annotation rows this span came from (empty when added).
    source_annotations = models.JSONField(default=list, blank=True)
    # Set when a bulk decision could not settle the attributes by agreement or majority.
    needs_review = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_spans"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = GoldQuerySet.as_manager()

    class Meta:
        ordering = ["start", "end", "id"]
        indexes = [models.Index(fields=["document", "start"], name="gold_span_doc_start")]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="gold_span_start_nonnegative"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="gold_span_end_after_start"
            ),
            # As for Annotation: a trigger (migration 0007) checks the quote against the text.
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("text")), name="gold_span_quote_length"
            ),
            models.UniqueConstraint(
                fields=["document", "label", "start", "end"],
                condition=Q(deleted_at__isnull=True),
                name="gold_span_unique_alive",
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.label_id} [{self.start}, {self.end}) {self.text!r}"


class GoldRelation(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="gold_relations")
    type = models.ForeignKey(RelationType, on_delete=models.RESTRICT, related_name="gold_relations")
    source = models.ForeignKey(GoldSpan, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(GoldSpan, on_delete=models.CASCADE, related_name="incoming")
    # Ids of the coders' Relation rows this link came from (empty when added).
    source_relations = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_relations"
    )
    created = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = GoldQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document"], name="gold_relation_doc")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="gold_relation_not_reflexive"
            ),
            models.UniqueConstraint(
                fields=["type", "source", "target"],
                condition=Q(deleted_at__isnull=True),
                name="gold_relation_unique_alive",
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.source_id} -{self.type_id}-> {self.target_id}"


class GoldRejection(models.Model):
    """A decision that coders' spans do not belong in the gold: it settles them, with a note."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="gold_rejections")
    # Ids of the coders' Annotation rows rejected together.
    annotations = models.JSONField(default=list)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_rejections"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Set when a later decision on the same spans (an accept) supersedes this one.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = GoldQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document"], name="gold_rejection_doc")]

    def __str__(self) -> str:
        return f"rejected {self.annotations} in {self.document_id}"
