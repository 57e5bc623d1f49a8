"""Exact KS and Wasserstein-1 of two samples held in pieces (e.g. Dask partitions), unsorted.

``D = sup |F_a − F_b|`` and ``W1 = ∫ |F_a − F_b| dx`` need the merged order of both samples,
but most of it does not matter. Counts and tail sums per bin of a grid over the pooled range
give ``g = F_a − F_b`` exactly at every edge and bound it inside each bin: a bin whose range of
``g`` keeps one sign adds ``|∫ g|`` to W1 (a function of its counts and tail sums), a bin holding
one distinct value is exact too, and a bin whose bound on ``|g|`` does not exceed the largest
``|g|`` at an edge cannot hold the KS maximum. Only the other bins are needed: those holding
more than :data:`GATHER_LIMIT` values are split again (another pass), the rest are finished
from their values by :func:`rai_nb.checks.drift.stretch_ks_and_wasserstein`. The answer is the
one a full sort would give (the same KS float; W1 up to summation order).

Infinities sit in the outer bins (the grid spans the finite values): the −inf counts start the
ECDFs, the gap just after −inf is a KS candidate, and unequal shares of either infinity make W1
infinite, as :mod:`rai_nb.checks.drift` defines them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import namespace, to_host
from .drift import stretch_ks_and_wasserstein

#: Bins of the first grid, equally spaced over the pooled range.
FIRST_BINS = 1024
#: A needed bin with more pooled values than this is split into :data:`SPLIT` bins, not gathered.
GATHER_LIMIT = 1 << 20
SPLIT = 256
#: Passes of splitting before every needed bin is gathered whatever its size.
MAX_ROUNDS = 8


@dataclass(frozen=True)
class BinSummary:
    """Per bin ``{x ≤ e₀}, (e₀, e₁], …, (e_{K−1}, e_K], {x > e_K}``: count, ``Σ (e_k − x)``
    (0 in the end bins), smallest and largest value (±inf when empty); and the number of
    −inf and +inf values (also counted in the end bins)."""

    counts: np.ndarray
    tails: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    infinite: np.ndarray

    def __add__(self, other: BinSummary) -> BinSummary:
        return BinSummary(self.counts + other.counts, self.tails + other.tails,
                          np.minimum(self.mins, other.mins), np.maximum(self.maxs, other.maxs),
                          self.infinite + other.infinite)


@dataclass(frozen=True)
class Stretch:
    """Values in ``(low, high]`` must be gathered; ``before`` counts each sample at or below low,
    ``count`` is the number of values of both samples inside."""

    low: float
    high: float
    before: tuple[int, int]
    count: int


def bin_summary(sorted_values, edges: np.ndarray, *, xp=None) -> BinSummary:
    """:class:`BinSummary` of one piece's sorted values (no missing values) over ``edges``."""
    xp = namespace(sorted_values, xp=xp)
    values = to_host(sorted_values)
    cut = np.searchsorted(values, edges, side="right")
    bounds = np.concatenate([[0], cut, [values.size]])
    counts = np.diff(bounds).astype(np.int64)
    bins = np.repeat(np.arange(counts.size), counts)
    upper = np.concatenate([edges, [np.inf]])
    inner = (bins > 0) & (bins <= edges.size - 1)
    tails = np.bincount(bins[inner], weights=upper[bins[inner]] - values[inner],
                        minlength=counts.size)
    full = counts > 0
    padded = np.concatenate([values, [np.nan]])  # an empty piece still indexes safely
    mins = np.where(full, padded[np.minimum(bounds[:-1], values.size)], np.inf)
    maxs = np.where(full, padded[np.maximum(bounds[1:] - 1, 0)], -np.inf)
    infinite = np.array([np.searchsorted(values, -np.inf, side="right"),
                         values.size - np.searchsorted(values, np.inf, side="left")])
    return BinSummary(counts, tails, mins, maxs, infinite)


def first_edges(low: float, high: float) -> np.ndarray:
    """The first grid over a pooled range ``[low, high]`` of finite values (none: ``low > high``)."""
    if not np.isfinite(low):
        return np.zeros(1)
    return np.array([low]) if not high > low else np.linspace(low, high, FIRST_BINS + 1)


@dataclass(frozen=True)
class _Resolved:
    ks: float
    known_area: float
    needed: np.ndarray  # bins 1..K that must be split or gathered (boolean over all bins)
    a_cum: np.ndarray
    b_cum: np.ndarray
    #: The samples hold different shares of −inf or of +inf: W1 is infinite.
    unbounded: bool = False


def _resolve(edges, a: BinSummary, b: BinSummary, sizes) -> _Resolved:
    n_a, n_b = sizes
    a_cum, b_cum = np.cumsum(a.counts), np.cumsum(b.counts)
    gap = a_cum / n_a - b_cum / n_b  # g at each edge, then after the last bin
    (low_a, high_a), (low_b, high_b) = a.infinite, b.infinite
    ks = max(float(np.max(np.abs(gap))), abs(low_a / n_a - low_b / n_b))
    k = np.arange(1, edges.size)
    before, after = gap[k - 1], gap[k]
    lowest, highest = before - b.counts[k] / n_b, before + a.counts[k] / n_a
    smallest, largest = np.minimum(a.mins[k], b.mins[k]), np.maximum(a.maxs[k], b.maxs[k])
    width = edges[k] - edges[k - 1]
    empty = a.counts[k] + b.counts[k] == 0
    single = ~empty & (smallest == largest)
    smallest = np.where(empty, edges[k], smallest)
    one_sign = (lowest >= 0) | (highest <= 0)
    area = np.select(
        [empty, single, one_sign],
        [np.abs(before) * width,
         np.abs(before) * (smallest - edges[k - 1]) + np.abs(after) * (edges[k] - smallest),
         np.abs(before * width + a.tails[k] / n_a - b.tails[k] / n_b)], 0.0)
    multi = ~empty & ~single
    needed = multi & (~one_sign | (np.maximum(np.abs(lowest), np.abs(highest)) > ks))
    area = np.where(needed, 0.0, area)
    full = np.zeros(a.counts.size, dtype=bool)
    full[k] = needed
    unbounded = bool(low_a * n_b != low_b * n_a or high_a * n_b != high_b * n_a)
    return _Resolved(ks, float(area.sum()), full, a_cum, b_cum, unbounded)


def _split(edges, a: BinSummary, b: BinSummary, big: np.ndarray) -> np.ndarray:
    inside = [edges]
    for k in np.flatnonzero(big):
        low, high = min(a.mins[k], b.mins[k]), max(a.maxs[k], b.maxs[k])
        inside.append(np.linspace(low, high, SPLIT + 1)[:-1])
    return np.unique(np.concatenate(inside))


def _stretches(edges, resolved: _Resolved) -> list[Stretch]:
    """Runs of consecutive needed bins as stretches ``(e_{first−1}, e_last]``.

    A run is cut at bin edges so that a stretch holds at most :data:`GATHER_LIMIT` values (a
    single bin above it, left after :data:`MAX_ROUNDS`, stands alone): each stretch is
    finished on its own, so no task ever gathers more than that.
    """
    a_cum, b_cum = resolved.a_cum, resolved.b_cum
    inside = np.diff(a_cum + b_cum, prepend=0)
    out, start, held, last = [], None, 0, -2
    for k in np.flatnonzero(resolved.needed).tolist():
        if start is not None and (k != last + 1 or held + inside[k] > GATHER_LIMIT):
            out.append(_stretch(edges, a_cum, b_cum, start, last))
            start = None
        if start is None:
            start, held = k, 0
        held, last = held + int(inside[k]), k
    if start is not None:
        out.append(_stretch(edges, a_cum, b_cum, start, last))
    return out


def _stretch(edges, a_cum, b_cum, first: int, last: int) -> Stretch:
    before = (int(a_cum[first - 1]), int(b_cum[first - 1]))
    count = int(a_cum[last] + b_cum[last]) - sum(before)
    return Stretch(float(edges[first - 1]), float(edges[last]), before, count)


def ks_and_wasserstein(summarize, finish, ranges, sizes) -> list[tuple[float, float]]:
    """Exact (KS, W1) of several columns, each a pair of samples held in pieces.

    Parameters
    ----------
    summarize : callable
        ``summarize(edges)`` with one edge array per column (None: not needed this pass)
        returns one ``(BinSummary of a, BinSummary of b)`` per column, added over the pieces.
    finish : callable
        ``finish(stretches)`` with one list of :class:`Stretch` per column returns, per column
        and stretch, the ``(ks, area)`` of :func:`finish_stretch` on the stretch's values.
    ranges : list of (float, float)
        Pooled smallest and largest finite value of each column (``(inf, -inf)`` when none).
    sizes : list of (int, int)
        Non-missing values of each sample per column (all positive).

    Returns
    -------
    list of (KS, W1), one per column
    """
    edges = [first_edges(low, high) for low, high in ranges]
    todo = list(range(len(edges)))
    resolved: dict[int, _Resolved] = {}
    for round_ in range(MAX_ROUNDS + 1):
        summaries = summarize([e if i in todo else None for i, e in enumerate(edges)])
        again = []
        for i in todo:
            a, b = summaries[i]
            resolved[i] = _resolve(edges[i], a, b, sizes[i])
            big = resolved[i].needed & (a.counts + b.counts > GATHER_LIMIT)
            if big.any() and round_ < MAX_ROUNDS:
                edges[i] = _split(edges[i], a, b, big)
                again.append(i)
        todo = again
        if not todo:
            break
    stretches = [_stretches(edges[i], resolved[i]) for i in range(len(edges))]
    finished = finish(stretches)
    out = []
    for i, parts in enumerate(finished):
        ks = max([resolved[i].ks] + [d for d, _ in parts])
        area = resolved[i].known_area + float(np.sum([w for _, w in parts]))
        out.append((ks, np.inf if resolved[i].unbounded else area))
    return out


def finish_stretch(a_pieces, b_pieces, stretch: Stretch, sizes, *, xp=None) -> tuple[float, float]:
    """(KS, area) of one stretch from every piece's values in it (any order)."""
    a = np.sort(np.concatenate([np.asarray(p, np.float64) for p in a_pieces]))
    b = np.sort(np.concatenate([np.asarray(p, np.float64) for p in b_pieces]))
    return stretch_ks_and_wasserstein(a, b, low=stretch.low, high=stretch.high,
                                      before=stretch.before, sizes=sizes, xp=xp)


def stretch_values(sorted_values: np.ndarray, stretches: list[Stretch]) -> list[np.ndarray]:
    """One piece's sorted values in each stretch."""
    lows = np.searchsorted(sorted_values, [s.low for s in stretches], side="right")
    highs = np.searchsorted(sorted_values, [s.high for s in stretches], side="right")
    return [sorted_values[lo:hi] for lo, hi in zip(lows, highs)]
