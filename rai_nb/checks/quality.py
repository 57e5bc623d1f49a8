"""Data-quality counts: missingness by group, duplicate and conflicting rows, value profiles.

Rows are compared through a 64-bit hash of their cell keys (a splitmix64 mix, Steele, Lea and
Flood 2014), so finding duplicates is one sort of ``n`` integers whatever the number of columns;
two different rows share a hash with probability about ``n² / 2⁶⁵`` (3·10⁻⁸ for a million rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import bincount, namespace, to_device, to_host
from .drift import quantile

#: Tukey's fence multiplier for the interquartile-range outlier rule.
IQR_FACTOR = 1.5
#: Iglewicz and Hoaglin's (1993) cut-off for the modified z-score 0.6745·(x − median) / MAD.
ROBUST_Z = 3.5
#: Numeric columns with at most this many distinct values are codes or ordinal scales (a 1–5
#: rating, years of schooling): Tukey's fences, made for a continuous scale, are not applied.
MAX_ORDINAL_VALUES = 20
#: Largest gap, as a share of the range, between an integer column's quartiles and those of an
#: even spread over its range for the column to pass as an identifier (see ``spread_offset``).
MAX_ID_SPREAD_OFFSET = 0.1

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


@dataclass(frozen=True)
class ValueProfile:
    """Distinct values and the share of the most frequent one, among non-missing values."""

    n_values: int
    n_distinct: int
    top_count: int


@dataclass(frozen=True)
class OutlierCounts:
    """Values outside Tukey's fences and values with a modified z-score above the cut-off, and
    the order statistics behind them: the smallest and largest finite value and the quartiles."""

    iqr: int
    robust_z: int
    lower_fence: float
    upper_fence: float
    low: float
    quartiles: tuple[float, float, float]
    high: float


def missing_by_group(missing, group_codes=None, *, n_groups: int = 1, weights=None,
                     xp=None) -> np.ndarray:
    """Missing cells per group and column, shape ``(n_groups, columns)``.

    ``missing`` is a boolean ``(columns, rows)`` array; without ``group_codes`` one group.
    Host int64 counts, or with row ``weights`` host float64 sums of the missing rows' weights.
    """
    xp = namespace(missing, xp=xp)
    if group_codes is None:
        group_codes = xp.zeros(missing.shape[1], dtype=xp.int64)
    columns = [bincount(group_codes, minlength=n_groups, xp=xp,
                        weights=xp.astype(row, xp.float64) if weights is None
                        else xp.where(row, weights, 0.0))
               for row in _rows(missing)]
    if not columns:
        return np.zeros((n_groups, 0), dtype=np.int64 if weights is None else np.float64)
    counts = to_host(xp.stack(columns, axis=1))
    return counts if weights is not None else np.rint(counts).astype(np.int64)


def _rows(matrix):
    return [matrix[i, :] for i in range(matrix.shape[0])]


def row_hashes(keys, *, state=None, xp=None):
    """One uint64 hash per row of the ``(columns, rows)`` int64 key matrix.

    ``state`` continues an earlier hash: ``row_hashes(b, state=row_hashes(a))`` hashes the rows
    of ``a`` and ``b`` stacked.
    """
    xp = namespace(keys, xp=xp)
    if state is None:
        state = xp.zeros(keys.shape[1], dtype=xp.uint64)
    for row in _rows(keys):
        state = _splitmix(state * _scalar(_GOLDEN, xp) + xp.astype(row, xp.uint64), xp)
    return state


def _scalar(value: int, xp):
    return xp.asarray(value, dtype=xp.uint64)


def _splitmix(z, xp):
    z = z + _scalar(_GOLDEN, xp)
    z = (z ^ (z >> _scalar(30, xp))) * _scalar(_MIX1, xp)
    z = (z ^ (z >> _scalar(27, xp))) * _scalar(_MIX2, xp)
    return z ^ (z >> _scalar(31, xp))


def group_ids(hashes, *, counts=None, xp=None):
    """Dense ids ``0..k-1`` of equal hashes, and the number of rows in each id.

    ``counts`` (optional) says how many rows each entry stands for, so already-counted hashes
    (e.g. from several partitions) reduce with the same code.
    """
    xp = namespace(hashes, xp=xp)
    values, inverse = xp.unique_inverse(hashes)
    inverse = xp.reshape(inverse, (-1,))
    if counts is None:
        return inverse, bincount(inverse, minlength=values.shape[0], xp=xp)
    sizes = bincount(inverse, minlength=values.shape[0], weights=xp.astype(counts, xp.float64),
                     xp=xp)
    return inverse, xp.astype(xp.round(sizes), xp.int64)


def duplicate_rows(hashes, *, counts=None, xp=None) -> tuple[int, int]:
    """Rows that repeat an earlier row, and the number of distinct rows that occur twice or more.

    ``counts``: rows per entry of ``hashes`` (default one each).
    """
    xp = namespace(hashes, xp=xp)
    _, sizes = group_ids(hashes, counts=counts, xp=xp)
    sizes = to_host(sizes)
    return int((sizes - 1).sum()), int((sizes > 1).sum())


def conflicting_labels(feature_hashes, label_codes, *, n_labels: int, counts=None,
                       xp=None) -> tuple[int, int]:
    """Rows whose exact feature values also occur with another label, and how many such groups.

    ``counts``: rows per entry (default one each). Returns (rows in conflicting groups,
    conflicting groups).
    """
    xp = namespace(feature_hashes, label_codes, xp=xp)
    ids, sizes = group_ids(feature_hashes, counts=counts, xp=xp)
    n_ids = sizes.shape[0]
    pair = xp.astype(ids, xp.int64) * n_labels + xp.astype(label_codes, xp.int64)
    present = bincount(pair, minlength=n_ids * n_labels, xp=xp) > 0
    labels_per_id = xp.sum(xp.astype(xp.reshape(present, (n_ids, n_labels)), xp.int64), axis=1)
    conflict = to_host(labels_per_id) > 1
    return int(to_host(sizes)[conflict].sum()), int(conflict.sum())


def value_profile(sorted_values, *, xp=None) -> ValueProfile:
    """Profile of a sorted 1-D sample (missing values removed)."""
    xp = namespace(sorted_values, xp=xp)
    n = sorted_values.shape[0]
    if n == 0:
        return ValueProfile(0, 0, 0)
    starts = xp.nonzero(sorted_values[1:] != sorted_values[:-1])[0] + 1
    bounds = to_host(starts)
    runs = np.diff(np.concatenate([[0], bounds, [n]]))
    return ValueProfile(int(n), int(runs.size), int(runs.max()))


def count_profile(counts: np.ndarray) -> ValueProfile:
    """Profile of a categorical column from its level counts (host)."""
    return ValueProfile(int(counts.sum()), int((counts > 0).sum()), int(counts.max(initial=0)))


def outliers(sorted_values, *, iqr_factor: float = IQR_FACTOR, robust_z: float = ROBUST_Z,
             xp=None) -> OutlierCounts:
    """Outliers of a sorted sample by Tukey's IQR fences and by the modified z-score.

    The modified z-score is ``0.6745 (x − median) / MAD`` (Iglewicz and Hoaglin 1993); with
    MAD = 0 no value is an outlier by it. Both counts come from ``searchsorted`` on the sorted
    sample; the MAD is found by selection in the two sorted halves of deviations.
    """
    xp = namespace(sorted_values, xp=xp)
    q1, median, q3 = quantile(sorted_values, [0.25, 0.5, 0.75], xp=xp)
    mad = _median_absolute_deviation(to_host(sorted_values), median)
    fences = outlier_fences(q1, median, q3, mad, iqr_factor=iqr_factor, robust_z=robust_z)
    n_iqr = count_outside(sorted_values, *fences[0], xp)
    n_z = count_outside(sorted_values, *fences[1], xp) if fences[1] is not None else 0
    low, high = _finite_ends(sorted_values, xp)
    return OutlierCounts(n_iqr, n_z, float(fences[0][0]), float(fences[0][1]), low,
                         (float(q1), float(median), float(q3)), high)


def _finite_ends(sorted_values, xp) -> tuple[float, float]:
    """Smallest and largest finite value of a sorted sample (NaN when there is none)."""
    bounds = to_device(np.array([-np.inf, np.inf]), xp)
    first = int(to_host(xp.searchsorted(sorted_values, bounds[:1], side="right"))[0])
    end = int(to_host(xp.searchsorted(sorted_values, bounds[1:], side="left"))[0])
    if first >= end:
        return np.nan, np.nan
    return float(to_host(sorted_values[first])), float(to_host(sorted_values[end - 1]))


def outlier_skip(n_distinct: int, quartiles) -> str:
    """Why Tukey's fences are not applied to a column, or ``""`` when they are.

    Columns of at most :data:`MAX_ORDINAL_VALUES` distinct values are ordinal or codes. Where
    two quartiles coincide, a quarter of the values or more sit on one value (the median):
    the interquartile range then measures the values beside that heap, not the spread, and
    the fences call the ordinary tail outliers (Adult's ``hours_per_week``, 47 % at 40, would
    read 28 % outliers); fences that collapse to one value (zero-inflated amounts) are the
    extreme case.
    """
    q1, median, q3 = quartiles
    if n_distinct <= MAX_ORDINAL_VALUES:
        return (f"{n_distinct} distinct values (at most {MAX_ORDINAL_VALUES}): ordinal or a code, "
                "not a continuous scale")
    if q1 == q3:
        return (f"fences collapse to {q1:g}–{q3:g}: the middle half of the values all equal "
                f"{q1:g}")
    if median in (q1, q3):
        return (f"heaped at {median:g}: a quarter of the values or more equal the median, so the "
                "interquartile range measures the values beside the heap, not the spread")
    return ""


def spread_offset(low: float, quartiles, high: float) -> float:
    """Largest gap between the quartiles and those of an even spread over ``[low, high]``, as a
    share of ``high − low`` (NaN when the range is empty or not finite).

    Identifiers issued in sequence (a running index, a subset of one, or random ids) spread
    evenly over their range, so the gap is near 0; amounts and counts cluster (skewed or
    bell-shaped), and their quartiles sit far from the even spread's.
    """
    width = high - low
    if not (np.isfinite(width) and width > 0):
        return np.nan
    even = low + width * np.array([0.25, 0.5, 0.75])
    return float(np.max(np.abs(np.asarray(quartiles) - even)) / width)


def outlier_fences(q1: float, median: float, q3: float, mad: float, *,
                   iqr_factor: float = IQR_FACTOR, robust_z: float = ROBUST_Z):
    """``((low, high), (z_low, z_high) or None)``: Tukey's fences and the modified-z band.

    Values strictly outside a band are outliers; with MAD = 0 (or an infinite median) there is
    no z band.
    """
    spread = q3 - q1 if q3 != q1 else 0.0  # inf − inf when both quartiles are one infinity
    tukey = (q1 - iqr_factor * spread, q3 + iqr_factor * spread)
    if not (mad > 0 and np.isfinite(median)):
        return tukey, None
    reach = robust_z * mad / 0.6745
    return tukey, (median - reach, median + reach)


def median_absolute_deviation(middle) -> float:
    """The MAD from the deviation order statistics of ranks ``(n−1)//2`` and ``n//2``."""
    return float(np.mean(list(middle)))


def count_outside(sorted_values, low: float, high: float, xp) -> int:
    """Values strictly below ``low`` or strictly above ``high``."""
    bounds = to_device(np.array([low, high]), xp)
    below = xp.searchsorted(sorted_values, bounds[:1], side="left")
    above = xp.searchsorted(sorted_values, bounds[1:], side="right")
    n = sorted_values.shape[0]
    return int(to_host(below)[0] + n - to_host(above)[0])


def _median_absolute_deviation(sorted_host: np.ndarray, median: float) -> float:
    """Median of ``|x − median|`` for a sorted host sample, by selection in two sorted runs."""
    split = int(np.searchsorted(sorted_host, median, side="left"))
    left = absolute_deviation(sorted_host[:split][::-1], median)
    right = absolute_deviation(sorted_host[split:], median)
    n = sorted_host.size
    return median_absolute_deviation(_kth_of_two(left, right, k)
                                     for k in sorted({(n - 1) // 2, n // 2}))


def absolute_deviation(values: np.ndarray, centre: float) -> np.ndarray:
    """``|x − centre|`` on the host, 0 where ``x == centre`` (also an infinity equal to it)."""
    out = np.zeros(np.shape(values))
    np.subtract(values, centre, out=out, where=values != centre)
    return np.abs(out)


def _kth_of_two(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """The ``k``-th smallest (0-based) element of the union of sorted ``a`` and ``b``."""
    lo, hi = max(0, k + 1 - b.size), min(k + 1, a.size)
    while lo < hi:  # take i from a and k + 1 − i from b; find the smallest valid i
        i = (lo + hi) // 2
        if a[i] < b[k - i]:
            lo = i + 1
        else:
            hi = i
    i = lo
    candidates = [a[i - 1]] if i > 0 else []
    if k + 1 - i > 0:
        candidates.append(b[k - i])
    return float(max(candidates))


def sorted_columns(matrix, *, xp=None) -> list:
    """Each row of a ``(columns, rows)`` float matrix sorted, its NaNs (missing) removed."""
    xp = namespace(matrix, xp=xp)
    kept = to_host(xp.sum(xp.astype(~xp.isnan(matrix), xp.int64), axis=1))
    if int(kept.sum()) < matrix.shape[0] * matrix.shape[1]:
        matrix = xp.where(xp.isnan(matrix), xp.inf, matrix)
    ordered = xp.sort(matrix, axis=1)
    return [ordered[i, :int(k)] for i, k in enumerate(kept)]
