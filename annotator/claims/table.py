"""The claims table's arithmetic on plain data: totals that never add a subset to its superset,
and claimed deaths per week by the source's partisanship, drawn as bars.

A *layer* is one coherent version of the coding: the gold of adjudicated documents, or one
coder's spans. Totals are per layer (two coders' versions of one article are two answers to
one question, not two tolls), and `subset_of` links stay inside their layer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

GOLD = "gold"
MAX_BAR = 40  # SVG units
PARTISANSHIPS = ("party_to_conflict", "aligned_with_party", "independent", "unknown")


@dataclass(frozen=True)
class Figure:
    """What the arithmetic needs of one claim."""

    id: str
    layer: str
    document: str
    low: int | None = None
    best: int | None = None
    high: int | None = None
    subset_of: tuple[str, ...] = ()
    outcome: str | None = None
    published: dt.date | None = None
    partisanship: str = "unknown"

    @property
    def single(self) -> int:
        """One figure for the chart: best, else the lower bound (vague words, ranges)."""
        if self.best is not None:
            return self.best
        return self.low or 0


def _ancestors(start: str, parents: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(parents.get(start, ()))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(parents.get(node, ()))
    return seen


def counted(figures: Iterable[Figure], everything: Iterable[Figure] | None = None) -> list[Figure]:
    """The figures that count in a total: those with no superset (direct or through other
    subset_of links, looked up in `everything`, default `figures`) among `figures`.

    A subset whose superset was filtered out counts: it is then the largest figure shown for
    those victims. In a subset_of cycle (a coding error) the claim with the smallest id counts.
    """
    chosen = list(figures)
    graph = {f.id: f.subset_of for f in (chosen if everything is None else everything)}
    present = {f.id for f in chosen}
    result = []
    for figure in chosen:
        above = _ancestors(figure.id, graph) - {figure.id}
        covered = any(
            other in present and not (figure.id in _ancestors(other, graph) and figure.id < other)
            for other in above
        )
        if not covered:
            result.append(figure)
    return result


@dataclass
class Totals:
    layer: str
    claims: int = 0
    counted: int = 0
    low: int = 0
    high: int = 0
    best: int = 0
    open_ended: int = 0  # counted claims without a high: the high total is a floor
    without_best: int = 0  # counted claims without a best (vague words, ranges)
    without_low: int = 0  # counted claims without a low (upper bounds): count as 0

    @property
    def subsets_left_out(self) -> int:
        return self.claims - self.counted


def totals(figures: Iterable[Figure], everything: Iterable[Figure] | None = None) -> list[Totals]:
    """Totals per layer (gold first, then the layers in order of appearance)."""
    figures = list(figures)
    everything = list(everything) if everything is not None else figures
    by_layer: dict[str, list[Figure]] = defaultdict(list)
    for figure in figures:
        by_layer[figure.layer].append(figure)
    universe: dict[str, list[Figure]] = defaultdict(list)
    for figure in everything:
        universe[figure.layer].append(figure)
    result = []
    for layer in sorted(by_layer, key=lambda name: name != GOLD):
        total = Totals(layer, claims=len(by_layer[layer]))
        for figure in counted(by_layer[layer], universe[layer] or by_layer[layer]):
            total.counted += 1
            if figure.low is None:
                total.without_low += 1
            else:
                total.low += figure.low
            if figure.high is None:
                total.open_ended += 1
            else:
                total.high += figure.high
            if figure.best is None:
                total.without_best += 1
            else:
                total.best += figure.best
        result.append(total)
    return result


# --- claimed deaths per week -------------------------------------------------------------------


@dataclass
class Week:
    start: dt.date
    values: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTISANSHIPS, 0.0))

    @property
    def total(self) -> float:
        return sum(self.values.values())

    @property
    def series(self) -> list[float]:
        """The values in PARTISANSHIPS order."""
        return [self.values.get(party, 0.0) for party in PARTISANSHIPS]


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_deaths(
    figures: Iterable[Figure], everything: Iterable[Figure] | None = None
) -> tuple[list[Week], int]:
    """Claimed deaths (outcome killed) per week of the documents' publication, split by the
    claim source's partisanship, and how many figures had no publication date.

    Each document counts once: its gold layer when it has one, else the mean of its coders'
    layers (a coder whose version of the document has no killed claim counts as 0). Subsets
    never add to their superset. Weeks start on Monday; empty weeks between are kept.
    """
    figures = list(figures)
    everything = list(everything) if everything is not None else figures
    layers_of: dict[str, set[str]] = defaultdict(set)
    for figure in figures:
        layers_of[figure.document].add(figure.layer)
    universe: dict[str, list[Figure]] = defaultdict(list)
    for figure in everything:
        universe[figure.layer].append(figure)
    by_layer: dict[str, list[Figure]] = defaultdict(list)
    for figure in figures:
        by_layer[figure.layer].append(figure)
    kept = [
        figure
        for layer, group in by_layer.items()
        for figure in counted(group, universe[layer] or group)
    ]
    sums: dict[tuple[dt.date, str], float] = defaultdict(float)
    undated = 0
    for figure in kept:
        if figure.outcome != "killed":
            continue
        layers = layers_of[figure.document]
        if GOLD in layers and figure.layer != GOLD:
            continue
        if figure.published is None:
            undated += 1
            continue
        weight = 1.0 if figure.layer == GOLD else 1.0 / len(layers)
        party = figure.partisanship if figure.partisanship in PARTISANSHIPS else "unknown"
        sums[(monday(figure.published), party)] += figure.single * weight
    if not sums:
        return [], undated
    first = min(day for day, _ in sums)
    last = max(day for day, _ in sums)
    weeks = []
    day = first
    while day <= last:
        week = Week(day)
        for party in PARTISANSHIPS:
            week.values[party] = sums.get((day, party), 0.0)
        weeks.append(week)
        day += dt.timedelta(days=7)
    return weeks, undated


# --- the bars, in SVG user units -----------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    party: str
    value: float
    week: dt.date


@dataclass
class Chart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]  # (y, value)
    x_labels: list[tuple[float, str]]  # (x, "2017-09-25")
    maximum: float


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover


def stacked_bars(
    weeks: Sequence[Week], *, width: int = 720, height: int = 240, max_labels: int = 8
) -> Chart:
    """Stacked bars, one per week, the parties stacked in PARTISANSHIPS order from the axis."""
    left, top, bottom, right = 56, 12, height - 28, width - 8
    maximum = nice_ceiling(max((week.total for week in weeks), default=0))
    plot_height = bottom - top
    slot = (right - left) / max(len(weeks), 1)
    # A few weeks make wide slots: bars stay at most MAX_BAR wide, centred in their week.
    bar_width = max(min(slot * 0.8, MAX_BAR), 1)
    bars = []
    for index, week in enumerate(weeks):
        base = float(bottom)
        for party in PARTISANSHIPS:
            value = week.values.get(party, 0.0)
            if value <= 0:
                continue
            size = value / maximum * plot_height
            base -= size
            bars.append(
                Bar(
                    x=round(left + index * slot + (slot - bar_width) / 2, 2),
                    y=round(base, 2),
                    width=round(bar_width, 2),
                    height=round(size, 2),
                    party=party,
                    value=value,
                    week=week.start,
                )
            )
    ticks = [(round(bottom - plot_height * i / 4, 2), round(maximum * i / 4)) for i in range(5)]
    every = max(1, -(-len(weeks) // max_labels))
    labels = [
        (round(left + index * slot + slot / 2, 2), week.start.isoformat())
        for index, week in enumerate(weeks)
        if index % every == 0
    ]
    return Chart(width, height, left, top, bottom, bars, ticks, labels, maximum)
