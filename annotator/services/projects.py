from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from annotator.codebook import install_codebook, load_default_codebook
from annotator.models import Document, Membership, Project, Role
from annotator.models.documents import content_hash, normalise_newlines

TEXT_REQUIRED = "is required and must not be empty"
TEXT_TOO_LONG = "is {length} characters long; the longest allowed is {limit}"
BAD_DATE = "{value!r} is not a date (use YYYY-MM-DD)"
TEXT_UNSTORABLE = (
    "contains a character that cannot be stored ({char}) at position {position}; "
    "remove it and import again"
)
# PostgreSQL text cannot hold NUL, and no database (nor the content hash) can encode a lone
# surrogate: refuse them here rather than fail, differently per database, on save.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
DOCUMENT_FIELDS = ("title", "outlet", "url", "language", "external_id")


@transaction.atomic
def project_create(*, name: str, created_by, codebook: dict | None = None, description: str = "") -> Project:
    """A new project with the default codebook (or `codebook`); its creator manages it."""
    project = Project.objects.create(name=name, description=description)
    install_codebook(project, codebook or load_default_codebook())
    Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


def member_add(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(project=project, user=user, role=role)
    return membership


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"published": [BAD_DATE.format(value=value)]}) from None


@transaction.atomic
def document_create(
    *,
    project: Project,
    text: Any,
    title: str = "",
    outlet: str = "",
    url: str = "",
    published: Any = None,
    language: str = "",
    external_id: str = "",
    metadata: dict | None = None,
) -> Document:
    """Store a document. CRLF (and lone CR) become LF; nothing else is normalised."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"text": [TEXT_REQUIRED]})
    text = normalise_newlines(text)
    if bad := _UNSTORABLE.search(text):
        char = f"U+{ord(bad.group()):04X}"
        raise ValidationError({"text": [TEXT_UNSTORABLE.format(char=char, position=bad.start())]})
    limit = settings.ANNOTATOR_MAX_DOCUMENT_LENGTH
    if len(text) > limit:
        raise ValidationError({"text": [TEXT_TOO_LONG.format(length=len(text), limit=limit)]})
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError({"metadata": ["must be an object"]})
    position = (project.documents.aggregate(m=Max("position"))["m"] or 0) + 1
    document = Document(
        project=project,
        text=text,
        title=title or "",
        outlet=outlet or "",
        url=url or "",
        published=_parse_date(published),
        language=language or "",
        external_id=external_id or "",
        metadata=metadata or {},
        content_hash=content_hash(text),
        position=position,
    )
    document.full_clean(exclude=["project", "text", "content_hash", "metadata"])
    document.save()
    return document
