"""Sufficient statistics: per-group confusion counts and score histograms, in one pass each.

Every group metric, Clarify metric and bootstrap interval is host math on these small tables,
so the cost that grows with the number of rows is one ``bincount`` (per chunk of rows).
"""

from __future__ import annotations

import numpy as np

from ..backend import bincount, namespace, row_chunks, to_host


def confusion_counts(group_codes, y_true, y_pred=None, *, n_groups: int, n_classes: int = 2,
                     weights=None, xp=None) -> np.ndarray:
    """Counts ``C[g, y, ŷ]`` of rows per group, true class and predicted class.

    Parameters
    ----------
    group_codes : array of int, shape (n,)
        Group of each row, in ``0..n_groups-1``.
    y_true, y_pred : array of int, shape (n,)
        Class codes in ``0..n_classes-1`` (0/1 for a binary task); without ``y_pred`` every
        row counts as predicted class 0, so ``C.sum(-1)`` still holds the label counts.
    n_groups : int
        Number of groups (the table has a row for every group, observed or not).
    n_classes : int, default 2
        Number of classes.
    weights : array of float, shape (n,), optional
        Sample weights: each cell holds the sum of its rows' weights instead of their number.

    Returns
    -------
    numpy.ndarray, shape (n_groups, n_classes, n_classes)
        int64 counts, or float64 sums of weights.
    """
    xp = namespace(group_codes, y_true, xp=xp)
    size = n_groups * n_classes * n_classes
    total = np.zeros(size, dtype=np.int64 if weights is None else np.float64)
    for rows in row_chunks(group_codes.shape[0]):
        cell = xp.astype(group_codes[rows], xp.int64, copy=False) * (n_classes * n_classes)
        cell += xp.astype(y_true[rows], xp.int64) * n_classes
        if y_pred is not None:
            cell += xp.astype(y_pred[rows], xp.int64)
        total += to_host(bincount(cell, minlength=size,
                                  weights=None if weights is None else weights[rows], xp=xp))
    return total.reshape(n_groups, n_classes, n_classes)


def score_histograms(group_codes, y_true, y_score, *, n_groups: int, n_bins: int = 10,
                     xp=None) -> np.ndarray:
    """Per group and score bin: row count, sum of scores and number of positives.

    Bins are ``[0, 1/n_bins), …, [(n_bins-1)/n_bins, 1]`` (the last one closed).

    Returns
    -------
    numpy.ndarray of float64, shape (3, n_groups, n_bins)
    """
    xp = namespace(group_codes, y_score, xp=xp)
    size = n_groups * n_bins
    total = np.zeros((3, size), dtype=np.float64)
    for rows in row_chunks(group_codes.shape[0]):
        score = y_score[rows]
        bins = xp.clip(xp.astype(xp.floor(score * n_bins), xp.int64), 0, n_bins - 1)
        cell = xp.astype(group_codes[rows], xp.int64) * n_bins + bins
        total[0] += to_host(bincount(cell, minlength=size, xp=xp))
        total[1] += to_host(bincount(cell, minlength=size, weights=score, xp=xp))
        label = xp.astype(y_true[rows], xp.float64)
        total[2] += to_host(bincount(cell, minlength=size, weights=label, xp=xp))
    return total.reshape(3, n_groups, n_bins)
