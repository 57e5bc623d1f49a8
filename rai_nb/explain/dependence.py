"""Partial dependence and ICE kernels: the grid of a feature, and per-group sums of the
model's outputs over stacked grid copies (host NumPy arrays in, arrays out).

The grid follows scikit-learn's ``partial_dependence`` (Friedman 2001; ICE: Goldstein et al.
2015): a categorical feature, or one with fewer distinct values than ``grid_resolution``, is
gridded at its sorted distinct values; any other at ``grid_resolution`` evenly spaced points
between two empirical quantiles (Hyndman & Fan's estimator with α = β = 0.4, scipy's
``mquantiles`` default, which scikit-learn uses).
"""

from __future__ import annotations

import numpy as np


def grid_axis(values: np.ndarray, *, categorical: bool, grid_resolution: int,
              percentiles: tuple) -> np.ndarray:
    """The grid values of one feature.

    Parameters
    ----------
    values : numpy.ndarray
        The feature's values over the rows (no missing values).
    categorical : bool
        Grid at the distinct values whatever their number.
    grid_resolution : int
        Points of a numeric grid (at least 2).
    percentiles : tuple of float
        The quantiles, in [0, 1], that a numeric grid spans.

    Returns
    -------
    numpy.ndarray
        The sorted distinct values, or ``grid_resolution`` floats from the lower to the upper
        quantile. Raises ``ValueError`` when the two quantiles are (close to) equal.
    """
    uniques = np.unique(values)
    if categorical or len(uniques) < grid_resolution:
        return uniques
    from scipy.stats.mstats import mquantiles

    low, high = mquantiles(values, prob=percentiles, axis=0)
    if np.allclose(low, high):
        raise ValueError("the percentiles are too close to each other to build a grid")
    return np.linspace(low, high, num=grid_resolution, endpoint=True)


def grid_points(axes: list[np.ndarray]) -> list[np.ndarray]:
    """The cartesian product of the axes as one column per feature (the first feature varies
    slowest, as scikit-learn's ``cartesian``); each column keeps its axis's dtype."""
    positions = np.meshgrid(*(np.arange(len(axis)) for axis in axes), indexing="ij")
    return [axis[index.ravel()] for axis, index in zip(axes, positions)]


def group_sums(outputs: np.ndarray, weights: np.ndarray, codes: np.ndarray,
               n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums of the outputs over all rows and over each group's rows.

    Parameters
    ----------
    outputs : numpy.ndarray of shape (points, rows, n_outputs)
        The model's outputs for each grid point and row.
    weights : numpy.ndarray of shape (rows,)
    codes : numpy.ndarray of shape (rows,)
        Group code of each row, in ``0..n_groups-1``.
    n_groups : int

    Returns
    -------
    total : numpy.ndarray of shape (points, n_outputs)
    by_group : numpy.ndarray of shape (n_groups, points, n_outputs)
    """
    from scipy import sparse

    points, rows, n_outputs = outputs.shape
    flat = np.moveaxis(outputs, 1, 0).reshape(rows, points * n_outputs)
    membership = sparse.csr_matrix((weights, (codes, np.arange(rows))), shape=(n_groups, rows))
    by_group = np.asarray(membership @ flat).reshape(n_groups, points, n_outputs)
    # every row is in one group; a dense ``weights @ flat`` would wake BLAS's threads, whose
    # spinning takes the cores from the model's own threads between calls
    return by_group.sum(axis=0), by_group


def centred(curves: np.ndarray, n_axes: int) -> np.ndarray:
    """Curves minus their value at the first grid point (c-ICE, Goldstein et al. 2015);
    the grid is the last ``n_axes`` axes."""
    first = curves[(..., *([slice(0, 1)] * n_axes))]
    return curves - first


def poisson_draws(n_boot: int, n_rows: int, seed: int) -> np.ndarray:
    """Each replicate's Poisson(1) count of every row (n_boot x rows, uint8): the Poisson
    bootstrap over rows (Hanley & MacGibbon 2006), one replicate at a time to bound memory."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.poisson(1.0, n_rows).astype(np.uint8) for _ in range(n_boot)])


def replicate_sums(outputs: np.ndarray, weights: np.ndarray, codes: np.ndarray, n_groups: int,
                   draws: np.ndarray, *, budget: int) -> np.ndarray:
    """Weighted output sums of every bootstrap replicate, per group and for all rows.

    Parameters
    ----------
    outputs, weights, codes, n_groups
        As :func:`group_sums`.
    draws : numpy.ndarray of shape (n_boot, rows)
        Each replicate's count of every row (:func:`poisson_draws`).
    budget : int
        Replicates are taken in batches of about ``budget / rows`` (bounded memory).

    Returns
    -------
    numpy.ndarray of shape (n_boot, n_groups + 1, points, n_outputs)
        Curve ``g`` is group ``g``; the last one is all rows.
    """
    from scipy import sparse

    points, rows, n_outputs = outputs.shape
    flat = np.moveaxis(outputs, 1, 0).reshape(rows, points * n_outputs)
    curve = np.concatenate([codes, np.full(rows, n_groups)])  # each row in its group and in all
    member = np.tile(np.arange(rows), 2)
    sums = []
    step = max(budget // (2 * rows), 1)
    for start in range(0, len(draws), step):
        batch = draws[start:start + step]
        index = (np.arange(len(batch))[:, None] * (n_groups + 1) + curve).ravel()
        values = (batch[:, member] * weights[member]).ravel()
        matrix = sparse.csr_matrix((values, (index, np.tile(member, len(batch)))),
                                   shape=(len(batch) * (n_groups + 1), rows))
        sums.append(np.asarray(matrix @ flat).reshape(len(batch), n_groups + 1, points, n_outputs))
    return np.concatenate(sums)


def percentile_band(curves: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over replicates (axis 0), ignoring replicates in
    which a curve has no rows (NaN); NaN where it has none in any."""
    import warnings

    with warnings.catch_warnings():  # all-NaN: a group of zero weight has no band
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(curves, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return low, high
