"""Per-group ROC staircases, their convex hulls and the deterministic threshold search.

These are the sufficient statistics of threshold post-processing: a group's rates under
"predict positive when score >= t" for every distinct score ``t`` come from one sort of the
scores (weighted counts), and every randomized mixture of such rules lies in their convex hull
(Hardt, Price & Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RaiError

#: Rates closer than this count as equal (weighted sums of equal rates may differ in the
#: last bits), so the deterministic search may exceed ``tol`` by at most this much.
RATE_SLACK = 1e-12
#: The deterministic equalized-odds search costs distinct false positive rates × ROC points;
#: beyond this it takes seconds to minutes.
MAX_BOX_WORK = 200_000_000
TOO_MANY_POINTS = ("randomized=False with equalized_odds would search {rates:,} false positive "
                   "rates x {points:,} ROC points; pass randomized=True, or coarsen the scores "
                   "with max_bins= (e.g. 256)")


@dataclass(frozen=True)
class Staircase:
    """ROC points of every group: point k is "predict positive when score >= threshold[k]".

    ``tp``/``fp`` are the weighted true and false positives of point k, ``group`` its group;
    ``pos``/``neg`` the weighted positives and negatives of each group. A group's points run
    from ``+inf`` (nothing predicted positive) to ``-inf`` (everything), rates non-decreasing.
    """

    group: np.ndarray
    threshold: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    pos: np.ndarray
    neg: np.ndarray

    def subset(self, mask: np.ndarray) -> Staircase:
        return Staircase(self.group[mask], self.threshold[mask], self.tp[mask], self.fp[mask],
                         self.pos, self.neg)

    @property
    def offsets(self) -> np.ndarray:
        return np.searchsorted(self.group, np.arange(len(self.pos) + 1))

    def rate(self, name: str) -> np.ndarray:
        """``selection_rate``, ``true_positive_rate`` or ``false_positive_rate`` per point."""
        if name == "selection_rate":
            return (self.tp + self.fp) / (self.pos + self.neg)[self.group]
        if name == "true_positive_rate":
            return self.tp / self.pos[self.group]
        return self.fp / self.neg[self.group]

    def gain(self, objective: str) -> np.ndarray:
        """Each point's share of the objective (summed over one point per group)."""
        tn = self.neg[self.group] - self.fp
        if objective == "accuracy":
            return (self.tp + tn) / (self.pos.sum() + self.neg.sum())
        return 0.5 * self.tp / self.pos.sum() + 0.5 * tn / self.neg.sum()

    def confusion(self, weight: np.ndarray) -> np.ndarray:
        """Expected confusion counts ``C[g, y, ŷ]`` of rules mixing the points by ``weight``."""
        n_groups = len(self.pos)
        tp = np.bincount(self.group, weights=weight * self.tp, minlength=n_groups)
        fp = np.bincount(self.group, weights=weight * self.fp, minlength=n_groups)
        return np.stack([np.stack([self.neg - fp, fp], -1),
                         np.stack([self.pos - tp, tp], -1)], -2)


#: The tally of (group, distinct score) cells is used while it has at most this many cells;
#: beyond, one sort of the scores is cheaper.
MAX_CELLS = 1 << 18


def staircase(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None,
              codes: np.ndarray, n_groups: int, *, max_cells: int = MAX_CELLS) -> Staircase:
    """Every group's ROC staircase: from a tally of (group, distinct score) cells when the
    scores have few distinct values (found by hashing, no sort), else from one sort."""
    from . import _roc_cpu

    unit = np.empty(0) if weights is None else weights
    cap = min(max_cells // max(n_groups, 1), len(scores) // 8)
    found, values = _roc_cpu.distinct_codes(scores, cap)
    if len(found) == len(scores):
        order = np.argsort(values)
        rank = np.empty(len(values), np.int32)
        rank[order] = np.arange(len(values), dtype=np.int32)
        cells = _roc_cpu.tally(rank[found], codes, positive, unit, len(values), n_groups)
        return counts_staircase(values[order], cells)
    return _sorted_staircase(scores, positive, unit, codes, n_groups)


def counts_staircase(values: np.ndarray, cells: np.ndarray) -> Staircase:
    """Every group's ROC staircase from ``cells[g, v]`` = (negatives, positives, rows) of group
    g's rows whose score (or bin) has threshold ``values[v]`` (ascending); only cells with rows
    give points, as the sort of the scores would."""
    n_groups = cells.shape[0]
    descending = cells[:, ::-1]
    fp, tp = np.cumsum(descending[..., 0], axis=1), np.cumsum(descending[..., 1], axis=1)
    group, value = np.nonzero(descending[..., 2] > 0)
    used = np.bincount(group, minlength=n_groups) + 1  # a first point at +inf
    at = np.arange(len(group)) + group + 1  # each earlier group adds its first point
    size = len(group) + n_groups
    threshold, tps, fps = np.full(size, np.inf), np.zeros(size), np.zeros(size)
    threshold[at], tps[at], fps[at] = values[::-1][value], tp[group, value], fp[group, value]
    return _finish(threshold, tps, fps, used)


def _sorted_staircase(scores, positive, unit, codes, n_groups) -> Staircase:
    from . import _roc_cpu

    order = np.argsort(scores)
    starts = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(codes, minlength=n_groups) + 1, out=starts[1:])
    thresholds, tp, fp, used = _roc_cpu.roc_points(order, scores, positive, unit, codes, starts)
    del order
    if used.sum() < starts[-1]:  # tied scores: drop each group's unused room
        keep = np.arange(starts[-1]) - np.repeat(starts[:-1], np.diff(starts)) < np.repeat(
            used, np.diff(starts))
        thresholds, tp, fp = thresholds[keep], tp[keep], fp[keep]
    return _finish(thresholds, tp, fp, used)


def _finish(thresholds, tp, fp, used) -> Staircase:
    """The staircase of points laid out group after group, ``used`` points each; a group's
    last point becomes "everything positive" (threshold -inf)."""
    group = np.repeat(np.arange(len(used)), used)
    ends = np.cumsum(used) - 1
    thresholds[ends] = -np.inf
    return Staircase(group, thresholds, tp, fp, tp[ends].copy(), fp[ends].copy())


def convex_hull(stairs: Staircase) -> Staircase:
    """The points on each group's ROC convex hull: the vertices of every randomized rule."""
    from . import _roc_cpu

    return stairs.subset(_roc_cpu.hull_vertices(stairs.fp, stairs.tp, stairs.offsets))


def best_points(stairs: Staircase, rates: tuple[str, ...], objective: str, tol: float
                ) -> np.ndarray:
    """The point of each group maximising ``objective`` with every ``rates`` gap within ``tol``.

    An exact search over all combinations of one point per group: the lower end of the window
    of allowed rates sweeps every candidate rate (for two rates, the false positive window's
    lower end sweeps every false positive rate and the true positive window is searched inside
    it), each group keeping its best point in the window. The all-negative rule (rate 0 in every
    group) is always feasible, so a solution always exists, possibly that trivial one.
    """
    from . import _roc_cpu

    gain, offsets = stairs.gain(objective), stairs.offsets
    if len(rates) == 1:
        _, chosen = _roc_cpu.best_window(stairs.rate(rates[0]), gain, stairs.group, offsets[:-1],
                                         offsets[1:], tol + RATE_SLACK)
    else:
        n_rates = len(np.unique(stairs.rate("false_positive_rate")))
        if n_rates * len(gain) > MAX_BOX_WORK:
            raise RaiError(TOO_MANY_POINTS.format(rates=n_rates, points=len(gain)))
        _, chosen = _roc_cpu.best_box(stairs.rate("false_positive_rate"),
                                      stairs.rate("true_positive_rate"), gain, stairs.group,
                                      offsets, tol + RATE_SLACK)
    return chosen
