"""Adjudication's arithmetic over plain data (no Django): the coders' versions aligned into
candidate units, what a unit's coders disagree on, which spans the bulk decisions accept and
with which attributes, whether the gold settles a unit, and each coder's scores against gold.

A *unit* is a maximal run of overlapping spans, whatever their coder or label: the spans that
are candidates for the same stretch of the gold. Its ``key`` is its smallest span id, which
stays the same however the rest of the document is coded or decided.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from annotator.agreement.spans import PRF, prf_from_counts, span_prf

# What a unit's coders can disagree on (a unit with none of these is "agreed").
MISSING = "missing"  # some coder marked nothing here
LABEL = "label"  # the spans carry different labels
BOUNDARY = "boundary"  # the spans start or end at different characters
EXTRA = "extra"  # some coder marked more spans here than another
ATTRIBUTES = "attributes"  # same span, different attribute values
RELATIONS = "relations"  # same span, different links
KINDS = (MISSING, LABEL, BOUNDARY, EXTRA, ATTRIBUTES, RELATIONS)

Key = tuple[int, int, Hashable]  # (start, end, label)


@dataclass(frozen=True, slots=True)
class Version:
    """One coder's span: ``label`` is any hashable (a label id or name)."""

    id: int
    coder: Hashable
    start: int
    end: int
    label: Hashable
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.start, self.end, self.label)


@dataclass(frozen=True, slots=True)
class Link:
    """One coder's relation between two of their spans, by span id."""

    id: int
    coder: Hashable
    type: Hashable
    source: int
    target: int


@dataclass(frozen=True, slots=True)
class Unit:
    key: int
    start: int
    end: int
    spans: tuple[Version, ...]  # in coder order, then by position
    coders: tuple[Hashable, ...]  # every coder of the document, in order

    def of(self, coder: Hashable) -> tuple[Version, ...]:
        return tuple(span for span in self.spans if span.coder == coder)

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(span.id for span in self.spans)

    @property
    def agreed(self) -> bool:
        """Every coder made exactly one span here, all with the same start, end and label."""
        if len(self.spans) != len(self.coders):
            return False
        return len({span.key for span in self.spans}) == 1 and {
            span.coder for span in self.spans
        } == set(self.coders)

    def disagreements(self, attributes: Mapping | None = None) -> frozenset[str]:
        """What the coders' versions differ in, apart from links (see ``link_differences``).
        ``attributes``: differing_attributes(self.spans), when the caller has it already."""
        kinds = set()
        counts = Counter(span.coder for span in self.spans)
        if any(counts[coder] == 0 for coder in self.coders):
            kinds.add(MISSING)
        if len({counts[coder] for coder in self.coders if counts[coder]}) > 1:
            kinds.add(EXTRA)
        if len({span.label for span in self.spans}) > 1:
            kinds.add(LABEL)
        if len({(span.start, span.end) for span in self.spans}) > 1:
            kinds.add(BOUNDARY)
        if differing_attributes(self.spans) if attributes is None else attributes:
            kinds.add(ATTRIBUTES)
        return frozenset(kinds)


def align(spans: Iterable[Version], coders: Sequence[Hashable]) -> list[Unit]:
    """Group the coders' spans into units of overlapping spans, in text order.

    Linear after sorting: a unit grows while the next span starts before its furthest end.
    """
    order = {coder: index for index, coder in enumerate(coders)}
    ordered = sorted(spans, key=lambda s: (s.start, s.end, order.get(s.coder, len(order)), s.id))
    groups: list[list[Version]] = []
    furthest = -1
    for span in ordered:
        if groups and span.start < furthest:
            groups[-1].append(span)
            furthest = max(furthest, span.end)
        else:
            groups.append([span])
            furthest = span.end
    units = []
    for group in groups:
        group.sort(key=lambda s: (order.get(s.coder, len(order)), s.start, s.end, s.id))
        units.append(
            Unit(
                key=min(span.id for span in group),
                start=min(span.start for span in group),
                end=max(span.end for span in group),
                spans=tuple(group),
                coders=tuple(coders),
            )
        )
    return units


def _canonical(value: Any) -> str:
    # Attribute values are JSON: lists (multi-valued) are unhashable, so compare their text.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def differing_attributes(spans: Iterable[Version]) -> dict[Key, frozenset[str]]:
    """For each span key made by more than one coder: the attributes they gave different
    values (an attribute one coder left unset and another set counts as different)."""
    by_key: dict[Key, list[Version]] = defaultdict(list)
    for span in spans:
        by_key[span.key].append(span)
    result = {}
    for key, group in by_key.items():
        if len(group) < 2:
            continue
        names = {name for span in group for name in span.attributes}
        differing = frozenset(
            name
            for name in names
            if len({_canonical(span.attributes.get(name)) for span in group}) > 1
        )
        if differing:
            result[key] = differing
    return result


def merge_attributes(versions: Sequence[Version]) -> tuple[dict[str, Any], list[str]]:
    """Attributes for one gold span from identical spans of several coders (in coder order).

    Per attribute: the value all agree on; else the value more than half of them gave; else the
    first coder's, and the attribute is returned in the second list (to be flagged for review).
    An unset value counts as a value ("not coded").
    """
    names: list[str] = []
    for version in versions:
        names.extend(name for name in version.attributes if name not in names)
    merged: dict[str, Any] = {}
    disputed: list[str] = []
    for name in names:
        values = [version.attributes.get(name) for version in versions]
        counts = Counter(_canonical(value) for value in values)
        top, top_count = counts.most_common(1)[0]
        if len(counts) == 1 or top_count * 2 > len(values):
            chosen = next(value for value in values if _canonical(value) == top)
        else:
            chosen = values[0]
            disputed.append(name)
        if chosen is not None:
            merged[name] = chosen
    return merged, disputed


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span the bulk decision accepts: identical versions of ``share`` of the coders."""

    unit: int
    versions: tuple[Version, ...]
    attributes: dict[str, Any]
    disputed: tuple[str, ...]
    share: Fraction


def bulk_candidates(units: Iterable[Unit], threshold: Fraction) -> list[Candidate]:
    """Every span key made identically by at least ``threshold`` of the document's coders.

    ``threshold`` 1 accepts what all coders agree on. Callers pass only the units still open,
    so that a bulk decision never overrides one the adjudicator already made.
    """
    candidates = []
    for unit in units:
        by_key: dict[Key, list[Version]] = defaultdict(list)
        for span in unit.spans:
            by_key[span.key].append(span)
        for versions in by_key.values():
            share = Fraction(len({v.coder for v in versions}), len(unit.coders) or 1)
            if share >= threshold:
                attributes, disputed = merge_attributes(versions)
                candidates.append(
                    Candidate(unit.key, tuple(versions), attributes, tuple(disputed), share)
                )
    return candidates


def count_candidates(units: Iterable[Unit], thresholds: Iterable[Fraction]) -> dict:
    """How many spans bulk_candidates would take at each threshold, without merging any
    attributes (for the buttons' counts)."""
    thresholds = list(thresholds)
    counts = dict.fromkeys(thresholds, 0)
    for unit in units:
        coders_of: dict[Key, set] = defaultdict(set)
        for span in unit.spans:
            coders_of[span.key].add(span.coder)
        for coders in coders_of.values():
            share = Fraction(len(coders), len(unit.coders) or 1)
            for threshold in thresholds:
                if share >= threshold:
                    counts[threshold] += 1
    return counts


def link_signatures(
    units: Sequence[Unit], links: Iterable[Link]
) -> dict[int, dict[Hashable, set[tuple]]]:
    """Per unit and coder, the links touching the unit as ``(direction, type, other unit)``:
    comparable across coders although each coder's spans have their own ids."""
    unit_of = {span.id: unit.key for unit in units for span in unit.spans}
    result: dict[int, dict[Hashable, set[tuple]]] = defaultdict(lambda: defaultdict(set))
    for link in links:
        source, target = unit_of.get(link.source), unit_of.get(link.target)
        if source is None or target is None:
            continue
        result[source][link.coder].add(("out", link.type, target))
        result[target][link.coder].add(("in", link.type, source))
    return result


def link_differences(unit: Unit, signatures: Mapping[Hashable, set[tuple]]) -> set[tuple]:
    """The link signatures of the unit that not every coder with a span here has."""
    present = [signatures.get(coder, set()) for coder in unit.coders if unit.of(coder)]
    if len(present) < 2:
        return set()
    return set().union(*present) - set.intersection(*present)


@dataclass(frozen=True, slots=True)
class Settlement:
    status: str  # "gold", "rejected" or "open"
    gold: tuple[int, ...]  # ids of the gold spans over the unit


def settle(
    units: Sequence[Unit], gold: Iterable[tuple[int, int, int]], rejected: Iterable[int]
) -> dict[int, Settlement]:
    """A unit is settled once the gold has a span over it (``gold``: (id, start, end)), or
    once every one of its spans was rejected; else it is open."""
    ordered = sorted(gold, key=lambda g: (g[1], g[2], g[0]))
    starts = [g[1] for g in ordered]
    longest = max((g[2] - g[1] for g in ordered), default=0)
    rejected = set(rejected)
    result = {}
    for unit in units:
        low = bisect.bisect_left(starts, unit.start - longest)
        high = bisect.bisect_left(starts, unit.end)
        over = tuple(g[0] for g in ordered[low:high] if g[2] > unit.start)
        if over:
            result[unit.key] = Settlement("gold", over)
        elif unit.ids <= rejected:
            result[unit.key] = Settlement("rejected", ())
        else:
            result[unit.key] = Settlement("open", ())
    return result


def disagreement(spans_by_coder: Mapping[Hashable, Sequence[tuple[int, int, Hashable]]]) -> float:
    """1 - the mean pairwise overlap span F1 of one document's coders (0 = full agreement).

    Pairs where neither coder marked anything agree fully; fewer than two coders, 0.
    """
    coders = list(spans_by_coder)
    scores = []
    for i, a in enumerate(coders):
        for b in coders[i + 1 :]:
            f1 = span_prf(spans_by_coder[a], spans_by_coder[b], matching="overlap").f1
            scores.append(1.0 if f1 is None else f1)
    return 1.0 - sum(scores) / len(scores) if scores else 0.0


@dataclass(frozen=True, slots=True)
class GoldScore:
    """One coder against the gold, pooled over the adjudicated documents they coded."""

    coder: Hashable
    label: Hashable | None  # None: all labels together
    exact: PRF
    overlap: PRF
    documents: int


def scores_against_gold(
    gold: Iterable[tuple[Hashable, int, int, Hashable]],
    coded: Iterable[tuple[Hashable, Hashable, int, int, Hashable]],
    documents_of: Mapping[Hashable, Iterable[Hashable]],
) -> list[GoldScore]:
    """Precision, recall and F1 of each coder's spans against the gold spans, per label and
    over all labels, counts pooled over documents before any ratio is taken.

    ``gold``: (document, start, end, label); ``coded``: (document, coder, start, end, label);
    ``documents_of``: coder -> the adjudicated documents that coder coded (a document where the
    coder marked nothing still counts: every gold span there is a miss).
    """
    gold_by: dict[tuple, list[tuple]] = defaultdict(list)
    labels = set()
    for document, start, end, label in gold:
        gold_by[(document, label)].append((start, end, label))
        labels.add(label)
    coded_by: dict[tuple, list[tuple]] = defaultdict(list)
    for document, coder, start, end, label in coded:
        coded_by[(document, coder, label)].append((start, end, label))
        labels.add(label)
    scores = []
    for coder, documents in documents_of.items():
        documents = list(documents)
        totals = {"exact": [0, 0, 0], "overlap": [0, 0, 0]}
        per_label = []
        for label in sorted(labels, key=str):
            counts = {"exact": [0, 0, 0], "overlap": [0, 0, 0]}
            for document in documents:
                reference = gold_by.get((document, label), [])
                predicted = coded_by.get((document, coder, label), [])
                if not reference and not predicted:
                    continue
                for matching, tally in counts.items():
                    prf = span_prf(reference, predicted, matching=matching)
                    tally[0] += prf.tp
                    tally[1] += prf.n_reference
                    tally[2] += prf.n_predicted
            if counts["exact"][1] or counts["exact"][2]:
                per_label.append(
                    GoldScore(
                        coder,
                        label,
                        prf_from_counts(*counts["exact"]),
                        prf_from_counts(*counts["overlap"]),
                        len(documents),
                    )
                )
                for matching in totals:
                    totals[matching] = [
                        t + c for t, c in zip(totals[matching], counts[matching], strict=True)
                    ]
        scores.append(
            GoldScore(
                coder,
                None,
                prf_from_counts(*totals["exact"]),
                prf_from_counts(*totals["overlap"]),
                len(documents),
            )
        )
        scores.extend(per_label)
    return scores
