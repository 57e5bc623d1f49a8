"""SliceLine: the exact top-K slices (conjunctions of ``feature = level``) by error and size.

Sagadeeva & Boehm, "SliceLine: Fast, Linear-Algebra-based Slice Finding for ML Model
Debugging", SIGMOD 2021. A slice S with ``|S|`` rows and loss sum ``se`` scores

    sc(S) = α · ((se / |S|) / ē − 1) − (1 − α) · (n / |S| − 1)

(ē the mean loss over all n rows). Level ``L`` holds the slices of ``L`` predicates. Candidates
of level ``L`` join a live slice of level ``L-1`` with a live 1-slice of a later feature; a
candidate is kept only when all its ``L`` parents are live (size >= ``min_sup``, positive loss
and not pruned), and when the paper's upper bound of its score (and of every descendant's),
computed from the parents' smallest size, loss sum and bound on the largest row loss
(the overall largest, or the slice's own loss sum if smaller), is positive and
reaches the current k-th best score (while fewer than k slices are known, any positive
bound). The result is every slice of positive score tied with or above the k-th, ordered as
the ``sliceline`` package orders them (score, then one-hot lexicographic). That package prunes
ties with the k-th and, while its top-K is not full, against its worst member; both can drop
slices that belong to the exact answer, so results differ from it only in those cases.

With sample weights a row counts as ``w`` rows: ``|S|`` and ``n`` are sums of weights, ``se`` the
sum of ``w · loss`` and ē their ratio, so integer weights give the search of the data with each
row repeated ``w`` times. The bounds stay valid: a sub-slice's weight and weighted loss sum are
at most its parents' (weights are >= 0), its loss sum at most its weight times the largest row
loss, and a row of weight ``w > 0`` in a slice has loss at most ``se / w``; so the row-loss bound
divides ``se`` by the smallest positive weight and the size probes start there, both capped at 1
so that weights >= 1 prune exactly as repeated rows do.

Sizes and loss sums of candidates come from :mod:`rai_nb.stats.slice_counts` (one pass over
the rows per feature set); the lattice bookkeeping (joins, parent look-ups, bounds) runs on
the host on small arrays, in batches of at most ``batch`` candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import namespace, to_host
from ..errors import RaiError
from .slice_counts import slice_moments, slice_sums

__all__ = ["SliceSearch", "score_upper_bound", "search_slices", "slice_line", "slice_moments", "slice_score"]


@dataclass(frozen=True)
class SliceSearch:
    """Top-K slices and what the search did.

    ``slices[i, j]`` is the level code of feature ``j`` in slice ``i`` (-1: feature unused).
    ``evaluated[l]`` counts the candidates of ``l + 1`` predicates whose statistics were
    computed. Weighted searches give sizes and ``n_rows`` as sums of weights.
    """

    slices: np.ndarray
    sizes: np.ndarray
    errors: np.ndarray
    scores: np.ndarray
    average_error: float
    n_rows: float
    evaluated: tuple[int, ...]


@dataclass(frozen=True)
class _Space:
    """One-hot column numbering: column ``offsets[f] + level`` is ``feature f = level``."""

    n_levels: np.ndarray
    offsets: np.ndarray
    feature_of: np.ndarray

    @classmethod
    def of(cls, n_levels) -> _Space:
        n_levels = np.asarray(n_levels, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]]).astype(np.int64)
        return cls(n_levels, offsets, np.repeat(np.arange(len(n_levels)), n_levels))

    @property
    def n_cols(self) -> int:
        return len(self.feature_of)


@dataclass(frozen=True)
class _Level:
    """Live slices of one level: sorted one-hot columns per slice, statistics, sorted ids."""

    cols: np.ndarray
    size: np.ndarray
    error: np.ndarray
    max_error: np.ndarray
    ids: np.ndarray


_SCORE_TOLERANCE = 1e-12


def slice_score(sizes, errors, *, n_rows: int, average_error: float, alpha: float) -> np.ndarray:
    """SliceLine score of slices with ``sizes`` rows and loss sums ``errors`` (host arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        score = alpha * ((errors / sizes) / average_error - 1) - (1 - alpha) * (n_rows / sizes - 1)
    # A slice as good as the average (e.g. one covering every row) scores 0 exactly in exact
    # arithmetic; summation order leaves ±1e-16 noise that would decide "score > 0" by row order.
    score = np.where(np.abs(score) < _SCORE_TOLERANCE, 0.0, score)
    return np.where(np.isnan(score), -np.inf, score)


def score_upper_bound(sizes, errors, max_errors, *, n_rows: float, average_error: float,
                      alpha: float, min_sup: float, min_weight: float = 1.0) -> np.ndarray:
    """Largest score any sub-slice can reach, given a bound on its size, loss sum and row loss.

    A sub-slice of size ``s`` has loss at most ``min(s * max_error, error)``; the score is
    monotone on each side of ``s = error / max_error``, so its maximum over
    ``s in [max(min_sup, min_weight), size]`` is at one of the three probes (SliceLine,
    section 3.3). ``min_weight`` bounds the size of a slice with any positive weight from below
    (one row: 1).
    """
    low = max(float(min_sup), float(min_weight))
    with np.errstate(divide="ignore", invalid="ignore"):
        knee = np.clip(errors / max_errors, low, np.maximum(sizes, low))
    probes = np.stack([np.full_like(sizes, low), knee, np.maximum(sizes, low)])
    reach = np.minimum(probes * max_errors, errors)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = alpha * (reach / probes / average_error - 1) - (1 - alpha) * (n_rows / probes - 1)
    return np.nan_to_num(score, nan=-np.inf).max(axis=0)


def slice_line(codes, errors, n_levels, *, weights=None, alpha: float, k: int, max_l: int,
               min_sup: float, batch: int = 1 << 20, xp=None) -> SliceSearch:
    """Exact top-``k`` slices of at most ``max_l`` predicates with at least ``min_sup`` rows.

    Parameters
    ----------
    codes : array of int, shape (n, m)
        Level code of each row in each feature, ``0 <= codes[:, j] < n_levels[j]``.
    errors : array of float, shape (n,)
        Non-negative loss of each row.
    n_levels : sequence of int, length m
        Number of levels of each feature.
    weights : array of float, shape (n,), optional
        Non-negative row weights, not all zero: sizes (and ``min_sup``) are sums of weights and
        losses weighted means, as if each row were repeated ``weights[i]`` times.
    alpha : float in (0, 1]
        Weight of the error term against the size term of the score.
    k, max_l, min_sup : int
        Number of slices (ties with the k-th are kept), largest number of predicates, and the
        smallest slice size considered.
    batch : int
        Most candidates handled at once; bounds the host memory of the lattice bookkeeping.

    Returns
    -------
    SliceSearch
        Slices sorted by score (ties: the ``sliceline`` package's one-hot lexicographic order);
        sizes are row counts (int64), or sums of weights (float64) with ``weights``.
    """
    xp = namespace(codes, errors, weights, xp=xp)
    n_levels = np.asarray(n_levels, dtype=np.int64)
    if weights is None:
        row_sums, n_rows, min_weight = errors, int(codes.shape[0]), None
        loss_max = xp.max(errors)
    else:
        row_sums, n_rows = errors * weights, float(to_host(xp.sum(weights)))
        positive = weights > 0
        loss_max = xp.max(xp.where(positive, errors, xp.zeros_like(errors)))
        min_weight = float(to_host(xp.min(xp.where(positive, weights, xp.full_like(weights, xp.inf)))))

    def sums(features, levels):
        return slice_sums(codes, row_sums, features, levels, n_levels, weights=weights, xp=xp)

    return search_slices(sums, n_levels, n_rows=n_rows, loss_sum=float(to_host(xp.sum(row_sums))),
                         loss_max=float(to_host(loss_max)), min_weight=min_weight,
                         alpha=alpha, k=k, max_l=max_l, min_sup=min_sup, batch=batch)


def search_slices(sums, n_levels, *, n_rows: float, loss_sum: float, loss_max: float, alpha: float,
                  k: int, max_l: int, min_sup: float, min_weight: float | None = None,
                  batch: int = 1 << 20) -> SliceSearch:
    """The lattice search of :func:`slice_line`, reading the rows only through ``sums``.

    ``sums(features, levels)`` returns the sizes and loss sums of the slices
    ``features[i, :] = levels[i, :]`` (host arrays of shape (N, L)); the rows may live in
    memory, on a device or in the partitions of a Dask frame. ``n_rows`` is the number of rows
    (their total weight when weighted), ``loss_sum`` the total (weighted) loss and ``loss_max``
    the largest loss of a row (of positive weight). ``min_weight`` is the smallest positive
    weight of a row, None when rows are unweighted.
    """
    space = _Space.of(n_levels)
    if float(space.n_cols) ** max_l >= 2.0**62:
        raise RaiError(f"max_l={max_l} is too deep for {space.n_cols} feature levels; lower max_l")
    average, largest = loss_sum / n_rows, loss_max
    unit = 1.0 if min_weight is None else min(1.0, min_weight)
    score = dict(n_rows=n_rows, average_error=average, alpha=alpha)
    prune = dict(score, min_sup=min_sup, min_weight=unit)

    singles_cols = np.arange(space.n_cols, dtype=np.int64)[:, None]
    size, error = _slice_stats(sums, singles_cols, space)
    live = (size >= min_sup) & (error > 0)
    singles = _level(singles_cols[live], size[live], error[live],
                     np.minimum(largest, error[live] / unit), space)
    top = _Top.start(max_l).add(singles, slice_score(singles.size, singles.error, **score), k)
    evaluated = [space.n_cols]
    parents = singles
    for level in range(2, min(len(space.n_levels), max_l) + 1):
        if len(parents.cols) == 0:
            break
        found, count = [], 0
        for cols, size, error, max_error in _candidates(parents, singles, space, batch):
            bound = score_upper_bound(size, error, max_error, **prune)
            keep = (bound >= top.threshold(k)) & (bound > 0)
            cols, max_error = cols[keep], max_error[keep]
            size, error = _slice_stats(sums, cols, space)
            count += len(cols)
            live = (size >= min_sup) & (error > 0)
            new = _level(cols[live], size[live], error[live],
                         np.minimum(max_error[live], error[live] / unit), space)
            top = top.add(new, slice_score(new.size, new.error, **score), k)
            found.append(new)
        evaluated.append(count)
        parents = _concat(found, level)
    return top.result(space, average, n_rows, tuple(evaluated), weighted=min_weight is not None)


def _level(cols, size, error, max_error, space: _Space) -> _Level:
    ids = _ids(cols, space.n_cols)
    order = np.argsort(ids, kind="stable")
    return _Level(cols[order], size[order], error[order], max_error[order], ids[order])


def _concat(levels: list[_Level], width: int) -> _Level:
    if not levels:
        empty = np.zeros(0)
        return _Level(np.zeros((0, width), dtype=np.int64), empty, empty, empty, empty.astype(np.int64))
    joined = [np.concatenate([getattr(lv, f) for lv in levels]) for f in ("cols", "size", "error",
                                                                          "max_error", "ids")]
    order = np.argsort(joined[-1], kind="stable")
    return _Level(*(a[order] for a in joined))


def _ids(cols: np.ndarray, n_cols: int) -> np.ndarray:
    """A unique int64 per sorted column tuple; increasing ids are lexicographic tuple order."""
    weights = n_cols ** np.arange(cols.shape[1] - 1, -1, -1, dtype=np.int64)
    return cols.astype(np.int64) @ weights


def _candidates(parents: _Level, singles: _Level, space: _Space, batch: int):
    """Joins of each live parent with each live 1-slice of a later feature, in batches.

    Yields the candidates' columns and the smallest size, loss sum and largest row loss over
    their parents, for candidates whose parents are all live.
    """
    single_features = space.feature_of[singles.cols[:, 0]]
    first = np.searchsorted(single_features, space.feature_of[parents.cols[:, -1]], side="right")
    counts = len(singles.cols) - first
    ends = np.cumsum(counts)
    cuts = np.unique(np.searchsorted(ends, np.arange(batch, ends[-1] if len(ends) else 0, batch)))
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(counts)]):
        if hi > lo and counts[lo:hi].sum():
            yield _join(parents, singles, space.n_cols, lo, hi, first[lo:hi], counts[lo:hi])


def _join(parents: _Level, singles: _Level, n_cols: int, lo, hi, first, counts):
    parent = np.repeat(np.arange(lo, hi), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    single = np.repeat(first, counts) + within
    cols = np.concatenate([parents.cols[parent], singles.cols[single]], axis=1)
    size, error, max_error = parents.size[parent], parents.error[parent], parents.max_error[parent]
    ok = np.ones(len(cols), dtype=bool)
    for drop in range(cols.shape[1] - 1):
        other = np.delete(cols, drop, axis=1)
        where, found = _lookup(parents.ids, _ids(other, n_cols))
        ok &= found
        size = np.minimum(size, parents.size[where])
        error = np.minimum(error, parents.error[where])
        max_error = np.minimum(max_error, parents.max_error[where])
    return cols[ok], size[ok], error[ok], max_error[ok]


def _lookup(sorted_ids: np.ndarray, query: np.ndarray):
    where = np.minimum(np.searchsorted(sorted_ids, query), max(len(sorted_ids) - 1, 0))
    found = sorted_ids[where] == query if len(sorted_ids) else np.zeros(len(query), dtype=bool)
    return where, found


def _slice_stats(sums, cols: np.ndarray, space: _Space):
    features = space.feature_of[cols]
    return sums(features, cols - space.offsets[features])


@dataclass(frozen=True)
class _Top:
    """The best slices so far (columns padded with -1), with every tie of the k-th score."""

    cols: np.ndarray
    size: np.ndarray
    error: np.ndarray
    score: np.ndarray

    @classmethod
    def start(cls, width: int) -> _Top:
        empty = np.zeros(0)
        return cls(np.zeros((0, width), dtype=np.int64), empty, empty, empty)

    def threshold(self, k: int) -> float:
        """Score a candidate must beat: the k-th best, or -inf while fewer than k are known."""
        return float(self.score.min()) if len(self.score) >= k else -np.inf

    def add(self, level: _Level, score: np.ndarray, k: int) -> _Top:
        good = score > 0
        if not good.any():
            return self
        padded = np.full((int(good.sum()), self.cols.shape[1]), -1, dtype=np.int64)
        padded[:, :level.cols.shape[1]] = level.cols[good]
        cols = np.concatenate([self.cols, padded])
        score = np.concatenate([self.score, score[good]])
        kth = np.sort(score)[::-1][min(k, len(score)) - 1]
        keep = score >= kth
        return _Top(cols[keep], np.concatenate([self.size, level.size[good]])[keep],
                    np.concatenate([self.error, level.error[good]])[keep], score[keep])

    def result(self, space: _Space, average: float, n_rows: float, evaluated: tuple, *,
               weighted: bool) -> SliceSearch:
        onehot = np.zeros((len(self.cols), space.n_cols), dtype=bool)
        row, pos = np.nonzero(self.cols >= 0)
        onehot[row, self.cols[row, pos]] = True
        order = np.lexsort((*onehot.T[::-1], -self.score))
        slices = np.full((len(self.cols), space.n_levels.size), -1, dtype=np.int64)
        cols = self.cols[row, pos]
        slices[row, space.feature_of[cols]] = cols - space.offsets[space.feature_of[cols]]
        sizes = self.size[order] if weighted else self.size[order].astype(np.int64)
        return SliceSearch(slices[order], sizes, self.error[order],
                           self.score[order], average, n_rows, evaluated)

