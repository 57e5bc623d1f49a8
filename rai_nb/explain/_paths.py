"""Root-to-leaf paths of a :class:`Forest`, one element per distinct feature (GPUTreeShap).

Mitchell, Frank & Holmes, "GPUTreeShap: massively parallel exact calculation of SHAP scores for
tree ensembles", PeerJ Computer Science (2022): in path-dependent TreeSHAP a path only matters
through, per feature it splits on, whether a row follows every one of that feature's splits
(the *one fraction*, 0 or 1) and which share of the training cover follows them (the *zero
fraction*, the product of the splits' cover ratios). Paths are stored flat (CSR): path ``p``
owns elements ``element_start[p]:element_start[p+1]``, element ``e`` owns the splits
``split_start[e]:split_start[e+1]`` given as (node, goes left). Whether a row follows a split is
decided per node by the forest's own rule (thresholds, missing values, category sets), so every
split kind the loaders read is handled by the same kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._forest import Forest


@dataclass(frozen=True)
class Paths:
    """``P`` paths with ``E`` elements and ``S`` splits in all."""

    element_start: np.ndarray  # (P+1,) int64
    element_feature: np.ndarray  # (E,) int64
    zero_fraction: np.ndarray  # (E,) float64
    split_start: np.ndarray  # (E+1,) int64
    split_node: np.ndarray  # (S,) int64
    split_left: np.ndarray  # (S,) bool: the path leaves that node to the left
    value: np.ndarray  # (P, K) leaf outputs

    @property
    def size(self) -> np.ndarray:
        """Number of elements (distinct features) per path."""
        return np.diff(self.element_start)

    def expected_value(self) -> np.ndarray:
        """Σ_p v_p Π_e z_e: the forest's output averaged over its training cover, (K,)."""
        product = np.ones(len(self.value))
        np.multiply.at(product, np.repeat(np.arange(len(self.value)), self.size),
                       self.zero_fraction)
        return product @ self.value


def decompose(forest: Forest) -> Paths:
    """All root-to-leaf paths of ``forest``, splits grouped by feature (compiled: a default
    random forest has about a million paths)."""
    from ._treeshap_cpu import count_path_splits, fill_paths  # numba loads on first use

    n = len(forest.feature)
    parent = np.full(n, -1)
    inner = np.flatnonzero(forest.left >= 0)
    parent[forest.left[inner]] = inner
    parent[forest.right[inner]] = inner
    leaves = np.flatnonzero(forest.left < 0)
    depth = np.zeros(len(leaves), np.int64)
    n_elements = np.zeros(len(leaves), np.int64)
    count_path_splits(parent, forest.feature, leaves, depth, n_elements)
    element_start = np.r_[0, np.cumsum(n_elements)].astype(np.int64)
    split_offset = np.r_[0, np.cumsum(depth)].astype(np.int64)
    element_feature = np.empty(element_start[-1], np.int64)
    zero_fraction = np.empty(element_start[-1])
    split_start = np.empty(element_start[-1] + 1, np.int64)
    split_start[-1] = split_offset[-1]
    split_node = np.empty(split_offset[-1], np.int64)
    split_left = np.empty(split_offset[-1], bool)
    fill_paths(parent, forest.left, forest.feature, forest.cover, leaves, element_start,
               split_offset, element_feature, zero_fraction, split_start, split_node, split_left)
    return Paths(element_start=element_start, element_feature=element_feature,
                 zero_fraction=zero_fraction, split_start=split_start, split_node=split_node,
                 split_left=split_left, value=forest.value[leaves])
