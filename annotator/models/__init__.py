"""The data model, one module per concept."""

from annotator.models.annotations import Annotation, AuditEvent, Relation
from annotator.models.assignments import ACTIVE_STATES, OPEN_STATES, Assignment, AssignmentState
from annotator.models.codebooks import (
    AttributeDefinition,
    AttributeKind,
    Label,
    ListEntry,
    RelationType,
)
from annotator.models.documents import Document
from annotator.models.projects import Membership, Project, Role

__all__ = [
    "ACTIVE_STATES",
    "OPEN_STATES",
    "Assignment",
    "AssignmentState",
    "Annotation",
    "AttributeDefinition",
    "AttributeKind",
    "AuditEvent",
    "Document",
    "Label",
    "ListEntry",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
]
