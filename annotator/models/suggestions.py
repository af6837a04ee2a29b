"""What a coder said no to among the suggester's spans.

Suggestions themselves are never stored: they are computed from the document's text and the
project's lists (annotator/services/suggestions.py), and become Annotation rows only when a
coder accepts one through span_create. A rejection is remembered per coder and document, so
the suggestion stays away after a reload; nobody else's screen is affected.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotator.models.documents import Document


class SuggestionRejection(models.Model):
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="suggestion_rejections"
    )
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestion_rejections"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.CharField(max_length=50)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "coder", "start", "end", "label"],
                name="suggestion_rejection_unique",
            ),
            models.CheckConstraint(
                condition=Q(start__lt=F("end")), name="suggestion_rejection_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coder} rejected {self.label} [{self.start}, {self.end})"
