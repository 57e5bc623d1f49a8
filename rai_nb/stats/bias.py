"""All bias statistics of an audit from one count tensor, and bootstrap intervals for them.

The count tensor ``T[..., g, s, y, ŷ]`` holds rows per intersection group ``g``, stratum ``s`` of
the optional ``group_variable`` (a single stratum without one), true and predicted label. Every
function here is vectorised over the leading ``...`` axes, so the point estimate and all
bootstrap replicates go through the same code.
"""

from __future__ import annotations

import numpy as np

from . import clarify
from .group_metrics import GROUP_METRICS, disparity, metric_table

#: Fairness summaries (fairlearn names) → (per-group metrics they compare, aggregate, kind).
DISPARITIES = {
    "demographic_parity_difference": (("selection_rate",), max, "difference"),
    "demographic_parity_ratio": (("selection_rate",), min, "ratio"),
    "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), max, "difference"),
    "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), min, "ratio"),
    "equal_opportunity_difference": (("true_positive_rate",), max, "difference"),
    "equal_opportunity_ratio": (("true_positive_rate",), min, "ratio"),
}

_RATE_COLUMNS = np.array([name != "count" for name in GROUP_METRICS])


def facet_onehots(facet_codes_of_group: list[np.ndarray], n_levels: list[int]) -> list:
    """For each sensitive column, a ``(levels, groups)`` 0/1 matrix: group g has level l.

    ``None`` stands for the identity (one sensitive column: its levels are the groups).
    """
    return [None if len(codes) == levels and np.array_equal(codes, np.arange(levels))
            else np.eye(levels, dtype=np.float64)[codes].T
            for codes, levels in zip(facet_codes_of_group, n_levels)]


def bias_statistics(tensor, onehots: list[np.ndarray], *, predicted: bool,
                    method: str = "between_groups") -> dict[str, np.ndarray]:
    """Per-group metrics, overall metrics, Clarify metrics per facet and fairness summaries.

    Returns arrays keyed ``by_group`` (..., G, M) in :data:`GROUP_METRICS` order, ``overall``
    (..., M), ``clarify`` (..., F, K) over all facets of all columns (columns in order, levels
    in order) and Clarify names in ``clarify_names(...)`` order, and ``disparities``
    (..., D) in :data:`DISPARITIES` order.
    """
    tensor = np.asarray(tensor, dtype=np.float64)
    counts = tensor.sum(axis=-3)
    total = counts.sum(axis=-3)
    by_group, overall = metric_table(counts), metric_table(total)
    # A group absent from a bootstrap replicate has no metrics (it never is in the data itself).
    empty = (counts.sum(axis=(-2, -1)) == 0)[..., None] & _RATE_COLUMNS
    by_group = np.where(empty, np.nan, by_group)
    clarify_values = np.concatenate(
        [_clarify_table(_facet_sums(hot, tensor), tensor, predicted) for hot in onehots], axis=-2)
    summaries = [_summary(by_group, overall, names, agg, kind, method)
                 for names, agg, kind in DISPARITIES.values()]
    return {"by_group": by_group, "overall": overall, "clarify": clarify_values,
            "disparities": np.stack(summaries, axis=-1)}


def _facet_sums(onehot, tensor):
    """Sum ``tensor[..., g, s, y, ŷ]`` over the groups of each facet level (a matrix product)."""
    if onehot is None:
        return tensor
    *lead, groups, strata, _, _ = tensor.shape
    flat = tensor.reshape(*lead, groups, strata * 4)
    return np.matmul(onehot, flat).reshape(*lead, onehot.shape[0], strata, 2, 2)


def clarify_names(predicted: bool, stratified: bool) -> list[str]:
    """Clarify metric names in the column order of ``bias_statistics(...)["clarify"]``.

    The conditional metrics (CDDL, CDDPL) need a ``group_variable``; post-training metrics
    need predictions.
    """
    names = list(clarify.PRETRAINING) + (list(clarify.POSTTRAINING) if predicted else [])
    return [n for n in names if stratified or n not in clarify.CONDITIONAL]


def _clarify_table(facet_strata, tensor, predicted: bool) -> np.ndarray:
    all_strata = tensor.sum(axis=-4)[..., None, :, :, :]
    facet = facet_strata.sum(axis=-3)
    rest = all_strata.sum(axis=-3) - facet
    stratified = tensor.shape[-3] > 1
    values = clarify.pretraining(facet, rest)
    values["CDDL"] = clarify.conditional_demographic_disparity(facet_strata, all_strata,
                                                               predicted=False)
    if predicted:
        values.update(clarify.posttraining(facet, rest))
        values["CDDPL"] = clarify.conditional_demographic_disparity(facet_strata, all_strata,
                                                                    predicted=True)
        whole = all_strata.sum(axis=-3)[..., 0, :, :]
        values["GE"] = np.broadcast_to(clarify.generalized_entropy(whole)[..., None],
                                       facet.shape[:-2])
    table = np.stack([values[name] for name in clarify_names(predicted, stratified)], axis=-1)
    n_facet, n_rest = facet.sum(axis=(-2, -1)), rest.sum(axis=(-2, -1))
    return np.where(((n_facet == 0) | (n_rest == 0))[..., None], np.nan, table)


def _summary(by_group, overall, names, agg, kind, method):
    columns = [list(GROUP_METRICS).index(name) for name in names]
    parts = [disparity(by_group[..., col], overall[..., col], method=method, kind=kind)
             for col in columns]
    if len(parts) == 1:
        return parts[0]
    stacked = np.stack(parts, axis=-1)
    # NaN-ignoring worst case: an undefined ratio (0/0) does not hide the defined one.
    return np.fmax.reduce(stacked, axis=-1) if agg is max else np.fmin.reduce(stacked, axis=-1)


def bootstrap_replicates(tensor, *, n_boot: int, random_state=None) -> np.ndarray:
    """``n_boot`` resamples of the rows behind ``tensor``, drawn as multinomial cell counts.

    Resampling N rows with replacement gives cell counts ~ Multinomial(N, T / N), so the cost
    depends on the number of cells, not of rows.
    """
    tensor = np.asarray(tensor, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    n = int(tensor.sum())
    draws = rng.multinomial(n, tensor.ravel() / n, size=n_boot)
    return draws.reshape((n_boot, *tensor.shape))


def percentile_interval(replicates: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over axis 0, ignoring undefined (NaN, ±inf) replicates.

    NumPy's default (linear) percentile of each cell's defined replicates, for every cell at
    once: one sort along the replicate axis, then interpolation between order statistics (a
    per-cell ``nanpercentile`` loops over cells in Python: minutes at 100k groups).
    """
    tail = (1 - ci) / 2
    finite = np.where(np.isfinite(replicates), replicates, np.nan)
    ordered = np.sort(finite, axis=0)  # NaN last
    count = np.isfinite(finite).sum(axis=0)
    return _order_statistic(ordered, count, tail), _order_statistic(ordered, count, 1 - tail)


def _order_statistic(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """The linear-interpolation ``q`` quantile of the first ``count`` values along axis 0."""
    position = np.maximum(count - 1, 0) * q
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    low = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
    high = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
    fraction = position - below
    with np.errstate(invalid="ignore"):
        value = np.where(fraction >= 0.5, high - (high - low) * (1 - fraction),
                         low + (high - low) * fraction)
    return np.where(count > 0, value, np.nan)
