"""Percentiles and the printed table. Figures only: nothing here fails a run on timing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.cpu import Usage


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Figure:
    name: str
    timings: list[float]  # seconds, one per request (or per pair of requests for 4c)
    throughput: float | None = None  # per second
    usage: Usage | None = None
    target: str = ""
    passed: bool | None = None

    def ms(self, q: float) -> float:
        return percentile(self.timings, q) * 1000

    @property
    def p50(self) -> float:
        return self.ms(50)

    @property
    def p95(self) -> float:
        return self.ms(95)

    @property
    def p99(self) -> float:
        return self.ms(99)

    def per_request_ms(self, seconds: float) -> float:
        return seconds * 1000 / len(self.timings)

    def judge(self, target: str, check: Callable[[Figure], bool]) -> Figure:
        self.target, self.passed = target, check(self)
        return self


HEADER = (
    f"{'figure':<50} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>6} "
    f"{'app':>6} {'db':>5} {'busy':>5}  {'target':<26} result"
)
UNITS = (
    f"{'':<50} {'':>5} {'ms':>7} {'ms':>7} {'ms':>7} {'':>6} {'cpu ms':>6} {'cpu':>5} {'other':>5}"
)
LEGEND = (
    "app / db: CPU ms per request in gunicorn's workers / in the bench database's PostgreSQL "
    "backends;\nbusy other: share of the machine's CPU that processes outside the bench used "
    "meanwhile (other people's work)"
)


def row(figure: Figure) -> str:
    rate = f"{figure.throughput:6.0f}" if figure.throughput is not None else f"{'':>6}"
    if figure.usage is not None:
        u = figure.usage
        cpu = (
            f"{figure.per_request_ms(u.app_s):6.2f} {figure.per_request_ms(u.db_s):5.2f} "
            f"{u.others_share:5.0%}"
        )
    else:
        cpu = f"{'':>6} {'':>5} {'':>5}"
    verdict = "" if figure.passed is None else ("PASS" if figure.passed else "MISS")
    return (
        f"{figure.name:<50} {len(figure.timings):>5} {figure.p50:7.2f} {figure.p95:7.2f} "
        f"{figure.p99:7.2f} {rate} {cpu}  {figure.target:<26} {verdict}"
    ).rstrip()


def table(figures: Sequence[Figure]) -> str:
    return "\n".join([HEADER, UNITS, "-" * len(HEADER), *(row(f) for f in figures), LEGEND])


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"
