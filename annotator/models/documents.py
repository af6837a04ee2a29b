import hashlib

from django.db import models

from annotator.models.projects import Project


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF; nothing else about the text is changed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentQuerySet(models.QuerySet):
    def for_project(self, project) -> "DocumentQuerySet":
        return self.filter(project=project)

    def without_text(self) -> "DocumentQuerySet":
        # Lists never need the (possibly long) text.
        return self.defer("text")


class Document(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=500, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=20, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    # Indexed with the project (Meta.indexes): duplicates are looked up within a project, and
    # a plain db_index would add a second, LIKE-pattern index on PostgreSQL that nothing uses.
    content_hash = models.CharField(max_length=64, editable=False)
    # Import order: the project's default coding order.
    position = models.PositiveIntegerField(default=0)
    # Order under the project's seeded random order (recomputed when the seed changes).
    # db_default lets SQLite add the column in place: rebuilding the table would drop the
    # triggers of migration 0002.
    shuffle_key = models.BigIntegerField(default=0, db_default=0)
    # Set when an adjudicator opens the document; coders can no longer reopen submissions.
    adjudication_started_at = models.DateTimeField(null=True, blank=True)
    # Set when the adjudicator completes the gold (state "adjudicated"); cleared by a reopen.
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Its live (assigned, in progress, submitted) and submitted assignments, and whether it has
    # fewer live ones than the project's k: kept by the assignment services in the transaction
    # that changes an assignment, under this row's lock (services.documents_recount), so that
    # "Next document" and the dashboard read them instead of counting assignments. The
    # database defaults hold for rows written by COPY too (imports).
    live_coders = models.PositiveSmallIntegerField(default=0, db_default=0)
    submitted_coders = models.PositiveSmallIntegerField(default=0, db_default=0)
    needs_coders = models.BooleanField(default=True, db_default=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["project", "position"]),
            # The work queue in either order: only the documents that still need coders.
            models.Index(
                fields=["project", "position", "id"],
                condition=models.Q(needs_coders=True),
                name="document_queue_import",
            ),
            models.Index(
                fields=["project", "shuffle_key", "id"],
                condition=models.Q(needs_coders=True),
                name="document_queue_random",
            ),
            models.Index(fields=["project", "content_hash"], name="annotator_doc_hash_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="document_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id or f"Document {self.pk}"
