"""Path-dependent TreeSHAP as CUDA kernels (numba.cuda): the same scalar code as the CPU.

One thread per (node, row) decides the splits; one thread per (row, path) computes the path's
φ (:func:`._treeshap_scalar.path_phi`) and adds it to the row's values with atomic adds. The
per-thread scratch is local memory sized for paths of up to ``MAX_ELEMENTS`` elements.
Importing this module needs numba's CUDA target (a device, or ``NUMBA_ENABLE_CUDASIM=1``).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float64, int64

from . import _treeshap_scalar as scalar

#: Longest path (distinct features) the kernel's local scratch holds.
MAX_ELEMENTS = 64
_MAX_POINTS = (MAX_ELEMENTS + 2) // 2

_goes_left = cuda.jit(device=True)(scalar.goes_left)
_path_phi = cuda.jit(device=True)(scalar.path_phi)
_row_one = cuda.jit(device=True)(scalar.row_one)


@cuda.jit
def _decide(XT, left, feature, threshold, default_left, category_set, left_categories,
            known_categories, decision):
    node, r = cuda.grid(2)
    if node < left.shape[0] and r < XT.shape[1] and left[node] >= 0:
        decision[node, r] = _goes_left(XT[feature[node], r], threshold[node], category_set[node],
                                       default_left[node], left_categories, known_categories)


@cuda.jit
def _values(decision, element_start, element_feature, zero_fraction, split_start, split_node,
            split_left, value, jacobi_nodes, jacobi_weights, out):
    r, p = cuda.grid(2)
    if r >= decision.shape[1] or p >= value.shape[0]:
        return
    first = element_start[p]
    m = element_start[p + 1] - first
    if m == 0:
        return
    one = cuda.local.array(MAX_ELEMENTS, float64)
    phi = cuda.local.array(MAX_ELEMENTS, float64)
    hot = cuda.local.array(MAX_ELEMENTS, int64)
    factors = cuda.local.array((MAX_ELEMENTS, _MAX_POINTS), float64)
    prefix = cuda.local.array((MAX_ELEMENTS + 1, _MAX_POINTS), float64)
    _row_one(first, m, r, split_start, split_node, split_left, decision, one)
    _path_phi(first, m, one, zero_fraction, jacobi_nodes, jacobi_weights, hot, factors, prefix,
              phi)
    for i in range(m):
        f = element_feature[first + i]
        for k in range(value.shape[1]):
            cuda.atomic.add(out, (r, f, k), phi[i] * value[p, k])


def _grid(shape: tuple[int, int], block: tuple[int, int]) -> tuple[int, int]:
    return tuple(max(1, -(-n // b)) for n, b in zip(shape, block))


def shap_values(node_arrays: tuple, path_arrays: tuple, rules: tuple, rows: np.ndarray,
                n_features: int) -> np.ndarray:
    """φ (rows, features, outputs) of one chunk of rows, computed on the device."""
    (left, feature, threshold, default_left, category_set, left_categories,
     known_categories) = (cuda.to_device(np.ascontiguousarray(a)) for a in node_arrays)
    paths = [cuda.to_device(np.ascontiguousarray(a)) for a in path_arrays]
    nodes, weights = (cuda.to_device(a) for a in rules)
    features_by_rows = cuda.to_device(np.ascontiguousarray(rows.T))
    n_rows, n_nodes, n_paths = rows.shape[0], len(node_arrays[0]), len(path_arrays[-1])
    decision = cuda.to_device(np.zeros((n_nodes, n_rows), bool))
    block = (8, 32)
    _decide[_grid((n_nodes, n_rows), block), block](
        features_by_rows, left, feature, threshold, default_left, category_set, left_categories,
        known_categories, decision)
    out = cuda.to_device(np.zeros((n_rows, n_features, path_arrays[-1].shape[1])))
    block = (32, 8)
    _values[_grid((n_rows, n_paths), block), block](decision, *paths, nodes, weights, out)
    return out.copy_to_host()
