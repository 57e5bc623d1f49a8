"""A per-group score histogram filled chunk by chunk: the bounded-memory statistics of
threshold post-processing.

Cells hold the weighted negatives, positives and rows of each group whose score falls at a
cell's threshold. While the scores seen have at most ``max_bins`` distinct values every value
is a cell (the statistics of the exact path); beyond, the cells become bins ``[e_k, e_k+1)``
between fixed edges. A rule "positive when score >= e_k" then selects exactly the rows of bins
k and above, so the ROC staircase built from the bins is exact for rules whose thresholds are
edges: the optimisation over them is exact, only the choice of thresholds is coarser.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._roc import Staircase, counts_staircase


class ScoreHistogram:
    """Cells ``(group, score value or bin)`` of negatives, positives and rows.

    Parameters
    ----------
    n_groups : int
    max_bins : int
        Most cells per group.
    sample : callable
        Returns scores of rows spread over the whole data (called once, when the distinct
        values first exceed ``max_bins``); the edges are their quantiles, so they do
        not depend on the order of the rows.
    """

    def __init__(self, n_groups: int, max_bins: int, sample: Callable[[], np.ndarray]):
        self.max_bins, self.sample = max_bins, sample
        self.values = np.empty(0)  # ascending threshold of each cell
        self.cells = np.zeros((n_groups, 0, 3))
        self.edges: np.ndarray | None = None

    def add(self, scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None,
            groups: np.ndarray) -> None:
        """Count one chunk of rows (``weights`` None for unit weights)."""
        from . import _roc_cpu

        unit = np.empty(0) if weights is None else weights
        if self.edges is None:
            found, values = _roc_cpu.distinct_codes(scores, self.max_bins)
            merged = np.union1d(self.values, values)
            if len(found) == len(scores) and len(merged) <= self.max_bins:
                self._regroup(np.searchsorted(merged, self.values), merged)
                self.cells += _roc_cpu.tally(np.searchsorted(merged, values)[found], groups,
                                             positive, unit, len(merged), len(self.cells))
                return
            self._to_bins()
        bins = np.searchsorted(self.edges, scores, side="right")
        self.cells += _roc_cpu.tally(bins, groups, positive, unit, len(self.values),
                                     len(self.cells))

    def staircase(self) -> Staircase:
        return counts_staircase(self.values, self.cells)

    def _to_bins(self) -> None:
        """Fix the edges (weighted quantiles of the sample) and move the cells into bins."""
        sample = np.sort(self.sample())
        at = np.linspace(0, len(sample) - 1, self.max_bins + 1)[1:-1].round().astype(np.int64)
        self.edges = np.unique(sample[at])
        # Bin k holds [edges[k-1], edges[k]); bin 0 everything below edges[0].
        self._regroup(np.searchsorted(self.edges, self.values, side="right"),
                      np.r_[-np.inf, self.edges])

    def _regroup(self, cell_of_old: np.ndarray, values: np.ndarray) -> None:
        cells = np.zeros((len(self.cells), len(values), 3))
        np.add.at(cells, (slice(None), cell_of_old), self.cells)
        self.cells, self.values = cells, values
