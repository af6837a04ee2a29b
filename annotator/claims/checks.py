"""Checks a coder's spans and relations must pass before submitting, on plain data.

Each finding names the span by its text and says what is wrong, so the coding screen can show
it as is. Relation cardinalities and label signatures default to the codebook's and can be
replaced by a project's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

CLAIM_WITHOUT_SOURCE = "claim_without_source"
CLAIM_WITH_SEVERAL_SOURCES = "claim_with_several_sources"
COUNT_NOT_A_NUMBER = "count_not_a_number"
COUNT_BOUNDS_OUT_OF_ORDER = "count_bounds_out_of_order"
SUBSET_LARGER_THAN_SUPERSET = "subset_larger_than_superset"
DATE_NOT_EVENT_DATE = "date_not_event_date"
TOO_MANY_RELATIONS = "too_many_relations"
RELATION_WRONG_LABELS = "relation_wrong_labels"
RELATION_TO_MISSING_SPAN = "relation_to_missing_span"

# The default codebook's "How many" column: at most this many links of a type leave one span.
# claimed_by is "exactly one" and has its own check.
DEFAULT_CARDINALITIES: Mapping[str, int] = {
    "claimed_by": 1,
    "subset_of": 1,
    "cites": 1,
    "located_in": 1,
}
DEFAULT_SIGNATURES: Mapping[str, tuple[str, str]] = {
    "claimed_by": ("CASUALTY", "SOURCE"),
    "perpetrator": ("CASUALTY", "ACTOR"),
    "victim_group": ("CASUALTY", "ACTOR"),
    "location": ("CASUALTY", "LOCATION"),
    "date": ("CASUALTY", "DATE"),
    "subset_of": ("CASUALTY", "CASUALTY"),
    "cites": ("SOURCE", "SOURCE"),
    "located_in": ("LOCATION", "LOCATION"),
}
_COUNT_FIELDS = ("low", "best", "high")


@dataclass(frozen=True)
class Span:
    id: str
    label: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""

    @classmethod
    def coerce(cls, value: Span | Mapping[str, Any]) -> Span:
        if isinstance(value, Span):
            return value
        return cls(
            str(value["id"]),
            str(value["label"]),
            dict(value.get("attributes") or {}),
            str(value.get("text", "")),
        )


@dataclass(frozen=True)
class Relation:
    type: str
    from_id: str
    to_id: str

    @classmethod
    def coerce(cls, value: Relation | Mapping[str, Any]) -> Relation:
        """Accept a Relation or a mapping with type and from_id/to_id (or from/to)."""
        if isinstance(value, Relation):
            return value
        return cls(
            str(value["type"]),
            str(value.get("from_id", value.get("from"))),
            str(value.get("to_id", value.get("to"))),
        )


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    span_ids: tuple[str, ...]
    severity: Severity = "error"


def run_checks(
    spans: Iterable[Span | Mapping[str, Any]],
    relations: Iterable[Relation | Mapping[str, Any]],
    cardinalities: Mapping[str, int] | None = None,
    signatures: Mapping[str, tuple[str, str]] | None = None,
) -> list[Finding]:
    """Every finding for one coder's annotation of one document; an empty list means submit."""
    by_id = {span.id: span for span in map(Span.coerce, spans)}
    links = [Relation.coerce(r) for r in relations]
    # An empty mapping is a codebook without limits, not a request for the defaults.
    if signatures is None:
        signatures = DEFAULT_SIGNATURES
    if cardinalities is None:
        cardinalities = DEFAULT_CARDINALITIES
    findings = check_relation_ends(by_id, links, signatures)
    known = [r for r in links if r.from_id in by_id and r.to_id in by_id]
    findings += check_claimed_by(by_id, known)
    findings += check_counts(by_id)
    findings += check_subsets(by_id, known)
    findings += check_dates(by_id, known)
    findings += check_cardinalities(by_id, known, cardinalities)
    return findings


def check_relation_ends(
    by_id: Mapping[str, Span],
    relations: Iterable[Relation],
    signatures: Mapping[str, tuple[str, str]],
) -> list[Finding]:
    findings = []
    for r in relations:
        missing = [i for i in (r.from_id, r.to_id) if i not in by_id]
        if missing:
            findings.append(
                Finding(
                    RELATION_TO_MISSING_SPAN,
                    f"A {r.type} link points to span {', '.join(missing)}, which does not exist.",
                    (r.from_id, r.to_id),
                )
            )
            continue
        expected = signatures.get(r.type)
        source, target = by_id[r.from_id], by_id[r.to_id]
        if expected and (source.label, target.label) != expected:
            findings.append(
                Finding(
                    RELATION_WRONG_LABELS,
                    f"{_name(source)} is linked by {r.type} to {_name(target)}; "
                    f"{r.type} goes from a {expected[0]} to a {expected[1]}.",
                    (r.from_id, r.to_id),
                )
            )
    return findings


def check_claimed_by(by_id: Mapping[str, Span], relations: Iterable[Relation]) -> list[Finding]:
    """Every CASUALTY is claimed_by exactly one SOURCE (the outlet itself if nobody is named)."""
    counts = Counter(r.from_id for r in relations if r.type == "claimed_by")
    findings = []
    for span in by_id.values():
        if span.label != "CASUALTY":
            continue
        if counts[span.id] == 0:
            findings.append(
                Finding(
                    CLAIM_WITHOUT_SOURCE,
                    f"{_name(span)} has no claimed_by link: link it to the SOURCE that makes "
                    "the claim (the outlet itself when nobody is named).",
                    (span.id,),
                )
            )
        elif counts[span.id] > 1:
            findings.append(
                Finding(
                    CLAIM_WITH_SEVERAL_SOURCES,
                    f"{_name(span)} has {counts[span.id]} claimed_by links; a claim has exactly "
                    "one source (use cites between SOURCE spans for nested attribution).",
                    (span.id,),
                )
            )
    return findings


def check_counts(by_id: Mapping[str, Span]) -> list[Finding]:
    """low, best and high are whole numbers >= 0 with low <= best <= high where present."""
    findings = []
    for span in by_id.values():
        values = {name: span.attributes.get(name) for name in _COUNT_FIELDS}
        bad = [name for name, value in values.items() if value is not None and not _count(value)]
        if bad:
            shown = ", ".join(f"{name} {values[name]!r}" for name in bad)
            findings.append(
                Finding(
                    COUNT_NOT_A_NUMBER,
                    f"{_name(span)}: {shown} is not a whole number of people.",
                    (span.id,),
                )
            )
            continue
        present = [(name, values[name]) for name in _COUNT_FIELDS if values[name] is not None]
        wrong = [
            f"{a} {va} > {b} {vb}"
            for i, (a, va) in enumerate(present)
            for b, vb in present[i + 1 :]
            if va > vb
        ]
        if wrong:
            findings.append(
                Finding(
                    COUNT_BOUNDS_OUT_OF_ORDER,
                    f"{_name(span)}: {'; '.join(wrong)} (must be low <= best <= high).",
                    (span.id,),
                )
            )
    return findings


def check_subsets(by_id: Mapping[str, Span], relations: Iterable[Relation]) -> list[Finding]:
    """A subset_of claim is not larger than its superset, comparing best, else low."""
    findings = []
    for r in relations:
        if r.type != "subset_of":
            continue
        part, whole = by_id[r.from_id], by_id[r.to_id]
        part_size, whole_size = _size(part), _size(whole)
        if part_size is not None and whole_size is not None and part_size > whole_size:
            findings.append(
                Finding(
                    SUBSET_LARGER_THAN_SUPERSET,
                    f"{_name(part)} ({part_size}) is marked subset_of {_name(whole)} "
                    f"({whole_size}) but is larger.",
                    (part.id, whole.id),
                )
            )
    return findings


def check_dates(by_id: Mapping[str, Span], relations: Iterable[Relation]) -> list[Finding]:
    """A claim's date link points to a DATE whose date_role is event_date (the default)."""
    findings = []
    for r in relations:
        if r.type != "date":
            continue
        claim, date = by_id[r.from_id], by_id[r.to_id]
        if date.label != "DATE":
            continue  # reported by check_relation_ends
        role = date.attributes.get("date_role") or "event_date"
        if role != "event_date":
            findings.append(
                Finding(
                    DATE_NOT_EVENT_DATE,
                    f"{_name(claim)} is dated by {_name(date)}, whose date_role is {role}; "
                    "link a claim only to the date of the event.",
                    (claim.id, date.id),
                )
            )
    return findings


def check_cardinalities(
    by_id: Mapping[str, Span], relations: Iterable[Relation], cardinalities: Mapping[str, int]
) -> list[Finding]:
    """No span has more links of a type than the codebook allows (claimed_by: see above)."""
    counts = Counter((r.type, r.from_id) for r in relations if r.type != "claimed_by")
    findings = []
    for (kind, span_id), count in counts.items():
        limit = cardinalities.get(kind)
        if limit is not None and count > limit:
            findings.append(
                Finding(
                    TOO_MANY_RELATIONS,
                    f"{_name(by_id[span_id])} has {count} {kind} links; at most {limit} allowed.",
                    (span_id,),
                )
            )
    return findings


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _size(span: Span) -> int | None:
    for name in ("best", "low"):
        value = span.attributes.get(name)
        if isinstance(value, int) and _count(value):
            return value
    return None


def _name(span: Span) -> str:
    if span.text:
        return f'{span.label} "{span.text}" ({span.id})'
    return f"{span.label} {span.id}"
