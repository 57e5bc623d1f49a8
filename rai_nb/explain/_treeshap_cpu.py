"""Compiled path-dependent TreeSHAP on the CPU (numba, paths in parallel blocks).

For one path with elements ``M`` (``|M| = m``), zero fractions ``z`` and one fractions
``o ∈ {0, 1}`` of a row, Lundberg et al. (Nature Machine Intelligence, 2020) give

    φ_i = v (o_i − z_i) Σ_{S ⊆ M∖{i}} s!(m−s−1)!/m! Π_{k∈S} o_k Π_{k∉S∪{i}} z_k.

Since ``s!(m−1−s)!/m! = ∫₀¹ tˢ (1−t)^{m−1−s} dt`` (a Beta integral), the sum is the integral of a
product of linear factors,

    φ_i = v (o_i − z_i) ∫₀¹ Π_{k≠i} g_k(t) dt,   g_k(t) = z_k + (o_k − z_k) t,

a polynomial of degree m−1 that Gauss–Legendre quadrature with ⌈m/2⌉ nodes integrates exactly
(the same identity underlies Linear TreeShap, Yu et al., NeurIPS 2022). A path then costs
O(m²/2) per row whatever the tree depth, with no table of binomial weights. The SHAP interaction
index (Lundberg et al. 2020, with its ½) is, for i ≠ j on the path,

    Φ_ij = ½ v (o_i − z_i)(o_j − z_j) ∫₀¹ Π_{k≠i,j} g_k(t) dt,   Φ_ii = φ_i − Σ_{j≠i} Φ_ij.

A path with a factor that vanishes everywhere (``z = 0`` and ``o = 0``) contributes nothing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from . import _treeshap_scalar as scalar

_goes_left = nb.njit(cache=True, inline="always")(scalar.goes_left)
_path_phi = nb.njit(cache=True, inline="always")(scalar.path_phi)
_row_one = nb.njit(cache=True)(scalar.row_one)


# --- the paths of a forest (used by :func:`._paths.decompose`) ----------------------------

@nb.njit(parallel=True, cache=True)
def count_path_splits(parent, feature, leaves, depth, n_elements):
    """Per leaf: the splits above it and how many distinct features they use."""
    for k in nb.prange(len(leaves)):
        node, d = leaves[k], 0
        while parent[node] >= 0:
            node = parent[node]
            d += 1
        features = np.empty(d, np.int64)
        node, d = leaves[k], 0
        while parent[node] >= 0:
            node = parent[node]
            features[d] = feature[node]
            d += 1
        depth[k], n_elements[k] = d, len(np.unique(features))


@nb.njit(parallel=True, cache=True)
def fill_paths(parent, left, feature, cover, leaves, element_start, split_offset,
               element_feature, zero_fraction, split_start, split_node, split_left):
    """Write each leaf's elements (by feature) and their splits (node, goes left)."""
    for k in nb.prange(len(leaves)):
        d = split_offset[k + 1] - split_offset[k]
        nodes = np.empty(d, np.int64)
        lefts = np.empty(d, np.bool_)
        ratios = np.empty(d)
        child, i = leaves[k], 0
        while parent[child] >= 0:
            up = parent[child]
            nodes[i], lefts[i] = up, left[up] == child
            ratios[i] = cover[child] / cover[up] if cover[up] > 0 else 0.0
            child, i = up, i + 1
        order = np.argsort(feature[nodes], kind="mergesort")
        e, s = element_start[k] - 1, split_offset[k]
        for j in range(d):
            split = order[j]
            f = feature[nodes[split]]
            if j == 0 or f != feature[nodes[order[j - 1]]]:
                e += 1
                element_feature[e], zero_fraction[e], split_start[e] = f, 1.0, s
            zero_fraction[e] *= ratios[split]
            split_node[s], split_left[s] = nodes[split], lefts[split]
            s += 1


# --- SHAP values ----------------------------------------------------------------------------

@nb.njit(parallel=True, cache=True)
def decide_all(XT, left, feature, threshold, default_left, category_set, left_categories,
               known_categories, decision):
    """``decision[node, r]``: does row r go left at ``node`` (``XT`` is features × rows), nodes
    in parallel and rows in a branch-free inner loop."""
    n_rows = XT.shape[1]
    for node in nb.prange(len(left)):
        if left[node] < 0:
            continue
        x, out = XT[feature[node]], decision[node]
        for r in range(n_rows):
            out[r] = _goes_left(x[r], threshold[node], category_set[node], default_left[node],
                                left_categories, known_categories)


@nb.njit(cache=True)
def _patterns(first, m, split_start, split_node, split_left, decision, follows, bits):
    """``bits[r]``: which of the path's elements row r follows (element i ↦ bit i), for
    paths of at most 62 elements; vectorised over rows."""
    bits[:] = 0
    for i in range(m):
        e = first + i
        follows[:] = True
        for s in range(split_start[e], split_start[e + 1]):
            went, goes = split_left[s], decision[split_node[s]]
            for r in range(len(follows)):
                follows[r] &= goes[r] == went
        for r in range(len(follows)):
            bits[r] |= np.int64(follows[r]) << i


@nb.njit(cache=True, inline="always")
def _start_path(first, m, cache_elements, split_start, split_node, split_left, decision,
                follows, bits, known):
    """Patterns of every row on a path; clear its φ cache. True when φ is reused."""
    if m <= 62:
        _patterns(first, m, split_start, split_node, split_left, decision, follows, bits)
    reuse = m <= cache_elements
    if reuse:
        known[:1 << m] = False
    return reuse


@nb.njit(cache=True, inline="always")
def _ones(first, m, r, bits, split_start, split_node, split_left, decision, one):
    """Row r's one fractions on the path: from its pattern, or (long paths) its decisions."""
    if m <= 62:
        for i in range(m):
            one[i] = (bits[r] >> i) & 1
    else:
        _row_one(first, m, r, split_start, split_node, split_left, decision, one)


@nb.njit(parallel=True, cache=True)
def shap_values(decision, element_start, element_feature, zero_fraction, split_start,
                split_node, split_left, value, jacobi_nodes, jacobi_weights, cache_elements,
                out):
    """Add every path's φ to ``out`` (blocks, rows, features, outputs): paths in parallel
    blocks, each adding to its own ``out[block]``.

    A path's φ depends on a row only through its pattern (the elements it follows), so a path
    with at most ``cache_elements`` elements computes φ once per pattern that occurs among the
    rows and reuses it (the idea of Yang's Fast TreeSHAP, arXiv:2109.09847).
    """
    n_blocks, n_rows = out.shape[0], decision.shape[1]
    n_paths, n_outputs = value.shape
    max_m = jacobi_nodes.shape[0] - 1
    width = jacobi_nodes.shape[2]
    for block in nb.prange(n_blocks):
        mine = out[block]
        follows = np.empty(n_rows, np.bool_)
        bits = np.empty(n_rows, np.int64)
        one = np.empty(max_m + 1)
        phi = np.empty(max_m + 1)
        hot = np.empty(max_m + 1, np.int64)
        factors = np.empty((max_m + 1, width))
        prefix = np.empty((max_m + 2, width))
        cached = np.empty((1 << cache_elements) * max(cache_elements, 1))
        known = np.empty(1 << cache_elements, np.bool_)
        for p in range(block * n_paths // n_blocks, (block + 1) * n_paths // n_blocks):
            first, m = element_start[p], element_start[p + 1] - element_start[p]
            if m == 0:
                continue
            reuse = _start_path(first, m, cache_elements, split_start, split_node, split_left,
                                decision, follows, bits, known)
            for r in range(n_rows):
                at = bits[r] * m
                if reuse and known[bits[r]]:
                    for i in range(m):
                        phi[i] = cached[at + i]
                else:
                    _ones(first, m, r, bits, split_start, split_node, split_left, decision, one)
                    _path_phi(first, m, one, zero_fraction, jacobi_nodes, jacobi_weights, hot,
                              factors, prefix, phi)
                    if reuse:
                        known[bits[r]] = True
                        for i in range(m):
                            cached[at + i] = phi[i]
                for i in range(m):
                    f = element_feature[first + i]
                    for k in range(n_outputs):
                        mine[r, f, k] += phi[i] * value[p, k]


@nb.njit(cache=True, inline="always")
def _path_interactions(first, m, one, zero_fraction, nodes, weights, products, factor, pairs):
    """Φ of one path (before the leaf value): ``pairs[i, j]`` for i ≠ j and the main effects
    ``Φ_ii = φ_i − Σ_j Φ_ij`` on the diagonal (Gauss–Legendre, ⌈m/2⌉ points). The caller has
    skipped paths with a vanishing factor, so no division is by zero."""
    n_q = (m + 1) // 2
    for q in range(n_q):
        total = 1.0
        for i in range(m):
            z = zero_fraction[first + i]
            total *= z + (one[i] - z) * nodes[q]
        products[q] = total
    for i in range(m):
        zi = zero_fraction[first + i]
        for q in range(n_q):
            factor[q] = products[q] / (zi + (one[i] - zi) * nodes[q])
        main = 0.0
        for q in range(n_q):
            main += weights[q] * factor[q]
        main *= one[i] - zi
        for j in range(m):
            if j == i:
                continue
            zj = zero_fraction[first + j]
            integral = 0.0
            for q in range(n_q):
                integral += weights[q] * factor[q] / (zj + (one[j] - zj) * nodes[q])
            pairs[i, j] = 0.5 * (one[i] - zi) * (one[j] - zj) * integral
            main -= pairs[i, j]
        pairs[i, i] = main


@nb.njit(parallel=True, cache=True)
def shap_interactions(decision, element_start, element_feature, zero_fraction, split_start,
                      split_node, split_left, value, quad_nodes, quad_weights, cache_elements,
                      out):
    """Add every path's Φ to ``out`` (blocks, rows, features, features, outputs): paths in
    parallel blocks, each adding to its own ``out[block]``; Φ reused per pattern of followed
    elements as in :func:`shap_values`."""
    n_blocks, n_rows = out.shape[0], decision.shape[1]
    n_paths, n_outputs = value.shape
    max_m = quad_nodes.shape[0] - 1
    width = quad_nodes.shape[1]
    for block in nb.prange(n_blocks):
        mine = out[block]
        follows = np.empty(n_rows, np.bool_)
        bits = np.empty(n_rows, np.int64)
        one = np.empty(max_m + 1)
        products = np.empty(width)
        factor = np.empty(width)
        pairs = np.empty((max_m + 1, max_m + 1))
        side = max(cache_elements, 1)
        cached = np.empty((1 << cache_elements, side, side))
        known = np.empty(1 << cache_elements, np.bool_)
        for p in range(block * n_paths // n_blocks, (block + 1) * n_paths // n_blocks):
            first, m = element_start[p], element_start[p + 1] - element_start[p]
            if m == 0:
                continue
            reuse = _start_path(first, m, cache_elements, split_start, split_node, split_left,
                                decision, follows, bits, known)
            for r in range(n_rows):
                if reuse and known[bits[r]]:
                    pairs[:m, :m] = cached[bits[r], :m, :m]
                else:
                    _ones(first, m, r, bits, split_start, split_node, split_left, decision, one)
                    vanishes = False
                    for i in range(m):
                        vanishes |= (one[i] == 0.0) & (zero_fraction[first + i] == 0.0)
                    if vanishes:
                        pairs[:m, :m] = 0.0
                    else:
                        _path_interactions(first, m, one, zero_fraction, quad_nodes[m],
                                           quad_weights[m], products, factor, pairs)
                    if reuse:
                        known[bits[r]] = True
                        cached[bits[r], :m, :m] = pairs[:m, :m]
                for i in range(m):
                    fi = element_feature[first + i]
                    for j in range(m):
                        fj = element_feature[first + j]
                        for k in range(n_outputs):
                            mine[r, fi, fj, k] += pairs[i, j] * value[p, k]
