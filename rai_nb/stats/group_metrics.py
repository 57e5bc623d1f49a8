"""fairlearn-style per-group metrics as functions of confusion counts ``C[..., y, ŷ]``.

Each function takes counts with any leading shape (groups, bootstrap replicates, …) and returns
an array of that shape. Zero denominators follow scikit-learn's and fairlearn's conventions:
a rate whose denominator is zero is 0.
"""

from __future__ import annotations

import numpy as np


def _cells(counts):
    c = np.asarray(counts, dtype=np.float64)
    return c[..., 0, 0], c[..., 0, 1], c[..., 1, 0], c[..., 1, 1]  # tn, fp, fn, tp


def _rate(num, den):
    return np.divide(num, den, out=np.zeros(np.broadcast_shapes(np.shape(num), np.shape(den))),
                     where=den != 0)


def count(counts):
    """Number of rows."""
    return np.asarray(counts, dtype=np.float64).sum(axis=(-2, -1))


def base_rate(counts):
    """Share of rows whose true label is positive."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tp + fn, tn + fp + fn + tp)


def selection_rate(counts):
    """Share of rows predicted positive."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tp + fp, tn + fp + fn + tp)


def accuracy(counts):
    """Share of rows predicted correctly."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tp + tn, tn + fp + fn + tp)


def true_positive_rate(counts):
    """Recall: share of actual positives predicted positive."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tp, tp + fn)


def true_negative_rate(counts):
    """Specificity: share of actual negatives predicted negative."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tn, tn + fp)


def false_positive_rate(counts):
    """Share of actual negatives predicted positive."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(fp, tn + fp)


def false_negative_rate(counts):
    """Share of actual positives predicted negative."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(fn, tp + fn)


def precision(counts):
    """Share of predicted positives that are actual positives."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(tp, tp + fp)


def f1(counts):
    """Harmonic mean of precision and recall, ``2tp / (2tp + fp + fn)``."""
    tn, fp, fn, tp = _cells(counts)
    return _rate(2 * tp, 2 * tp + fp + fn)


def balanced_accuracy(counts):
    """Mean recall over the classes present among the true labels (scikit-learn's definition)."""
    tn, fp, fn, tp = _cells(counts)
    has_pos, has_neg = (tp + fn) > 0, (tn + fp) > 0
    present = has_pos.astype(np.float64) + has_neg
    total = true_positive_rate(counts) * has_pos + true_negative_rate(counts) * has_neg
    return _rate(total, present)


#: Metrics reported per group, in display order (name → function of counts).
GROUP_METRICS = {
    "count": count,
    "base_rate": base_rate,
    "selection_rate": selection_rate,
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "precision": precision,
    "recall": true_positive_rate,
    "f1": f1,
    "true_positive_rate": true_positive_rate,
    "true_negative_rate": true_negative_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
}

#: Metrics that need no predictions (computed on labels alone).
LABEL_METRICS = ("count", "base_rate")


def metric_table(counts, names=None) -> np.ndarray:
    """Stack metrics of ``counts`` (shape ``(..., 2, 2)``) into shape ``(..., n_metrics)``."""
    names = list(GROUP_METRICS) if names is None else names
    return np.stack([GROUP_METRICS[name](counts) for name in names], axis=-1)


def expected_calibration_error(histograms) -> np.ndarray:
    """ECE per group from :func:`rai_nb.stats.counts.score_histograms` output.

    ``ECE = Σ_b (n_b / n) · |mean label_b − mean score_b|`` (Naeini et al., AAAI 2015).
    """
    n, score_sum, label_sum = histograms
    gap = np.abs(label_sum - score_sum)  # n_b · |mean label − mean score|
    return _rate(gap.sum(axis=-1), n.sum(axis=-1))


def disparity(values, overall, *, method: str, kind: str):
    """fairlearn's ``difference``/``ratio`` of per-group ``values`` along axis -1.

    ``method`` is ``between_groups`` (max − min, min / max) or ``to_overall`` (largest
    absolute gap to ``overall``; smallest ratio to it, each ratio taken as ≤ 1).
    """
    values = np.asarray(values, dtype=np.float64)
    overall = np.asarray(overall, dtype=np.float64)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "difference":
            if method == "between_groups":
                return np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1)
            return np.nanmax(np.abs(values - overall), axis=-1)
        if method == "between_groups":
            return np.nanmin(values, axis=-1) / np.nanmax(values, axis=-1)
        ratios = values / overall
        ratios = np.where(ratios > 1, 1 / ratios, ratios)
        return _nanmin_or_nan(ratios)


def _nanmin_or_nan(values):
    all_nan = np.all(np.isnan(values), axis=-1)
    filled = np.where(np.isnan(values), np.inf, values)
    return np.where(all_nan, np.nan, filled.min(axis=-1))
