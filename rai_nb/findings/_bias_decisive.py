"""The disparities that an audit's findings grade: among groups large enough to decide.

A disparity over every group (fairlearn's) lets a one-row group decide a fail. The findings
instead compare groups of at least ``min_group_size`` rows, and say which two groups make the
gap, their sizes and the bootstrap interval of that same restricted disparity.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..stats.bias import DISPARITIES, percentile_interval

#: Per task: finding name → (per-group metrics compared, worst of them, kind). ``largest``
#: is the largest per-group value (a distance of each group to all rows).
DECISIVE = {
    "binary": {name: DISPARITIES[name] for name in (
        "demographic_parity_ratio", "equalized_odds_difference", "equal_opportunity_difference")},
    "regression": {
        "statistical_parity_ks": (("prediction_ks",), max, "largest"),
        "mean_absolute_error_ratio": (("mean_absolute_error",), min, "ratio"),
    },
}
DECISIVE["multiclass"] = DECISIVE["binary"]

_COLUMNS = ["value", "lower", "upper", "metric", "class", "high_group", "high_value",
            "high_rows", "low_group", "low_value", "low_rows"]


def decisive_table(task, metrics, values, replicates, rows, groups, *, min_group_size: int,
                   ci: float, classes=(), extremes=None) -> pd.DataFrame:
    """One row per finding of ``task``: its value among the groups of ``min_group_size``
    rows or more, the interval of that value, and the groups at each end.

    ``values`` is ``(G, M)`` per-group metrics in ``metrics`` order (``(K, G, M)`` per class,
    one-vs-rest, for a multiclass task: the worst class is reported), ``replicates`` the same
    with a leading bootstrap axis, or None; ``rows`` the row count per group and ``groups``
    their labels. Instead of ``replicates``, ``extremes`` may give each replicate's
    NaN-ignoring min and max over the groups of ``min_group_size`` rows or more,
    ``(B, [K,] 2, M)``: the findings depend on the replicates only through them.
    """
    large = np.asarray(rows) >= min_group_size
    if replicates is not None:
        extremes = _extremes(np.asarray(replicates), large)
    per_class = task == "multiclass"
    records = []
    for names, worst, kind in DECISIVE[task].values():
        columns = [list(metrics).index(m) for m in names]
        point = _spread(_extremes(np.asarray(values)[..., columns], large), kind)
        value, column = _worst(point, worst)
        k = 0
        if per_class:  # the class whose disparity is worst
            k = _worst_index(value, worst)
            value, column = value[k], column[k]
        column = int(column)
        lower = upper = np.nan
        if extremes is not None:
            reps = _worst(_spread(np.asarray(extremes)[..., columns], kind), worst)[0]
            reps = reps[:, k] if per_class else reps
            lower, upper = (float(b[0]) for b in percentile_interval(reps[:, None], ci))
        cell = np.asarray(values)[k] if per_class else np.asarray(values)
        shown = np.where(large, cell[:, columns[column]] if np.isfinite(value) else np.nan,
                         np.nan)
        records.append(_record(value, lower, upper, names[column],
                               classes[k] if per_class else None, shown, rows, groups, kind))
    return pd.DataFrame(records, index=pd.Index(list(DECISIVE[task]), name="finding"),
                        columns=_COLUMNS)


def _extremes(values, large) -> np.ndarray:
    """``(..., G, M)`` → ``(..., 2, M)``: the NaN-ignoring min and max over the large groups."""
    masked = np.where(large[:, None], values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no large group: NaN, said in the text
        return np.stack([np.nanmin(masked, axis=-2), np.nanmax(masked, axis=-2)], axis=-2)


def _spread(extremes, kind) -> np.ndarray:
    """``(..., 2, C)`` → ``(..., C)``: the gap, ratio or largest value from the extremes."""
    low, high = extremes[..., 0, :], extremes[..., 1, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "difference":
            return high - low
        if kind == "ratio":
            return low / high
        return high


def _worst(spread, worst):
    """The worst of ``spread[..., C]`` over its metrics (NaN-ignoring) and which metric."""
    filled = np.where(np.isnan(spread), -np.inf if worst is max else np.inf, spread)
    column = filled.argmax(axis=-1) if worst is max else filled.argmin(axis=-1)
    value = np.take_along_axis(spread, column[..., None], axis=-1)[..., 0]
    return value, column


def _worst_index(values, worst) -> int:
    filled = np.where(np.isnan(values), -np.inf if worst is max else np.inf, values)
    return int(filled.argmax() if worst is max else filled.argmin())


def _record(value, lower, upper, metric, klass, shown, rows, groups, kind) -> list:
    if not np.isfinite(shown).any():
        return [float(value), lower, upper, metric, klass] + [None, np.nan, 0] * 2
    high, low = int(np.nanargmax(shown)), int(np.nanargmin(shown))
    if kind == "largest":
        low = high
    return [float(value), lower, upper, metric, klass,
            groups[high], float(shown[high]), int(rows[high]),
            groups[low], float(shown[low]), int(rows[low])]
