"""The arithmetic of an agreement report: plain coded spans in, plain numbers with counts out.

Coders are compared pairwise. For each pair of coders, every document both coded is compared
span by span (exact and one-to-one overlap matching per label), and the counts are pooled over
those documents before any ratio is taken. alpha_U for a pair treats the documents both coded as
one continuum, laid end to end in document order. Per-label values are then summarised over the
coder pairs (mean, min, max).

Every number carries the counts it rests on; a value that cannot be computed is ``None`` beside
a ``reason``. The Django adapter builds :class:`CodedSpan` / :class:`CodedRelation` lists and the
document lengths, calls :func:`build_report` and serialises with ``to_dict()``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from itertools import combinations
from operator import attrgetter
from typing import Any

import numpy as np

from annotator.agreement._arrays import order_by, unique, unique_inverse
from annotator.agreement.coefficients import alpha_from_codes
from annotator.agreement.matching import cross_overlaps, one_to_one
from annotator.agreement.spans import PRF, prf_from_counts
from annotator.agreement.unitizing import disagreements, merge_overlaps

NO_SHARED_DOCUMENT = "no document coded by two coders"
NO_SPANS = "neither coder marked a span with this label"
NO_SPANS_AT_ALL = "neither coder marked a span"
NO_VARIATION = "no variation"
EMPTY_DOCUMENTS = "the documents both coders coded are empty"
NO_VALUE_PAIRS = "no matched span pair where both coders gave a value"
NO_COMPARABLE_RELATIONS = "no relation whose two ends matched spans of the other coder"

# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodedSpan:
    """One coder's span of one document; ``end`` is exclusive, offsets in code points."""

    id: Hashable
    document: Hashable
    coder: Hashable
    start: int
    end: int
    label: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CodedRelation:
    """A directed relation between two spans (by span id) of one coder in one document."""

    document: Hashable
    coder: Hashable
    type: str
    from_id: Hashable
    to_id: Hashable


# --- output ---------------------------------------------------------------------------------


class _Plain:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dicts and lists."""
        return _plain(self)


@dataclass(frozen=True, slots=True)
class PairValue(_Plain):
    """One coder pair's value of a measure, over the documents both coded.

    For F1, ``tp`` and ``spans_a`` / ``spans_b`` are the pooled counts it rests on.
    """

    coder_a: Hashable
    coder_b: Hashable
    value: float | None
    documents: int
    tp: int | None = None
    spans_a: int | None = None
    spans_b: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PairwiseSummary(_Plain):
    """A measure summarised over coder pairs; ``pairs`` counts the pairs with a value."""

    mean: float | None
    min: float | None
    max: float | None
    pairs: int
    pairs_compared: int
    reason: str | None
    per_pair: tuple[PairValue, ...]


@dataclass(frozen=True, slots=True)
class LabelAgreement(_Plain):
    """Span agreement on one label (``label=None``: all labels together)."""

    label: str | None
    spans: int
    exact_f1: PairwiseSummary
    overlap_f1: PairwiseSummary
    alpha_u: PairwiseSummary


@dataclass(frozen=True, slots=True)
class CoderMatrix(_Plain):
    """Coder x coder values of one measure over all labels (``None`` on the diagonal)."""

    measure: str
    coders: tuple[Hashable, ...]
    values: tuple[tuple[float | None, ...], ...]
    documents: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class LabelConfusion(_Plain):
    """Overlapping spans of two coders that carry different labels (unordered label pair).

    Only spans left without a same-label partner are paired here (one-to-one, by overlap), so a
    span that both coders marked alike is never also counted as confused with a neighbour.
    """

    label_a: str
    label_b: str
    count: int


@dataclass(frozen=True, slots=True)
class AttributeAgreement(_Plain):
    """alpha of one attribute over span pairs matched by overlap with the same label.

    ``pairs`` matched pairs had a value from both coders; in ``missing`` only one coder gave one.
    """

    label: str
    attribute: str
    level: str
    alpha: float | None
    pairs: int
    missing: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class RelationAgreement(_Plain):
    """F1 of one relation type over relations whose two ends matched the other coder's spans.

    ``relations`` counts such comparable relations on both sides of all pairs (F1's
    denominator); ``unmatched_ends`` counts relations left out because an end did not match.
    """

    type: str
    f1: float | None
    tp: int
    relations: int
    unmatched_ends: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class DocumentDisagreement(_Plain):
    """A document's disagreement: 1 - mean overlap F1 over its coder pairs (all labels)."""

    document: Hashable
    disagreement: float
    overlap_f1: float
    coders: int
    pairs: int
    spans: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CoderAgreement(_Plain):
    """One coder's spans scored against the other coders' (pooled over pairs and documents).

    ``n_predicted`` counts this coder's spans once per partner; ``label=None`` is all labels.
    """

    coder: Hashable
    label: str | None
    exact: PRF
    overlap: PRF
    documents: int
    partners: int


@dataclass(frozen=True, slots=True)
class CoderCount(_Plain):
    coder: Hashable
    spans: int
    documents: int


@dataclass(frozen=True, slots=True)
class Counts(_Plain):
    """What the report rests on."""

    documents: int
    documents_coded: int
    documents_compared: int
    coders: int
    coder_pairs: int
    spans: int
    relations: int
    spans_per_coder: tuple[CoderCount, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class AgreementReport(_Plain):
    counts: Counts
    overall: LabelAgreement
    labels: tuple[LabelAgreement, ...]
    matrices: tuple[CoderMatrix, ...]
    confusion: tuple[LabelConfusion, ...]
    attributes: tuple[AttributeAgreement, ...]
    relations: tuple[RelationAgreement, ...]
    documents: tuple[DocumentDisagreement, ...]
    coders: tuple[CoderAgreement, ...]


# --- building the report --------------------------------------------------------------------


def build_report(
    spans: Iterable[CodedSpan],
    document_lengths: Mapping[Hashable, int],
    relations: Iterable[CodedRelation] = (),
    *,
    coders_by_document: Mapping[Hashable, Iterable[Hashable]] | None = None,
    labels: Iterable[str] = (),
    numeric_attributes: Iterable[str] = ("low", "best", "high"),
    top_documents: int | None = 100,
) -> AgreementReport:
    """Compute the agreement report.

    ``document_lengths`` maps each document to its text length (the continuum for alpha_U).
    ``coders_by_document`` says who coded each document, so that a coder who marked nothing in
    a document still counts; by default the coders who have spans there. ``labels`` adds labels
    to report even if nobody used them. Attributes named in ``numeric_attributes`` are compared
    at the interval level (non-numbers there count as missing), all others as nominal.
    ``top_documents`` caps the ranked document list (``None``: all).
    """
    corpus = _Corpus(spans, document_lengths, relations, coders_by_document, labels)
    pairs = corpus.pairs()
    results = [_compare_pair(corpus, x, y, docs) for (x, y), docs in pairs.items()]
    label_rows = [_label_agreement(corpus, results, code) for code in range(len(corpus.label_keys))]
    return AgreementReport(
        counts=_counts(corpus, pairs),
        overall=_label_agreement(corpus, results, None),
        labels=tuple(label_rows),
        matrices=_matrices(corpus, results),
        confusion=_confusion(corpus, results),
        attributes=_attributes(corpus, results, frozenset(numeric_attributes)),
        relations=_relations(corpus, results),
        documents=_documents(corpus, results, top_documents),
        coders=_coder_agreement(corpus, results),
    )


class _Corpus:
    """The input as integer-coded numpy arrays, validated."""

    def __init__(
        self,
        spans: Iterable[CodedSpan],
        document_lengths: Mapping[Hashable, int],
        relations: Iterable[CodedRelation],
        coders_by_document: Mapping[Hashable, Iterable[Hashable]] | None,
        labels: Iterable[str],
    ) -> None:
        self.spans = list(spans)
        self.doc_keys = sorted(document_lengths, key=_natural)
        doc_code = {key: code for code, key in enumerate(self.doc_keys)}
        self.lengths = np.array([document_lengths[key] for key in self.doc_keys], np.int64)
        if (self.lengths < 0).any():
            bad = self.doc_keys[int(np.argmax(self.lengths < 0))]
            raise ValueError(f"document {bad!r} has a negative length")

        membership: dict[Hashable, set[Hashable]] = {}
        if coders_by_document is not None:
            for document, coders in coders_by_document.items():
                if document not in doc_code:
                    raise ValueError(f"coders given for unknown document {document!r}")
                membership[document] = set(coders)
        span_documents = list(map(attrgetter("document"), self.spans))
        span_coders = list(map(attrgetter("coder"), self.spans))
        span_labels = list(map(attrgetter("label"), self.spans))
        coder_set = set(span_coders).union(*membership.values())
        self.coder_keys = sorted(coder_set, key=_natural)
        coder_code = {key: code for code, key in enumerate(self.coder_keys)}
        self.label_keys = sorted(set(span_labels).union(labels), key=_natural)
        label_code = {key: code for code, key in enumerate(self.label_keys)}

        try:
            self.doc = _codes(span_documents, doc_code)
        except KeyError as error:
            raise ValueError(f"span of unknown document {error.args[0]!r}") from None
        self.coder = _codes(span_coders, coder_code)
        self.label = _codes(span_labels, label_code)
        n = len(self.spans)
        self.start = np.fromiter(map(attrgetter("start"), self.spans), np.int64, n)
        self.end = np.fromiter(map(attrgetter("end"), self.spans), np.int64, n)
        self._check_offsets()
        n_docs = len(self.doc_keys)
        if coders_by_document is None:
            pairs = unique(self.doc * len(self.coder_keys) + self.coder)
            self.doc_coders = [[] for _ in range(n_docs)]
            for doc, coder in zip(
                (pairs // max(len(self.coder_keys), 1)).tolist(),
                (pairs % max(len(self.coder_keys), 1)).tolist(),
                strict=True,
            ):
                self.doc_coders[doc].append(coder)
        else:
            self.doc_coders = [
                sorted(coder_code[c] for c in membership.get(key, ())) for key in self.doc_keys
            ]
            n_coders = len(self.coder_keys)
            listed = np.array(
                [doc * n_coders + c for doc, cs in enumerate(self.doc_coders) for c in cs],
                np.int64,
            )
            unlisted = ~np.isin(self.doc * n_coders + self.coder, listed)
            if unlisted.any():
                span = self.spans[int(np.argmax(unlisted))]
                raise ValueError(
                    f"span {span.id!r} is by coder {span.coder!r}, who is not listed as "
                    f"a coder of document {span.document!r}"
                )

        # Rows grouped by coder, then document and start, so a coder's rows are one slice.
        self.by_coder = order_by(self.coder, self.doc, self.start)
        self.coder_bounds = np.searchsorted(
            self.coder[self.by_coder], np.arange(len(self.coder_keys) + 1)
        )
        self._relations(relations, doc_code, coder_code)

    def _check_offsets(self) -> None:
        checks = (
            (self.end <= self.start, "end <= start"),
            (self.start < 0, "start < 0"),
            (self.end > self.lengths[self.doc], "end is past the end of its document"),
        )
        for bad, message in checks:
            if bad.any():
                span = self.spans[int(np.argmax(bad))]
                raise ValueError(f"span {span.id!r} ({span.start}, {span.end}): {message}")

    def _relations(
        self,
        relations: Iterable[CodedRelation],
        doc_code: dict[Hashable, int],
        coder_code: dict[Hashable, int],
    ) -> None:
        items = list(relations)
        self.relation_count = len(items)
        self.type_keys = sorted({item.type for item in items}, key=_natural)
        type_code = {key: code for code, key in enumerate(self.type_keys)}
        # Only relations need ids looked up; uniqueness is checked either way.
        if items:
            row_of_id = {span.id: row for row, span in enumerate(self.spans)}
        else:
            row_of_id = dict.fromkeys(span.id for span in self.spans)
        if len(row_of_id) != len(self.spans):
            raise ValueError("span ids are not unique")
        try:
            self.rel_doc = np.array([doc_code[item.document] for item in items], np.int64)
            self.rel_coder = np.array([coder_code[item.coder] for item in items], np.int64)
        except KeyError as error:
            raise ValueError(f"relation of unknown document or coder {error.args[0]!r}") from None
        self.rel_type = np.array([type_code[item.type] for item in items], np.int64)
        self.rel_from = np.array([row_of_id.get(item.from_id, -1) for item in items], np.int64)
        self.rel_to = np.array([row_of_id.get(item.to_id, -1) for item in items], np.int64)
        for rows, side in ((self.rel_from, "from_id"), (self.rel_to, "to_id")):
            unknown = rows < 0
            if unknown.any():
                item = items[int(np.argmax(unknown))]
                raise ValueError(f"relation {item!r}: {side} is not a known span id")
            elsewhere = (self.doc[rows] != self.rel_doc) | (self.coder[rows] != self.rel_coder)
            if elsewhere.any():
                item = items[int(np.argmax(elsewhere))]
                raise ValueError(
                    f"relation {item!r}: {side} is a span of another coder or document"
                )
        self.rel_by_coder = order_by(self.rel_coder, self.rel_doc)
        self.rel_bounds = np.searchsorted(
            self.rel_coder[self.rel_by_coder], np.arange(len(self.coder_keys) + 1)
        )

    def pairs(self) -> dict[tuple[int, int], np.ndarray]:
        """Coder pairs and the documents each pair both coded."""
        shared: dict[tuple[int, int], list[int]] = {}
        for doc, coders in enumerate(self.doc_coders):
            for pair in combinations(coders, 2):
                shared.setdefault(pair, []).append(doc)
        return {pair: np.array(docs, np.int64) for pair, docs in sorted(shared.items())}

    def rows_of(self, coder: int, doc_mask: np.ndarray) -> np.ndarray:
        rows = self.by_coder[self.coder_bounds[coder] : self.coder_bounds[coder + 1]]
        return rows[doc_mask[self.doc[rows]]]

    def relations_of(self, coder: int, doc_mask: np.ndarray) -> np.ndarray:
        rows = self.rel_by_coder[self.rel_bounds[coder] : self.rel_bounds[coder + 1]]
        return rows[doc_mask[self.rel_doc[rows]]]


@dataclass
class _PairResult:
    """Pooled counts of one coder pair (label-indexed and document-indexed arrays)."""

    a: int
    b: int
    docs: np.ndarray
    spans_a: np.ndarray
    spans_b: np.ndarray
    tp_exact: np.ndarray
    tp_overlap: np.ndarray
    alpha_u: list[float | None]
    alpha_u_reasons: list[str | None]
    alpha_u_overall: float | None
    alpha_u_overall_reason: str | None
    doc_spans_a: np.ndarray
    doc_spans_b: np.ndarray
    doc_tp_exact: np.ndarray
    doc_tp_overlap: np.ndarray
    doc_confused: np.ndarray
    matched_a: np.ndarray
    matched_b: np.ndarray
    confused_labels: np.ndarray
    relation_tp: np.ndarray
    relation_total: np.ndarray
    relation_unmatched: np.ndarray


def _compare_pair(corpus: _Corpus, x: int, y: int, docs: np.ndarray) -> _PairResult:
    n_labels, n_docs = len(corpus.label_keys), len(docs)
    doc_mask = np.zeros(len(corpus.doc_keys), bool)
    doc_mask[docs] = True
    rows_a, rows_b = corpus.rows_of(x, doc_mask), corpus.rows_of(y, doc_mask)
    n_a, n_b = len(rows_a), len(rows_b)
    doc_a, doc_b = corpus.doc[rows_a], corpus.doc[rows_b]
    start_a, start_b = corpus.start[rows_a], corpus.start[rows_b]
    end_a, end_b = corpus.end[rows_a], corpus.end[rows_b]
    label_a, label_b = corpus.label[rows_a], corpus.label[rows_b]

    ia, ib = cross_overlaps(doc_a, start_a, end_a, doc_b, start_b, end_b)
    same = label_a[ia] == label_b[ib]
    exact = same & (start_a[ia] == start_b[ib]) & (end_a[ia] == end_b[ib])
    matched_a, matched_b = one_to_one(ia[same], ib[same], n_a, n_b)
    exact_a, _ = one_to_one(ia[exact], ib[exact], n_a, n_b)
    # Label confusion: spans left without a same-label partner, paired by overlap across labels.
    free_a = np.ones(n_a, bool)
    free_a[matched_a] = False
    free_b = np.ones(n_b, bool)
    free_b[matched_b] = False
    loose = ~same & free_a[ia] & free_b[ib]
    confused_a, confused_b = one_to_one(ia[loose], ib[loose], n_a, n_b)

    local_a, local_b = np.searchsorted(docs, doc_a), np.searchsorted(docs, doc_b)
    alpha = _pair_alpha_u(corpus, docs, local_a, local_b, rows_a, rows_b)
    relation = _pair_relations(corpus, x, y, doc_mask, rows_a[matched_a], rows_b[matched_b])
    return _PairResult(
        a=x,
        b=y,
        docs=docs,
        spans_a=np.bincount(label_a, minlength=n_labels),
        spans_b=np.bincount(label_b, minlength=n_labels),
        tp_exact=np.bincount(label_a[exact_a], minlength=n_labels),
        tp_overlap=np.bincount(label_a[matched_a], minlength=n_labels),
        alpha_u=alpha[0],
        alpha_u_reasons=alpha[1],
        alpha_u_overall=alpha[2],
        alpha_u_overall_reason=alpha[3],
        doc_spans_a=np.bincount(local_a, minlength=n_docs),
        doc_spans_b=np.bincount(local_b, minlength=n_docs),
        doc_tp_exact=np.bincount(local_a[exact_a], minlength=n_docs),
        doc_tp_overlap=np.bincount(local_a[matched_a], minlength=n_docs),
        doc_confused=np.bincount(local_a[confused_a], minlength=n_docs),
        matched_a=rows_a[matched_a],
        matched_b=rows_b[matched_b],
        confused_labels=np.stack([label_a[confused_a], label_b[confused_b]]),
        relation_tp=relation[0],
        relation_total=relation[1],
        relation_unmatched=relation[2],
    )


def _pair_alpha_u(
    corpus: _Corpus,
    docs: np.ndarray,
    local_a: np.ndarray,
    local_b: np.ndarray,
    rows_a: np.ndarray,
    rows_b: np.ndarray,
) -> tuple[list[float | None], list[str | None], float | None, str | None]:
    """alpha_U per label and overall for two coders over their shared documents end to end."""
    n_labels = len(corpus.label_keys)
    lengths = corpus.lengths[docs]
    total = int(lengths.sum())
    if total == 0:
        return [None] * n_labels, [EMPTY_DOCUMENTS] * n_labels, None, EMPTY_DOCUMENTS
    offsets = np.cumsum(lengths) - lengths
    rater = np.concatenate([np.zeros(len(rows_a), np.int64), np.ones(len(rows_b), np.int64)])
    label = np.concatenate([corpus.label[rows_a], corpus.label[rows_b]])
    shift = np.concatenate([offsets[local_a], offsets[local_b]])
    start = np.concatenate([corpus.start[rows_a], corpus.start[rows_b]]) + shift
    end = np.concatenate([corpus.end[rows_a], corpus.end[rows_b]]) + shift
    # A coder's overlapping spans of one label are one marked stretch for unitizing purposes.
    group, start, end = merge_overlaps(label * 2 + rater, start, end)
    label, rater = group // 2, group % 2
    observed, expected = disagreements(rater, label, start, end, 0, total, 2, n_labels)
    present = np.bincount(label, minlength=n_labels) > 0
    values: list[float | None] = []
    reasons: list[str | None] = []
    for code in range(n_labels):
        if not present[code]:
            values.append(None)
            reasons.append(NO_SPANS)
        elif expected[code] <= 0.0:
            values.append(None)
            reasons.append(NO_VARIATION)
        else:
            values.append(float(1.0 - observed[code] / expected[code]))
            reasons.append(None)
    if not present.any():
        return values, reasons, None, NO_SPANS_AT_ALL
    mean_expected = expected[present].mean()
    if mean_expected <= 0.0:
        return values, reasons, None, NO_VARIATION
    return values, reasons, float(1.0 - observed[present].mean() / mean_expected), None


def _pair_relations(
    corpus: _Corpus,
    x: int,
    y: int,
    doc_mask: np.ndarray,
    matched_a: np.ndarray,
    matched_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per relation type: TP, comparable relations (both sides), relations left out."""
    n_types, n = len(corpus.type_keys), max(len(corpus.spans), 1)
    empty = np.zeros(n_types, np.int64)
    if n_types == 0:
        return empty, empty, empty
    partner = np.full(len(corpus.spans), -1, np.int64)
    partner[matched_a] = matched_b
    partner[matched_b] = matched_a

    def keys(rel: np.ndarray, translate: bool) -> tuple[np.ndarray, np.ndarray]:
        origin, target = corpus.rel_from[rel], corpus.rel_to[rel]
        ok = (partner[origin] >= 0) & (partner[target] >= 0)
        if translate:
            origin, target = partner[origin], partner[target]
        key = (corpus.rel_type[rel] * n + origin) * n + target
        # Identical relations drawn twice by one coder count once.
        return unique(key[ok]), corpus.rel_type[rel][~ok]

    # x's relations are carried over to y's spans and compared with y's own.
    keys_a, left_a = keys(corpus.relations_of(x, doc_mask), translate=True)
    keys_b, left_b = keys(corpus.relations_of(y, doc_mask), translate=False)
    common = np.intersect1d(keys_a, keys_b, assume_unique=True)
    per_type = n * n
    return (
        np.bincount(common // per_type, minlength=n_types),
        np.bincount(keys_a // per_type, minlength=n_types)
        + np.bincount(keys_b // per_type, minlength=n_types),
        np.bincount(np.concatenate([left_a, left_b]), minlength=n_types),
    )


# --- summaries ------------------------------------------------------------------------------


def _pair_value(corpus: _Corpus, result: _PairResult, label: int | None, measure: str) -> PairValue:
    pick = slice(None) if label is None else label
    spans_a, spans_b = int(np.sum(result.spans_a[pick])), int(np.sum(result.spans_b[pick]))
    coders = corpus.coder_keys[result.a], corpus.coder_keys[result.b]
    if measure == "alpha_u":
        if label is None:
            value, reason = result.alpha_u_overall, result.alpha_u_overall_reason
        else:
            value, reason = result.alpha_u[label], result.alpha_u_reasons[label]
        return PairValue(
            *coders, value, len(result.docs), spans_a=spans_a, spans_b=spans_b, reason=reason
        )
    tp_array = result.tp_exact if measure == "exact_f1" else result.tp_overlap
    tp = int(np.sum(tp_array[pick]))
    total = spans_a + spans_b
    return PairValue(
        *coders,
        value=2.0 * tp / total if total else None,
        documents=len(result.docs),
        tp=tp,
        spans_a=spans_a,
        spans_b=spans_b,
        reason=None if total else (NO_SPANS_AT_ALL if label is None else NO_SPANS),
    )


def _summary(cells: list[PairValue]) -> PairwiseSummary:
    values = [cell.value for cell in cells if cell.value is not None]
    reason = None
    if not cells:
        reason = NO_SHARED_DOCUMENT
    elif not values:
        reason = Counter(cell.reason for cell in cells).most_common(1)[0][0]
    return PairwiseSummary(
        mean=sum(values) / len(values) if values else None,
        min=min(values) if values else None,
        max=max(values) if values else None,
        pairs=len(values),
        pairs_compared=len(cells),
        reason=reason,
        per_pair=tuple(cells),
    )


def _label_agreement(
    corpus: _Corpus, results: list[_PairResult], label: int | None
) -> LabelAgreement:
    summaries = {
        measure: _summary([_pair_value(corpus, result, label, measure) for result in results])
        for measure in ("exact_f1", "overlap_f1", "alpha_u")
    }
    spans = len(corpus.spans) if label is None else int(np.count_nonzero(corpus.label == label))
    return LabelAgreement(
        label=None if label is None else corpus.label_keys[label],
        spans=spans,
        exact_f1=summaries["exact_f1"],
        overlap_f1=summaries["overlap_f1"],
        alpha_u=summaries["alpha_u"],
    )


def _counts(corpus: _Corpus, pairs: dict[tuple[int, int], np.ndarray]) -> Counts:
    coded = sum(1 for coders in corpus.doc_coders if coders)
    compared = sum(1 for coders in corpus.doc_coders if len(coders) >= 2)
    spans = np.bincount(corpus.coder, minlength=len(corpus.coder_keys))
    documents = np.zeros(len(corpus.coder_keys), np.int64)
    for coders in corpus.doc_coders:
        documents[coders] += 1
    return Counts(
        documents=len(corpus.doc_keys),
        documents_coded=coded,
        documents_compared=compared,
        coders=len(corpus.coder_keys),
        coder_pairs=len(pairs),
        spans=len(corpus.spans),
        relations=corpus.relation_count,
        spans_per_coder=tuple(
            CoderCount(key, int(spans[code]), int(documents[code]))
            for code, key in enumerate(corpus.coder_keys)
        ),
        reason=None if compared else NO_SHARED_DOCUMENT,
    )


def _matrices(corpus: _Corpus, results: list[_PairResult]) -> tuple[CoderMatrix, ...]:
    size = len(corpus.coder_keys)
    matrices = []
    for measure in ("exact_f1", "overlap_f1", "alpha_u"):
        values: list[list[float | None]] = [[None] * size for _ in range(size)]
        documents = [[0] * size for _ in range(size)]
        for result in results:
            value = _pair_value(corpus, result, None, measure).value
            for i, j in ((result.a, result.b), (result.b, result.a)):
                values[i][j] = value
                documents[i][j] = len(result.docs)
        matrices.append(
            CoderMatrix(
                measure,
                tuple(corpus.coder_keys),
                tuple(tuple(row) for row in values),
                tuple(tuple(row) for row in documents),
            )
        )
    return tuple(matrices)


def _confusion(corpus: _Corpus, results: list[_PairResult]) -> tuple[LabelConfusion, ...]:
    n_labels = len(corpus.label_keys)
    if not results or n_labels == 0:
        return ()
    labels = np.concatenate([result.confused_labels for result in results], axis=1)
    low, high = np.minimum(labels[0], labels[1]), np.maximum(labels[0], labels[1])
    counts = np.bincount(low * n_labels + high, minlength=n_labels * n_labels)
    found = [
        LabelConfusion(
            corpus.label_keys[code // n_labels], corpus.label_keys[code % n_labels], int(count)
        )
        for code, count in enumerate(counts.tolist())
        if count
    ]
    return tuple(sorted(found, key=lambda item: (-item.count, item.label_a, item.label_b)))


def _attributes(
    corpus: _Corpus, results: list[_PairResult], numeric: frozenset[str]
) -> tuple[AttributeAgreement, ...]:
    if results:
        rows_a = np.concatenate([result.matched_a for result in results])
        rows_b = np.concatenate([result.matched_b for result in results])
    else:
        rows_a = rows_b = np.empty(0, np.int64)
    pair_label = corpus.label[rows_a]
    all_attributes = list(map(attrgetter("attributes"), corpus.spans))
    by_label = np.argsort(corpus.label, kind="stable")
    bounds = np.searchsorted(corpus.label[by_label], np.arange(len(corpus.label_keys) + 1))
    position = np.zeros(len(corpus.spans), np.int64)
    found = []
    # Spans of one label share an attribute schema, so each (label, attribute) column is one
    # list comprehension over that label's spans rather than a loop over every value.
    for code, label in enumerate(corpus.label_keys):
        rows = by_label[bounds[code] : bounds[code + 1]]
        dicts = [all_attributes[row] for row in rows.tolist()]
        names = set().union(*dicts)
        if not names:
            continue
        position[rows] = np.arange(len(rows))
        chosen = pair_label == code
        local_a, local_b = position[rows_a[chosen]], position[rows_b[chosen]]
        for name in sorted(names, key=_natural):
            level = "interval" if name in numeric else "nominal"
            codes, values = _attribute_codes([d.get(name, _ABSENT) for d in dicts], level)
            pair_codes = np.stack([codes[local_a], codes[local_b]])
            given = pair_codes >= 0
            both = int(np.count_nonzero(given.all(axis=0)))
            alpha = alpha_from_codes(pair_codes, values, level) if both else None
            reason = None
            if not both:
                reason = NO_VALUE_PAIRS
            elif alpha is None:
                reason = NO_VARIATION
            found.append(
                AttributeAgreement(
                    label=label,
                    attribute=name,
                    level=level,
                    alpha=alpha,
                    pairs=both,
                    missing=int(np.count_nonzero(given.any(axis=0))) - both,
                    reason=reason,
                )
            )
    return tuple(found)


_ABSENT = object()


def _attribute_codes(raw: list[Any], level: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes for one attribute's values (``-1`` = no usable value) and the values they index."""
    if level == "interval":
        # bool is an int subclass, but a yes/no flag is not a count.
        numbers = np.array([v if type(v) in (int, float) else np.nan for v in raw], float)
        usable = np.isfinite(numbers)
        values, inverse = unique_inverse(numbers[usable])
        codes = np.full(len(raw), -1, np.int64)
        codes[usable] = inverse
        return codes, values
    cleaned = [None if v is _ABSENT or v is None or v == "" else v for v in raw]
    try:
        distinct = dict.fromkeys(v for v in cleaned if v is not None)
    except TypeError:  # lists and dicts from a JSON attribute
        cleaned = [None if v is None else _hashable(v) for v in cleaned]
        distinct = dict.fromkeys(v for v in cleaned if v is not None)
    index = {value: code for code, value in enumerate(distinct)}
    codes = np.array([-1 if v is None else index[v] for v in cleaned], np.int64)
    values = np.empty(len(index), dtype=object)
    values[:] = list(index)
    return codes, values


def _relations(corpus: _Corpus, results: list[_PairResult]) -> tuple[RelationAgreement, ...]:
    n_types = len(corpus.type_keys)
    tp = sum((result.relation_tp for result in results), np.zeros(n_types, np.int64))
    total = sum((result.relation_total for result in results), np.zeros(n_types, np.int64))
    left = sum((result.relation_unmatched for result in results), np.zeros(n_types, np.int64))
    found = []
    for code, key in enumerate(corpus.type_keys):
        reason = None
        if not results:
            reason = NO_SHARED_DOCUMENT
        elif not total[code]:
            reason = NO_COMPARABLE_RELATIONS
        found.append(
            RelationAgreement(
                type=key,
                f1=2.0 * int(tp[code]) / int(total[code]) if total[code] else None,
                tp=int(tp[code]),
                relations=int(total[code]),
                unmatched_ends=int(left[code]),
                reason=reason,
            )
        )
    return tuple(found)


def _documents(
    corpus: _Corpus, results: list[_PairResult], top: int | None
) -> tuple[DocumentDisagreement, ...]:
    n_docs = len(corpus.doc_keys)
    f1_sum, f1_count = np.zeros(n_docs), np.zeros(n_docs, np.int64)
    for result in results:
        total = result.doc_spans_a + result.doc_spans_b
        defined = total > 0
        f1 = 2.0 * result.doc_tp_overlap[defined] / total[defined]
        np.add.at(f1_sum, result.docs[defined], f1)
        np.add.at(f1_count, result.docs[defined], 1)
    ranked = np.flatnonzero(f1_count)
    if ranked.size == 0:
        return ()
    mean = f1_sum[ranked] / f1_count[ranked]
    spans = np.bincount(corpus.doc, minlength=n_docs)
    # Worst first; among equals, the document with more spans shows more of the problem.
    order = np.lexsort((ranked, -spans[ranked], mean))
    chosen = ranked[order] if top is None else ranked[order][:top]
    means = dict(zip(ranked.tolist(), mean.tolist(), strict=True))
    reasons = _document_reasons(corpus, results, set(chosen.tolist()))
    return tuple(
        DocumentDisagreement(
            document=corpus.doc_keys[doc],
            disagreement=1.0 - means[doc],
            overlap_f1=means[doc],
            coders=len(corpus.doc_coders[doc]),
            pairs=int(f1_count[doc]),
            spans=int(spans[doc]),
            reasons=tuple(reason for *_, reason in sorted(reasons.get(doc, []))),
        )
        for doc in chosen.tolist()
    )


def _document_reasons(
    corpus: _Corpus, results: list[_PairResult], chosen: set[int]
) -> dict[int, list[tuple[float, int, str]]]:
    """Readable reasons for the chosen documents, worst pair first."""
    found: dict[int, list[tuple[float, int, str]]] = {}
    for result in results:
        a, b = str(corpus.coder_keys[result.a]), str(corpus.coder_keys[result.b])
        for position, doc in enumerate(result.docs.tolist()):
            if doc not in chosen:
                continue
            n_a, n_b = int(result.doc_spans_a[position]), int(result.doc_spans_b[position])
            tp = int(result.doc_tp_overlap[position])
            exact = int(result.doc_tp_exact[position])
            confused = int(result.doc_confused[position])
            if n_a + n_b == 0:
                continue
            f1 = 2.0 * tp / (n_a + n_b)
            texts = []
            if n_a == 0 or n_b == 0:
                empty, other, count = (a, b, n_b) if n_a == 0 else (b, a, n_a)
                texts.append(f"{empty} marked no spans where {other} marked {count}")
            elif f1 < 1.0:
                texts.append(
                    f"{a} vs {b}: overlap F1 {f1:.2f}, {tp} of {n_a} and {n_b} spans matched"
                )
            if confused:
                texts.append(f"{a} vs {b}: {confused} overlapping spans labelled differently")
            if tp > exact:
                texts.append(f"{a} vs {b}: {tp - exact} matched spans differ in boundaries")
            notes = found.setdefault(doc, [])
            # Worst pair first; a pair's own notes keep the order they were written in.
            base = len(notes)
            notes.extend((f1, base + k, text) for k, text in enumerate(texts))
    return found


def _coder_agreement(corpus: _Corpus, results: list[_PairResult]) -> tuple[CoderAgreement, ...]:
    n_coders, n_labels = len(corpus.coder_keys), len(corpus.label_keys)
    # counts[coder, label, k]: k = exact tp, overlap tp, own spans, partners' spans
    counts = np.zeros((n_coders, n_labels, 4), np.int64)
    documents = np.zeros(n_coders, np.int64)
    partners = np.zeros(n_coders, np.int64)
    compared_docs: list[set[int]] = [set() for _ in range(n_coders)]
    for result in results:
        for own, mine, theirs in (
            (result.a, result.spans_a, result.spans_b),
            (result.b, result.spans_b, result.spans_a),
        ):
            counts[own, :, 0] += result.tp_exact
            counts[own, :, 1] += result.tp_overlap
            counts[own, :, 2] += mine
            counts[own, :, 3] += theirs
            partners[own] += 1
            compared_docs[own].update(result.docs.tolist())
    for coder in range(n_coders):
        documents[coder] = len(compared_docs[coder])
    found = []
    for coder in range(n_coders):
        if not partners[coder]:
            continue
        for label in [None, *range(n_labels)]:
            row = counts[coder].sum(axis=0) if label is None else counts[coder, label]
            exact_tp, overlap_tp, own, theirs = (int(value) for value in row)
            found.append(
                CoderAgreement(
                    coder=corpus.coder_keys[coder],
                    label=None if label is None else corpus.label_keys[label],
                    exact=prf_from_counts(exact_tp, theirs, own),
                    overlap=prf_from_counts(overlap_tp, theirs, own),
                    documents=int(documents[coder]),
                    partners=int(partners[coder]),
                )
            )
    return tuple(found)


# --- helpers --------------------------------------------------------------------------------


def _codes(keys: list[Hashable], code: dict[Hashable, int]) -> np.ndarray:
    return np.fromiter(map(code.__getitem__, keys), np.int64, len(keys))


def _natural(key: Any) -> tuple[int, Any]:
    """Sort numbers numerically and everything else by its text, numbers first."""
    if isinstance(key, int | float) and not isinstance(key, bool):
        return (0, key)
    return (1, str(key))


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(sorted(str(item) for item in value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
