"""The claims table: one row per CASUALTY claim, with what its relations link it to.

:func:`claim_rows` follows a document's relations from each CASUALTY span (codebook:
``claimed_by`` → SOURCE, ``perpetrator`` and ``victim_group`` → ACTOR, ``location`` →
LOCATION, ``date`` → DATE, ``subset_of`` → CASUALTY) and :func:`write_claims_csv` writes the
rows. In the cells:

* actors are their ``canonical`` attribute when coded, else their text; dates their
  ``normalized`` attribute when coded, else their text; locations their text;
* several linked spans are listed in text order, joined by "; " (so are several sources,
  though the codebook allows one);
* ``subset_of`` is the text of the larger claim, ``subset_of_id`` its claim id;
* missing numbers are empty cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from annotator.formats.model import Document, Relation, Span

CLAIM_LABEL = "CASUALTY"
LIST_SEPARATOR = "; "


@dataclass(slots=True)
class ClaimRow:
    document_id: str
    url: str
    outlet: str
    published: str | None
    claim_id: str
    claim_text: str
    outcome: str | None = None
    low: int | float | None = None
    best: int | float | None = None
    high: int | float | None = None
    victim_status: str | None = None
    victim_affiliation: str | None = None
    perpetrators: list[str] = field(default_factory=list)
    victim_groups: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    source_text: str = ""
    source_type: str = ""
    partisanship: str = ""
    subset_of: str = ""
    subset_of_id: str = ""


COLUMNS = tuple(f.name for f in fields(ClaimRow))


def _name(span: Span, attribute: str) -> str:
    value = span.attributes.get(attribute)
    return str(value) if value not in (None, "") else span.text


def _joined(values: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values if v not in (None, ""))


def claim_rows(
    document: Document, spans: Sequence[Span], relations: Iterable[Relation]
) -> list[ClaimRow]:
    """The claims of one document (its CASUALTY spans, in text order) with their links."""
    by_id = {s.id: s for s in spans}
    links: dict[str, dict[str, list[Span]]] = {}
    for relation in relations:
        target = by_id.get(relation.target_id)
        if relation.source_id in by_id and target is not None:
            links.setdefault(relation.source_id, {}).setdefault(relation.type, []).append(target)
    rows = []
    for claim in sorted(
        (s for s in spans if s.label == CLAIM_LABEL), key=lambda s: (s.start, s.end, s.id)
    ):
        linked = {
            kind: sorted(group, key=lambda s: (s.start, s.end))
            for kind, group in links.get(claim.id, {}).items()
        }
        sources = linked.get("claimed_by", [])
        supersets = linked.get("subset_of", [])
        a = claim.attributes
        rows.append(
            ClaimRow(
                document_id=document.external_id,
                url=document.url,
                outlet=document.outlet,
                published=document.published,
                claim_id=claim.id,
                claim_text=claim.text,
                outcome=a.get("outcome"),
                low=a.get("low"),
                best=a.get("best"),
                high=a.get("high"),
                victim_status=a.get("victim_status"),
                victim_affiliation=a.get("victim_affiliation"),
                perpetrators=[_name(s, "canonical") for s in linked.get("perpetrator", [])],
                victim_groups=[_name(s, "canonical") for s in linked.get("victim_group", [])],
                locations=[s.text for s in linked.get("location", [])],
                dates=[_name(s, "normalized") for s in linked.get("date", [])],
                source_text=_joined(s.text for s in sources),
                source_type=_joined(s.attributes.get("source_type") for s in sources),
                partisanship=_joined(s.attributes.get("partisanship") for s in sources),
                subset_of=_joined(s.text for s in supersets),
                subset_of_id=_joined(s.id for s in supersets),
            )
        )
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any, guard_formulas: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = _joined(value)
    text = str(value)
    if guard_formulas and isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_claims_csv(rows: Iterable[ClaimRow], *, guard_formulas: bool = False) -> Iterator[str]:
    """Yield the CSV: a header line, then one line per row (``\\r\\n`` line ends, as RFC 4180
    and spreadsheets expect). ``guard_formulas`` prefixes text cells that a spreadsheet
    would run as a formula (starting with = + - @) with an apostrophe; it is off by
    default because it changes the data researchers load into R or pandas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for row in rows:
        yield line(_cell(getattr(row, name), guard_formulas) for name in COLUMNS)
