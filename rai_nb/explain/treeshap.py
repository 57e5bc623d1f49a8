"""Exact path-dependent TreeSHAP values and interaction values of a :class:`Forest`.

The paths come from :func:`decompose` (one element per feature of a path); the per-row work is
a compiled kernel, :mod:`._treeshap_cpu` (numba, rows in parallel). The method and its formulas
are described there.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..backend import get_config
from ._forest import Forest
from ._paths import Paths, decompose


@lru_cache(maxsize=8)
def quadrature(max_elements: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss–Legendre rules on [0, 1] for paths of up to ``max_elements`` elements.

    Row ``m`` of ``nodes``/``weights`` (shape (max + 1, ⌈max/2⌉), zero-padded) holds the ⌈m/2⌉
    points that integrate a polynomial of degree m − 1 exactly; ``cold[m, n, q]`` is
    ``(1 − nodes[m, q])ⁿ``, the factor of ``n`` elements a row does not follow.
    """
    width = max(1, (max_elements + 1) // 2)
    nodes, weights = np.zeros((max_elements + 1, width)), np.zeros((max_elements + 1, width))
    for m in range(1, max_elements + 1):
        x, w = np.polynomial.legendre.leggauss((m + 1) // 2)
        nodes[m, :len(x)], weights[m, :len(w)] = (x + 1) / 2, w / 2
    powers = np.arange(max_elements + 1)[None, :, None]
    cold = (1.0 - nodes[:, None, :]) ** powers
    return nodes, weights, np.ascontiguousarray(cold)


def tree_shap(forest: Forest, X: np.ndarray, *, interactions: bool = False,
              paths: Paths | None = None) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values of ``forest`` on the rows ``X`` and its expected value.

    Parameters
    ----------
    forest : Forest
    X : ndarray of shape (rows, forest.n_features)
        Float inputs, NaN for missing; category codes for categorical splits.
    interactions : bool, default False
        Return SHAP interaction values instead.
    paths : Paths, optional
        ``decompose(forest)``, when the caller already has it.

    Returns
    -------
    values : ndarray
        (rows, features, outputs), or (rows, features, features, outputs) with interactions;
        additive: ``base + values.sum(axis=1)`` equals the forest's raw output (and summing the
        interactions over their last feature axis gives the SHAP values).
    base : ndarray of shape (outputs,)
    """
    from . import _treeshap_cpu

    paths = decompose(forest) if paths is None else paths
    X = np.asarray(X, dtype=np.float64)
    if forest.float32:
        X = X.astype(np.float32).astype(np.float64)
    rules = quadrature(int(paths.size.max(initial=0)))
    kernel = _treeshap_cpu.shap_interactions if interactions else _treeshap_cpu.shap_values
    shape = (forest.n_features,) * (2 if interactions else 1)
    chunks = []
    step = max(1, get_config().chunk_rows)
    for start in range(0, len(X), step):
        rows = np.ascontiguousarray(X[start:start + step])
        out = np.zeros((len(rows), *shape, forest.n_outputs))
        kernel(rows, *_node_arrays(forest), *_path_arrays(paths), *rules, out)
        chunks.append(out)
    values = np.concatenate(chunks) if chunks else np.zeros((0, *shape, forest.n_outputs))
    return values, forest.base + paths.expected_value()


def _node_arrays(forest: Forest) -> tuple:
    return (forest.left, forest.feature, forest.threshold, forest.default_left,
            forest.category_set, forest.left_categories, forest.known_categories)


def _path_arrays(paths: Paths) -> tuple:
    return (paths.element_start, paths.element_feature, paths.zero_fraction, paths.split_start,
            paths.split_node, paths.split_left, np.ascontiguousarray(paths.value))
