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
    """All root-to-leaf paths of ``forest``, splits grouped by feature."""
    n = len(forest.feature)
    parent = np.full(n, -1)
    inner = np.flatnonzero(forest.left >= 0)
    parent[forest.left[inner]] = inner
    parent[forest.right[inner]] = inner
    leaves = np.flatnonzero(forest.left < 0)
    node, went_left, ratio = _splits_above(forest, parent, leaves)
    return _group(forest, leaves, node, went_left, ratio)


def _splits_above(forest: Forest, parent: np.ndarray, leaves: np.ndarray):
    """Per leaf (rows), the splits above it (columns, deepest first), node -1 as padding."""
    nodes, lefts, ratios = [], [], []
    child = leaves
    while True:
        up = parent[child]
        alive = up >= 0
        if not alive.any():
            break
        safe = np.where(alive, up, 0)
        nodes.append(np.where(alive, up, -1))
        lefts.append(forest.left[safe] == child)
        ratios.append(np.divide(forest.cover[child], forest.cover[safe],
                                out=np.zeros(len(child)), where=forest.cover[safe] > 0))
        child = np.where(alive, up, child)
    if not nodes:
        empty = np.zeros((len(leaves), 0))
        return empty.astype(np.int64), empty.astype(bool), empty
    return np.stack(nodes, axis=1), np.stack(lefts, axis=1), np.stack(ratios, axis=1)


def _group(forest: Forest, leaves, node, went_left, ratio) -> Paths:
    """Sort each path's splits by feature; runs of one feature form an element."""
    real = node >= 0
    feature = np.where(real, forest.feature[np.maximum(node, 0)], np.iinfo(np.int64).max)
    path = np.broadcast_to(np.arange(len(leaves))[:, None], node.shape)
    order = np.lexsort((feature.ravel(), path.ravel()))
    order = order[real.ravel()[order]]
    path, feature = path.ravel()[order], feature.ravel()[order]
    starts = np.r_[True, (path[1:] != path[:-1]) | (feature[1:] != feature[:-1])] if len(
        order) else np.zeros(0, bool)
    first = np.flatnonzero(starts)
    element_path = path[first]
    return Paths(
        element_start=np.searchsorted(element_path, np.arange(len(leaves) + 1)).astype(np.int64),
        element_feature=feature[first].astype(np.int64),
        zero_fraction=np.multiply.reduceat(ratio.ravel()[order], first) if len(first) else
        np.zeros(0),
        split_start=np.r_[first, len(order)].astype(np.int64),
        split_node=node.ravel()[order].astype(np.int64),
        split_left=went_left.ravel()[order],
        value=forest.value[leaves])
