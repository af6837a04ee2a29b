"""Writes that touch several models. The htmx views, the API and the management commands all
call these functions; none of them writes annotations another way."""

from annotator.services.annotations import (
    ConflictError,
    relation_create,
    relation_delete,
    span_create,
    span_delete,
    span_update,
    undo_last,
)
from annotator.services.projects import document_create, member_add, project_create

__all__ = [
    "ConflictError",
    "document_create",
    "member_add",
    "project_create",
    "relation_create",
    "relation_delete",
    "span_create",
    "span_delete",
    "span_update",
    "undo_last",
]
