"""Adjudication: turning the coders' versions of a document into its gold layer.

Every decision (accept, reject, edit, add, the bulk ones, links) goes through a function here,
which the htmx screen and the API both call. Each one locks the document row, refuses when the
document is not ready (fewer than k submitted codings) or already adjudicated, starts the
adjudication on the first decision (from then on coders can no longer reopen their
submissions), and writes an AuditEvent per change. Message constants are part of the contract.

Whose versions count: the coders who submitted the document (a released or unfinished coding
does not), or, in a project that never used assignments (work imported from another tool),
everyone with a span in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotator.agreement.adjudication import (
    GoldScore,
    Link,
    Unit,
    Version,
    align,
    bulk_candidates,
    scores_against_gold,
    settle,
)
from annotator.codebook import Codebook, LabelSpec, clean_attributes, get_codebook
from annotator.models import (
    Annotation,
    Assignment,
    AssignmentState,
    AuditEvent,
    Document,
    GoldOrigin,
    GoldRejection,
    GoldRelation,
    GoldSpan,
    Project,
    Relation,
)
from annotator.services import audit
from annotator.services.annotations import (
    RELATION_CARDINALITY,
    RELATION_DUPLICATE,
    RELATION_LABELS,
    RELATION_SELF,
    UNKNOWN_RELATION_TYPE,
    ConflictError,
    _as_int,
    _check_bounds,
    _resolve_label,
)

NOT_READY = (
    "this document is not ready for adjudication: {submitted} of its {k} codings are submitted"
)
ADJUDICATED = "this document is adjudicated; reopen it to change its gold"
NOT_ADJUDICATED = "this document is not adjudicated, so there is nothing to reopen"
NO_SPANS_CHOSEN = "choose at least one coder's span"
NO_SUCH_ANNOTATION = "no coder's span {id!r} in this document"
NO_SUCH_RELATION = "no coder's link {id!r} in this document"
NO_SUCH_GOLD_SPAN = "no gold span {id!r} in this document"
GOLD_DUPLICATE = "the gold already has a {label} span at [{start}, {end})"
GOLD_OVERLAP = (
    "overlaps the gold {label} span {text!r} at [{start}, {end}); this project does not allow "
    "overlapping spans: replace it, or edit it first"
)
LINK_END_NOT_IN_GOLD = "the link's {end} span is not in the gold: accept it first"
GOLD_LABEL_BREAKS_LINKS = (
    "changing the label to {label} would break {count} gold link(s) ({types}); remove them first"
)
THRESHOLD_RANGE = (
    "must be a share of the coders above one half and at most 1 (such as 2/3), got {value!r}"
)
UNITS_OPEN = "{count} unit(s) are still open: accept, reject or edit them first"
NOTE_TOO_LONG = "must be at most {limit} characters, got {length}"
DISPUTED_NOTE = "attributes without a majority, first coder's value taken: {names}"
DROPPED_NOTE = "attributes no longer valid under the codebook, left out: {names}"

NOTE_LIMIT = 1000
READY, IN_PROGRESS, ADJUDICATED_STATE, NOT_READY_STATE = (
    "ready",
    "in_progress",
    "adjudicated",
    "not_ready",
)


class GoldConflictError(ConflictError):
    """An edit of a gold span whose version is no longer current: nothing was changed."""

    def __init__(self, gold_span_id: int, sent_version: Any, current_version: int | None):
        super().__init__(gold_span_id, sent_version, current_version)
        if current_version is None:
            message = f"gold span {gold_span_id} was deleted meanwhile; nothing was changed"
        else:
            message = (
                f"gold span {gold_span_id} was changed meanwhile (you edited version "
                f"{sent_version}, the current version is {current_version}); nothing was "
                "changed — reload it"
            )
        self.args = (message,)


# --- reads the decisions rest on ---------------------------------------------------------------


def document_coders(document: Document) -> list[int]:
    """User ids of the coders whose versions count, in user id order (their pseudonyms' order)."""
    submitted = list(
        Assignment.objects.filter(document=document, state=AssignmentState.SUBMITTED)
        .order_by("coder_id")
        .values_list("coder_id", flat=True)
        .distinct()
    )
    if submitted or Assignment.objects.filter(project_id=document.project_id).exists():
        return submitted
    return sorted(
        set(Annotation.objects.for_document(document).alive().values_list("coder_id", flat=True))
    )


def adjudication_state(document: Document, coder_count: int) -> str:
    if document.adjudicated_at is not None:
        return ADJUDICATED_STATE
    if document.adjudication_started_at is not None:
        return IN_PROGRESS
    if coder_count >= document.project.overlap_k:
        return READY
    return NOT_READY_STATE


def coder_spans(document: Document, coders: Sequence[int]):
    """The alive spans of the counted coders: what adjudication sees."""
    return Annotation.objects.for_document(document).alive().filter(coder_id__in=coders)


def versions(rows: Iterable[Annotation]) -> list[Version]:
    return [
        Version(span.pk, span.coder_id, span.start, span.end, span.label_id, span.attributes)
        for span in rows
    ]


def links(rows: Iterable[Relation]) -> list[Link]:
    return [Link(r.pk, r.coder_id, r.type_id, r.source_id, r.target_id) for r in rows]


def document_units(document: Document, coders: Sequence[int]) -> list[Unit]:
    rows = coder_spans(document, coders).only(
        "id", "coder_id", "start", "end", "label_id", "attributes"
    )
    return align(versions(rows), coders)


def settlements(document: Document, units: Sequence[Unit]):
    """Each unit's status (gold / rejected / open) from the document's alive gold and
    rejections: two queries."""
    gold = GoldSpan.objects.for_document(document).alive().values_list("id", "start", "end")
    rejected = [
        annotation_id
        for ids in GoldRejection.objects.for_document(document)
        .alive()
        .values_list("annotations", flat=True)
        for annotation_id in ids
    ]
    return settle(units, list(gold), rejected)


# --- helpers of the writes ---------------------------------------------------------------------


def _note(note: Any) -> str:
    note = "" if note is None else str(note).strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationError({"note": [NOTE_TOO_LONG.format(limit=NOTE_LIMIT, length=len(note))]})
    return note


def _ids(field: str, values: Any) -> list[int]:
    if isinstance(values, str | int):
        values = [values]
    ids = list(dict.fromkeys(_as_int(field, value) for value in values or ()))
    if not ids:
        raise ValidationError({field: [NO_SPANS_CHOSEN]})
    return ids


def gold_snapshot(span: GoldSpan) -> dict:
    return {
        "id": span.pk,
        "label_id": span.label_id,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "attributes": span.attributes,
        "version": span.version,
        "origin": span.origin,
        "source_annotations": span.source_annotations,
        "needs_review": span.needs_review,
        "note": span.note,
    }


def gold_relation_snapshot(relation: GoldRelation) -> dict:
    return {
        "id": relation.pk,
        "type_id": relation.type_id,
        "source_id": relation.source_id,
        "target_id": relation.target_id,
        "source_relations": relation.source_relations,
        "note": relation.note,
    }


def _event(user, document: Document, action: str, obj, before=None, after=None) -> AuditEvent:
    """An unsaved AuditEvent, for the bulk decisions' bulk_create."""
    return AuditEvent(
        project_id=document.project_id,
        document=document,
        user=user,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        before=before,
        after=after,
    )


def _start(document: Document, adjudicator, now) -> None:
    Document.objects.filter(pk=document.pk).update(adjudication_started_at=now)
    document.adjudication_started_at = now
    audit.record(
        user=adjudicator,
        document=document,
        action="adjudication.start",
        obj=document,
        after={"adjudication_started_at": now.isoformat()},
    )


def _begin(document: Document, adjudicator) -> list[int]:
    """Lock the document, check that decisions may be made on it, start the adjudication if
    this is the first; return the counted coders."""
    locked = (
        Document.objects.select_for_update()
        .only("id", "adjudication_started_at", "adjudicated_at")
        .get(pk=document.pk)
    )
    document.adjudication_started_at = locked.adjudication_started_at
    document.adjudicated_at = locked.adjudicated_at
    if locked.adjudicated_at is not None:
        raise ValidationError({"document": [ADJUDICATED]})
    coders = document_coders(document)
    k = document.project.overlap_k
    if len(coders) < k:
        raise ValidationError({"document": [NOT_READY.format(submitted=len(coders), k=k)]})
    if locked.adjudication_started_at is None:
        _start(document, adjudicator, timezone.now())
    return coders


def _chosen_annotations(document: Document, coders: Sequence[int], ids: list[int]) -> list:
    found = {
        span.pk: span
        for span in coder_spans(document, coders).filter(pk__in=ids).select_related("label")
    }
    for annotation_id in ids:
        if annotation_id not in found:
            raise ValidationError({"annotations": [NO_SUCH_ANNOTATION.format(id=annotation_id)]})
    return [found[annotation_id] for annotation_id in ids]


def _lenient_attributes(label: LabelSpec, attributes: dict) -> tuple[dict, list[str]]:
    """A coder's attributes cleaned under today's codebook; values it no longer accepts are
    left out (and named) rather than blocking the decision."""
    try:
        return clean_attributes(label, attributes), []
    except ValidationError:
        kept, dropped = {}, []
        for name, value in attributes.items():
            try:
                kept.update(clean_attributes(label, {name: value}))
            except ValidationError:
                dropped.append(name)
        return kept, dropped


def _alive_gold(document: Document) -> list[GoldSpan]:
    return list(GoldSpan.objects.for_document(document).alive())


def _label_name(codebook: Codebook, label_id: int) -> str:
    spec = codebook.label_by_id(label_id)
    return spec.name if spec else "?"


def _check_against_gold(
    codebook: Codebook,
    gold: Iterable[GoldSpan],
    label_id: int,
    start: int,
    end: int,
    *,
    exclude: Iterable[int] = (),
) -> None:
    """Refuse a duplicate of an alive gold span, and an overlap where the project forbids it."""
    excluded = set(exclude)
    for other in gold:
        if other.pk in excluded or other.end <= start or other.start >= end:
            continue
        label = _label_name(codebook, other.label_id)
        if (other.start, other.end, other.label_id) == (start, end, label_id):
            raise ValidationError(
                {"start": [GOLD_DUPLICATE.format(label=label, start=start, end=end)]}
            )
        if not codebook.allow_overlap:
            raise ValidationError(
                {
                    "start": [
                        GOLD_OVERLAP.format(
                            label=label, text=other.text, start=other.start, end=other.end
                        )
                    ]
                }
            )


def _delete_gold(spans: Iterable[GoldSpan], adjudicator, document: Document, now, action: str):
    for span in spans:
        before = gold_snapshot(span)
        relation_ids = list(
            GoldRelation.objects.alive()
            .filter(Q(source=span) | Q(target=span))
            .values_list("id", flat=True)
        )
        GoldRelation.objects.filter(pk__in=relation_ids).update(deleted_at=now)
        GoldSpan.objects.filter(pk=span.pk).update(
            deleted_at=now, version=span.version + 1, updated=now
        )
        span.deleted_at = now
        span.version += 1
        audit.record(
            user=adjudicator,
            document=document,
            action=action,
            obj=span,
            before=before,
            after={"relation_ids": relation_ids},
        )


def _supersede_rejections(
    document: Document, annotation_ids: Iterable[int], now, adjudicator
) -> None:
    """An accept of spans that were rejected before replaces that decision."""
    wanted = set(annotation_ids)
    stale = [
        rejection
        for rejection in GoldRejection.objects.for_document(document).alive()
        if wanted & set(rejection.annotations)
    ]
    if stale:
        GoldRejection.objects.filter(pk__in=[r.pk for r in stale]).update(deleted_at=now)
        AuditEvent.objects.bulk_create(
            _event(
                adjudicator,
                document,
                "gold.reject.superseded",
                rejection,
                before={"annotations": rejection.annotations, "note": rejection.note},
            )
            for rejection in stale
        )


def _identical(document: Document, coders: Sequence[int], keys: Iterable[tuple]) -> dict:
    """(start, end, label_id) -> ids of every counted coder's alive span with exactly that key."""
    keys = list(keys)
    condition = Q()
    for start, end, label_id in keys:
        condition |= Q(start=start, end=end, label_id=label_id)
    found: dict[tuple, list[int]] = defaultdict(list)
    if keys:
        for pk, start, end, label_id in (
            coder_spans(document, coders)
            .filter(condition)
            .order_by("coder_id", "id")
            .values_list("id", "start", "end", "label_id")
        ):
            found[(start, end, label_id)].append(pk)
    return found


def _check_relation(codebook: Codebook, relation_type, source: GoldSpan, target: GoldSpan):
    if source.pk == target.pk:
        raise ValidationError({"target": [RELATION_SELF]})
    if (source.label_id, target.label_id) != (
        relation_type.from_label_id,
        relation_type.to_label_id,
    ):
        raise ValidationError(
            {
                "type": [
                    RELATION_LABELS.format(
                        type=relation_type.name,
                        expected_from=_label_name(codebook, relation_type.from_label_id),
                        expected_to=_label_name(codebook, relation_type.to_label_id),
                        got_from=_label_name(codebook, source.label_id),
                        got_to=_label_name(codebook, target.label_id),
                    )
                ]
            }
        )
    existing = GoldRelation.objects.alive().filter(source=source, type_id=relation_type.id)
    if existing.filter(target=target).exists():
        raise ValidationError({"target": [RELATION_DUPLICATE.format(type=relation_type.name)]})
    if relation_type.max_per_source is not None:
        count = existing.count()
        if count >= relation_type.max_per_source:
            raise ValidationError(
                {
                    "type": [
                        RELATION_CARDINALITY.format(
                            label=_label_name(codebook, source.label_id),
                            text=source.text,
                            count=count,
                            type=relation_type.name,
                            limit=relation_type.max_per_source,
                        )
                    ]
                }
            )


def _carry_relations(
    *,
    document: Document,
    adjudicator,
    codebook: Codebook,
    new_spans: Sequence[GoldSpan],
    chosen: Iterable[int] = (),
) -> list[GoldRelation]:
    """Bring into the gold the coders' links of the new gold spans' source spans whose other
    end is in the gold too. A link the gold already has gains the coder's link as provenance;
    one that the codebook no longer allows there (labels, at most n per span) is left out.
    Links of the spans the adjudicator chose come first, so they win a cardinality limit."""
    gold_of: dict[int, GoldSpan] = {}
    for span in _alive_gold(document):
        for annotation_id in span.source_annotations:
            gold_of[annotation_id] = span
    new_sources = {annotation_id for span in new_spans for annotation_id in span.source_annotations}
    if not new_sources:
        return []
    chosen = set(chosen)
    candidates = sorted(
        Relation.objects.for_document(document)
        .alive()
        .filter(Q(source_id__in=new_sources) | Q(target_id__in=new_sources)),
        key=lambda r: (r.source_id not in chosen and r.target_id not in chosen, r.pk),
    )
    existing = {
        (r.type_id, r.source_id, r.target_id): r
        for r in GoldRelation.objects.for_document(document).alive()
    }
    per_source: dict[tuple[int, int], int] = defaultdict(int)
    for (type_id, source_id, _), _relation in existing.items():
        per_source[(source_id, type_id)] += 1
    created = []
    for relation in candidates:
        source, target = gold_of.get(relation.source_id), gold_of.get(relation.target_id)
        relation_type = codebook.relation_type_by_id(relation.type_id)
        if source is None or target is None or relation_type is None or source.pk == target.pk:
            continue
        if (source.label_id, target.label_id) != (
            relation_type.from_label_id,
            relation_type.to_label_id,
        ):
            continue
        key = (relation_type.id, source.pk, target.pk)
        if key in existing:
            gold_relation = existing[key]
            if relation.pk not in gold_relation.source_relations:
                before = gold_relation_snapshot(gold_relation)
                gold_relation.source_relations = sorted(
                    [*gold_relation.source_relations, relation.pk]
                )
                GoldRelation.objects.filter(pk=gold_relation.pk).update(
                    source_relations=gold_relation.source_relations
                )
                audit.record(
                    user=adjudicator,
                    document=document,
                    action="gold.relation.accept",
                    obj=gold_relation,
                    before=before,
                    after=gold_relation_snapshot(gold_relation),
                )
            continue
        limit = relation_type.max_per_source
        if limit is not None and per_source[(source.pk, relation_type.id)] >= limit:
            continue
        gold_relation = GoldRelation.objects.create(
            document=document,
            type_id=relation_type.id,
            source=source,
            target=target,
            source_relations=[relation.pk],
            created_by=adjudicator,
        )
        existing[key] = gold_relation
        per_source[(source.pk, relation_type.id)] += 1
        created.append(gold_relation)
        audit.record(
            user=adjudicator,
            document=document,
            action="gold.relation.accept",
            obj=gold_relation,
            after=gold_relation_snapshot(gold_relation),
        )
    return created


# --- decisions on spans ------------------------------------------------------------------------


@transaction.atomic
def adjudication_start(*, document: Document, adjudicator) -> Document:
    """Start adjudicating: from now on the document's coders cannot reopen their submissions.
    Every decision starts it too; starting twice changes nothing."""
    _begin(document, adjudicator)
    return document


@transaction.atomic
def gold_accept(
    *,
    adjudicator,
    document: Document,
    annotation_ids: Any,
    note: Any = "",
    replace: bool = False,
) -> list[GoldSpan]:
    """Accept coders' spans into the gold, with the attributes of the first one given for
    each distinct span, and their links whose other end is in the gold (or arrives now).

    Each gold span records as provenance every counted coder's span identical to it (same
    start, end and label), not only the one chosen. Accepting a span the gold already has adds
    to its provenance. ``replace``: alive gold spans overlapping the new ones are deleted first
    (the adjudicator changes their mind about a unit); otherwise an overlap is refused where
    the project forbids overlapping spans.
    """
    coders = _begin(document, adjudicator)
    note = _note(note)
    chosen = _chosen_annotations(document, coders, _ids("annotations", annotation_ids))
    codebook = get_codebook(document.project)
    now = timezone.now()
    groups: dict[tuple, list[Annotation]] = {}
    for span in chosen:
        groups.setdefault((span.start, span.end, span.label_id), []).append(span)
    identical = _identical(document, coders, groups)
    gold = _alive_gold(document)
    results: list[GoldSpan] = []
    new_spans: list[GoldSpan] = []
    for key, spans in groups.items():
        start, end, label_id = key
        sources = sorted(set(identical.get(key, [])) | {span.pk for span in spans})
        same = next((g for g in gold if (g.start, g.end, g.label_id) == key), None)
        if same is not None:
            # Already in the gold: only the provenance (and the note, when given) grows.
            before = gold_snapshot(same)
            merged = sorted(set(same.source_annotations) | set(sources))
            if merged != same.source_annotations or (note and note != same.note):
                same.source_annotations = merged
                same.note = note or same.note
                same.version += 1
                same.save(update_fields=["source_annotations", "note", "version", "updated"])
                audit.record(
                    user=adjudicator,
                    document=document,
                    action="gold.accept",
                    obj=same,
                    before=before,
                    after=gold_snapshot(same),
                )
            results.append(same)
            continue
        overlapping = [g for g in gold if g.start < end and g.end > start and g not in results]
        if replace and overlapping:
            _delete_gold(overlapping, adjudicator, document, now, "gold.replace")
            gold = [g for g in gold if g not in overlapping]
        _check_against_gold(codebook, gold, label_id, start, end)
        label = codebook.label_by_id(label_id)
        attributes, dropped = _lenient_attributes(label, spans[0].attributes) if label else ({}, [])
        span = GoldSpan.objects.create(
            document=document,
            label_id=label_id,
            start=start,
            end=end,
            text=spans[0].text,
            attributes=attributes,
            origin=GoldOrigin.ACCEPTED,
            source_annotations=sources,
            needs_review=bool(dropped),
            note="\n".join(
                filter(None, [note, dropped and DROPPED_NOTE.format(names=", ".join(dropped))])
            ),
            created_by=adjudicator,
        )
        audit.record(
            user=adjudicator,
            document=document,
            action="gold.accept",
            obj=span,
            after=gold_snapshot(span),
        )
        gold.append(span)
        results.append(span)
        new_spans.append(span)
    settled = {pk for ids in identical.values() for pk in ids} | {span.pk for span in chosen}
    _supersede_rejections(document, settled, now, adjudicator)
    _carry_relations(
        document=document,
        adjudicator=adjudicator,
        codebook=codebook,
        new_spans=new_spans,
        chosen={span.pk for span in chosen},
    )
    return results


@transaction.atomic
def gold_reject(
    *, adjudicator, document: Document, annotation_ids: Any, note: Any = ""
) -> GoldRejection:
    """Decide that these coders' spans do not belong in the gold. Gold spans that came from
    any of them are deleted (the adjudicator changed their mind), with their links."""
    coders = _begin(document, adjudicator)
    note = _note(note)
    chosen = _chosen_annotations(document, coders, _ids("annotations", annotation_ids))
    ids = {span.pk for span in chosen}
    now = timezone.now()
    from_them = [g for g in _alive_gold(document) if ids & set(g.source_annotations)]
    _delete_gold(from_them, adjudicator, document, now, "gold.delete")
    rejection = GoldRejection.objects.create(
        document=document, annotations=sorted(ids), note=note, created_by=adjudicator
    )
    audit.record(
        user=adjudicator,
        document=document,
        action="gold.reject",
        obj=rejection,
        after={"annotations": rejection.annotations, "note": note},
    )
    return rejection


@transaction.atomic
def gold_add(
    *,
    adjudicator,
    document: Document,
    label: Any,
    start: Any,
    end: Any,
    text: Any,
    attributes: dict | None = None,
    note: Any = "",
    based_on: Any = (),
    replace: bool = False,
) -> GoldSpan:
    """A gold span the adjudicator makes: one nobody marked (origin "added"), or a coder's
    version changed before it enters the gold (``based_on`` those spans' ids: "edited")."""
    coders = _begin(document, adjudicator)
    note = _note(note)
    codebook = get_codebook(document.project)
    label_spec = _resolve_label(codebook, label)
    start, end = _check_bounds(document, start, end, text)
    sources = (
        [span.pk for span in _chosen_annotations(document, coders, _ids("based_on", based_on))]
        if based_on
        else []
    )
    defaults = {a.name: a.default for a in label_spec.attributes if a.default is not None}
    cleaned = clean_attributes(label_spec, {**defaults, **dict(attributes or {})})
    now = timezone.now()
    gold = _alive_gold(document)
    if replace:
        overlapping = [g for g in gold if g.start < end and g.end > start]
        _delete_gold(overlapping, adjudicator, document, now, "gold.replace")
        gold = [g for g in gold if g not in overlapping]
    _check_against_gold(codebook, gold, label_spec.id, start, end)
    span = GoldSpan.objects.create(
        document=document,
        label_id=label_spec.id,
        start=start,
        end=end,
        text=text,
        attributes=cleaned,
        origin=GoldOrigin.EDITED if sources else GoldOrigin.ADDED,
        source_annotations=sorted(sources),
        note=note,
        created_by=adjudicator,
    )
    audit.record(
        user=adjudicator,
        document=document,
        action="gold.add",
        obj=span,
        after=gold_snapshot(span),
    )
    if sources:
        _supersede_rejections(document, sources, now, adjudicator)
        _carry_relations(
            document=document,
            adjudicator=adjudicator,
            codebook=codebook,
            new_spans=[span],
            chosen=sources,
        )
    return span


@transaction.atomic
def gold_edit(
    *,
    adjudicator,
    gold_span: GoldSpan,
    version: Any,
    label: Any = None,
    start: Any = None,
    end: Any = None,
    text: Any = None,
    attributes: dict | None = None,
    note: Any = None,
) -> GoldSpan:
    """Change a gold span's label, bounds, attributes (replaced as a whole) or note.

    Refused with GoldConflictError, changing nothing, unless ``version`` is current. A span
    accepted from coders becomes "edited"; the edit counts as its review.
    """
    document = gold_span.document
    _begin(document, adjudicator)
    sent = _as_int("version", version)
    current = GoldSpan.objects.filter(pk=gold_span.pk).values_list("version", "deleted_at").first()
    if current is None or current[1] is not None:
        raise GoldConflictError(gold_span.pk, version, None)
    if current[0] != sent:
        raise GoldConflictError(gold_span.pk, version, current[0])
    codebook = get_codebook(document.project)
    before = gold_snapshot(gold_span)
    changes: dict[str, Any] = {}
    label_spec = codebook.label_by_id(gold_span.label_id)
    if label is not None and label != (label_spec.name if label_spec else None):
        label_spec = _resolve_label(codebook, label)
        _check_gold_links_survive(codebook, gold_span, label_spec)
        changes["label_id"] = label_spec.id
        if attributes is None:
            attributes = {k: v for k, v in gold_span.attributes.items() if label_spec.attribute(k)}
    if attributes is not None:
        cleaned = clean_attributes(label_spec, attributes)
        # A form sends every field: only what differs is a change (and makes it "edited").
        if cleaned != gold_span.attributes or "label_id" in changes:
            changes["attributes"] = cleaned
    new_start, new_end = gold_span.start, gold_span.end
    if start is not None or end is not None or text is not None:
        new_start = gold_span.start if start is None else start
        new_end = gold_span.end if end is None else end
        new_text = (
            text
            if text is not None
            else document.text[_as_int("start", new_start) : _as_int("end", new_end)]
        )
        new_start, new_end = _check_bounds(document, new_start, new_end, new_text)
        if (new_start, new_end) != (gold_span.start, gold_span.end):
            changes.update(start=new_start, end=new_end, text=new_text)
    if "label_id" in changes or "start" in changes:
        _check_against_gold(
            codebook,
            _alive_gold(document),
            changes.get("label_id", gold_span.label_id),
            new_start,
            new_end,
            exclude=[gold_span.pk],
        )
    if note is not None and _note(note) != gold_span.note:
        changes["note"] = _note(note)
    if not changes and not gold_span.needs_review:
        return gold_span
    if gold_span.origin == GoldOrigin.ACCEPTED and set(changes) - {"note"}:
        changes["origin"] = GoldOrigin.EDITED
    changes.update(needs_review=False, version=sent + 1, updated=timezone.now())
    written = GoldSpan.objects.filter(
        pk=gold_span.pk, version=sent, deleted_at__isnull=True
    ).update(**changes)
    if written != 1:
        raise GoldConflictError(gold_span.pk, version, None)
    for name, value in changes.items():
        setattr(gold_span, name, value)
    audit.record(
        user=adjudicator,
        document=document,
        action="gold.edit",
        obj=gold_span,
        before=before,
        after=gold_snapshot(gold_span),
    )
    return gold_span


def _check_gold_links_survive(codebook: Codebook, span: GoldSpan, new_label: LabelSpec) -> None:
    broken = [
        r.type.name
        for r in GoldRelation.objects.alive().filter(source=span).select_related("type")
        if r.type.from_label_id != new_label.id
    ] + [
        r.type.name
        for r in GoldRelation.objects.alive().filter(target=span).select_related("type")
        if r.type.to_label_id != new_label.id
    ]
    if broken:
        raise ValidationError(
            {
                "label": [
                    GOLD_LABEL_BREAKS_LINKS.format(
                        label=new_label.name,
                        count=len(broken),
                        types=", ".join(sorted(set(broken))),
                    )
                ]
            }
        )


@transaction.atomic
def gold_delete(*, adjudicator, gold_span: GoldSpan, version: Any) -> GoldSpan:
    """Take a span out of the gold (with its links), if ``version`` is current."""
    document = gold_span.document
    _begin(document, adjudicator)
    sent = _as_int("version", version)
    current = GoldSpan.objects.filter(pk=gold_span.pk).values_list("version", "deleted_at").first()
    if current is None or current[1] is not None:
        raise GoldConflictError(gold_span.pk, version, None)
    if current[0] != sent:
        raise GoldConflictError(gold_span.pk, version, current[0])
    _delete_gold([gold_span], adjudicator, document, timezone.now(), "gold.delete")
    return gold_span


# --- bulk decisions ----------------------------------------------------------------------------


def parse_threshold(value: Any) -> Fraction:
    """A share of the coders, from "2/3", "0.75", 0.75 or a Fraction; above 1/2 so that two
    different versions of one unit can never both pass it."""
    try:
        threshold = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise ValidationError({"threshold": [THRESHOLD_RANGE.format(value=value)]}) from None
    if not Fraction(1, 2) < threshold <= 1:
        raise ValidationError({"threshold": [THRESHOLD_RANGE.format(value=value)]})
    return threshold


def _bulk(*, adjudicator, document: Document, threshold: Fraction, note: str, action: str):
    coders = _begin(document, adjudicator)
    codebook = get_codebook(document.project)
    units = document_units(document, coders)
    status = settlements(document, units)
    open_units = [unit for unit in units if status[unit.key].status == "open"]
    candidates = bulk_candidates(open_units, threshold)
    text = document.text
    gold = _alive_gold(document)
    spans = []
    for candidate in candidates:
        first = candidate.versions[0]
        label = codebook.label_by_id(first.label)
        if label is None:
            continue
        try:
            _check_against_gold(codebook, gold + spans, first.label, first.start, first.end)
        except ValidationError:
            continue
        attributes, dropped = _lenient_attributes(label, dict(candidate.attributes))
        flags = []
        if candidate.disputed:
            flags.append(DISPUTED_NOTE.format(names=", ".join(candidate.disputed)))
        if dropped:
            flags.append(DROPPED_NOTE.format(names=", ".join(dropped)))
        spans.append(
            GoldSpan(
                document=document,
                label_id=first.label,
                start=first.start,
                end=first.end,
                text=text[first.start : first.end],
                attributes=attributes,
                origin=GoldOrigin.ACCEPTED,
                source_annotations=sorted(v.id for v in candidate.versions),
                needs_review=bool(flags),
                note="\n".join(filter(None, [note, *flags])),
                created_by=adjudicator,
            )
        )
    created = GoldSpan.objects.bulk_create(spans)
    if any(span.pk is None for span in created):  # a database without RETURNING
        created = list(
            GoldSpan.objects.for_document(document)
            .alive()
            .filter(created_by=adjudicator, pk__gt=max((g.pk for g in gold), default=0))
        )
    AuditEvent.objects.bulk_create(
        _event(adjudicator, document, action, span, after=gold_snapshot(span)) for span in created
    )
    now = timezone.now()
    _supersede_rejections(
        document, {pk for s in created for pk in s.source_annotations}, now, adjudicator
    )
    _carry_relations(
        document=document, adjudicator=adjudicator, codebook=codebook, new_spans=created
    )
    return created


@transaction.atomic
def gold_accept_agreed(*, adjudicator, document: Document, note: Any = "") -> list[GoldSpan]:
    """Accept every span all counted coders made identically (same start, end and label) in
    units still open. Attributes: where the coders agree, else the majority's, else the first
    coder's, and the span is flagged for review."""
    return _bulk(
        adjudicator=adjudicator,
        document=document,
        threshold=Fraction(1),
        note=_note(note),
        action="gold.accept_agreed",
    )


@transaction.atomic
def gold_accept_majority(
    *, adjudicator, document: Document, threshold: Any, note: Any = ""
) -> list[GoldSpan]:
    """Accept every span made identically by at least ``threshold`` of the counted coders, in
    units still open; attributes as for gold_accept_agreed."""
    return _bulk(
        adjudicator=adjudicator,
        document=document,
        threshold=parse_threshold(threshold),
        note=_note(note),
        action="gold.accept_majority",
    )


# --- decisions on links ------------------------------------------------------------------------


@transaction.atomic
def gold_relation_accept(
    *, adjudicator, document: Document, relation_ids: Any, note: Any = ""
) -> list[GoldRelation]:
    """Accept coders' links into the gold, between the gold spans their two ends went to."""
    coders = _begin(document, adjudicator)
    note = _note(note)
    ids = _ids("relations", relation_ids)
    codebook = get_codebook(document.project)
    found = {
        r.pk: r
        for r in Relation.objects.for_document(document)
        .alive()
        .filter(pk__in=ids, coder_id__in=coders)
    }
    gold_of: dict[int, GoldSpan] = {}
    for span in _alive_gold(document):
        for annotation_id in span.source_annotations:
            gold_of[annotation_id] = span
    results = []
    for relation_id in ids:
        relation = found.get(relation_id)
        if relation is None:
            raise ValidationError({"relations": [NO_SUCH_RELATION.format(id=relation_id)]})
        source, target = gold_of.get(relation.source_id), gold_of.get(relation.target_id)
        if source is None or target is None:
            end = "source" if source is None else "target"
            raise ValidationError({"relations": [LINK_END_NOT_IN_GOLD.format(end=end)]})
        same = (
            GoldRelation.objects.alive()
            .filter(type_id=relation.type_id, source=source, target=target)
            .first()
        )
        if same is not None:
            if relation.pk not in same.source_relations:
                before = gold_relation_snapshot(same)
                same.source_relations = sorted([*same.source_relations, relation.pk])
                same.save(update_fields=["source_relations"])
                audit.record(
                    user=adjudicator,
                    document=document,
                    action="gold.relation.accept",
                    obj=same,
                    before=before,
                    after=gold_relation_snapshot(same),
                )
            results.append(same)
            continue
        relation_type = codebook.relation_type_by_id(relation.type_id)
        _check_relation(codebook, relation_type, source, target)
        gold_relation = GoldRelation.objects.create(
            document=document,
            type_id=relation_type.id,
            source=source,
            target=target,
            source_relations=[relation.pk],
            note=note,
            created_by=adjudicator,
        )
        audit.record(
            user=adjudicator,
            document=document,
            action="gold.relation.accept",
            obj=gold_relation,
            after=gold_relation_snapshot(gold_relation),
        )
        results.append(gold_relation)
    return results


@transaction.atomic
def gold_relation_add(
    *,
    adjudicator,
    document: Document,
    type: Any,
    source_id: Any,
    target_id: Any,
    note: Any = "",
) -> GoldRelation:
    """A link between two gold spans that the adjudicator makes."""
    _begin(document, adjudicator)
    note = _note(note)
    codebook = get_codebook(document.project)
    relation_type = codebook.relation_type_by_name(type) if isinstance(type, str) else None
    if relation_type is None:
        known = ", ".join(rt.name for rt in codebook.relation_types)
        raise ValidationError({"type": [UNKNOWN_RELATION_TYPE.format(name=type, known=known)]})
    ends = {}
    for field, span_id in (("source", source_id), ("target", target_id)):
        span_id = _as_int(field, span_id)
        span = GoldSpan.objects.for_document(document).alive().filter(pk=span_id).first()
        if span is None:
            raise ValidationError({field: [NO_SUCH_GOLD_SPAN.format(id=span_id)]})
        ends[field] = span
    _check_relation(codebook, relation_type, ends["source"], ends["target"])
    gold_relation = GoldRelation.objects.create(
        document=document,
        type_id=relation_type.id,
        source=ends["source"],
        target=ends["target"],
        note=note,
        created_by=adjudicator,
    )
    audit.record(
        user=adjudicator,
        document=document,
        action="gold.relation.add",
        obj=gold_relation,
        after=gold_relation_snapshot(gold_relation),
    )
    return gold_relation


@transaction.atomic
def gold_relation_delete(*, adjudicator, gold_relation: GoldRelation) -> GoldRelation:
    document = gold_relation.document
    _begin(document, adjudicator)
    written = GoldRelation.objects.filter(pk=gold_relation.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    if written:
        audit.record(
            user=adjudicator,
            document=document,
            action="gold.relation.delete",
            obj=gold_relation,
            before=gold_relation_snapshot(gold_relation),
        )
    return gold_relation


# --- the document's state ----------------------------------------------------------------------


@transaction.atomic
def adjudication_complete(*, adjudicator, document: Document, note: Any = "") -> Document:
    """The gold is final: the document becomes "adjudicated". Refused while a unit is open."""
    coders = _begin(document, adjudicator)
    note = _note(note)
    units = document_units(document, coders)
    status = settlements(document, units)
    still_open = sum(1 for unit in units if status[unit.key].status == "open")
    if still_open:
        raise ValidationError({"document": [UNITS_OPEN.format(count=still_open)]})
    now = timezone.now()
    Document.objects.filter(pk=document.pk).update(adjudicated_at=now)
    document.adjudicated_at = now
    audit.record(
        user=adjudicator,
        document=document,
        action="adjudication.complete",
        obj=document,
        after={"adjudicated_at": now.isoformat(), "note": note},
    )
    return document


@transaction.atomic
def adjudication_reopen(*, adjudicator, document: Document, note: Any = "") -> Document:
    """Open an adjudicated document's gold for changes again (audited, with the reason)."""
    note = _note(note)
    locked = Document.objects.select_for_update().only("id", "adjudicated_at").get(pk=document.pk)
    if locked.adjudicated_at is None:
        raise ValidationError({"document": [NOT_ADJUDICATED]})
    Document.objects.filter(pk=document.pk).update(adjudicated_at=None)
    audit.record(
        user=adjudicator,
        document=document,
        action="adjudication.reopen",
        obj=document,
        before={"adjudicated_at": locked.adjudicated_at.isoformat()},
        after={"note": note},
    )
    document.adjudicated_at = None
    return document


# --- coders against the gold -------------------------------------------------------------------


@dataclass(frozen=True)
class GoldComparison:
    scores: list[GoldScore]  # coder = user id, label = label name (None: all labels)
    documents: int  # adjudicated documents in the project


def gold_scores(
    project: Project,
    *,
    documents: Q | None = None,
    document_ids: Collection[int] | None = None,
    coders: Collection[int] = (),
    labels: Collection[str] = (),
) -> GoldComparison:
    """Each coder's precision, recall and F1 against the gold of the project's adjudicated
    documents (only the documents that coder coded count for them). Four queries.

    The agreement report narrows it with its filters: ``documents`` (a condition on the
    documents), ``document_ids`` (checked here, however many), ``coders`` (user ids) and
    ``labels`` (names); empty means all."""
    adjudicated_query = project.documents.filter(adjudicated_at__isnull=False)
    if documents is not None:
        adjudicated_query = adjudicated_query.filter(documents)
    adjudicated = list(adjudicated_query.values_list("id", flat=True))
    if document_ids:
        wanted = set(document_ids)
        adjudicated = [pk for pk in adjudicated if pk in wanted]
    if not adjudicated:
        return GoldComparison([], 0)
    pairs = list(
        Assignment.objects.filter(document_id__in=adjudicated, state=AssignmentState.SUBMITTED)
        .values_list("document_id", "coder_id")
        .distinct()
    )
    if not pairs and not Assignment.objects.filter(project=project).exists():
        pairs = list(
            Annotation.objects.alive()
            .filter(document_id__in=adjudicated)
            .values_list("document_id", "coder_id")
            .distinct()
        )
    if coders:
        pairs = [(document_id, coder_id) for document_id, coder_id in pairs if coder_id in coders]
    documents_of: dict[int, set[int]] = defaultdict(set)
    for document_id, coder_id in pairs:
        documents_of[coder_id].add(document_id)
    names = {label.id: label.name for label in get_codebook(project).labels}
    if labels:
        names = {pk: name for pk, name in names.items() if name in labels}
    gold = [
        (document_id, start, end, names.get(label_id, "?"))
        for document_id, start, end, label_id in GoldSpan.objects.alive()
        .filter(document_id__in=adjudicated)
        .values_list("document_id", "start", "end", "label_id")
        if not labels or label_id in names
    ]
    counted = set(pairs)
    coded = [
        (document_id, coder_id, start, end, names.get(label_id, "?"))
        for document_id, coder_id, start, end, label_id in Annotation.objects.alive()
        .filter(document_id__in=adjudicated)
        .values_list("document_id", "coder_id", "start", "end", "label_id")
        if (document_id, coder_id) in counted and (not labels or label_id in names)
    ]
    ordered = dict(sorted(documents_of.items()))
    return GoldComparison(scores_against_gold(gold, coded, ordered), len(adjudicated))
