"""KernelSHAP (Lundberg & Lee, NeurIPS 2017) with shared coalitions and one batched solve.

Coalitions are chosen as shap's KernelExplainer does: whole subset sizes are enumerated from
both ends (size s together with size M−s) while the sample budget covers them, the rest is
drawn by Shapley-kernel weight in complementary pairs. All explained rows share the coalitions,
so the weighted least-squares system with the efficiency constraint ``Σφ = f(x) − E f`` has one
matrix and a right-hand side per row: one solve for every row at once.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from ..backend import namespace


def kernel_weight(n_features: int, size: np.ndarray) -> np.ndarray:
    """Shapley kernel ``(M−1) / (C(M, s) s (M−s))`` for coalition sizes ``0 < s < M``."""
    size = np.asarray(size)
    combos = np.array([comb(n_features, int(s)) for s in size.ravel()], dtype=np.float64)
    return (n_features - 1) / (combos.reshape(size.shape) * size * (n_features - size))


def coalitions(n_features: int, n_samples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Coalition masks ``(C, M)`` (bool) and their regression weights ``(C,)``.

    Sizes ``s`` and ``M − s`` share the kernel weight of ``s``; going from the smallest size up,
    a size pair whose share of the budget covers all of its coalitions is enumerated, and the
    remaining budget is drawn at random in complementary pairs, duplicates adding weight. With
    ``n_samples ≥ 2^M − 2`` every coalition is enumerated, giving exact Shapley values of the
    background-mean value function.
    """
    m = n_features
    if n_samples >= 2**m - 2:
        every = np.concatenate([_all_of_size(m, s) for s in range(1, m)]) if m > 1 else \
            np.zeros((0, m), bool)
        return every, kernel_weight(m, every.sum(axis=1))
    half = m // 2  # = ceil((M − 1) / 2): sizes 1..half with their complements cover all
    paired = (m - 1) // 2  # sizes whose complement is a different size
    size_weight = np.array([(m - 1) / (s * (m - s)) for s in range(1, half + 1)])
    size_weight[:paired] *= 2
    size_weight /= size_weight.sum()
    masks, weights, left, remaining = [], [], n_samples, size_weight.copy()
    full = 0
    for s in range(1, half + 1):
        count = comb(m, s) * (2 if s <= paired else 1)
        if left * remaining[s - 1] / count < 1 - 1e-8:
            break
        full += 1
        left -= count
        if remaining[s - 1] < 1:
            remaining /= 1 - remaining[s - 1]
        share = size_weight[s - 1] / count
        for size in ({s, m - s} if s <= paired else {s}):
            block = _all_of_size(m, size)
            masks.append(block)
            weights.append(np.full(len(block), share))
    if full < half and left > 0:
        drawn, counts = _sample_pairs(m, size_weight, full, paired, left, rng)
        masks.append(drawn)
        weights.append(counts * size_weight[full:].sum() / counts.sum())
    if not masks:
        return np.zeros((0, m), bool), np.zeros(0)
    return np.concatenate(masks), np.concatenate(weights)


def _all_of_size(m: int, size: int) -> np.ndarray:
    out = np.zeros((comb(m, size), m), bool)
    for row, chosen in enumerate(combinations(range(m), size)):
        out[row, list(chosen)] = True
    return out


def _sample_pairs(m, size_weight, full, paired, budget, rng):
    """Random coalitions of the sizes not enumerated, with complements; duplicates merge."""
    probabilities = size_weight[full:].copy()
    probabilities[: max(paired - full, 0)] /= 2  # each such draw also adds its complement
    probabilities /= probabilities.sum()
    sizes = full + 1 + rng.choice(len(probabilities), size=budget, p=probabilities)
    masks = rng.random((budget, m)).argsort(axis=1) < sizes[:, None]
    pairs = np.concatenate([masks, ~masks[sizes <= paired]])[:budget]
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    return unique, counts.astype(np.float64)


def solve_shapley(masks, weights, values, full, base, *, xp=None):
    """Weighted least squares with the efficiency constraint, for every row at once.

    ``values`` (rows, C, outputs) are mean model outputs per coalition, ``full`` (rows,
    outputs) the outputs at ``x``, ``base`` (outputs,) the background mean. Returns φ
    ``(rows, M, outputs)``.
    """
    xp = namespace(values, xp=xp)
    masks = xp.astype(masks, values.dtype)
    delta = full - base  # (R, K)
    last = masks[:, -1:]  # eliminate φ_M = Δ − Σ_{i<M} φ_i
    design = masks[:, :-1] - last  # (C, M−1)
    target = values - base - last[None, :, :] * delta[:, None, :]  # (R, C, K)
    weighted_t = xp.permute_dims(design * weights[:, None], (1, 0))  # (M−1, C)
    gram = weighted_t @ design  # (M−1, M−1), shared by every row
    rhs = xp.matmul(weighted_t[None, ...], target)  # (R, M−1, K)
    solution = xp.linalg.solve(xp.broadcast_to(gram[None, ...], (rhs.shape[0], *gram.shape)), rhs)
    rest = delta[:, None, :] - xp.sum(solution, axis=1, keepdims=True)
    return xp.concat([solution, rest], axis=1)
