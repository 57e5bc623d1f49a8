"""Compiled path-dependent TreeSHAP on the CPU (numba, rows in parallel).

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


@nb.njit(cache=True, inline="always")
def _goes_left(x, node, feature, threshold, default_left, category_set, left_categories,
               known_categories):
    """The forest's own routing rule at ``node`` (numeric threshold, or category set)."""
    value = x[feature[node]]
    if np.isnan(value):
        return default_left[node]
    chosen = category_set[node]
    if chosen < 0:
        return value <= threshold[node]
    if value < 0.0 or value >= 32.0 * left_categories.shape[1]:
        return default_left[node]  # outside every category: treated as missing
    code = int(value)
    word, bit = code >> 5, code & 31
    if (left_categories[chosen, word] >> bit) & 1:
        return True
    if (known_categories[chosen, word] >> bit) & 1:
        return False
    return default_left[node]  # a category unseen in training: treated as missing


@nb.njit(cache=True)
def _decide(x, left, feature, threshold, default_left, category_set, left_categories,
            known_categories, decision):
    for node in range(len(left)):
        if left[node] >= 0:
            decision[node] = _goes_left(x, node, feature, threshold, default_left, category_set,
                                        left_categories, known_categories)


@nb.njit(cache=True, inline="always")
def _one_fractions(p, element_start, zero_fraction, split_start, split_node, split_left,
                   decision, one):
    """Fill ``one`` for path ``p``; False when a factor is identically 0 (skip the path).

    Branch-free on the data (which way a row goes is unpredictable, so branches would miss)."""
    first = element_start[p]
    vanishes = False
    for e in range(first, element_start[p + 1]):
        follows = True
        for s in range(split_start[e], split_start[e + 1]):
            follows &= decision[split_node[s]] == split_left[s]
        one[e - first] = follows
        vanishes |= (not follows) & (zero_fraction[e] == 0.0)
    return not vanishes


@nb.njit(cache=True, inline="always")
def _factor_products(first, m, one, zero_fraction, nodes, n_nodes, products):
    """``products[q] = Π_k g_k(t_q)`` over the path's elements."""
    for q in range(n_nodes):
        total = 1.0
        for i in range(m):
            z = zero_fraction[first + i]
            total *= z + (one[i] - z) * nodes[q]
        products[q] = total


@nb.njit(cache=True, inline="always")
def _path_phi(first, m, one, zero_fraction, nodes, weights, cold_powers, hot, factors, prefix,
              phi):
    """φ per element of one path (before the leaf value), in O(m + h·q) for h followed
    elements.

    With ``N`` the elements the row does not follow (``o = 0``, factor ``z (1 − t)``), ``H``
    the others (factor ``h_k = z_k + (1 − z_k) t``) and ``Z = Π_N z``, every ``i ∈ N`` gets the
    same ``−Z ∫ (1−t)^{|N|−1} Π_H h``, and ``i ∈ H`` gets ``(1 − z_i) Z ∫ (1−t)^{|N|} Π_{H∖i} h``
    (prefix and suffix products over ``H``, no division).
    """
    n_q = (m + 1) // 2
    n_hot, cold_product = 0, 1.0
    for i in range(m):  # branch-free compaction of the followed elements
        follows = one[i]
        hot[n_hot] = i
        n_hot += int(follows)
        cold_product *= follows + (1.0 - follows) * zero_fraction[first + i]
    n_cold = m - n_hot
    for h in range(n_hot):
        z = zero_fraction[first + hot[h]]
        for q in range(n_q):
            factors[h, q] = z + (1.0 - z) * nodes[q]
    for q in range(n_q):
        prefix[0, q] = 1.0
    for h in range(n_hot):
        for q in range(n_q):
            prefix[h + 1, q] = prefix[h, q] * factors[h, q]
    if n_cold > 0:
        integral = 0.0
        for q in range(n_q):
            integral += weights[q] * cold_powers[n_cold - 1, q] * prefix[n_hot, q]
        for i in range(m):
            phi[i] = -cold_product * integral
    suffix = prefix[n_hot + 1]  # a spare row holds the running suffix products
    for q in range(n_q):
        suffix[q] = 1.0
    for h in range(n_hot - 1, -1, -1):
        integral = 0.0
        for q in range(n_q):
            integral += weights[q] * cold_powers[n_cold, q] * prefix[h, q] * suffix[q]
            suffix[q] *= factors[h, q]
        i = hot[h]
        phi[i] = (1.0 - zero_fraction[first + i]) * cold_product * integral


@nb.njit(parallel=True, cache=True)
def shap_values(X, left, feature, threshold, default_left, category_set, left_categories,
                known_categories, element_start, element_feature, zero_fraction, split_start,
                split_node, split_left, value, quad_nodes, quad_weights, quad_cold, out):
    """Add every path's φ to ``out`` (rows, features, outputs), rows in parallel."""
    n_paths, n_outputs = value.shape
    max_m = quad_nodes.shape[0] - 1
    width = quad_nodes.shape[1]
    for r in nb.prange(X.shape[0]):
        decision = np.empty(len(left), np.bool_)
        _decide(X[r], left, feature, threshold, default_left, category_set, left_categories,
                known_categories, decision)
        one = np.empty(max_m + 1)
        phi = np.empty(max_m + 1)
        hot = np.empty(max_m + 1, np.int64)
        factors = np.empty((max_m + 1, width))
        prefix = np.empty((max_m + 2, width))
        for p in range(n_paths):
            first, m = element_start[p], element_start[p + 1] - element_start[p]
            if m == 0 or not _one_fractions(p, element_start, zero_fraction, split_start,
                                            split_node, split_left, decision, one):
                continue
            _path_phi(first, m, one, zero_fraction, quad_nodes[m], quad_weights[m],
                      quad_cold[m], hot, factors, prefix, phi)
            for i in range(m):
                f = element_feature[first + i]
                for k in range(n_outputs):
                    out[r, f, k] += phi[i] * value[p, k]


@nb.njit(parallel=True, cache=True)
def shap_interactions(X, left, feature, threshold, default_left, category_set, left_categories,
                      known_categories, element_start, element_feature, zero_fraction,
                      split_start, split_node, split_left, value, quad_nodes, quad_weights, quad_cold,
                      out):
    """Add every path's Φ to ``out`` (rows, features, features, outputs), rows in parallel."""
    n_paths, n_outputs = value.shape
    width = quad_nodes.shape[1]
    for r in nb.prange(X.shape[0]):
        decision = np.empty(len(left), np.bool_)
        _decide(X[r], left, feature, threshold, default_left, category_set, left_categories,
                known_categories, decision)
        one = np.empty(quad_nodes.shape[0])
        products = np.empty(width)
        factor = np.empty(width)
        for p in range(n_paths):
            first, m = element_start[p], element_start[p + 1] - element_start[p]
            if m == 0 or not _one_fractions(p, element_start, zero_fraction, split_start,
                                            split_node, split_left, decision, one):
                continue
            n_q = (m + 1) // 2
            nodes, weights = quad_nodes[m], quad_weights[m]
            _factor_products(first, m, one, zero_fraction, nodes, n_q, products)
            for i in range(m):
                zi = zero_fraction[first + i]
                fi = element_feature[first + i]
                for q in range(n_q):
                    factor[q] = products[q] / (zi + (one[i] - zi) * nodes[q])
                phi = 0.0
                for q in range(n_q):
                    phi += weights[q] * factor[q]
                phi *= one[i] - zi
                for j in range(m):
                    if j == i:
                        continue
                    zj = zero_fraction[first + j]
                    integral = 0.0
                    for q in range(n_q):
                        integral += weights[q] * factor[q] / (zj + (one[j] - zj) * nodes[q])
                    pair = 0.5 * (one[i] - zi) * (one[j] - zj) * integral
                    fj = element_feature[first + j]
                    for k in range(n_outputs):
                        out[r, fi, fj, k] += pair * value[p, k]
                    phi -= pair
                for k in range(n_outputs):
                    out[r, fi, fi, k] += phi * value[p, k]
