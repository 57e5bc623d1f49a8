"""Multiclass metrics per group and per class from one confusion tensor ``C[..., g, y, ŷ]``.

The last two axes of ``C`` are the true and the predicted class (``K`` each); the axis before
them is the group, and any axes before that (bootstrap replicates, …) are carried along. Counts
may be float sums of sample weights. Per-class statistics are one-vs-rest: class ``k``'s binary
tensor ``[y == k, ŷ == k]`` goes through the binary code of :mod:`rai_nb.stats.group_metrics`
and :mod:`rai_nb.stats.bias`, so both tasks share every formula.
"""

from __future__ import annotations

import numpy as np

from ..errors import RaiError
from .bias import DISPARITIES, bias_statistics
from .group_metrics import _rate, metric_table

#: Metrics per group, in column order of :func:`multiclass_metrics`.
MULTICLASS_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")

#: One-vs-rest metrics per group and class, in column order of :func:`class_metrics`.
CLASS_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision")

_NOT_SQUARE = "counts must have shape (..., n_classes, n_classes) with n_classes >= 2; got {shape}"


def _counts(counts, min_ndim: int) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim < min_ndim or c.shape[-1] != c.shape[-2] or c.shape[-1] < 2:
        raise RaiError(_NOT_SQUARE.format(shape=c.shape))
    return c


def multiclass_metrics(counts) -> np.ndarray:
    """Accuracy, balanced accuracy and macro F1 of each group.

    Parameters
    ----------
    counts : array, shape (..., G, K, K)
        ``C[..., g, y, ŷ]``: rows (or sums of sample weights) per group, true and predicted class.

    Returns
    -------
    numpy.ndarray of float64, shape (..., G, 3)
        Columns in :data:`MULTICLASS_METRICS` order, equal to scikit-learn's
        ``accuracy_score``, ``balanced_accuracy_score`` and
        ``f1_score(average="macro", zero_division=0)`` on the group's rows. As scikit-learn
        does, balanced accuracy averages recall over the classes present among the group's
        true labels, and macro F1 averages over the classes among its true or predicted labels
        (with weights: classes of nonzero weight). A group without rows gets 0s.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[[2, 1, 0], [0, 1, 0], [0, 0, 0]]])  # one group, class 2 absent
    >>> multiclass_metrics(C).round(3)
    array([[0.75 , 0.833, 0.733]])
    """
    c = _counts(counts, 3)
    correct = np.diagonal(c, axis1=-2, axis2=-1)
    actual, predicted = c.sum(axis=-1), c.sum(axis=-2)
    accuracy = _rate(correct.sum(axis=-1), actual.sum(axis=-1))
    balanced = _present_mean(_rate(correct, actual), actual > 0)
    f1 = _rate(2 * correct, actual + predicted)
    macro_f1 = _present_mean(f1, (actual + predicted) > 0)
    return np.stack([accuracy, balanced, macro_f1], axis=-1)


def _present_mean(values, present):
    """Mean of ``values`` over the classes (last axis) where ``present``; 0 where none is."""
    return _rate(np.where(present, values, 0.0).sum(axis=-1), present.sum(axis=-1))


def one_vs_rest(counts, *, group_axes: int = 1) -> np.ndarray:
    """Class ``k``'s binary confusion tensor ``[y == k, ŷ == k]`` for every class.

    Parameters
    ----------
    counts : array, shape (..., *inner, K, K)
        Multiclass counts; the last two axes are the true and predicted class.
    group_axes : int, default 1
        How many axes before the class axes stay beside the binary cells: 1 for
        ``C[..., g, y, ŷ]``, 2 for ``C[..., g, s, y, ŷ]`` with strata. The class axis is
        inserted before them.

    Returns
    -------
    numpy.ndarray of float64, shape (..., K, *inner, 2, 2)
        ``[..., k, *inner, a, b]`` counts rows with ``(y == k) == a`` and ``(ŷ == k) == b``;
        e.g. ``(B, K, G, 2, 2)`` for bootstrap replicates ``(B, G, K, K)``, or
        ``(K, G, S, 2, 2)`` for ``C[g, s, y, ŷ]`` with ``group_axes=2``: ready for
        :func:`rai_nb.stats.bias.bias_statistics` with the class as a leading axis.
    """
    c = _counts(counts, 2 + group_axes)
    diagonal = np.eye(c.shape[-1], dtype=bool)
    off = np.where(diagonal, 0.0, c)
    # tn_k = Σ_{y≠k} Σ_{ŷ≠k} C[y, ŷ]: the row sums without column k, then without row k.
    tn = np.where(diagonal, 0.0, _sum_except(c)).sum(axis=-2)
    tp = np.diagonal(c, axis1=-2, axis2=-1)
    cells = np.stack([tn, off.sum(axis=-2), off.sum(axis=-1), tp], axis=-1)  # tn, fp, fn, tp
    cells = cells.reshape(*cells.shape[:-1], 2, 2)
    return np.moveaxis(cells, -3, -3 - group_axes)


def _sum_except(values):
    """``out[..., i] = Σ_{j≠i} values[..., j]`` along the last axis.

    Built from the sums before and after ``i`` rather than ``total − values[i]``, so a sum of
    nonnegative weights is exactly 0 when every term is (zero denominators stay zero).
    """
    before, after = np.zeros_like(values), np.zeros_like(values)
    np.cumsum(values[..., :-1], axis=-1, out=before[..., 1:])
    np.cumsum(values[..., :0:-1], axis=-1, out=after[..., -2::-1])
    before += after
    return before


def class_metrics(counts) -> np.ndarray:
    """One-vs-rest selection rate, TPR, FPR and precision of each group and class.

    Parameters
    ----------
    counts : array, shape (..., G, K, K)

    Returns
    -------
    numpy.ndarray of float64, shape (..., G, K, 4)
        Columns in :data:`CLASS_METRICS` order; fairlearn's and scikit-learn's values with
        ``pos_label=k`` on the labels binarised as ``y == k``, ``ŷ == k`` (0 for a zero
        denominator).
    """
    binary = one_vs_rest(counts)  # (..., K, G, 2, 2)
    return np.swapaxes(metric_table(binary, list(CLASS_METRICS)), -3, -2)


def class_disparities(counts, *, method: str = "between_groups") -> np.ndarray:
    """fairlearn's parity summaries of each class, one-vs-rest.

    Parameters
    ----------
    counts : array, shape (..., G, K, K)
    method : {"between_groups", "to_overall"}
        fairlearn's aggregation of the per-group values.

    Returns
    -------
    numpy.ndarray of float64, shape (..., K, D)
        Columns in :data:`rai_nb.stats.bias.DISPARITIES` order; row ``k`` equals fairlearn's
        ``demographic_parity_difference(y == k, ŷ == k, sensitive_features=...)`` and the
        others. Groups without rows are left out, as fairlearn never sees them.
    """
    strata = one_vs_rest(counts)[..., None, :, :]  # one stratum: (..., K, G, 1, 2, 2)
    return bias_statistics(strata, [None], predicted=True, method=method)["disparities"]


def _is_difference():
    return np.array([kind == "difference" for _, _, kind in DISPARITIES.values()])


def worst_disparities(per_class) -> np.ndarray:
    """The worst class of each summary: largest difference, smallest ratio, NaN ignored.

    Parameters
    ----------
    per_class : array, shape (..., K, D)
        :func:`class_disparities` output.

    Returns
    -------
    numpy.ndarray of float64, shape (..., D)
        NaN where every class is NaN.
    """
    values = np.asarray(per_class, dtype=np.float64)
    return np.where(_is_difference(), np.fmax.reduce(values, axis=-2),
                    np.fmin.reduce(values, axis=-2))


def worst_classes(per_class) -> np.ndarray:
    """Which class :func:`worst_disparities` took for each summary (the first on ties).

    Returns
    -------
    numpy.ndarray of int64, shape (..., D)
        Class codes; -1 where every class is NaN.
    """
    values = np.asarray(per_class, dtype=np.float64)
    oriented = np.where(_is_difference(), values, -values)  # worst is largest
    oriented = np.where(np.isnan(oriented), -np.inf, oriented)
    worst = np.argmax(oriented, axis=-2)
    return np.where(np.all(np.isnan(values), axis=-2), -1, worst)
