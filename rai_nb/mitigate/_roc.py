"""Per-group ROC staircases, their convex hulls and the deterministic threshold search.

These are the sufficient statistics of threshold post-processing: a group's rates under
"predict positive when score >= t" for every distinct score ``t`` come from one sort of the
scores (weighted counts), and every randomized mixture of such rules lies in their convex hull
(Hardt, Price & Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Rates closer than this count as equal (weighted sums of equal rates may differ in the
#: last bits), so the deterministic search may exceed ``tol`` by at most this much.
RATE_SLACK = 1e-12


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


def staircase(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None,
              codes: np.ndarray, n_groups: int) -> Staircase:
    """Every group's ROC staircase from one sort of ``scores`` (compiled, linear after it)."""
    from . import _roc_cpu

    order = np.argsort(scores)
    starts = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(codes, minlength=n_groups) + 1, out=starts[1:])
    unit = np.empty(0) if weights is None else weights
    thresholds, tp, fp, used = _roc_cpu.roc_points(order, scores, positive, unit, codes, starts)
    del order
    group = np.repeat(np.arange(n_groups), used)
    if used.sum() < starts[-1]:  # tied scores: drop each group's unused room
        keep = np.arange(starts[-1]) - np.repeat(starts[:-1], np.diff(starts)) < np.repeat(
            used, np.diff(starts))
        thresholds, tp, fp = thresholds[keep], tp[keep], fp[keep]
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
        _, chosen = _roc_cpu.best_box(stairs.rate("false_positive_rate"),
                                      stairs.rate("true_positive_rate"), gain, stairs.group,
                                      offsets, tol + RATE_SLACK)
    return chosen
