"""Accuracy and every disparity of one candidate model's predictions, from the count tensor."""

from __future__ import annotations

import numpy as np

from ..stats import group_metrics
from ..stats.bias import DISPARITIES, bias_statistics
from ..stats.counts import confusion_counts
from ..stats.multiclass import class_disparities, one_vs_rest, worst_disparities

#: The scores of a trade-off table beside accuracy (:func:`tradeoff_scores`).
TRADEOFF_COLUMNS = (*DISPARITIES, "false_positive_rate_difference")


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


def tradeoff_scores(counts: np.ndarray) -> dict[str, float]:
    """:func:`count_scores` of expected counts ``C[g, y, ŷ]`` plus the largest false positive
    rate gap (the worst class's, one-vs-rest, when multiclass): a trade-off table's row."""
    per_class = counts[None] if counts.shape[-1] == 2 else one_vs_rest(counts)
    fpr = group_metrics.false_positive_rate(per_class)
    gap = group_metrics.disparity(fpr, np.zeros(len(fpr)), method="between_groups",
                                  kind="difference").max()
    return {**count_scores(counts), "false_positive_rate_difference": float(gap)}
