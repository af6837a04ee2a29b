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
from annotator.services.assignments import (
    AssignmentStateError,
    assignment_create,
    assignment_next,
    assignment_release,
    assignment_reopen,
    assignment_submit,
    assignment_take,
    assignment_touch,
    assignment_warnings,
    assignments_release_abandoned,
    documents_recount,
)
from annotator.services.projects import document_create, member_add, project_create

__all__ = [
    "AssignmentStateError",
    "ConflictError",
    "assignment_create",
    "assignment_next",
    "assignment_release",
    "assignment_reopen",
    "assignment_submit",
    "assignment_take",
    "assignment_touch",
    "assignment_warnings",
    "assignments_release_abandoned",
    "document_create",
    "documents_recount",
    "member_add",
    "project_create",
    "relation_create",
    "relation_delete",
    "span_create",
    "span_delete",
    "span_update",
    "undo_last",
]
