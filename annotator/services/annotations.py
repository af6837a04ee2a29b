"""Creating, changing and deleting spans and relations, with every rule checked here.

Message constants are part of the contract: the API returns them, the coding screen shows
them, tests assert on them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from annotator.codebook import Codebook, LabelSpec, clean_attributes, get_codebook
from annotator.models import Annotation, AuditEvent, Document, Relation
from annotator.services import audit, numbers

UNKNOWN_LABEL = "unknown label {name!r}; this project's labels are: {known}"
DISABLED_LABEL = "label {name!r} is switched off in this project's codebook"
NOT_AN_INTEGER = "must be a whole number, got {value!r}"
START_NEGATIVE = "must be 0 or more, got {start}"
END_NOT_AFTER_START = "must be greater than start ({start}), got {end}"
END_BEYOND_TEXT = "{end} is beyond the end of the document ({length} characters)"
QUOTE_MISMATCH = (
    "does not match the document at [{start}, {end}): expected {expected!r}, got {got!r}"
)
SPAN_TOO_LONG = "the span is {length} characters long; the longest allowed is {limit}"
OVERLAP_REFUSED = (
    "overlaps your {label} span {text!r} at [{start}, {end}); this project does not allow "
    "overlapping spans"
)
DUPLICATE_SPAN = "you already have a {label} span at [{start}, {end})"
CLIENT_ID_REUSED = "client_id {client_id!r} was already used for another document"
CLIENT_ID_TOO_LONG = "must be at most 64 characters, got {length}"
CLIENT_ID_DELETED = (
    "the span created with client_id {client_id!r} has been deleted since; "
    "send a new client_id to create it again"
)
UNKNOWN_RELATION_TYPE = "unknown relation type {name!r}; this project's types are: {known}"
NO_SUCH_SPAN = "no span {id!r} of yours in this document"
RELATION_LABELS = "{type} links {expected_from} → {expected_to}, not {got_from} → {got_to}"
RELATION_SELF = "a span cannot be linked to itself"
RELATION_DUPLICATE = "this {type} link already exists"
RELATION_CARDINALITY = (
    "{label} {text!r} already has {count} {type} link(s); at most {limit} allowed"
)
LABEL_CHANGE_BREAKS_LINKS = (
    "changing the label to {label} would break {count} link(s) ({types}); remove them first"
)
NOTHING_TO_UNDO = "nothing to undo"


class ConflictError(Exception):
    """The client edited a version that is no longer current: nothing was changed."""

    def __init__(self, annotation_id: int, sent_version: Any, current_version: int | None):
        self.annotation_id = annotation_id
        self.sent_version = sent_version
        self.current_version = current_version
        if current_version is None:
            message = f"span {annotation_id} was deleted meanwhile; nothing was changed"
        else:
            message = (
                f"span {annotation_id} was changed meanwhile (you edited version {sent_version}, "
                f"the current version is {current_version}); nothing was changed — reload it"
            )
        super().__init__(message)


def _as_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValidationError({field: [NOT_AN_INTEGER.format(value=value)]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: [NOT_AN_INTEGER.format(value=value)]}) from None


def _check_client_id(client_id: Any) -> None:
    if client_id and len(str(client_id)) > 64:
        raise ValidationError(
            {"client_id": [CLIENT_ID_TOO_LONG.format(length=len(str(client_id)))]}
        )


def _resolve_label(codebook: Codebook, name: Any) -> LabelSpec:
    label = codebook.label_by_name(name) if isinstance(name, str) else None
    if label is None:
        known = ", ".join(label.name for label in codebook.enabled_labels)
        raise ValidationError({"label": [UNKNOWN_LABEL.format(name=name, known=known)]})
    if not label.enabled:
        raise ValidationError({"label": [DISABLED_LABEL.format(name=name)]})
    return label


def _check_bounds(document: Document, start: Any, end: Any, text: Any) -> tuple[int, int]:
    start, end = _as_int("start", start), _as_int("end", end)
    if start < 0:
        raise ValidationError({"start": [START_NEGATIVE.format(start=start)]})
    if end <= start:
        raise ValidationError({"end": [END_NOT_AFTER_START.format(start=start, end=end)]})
    length = len(document.text)
    if end > length:
        raise ValidationError({"end": [END_BEYOND_TEXT.format(end=end, length=length)]})
    if end - start > settings.ANNOTATOR_MAX_SPAN_LENGTH:
        limit = settings.ANNOTATOR_MAX_SPAN_LENGTH
        raise ValidationError({"end": [SPAN_TOO_LONG.format(length=end - start, limit=limit)]})
    expected = document.text[start:end]
    if text != expected:
        raise ValidationError(
            {"text": [QUOTE_MISMATCH.format(start=start, end=end, expected=expected, got=text)]}
        )
    return start, end


def _check_overlap(
    codebook: Codebook,
    document: Document,
    coder,
    label: LabelSpec,
    start: int,
    end: int,
    exclude_id: int | None = None,
    neighbours=None,
) -> None:
    """Refuse a duplicate, or any overlap where the codebook forbids it. `neighbours`: the
    coder's live spans touching [start, end) as (label_id, start, end, text), when the caller
    has read them already."""
    if neighbours is None:
        neighbours = (
            Annotation.objects.for_document(document)
            .by_coder(coder)
            .alive()
            .touching(start, end)
            .exclude(pk=exclude_id)
            .values_list("label_id", "start", "end", "text")
        )
    for label_id, other_start, other_end, other_text in neighbours:
        other_label = codebook.label_by_id(label_id)
        other_name = other_label.name if other_label else "?"
        if (other_start, other_end, label_id) == (start, end, label.id):
            raise ValidationError(
                {"start": [DUPLICATE_SPAN.format(label=label.name, start=start, end=end)]}
            )
        if not codebook.allow_overlap:
            raise ValidationError(
                {
                    "start": [
                        OVERLAP_REFUSED.format(
                            label=other_name, text=other_text, start=other_start, end=other_end
                        )
                    ]
                }
            )


@transaction.atomic
def span_create(
    *,
    document: Document,
    coder,
    label: str,
    start: Any,
    end: Any,
    text: Any,
    attributes: dict | None = None,
    client_id: str | None = None,
) -> tuple[Annotation, bool]:
    """Create a span; returns (span, created). A repeated client_id returns the first span."""
    _check_client_id(client_id)
    codebook = get_codebook(document.project)
    label_spec = _resolve_label(codebook, label)
    start, end = _check_bounds(document, start, end, text)
    # One read answers both questions a create asks of the coder's spans (this is the path
    # of every save): was this client_id used before, and what does [start, end) touch?
    touching = Q(document=document, deleted_at__isnull=True) & Q(
        start__gte=max(0, start - settings.ANNOTATOR_MAX_SPAN_LENGTH), start__lt=end, end__gt=start
    )
    rows = Annotation.objects.filter(
        touching | Q(client_id=client_id) if client_id else touching, coder=coder
    ).values_list(
        "pk", "document_id", "client_id", "deleted_at", "label_id", "start", "end", "text"
    )
    neighbours = []
    for pk, document_id, row_client_id, deleted_at, *neighbour in rows:
        if client_id and row_client_id == client_id:
            if document_id != document.pk:
                raise ValidationError({"client_id": [CLIENT_ID_REUSED.format(client_id=client_id)]})
            if deleted_at is not None:
                raise ValidationError(
                    {"client_id": [CLIENT_ID_DELETED.format(client_id=client_id)]}
                )
            return Annotation.objects.get(pk=pk), False
        if document_id == document.pk and deleted_at is None:
            neighbours.append(neighbour)
    given = dict(attributes or {})
    defaults = {a.name: a.default for a in label_spec.attributes if a.default is not None}
    # A claim's numbers come from its text unless the client sent them (services/numbers.py).
    cleaned = numbers.attributes_on_create(document, label_spec, text, given, defaults)
    _check_overlap(codebook, document, coder, label_spec, start, end, neighbours=neighbours)
    span = Annotation(
        document=document,
        coder=coder,
        label_id=label_spec.id,
        start=start,
        end=end,
        text=text,
        attributes=cleaned,
        codebook_version=codebook.version,
        client_id=client_id or None,
    )
    try:
        with transaction.atomic():
            span.save(force_insert=True)
    except IntegrityError:
        # Only a concurrent retry of the same client_id gets here (bounds and quote were
        # checked above); hand back the span that request created.
        if client_id:
            existing = Annotation.objects.filter(coder=coder, client_id=client_id).first()
            if existing is not None:
                return existing, False
        raise
    audit.record(
        user=coder,
        document=document,
        action="span.create",
        obj=span,
        after=audit.span_snapshot(span),
    )
    return span, True


def _locked_for_version(span: Annotation, version: Any, coder) -> Annotation:
    """Refuse early when the client's version is not the one just read; `_bump` re-checks
    atomically in its UPDATE, which is what guarantees it under concurrency."""
    sent = _as_int("version", version)
    if span.coder_id != getattr(coder, "pk", None):
        # access.get_annotation_for_coder already guarantees this; a second lock on the door.
        raise PermissionDenied("only the coder who made a span may change it")
    if span.deleted_at is not None:
        raise ConflictError(span.pk, version, None)
    if sent != span.version:
        raise ConflictError(span.pk, version, span.version)
    return span


def _bump(span: Annotation, expected_version: int, **fields) -> None:
    """Write fields only if nobody changed the span since `expected_version` (compare-and-set,
    so the check holds on SQLite too, which has no row locks)."""
    fields["version"] = expected_version + 1
    fields["updated"] = timezone.now()
    written = Annotation.objects.filter(
        pk=span.pk, version=expected_version, deleted_at__isnull=True
    ).update(**fields)
    if written != 1:
        current = (
            Annotation.objects.filter(pk=span.pk, deleted_at__isnull=True)
            .values_list("version", flat=True)
            .first()
        )
        raise ConflictError(span.pk, expected_version, current)
    for name, value in fields.items():
        setattr(span, name, value)


@transaction.atomic
def span_update(
    *,
    annotation: Annotation,
    coder,
    version: Any,
    label: str | None = None,
    attributes: dict | None = None,
    start: Any = None,
    end: Any = None,
    text: Any = None,
) -> Annotation:
    """Change a span's label, attributes (replaced as a whole) or boundaries.

    Refused with ConflictError, changing nothing, unless `version` is the current version.
    """
    span = _locked_for_version(annotation, version, coder)
    document = span.document
    codebook = get_codebook(document.project)
    before = audit.span_snapshot(span)
    changes: dict[str, Any] = {}

    label_spec = codebook.label_by_id(span.label_id)
    if label is not None and label != (label_spec.name if label_spec else None):
        label_spec = _resolve_label(codebook, label)
        _check_relations_survive_label(codebook, span, label_spec)
        changes["label_id"] = label_spec.id
        if attributes is None:
            # Keep what still applies under the new label; the audit row keeps the rest.
            attributes = {k: v for k, v in span.attributes.items() if label_spec.attribute(k)}
    if attributes is not None:
        changes["attributes"] = clean_attributes(label_spec, attributes)
    if start is not None or end is not None or text is not None:
        new_start = span.start if start is None else start
        new_end = span.end if end is None else end
        new_text = (
            text
            if text is not None
            else document.text[_as_int("start", new_start) : _as_int("end", new_end)]
        )
        new_start, new_end = _check_bounds(document, new_start, new_end, new_text)
        _check_overlap(
            codebook, document, coder, label_spec, new_start, new_end, exclude_id=span.pk
        )
        changes.update(start=new_start, end=new_end, text=new_text)
    elif "label_id" in changes and (
        # A new label in place creates no overlap, but can duplicate a span of that label.
        Annotation.objects.for_document(document)
        .by_coder(coder)
        .alive()
        .filter(start=span.start, end=span.end, label_id=label_spec.id)
        .exclude(pk=span.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "start": [
                    DUPLICATE_SPAN.format(label=label_spec.name, start=span.start, end=span.end)
                ]
            }
        )
    # Keeps a claim's numbers in step with its text; refuses an override without a note.
    changes = numbers.changes_on_update(document, label_spec, span, changes)
    if changes:
        changes["codebook_version"] = codebook.version
        _bump(span, int(version), **changes)
        audit.record(
            user=coder,
            document=document,
            action="span.update",
            obj=span,
            before=before,
            after=audit.span_snapshot(span),
        )
    return span


def _check_relations_survive_label(codebook: Codebook, span: Annotation, new_label: LabelSpec):
    broken = []
    for relation in Relation.objects.alive().filter(source=span).select_related("type"):
        if relation.type.from_label_id != new_label.id:
            broken.append(relation.type.name)
    for relation in Relation.objects.alive().filter(target=span).select_related("type"):
        if relation.type.to_label_id != new_label.id:
            broken.append(relation.type.name)
    if broken:
        raise ValidationError(
            {
                "label": [
                    LABEL_CHANGE_BREAKS_LINKS.format(
                        label=new_label.name,
                        count=len(broken),
                        types=", ".join(sorted(set(broken))),
                    )
                ]
            }
        )


@transaction.atomic
def span_delete(*, annotation: Annotation, coder, version: Any) -> Annotation:
    """Soft-delete a span and its links (undo and the audit trail can bring them back)."""
    span = _locked_for_version(annotation, version, coder)
    now = timezone.now()
    # One filter, not a UNION: SQLite refuses the ORDER BY (Meta.ordering) inside a compound query.
    relation_ids = list(
        Relation.objects.alive()
        .filter(Q(source=span) | Q(target=span))
        .values_list("id", flat=True)
    )
    Relation.objects.filter(pk__in=relation_ids).update(deleted_at=now)
    before = audit.span_snapshot(span)
    _bump(span, int(version), deleted_at=now)
    audit.record(
        user=coder,
        document=span.document,
        action="span.delete",
        obj=span,
        before=before,
        after={"relation_ids": relation_ids},
    )
    return span


@transaction.atomic
def relation_create(
    *,
    document: Document,
    coder,
    type: str,
    source_id: Any,
    target_id: Any,
    client_id: str | None = None,
) -> tuple[Relation, bool]:
    _check_client_id(client_id)
    if client_id:
        existing = Relation.objects.filter(coder=coder, client_id=client_id).first()
        if existing is not None:
            if existing.document_id != document.pk:
                raise ValidationError({"client_id": [CLIENT_ID_REUSED.format(client_id=client_id)]})
            return existing, False
    codebook = get_codebook(document.project)
    relation_type = codebook.relation_type_by_name(type) if isinstance(type, str) else None
    if relation_type is None:
        known = ", ".join(rt.name for rt in codebook.relation_types)
        raise ValidationError({"type": [UNKNOWN_RELATION_TYPE.format(name=type, known=known)]})
    ends = {}
    for field, span_id in (("source", source_id), ("target", target_id)):
        span_id = _as_int(field, span_id)
        span = Annotation.objects.alive().filter(pk=span_id, document=document, coder=coder).first()
        if span is None:
            raise ValidationError({field: [NO_SUCH_SPAN.format(id=span_id)]})
        ends[field] = span
    source, target = ends["source"], ends["target"]
    if source.pk == target.pk:
        raise ValidationError({"target": [RELATION_SELF]})
    if (source.label_id, target.label_id) != (
        relation_type.from_label_id,
        relation_type.to_label_id,
    ):

        def name(label_id):
            spec = codebook.label_by_id(label_id)
            return spec.name if spec else "?"

        raise ValidationError(
            {
                "type": [
                    RELATION_LABELS.format(
                        type=relation_type.name,
                        expected_from=name(relation_type.from_label_id),
                        expected_to=name(relation_type.to_label_id),
                        got_from=name(source.label_id),
                        got_to=name(target.label_id),
                    )
                ]
            }
        )
    existing = Relation.objects.alive().filter(source=source, type_id=relation_type.id)
    if existing.filter(target=target).exists():
        raise ValidationError({"target": [RELATION_DUPLICATE.format(type=relation_type.name)]})
    if relation_type.max_per_source is not None:
        count = existing.count()
        if count >= relation_type.max_per_source:
            label = codebook.label_by_id(source.label_id)
            raise ValidationError(
                {
                    "type": [
                        RELATION_CARDINALITY.format(
                            label=label.name if label else "?",
                            text=source.text,
                            count=count,
                            type=relation_type.name,
                            limit=relation_type.max_per_source,
                        )
                    ]
                }
            )
    relation = Relation.objects.create(
        document=document,
        coder=coder,
        type_id=relation_type.id,
        source=source,
        target=target,
        client_id=client_id or None,
    )
    audit.record(
        user=coder,
        document=document,
        action="relation.create",
        obj=relation,
        after=audit.relation_snapshot(relation),
    )
    return relation, True


@transaction.atomic
def relation_delete(*, relation: Relation, coder) -> Relation:
    written = Relation.objects.filter(pk=relation.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    if written:
        audit.record(
            user=coder,
            document=relation.document,
            action="relation.delete",
            obj=relation,
            before=audit.relation_snapshot(relation),
        )
    return relation


UNDOABLE = ("span.create", "span.update", "span.delete", "relation.create", "relation.delete")


@transaction.atomic
def undo_last(*, document: Document, coder) -> AuditEvent:
    """Revert the coder's latest change to this document that is not yet undone.

    The revert is itself recorded (as "undo:<action>", marked undone so that undo never
    undoes an undo), so the history keeps both steps.
    """
    event = (
        AuditEvent.objects.select_for_update()
        .filter(document=document, user=coder, undone=False, action__in=UNDOABLE)
        .order_by("-id")
        .first()
    )
    if event is None:
        raise ValidationError({"undo": [NOTHING_TO_UNDO]})
    now = timezone.now()
    if event.object_type == "annotation":
        span = Annotation.objects.get(pk=event.object_id)
        before = audit.span_snapshot(span)
        if event.action == "span.create":
            Relation.objects.alive().filter(source=span).update(deleted_at=now)
            Relation.objects.alive().filter(target=span).update(deleted_at=now)
            fields = {"deleted_at": now}
        elif event.action == "span.update":
            old = event.before
            fields = {
                "label_id": old["label_id"],
                "start": old["start"],
                "end": old["end"],
                "text": old["text"],
                "attributes": old["attributes"],
            }
        else:  # span.delete
            fields = {"deleted_at": None}
            Relation.objects.filter(pk__in=event.after.get("relation_ids", [])).update(
                deleted_at=None
            )
        fields["version"] = span.version + 1
        fields["updated"] = now
        Annotation.objects.filter(pk=span.pk).update(**fields)
        span.refresh_from_db()
        after = audit.span_snapshot(span)
    else:
        relation = Relation.objects.get(pk=event.object_id)
        before = audit.relation_snapshot(relation)
        deleted_at = now if event.action == "relation.create" else None
        Relation.objects.filter(pk=relation.pk).update(deleted_at=deleted_at)
        after = before
    event.undone = True
    event.save(update_fields=["undone"])
    AuditEvent.objects.create(
        project_id=document.project_id,
        document=document,
        user=coder,
        action=f"undo:{event.action}",
        object_type=event.object_type,
        object_id=event.object_id,
        before=before,
        after=after,
        undone=True,
    )
    return event
