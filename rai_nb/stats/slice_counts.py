"""Row passes of the slice search: sizes, loss sums and moments of given slices.

The sizes and loss sums of the slices over one feature set F are the product of
``[weight, weight · loss]`` (weight 1 per row unless sample weights are given) with the
face-splitting (row-wise Kronecker) product of F's one-hot matrices. That product is computed
without forming the matrix: each row's cell in F is a mixed-radix number, and one ``bincount``
per row chunk sums the rows (or weights) of every cell (Sagadeeva & Boehm, SIGMOD 2021, use
sparse matrix products for the same quantity). Memory is bounded by the row chunk and by the
number of cells, which falls back to the candidate cells alone when F has too many.
"""

from __future__ import annotations

import numpy as np

from ..backend import bincount, get_config, namespace, row_chunks, to_device, to_host

#: Cells of a feature set counted densely (one bin per cell) up to this many, else only the
#: candidate cells get bins (found by binary search).
_DENSE_CELLS = 1 << 16


def slice_sums(codes, errors, features: np.ndarray, levels: np.ndarray, n_levels: np.ndarray, *,
               weights=None, xp=None):
    """Size and loss sum of each slice ``features[i, :] = levels[i, :]`` (host arrays, (N, L)).

    ``errors`` is what each row adds to a loss sum (its loss times its weight when weighted);
    ``weights`` what it adds to a size (None: 1 per row, and sizes are row counts). One pass
    over the rows per distinct feature set among the slices.
    """
    xp = namespace(codes, errors, weights, xp=xp)
    n = len(features)
    size, error = np.zeros(n), np.zeros(n)
    if n == 0:
        return size, error
    key = features.astype(np.int64) @ (len(n_levels) ** np.arange(features.shape[1] - 1, -1, -1))
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(key[order]) != 0])
    for lo, hi in zip(starts, np.r_[starts[1:], n]):
        rows = order[lo:hi]
        here = features[rows[0]]
        size[rows], error[rows] = _cell_sums(codes, errors, weights, here, levels[rows],
                                             n_levels[here], xp)
    return size, error


def _cell_sums(codes, errors, weights, features, cells, domains, xp):
    """Size and loss sum of the given cells (level tuples) of one feature set."""
    strides = np.cumprod(np.r_[domains[1:], 1][::-1])[::-1].astype(np.int64)
    wanted = cells @ strides
    n_cells = int(np.prod(domains.astype(np.float64)))
    dense = n_cells <= max(_DENSE_CELLS, int(codes.shape[0]))
    table = None if dense else np.unique(wanted)
    n_bins = n_cells if dense else len(table) + 1
    device_table = None if dense else to_device(table, xp)
    size, error = np.zeros(n_bins), np.zeros(n_bins)
    for rows in row_chunks(int(codes.shape[0])):
        cell = _mixed_code(codes[rows, :], features, strides, xp)
        if not dense:
            cell = _match(cell, device_table, xp)
        size += to_host(bincount(cell, minlength=n_bins, xp=xp,
                                 weights=None if weights is None else weights[rows]))
        error += to_host(bincount(cell, minlength=n_bins, weights=errors[rows], xp=xp))
    at = wanted if dense else np.searchsorted(table, wanted)
    return size[at], error[at]


def _mixed_code(codes, features, strides, xp):
    cell = xp.zeros(codes.shape[0], dtype=xp.int64)
    for feature, stride in zip(features.tolist(), strides.tolist()):
        cell = cell + xp.astype(codes[:, feature], xp.int64) * stride
    return cell


def _match(cell, table, xp):
    """Position of each row's cell in the sorted candidate ``table``; ``len(table)`` if absent."""
    where = xp.searchsorted(table, cell)
    clipped = xp.clip(where, 0, table.shape[0] - 1)
    hit = xp.take(table, clipped) == cell
    return xp.where(hit, clipped, xp.asarray(table.shape[0], dtype=clipped.dtype))


def slice_moments(codes, values, slices: np.ndarray, *, weights=None, xp=None) -> np.ndarray:
    """Count, sum and sum of squares of ``values`` over the rows of each slice.

    With ``weights`` a row counts ``weights[i]`` times (frequency weights): the moments are
    ``Σw``, ``Σw·v`` and ``Σw·v²``.

    ``slices`` is a host array ``(K, m)`` of level codes (-1: feature unused), as in
    :class:`rai_nb.stats.slicing.SliceSearch`. Rows are processed in chunks of at most
    ``chunk_rows / K`` so the membership block stays within the configured budget.

    Returns
    -------
    numpy.ndarray of float64, shape (3, K)
    """
    xp = namespace(codes, values, weights, xp=xp)
    n_slices = len(slices)
    out = np.zeros((3, n_slices))
    if n_slices == 0:
        return out
    wanted = to_device(np.asarray(slices, dtype=np.int64), xp)
    unused = wanted < 0
    step = max(get_config().chunk_rows // n_slices, 1)
    for rows in row_chunks(int(codes.shape[0]), step):
        inside = xp.ones((rows.stop - rows.start, n_slices), dtype=xp.bool)
        for feature in range(slices.shape[1]):
            level = xp.astype(codes[rows, feature], xp.int64)[:, None]
            inside = inside & ((level == wanted[None, :, feature]) | unused[None, :, feature])
        weight = xp.astype(inside, xp.float64)
        if weights is not None:
            weight = weight * weights[rows][:, None]
        value = values[rows][:, None]
        out[0] += to_host(xp.sum(weight, axis=0))
        out[1] += to_host(xp.sum(weight * value, axis=0))
        out[2] += to_host(xp.sum(weight * value * value, axis=0))
    return out
