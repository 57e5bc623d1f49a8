"""SageMaker Clarify bias metrics as functions of confusion counts.

Definitions, signs and zero-denominator conventions follow the Clarify paper (Das et al.,
"Amazon SageMaker Clarify", KDD 2021) and the ``smclarify`` package: facet *d* is the group
under study, *a* is everyone else; differences are taken *a − d* unless the metric says
otherwise. Every function accepts counts with any leading shape ``(..., 2, 2)`` indexed
``[y, ŷ]`` and returns arrays of the leading shape, so facets and bootstrap replicates are
computed together.
"""

from __future__ import annotations

import numpy as np

from .group_metrics import GROUP_METRICS

#: One-line definitions, shown in reports.
DESCRIPTIONS = {
    "CI": "Class imbalance: (n_a − n_d) / (n_a + n_d)",
    "DPL": "Difference in positive proportions in labels: q_a − q_d",
    "KL": "Kullback–Leibler divergence of the label distributions, KL(P_a ‖ P_d)",
    "JS": "Jensen–Shannon divergence of the label distributions",
    "LP": "L2 norm of the difference of the label distributions",
    "TVD": "Total variation distance of the label distributions",
    "KS": "Largest absolute difference of the label distributions",
    "CDDL": "Conditional demographic disparity in labels, weighted over group_variable strata",
    "DPPL": "Difference in positive proportions in predicted labels: q̂_a − q̂_d",
    "DI": "Disparate impact: q̂_d / q̂_a",
    "DCA": "Difference in conditional acceptance: n_a(1)/n̂_a(1) − n_d(1)/n̂_d(1)",
    "DCR": "Difference in conditional rejection: n_d(0)/n̂_d(0) − n_a(0)/n̂_a(0)",
    "SD": "Specificity difference: TNR_d − TNR_a",
    "RD": "Recall difference: TPR_a − TPR_d",
    "DAR": "Difference in acceptance rates (precision): TP_a/n̂_a(1) − TP_d/n̂_d(1)",
    "DRR": "Difference in rejection rates: TN_d/n̂_d(0) − TN_a/n̂_a(0)",
    "AD": "Accuracy difference: ACC_a − ACC_d",
    "TE": "Treatment equality: FN_d/FP_d − FN_a/FP_a",
    "CDDPL": "Conditional demographic disparity in predicted labels",
    "GE": "Generalized entropy index (α = 2) of the benefits ŷ − y + 1 (whole data set)",
}

PRETRAINING = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")
CONDITIONAL = ("CDDL", "CDDPL")
POSTTRAINING = ("DPPL", "DI", "DCA", "DCR", "SD", "RD", "DAR", "DRR", "AD", "TE", "CDDPL", "GE")


def divide(num, den):
    """Clarify's division: 0/0 = 0 and x/0 = ±inf."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den == 0, np.where(num == 0, 0.0, np.copysign(np.inf, num)), out)


def _gap(first, second):
    """``first − second``, except that inf − inf (both undefined) is 0, as in Clarify."""
    with np.errstate(invalid="ignore"):
        out = first - second
    return np.where(np.isinf(first) & (first == second), 0.0, out)


def _split(counts):
    c = np.asarray(counts, dtype=np.float64)
    return c[..., 0, 0], c[..., 0, 1], c[..., 1, 0], c[..., 1, 1]  # tn, fp, fn, tp


def pretraining(facet, rest) -> dict[str, np.ndarray]:
    """CI, DPL, KL, JS, LP, TVD and KS of ``facet`` (d) against ``rest`` (a)."""
    n_d = np.asarray(facet, dtype=np.float64).sum(axis=(-2, -1))
    n_a = np.asarray(rest, dtype=np.float64).sum(axis=(-2, -1))
    labels_d = np.asarray(facet, dtype=np.float64).sum(axis=-1)  # (..., 2): label 0, label 1
    labels_a = np.asarray(rest, dtype=np.float64).sum(axis=-1)
    out = {"CI": divide(n_a - n_d, n_a + n_d)}
    out["DPL"] = divide(labels_a[..., 1], n_a) - divide(labels_d[..., 1], n_d)
    out.update(label_divergences(divide(labels_a, n_a[..., None]), divide(labels_d, n_d[..., None])))
    return out


def label_divergences(p_a, p_d) -> dict[str, np.ndarray]:
    """KL, JS, LP, TVD, KS between label distributions ``p_a`` and ``p_d`` (last axis).

    As in Clarify, only labels with non-zero probability in both distributions enter the sums;
    when no label is shared the metrics are undefined (NaN).
    """
    shared = (p_a > 0) & (p_d > 0)
    a = np.where(shared, p_a, 1.0)
    d = np.where(shared, p_d, 1.0)
    mid = (a + d) / 2
    diff = np.where(shared, p_a - p_d, 0.0)
    undefined = ~shared.any(axis=-1)
    out = {
        "KL": np.sum(np.where(shared, a * np.log(a / d), 0.0), axis=-1),
        "JS": 0.5 * np.sum(np.where(shared, a * np.log(a / mid) + d * np.log(d / mid), 0.0),
                           axis=-1),
        "LP": np.sqrt(np.sum(diff**2, axis=-1)),
        "TVD": 0.5 * np.sum(np.abs(diff), axis=-1),
        "KS": np.max(np.abs(diff), axis=-1),
    }
    return {name: np.where(undefined, np.nan, value) for name, value in out.items()}


def posttraining(facet, rest) -> dict[str, np.ndarray]:
    """DPPL, DI, DCA, DCR, SD, RD, DAR, DRR, AD and TE of ``facet`` (d) against ``rest`` (a)."""
    tn_d, fp_d, fn_d, tp_d = _split(facet)
    tn_a, fp_a, fn_a, tp_a = _split(rest)
    n_d, n_a = tn_d + fp_d + fn_d + tp_d, tn_a + fp_a + fn_a + tp_a
    q_d, q_a = divide(tp_d + fp_d, n_d), divide(tp_a + fp_a, n_a)
    out = {"DPPL": q_a - q_d, "DI": divide(q_d, q_a)}
    out["DCA"] = _gap(divide(tp_a + fn_a, tp_a + fp_a), divide(tp_d + fn_d, tp_d + fp_d))
    out["DCR"] = _gap(divide(tn_d + fp_d, tn_d + fn_d), divide(tn_a + fp_a, tn_a + fn_a))
    out["SD"] = divide(tn_d, tn_d + fp_d) - divide(tn_a, tn_a + fp_a)
    out["RD"] = divide(tp_a, tp_a + fn_a) - divide(tp_d, tp_d + fn_d)
    out["DAR"] = divide(tp_a, tp_a + fp_a) - divide(tp_d, tp_d + fp_d)
    out["DRR"] = divide(tn_d, tn_d + fn_d) - divide(tn_a, tn_a + fn_a)
    out["AD"] = GROUP_METRICS["accuracy"](rest) - GROUP_METRICS["accuracy"](facet)
    out["TE"] = _gap(divide(fn_d, fp_d), divide(fn_a, fp_a))
    return out


def conditional_demographic_disparity(facet_strata, all_strata, *, predicted: bool):
    """CDDL (labels) or CDDPL (``predicted=True``) over strata on axis -3.

    ``facet_strata`` and ``all_strata`` are counts ``(..., S, 2, 2)`` of the facet and of all
    rows in each stratum of ``group_variable``. For each stratum,
    ``DD = n_d(0)/n(0) − n_d(1)/n(1)`` (0 where a denominator is 0), and
    ``CDD = Σ n_i · DD_i / Σ n_i`` over strata that occur.
    """
    axis = -2 if predicted else -1  # sum out the other label to split by ŷ or by y
    facet_split = np.asarray(facet_strata, dtype=np.float64).sum(axis=axis)  # (..., S, 2)
    all_split = np.asarray(all_strata, dtype=np.float64).sum(axis=axis)
    rejected = np.divide(facet_split[..., 0], all_split[..., 0],
                         out=np.zeros(facet_split.shape[:-1]), where=all_split[..., 0] != 0)
    accepted = np.divide(facet_split[..., 1], all_split[..., 1],
                         out=np.zeros(facet_split.shape[:-1]), where=all_split[..., 1] != 0)
    sizes = all_split.sum(axis=-1)
    return divide(np.sum(sizes * (rejected - accepted), axis=-1), np.sum(sizes, axis=-1))


def generalized_entropy(counts, alpha: float = 2.0):
    """Generalized entropy index of benefits ``b = ŷ − y + 1`` over all rows (Speicher et al. 2018).

    ``GE = Σ ((b / mean b)^α − 1) / (n α (α − 1))``; NaN when every row is a false negative.
    """
    tn, fp, fn, tp = _split(counts)
    n = tn + fp + fn + tp
    mean = divide(tn + tp + 2 * fp, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = (fn * 0.0**alpha + (tn + tp) * (1 / mean) ** alpha + fp * (2 / mean) ** alpha)
        value = (powered - n) / (n * alpha * (alpha - 1))
    return np.where(mean == 0, np.nan, value)
