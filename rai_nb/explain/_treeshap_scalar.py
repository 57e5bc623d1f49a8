"""Per-row, per-node and per-path scalar code of TreeSHAP, shared by both compiled targets.

These are plain Python functions over scalars and arrays (no allocation, no NumPy calls), so
numba compiles the same source for the CPU (:mod:`._treeshap_cpu`) and as CUDA device
functions (:mod:`._treeshap_cuda`). The formulas are described in :mod:`._treeshap_cpu`.
"""

from __future__ import annotations

import math


def goes_left(value, threshold, chosen, missing_left, left_categories, known_categories):
    """Does a row with ``value`` go left at a split: ``value <= threshold`` (NaN follows
    ``missing_left``), or at a categorical split (``chosen ≥ 0``) the category set, where a
    category unseen in training (or a value outside every category) counts as missing."""
    if chosen < 0:
        return (value <= threshold) | (math.isnan(value) & missing_left)
    if math.isnan(value) or value < 0.0 or value >= 32.0 * left_categories.shape[1]:
        return missing_left
    code = int(value)
    word, bit = code >> 5, code & 31
    if (left_categories[chosen, word] >> bit) & 1:
        return True
    if (known_categories[chosen, word] >> bit) & 1:
        return False
    return missing_left


def path_phi(first, m, one, zero_fraction, jacobi_nodes, jacobi_weights, hot, factors, prefix,
             phi):
    """φ per element of one path (before the leaf value), in O(m + h²) for h followed
    elements.

    With ``N`` the elements the row does not follow (``o = 0``, factor ``z (1 − t)``), ``H``
    the others (factor ``h_k = z_k + (1 − z_k) t``) and ``Z = Π_N z``, every ``i ∈ N`` gets the
    same ``−Z ∫ (1−t)^{|N|−1} Π_H h``, and ``i ∈ H`` gets ``(1 − z_i) Z ∫ (1−t)^{|N|} Π_{H∖i} h``:
    Gauss–Jacobi rules for the weight ``(1−t)^a`` integrate those with ⌈(h+1)/2⌉ and ⌈h/2⌉
    points; prefix and suffix products over ``H`` avoid any division.
    """
    n_hot, cold_product = 0, 1.0
    for i in range(m):  # branch-free compaction of the followed elements
        follows = one[i]
        hot[n_hot] = i
        n_hot += int(follows)
        cold_product *= follows + (1.0 - follows) * zero_fraction[first + i]
    n_cold = m - n_hot
    if n_cold > 0:
        n_q = (n_hot + 2) // 2
        integral = 0.0
        for q in range(n_q):
            t = jacobi_nodes[n_cold - 1, n_q, q]
            product = jacobi_weights[n_cold - 1, n_q, q]
            for h in range(n_hot):
                z = zero_fraction[first + hot[h]]
                product *= z + (1.0 - z) * t
            integral += product
        for i in range(m):
            phi[i] = -cold_product * integral
    if n_hot == 0:
        return
    n_q = (n_hot + 1) // 2
    for h in range(n_hot):
        z = zero_fraction[first + hot[h]]
        for q in range(n_q):
            factors[h, q] = z + (1.0 - z) * jacobi_nodes[n_cold, n_q, q]
    for q in range(n_q):
        prefix[0, q] = 1.0
    for h in range(n_hot - 1):
        for q in range(n_q):
            prefix[h + 1, q] = prefix[h, q] * factors[h, q]
    spare = n_hot  # a spare row of ``prefix`` holds the running (weighted) suffix products
    for q in range(n_q):
        prefix[spare, q] = jacobi_weights[n_cold, n_q, q]
    for h in range(n_hot - 1, -1, -1):
        integral = 0.0
        for q in range(n_q):
            integral += prefix[h, q] * prefix[spare, q]
            prefix[spare, q] *= factors[h, q]
        i = hot[h]
        phi[i] = (1.0 - zero_fraction[first + i]) * cold_product * integral


def row_one(first, m, r, split_start, split_node, split_left, decision, one):
    """The one fractions of one row on one path (paths too long for bit patterns)."""
    for i in range(m):
        e = first + i
        follows = True
        for s in range(split_start[e], split_start[e + 1]):
            follows &= decision[split_node[s], r] == split_left[s]
        one[i] = follows
