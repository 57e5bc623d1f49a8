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

from dataclasses import dataclass, fields

import numpy as np

#: Loss added to every invalid candidate, so any valid one ranks before any invalid one.
INVALID = 1e6

#: Steps of a single-feature ray below its bound: 1/8, 1/4, … 2 ** (RAY_STEPS − 4) MAD scales.
RAY_STEPS = 10


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


def axis_candidates(origin: np.ndarray, space: SearchSpace, points: int = RAY_STEPS):
    """Single-feature candidates of each row: every mutable numeric feature moved towards each
    of its bounds by 1/8, 1/4, … 2 ** (points − 4) times its MAD scale, and to the bound (each
    within the range; integer features rounded away from the row), every mutable categorical
    feature at each allowed level.

    Returns the candidates ``(rows, a, features)`` and the fraction of the way to its bound of
    each numeric one, ``(rows, rays, points + 1)``, ascending within each of the ``rays`` (they
    come first; the levels follow).
    """
    numeric = np.flatnonzero(space.mutable & ~space.categorical)
    feature = np.concatenate([numeric, numeric])
    bounds = _single(origin, feature, np.concatenate([space.lower[numeric],
                                                      space.upper[numeric]]))
    reach = np.abs(bounds[:, np.arange(len(feature)), feature] - origin[:, feature])
    step = space.scale[feature, None] * 2.0 ** np.arange(-3, points - 3)
    fraction = np.ones((*reach.shape, points + 1))
    np.divide(step, reach[..., None], out=fraction[..., :-1], where=reach[..., None] > 0)
    fraction = np.minimum(fraction, 1.0)
    rays = _towards(origin[:, None, None, :], bounds[:, :, None, :], fraction, space)
    m, n_rays, n_points, p = rays.shape
    categorical = np.flatnonzero(space.mutable & space.categorical)
    features = np.repeat(categorical, space.n_codes[categorical])
    codes = space.codes[features, _ranks(space.n_codes[categorical])]
    levels = _single(origin, features, codes)
    return np.concatenate([rays.reshape(m, n_rays * n_points, p), levels], axis=1), fraction


def first_batch(space: SearchSpace, population: int, points: int = RAY_STEPS) -> int:
    """Candidates per row of a search's first call: :func:`axis_candidates` and the
    population."""
    numeric = int((space.mutable & ~space.categorical).sum())
    return 2 * numeric * (points + 1) + int(space.n_codes[space.mutable & space.categorical].sum()) \
        + population


def _ray_floors(valid: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """For points along rays from the row (``valid`` ``(rows, rays, points)``, ``fraction``
    ascending), the largest fraction below each point known invalid, as a fraction of the
    point's own: the floor of its shrink bracket (0 where none is known)."""
    known = np.where(valid, 0.0, fraction)
    below = np.maximum.accumulate(known, axis=-1)
    below = np.concatenate([np.zeros_like(below[..., :1]), below[..., :-1]], axis=-1)
    return below / fraction


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


@dataclass
class Archive:
    """The candidates a search keeps, ``(rows, n, features)``, and what is known of each:
    ``valid``; ``loss`` (:func:`objective`); ``floor``, the fraction of its numeric change
    known to be invalid (the low end of its shrink bracket, 0 when none is known); ``tried``,
    every reset of one changed feature scored (or none to try); ``settled``, nothing left to
    refine; and ``ray``, a single-feature candidate of :func:`axis_candidates` or shrunk from
    one, refined whether shortlisted or not (pulled back to the boundary, these are often the
    closest and sparsest counterfactuals)."""

    candidates: np.ndarray
    valid: np.ndarray
    loss: np.ndarray
    floor: np.ndarray
    tried: np.ndarray
    settled: np.ndarray
    ray: np.ndarray

    def extend(self, other: Archive) -> Archive:
        return Archive(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)], axis=1)
                         for f in fields(Archive)))


def genetic_search(origin, space: SearchSpace, evaluate, *, k: int, population: int,
                   generations: int, weights: Weights, rng, shortlist: int | None = None,
                   points: int = 7, refine_rounds: int = 2, tol: float = 0.001,
                   patience: int = 2):
    """A genetic search that refines its best candidates as it goes, one ``evaluate`` call a
    round.

    The first call scores each row's single-feature candidates (:func:`axis_candidates`) and a
    random population. Every later call scores, together: the children of the best quarter of
    each row's candidates (:func:`breed`), and the neighbours of the candidates to refine (each
    row's ``shortlist`` diverse best by :func:`select_diverse`, default ``k``, and its
    single-feature ones on the boundary's side of a ray) not yet settled: each changed feature
    reset to the row (DiCE's post-hoc sparsity; the valid reset of least loss is kept) and
    the numeric changes moved back by ``points`` fractions spread evenly over the shrink
    bracket (a multisection; the smallest valid fraction is kept). Breeding stops after
    ``generations`` generations, or once every row has ``k`` valid candidates and the mean
    loss of their ``k`` best has improved by less than ``tol`` (relative) for ``patience``
    generations; the search stops once breeding has and nothing is left to refine, or at most
    ``refine_rounds`` rounds later.

    Returns
    -------
    archive : Archive
        Every candidate kept: those bred and the refined ones.
    generations : int
        Generations bred.
    """
    shortlist = k if shortlist is None else shortlist
    archive = _first_round(origin, space, evaluate, rng, population, weights)
    n_elite = max(population // 4, 2)
    previous, stalled, bred, rounds = np.inf, 0, 1, 0
    while rounds < refine_rounds:
        best = np.sort(archive.loss, axis=1)[:, :k]
        score = float(best.mean())
        stalled = stalled + 1 if score >= previous * (1 - tol) else 0
        previous = min(previous, score)
        breeding = bred < generations and not ((best < INVALID).all() and stalled >= patience)
        refine = _to_refine(archive, origin, space, weights, shortlist)
        children = np.empty((len(origin), 0, origin.shape[1]))
        if breeding:
            order = np.argsort(archive.loss, axis=1)[:, :n_elite]
            elite = np.take_along_axis(archive.candidates, order[..., None], axis=1)
            children, bred = breed(rng, space, elite, origin, population), bred + 1
        elif (refine < 0).all():
            break
        else:
            rounds += 1
        archive = _round(archive, refine, children, origin, space, evaluate, weights, points)
    return archive, bred


def _to_refine(archive: Archive, origin, space, weights, shortlist: int) -> np.ndarray:
    """Positions of the entries to refine, ``(rows, s)`` (−1: none): the unsettled ones of the
    diverse shortlist and the unsettled rays' ones."""
    short = select_diverse(archive.candidates, archive.valid, origin, space, weights, shortlist)
    short = np.where(np.take_along_axis(archive.settled, np.maximum(short, 0), axis=1), -1,
                     short)
    rays = archive.ray & archive.valid & ~archive.settled
    rays[np.nonzero(short >= 0)[0], short[short >= 0]] = False
    return np.concatenate([short, _packed(rays)], axis=1)


def _first_round(origin, space, evaluate, rng, population, weights) -> Archive:
    """The first call: single-feature candidates and a random population, as an archive (a
    ray's points with their shrink floors; of each ray only its valid point nearest the row
    left to refine)."""
    axis, fraction = axis_candidates(origin, space)
    batch = np.concatenate([axis, initial_population(rng, space, origin, population)], axis=1)
    m, n, p = batch.shape
    shape, rays = fraction.shape, fraction[0].size
    # a point of a ray that rounds to the same values as the one below is scored once
    on_ray = batch[:, :rays].reshape(*shape, p)
    same = np.zeros((m, n), dtype=bool)
    same[:, :rays] = np.concatenate([np.zeros((*shape[:2], 1), dtype=bool),
                                     (on_ray[:, :, 1:] == on_ray[:, :, :-1]).all(axis=-1)],
                                    axis=2).reshape(m, rays)
    same |= (batch == origin[:, None, :]).all(axis=-1)
    valid, loss = evaluate(batch, ~same)
    first = np.maximum.accumulate(np.where(same[:, :rays].reshape(shape), 0,
                                           np.arange(shape[2])), axis=-1)
    ray_valid = np.take_along_axis(valid[:, :rays].reshape(shape), first, axis=-1)
    floor = np.zeros((m, n))
    floor[:, :rays] = _ray_floors(ray_valid, fraction).reshape(m, rays)
    tried = np.arange(n) < axis.shape[1]  # one change: nothing to reset
    settled, ray = np.zeros((m, n), dtype=bool), np.zeros((m, n), dtype=bool)
    # a valid point with a valid one below it on its ray: that one is closer, this one done
    below = np.cumsum(ray_valid, axis=-1)
    settled[:, :rays] = (below > 1).reshape(m, rays)
    ray[:, :rays] = (ray_valid & (below == 1)).reshape(m, rays)
    entries = Archive(batch, valid, objective(batch, origin, valid, loss, space, weights), floor,
                      np.broadcast_to(tried, (m, n)).copy(), settled, ray)
    return _with_settled(entries, origin, space)


def _round(archive: Archive, refine, children, origin, space, evaluate, weights,
           points: int) -> Archive:
    """One call: ``children`` and the neighbours of the entries at ``refine`` (``(rows, s)``,
    −1: none); the archive with the children, the kept neighbours and what was learnt of the
    refined entries."""
    c = children.shape[1]
    near = _Neighbours.of(archive, refine, origin, space, points)
    trials, mask = near.trials()
    valid, loss = evaluate(np.concatenate([children, trials], axis=1),
                           np.concatenate([np.ones(children.shape[:2], dtype=bool), mask],
                                          axis=1))
    young = Archive(children, valid[:, :c],
                    objective(children, origin, valid[:, :c], loss[:, :c], space, weights),
                    np.zeros(children.shape[:2]), *np.zeros((3, *children.shape[:2]), dtype=bool))
    kept = near.learn(archive, valid[:, c:], weights)  # updates archive: before extending it
    return archive.extend(young).extend(kept)


@dataclass(frozen=True)
class _Neighbours:
    """The entries to refine (``entries``, ``(rows, s, features)``, where ``picked``; their
    positions ``refine``) and their trial points: each changed feature reset (``resets``,
    ``(rows, s, features, features)``) and the numeric changes moved back to ``fraction`` of
    the way (``shrunk``, ``(rows, s, points, features)``), with which of them to score."""

    refine: np.ndarray
    picked: np.ndarray
    origin: np.ndarray
    space: SearchSpace
    entries: np.ndarray
    floor: np.ndarray
    tried: np.ndarray
    ray: np.ndarray
    shrinking: np.ndarray
    resets: np.ndarray
    reset_mask: np.ndarray
    fraction: np.ndarray
    shrunk: np.ndarray
    shrink_mask: np.ndarray

    @classmethod
    def of(cls, archive: Archive, refine, origin, space, points: int) -> _Neighbours:
        picked, index = refine >= 0, np.maximum(refine, 0)
        entries = np.take_along_axis(archive.candidates, index[..., None], axis=1)
        floor = np.take_along_axis(archive.floor, index, axis=1)
        tried = np.take_along_axis(archive.tried, index, axis=1) | ~picked
        shrinking = picked & ~_shrink_settled(entries, origin, floor, space)
        return cls(refine, picked, origin, space, entries, floor, tried,
                   np.take_along_axis(archive.ray, index, axis=1), shrinking,
                   *_resets(entries, origin, ~tried),
                   *_shrinks(entries, origin, floor, shrinking, space, points))

    def trials(self):
        """The trial points ``(rows, t, features)`` and which to score."""
        m, s, p = self.entries.shape
        q = self.fraction.shape[-1]
        return (np.concatenate([self.resets.reshape(m, s * p, p),
                                self.shrunk.reshape(m, s * q, p)], axis=1),
                np.concatenate([self.reset_mask.reshape(m, s * p),
                                self.shrink_mask.reshape(m, s * q)], axis=1))

    def learn(self, archive: Archive, valid, weights) -> Archive:
        """Record in ``archive`` what the trials' validity ``valid`` says of the refined
        entries (resets tried, a higher floor, settled); return the kept trials: each entry's
        valid reset of least loss and its valid shrink of smallest fraction."""
        m, s, p = self.entries.shape
        resets_valid = valid[:, :s * p].reshape(m, s, p)
        shrunk_valid = valid[:, s * p:].reshape(m, s, -1)
        reset_kept, shrink_kept = resets_valid.any(axis=-1), shrunk_valid.any(axis=-1)
        tried = self.tried | ~reset_kept
        floor = np.where(self.shrinking & ~shrink_kept, self.fraction[..., -1], self.floor)
        settled = (reset_kept | shrink_kept
                   | (tried & _shrink_settled(self.entries, self.origin, floor, self.space)))
        row, slot = np.nonzero(self.picked)
        at = (row, self.refine[row, slot])
        archive.tried[at], archive.floor[at] = tried[row, slot], floor[row, slot]
        archive.settled[at] |= settled[row, slot]
        best = np.argmin(objective(self.resets, self.origin[:, None], resets_valid, 0.0,
                                   self.space, weights), axis=-1)
        first = np.argmax(shrunk_valid, axis=-1)
        below = np.where(first > 0, _at(self.fraction, np.maximum(first - 1, 0)), self.floor)
        none, zero = np.zeros((m, s), dtype=bool), np.zeros((m, s))
        return _compact(np.concatenate([_at(self.resets, best), _at(self.shrunk, first)], axis=1),
                        np.concatenate([reset_kept, shrink_kept], axis=1),
                        np.concatenate([zero, below / _at(self.fraction, first)], axis=1),
                        np.concatenate([none, tried], axis=1),
                        np.concatenate([none, self.ray], axis=1), self.origin, self.space,
                        weights)


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[..., index, ...]`` along the axis after ``index``'s own."""
    axis = index.ndim
    picked = np.expand_dims(index, tuple(range(axis, values.ndim)))
    return np.take_along_axis(values, picked, axis=axis).squeeze(axis)


def _resets(entries, origin, active):
    """Each entry with each changed feature reset to the row, ``(rows, s, features, features)``,
    and which to score (entries ``active`` with more than one change)."""
    p = entries.shape[-1]
    here = np.broadcast_to(origin[:, None, :], entries.shape)
    differs = entries != here
    resets = np.repeat(entries[:, :, None, :], p, axis=2)
    diagonal = np.arange(p)
    resets[:, :, diagonal, diagonal] = here
    mask = differs & (active & (differs.sum(axis=-1) > 1))[..., None]
    return resets, mask


def _shrinks(entries, origin, floor, active, space, points: int):
    """Each entry's numeric changes moved back to ``points`` fractions spread evenly inside
    ``(floor, 1)``, ``(rows, s, points, features)``, and which to score: those of ``active``
    entries that differ from the fraction below and from the entry."""
    steps = np.arange(1, points + 1) / (points + 1)
    fraction = floor[..., None] + (1 - floor)[..., None] * steps
    shrunk = _towards(origin[:, None, None, :], entries[:, :, None, :], fraction, space)
    below = np.concatenate([np.broadcast_to(origin[:, None, None, :], shrunk[:, :, :1].shape),
                            shrunk[:, :, :-1]], axis=2)
    fresh = (shrunk != below).any(axis=-1) & (shrunk != entries[:, :, None, :]).any(axis=-1)
    return fraction, shrunk, fresh & active[..., None]


def _shrink_settled(entries, origin, floor, space: SearchSpace, tol: float = 1e-4):
    """No numeric change, or a shrink bracket narrower than ``tol`` of the change (for only
    integer changes: under one unit of each)."""
    move = np.where(space.categorical, 0.0, np.abs(entries - origin[:, None, :]))
    whole = ((move == 0) | space.integer).all(axis=-1)
    narrow = (((1 - floor)[..., None] * move) < 1).all(axis=-1)
    return (move == 0).all(axis=-1) | (1 - floor < tol) | (whole & narrow)


def _with_settled(archive: Archive, origin, space) -> Archive:
    archive.settled |= archive.tried & _shrink_settled(archive.candidates, origin, archive.floor,
                                                       space)
    return archive


def _packed(flags: np.ndarray) -> np.ndarray:
    """The positions of each row's true ``flags``, first, as many columns as the most any row
    has; −1 pads."""
    order = np.argsort(~flags, axis=1, kind="stable")[:, :int(flags.sum(axis=1).max(initial=0))]
    return np.where(np.take_along_axis(flags, order, axis=1), order, -1)


def _compact(candidates, kept, floor, tried, ray, origin, space, weights) -> Archive:
    """The ``kept`` entries of each row first, cut to the most any row keeps."""
    order = np.maximum(_packed(kept), 0)
    candidates = np.take_along_axis(candidates, order[..., None], axis=1)
    valid, floor, tried, ray = (np.take_along_axis(a, order, axis=1)
                                for a in (kept, floor, tried, ray))
    entries = Archive(candidates, valid, objective(candidates, origin, valid, 0.0, space, weights),
                      floor, tried, ~valid, ray & valid)
    return _with_settled(entries, origin, space)


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


def _towards(here, candidates, fraction, space: SearchSpace) -> np.ndarray:
    delta = (candidates - here) * fraction[..., None]
    whole = np.sign(delta) * np.ceil(np.abs(delta) - 1e-9)
    moved = here + np.where(space.integer, whole, delta)
    # a row outside a range: the changed value stays within it, on the way from the origin
    moved = np.where(moved == here, here, np.clip(moved, space.lower, space.upper))
    return np.where(space.categorical, candidates, moved)


def distinct_rows(values: np.ndarray):
    """The distinct rows of ``values`` ``(n, features)``: positions of one row of each, and
    each row's index among them (``values[first][inverse]`` equals ``values``).

    Rows are grouped by a fixed random projection, then checked: the rows that differ from
    their group's first (a collision, rare) are grouped again by a full row comparison, so the
    grouping is exact.
    """
    key = values @ np.random.default_rng(0).uniform(1.0, 2.0, values.shape[1])
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    collided = np.flatnonzero((values != values[first[inverse]]).any(axis=1))
    if not len(collided):
        return first, inverse
    _, own_first, own_inverse = np.unique(values[collided], axis=0, return_index=True,
                                          return_inverse=True)
    inverse[collided] = len(first) + own_inverse.ravel()
    return np.concatenate([first, collided[own_first]]), inverse


def nearest_rows(origin, pool, allowed, space: SearchSpace, k: int, block: int = 1 << 24):
    """The ``k`` rows of ``pool`` nearest each origin among those ``allowed[i]`` permits.

    ``allowed`` is a callable ``(row_slice) -> bool (rows, pool)``. Distances come in blocks
    of origins so memory stays near ``block`` floats. Returns indices ``(rows, k)``, −1 where
    fewer rows are allowed.
    """
    m = len(origin)
    step = max(1, block // max(len(pool), 1))
    index = np.full((m, k), -1, dtype=np.int64)
    for start in range(0, m, step):
        part = slice(start, min(start + step, m))
        index[part] = nearest_of(allowed_distances(origin[part], pool, allowed(part), space), k)
    return index


def allowed_distances(origin, pool, allowed, space: SearchSpace) -> np.ndarray:
    """:func:`distance` of every origin to every pool row, ``(origins, pool)``; inf where
    ``allowed`` (same shape) is false."""
    return np.where(allowed, _distances(origin, pool, space), np.inf)


def nearest_of(distances: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` smallest finite ``distances``' positions, nearest first (−1: fewer)."""
    index = np.full((len(distances), k), -1, dtype=np.int64)
    if k == 0 or distances.shape[1] == 0:
        return index
    top = np.argpartition(distances, min(k, distances.shape[1]) - 1, axis=1)[:, :k]
    top = np.take_along_axis(top, np.argsort(np.take_along_axis(distances, top, axis=1), axis=1,
                                             kind="stable"), axis=1)
    got = np.take_along_axis(distances, top, axis=1)
    index[:, :top.shape[1]] = np.where(np.isfinite(got), top, -1)
    return index


def _distances(origin: np.ndarray, pool: np.ndarray, space: SearchSpace) -> np.ndarray:
    """:func:`distance` of every origin to every pool row, ``(origins, pool)``, one feature at a
    time (no ``(origins, pool, features)`` temporary), on contiguous columns."""
    total, term = np.zeros((len(origin), len(pool))), np.empty((len(origin), len(pool)))
    for j, column in enumerate(pool.T):
        column = np.ascontiguousarray(column)
        if space.categorical[j]:
            total += origin[:, j, None] != column
        else:
            np.subtract(column / space.scale[j], origin[:, j, None] / space.scale[j], out=term)
            total += np.abs(term, out=term)
    return total
