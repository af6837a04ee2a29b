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
from annotator.models.gold import GoldOrigin, GoldRejection, GoldRelation, GoldSpan
from annotator.models.projects import Membership, Project, Role
from annotator.models.reports import AgreementSnapshot, SnapshotState
from annotator.models.suggestions import SuggestionRejection

__all__ = [
    "ACTIVE_STATES",
    "AgreementSnapshot",
    "OPEN_STATES",
    "Assignment",
    "AssignmentState",
    "Annotation",
    "AttributeDefinition",
    "AttributeKind",
    "AuditEvent",
    "Document",
    "GoldOrigin",
    "GoldRejection",
    "GoldRelation",
    "GoldSpan",
    "Label",
    "ListEntry",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
    "SnapshotState",
    "SuggestionRejection",
]
