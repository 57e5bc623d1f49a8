"""Accuracy and every disparity of one candidate model's predictions, from the count tensor."""

from __future__ import annotations

import numpy as np

from ..stats.bias import DISPARITIES, bias_statistics
from ..stats.counts import confusion_counts
from ..stats.multiclass import class_disparities, worst_disparities


def binary_scores(groups: np.ndarray, n_groups: int, y_true: np.ndarray, p_positive,
                  sample_weight=None) -> dict[str, float]:
    """Accuracy and the :data:`~rai_nb.stats.bias.DISPARITIES` of binary predictions.

    Parameters
    ----------
    groups : array of int64, shape (n,)
        Group code of each row.
    n_groups : int
        Number of groups.
    y_true : array of 0/1, shape (n,)
        True labels, 1 for the positive class.
    p_positive : array of float, shape (n,)
        Probability that the row is predicted positive: 0/1 for a deterministic model, the
        mixing probability for a randomized one (the values are then expectations).
    sample_weight : array of float, shape (n,), optional
        Row weights.

    Returns
    -------
    dict
        ``accuracy`` and one entry per disparity name, as Python floats.
    """
    weights = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
    p = np.asarray(p_positive, dtype=np.float64)
    # Expected counts: each row adds p to its predicted-positive cell and 1 - p to the other.
    counts = sum(confusion_counts(groups, y_true, np.full(len(p), label, dtype=np.int8),
                                  n_groups=n_groups, weights=weights * share)
                 for label, share in ((1, p), (0, 1.0 - p)))
    return count_scores(counts)


def class_scores(groups: np.ndarray, n_groups: int, y_true: np.ndarray, y_pred: np.ndarray,
                 n_classes: int, sample_weight=None) -> dict[str, float]:
    """Accuracy and each disparity of the worst class (one-vs-rest) of multiclass predictions.

    ``y_true`` and ``y_pred`` are class codes in ``0..n_classes-1``; see :func:`binary_scores`.
    """
    return count_scores(confusion_counts(groups, y_true, y_pred, n_groups=n_groups,
                                         n_classes=n_classes, weights=sample_weight))


def count_scores(counts: np.ndarray) -> dict[str, float]:
    """Accuracy and the :data:`~rai_nb.stats.bias.DISPARITIES` of confusion counts ``C[g, y, ŷ]``
    (expected counts allowed): binary when the class axes have two entries, else each summary's
    worst class, one-vs-rest."""
    if counts.shape[-1] == 2:
        disparities = bias_statistics(counts[:, None], [None], predicted=True)["disparities"]
    else:
        disparities = worst_disparities(class_disparities(counts))
    total = counts.sum(axis=0)
    return {"accuracy": float(np.trace(total) / total.sum()),
            **{name: float(value) for name, value in zip(DISPARITIES, disparities)}}
