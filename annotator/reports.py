"""The one adapter from QuerySets to the agreement package's plain data, and its cache.

``compute_payload`` streams the rows a report needs (``values_list`` through a server-side
cursor, chunk by chunk, the next chunk read ahead while this one is turned into objects; no
model instance), turns them into :class:`CodedSpan` / :class:`CodedRelation`, calls
:func:`annotator.agreement.report.build_report` and returns a JSON-ready dict. Nothing here
computes a measure; everything here decides which rows count:

- A document counts when at least two coders submitted it (``Assignment.state ==
  "submitted"``), and only those coders' spans and links count. Until a project uses
  assignments at all (it has no Assignment row), every coder's alive spans count, and a
  document counts when at least two coders marked something in it.
- Coders are reported under stable pseudonyms ("Coder A", "Coder B", ... by user id, members
  first) so that the report's own sentences ("Coder A marked no spans where ...") carry no
  names; the payload maps each pseudonym to the user, and the page shows names or pseudonyms
  depending on who is looking (``coder_names``).

Snapshots: a report is computed once per state of its data and stored in the database
(:class:`AgreementSnapshot`), so every gunicorn worker shares it. Its key hashes the project,
the filters and a fingerprint of the data read with a few aggregate queries. A big project's
report is computed in a background thread of the worker that first asked (a daemon thread with
its own database connection, closed at the end), while the page polls. A job queue would
survive a restart of the worker, but it would add a broker and a second process to run for
one page; here a computation interrupted by a restart leaves a "computing" row that the next
visit takes over once it is ``STALE_AFTER`` old.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import queue
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.db.models.functions import ExtractIsoYear, ExtractWeek, Length
from django.utils import timezone

from annotator import access
from annotator.agreement.report import (
    NO_SHARED_DOCUMENT,
    CodedRelation,
    CodedSpan,
    build_report,
)
from annotator.models import (
    AgreementSnapshot,
    Annotation,
    Assignment,
    AssignmentState,
    Document,
    Label,
    Membership,
    Project,
    Relation,
    RelationType,
    Role,
    SnapshotState,
)

logger = logging.getLogger(__name__)

# Bump when the payload's shape changes: old snapshots then no longer match any key.
PAYLOAD_VERSION = 1
# Reports over more alive spans than this are computed in the background while the page polls.
SYNC_LIMIT_SPANS = 20_000
# A "computing" row older than this belongs to a worker that died (or was recycled by
# gunicorn); the next visit takes over. The 600,000-span report takes seconds, not minutes.
STALE_AFTER = timedelta(minutes=5)
# A failed computation is tried again on a visit after this long.
RETRY_FAILED_AFTER = timedelta(minutes=1)
# Snapshots kept per project (the newest); each is one report under one set of filters.
KEEP_SNAPSHOTS = 20
TOP_DOCUMENTS = 100
# The weekly trend rests on at most this many documents a week (see _trend).
TREND_DOCUMENTS = 50
CHUNK_SIZE = 20_000
# An explicit document set this small is sent to the database as an IN list; a larger one is
# applied while streaming (no huge parameter lists, which SQLite limits).
IN_LIST_LIMIT = 2_000

NOT_TWO_CODERS = "no document was submitted by two or more of the chosen coders"
NOT_TWO_CODERS_WITHOUT_ASSIGNMENTS = "no document has spans of two or more of the chosen coders"

Progress = Callable[[str], None]


# --- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFilters:
    """Which spans a report rests on. Empty means "no restriction".

    Documents: ``document_ids`` and the ``published`` range restrict them; ``sample`` then
    draws that many of the documents that count, reproducibly for a given ``seed``.
    """

    labels: tuple[str, ...] = ()
    coders: tuple[int, ...] = ()
    document_ids: tuple[int, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    sample: int | None = None
    seed: int = 0
    codebook_version: int | None = None

    def __post_init__(self) -> None:
        # Canonical order, so equal filters give equal snapshot keys.
        object.__setattr__(self, "labels", tuple(sorted(set(self.labels))))
        object.__setattr__(self, "coders", tuple(sorted({int(c) for c in self.coders})))
        object.__setattr__(self, "document_ids", tuple(sorted({int(d) for d in self.document_ids})))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("labels", "coders", "document_ids"):
            data[name] = list(data[name])
        for name in ("published_from", "published_to"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgreementFilters:
        values = dict(data)
        for name in ("published_from", "published_to"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        for name in ("labels", "coders", "document_ids"):
            values[name] = tuple(values.get(name) or ())
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as GET parameters (the names the page form, the exports and the API
        read), for links that keep them."""
        items = [("label", label) for label in self.labels]
        items += [("coder", str(coder)) for coder in self.coders]
        if self.document_ids:
            items.append(("documents", ",".join(map(str, self.document_ids))))
        if self.published_from:
            items.append(("published_from", self.published_from.isoformat()))
        if self.published_to:
            items.append(("published_to", self.published_to.isoformat()))
        if self.sample:
            items += [("sample", str(self.sample)), ("seed", str(self.seed))]
        if self.codebook_version is not None:
            items.append(("codebook_version", str(self.codebook_version)))
        return items

    @property
    def is_empty(self) -> bool:
        return self == AgreementFilters()


# --- coders -----------------------------------------------------------------------------------


def pseudonym(index: int) -> str:
    """Coder A ... Coder Z, Coder AA, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"Coder {letters}"


def project_coders(project: Project) -> list[dict[str, Any]]:
    """The project's coders (members with the coder role) with their pseudonyms, by user id."""
    rows = (
        Membership.objects.filter(project=project, role=Role.CODER)
        .order_by("user_id")
        .values_list("user_id", "user__username")
    )
    return [
        {"key": pseudonym(index), "id": user_id, "username": username}
        for index, (user_id, username) in enumerate(rows)
    ]


def _coder_directory(project: Project, other_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Members first (the same pseudonyms as the filter form shows), then anyone else whose
    work counts (a former member), by user id."""
    coders = project_coders(project)
    known = {coder["id"] for coder in coders}
    extra = sorted(set(other_ids) - known)
    if extra:
        names = dict(get_user_model().objects.filter(pk__in=extra).values_list("pk", "username"))
        for user_id in extra:
            coders.append(
                {"key": pseudonym(len(coders)), "id": user_id, "username": names.get(user_id, "")}
            )
    return coders


_PSEUDONYM = re.compile(r"\bCoder [A-Z]+\b")


def named(text: str, names: dict[str, str]) -> str:
    """A sentence of the report with its pseudonyms replaced by what the viewer sees."""
    return _PSEUDONYM.sub(lambda match: names.get(match.group(0), match.group(0)), text)


def shows_coder_names(user, project: Project) -> bool:
    """Whether the viewer sees coders by name in reports: the rule is access.py's."""
    return access.sees_coder_names(user, project)


def public_payload(
    payload: dict[str, Any], names: dict[str, str], *, show_names: bool
) -> dict[str, Any]:
    """The payload as exports and the API give it: coders under their pseudonyms, with the
    name (and user id) only where the viewer may see them."""
    coders = [
        {
            "key": coder["key"],
            "name": names.get(coder["key"], coder["key"]),
            "id": coder["id"] if show_names else None,
        }
        for coder in payload["coders"]
    ]
    return {**payload, "coders": coders}


def coder_names(payload: dict[str, Any], *, show_names: bool) -> dict[str, str]:
    """Pseudonym -> what the viewer sees: the username, or the pseudonym itself."""
    return {
        coder["key"]: (coder["username"] or coder["key"]) if show_names else coder["key"]
        for coder in payload.get("coders", ())
    }


# --- each coder against the gold -------------------------------------------------------------

GOLD_NONE_YET = "no adjudicated document yet: the gold comes from adjudication"
GOLD_NONE_CHOSEN = "none of the chosen documents is adjudicated"
GOLD_NO_CODER = "no chosen coder submitted an adjudicated document"


def gold_report(project: Project, filters: AgreementFilters) -> dict[str, Any]:
    """Each coder's spans against the gold of the adjudicated documents they coded: precision,
    recall and F1 (exact and overlap), per label and over all labels, with the counts they
    rest on; ``reason`` says why there is nothing. The coder, label and document filters
    (ids, publication dates) apply; the sample and the codebook version do not (the gold is
    not sampled, and it has no codebook version of its own).

    Not part of the cached report: it follows the gold as adjudicators change it. It names
    coders (``username``): only for viewers who may see names (``shows_coder_names``)."""
    from annotator.services.gold import gold_scores

    comparison = gold_scores(
        project,
        documents=_document_filter(filters),
        document_ids=filters.document_ids,
        coders=filters.coders,
        labels=filters.labels,
    )
    reason = None
    if not comparison.documents:
        reason = GOLD_NONE_CHOSEN if _has_adjudicated(project) else GOLD_NONE_YET
    elif not comparison.scores:
        reason = GOLD_NO_CODER
    listed = _coder_directory(project, {s.coder for s in comparison.scores})
    directory = {c["id"]: {**c, "order": n} for n, c in enumerate(listed)}
    coders: dict[int, dict[str, Any]] = {}
    for score in comparison.scores:
        who = directory[score.coder]
        entry = coders.setdefault(
            score.coder,
            {
                "key": who["key"],
                "id": score.coder,
                "username": who["username"],
                "documents": score.documents,
                "rows": [],
            },
        )
        row = {"label": score.label, "exact": asdict(score.exact), "overlap": asdict(score.overlap)}
        if score.label is None:
            entry["rows"].insert(0, row)  # all labels first
        else:
            entry["rows"].append(row)
    return {
        "documents": comparison.documents,
        "reason": reason,
        "coders": sorted(coders.values(), key=lambda c: directory[c["id"]]["order"]),
    }


def _has_adjudicated(project: Project) -> bool:
    return project.documents.filter(adjudicated_at__isnull=False).exists()


# --- the data fingerprint and the snapshot key ------------------------------------------------


def data_fingerprint(project: Project) -> dict[str, Any]:
    """A few aggregates that change whenever anything a report reads changes.

    Every span write (create, edit, delete, undo) sets ``updated``, so the maximum over all
    spans, deleted ones included, moves on each; links are soft-deleted without a timestamp,
    so their alive count is there beside their highest id.
    """
    spans = Annotation.objects.filter(document__project=project).aggregate(
        updated=Max("updated"), alive=Count("id", filter=Q(deleted_at__isnull=True))
    )
    links = Relation.objects.filter(document__project=project).aggregate(
        last=Max("id"), alive=Count("id", filter=Q(deleted_at__isnull=True))
    )
    assignments = Assignment.objects.filter(project=project).aggregate(
        rows=Count("id"),
        submitted=Count("id", filter=Q(state=AssignmentState.SUBMITTED)),
        last=Max("submitted_at"),
    )
    documents = Document.objects.filter(project=project).aggregate(rows=Count("id"), last=Max("id"))
    members = Membership.objects.filter(project=project).aggregate(rows=Count("id"), last=Max("id"))
    return {
        "spans_updated": spans["updated"],
        "spans_alive": spans["alive"],
        "links_last": links["last"],
        "links_alive": links["alive"],
        "assignments": assignments["rows"],
        "submitted": assignments["submitted"],
        "submitted_last": assignments["last"],
        "documents": documents["rows"],
        "documents_last": documents["last"],
        "members": members["rows"],
        "members_last": members["last"],
        "codebook_version": project.codebook_version,
    }


def snapshot_key(project: Project, filters: AgreementFilters, fingerprint: dict[str, Any]) -> str:
    return _digest({"view": filters_key(project, filters), "data": fingerprint})


def filters_key(project: Project, filters: AgreementFilters) -> str:
    """The project and the filters alone: the same view of the report, whatever the data."""
    return _digest(
        {"payload_version": PAYLOAD_VERSION, "project": project.pk, "filters": filters.as_dict()}
    )


def _digest(material: dict[str, Any]) -> str:
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- snapshots --------------------------------------------------------------------------------


def snapshot_for(
    project: Project, filters: AgreementFilters, *, background: bool = True
) -> AgreementSnapshot:
    """The snapshot of this report for the data as it is now: ready, or being computed.

    With ``background`` a report over more than ``SYNC_LIMIT_SPANS`` spans is computed in a
    thread and the row returned is ``computing``. While one computation of a view runs, a
    change of the data starts no second one: the page waits for the running one (a later
    visit computes again), so active coding cannot pile threads up.
    Without ``background`` the result is always ready (or failed): when another worker is
    computing the same report, this one computes it too rather than wait.
    """
    fingerprint = data_fingerprint(project)
    key = snapshot_key(project, filters, fingerprint)
    snapshot = AgreementSnapshot.objects.filter(project=project, key=key).first()
    if snapshot is not None and (snapshot.is_ready or not _may_restart(snapshot)):
        if background or snapshot.is_ready:
            return snapshot
        return _unsaved_snapshot(project, key, filters)
    big = fingerprint["spans_alive"] > SYNC_LIMIT_SPANS
    if background and big and snapshot is None:
        running = _running(project, filters)
        if running is not None:
            return running
    claimed = _claim(project, key, filters, snapshot)
    if claimed is None:  # another worker got there first
        snapshot = AgreementSnapshot.objects.get(project=project, key=key)
        if background or snapshot.is_ready:
            return snapshot
        return _unsaved_snapshot(project, key, filters)
    if background and big:
        start_background(claimed.pk)
        return claimed
    compute_snapshot(claimed.pk)
    claimed.refresh_from_db()
    return claimed


def _running(project: Project, filters: AgreementFilters) -> AgreementSnapshot | None:
    return (
        AgreementSnapshot.objects.filter(
            project=project,
            filters_key=filters_key(project, filters),
            state=SnapshotState.COMPUTING,
            created__gt=timezone.now() - STALE_AFTER,
        )
        .order_by("-created")
        .first()
    )


def previous_snapshot(project: Project, filters: AgreementFilters) -> AgreementSnapshot | None:
    """The latest ready report of this view, shown while a newer one is computed."""
    return (
        AgreementSnapshot.objects.filter(
            project=project, filters_key=filters_key(project, filters), state=SnapshotState.READY
        )
        .order_by("-finished", "-id")
        .first()
    )


def _may_restart(snapshot: AgreementSnapshot) -> bool:
    age = timezone.now() - snapshot.created
    if snapshot.is_computing:
        return age > STALE_AFTER
    return snapshot.is_failed and age > RETRY_FAILED_AFTER


def _claim(
    project: Project, key: str, filters: AgreementFilters, existing: AgreementSnapshot | None
) -> AgreementSnapshot | None:
    """Mark the report as being computed by this worker; None if another worker did first."""
    now = timezone.now()
    if existing is None:
        try:
            with transaction.atomic():
                return AgreementSnapshot.objects.create(
                    project=project,
                    key=key,
                    filters_key=filters_key(project, filters),
                    filters=filters.as_dict(),
                    created=now,
                )
        except IntegrityError:
            return None
    # Compare-and-set on the row as read: of two workers taking over, one wins.
    taken = AgreementSnapshot.objects.filter(
        pk=existing.pk, state=existing.state, created=existing.created
    ).update(state=SnapshotState.COMPUTING, created=now, stage="", error="", finished=None)
    if not taken:
        return None
    existing.refresh_from_db()
    return existing


def _unsaved_snapshot(project: Project, key: str, filters: AgreementFilters) -> AgreementSnapshot:
    """A report computed here and now, not stored (the stored row belongs to another worker)."""
    began = time.perf_counter()
    payload = compute_payload(project, filters)
    return AgreementSnapshot(
        project=project,
        key=key,
        filters_key=filters_key(project, filters),
        filters=filters.as_dict(),
        state=SnapshotState.READY,
        created=timezone.now(),
        finished=timezone.now(),
        seconds=time.perf_counter() - began,
        payload=payload,
    )


def start_background(snapshot_id: int) -> None:
    """Compute the claimed snapshot in a daemon thread, once the claim is committed."""

    def start() -> None:
        thread = threading.Thread(
            target=_compute_in_thread,
            args=(snapshot_id,),
            name=f"agreement-{snapshot_id}",
            daemon=True,
        )
        thread.start()

    transaction.on_commit(start)


def _compute_in_thread(snapshot_id: int) -> None:
    # Django gives each thread its own connection; this one must not outlive the thread.
    close_old_connections()
    try:
        compute_snapshot(snapshot_id)
    finally:
        connections.close_all()


def compute_snapshot(snapshot_id: int) -> None:
    """Compute a claimed snapshot and store the result in its row, or the error (logged: the
    page shows it rather than failing)."""
    snapshot = AgreementSnapshot.objects.select_related("project").get(pk=snapshot_id)
    rows = AgreementSnapshot.objects.filter(pk=snapshot_id)

    def progress(stage: str) -> None:
        rows.update(stage=stage[:200])

    began = time.perf_counter()
    try:
        payload = compute_payload(
            snapshot.project, AgreementFilters.from_dict(snapshot.filters), progress=progress
        )
    except Exception as error:
        rows.update(
            state=SnapshotState.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished=timezone.now(),
            seconds=time.perf_counter() - began,
        )
        logger.exception("agreement snapshot %s failed", snapshot_id)
        return
    rows.update(
        state=SnapshotState.READY,
        payload=payload,
        stage="",
        finished=timezone.now(),
        seconds=time.perf_counter() - began,
    )
    _prune(snapshot.project_id)


def _prune(project_id: int) -> None:
    keep = (
        AgreementSnapshot.objects.filter(project_id=project_id, state=SnapshotState.READY)
        .order_by("-finished", "-id")
        .values_list("pk", flat=True)[:KEEP_SNAPSHOTS]
    )
    AgreementSnapshot.objects.filter(project_id=project_id, state=SnapshotState.READY).exclude(
        pk__in=list(keep)
    ).delete()


# --- the adapter ------------------------------------------------------------------------------


class _AttributeMemo(dict):
    """JSON text -> parsed dict, parsed once per distinct text: most spans share a handful of
    attribute sets, and the parsed dicts are shared read-only by the report."""

    def __missing__(self, text: str | None) -> dict[str, Any]:
        value = json.loads(text) if text else {}
        if not isinstance(value, dict):
            value = {}
        self[text] = value
        return value


@dataclass
class _Selection:
    """Which documents count and who coded each."""

    mode: str  # "submitted" or "all annotations"
    coders_by_document: dict[int, set]  # pseudonyms once the coders are known
    week_of: dict[int, str] = field(default_factory=dict)  # the trend's ISO week per document
    # True while every document the span query can return counts (no filtering needed).
    everything_counts: bool = False


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Building 600,000 span objects triggers the cyclic garbage collector again and again,
    each full pass walking every object built so far: a third of the adapter's time. Spans
    hold no reference cycles, so the collector waits until the report is done (if another
    thread paused it first, that thread turns it back on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute_payload(
    project: Project, filters: AgreementFilters, *, progress: Progress | None = None
) -> dict[str, Any]:
    """The agreement report of ``project`` under ``filters``, as a JSON-ready dict."""
    with _cyclic_gc_paused():
        return _compute_payload(project, filters, progress)


def _compute_payload(
    project: Project, filters: AgreementFilters, progress: Progress | None
) -> dict[str, Any]:
    began = time.perf_counter()
    say = progress or (lambda stage: None)
    label_names = dict(Label.objects.filter(project=project).values_list("id", "name"))
    type_names = dict(RelationType.objects.filter(project=project).values_list("id", "name"))

    say("reading submissions")
    if Assignment.objects.filter(project=project).exists():
        selection, coder_ids = _submitted(project, filters)
    else:
        selection, coder_ids = None, _span_coders(project)
    coders = _coder_directory(project, coder_ids)
    key_of = {coder["id"]: coder["key"] for coder in coders}
    if selection is not None:
        selection.coders_by_document = {
            doc: {key_of[c] for c in cs} for doc, cs in selection.coders_by_document.items()
        }
        if filters.codebook_version is None:
            # Who counts is known before any span is read: sample now, read fewer spans.
            _keep_documents(selection, _sampled(selection, filters))

    say("reading spans")
    memo = _AttributeMemo()
    spans: list[CodedSpan] = []
    versions: list[int] = []  # parallel to spans, kept only under a version filter
    # Spans of documents that do not count are dropped while streaming, unless there are none.
    documents = None
    if selection is not None and not selection.everything_counts:
        documents = set(selection.coders_by_document)
    # The hot loop (600,000 rows on a big project): one comprehension per chunk, plain
    # lookups only; CodedSpan's own __init__ is most of its cost.
    for rows in _chunks(_span_query(project, filters, selection)):
        if documents is not None:
            rows = [row for row in rows if row[1] in documents]
        spans.extend(
            [
                CodedSpan(sid, doc, key_of[coder], start, end, label_names[label], memo[attrs])
                for sid, doc, coder, start, end, label, attrs, _version in rows
            ]
        )
        if filters.codebook_version is not None:
            versions.extend(row[7] for row in rows)
        say(f"reading spans: {len(spans):,} so far")
    del memo, documents

    # Decisions that need the spans themselves; each may leave a document below two coders.
    refilter = selection is None or filters.codebook_version is not None
    if selection is None:
        selection = _Selection("all annotations", _coders_from_spans(spans, filters))
        selection.week_of = _last_span_change(project, selection.coders_by_document)
    if filters.codebook_version is not None:
        _apply_codebook_version(selection, spans, versions, filters.codebook_version)
    del versions
    if refilter:
        _keep_documents(selection, _sampled(selection, filters))
        counted = selection.coders_by_document
        spans = [s for s in spans if s.coder in counted.get(s.document, ())]
    counted = selection.coders_by_document

    say("reading links and document lengths")
    relations = _relations(project, selection, spans, key_of, type_names)
    lengths = _document_lengths(project, counted)
    report_labels = list(filters.labels) or list(label_names.values())

    say(f"computing the report over {len(spans):,} spans in {len(counted):,} documents")
    report = build_report(
        spans,
        lengths,
        relations,
        coders_by_document=counted,
        labels=report_labels,
        top_documents=TOP_DOCUMENTS,
    ).to_dict()
    trend = _trend(spans, lengths, counted, selection, report, say)
    present = set().union(*counted.values()) if counted else set()
    payload = {
        "payload_version": PAYLOAD_VERSION,
        "project": project.pk,
        "filters": filters.as_dict(),
        "mode": selection.mode,
        "reason": None
        if counted
        else (
            NOT_TWO_CODERS if selection.mode == "submitted" else NOT_TWO_CODERS_WITHOUT_ASSIGNMENTS
        ),
        "coders": [coder for coder in coders if coder["key"] in present],
        "label_counts": _label_counts(spans, report_labels),
        "document_titles": _titles([row["document"] for row in report["documents"]]),
        "report": report,
        "trend": trend,
        "computed_at": timezone.now().isoformat(),
        "compute_seconds": round(time.perf_counter() - began, 3),
    }
    say("saving")
    return payload


def _relations(
    project: Project,
    selection: _Selection,
    spans: list[CodedSpan],
    key_of: dict[int, str],
    type_names: dict[int, str],
) -> list[CodedRelation]:
    """Links between counted spans. A link's coder and document are those of its ends, so a
    link whose two ends are counted spans counts, and any other is left out."""
    span_ids = set(map(attrgetter("id"), spans))
    relations: list[CodedRelation] = []
    for rows in _chunks(_relation_query(project, selection)):
        relations.extend(
            [
                CodedRelation(doc, key_of[coder], type_names[rtype], source, target)
                for doc, coder, rtype, source, target in rows
                if source in span_ids and target in span_ids
            ]
        )
    return relations


def _titles(document_ids: list[int]) -> dict[str, str]:
    rows = Document.objects.filter(pk__in=document_ids).values_list("pk", "title", "external_id")
    return {str(pk): title or external_id or f"Document {pk}" for pk, title, external_id in rows}


def _chunks(queryset) -> Iterator[list[tuple]]:
    """The rows of a ``values_list`` query, CHUNK_SIZE at a time, as the driver returns them.

    The same server-side cursor as ``.iterator()`` on PostgreSQL (a plain cursor on SQLite),
    without Django's per-row generators: only for columns that need no conversion (integers,
    text; JSON arrives as text, parsed by _AttributeMemo). On PostgreSQL the next chunks are
    fetched while the caller works on this one (see _read_ahead).
    """
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. an empty IN list: nothing to read
        return
    connection = connections[queryset.db]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        fetch = partial(cursor.fetchmany, CHUNK_SIZE)
        if connection.vendor == "postgresql":
            yield from _read_ahead(fetch)
        else:
            while rows := fetch():
                yield rows


_END = object()


def _read_ahead(fetch: Callable[[], list], depth: int = 2) -> Iterator[list]:
    """Chunks from ``fetch`` read by a helper thread, up to ``depth`` ahead of the caller.

    While the caller builds spans from one chunk (Python, holding the GIL), the thread waits
    for the next from PostgreSQL, which computes it on the other core: on a 2-core machine
    the database's time is mostly hidden. The cursor stays the caller's (same connection and
    transaction); only its fetches run in the thread, one at a time.
    """
    chunks: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                rows = fetch()
                chunks.put(rows or _END)
                if not rows:
                    return
        except BaseException as error:  # handed to the caller, raised there
            chunks.put(error)

    thread = threading.Thread(target=reader, name="agreement-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # Let a reader blocked on a full queue finish its fetch and see the stop.
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.1)
        thread.join()


def _submitted_query(project: Project):
    return Assignment.objects.filter(project=project, state=AssignmentState.SUBMITTED)


def _document_filter(filters: AgreementFilters, prefix: str = "") -> Q:
    condition = Q()
    if filters.document_ids and len(filters.document_ids) <= IN_LIST_LIMIT:
        condition &= Q(**{f"{prefix}id__in": filters.document_ids})
    if filters.published_from:
        condition &= Q(**{f"{prefix}published__gte": filters.published_from})
    if filters.published_to:
        condition &= Q(**{f"{prefix}published__lte": filters.published_to})
    return condition


def _submitted(project: Project, filters: AgreementFilters) -> tuple[_Selection, set[int]]:
    """Documents submitted by two or more of the chosen coders; every submitting coder's id."""
    rows = _submitted_query(project).filter(_document_filter(filters, "document__"))
    if filters.coders:
        rows = rows.filter(coder_id__in=filters.coders)
    wanted = set(filters.document_ids)
    coders: dict[int, set[int]] = defaultdict(set)
    # The ISO week of the last submission, as numbers: no datetime per row to parse.
    last: dict[int, tuple[int, int]] = {}
    rows = rows.order_by().values_list(
        "document_id",
        "coder_id",
        ExtractIsoYear("submitted_at"),
        ExtractWeek("submitted_at"),
    )
    for doc, coder, year, week in rows:
        if wanted and doc not in wanted:
            continue
        coders[doc].add(coder)
        if year is not None and (year, week) > last.get(doc, (0, 0)):
            last[doc] = (year, week)
    counted = {doc: cs for doc, cs in coders.items() if len(cs) >= 2}
    weeks = {doc: _week_name(*last[doc]) if doc in last else UNKNOWN_WEEK for doc in counted}
    everyone = set().union(*coders.values()) if coders else set()
    selection = _Selection("submitted", counted, weeks)
    selection.everything_counts = len(counted) == len(coders) and (len(wanted) <= IN_LIST_LIMIT)
    return selection, everyone


def _week_name(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def _sampled(selection: _Selection, filters: AgreementFilters) -> set[int]:
    documents = sorted(selection.coders_by_document)
    if not filters.sample or filters.sample >= len(documents):
        return set(documents)
    return set(random.Random(filters.seed).sample(documents, filters.sample))


def _keep_documents(selection: _Selection, keep: set[int]) -> None:
    if len(keep) < len(selection.coders_by_document):
        selection.everything_counts = False
    selection.coders_by_document = {
        doc: coders
        for doc, coders in selection.coders_by_document.items()
        if doc in keep and len(coders) >= 2
    }


def _span_query(project: Project, filters: AgreementFilters, selection: _Selection | None):
    spans = _in_selection(
        Annotation.objects.filter(document__project=project, deleted_at__isnull=True),
        project,
        selection,
    ).filter(_document_filter(filters, "document__"))
    if filters.coders:
        spans = spans.filter(coder_id__in=filters.coders)
    if filters.labels:
        spans = spans.filter(label__name__in=filters.labels)
    # Plain fields only, in this order (see _chunks); no ORDER BY: the report sorts.
    return spans.order_by().values_list(
        "id",
        "document_id",
        "coder_id",
        "start",
        "end",
        "label_id",
        "attributes",
        "codebook_version",
    )


def _in_selection(rows, project: Project, selection: _Selection | None):
    """Spans or links of submitting coders only, in the counted documents when few enough to
    name (the rest are left out while streaming)."""
    if selection is None:
        return rows
    submitted = _submitted_query(project).filter(
        document_id=OuterRef("document_id"), coder_id=OuterRef("coder_id")
    )
    rows = rows.filter(Exists(submitted))
    if len(selection.coders_by_document) <= IN_LIST_LIMIT:
        rows = rows.filter(document_id__in=list(selection.coders_by_document))
    return rows


def _span_coders(project: Project) -> set[int]:
    return set(
        Annotation.objects.filter(document__project=project, deleted_at__isnull=True)
        .order_by()
        .values_list("coder_id", flat=True)
        .distinct()
    )


def _coders_from_spans(spans: list[CodedSpan], filters: AgreementFilters) -> dict[int, set[str]]:
    """Without assignments: a coder coded a document if they marked a span in it."""
    wanted = set(filters.document_ids)
    coders: dict[int, set[str]] = defaultdict(set)
    for span in spans:
        if not wanted or span.document in wanted:
            coders[span.document].add(span.coder)
    return {doc: cs for doc, cs in coders.items() if len(cs) >= 2}


def _last_span_change(project: Project, counted: dict[int, set[str]]) -> dict[int, str]:
    """Without assignments, a document's week is that of its last span change."""
    rows = Annotation.objects.filter(document__project=project, deleted_at__isnull=True)
    if len(counted) <= IN_LIST_LIMIT:
        rows = rows.filter(document_id__in=list(counted))
    rows = (
        rows.order_by()
        .values("document_id")
        .annotate(last=Max("updated"))
        .values_list("document_id", "last")
    )
    return {doc: iso_week(timezone.localtime(last)) for doc, last in rows if doc in counted}


def _apply_codebook_version(
    selection: _Selection, spans: list[CodedSpan], versions: list, wanted: int
) -> None:
    """Keep a coder's document only if they coded it under that codebook version: some span
    of that version, or no span at all (an empty document is the same under any version)."""
    own: set[tuple[int, int]] = set()
    other: set[tuple[int, int]] = set()
    for span, version in zip(spans, versions, strict=True):
        (own if version == wanted else other).add((span.document, span.coder))
    selection.coders_by_document = {
        doc: {c for c in coders if (doc, c) in own or (doc, c) not in other}
        for doc, coders in selection.coders_by_document.items()
    }
    keep = [i for i, version in enumerate(versions) if version == wanted]
    spans[:] = [spans[i] for i in keep]


def _relation_query(project: Project, selection: _Selection):
    relations = Relation.objects.filter(document__project=project, deleted_at__isnull=True)
    return (
        _in_selection(relations, project, selection if selection.mode == "submitted" else None)
        .order_by()
        .values_list("document_id", "coder_id", "type_id", "source_id", "target_id")
    )


def _document_lengths(project: Project, counted: dict[int, set[int]]) -> dict[int, int]:
    documents = Document.objects.filter(project=project)
    if len(counted) <= IN_LIST_LIMIT:
        documents = documents.filter(pk__in=list(counted))
    rows = documents.order_by().annotate(length=Length("text")).values_list("pk", "length")
    return {pk: length for pk, length in rows.iterator(chunk_size=CHUNK_SIZE) if pk in counted}


def _label_counts(spans: list[CodedSpan], labels: list[str]) -> list[dict[str, Any]]:
    """Per label: documents with a span of it, coders who used it, spans per coder."""
    per_coder = Counter(map(attrgetter("label", "coder"), spans))
    documents = Counter(label for label, _ in set(map(attrgetter("label", "document"), spans)))
    names = sorted(set(labels) | {label for label, _ in per_coder})
    result = []
    for label in names:
        counts = {coder: n for (name, coder), n in per_coder.items() if name == label}
        result.append(
            {
                "label": label,
                "documents": documents.get(label, 0),
                "coders": len(counts),
                "spans": sum(counts.values()),
                "spans_per_coder": dict(sorted(counts.items())),
            }
        )
    return result


UNKNOWN_WEEK = "unknown"


def iso_week(moment: datetime | date) -> str:
    year, week, _ = moment.isocalendar()
    return _week_name(year, week)


def _summary(measure: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in measure.items() if k != "per_pair"}


def _trend(
    spans: list[CodedSpan],
    lengths: dict[int, int],
    coders_by_document: dict[int, set[str]],
    selection: _Selection,
    report: dict[str, Any],
    say: Progress,
) -> list[dict[str, Any]]:
    """The overall figures per ISO week in which documents became comparable (their last
    counted submission; without assignments, their last span change).

    All weeks are computed in one report: each coder becomes one coder per week ("2025-W03
    Coder A"). Coders of different weeks share no document, so pairs form within a week
    only, and a week's figures summarise its pairs exactly as a report of that week alone
    would. A week with more than ``TREND_DOCUMENTS`` documents is estimated from that many,
    drawn at random with a fixed seed: the trend shows drift, and its cost must stay small
    beside the report's. Each point says how many documents it rests on.
    """
    by_week: dict[str, list[int]] = defaultdict(list)
    for doc in sorted(coders_by_document):
        by_week[selection.week_of.get(doc, UNKNOWN_WEEK)].append(doc)
    if len(by_week) <= 1:
        return [_trend_point(week, len(docs), len(docs), report) for week, docs in by_week.items()]
    say(f"weekly trend over {len(by_week)} weeks")
    week_of: dict[int, str] = {}
    for week, docs in by_week.items():
        drawn = (
            docs
            if len(docs) <= TREND_DOCUMENTS
            else random.Random(week).sample(docs, TREND_DOCUMENTS)
        )
        week_of.update(dict.fromkeys(drawn, week))
    drawn_rows = np.flatnonzero(
        np.fromiter(map(week_of.__contains__, map(attrgetter("document"), spans)), bool, len(spans))
    )
    no_attributes: dict[str, Any] = {}
    everyone = set().union(*coders_by_document.values())
    weekly_key = {(week, coder): f"{week} {coder}" for week in by_week for coder in everyone}
    weekly = build_report(
        [
            CodedSpan(
                s.id,
                s.document,
                weekly_key[week_of[s.document], s.coder],
                s.start,
                s.end,
                s.label,
                no_attributes,
            )
            for s in map(spans.__getitem__, drawn_rows.tolist())
        ],
        {doc: lengths[doc] for doc in week_of},
        coders_by_document={
            doc: {weekly_key[week, coder] for coder in coders_by_document[doc]}
            for doc, week in week_of.items()
        },
        top_documents=0,
    )
    overall = weekly.overall.to_dict()
    spans_per_coder = weekly.counts.to_dict()["spans_per_coder"]
    points = []
    for week in sorted(by_week):
        mine = [c for c in spans_per_coder if c["coder"].startswith(f"{week} ")]
        summary = {
            "overall": {
                "spans": sum(c["spans"] for c in mine),
                **{
                    measure: _week_summary(
                        [
                            p
                            for p in overall[measure]["per_pair"]
                            if p["coder_a"].startswith(f"{week} ")
                        ]
                    )
                    for measure in ("exact_f1", "overlap_f1", "alpha_u")
                },
            },
            "counts": {"coders": len(mine)},
        }
        drawn = sum(1 for doc in by_week[week] if doc in week_of)
        points.append(_trend_point(week, len(by_week[week]), drawn, summary))
    return points


def _week_summary(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """A week's pairs summarised as the report summarises pairs (mean, min, max; the most
    common reason when none has a value)."""
    values = [pair["value"] for pair in pairs if pair["value"] is not None]
    reason = None
    if not pairs:
        reason = NO_SHARED_DOCUMENT
    elif not values:
        reason = Counter(pair["reason"] for pair in pairs).most_common(1)[0][0]
    return {
        "mean": sum(values) / len(values) if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "pairs": len(values),
        "pairs_compared": len(pairs),
        "reason": reason,
        "per_pair": pairs,
    }


def _trend_point(week: str, documents: int, sampled: int, report: dict[str, Any]) -> dict[str, Any]:
    monday = None
    if week != UNKNOWN_WEEK:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1).isoformat()
    overall = report["overall"]
    return {
        "week": week,
        "monday": monday,
        "documents": documents,
        "sampled": sampled,
        "spans": overall["spans"],
        "coders": report["counts"]["coders"],
        "exact_f1": _summary(overall["exact_f1"]),
        "overlap_f1": _summary(overall["overlap_f1"]),
        "alpha_u": _summary(overall["alpha_u"]),
    }


# --- one document, side by side ---------------------------------------------------------------


def document_comparison(project: Project, document: Document) -> dict[str, Any]:
    """Every counted coder's spans and links of one document, and the agreement between them.

    The coders are those who submitted it (without assignments: who marked a span in it).
    """
    uses_assignments = Assignment.objects.filter(project=project).exists()
    spans_qs = Annotation.objects.filter(document=document, deleted_at__isnull=True).order_by(
        "start", "end", "id"
    )
    if uses_assignments:
        coder_ids = set(
            _submitted_query(project).filter(document=document).values_list("coder_id", flat=True)
        )
        spans_qs = spans_qs.filter(coder_id__in=coder_ids)
    rows = list(
        spans_qs.values_list("id", "coder_id", "label_id", "start", "end", "text", "attributes")
    )
    if not uses_assignments:
        coder_ids = {row[1] for row in rows}
    labels = {
        pk: (name, colour)
        for pk, name, colour in Label.objects.filter(project=project).values_list(
            "id", "name", "colour"
        )
    }
    type_names = dict(RelationType.objects.filter(project=project).values_list("id", "name"))
    coders = _coder_directory(project, coder_ids)
    key_of = {c["id"]: c["key"] for c in coders}
    coders = [c for c in coders if c["id"] in coder_ids]
    by_coder: dict[int, list[dict[str, Any]]] = {c["id"]: [] for c in coders}
    for pk, coder, label_id, start, end, text, attributes in rows:
        by_coder[coder].append(
            {
                "id": pk,
                "label_id": label_id,
                "label": labels.get(label_id, ("?", ""))[0],
                "start": start,
                "end": end,
                "text": text,
                "attributes": attributes or {},
            }
        )
    links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    quote = {row[0]: row[5] for row in rows}
    for coder, rtype, source, target in (
        Relation.objects.filter(document=document, deleted_at__isnull=True, coder_id__in=coder_ids)
        .order_by("id")
        .values_list("coder_id", "type_id", "source_id", "target_id")
    ):
        if source in quote and target in quote:
            links[coder].append(
                {
                    "type": type_names.get(rtype, "?"),
                    "source": quote[source],
                    "target": quote[target],
                }
            )
    spans = [
        CodedSpan(
            pk,
            document.pk,
            key_of[coder],
            start,
            end,
            labels.get(label_id, ("?",))[0],
            attributes or {},
        )
        for pk, coder, label_id, start, end, _text, attributes in rows
    ]
    report = build_report(
        spans,
        {document.pk: len(document.text)},
        coders_by_document={document.pk: {key_of[c] for c in coder_ids}},
        top_documents=1,
    ).to_dict()
    columns = [
        {**coder, "spans": by_coder[coder["id"]], "links": links.get(coder["id"], [])}
        for coder in coders
    ]
    return {
        "coders": columns,
        "report": report,
        "mode": "submitted" if uses_assignments else "all annotations",
        **_differences(columns),
    }


def _differences(columns: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Where the coders' versions of one document differ, for reading side by side: spans not
    marked identically (same start, end and label) by every coder, and the attributes that
    differ on spans they all marked identically."""
    present: dict[tuple, dict[str, Any]] = {}
    for index, column in enumerate(columns):
        for span in column["spans"]:
            key = (span["start"], span["end"], span["label"])
            entry = present.setdefault(
                key, {"text": span["text"], "label_id": span["label_id"], "by": {}}
            )
            entry["by"][index] = span["attributes"]
    spans, attributes = [], []
    for (start, end, label), entry in sorted(present.items()):
        where = {"start": start, "end": end, "label": label, "label_id": entry["label_id"]}
        if len(entry["by"]) < len(columns):
            marks = [index in entry["by"] for index in range(len(columns))]
            spans.append({**where, "text": entry["text"], "marks": marks})
            continue
        names = sorted(set().union(*entry["by"].values()))
        for name in names:
            values = [entry["by"][index].get(name) for index in range(len(columns))]
            if any(value != values[0] for value in values):
                attributes.append(
                    {**where, "text": entry["text"], "attribute": name, "values": values}
                )
    return {"span_differences": spans, "attribute_differences": attributes}


# --- the report as a table (CSV) --------------------------------------------------------------

CSV_COLUMNS = (
    "section",
    "label",
    "item",
    "coder",
    "other_coder",
    "week",
    "measure",
    "value",
    "min",
    "max",
    "documents",
    "pairs",
    "pairs_compared",
    "tp",
    "spans_a",
    "spans_b",
    "n",
    "missing",
    "reason",
)


def csv_rows(payload: dict[str, Any], names: dict[str, str]) -> Iterator[tuple]:
    """The report as flat rows under CSV_COLUMNS: every value beside the counts it rests on.
    An undefined value is empty, with its reason."""

    def row(section: str, **values: Any) -> tuple:
        return (section, *(_cell(values.get(column)) for column in CSV_COLUMNS[1:]))

    def name(key: Any) -> str:
        return names.get(key, key) if isinstance(key, str) else key

    report = payload["report"]
    counts = report["counts"]
    for measure in (
        "documents",
        "documents_coded",
        "documents_compared",
        "coders",
        "coder_pairs",
        "spans",
        "relations",
    ):
        yield row("counts", measure=measure, value=counts[measure], reason=counts["reason"])
    for coder in counts["spans_per_coder"]:
        yield row(
            "coder_spans",
            coder=name(coder["coder"]),
            measure="spans",
            value=coder["spans"],
            documents=coder["documents"],
        )
    label_counts = {item["label"]: item for item in payload.get("label_counts", ())}
    for item in [report["overall"], *report["labels"]]:
        label = item["label"] or "(all labels)"
        extra = label_counts.get(item["label"], {})
        for measure in ("exact_f1", "overlap_f1", "alpha_u"):
            summary = item[measure]
            yield row(
                "label",
                label=label,
                measure=measure,
                value=summary["mean"],
                min=summary["min"],
                max=summary["max"],
                documents=extra.get("documents", counts["documents_compared"]),
                pairs=summary["pairs"],
                pairs_compared=summary["pairs_compared"],
                n=item["spans"],
                reason=summary["reason"],
            )
            for pair in summary["per_pair"]:
                yield row(
                    "pair",
                    label=label,
                    coder=name(pair["coder_a"]),
                    other_coder=name(pair["coder_b"]),
                    measure=measure,
                    value=pair["value"],
                    documents=pair["documents"],
                    tp=pair["tp"],
                    spans_a=pair["spans_a"],
                    spans_b=pair["spans_b"],
                    reason=pair["reason"],
                )
    for item in report["confusion"]:
        yield row(
            "confusion",
            label=item["label_a"],
            item=item["label_b"],
            measure="count",
            value=item["count"],
        )
    for item in report["attributes"]:
        yield row(
            "attribute",
            label=item["label"],
            item=item["attribute"],
            measure=f"alpha_{item['level']}",
            value=item["alpha"],
            pairs=item["pairs"],
            missing=item["missing"],
            reason=item["reason"],
        )
    for item in report["relations"]:
        yield row(
            "relation",
            item=item["type"],
            measure="f1",
            value=item["f1"],
            tp=item["tp"],
            n=item["relations"],
            missing=item["unmatched_ends"],
            reason=item["reason"],
        )
    titles = payload.get("document_titles", {})
    for item in report["documents"]:
        yield row(
            "document",
            label=titles.get(str(item["document"]), ""),
            item=item["document"],
            measure="disagreement",
            value=item["disagreement"],
            pairs=item["pairs"],
            n=item["spans"],
            reason="; ".join(named(reason, names) for reason in item["reasons"]),
        )
    for item in report["coders"]:
        for matching in ("exact", "overlap"):
            prf = item[matching]
            for measure in ("precision", "recall", "f1"):
                yield row(
                    "coder",
                    label=item["label"] or "(all labels)",
                    coder=name(item["coder"]),
                    measure=f"{matching}_{measure}",
                    value=prf[measure],
                    documents=item["documents"],
                    pairs=item["partners"],
                    tp=prf["tp"],
                    spans_a=prf["n_predicted"],
                    spans_b=prf["n_reference"],
                )
    for point in payload.get("trend", ()):
        for measure in ("exact_f1", "overlap_f1", "alpha_u"):
            summary = point[measure]
            yield row(
                "trend",
                week=point["week"],
                measure=measure,
                value=summary["mean"],
                min=summary["min"],
                max=summary["max"],
                documents=point["documents"],
                pairs=summary["pairs"],
                pairs_compared=summary["pairs_compared"],
                n=point["spans"],
                reason=summary["reason"]
                or (
                    f"estimated from {point['sampled']} of the week's documents"
                    if point.get("sampled", point["documents"]) < point["documents"]
                    else None
                ),
            )


def gold_csv_rows(gold: dict[str, Any]) -> Iterator[tuple]:
    """``gold_report`` as rows under CSV_COLUMNS (section "gold"; spans_a: the coder's spans,
    spans_b: the gold's); the reason alone when there is nothing to score."""

    def row(**values: Any) -> tuple:
        return ("gold", *(_cell(values.get(column)) for column in CSV_COLUMNS[1:]))

    if gold["reason"]:
        yield row(documents=gold["documents"], reason=gold["reason"])
    for coder in gold["coders"]:
        for item in coder["rows"]:
            for matching in ("exact", "overlap"):
                prf = item[matching]
                for measure in ("precision", "recall", "f1"):
                    yield row(
                        label=item["label"] or "(all labels)",
                        coder=coder["username"] or coder["key"],
                        measure=f"{matching}_{measure}",
                        value=prf[measure],
                        documents=coder["documents"],
                        tp=prf["tp"],
                        spans_a=prf["n_predicted"],
                        spans_b=prf["n_reference"],
                    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
