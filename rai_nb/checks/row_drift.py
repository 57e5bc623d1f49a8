"""Row-level drift kernels: the encoded space, exact nearest-neighbour distances, hash folds.

The space (:class:`Space`) is fitted on the reference rows. A numeric value becomes its z-score
``(x − mean) / std`` under the reference's moments (std 0 counts as 1); a missing value is the
reference mean (z = 0) plus a missing indicator (0/1), so it differs by 1 from every present
value's indicator. A categorical value is a one-hot vector over the reference's levels scaled by
``1/√2``, so two different levels are at squared distance 1 and equal ones at 0. A cell the
reference never had (a level it lacks, or a missing value in a column it has none of) differs
from every reference row by the same amount (1 squared unit), so it is carried as a per-row
constant (``extra``) instead of a dimension. Squared distance between rows is thus
``Σ z-differences² + numeric missing mismatches + categorical mismatches``.

Distances are exact: every query is compared with every point by scikit-learn's brute-force
``NearestNeighbors`` (blocked matrix products reduced to the ``k`` nearest in cache, in parallel;
a blocked float32 product with a compiled top-``k`` pass of our own was 1.7-2.5x slower, see
``benchmarks/bench_row_drift.py``), and the chosen neighbours' squared distances are recomputed
from the coordinates, so rounding in the products can only swap near-ties, never change a
distance. CPU kernels (NumPy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quality import row_hashes

_HALF = np.sqrt(0.5)


@dataclass(frozen=True)
class Space:
    """The encoded space of one reference: numeric moments, which numeric columns have missing
    values there (those get an indicator dimension), and each categorical column's levels."""

    centre: np.ndarray
    scale: np.ndarray
    indicator: np.ndarray  # bool per numeric column
    n_levels: np.ndarray  # reference levels per categorical column (missing as one, if any)
    missing_level: np.ndarray  # bool per categorical column: the reference has missing cells

    @property
    def width(self) -> int:
        return int(self.centre.size + self.indicator.sum() + self.n_levels.sum())


def fit_space(numeric: np.ndarray, codes: np.ndarray, n_levels) -> Space:
    """The space of reference ``numeric`` (``(columns, rows)`` float, NaN = missing) and
    ``codes`` (``(columns, rows)`` int, -1 = missing, ``n_levels[j]`` reference levels)."""
    present = ~np.isnan(numeric)
    count = present.sum(axis=1)
    centre = np.where(count > 0, np.nansum(numeric, axis=1) / np.maximum(count, 1), 0.0)
    spread = np.sqrt(np.nansum((numeric - centre[:, None]) ** 2, axis=1) / np.maximum(count, 1))
    missing = (codes < 0).any(axis=1)
    return Space(centre, np.where(spread > 0, spread, 1.0), ~present.all(axis=1),
                 np.asarray(n_levels, dtype=np.int64) + missing, missing)


def embed(space: Space, numeric: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``numeric`` and ``codes`` (as in :func:`fit_space`) in ``space``: float64 points
    ``(rows, width)`` and each row's squared distance to every reference row's cells it lacks
    (``extra``, see the module notes)."""
    n = numeric.shape[1]
    z, missing = _z_scores(space, numeric)
    parts = [z.T, missing[space.indicator].T.astype(np.float64)]
    extra = missing[~space.indicator].sum(axis=0).astype(np.float64)
    for j, level in enumerate(_levels(space, codes)):
        extra += 0.5 * (level < 0)
        parts.append((level[:, None] == np.arange(space.n_levels[j])) * _HALF)
    return np.concatenate([p.reshape(n, -1) for p in parts], axis=1), extra


def _z_scores(space: Space, numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    missing = np.isnan(numeric)
    return np.where(missing, 0.0, (numeric - space.centre[:, None]) / space.scale[:, None]), \
        missing


def _levels(space: Space, codes: np.ndarray) -> np.ndarray:
    """Codes into the space's levels (missing as its own level where the reference has one),
    -1 for a cell no reference row has."""
    n_seen = (space.n_levels - space.missing_level)[:, None]
    missing_code = np.where(space.missing_level, space.n_levels - 1, -1)[:, None]
    return np.where(codes < 0, missing_code, np.where(codes < n_seen, codes, -1))


def nearest(queries, query_extra, points, k: int, *, skip=None):
    """Squared distances ``(queries, k)``, ascending, from each query to its ``k`` nearest
    ``points`` (reference rows, whose ``extra`` is 0), and their positions.

    ``skip[i]`` is a point query ``i`` may not pick (itself, for reference rows scored against
    the reference; -1 for none). Exact (see the module notes).
    """
    from sklearn.neighbors import NearestNeighbors

    n, more = queries.shape[0], int(skip is not None)
    index = NearestNeighbors(n_neighbors=k + more, algorithm="brute").fit(points)
    chosen = index.kneighbors(queries, return_distance=False)
    if more:  # drop the skipped point where it was picked, else the farthest
        keep = chosen != np.asarray(skip)[:, None]
        keep[keep.all(axis=1), -1] = False
        chosen = chosen[keep].reshape(n, k)
    gaps = queries[:, None, :] - points[chosen]
    distances = np.einsum("ijk,ijk->ij", gaps, gaps) + query_extra[:, None]
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(distances, order, axis=1), np.take_along_axis(chosen, order, axis=1)


def contributions(space: Space, numeric, codes, numeric_other, codes_other) -> np.ndarray:
    """Each column's part of the squared distance between rows and the (reference) rows paired
    with them, shape ``(rows, numeric + categorical columns)``; a row sums to its squared
    distance in the space (a z-score gap² plus a missing mismatch; a level mismatch)."""
    z, missing = _z_scores(space, numeric)
    z_other, missing_other = _z_scores(space, numeric_other)
    gaps = (z - z_other) ** 2 + (missing != missing_other)
    mismatch = _levels(space, codes) != _levels(space, codes_other)
    return np.concatenate([gaps, mismatch], axis=0).T


def hash_keys(hashes: np.ndarray, seed: int) -> np.ndarray:
    """A uniform uint64 key per row from its content hash and ``seed``: copies of a row share it,
    and it does not depend on the order of the rows."""
    seeds = np.full((1, hashes.shape[0]), seed, dtype=np.int64)
    return row_hashes(seeds, state=hashes, xp=np)


def hash_folds(hashes: np.ndarray, seed: int, n_folds: int) -> np.ndarray:
    """The fold (0 … ``n_folds − 1``) of each row, from :func:`hash_keys`."""
    return (hash_keys(hashes, seed) % np.uint64(n_folds)).astype(np.int64)


def below_share(keys: np.ndarray, share: float) -> np.ndarray:
    """Rows whose key lies in the lowest ``share`` of the uint64 range: a seeded sample of about
    ``share`` of the rows that keeps or drops every copy of a row together."""
    if share >= 1:
        return np.ones(keys.shape, dtype=bool)
    return keys < np.uint64(int(share * 2.0**64))


def tail_shares(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Conformal p-values: ``(1 + reference values ≥ v) / (1 + reference values)`` per ``v``."""
    ordered = np.sort(reference)
    above = ordered.size - np.searchsorted(ordered, values, side="left")
    return (1.0 + above) / (1.0 + ordered.size)


def fisher_score(*p_values: np.ndarray) -> np.ndarray:
    """``−log10`` of Fisher's combination of the p-values (``χ²`` with ``2m`` degrees of freedom
    of ``−2 Σ log p``): higher when the row is unusual by more of the measures."""
    from scipy.stats import chi2

    statistic = -2.0 * np.sum(np.log(p_values), axis=0)
    return -chi2.logsf(statistic, 2 * len(p_values)) / np.log(10.0)
