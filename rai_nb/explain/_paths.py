"""Root-to-leaf paths of a :class:`Forest` as merged elements (GPUTreeShap's decomposition).

Mitchell, Frank & Holmes, "GPUTreeShap: massively parallel exact calculation of SHAP scores for
tree ensembles", PeerJ Computer Science (2022): every path becomes at most one element per
feature — the interval ``lower < x <= upper`` that keeps a row on the path, whether a missing
value stays on it, and the zero fraction ``z`` (share of training cover that follows the path
through that feature's splits). Built with array operations over all leaves of all trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._forest import Forest


@dataclass(frozen=True)
class Paths:
    """``P`` paths of at most ``L`` elements; ``valid`` marks real (non-padding) elements."""

    feature: np.ndarray  # (P, L) int
    lower: np.ndarray  # (P, L)
    upper: np.ndarray  # (P, L)
    missing_ok: np.ndarray  # (P, L) bool
    zero_fraction: np.ndarray  # (P, L), 1 on padding
    valid: np.ndarray  # (P, L) bool
    value: np.ndarray  # (P, K) leaf outputs

    @property
    def size(self) -> np.ndarray:
        """Number of elements (distinct features) per path."""
        return self.valid.sum(axis=1)


def decompose(forest: Forest) -> Paths:
    """All root-to-leaf paths of ``forest``, merged per feature."""
    n = len(forest.feature)
    parent = np.full(n, -1)
    inner = np.flatnonzero(forest.left >= 0)
    parent[forest.left[inner]] = inner
    parent[forest.right[inner]] = inner
    leaves = np.flatnonzero(forest.left < 0)
    edges = _edges(forest, parent, leaves)
    return _merge(edges, forest.value[leaves])


def _edges(forest: Forest, parent: np.ndarray, leaves: np.ndarray) -> dict:
    """Per leaf, the splits above it (deepest first), padded with feature -1."""
    columns = {k: [] for k in ("feature", "threshold", "left", "default_left", "z")}
    node = leaves
    while True:
        up = parent[node]
        alive = up >= 0
        if not alive.any():
            break
        safe = np.where(alive, up, 0)
        went_left = forest.left[safe] == node
        columns["feature"].append(np.where(alive, forest.feature[safe], -1))
        columns["threshold"].append(forest.threshold[safe])
        columns["left"].append(went_left)
        columns["default_left"].append(forest.default_left[safe] == went_left)
        ratio = np.divide(forest.cover[node], forest.cover[safe],
                          out=np.zeros(len(node)), where=forest.cover[safe] > 0)
        columns["z"].append(np.where(alive, ratio, 1.0))
        node = np.where(alive, up, node)
    if not columns["feature"]:  # stumps only: every path is the bare root
        return {k: np.zeros((len(leaves), 0)) for k in columns}
    return {k: np.stack(v, axis=1) for k, v in columns.items()}


def _merge(edges: dict, value: np.ndarray) -> Paths:
    """One element per (path, feature): intersect intervals, multiply zero fractions."""
    n_paths, depth = edges["feature"].shape
    order = np.argsort(np.where(edges["feature"] < 0, np.iinfo(np.int64).max,
                                edges["feature"]), axis=1, kind="stable")
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    feature, threshold, left = take(edges["feature"]), take(edges["threshold"]), take(edges["left"])
    stays, z = take(edges["default_left"]), take(edges["z"])
    real = feature >= 0
    new = real & np.concatenate([np.ones((n_paths, 1), bool),
                                 feature[:, 1:] != feature[:, :-1]], axis=1)
    slot = np.cumsum(new, axis=1) - 1  # element index of each edge within its path
    width = max(int(new.sum(axis=1).max(initial=0)), 1)
    target = (np.arange(n_paths)[:, None] * width + np.where(real, slot, 0)).ravel()
    real_flat = real.ravel()
    lower = np.full(n_paths * width, -np.inf)
    upper = np.full(n_paths * width, np.inf)
    zero = np.ones(n_paths * width)
    missing_ok = np.ones(n_paths * width, bool)
    feat = np.full(n_paths * width, -1)
    idx = target[real_flat]
    np.maximum.at(lower, idx, np.where(left, -np.inf, threshold).ravel()[real_flat])
    np.minimum.at(upper, idx, np.where(left, threshold, np.inf).ravel()[real_flat])
    np.multiply.at(zero, idx, z.ravel()[real_flat])
    np.logical_and.at(missing_ok, idx, stays.ravel()[real_flat])
    feat[idx] = feature.ravel()[real_flat]
    shape = (n_paths, width)
    return Paths(feature=feat.reshape(shape), lower=lower.reshape(shape),
                 upper=upper.reshape(shape), missing_ok=missing_ok.reshape(shape),
                 zero_fraction=zero.reshape(shape), valid=feat.reshape(shape) >= 0,
                 value=value)
