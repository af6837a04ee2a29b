"""The data model, one module per concept."""

from annotator.models.annotations import Annotation, AuditEvent, Relation
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
