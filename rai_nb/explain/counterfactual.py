"""Counterfactual search kernels: DiCE's objective (Mothilal et al., FAT* 2020), batched.

A candidate is a row of the search space: numeric features as values, categorical features as
level codes. Arrays are ``(rows, candidates, features)``: every query row's candidates are
scored together, so one model call scores a whole generation. The model is reached through an
``evaluate(candidates) -> (valid, loss)`` callable given by the caller (it runs on the host, so
these kernels are NumPy only).

Distance (DiCE's proximity): the sum over numeric features of ``|change| / MAD`` plus the
number of changed categorical features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Loss added to every invalid candidate, so any valid one ranks before any invalid one.
INVALID = 1e6


@dataclass(frozen=True)
class SearchSpace:
    """Per feature: numeric bounds and MAD scale, or the allowed level codes; and mutability.

    ``codes`` is ``(features, max_allowed)``: the allowed codes of each categorical feature,
    padded by repetition; ``n_codes`` how many are allowed (1 for numeric features).
    """

    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray
    categorical: np.ndarray
    integer: np.ndarray
    mutable: np.ndarray
    codes: np.ndarray
    n_codes: np.ndarray


@dataclass(frozen=True)
class Weights:
    """DiCE's trade-off: ``proximity · distance + sparsity · changed − diversity · spread``."""

    proximity: float
    sparsity: float
    diversity: float


def mad_scales(values: np.ndarray) -> np.ndarray:
    """Median absolute deviation per column; where it is 0 (a column heaped on its median,
    e.g. capital gain), the mean absolute deviation from the median; 1 where that is 0 too."""
    deviation = np.abs(values - np.median(values, axis=0))
    scale = np.median(deviation, axis=0)
    scale = np.where(scale > 0, scale, deviation.mean(axis=0))
    return np.where(scale > 0, scale, 1.0)


def distance(a: np.ndarray, b: np.ndarray, space: SearchSpace) -> np.ndarray:
    """MAD-scaled L1 over numeric features plus the count of changed categorical ones."""
    cat = space.categorical
    numeric = (np.abs(a[..., ~cat] - b[..., ~cat]) / space.scale[~cat]).sum(axis=-1)
    return numeric + (a[..., cat] != b[..., cat]).sum(axis=-1)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many features differ."""
    return (a != b).sum(axis=-1)


def sample_values(rng, space: SearchSpace, centre: np.ndarray, shape: tuple) -> np.ndarray:
    """Fresh values of every feature: numeric half uniform over the range, half a step of
    random size (MAD/8 to 2 MAD) from ``centre``; categorical uniform over allowed levels."""
    uniform = space.lower + rng.random(shape) * (space.upper - space.lower)
    step = space.scale * rng.standard_normal(shape) * 2.0 ** rng.uniform(-3, 1, shape)
    numeric = np.where(rng.random(shape) < 0.5, np.clip(centre + step, space.lower, space.upper),
                       uniform)
    numeric = np.where(space.integer, np.round(numeric), numeric)
    pick = np.floor(rng.random(shape) * space.n_codes).astype(np.int64)
    codes = np.take_along_axis(space.codes, pick.reshape(-1, shape[-1]).T, axis=1).T
    return np.where(space.categorical, codes.reshape(shape), numeric)


def initial_population(rng, space: SearchSpace, origin: np.ndarray, size: int) -> np.ndarray:
    """``size`` candidates per row, each changing a few random mutable features (few more
    often than many: DiCE's random method draws how many to change)."""
    m, p = origin.shape
    shape = (m, size, p)
    keys = np.where(space.mutable, rng.random(shape), np.inf)
    rank = np.argsort(np.argsort(keys, axis=-1), axis=-1)
    n_mutable = int(space.mutable.sum())
    count = 1 + np.floor(n_mutable * rng.random((m, size, 1)) ** 2)
    fresh = sample_values(rng, space, origin[:, None, :], shape)
    return np.where(rank < count, fresh, origin[:, None, :])


def axis_candidates(origin: np.ndarray, space: SearchSpace, evaluate) -> np.ndarray:
    """Single-feature candidates of each row: every mutable numeric feature moved towards
    each of its bounds only as far as the decision boundary (to 1/512 of the way), every mutable
    categorical feature at each allowed level."""
    numeric = np.flatnonzero(space.mutable & ~space.categorical)
    ends = _single(origin, np.concatenate([numeric, numeric]),
                   np.concatenate([space.lower[numeric], space.upper[numeric]]))
    ends = shrink_changes(ends, origin, space, evaluate, rounds=3)
    categorical = np.flatnonzero(space.mutable & space.categorical)
    features = np.repeat(categorical, space.n_codes[categorical])
    codes = space.codes[features, _ranks(space.n_codes[categorical])]
    return np.concatenate([ends, _single(origin, features, codes)], axis=1)


def _single(origin, features, values) -> np.ndarray:
    axis = np.repeat(origin[:, None, :], len(values), axis=1)
    axis[:, np.arange(len(values)), features] = values
    return axis


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0 … c − 1 for each count c, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def breed(rng, space: SearchSpace, elite: np.ndarray, origin: np.ndarray, size: int) -> np.ndarray:
    """Children of random elite pairs: uniform crossover, then each mutable feature resampled
    (half the time a step from the child's value) or reset to the origin, each with
    probability 1 / (2 · mutable features), at most 1/4."""
    m, n_elite, p = elite.shape
    rows = np.arange(m)[:, None]
    first = elite[rows, rng.integers(n_elite, size=(m, size))]
    second = elite[rows, rng.integers(n_elite, size=(m, size))]
    child = np.where(rng.random((m, size, p)) < 0.5, first, second)
    rate = 0.5 / max(int(space.mutable.sum()), 2)
    draw = rng.random((m, size, p))
    fresh = sample_values(rng, space, child, (m, size, p))
    child = np.where(draw < rate, fresh, np.where(draw < 2 * rate, origin[:, None, :], child))
    return np.where(space.mutable, child, origin[:, None, :])


def objective(candidates, origin, valid, loss, space: SearchSpace, weights: Weights):
    """DiCE's loss without diversity; invalid candidates rank after all valid ones."""
    here = origin[:, None, :]
    cost = (weights.proximity * distance(candidates, here, space)
            + weights.sparsity * changed(candidates, here))
    return np.where(valid, cost, INVALID + loss)


def genetic_search(origin, space: SearchSpace, evaluate, *, k: int, population: int,
                   generations: int, weights: Weights, rng, tol: float = 0.001,
                   patience: int = 2):
    """Every candidate a genetic search scores, and whether each is valid.

    The first generation holds each row's single-feature candidates (:func:`axis_candidates`)
    and random ones; one ``evaluate`` call per
    generation scores all rows' children; the best quarter of each row's population survives.
    Stops early once every row has ``k`` valid candidates and the mean loss of the rows' ``k``
    best has improved by less than ``tol`` (relative) for ``patience`` generations.

    Returns
    -------
    candidates : ndarray (rows, evaluated, features)
    valid : ndarray of bool (rows, evaluated)
    generations : int
        Generations run.
    """
    seeds = axis_candidates(origin, space, evaluate)
    pool = np.concatenate([seeds, initial_population(rng, space, origin, population)], axis=1)
    n_elite = max(population // 4, 2)
    found, flags, losses = [], [], []
    previous, stalled = np.inf, 0
    for _ in range(generations):
        valid, loss = evaluate(pool)
        found.append(pool)
        flags.append(valid)
        losses.append(objective(pool, origin, valid, loss, space, weights))
        every = np.concatenate(losses, axis=1)
        best = np.sort(every, axis=1)[:, :k]
        score = float(best.mean())
        stalled = stalled + 1 if score >= previous * (1 - tol) else 0
        if (best < INVALID).all() and stalled >= patience:
            break
        previous = min(previous, score)
        order = np.argsort(every, axis=1)[:, :n_elite]
        elite = np.take_along_axis(np.concatenate(found, axis=1), order[..., None], axis=1)
        pool = breed(rng, space, elite, origin, population)
    return np.concatenate(found, axis=1), np.concatenate(flags, axis=1), len(found)


def select_diverse(candidates, valid, origin, space: SearchSpace, weights: Weights, k: int):
    """``k`` valid candidates per row, greedily: each next one minimises DiCE's loss minus
    ``diversity`` × its mean dissimilarity ``1 − 1/(1 + d)`` to those already chosen (the
    kernel of DiCE's determinantal point process). Exact duplicates are never chosen twice.

    Returns indices ``(rows, k)``, −1 where a row has fewer distinct valid candidates.
    """
    here = origin[:, None, :]
    cost = (weights.proximity * distance(candidates, here, space)
            + weights.sparsity * changed(candidates, here))
    m, n, _ = candidates.shape
    rows = np.arange(m)
    spread, nearest = np.zeros((m, n)), np.full((m, n), np.inf)
    chosen = np.full((m, k), -1, dtype=np.int64)
    for step in range(k):
        gain = -cost + weights.diversity * spread / max(step, 1)
        gain = np.where(valid & (nearest > 0), gain, -np.inf)
        pick = np.argmax(gain, axis=1)
        ok = np.isfinite(gain[rows, pick])
        chosen[:, step] = np.where(ok, pick, -1)
        gap = distance(candidates, candidates[rows, pick][:, None, :], space)
        gap = np.where(ok[:, None], gap, np.inf)
        spread += np.where(ok[:, None], 1 - 1 / (1 + gap), 0)
        nearest = np.minimum(nearest, gap)
    return chosen


def revert_features(candidates, origin, space: SearchSpace, evaluate) -> np.ndarray:
    """DiCE's post-hoc sparsity, batched: each round one ``evaluate`` call tries every
    candidate with each of its changed features reset to the origin (while another change
    remains), and the valid reset of the smallest scaled change is kept; rounds go on while
    some reset stays valid."""
    m, c, p = candidates.shape
    here = np.broadcast_to(origin[:, None, :], candidates.shape)
    scaled = np.where(space.categorical, 0.0, np.abs(candidates - here) / space.scale)
    diagonal = np.arange(p)
    current = candidates.copy()
    for _ in range(p - 1):
        differs = current != here
        tried = differs & (differs.sum(axis=-1, keepdims=True) > 1)
        if not tried.any():
            break
        trial = np.repeat(current[:, :, None, :], p, axis=2)
        trial[:, :, diagonal, diagonal] = here
        valid = evaluate(trial.reshape(m, c * p, p), tried.reshape(m, c * p))[0]
        valid = valid.reshape(m, c, p)
        if not valid.any():
            break
        best = np.argmin(np.where(valid, scaled, np.inf), axis=-1)
        reset = np.take_along_axis(trial, best[..., None, None], axis=2)[:, :, 0]
        current = np.where(valid.any(axis=-1)[..., None], reset, current)
    return current


def shrink_changes(candidates, origin, space: SearchSpace, evaluate, *, rounds: int = 6,
                   points: int = 7) -> np.ndarray:
    """Move each candidate's numeric changes back towards the origin by the same fraction,
    the smallest valid fraction found by multisection: each round one ``evaluate`` call tries
    ``points`` fractions evenly inside every candidate's bracket, so ``rounds`` rounds narrow
    it ``(points + 1) ** rounds`` times; a candidate that changes only integer features stops
    once its bracket spans under one unit of each. Integer features round away from the
    origin, changed values stay in range; the result is a point evaluated valid (or the
    candidate itself)."""
    m, c, p = candidates.shape
    low, high = np.zeros((m, c)), np.ones((m, c))
    steps = np.arange(1, points + 1) / (points + 1)
    here = origin[:, None, None, :]
    move = np.where(space.categorical, 0.0, np.abs(candidates - origin[:, None, :]))
    whole = ((move == 0) | space.integer).all(axis=-1)
    active = (move > 0).any(axis=-1)  # no numeric change: nothing to shrink, nothing to score
    for _ in range(rounds):
        active &= ~(whole & ((high - low)[..., None] * move < 1).all(axis=-1))
        if not active.any():
            break
        fraction = low[..., None] + (high - low)[..., None] * steps
        trial = _towards(here, candidates[:, :, None, :], fraction, space)
        valid, _ = evaluate(trial.reshape(m, c * points, p), np.repeat(active, points, axis=1))
        valid = valid.reshape(m, c, points)
        first = np.argmax(valid, axis=-1)
        hit = valid.any(axis=-1)
        below = np.take_along_axis(fraction, np.maximum(first - 1, 0)[..., None], -1)[..., 0]
        low = np.where(active, np.where(hit & (first > 0), below,
                                        np.where(hit, low, fraction[..., -1])), low)
        high = np.where(active & hit, np.take_along_axis(fraction, first[..., None], -1)[..., 0],
                        high)
    return _towards(origin[:, None, :], candidates, high, space)


def _towards(here, candidates, fraction, space: SearchSpace) -> np.ndarray:
    delta = (candidates - here) * fraction[..., None]
    whole = np.sign(delta) * np.ceil(np.abs(delta) - 1e-9)
    moved = here + np.where(space.integer, whole, delta)
    # a row outside a range: the changed value stays within it, on the way from the origin
    moved = np.where(moved == here, here, np.clip(moved, space.lower, space.upper))
    return np.where(space.categorical, candidates, moved)


def nearest_rows(origin, pool, allowed, space: SearchSpace, k: int, block: int = 1 << 24):
    """The ``k`` rows of ``pool`` nearest each origin among those ``allowed[i]`` permits.

    ``allowed`` is a callable ``(row_slice) -> bool (rows, pool)``. Distances come in blocks
    of origins so memory stays near ``block`` floats. Returns indices ``(rows, k)``, −1 where
    fewer rows are allowed.
    """
    m, p = origin.shape
    step = max(1, block // max(pool.shape[0] * p, 1))
    index = np.full((m, k), -1, dtype=np.int64)
    for start in range(0, m, step):
        part = slice(start, min(start + step, m))
        d = np.where(allowed(part), _distances(origin[part], pool, space), np.inf)
        top = np.argpartition(d, min(k, d.shape[1]) - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(np.take_along_axis(d, top, axis=1), axis=1,
                                                 kind="stable"), axis=1)
        got = np.take_along_axis(d, top, axis=1)
        index[part, :top.shape[1]] = np.where(np.isfinite(got), top, -1)
    return index


def _distances(origin: np.ndarray, pool: np.ndarray, space: SearchSpace) -> np.ndarray:
    """:func:`distance` of every origin to every pool row, ``(origins, pool)``, one feature at a
    time (no ``(origins, pool, features)`` temporary)."""
    total = np.zeros((len(origin), len(pool)))
    for j, categorical in enumerate(space.categorical):
        if categorical:
            total += origin[:, j, None] != pool[None, :, j]
        else:
            total += np.abs(origin[:, j, None] - pool[None, :, j]) / space.scale[j]
    return total
