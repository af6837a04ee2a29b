"""Agreement coefficients for coded units: Krippendorff's alpha, Cohen, Scott, Fleiss, Gwet.

Multi-coder functions take ``data`` as a list of rows, one per coder, one column per unit, with
``None`` where a coder did not code a unit. Every function returns ``None`` when the coefficient is
undefined (nothing pairable, or no variation to be chance-corrected against).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from annotator.agreement._arrays import unique_inverse

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Ratio-level D_e needs every pair of distinct values; this many rows of the V x V table at a time
# keeps memory flat when numeric attributes have thousands of distinct values.
_RATIO_CHUNK = 1024


def krippendorff_alpha(data: Sequence[Sequence[Any]], level: str = "nominal") -> float | None:
    """Krippendorff's alpha for coders x units ``data`` at the given level of measurement.

    ``level`` is ``nominal``, ``ordinal`` (ranks of the pairable value frequencies), ``interval``
    or ``ratio``. Units coded by fewer than two coders are not pairable and are ignored.
    """
    _check_level(level)
    codes, values = _encode_matrix(data, numeric=level in ("interval", "ratio"), level=level)
    return alpha_from_codes(codes, values, level)


def cohen_kappa(a: Iterable[Hashable], b: Iterable[Hashable]) -> float | None:
    """Cohen's kappa for two coders; pairs with ``None`` on either side are dropped."""
    pairs = _pairs(a, b)
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    left, right = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(left[c] * right.get(c, 0) for c in left) / (n * n)
    return _chance_corrected(observed, expected)


def scott_pi(a: Iterable[Hashable], b: Iterable[Hashable]) -> float | None:
    """Scott's pi for two coders; pairs with ``None`` on either side are dropped."""
    pairs = _pairs(a, b)
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    pooled = Counter(x for x, _ in pairs) + Counter(y for _, y in pairs)
    expected = sum((count / (2 * n)) ** 2 for count in pooled.values())
    return _chance_corrected(observed, expected)


def fleiss_kappa(data: Sequence[Sequence[Any]]) -> float | None:
    """Fleiss' kappa, generalised by Gwet (2014) to units with different numbers of ratings.

    Units with fewer than two ratings cannot show agreement and are dropped from the observed
    agreement; as in Gwet's generalisation (and his irrCAC package), every rated unit still counts
    towards the category prevalences that give the chance agreement.
    """
    parts = _rating_distribution(data)
    if parts is None:
        return None
    observed, prevalence = parts
    return _chance_corrected(observed, float(np.sum(prevalence**2)))


def gwet_ac1(data: Sequence[Sequence[Any]]) -> float | None:
    """Gwet's AC1 (2008) for coders x units ``data``, missing ratings allowed.

    Chance agreement is ``sum(pi_k * (1 - pi_k)) / (q - 1)`` over the ``q`` categories used.
    """
    parts = _rating_distribution(data)
    if parts is None:
        return None
    observed, prevalence = parts
    q = int(np.count_nonzero(prevalence))
    if q < 2:
        return None
    expected = float(np.sum(prevalence * (1.0 - prevalence))) / (q - 1)
    return _chance_corrected(observed, expected)


# --- shared machinery -------------------------------------------------------------------------


def _encode_matrix(
    data: Sequence[Sequence[Any]], *, numeric: bool, level: str = "nominal"
) -> tuple[np.ndarray, np.ndarray]:
    """Coders x units data as integer codes (``-1`` = missing) and the sorted values coded."""
    rows = [list(row) for row in data]
    width = len(rows[0]) if rows else 0
    for index, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"rows of unequal length: row 0 has {width} units, row {index} has {len(row)}"
            )
    if not rows or width == 0:
        return np.full((len(rows), 0), -1, dtype=np.int64), np.empty(0)
    matrix = _as_floats(rows)
    if matrix is None:
        if numeric:
            raise ValueError(f"{level} level needs numeric values")
        return _encode_objects(rows, level)
    present = ~np.isnan(matrix)
    values, inverse = unique_inverse(matrix[present])
    codes = np.full(matrix.shape, -1, dtype=np.int64)
    codes[present] = inverse
    return codes, values


def _as_floats(rows: list[list[Any]]) -> np.ndarray | None:
    """The rows as floats (``None`` -> NaN), or ``None`` if any value is not a number."""
    # numpy would parse the text "01" and "1" to the same float; text stays text.
    if any(isinstance(value, str) for row in rows for value in row):
        return None
    try:
        return np.array(rows, dtype=float)
    except (TypeError, ValueError):
        return None


def _encode_objects(rows: list[list[Any]], level: str) -> tuple[np.ndarray, np.ndarray]:
    distinct = {value for row in rows for value in row if value is not None}
    try:
        ordered = sorted(distinct)
    except TypeError:
        if level == "ordinal":
            raise ValueError("ordinal level needs values that can be put in order") from None
        # Nominal values only need a stable order, not a meaningful one.
        ordered = sorted(distinct, key=lambda value: (type(value).__name__, repr(value)))
    index = {value: code for code, value in enumerate(ordered)}
    codes = np.array(
        [[-1 if value is None else index[value] for value in row] for row in rows], dtype=np.int64
    )
    values = np.empty(len(ordered), dtype=object)
    values[:] = ordered
    return codes, values


def alpha_from_codes(codes: np.ndarray, values: np.ndarray, level: str) -> float | None:
    """Alpha from a coders x units code matrix (``-1`` = missing) and the coded values.

    Works on the sums a coincidence matrix holds without materialising it as V x V, so numeric
    data with thousands of distinct values stays cheap: D_o sums over the pairs of values inside
    each unit, D_e over the pairable value frequencies ``n_c``.
    """
    _check_level(level)
    if codes.size == 0:
        return None
    # Column-major nonzero lists observations grouped by unit, which the pairing below relies on.
    unit, coder = np.nonzero(codes.T >= 0)
    code = codes[coder, unit]
    sizes = np.bincount(unit, minlength=codes.shape[1])
    pairable = sizes[unit] >= 2
    unit, code = unit[pairable], code[pairable]
    if unit.size == 0:
        return None
    frequencies = np.bincount(code, minlength=len(values)).astype(float)
    if np.count_nonzero(frequencies) < 2:
        return None  # a single value: no variation, D_e = 0
    n = frequencies.sum()
    positions = _metric_positions(values, frequencies, level)
    observed = _observed_sum(unit, code, sizes, positions, level)
    expected = _expected_sum(frequencies, positions, level)
    if expected <= 0.0:
        return None
    return float(1.0 - (n - 1.0) * observed / expected)


def _metric_positions(values: np.ndarray, frequencies: np.ndarray, level: str) -> np.ndarray:
    """Map value codes to the coordinates the difference function works on."""
    if level == "nominal":
        return np.arange(len(values), dtype=float)
    if level == "ordinal":
        # Krippendorff's ordinal difference is the squared distance between mid-ranks of the
        # pairable value frequencies: sum_{g=c..k} n_g - (n_c + n_k) / 2 = M_k - M_c.
        return np.cumsum(frequencies) - frequencies / 2.0
    return values.astype(float)


def _difference(x: np.ndarray, y: np.ndarray, level: str, codes_equal: np.ndarray) -> np.ndarray:
    if level == "nominal":
        return (~codes_equal).astype(float)
    if level == "ratio":
        total = x + y
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(total == 0.0, 0.0, (x - y) / total)
        return ratio**2
    return (x - y) ** 2


def _observed_sum(
    unit: np.ndarray, code: np.ndarray, sizes: np.ndarray, positions: np.ndarray, level: str
) -> float:
    """Sum over units of the differences of all ordered value pairs, each weighted 1 / (m_u - 1).

    Pairs are generated by offsets inside each unit's run of observations, so the work is
    proportional to the number of pairs actually present, however many coders there are.
    """
    size = sizes[unit]
    first = np.searchsorted(unit, unit, side="left")
    local = np.arange(unit.size) - first
    weight = 1.0 / (size - 1.0)
    total = 0.0
    active = np.arange(unit.size)
    offset = 1
    while active.size:
        active = active[size[active] > offset]
        if not active.size:
            break
        partner = first[active] + (local[active] + offset) % size[active]
        a, b = code[active], code[partner]
        difference = _difference(positions[a], positions[b], level, a == b)
        total += float(np.dot(difference, weight[active]))
        offset += 1
    return total


def _expected_sum(frequencies: np.ndarray, positions: np.ndarray, level: str) -> float:
    """sum_c sum_k n_c n_k delta(c, k) over the pairable value frequencies."""
    n = frequencies.sum()
    if level == "nominal":
        return float(n * n - np.dot(frequencies, frequencies))
    if level in ("interval", "ordinal"):
        # Centring first avoids cancellation between two large sums for big numeric values.
        mean = np.dot(frequencies, positions) / n
        return float(2.0 * n * np.dot(frequencies, (positions - mean) ** 2))
    used = frequencies > 0
    x, f = positions[used], frequencies[used]
    total = 0.0
    for begin in range(0, x.size, _RATIO_CHUNK):
        block = x[begin : begin + _RATIO_CHUNK, None]
        total += float(
            f[begin : begin + _RATIO_CHUNK]
            @ _difference(block, x[None, :], "ratio", np.zeros((1, 1), bool))
            @ f
        )
    return total


def _rating_distribution(data: Sequence[Sequence[Any]]) -> tuple[float, np.ndarray] | None:
    """Observed agreement and category prevalences in Gwet's multi-rater form."""
    codes, values = _encode_matrix(data, numeric=False)
    if codes.size == 0:
        return None
    unit, coder = np.nonzero(codes.T >= 0)
    if unit.size == 0:
        return None
    n_units, n_values = codes.shape[1], len(values)
    counts = np.bincount(
        unit * n_values + codes[coder, unit], minlength=n_units * n_values
    ).reshape(n_units, n_values)
    ratings = counts.sum(axis=1)
    rated = ratings >= 1
    paired = ratings >= 2
    if not paired.any():
        return None
    per_unit = (counts[paired] * (counts[paired] - 1)).sum(axis=1) / (
        ratings[paired] * (ratings[paired] - 1)
    )
    prevalence = (counts[rated] / ratings[rated, None]).mean(axis=0)
    return float(per_unit.mean()), prevalence


def _pairs(a: Iterable[Hashable], b: Iterable[Hashable]) -> list[tuple[Hashable, Hashable]]:
    left, right = list(a), list(b)
    if len(left) != len(right):
        raise ValueError(f"sequences of unequal length: {len(left)} and {len(right)} ratings")
    return [(x, y) for x, y in zip(left, right, strict=True) if x is not None and y is not None]


def _chance_corrected(observed: float, expected: float) -> float | None:
    # Expected agreement of 1 means a single category: agreement beyond chance is undefined.
    if math.isclose(expected, 1.0, rel_tol=0.0, abs_tol=1e-12) or expected > 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}: expected one of {', '.join(LEVELS)}")
