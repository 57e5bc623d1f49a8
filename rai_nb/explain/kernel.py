"""KernelSHAP (Lundberg & Lee, NeurIPS 2017) one (row, background row) pair at a time.

The value function of KernelSHAP with background rows ``b`` and weights ``w_b`` is the mean
``v(S) = Σ_b w_b f(x_S, b_{¬S})``. Shapley values are linear in the game, so
``φ(v) = Σ_b w_b φ(v_b)`` with ``v_b(S) = f(x_S, b_{¬S})``. In ``v_b`` every feature on which
``x`` and ``b`` hold the same value is a null player: switching it changes no input. ``v_b`` is
therefore a game of the ``d ≤ M`` features that differ only, worth ``f(x) − f(b)`` in total
(efficiency), and whose empty and full coalitions are the already known ``f(b)`` and ``f(x)``.
Tabular data repeat values a lot (zeros, the most common category), so ``d`` is usually well
below ``M`` and the ``2^d − 2`` inner coalitions of many pairs are few enough to enumerate:
those pairs are exact, each distinct masked row evaluated once. This is the deduplication of
identical masked rows taken to its end; shap's KernelExplainer only drops the features that
equal *every* background row.

The budget is shared by all pairs (:func:`budget_level`): what the small, enumerated pairs do
not need goes to the pairs with many differing features, which get KernelSHAP on their ``d``
features with three refinements:

* coalitions by size strata, the smallest and largest sizes enumerated as shap does, the rest
  drawn without replacement in proportion to the kernel's mass and always with their
  complement (paired/antithetic sampling, Covert & Lee, AISTATS 2021, "Improving KernelSHAP:
  Practical Shapley Value Estimation via Linear Regression");
* a fit with interactions of up to three features where the coalitions support it, whose exact
  Shapley values replace KernelSHAP's additive fit (:func:`shapley_map`, the regression
  adjustment of Witter et al., 2025, with KernelSHAP-IQ's regression, Fumagalli et al., 2024):
  only the part of the game beyond those interactions is left to sampling error;
* pairs with the same ``d`` share one coalition design in their own feature order, each pair's
  features shuffled independently so that the sampling errors of a row's pairs do not line up;
  one linear map from worths to values (a single weighted least-squares solve) serves them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, combinations
from math import comb

import numpy as np

from ..backend import bincount, namespace


def kernel_weight(n_features: int, size: np.ndarray) -> np.ndarray:
    """Shapley kernel ``(M−1) / (C(M, s) s (M−s))`` for coalition sizes ``0 < s < M``.

    Parameters
    ----------
    n_features : int
        The number of players ``M``.
    size : array of int
        Coalition sizes, each in ``1 .. M − 1``.

    Returns
    -------
    numpy.ndarray
        The kernel weight of one coalition of each size, shaped like ``size``.
    """
    size = np.asarray(size)
    combos = np.array([comb(n_features, int(s)) for s in size.ravel()], dtype=np.float64)
    return (n_features - 1) / (combos.reshape(size.shape) * size * (n_features - size))


def coalitions(n_features: int, n_samples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Coalition masks ``(C, M)`` (bool) and their regression weights ``(C,)``.

    Coalitions come in strata of sizes ``{s, M − s}`` holding the Shapley kernel's mass of those
    sizes. Going from the smallest size up, a stratum whose share of the budget covers all of its
    coalitions is enumerated (as shap's KernelExplainer does). The rest of the budget is split
    over the remaining strata in proportion to their mass (stratified sampling, largest
    remainders) and each stratum draws that many distinct coalitions uniformly without
    replacement, every one with its complement (paired, antithetic sampling: Covert & Lee,
    AISTATS 2021, "Improving KernelSHAP"). A coalition's weight is its stratum's mass over the
    stratum's count, so no budget is spent on repeats. With ``n_samples ≥ 2^M − 2`` every
    coalition is enumerated, giving exact Shapley values.

    Parameters
    ----------
    n_features : int
        The number of players ``M``.
    n_samples : int
        The most coalitions to return.
    rng : numpy.random.Generator
        Source of the sampled coalitions.

    Returns
    -------
    masks : numpy.ndarray of bool, shape (C, M)
        Distinct coalitions, none empty or full; ``C ≤ n_samples``.
    weights : numpy.ndarray of float, shape (C,)
        Their weights in the least-squares fit.
    """
    m = n_features
    if n_samples >= 2**m - 2:
        every = np.concatenate([_all_of_size(m, s) for s in range(1, m)]) if m > 1 else \
            np.zeros((0, m), bool)
        return every, kernel_weight(m, every.sum(axis=1))
    half = m // 2  # = ceil((M − 1) / 2): sizes 1..half with their complements cover all
    paired = (m - 1) // 2  # sizes whose complement is a different size
    mass = np.array([(m - 1) / (s * (m - s)) for s in range(1, half + 1)])
    mass[:paired] *= 2  # the stratum {s, M − s}
    mass /= mass.sum()
    masks, weights, left, remaining = [], [], n_samples, mass.copy()
    full = 0
    for s in range(1, half + 1):
        count = comb(m, s) * (2 if s <= paired else 1)
        if left * remaining[s - 1] / count < 1 - 1e-8:
            break
        full += 1
        left -= count
        if remaining[s - 1] < 1:
            remaining /= 1 - remaining[s - 1]
        share = mass[s - 1] / count
        for size in ({s, m - s} if s <= paired else {s}):
            block = _all_of_size(m, size)
            masks.append(block)
            weights.append(np.full(len(block), share))
    if full < half and left >= 2:
        sizes = np.arange(full + 1, half + 1)
        available = np.array([min(comb(m, int(s)) // (1 if s <= paired else 2), 2**40)
                              for s in sizes], dtype=np.int64)
        draws = _allocate(left // 2, mass[full:], available)
        for size, stratum, k, total in zip(sizes, mass[full:], draws, available):
            if k:
                drawn = _distinct_subsets(m, int(size), int(k), int(total), rng)
                masks.append(np.concatenate([drawn, ~drawn]))
                weights.append(np.full(2 * k, stratum / (2 * k)))
    if not masks:
        return np.zeros((0, m), bool), np.zeros(0)
    return np.concatenate(masks), np.concatenate(weights)


@lru_cache(maxsize=256)
def _all_of_size(m: int, size: int) -> np.ndarray:
    """Every ``size``-subset of ``m`` features as a read-only (C(m, size), m) bool matrix."""
    count = comb(m, size)
    chosen = np.fromiter(chain.from_iterable(combinations(range(m), size)), dtype=np.intp,
                         count=count * size).reshape(count, size)
    out = np.zeros((count, m), bool)
    np.put_along_axis(out, chosen, True, axis=1)
    out.flags.writeable = False
    return out


def _allocate(total: int, share: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Integers ``≤ cap`` summing to ``min(total, Σ cap)``, proportional to ``share`` where the
    caps allow (the excess of capped strata goes to the others), by largest remainders."""
    out = np.zeros(len(share), dtype=np.int64)
    free = np.ones(len(share), bool)
    total = min(total, int(cap.sum()))
    while total > out.sum() and free.any():
        want = share * free / (share * free).sum() * (total - out[~free].sum())
        over = free & (want >= cap)
        if over.any():
            out[over], free[over] = cap[over], False
            continue
        out[free] = np.floor(want[free])
        order = np.argsort(-(want - out) * free, kind="stable")
        out[order[: total - out.sum()]] += 1
        break
    return out


def _distinct_subsets(m: int, size: int, k: int, total: int, rng) -> np.ndarray:
    """``k`` distinct ``size``-subsets of ``m`` features, uniformly without replacement; for
    ``size = M / 2`` only those holding feature 0 (``total`` = how many there are), so that a
    subset and its complement are never both drawn."""
    canonical = 2 * size == m
    if total <= 20_000:  # few enough to list: choose among them
        every = _all_of_size(m, size)
        if canonical:
            every = every[every[:, 0]]
        return every[rng.choice(len(every), size=k, replace=False)]
    found = np.zeros((0, m), bool)
    while len(found) < k:
        draws = rng.random((2 * k, m)).argsort(axis=1) < size
        if canonical:
            draws = np.where(draws[:, :1], draws, ~draws)
        found = np.unique(np.concatenate([found, draws]), axis=0)
    return found[rng.choice(len(found), size=k, replace=False)]


@dataclass(frozen=True)
class PairGroup:
    """(row, background row) pairs that differ in the same number ``d`` of features.

    Attributes
    ----------
    rows, background : numpy.ndarray of int, shape (P,)
        Each pair's explained row and background row.
    inverse : numpy.ndarray of int, shape (P, M)
        For feature ``j`` of pair ``p``, its place in the pair's own order of differing
        features, or ``d`` where ``x`` and ``b`` agree on ``j``.
    masks : numpy.ndarray of bool, shape (C, d)
        Inner coalitions in each pair's own feature order, shared by the group.
    weights : numpy.ndarray of float, shape (C,)
        Their least-squares weights.
    exact : bool
        True when ``masks`` are every inner coalition, so the values are exact.
    order : int
        Interaction order of the fit (:func:`shapley_map`), 1 when exact.
    solver : tuple
        The group's :func:`shapley_map`.
    """

    rows: np.ndarray
    background: np.ndarray
    inverse: np.ndarray
    masks: np.ndarray
    weights: np.ndarray
    exact: bool
    order: int
    solver: tuple


def pair_groups(differ: np.ndarray, n_samples: int, rng) -> list[PairGroup]:
    """Plan the model calls: pairs grouped by their count of differing features.

    Parameters
    ----------
    differ : numpy.ndarray of bool, shape (R, B, M)
        Whether explained row ``r`` and background row ``b`` hold different values of feature
        ``j`` (two missing values count as equal).
    n_samples : int
        Coalitions (model calls) per pair on average: pairs whose ``2^d − 2`` inner coalitions
        fit under the level of :func:`budget_level` are enumerated (exact), the others get
        that level, and never fewer than ``2 d`` (each complementary pair of coalitions pins
        one direction of the ``d − 1`` free values).
    rng : numpy.random.Generator
        Source of sampled coalitions and of each sampled pair's feature order.

    Returns
    -------
    list of PairGroup
        One per ``d ≥ 2`` that occurs, smallest ``d`` first. Pairs with ``d ≤ 1`` need no model
        call (their value is ``f(x) − f(b)`` on the one differing feature, or nothing).
    """
    m = differ.shape[-1]
    count = differ.sum(axis=-1)
    level = budget_level(count[count >= 2], n_samples)
    groups = []
    for d in range(2, m + 1):
        rows, background = np.nonzero(count == d)
        if not len(rows):
            continue
        own = differ[rows, background]  # (P, M)
        positions = np.argsort(~own, axis=1, kind="stable")[:, :d]  # the differing features
        budget = max(int(level), 2 * d)
        exact = budget >= 2**d - 2
        if not exact:
            positions = rng.permuted(positions, axis=1)
        inverse = np.full((len(rows), m), d, dtype=np.intp)
        np.put_along_axis(inverse, positions, np.arange(d)[None, :], axis=1)
        masks, weights = coalitions(d, budget, rng)
        order = 1 if exact else fit_order(d, len(masks))
        groups.append(PairGroup(rows, background, inverse, masks, weights, exact, order,
                                shapley_map(masks, weights, order=order, xp=np)))
    return groups



#: A pair gets at most this many times the mean budget.
SHARE_LIMIT = 16


def budget_level(features: np.ndarray, n_samples: int) -> float:
    """The per-pair coalition count ``λ`` that spends ``n_samples`` per pair on average.

    A pair with ``d`` differing features needs at most ``2^d − 2`` coalitions; the ones that
    fit under ``λ`` are exact and what they leave unspent goes to the others, so that
    ``Σ min(2^d − 2, λ) = n_samples × pairs`` (water filling), with ``λ`` at most
    ``SHARE_LIMIT × n_samples``. Sampling error comes from the pairs with many differing
    features, so they get the budget the small ones do not need.

    Parameters
    ----------
    features : numpy.ndarray of int
        Each pair's count ``d ≥ 2`` of differing features.
    n_samples : int
        The mean budget per pair.

    Returns
    -------
    float
        ``n_samples ≤ λ ≤ SHARE_LIMIT × n_samples``; the largest cap when every pair fits
        under that limit.
    """
    if not len(features):
        return float(n_samples)
    caps = np.sort(np.exp2(features.astype(np.float64)) - 2)
    total = float(n_samples) * len(caps)
    before = np.concatenate([[0.0], np.cumsum(caps)[:-1]])  # Σ of the caps below each one
    level = (total - before) / (len(caps) - np.arange(len(caps)))
    above = np.nonzero(caps >= level)[0]
    level = float(caps[-1]) if not len(above) else float(max(level[above[0]], n_samples))
    return min(level, SHARE_LIMIT * n_samples)


#: Sampled designs fit interactions up to this order ...
MAX_ORDER = 3
#: ... when they hold at least this many coalitions per fitted term.
PER_TERM = 1.2


#: ... and hold at most this many terms (the fit costs coalitions × terms²).
MAX_TERMS = 500


def fit_order(n_features: int, n_coalitions: int) -> int:
    """The highest interaction order (≤ ``MAX_ORDER``) with ``PER_TERM`` coalitions per term
    and at most ``MAX_TERMS`` terms."""
    order = 1
    while order < min(MAX_ORDER, n_features - 1):
        terms = sum(comb(n_features, k) for k in range(1, order + 2))
        if terms > MAX_TERMS or n_coalitions < PER_TERM * terms:
            break
        order += 1
    return order


def spread_masks(masks, inverse, *, xp=None):
    """Each pair's inner coalitions as masks over all ``M`` features.

    Parameters
    ----------
    masks : array of bool, shape (C, d)
        Inner coalitions in the pairs' own feature order.
    inverse : array of int, shape (P, M)
        As in :class:`PairGroup`; ``d`` marks features outside every coalition.

    Returns
    -------
    array of bool, shape (P, C, M)
    """
    xp = namespace(masks, xp=xp)
    n, m = inverse.shape
    padded = xp.concat([masks, xp.zeros((masks.shape[0], 1), dtype=xp.bool)], axis=1)
    taken = xp.take(padded, xp.reshape(inverse, (-1,)), axis=1)  # (C, P·M)
    return xp.permute_dims(xp.reshape(taken, (masks.shape[0], n, m)), (1, 0, 2))


def add_pair_values(total, local, rows, inverse, pair_weight, *, xp=None):
    """``total[r] += w · φ_pair`` for every pair, φ given in the pair's own feature order.

    Parameters
    ----------
    total : array of float, shape (R, M, K)
        Values being summed over background rows.
    local : array of float, shape (P, d, K)
        Each pair's Shapley values of its ``d`` differing features.
    rows : array of int, shape (P,)
        Each pair's explained row.
    inverse : array of int, shape (P, M)
        As in :class:`PairGroup`.
    pair_weight : array of float, shape (P,)
        Each pair's background-row weight.

    Returns
    -------
    array of float, shape (R, M, K)
        ``total`` with the pairs added (a new array).
    """
    xp = namespace(local, xp=xp)
    r, m, k = total.shape
    n, d = local.shape[0], local.shape[1]
    padded = xp.concat([local, xp.zeros((n, 1, k), dtype=local.dtype)], axis=1)  # (P, d+1, K)
    flat_inverse = xp.reshape(inverse + (d + 1) * xp.arange(n)[:, None], (-1,))
    spread = xp.take(xp.reshape(padded, (n * (d + 1), k)), flat_inverse, axis=0)  # (P·M, K)
    spread = xp.reshape(spread, (n, m, k)) * pair_weight[:, None, None]
    where = xp.reshape(rows[:, None] * m + xp.arange(m)[None, :], (-1,))
    sums = [bincount(where, minlength=r * m, weights=xp.reshape(spread[:, :, i], (-1,)), xp=xp)
            for i in range(k)]
    return total + xp.reshape(xp.stack(sums, axis=1), (r, m, k))


def interaction_terms(n_features: int, order: int) -> np.ndarray:
    """Every set of at most ``order`` features, as a (terms, M) bool matrix, singles first."""
    sizes = range(1, min(order, n_features) + 1)
    return np.concatenate([_all_of_size(n_features, size) for size in sizes])


def solve_shapley(masks, weights, values, full, base, *, order: int = 1, xp=None):
    """Weighted least squares with the efficiency constraint, for every row at once.

    Parameters
    ----------
    masks : array of bool, shape (C, M)
        Coalitions shared by every row, none empty or full.
    weights : array of float, shape (C,)
        Their least-squares weights.
    values : array of float, shape (rows, C, outputs)
        The game's worth of each coalition, per row.
    full : array of float, shape (rows, outputs)
        The worth of the full coalition (the model at ``x``).
    base : array of float, shape (outputs,) or (rows, outputs)
        The worth of the empty coalition (the background mean, or one background row's output).
    order : int
        Interaction order of the fitted game, see :func:`shapley_map`.

    Returns
    -------
    array of float, shape (rows, M, outputs)
        φ with ``Σ_j φ_j = full − base`` exactly.
    """
    xp = namespace(values, xp=xp)
    return apply_shapley_map(shapley_map(masks, weights, order=order, xp=xp), values, full, base,
                             xp=xp)


def shapley_map(masks, weights, *, order: int = 1, xp=None) -> tuple:
    """The linear map from a game's sampled worths to its estimated Shapley values.

    KernelSHAP's estimate is a constrained weighted least-squares fit, linear in the worths,
    so one map, computed once per coalition design, serves every row and background row.

    Parameters
    ----------
    masks : array of bool, shape (C, M)
        Coalitions, none empty or full.
    weights : array of float, shape (C,)
        Their least-squares weights.
    order : int
        1 fits KernelSHAP's additive game. Higher orders fit a game with interactions of up to
        ``order`` features, ``v(S) ≈ v(∅) + Σ_{T ⊆ S, |T| ≤ order} θ_T``, and give that
        surrogate's Shapley values ``φ_i = Σ_{T ∋ i} θ_T / |T|``, which hold over every
        coalition, not just the sampled ones: only the part of the game beyond ``order``
        features is left to sampling error. This is the regression adjustment of Witter et al.
        (2025, "Regression-adjusted Monte Carlo estimators for Shapley values and probabilistic
        values") with the interaction regression of KernelSHAP-IQ (Fumagalli et al., 2024).
        With every coalition it is still exact: the residual is kernel-orthogonal to every
        additive game, so its Shapley values are 0. Needs more coalitions than terms.

    Returns
    -------
    tuple of arrays
        ``(A (M, C), a (M,), g (M,))`` for :func:`apply_shapley_map`.
    """
    xp = namespace(weights, xp=xp)
    dtype = weights.dtype
    m = masks.shape[1]
    terms = interaction_terms(m, order)  # (p, M); every term is in the full coalition
    size = terms.sum(axis=1)
    design = xp.astype(masks, dtype)
    if len(terms) > m:  # z_T(S) = 1 when T ⊆ S, i.e. |S ∩ T| = |T|
        hits = design @ xp.asarray(terms.T, dtype=dtype)
        design = xp.astype(hits == xp.asarray(size, dtype=dtype)[None, :], dtype)
    last = design[:, -1]  # eliminated by the constraint: θ_p = Δ − Σ_{k<p} θ_k
    reduced = design[:, :-1] - last[:, None]  # (C, p−1)
    weighted_t = xp.permute_dims(reduced * weights[:, None], (1, 0))  # (p−1, C)
    gram = weighted_t @ reduced  # (p−1, p−1)
    # φ = share θ with θ = (θ', Δ − Σθ'): φ = S θ' + share_p Δ, S = share' − share_p 1ᵀ
    share = xp.asarray((terms / size[:, None]).T, dtype=dtype)  # (M, p): θ_T / |T|
    folded = share[:, :-1] - share[:, -1:]  # (M, p−1)
    # The pseudo-inverse by the symmetric eigendecomposition: the solve when the design has
    # full rank, the least-norm fit when it has not (then some interactions stay at 0).
    eigenvalues, vectors = xp.linalg.eigh(gram)
    keep = eigenvalues > xp.max(eigenvalues) * gram.shape[0] * float(np.finfo(np.float64).eps)
    inverse = xp.where(keep, 1 / xp.where(keep, eigenvalues, 1), 0)
    left = vectors @ ((xp.permute_dims(vectors, (1, 0)) @ xp.permute_dims(folded, (1, 0)))
                      * inverse[:, None])  # gram⁺ Sᵀ, (p−1, M)
    fit = xp.permute_dims(left, (1, 0)) @ weighted_t  # (M, C)
    at_empty = xp.sum(fit, axis=1)  # the fit of a constant worth 1
    at_delta = share[:, -1] - xp.sum(fit * last[None, :], axis=1)
    return fit, at_empty, at_delta


def apply_shapley_map(solver: tuple, values, full, base, *, xp=None):
    """Shapley values ``(rows, M, outputs)`` from worths ``(rows, C, outputs)`` by a
    :func:`shapley_map`; ``full`` and ``base`` as in :func:`solve_shapley`.

    ``φ = A v − a ⊗ v(∅) + g ⊗ (v(N) − v(∅))``, where ``A``'s columns and ``a`` sum to 0 and
    ``g`` to 1 over the features, so ``Σ φ = v(N) − v(∅)`` to rounding.
    """
    xp = namespace(values, xp=xp)
    fit, at_empty, at_delta = solver
    base = base if base.ndim == 2 else base[None, :]
    delta = full - base  # (R, K)
    r, c, k = values.shape
    stacked = xp.reshape(xp.permute_dims(values, (1, 0, 2)), (c, r * k))  # one product for all
    fitted = xp.permute_dims(xp.reshape(fit @ stacked, (fit.shape[0], r, k)), (1, 0, 2))
    return (fitted - at_empty[None, :, None] * base[:, None, :]
            + at_delta[None, :, None] * delta[:, None, :])
