"""``rai_nb.bias``: group fairness metrics from one pass of confusion counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..frame import EncodedColumn, encode_bias_inputs, is_dask_frame
from ..results import BiasResult
from ..stats.bias import (
    DISPARITIES,
    bias_statistics,
    bootstrap_replicates,
    clarify_names,
    facet_onehots,
    percentile_interval,
)
from ..stats.counts import confusion_counts, score_histograms
from ..stats.group_metrics import GROUP_METRICS, expected_calibration_error


def bias(
    data: pd.DataFrame,
    *,
    target,
    sensitive,
    prediction=None,
    score=None,
    positive_label=None,
    group_variable=None,
    threshold: float = 0.5,
    n_boot: int = 0,
    ci: float = 0.95,
    random_state=0,
) -> BiasResult:
    """Group fairness metrics of labels and predictions over sensitive groups.

    Parameters
    ----------
    data : pandas.DataFrame or dask.dataframe.DataFrame
        The rows to audit. Never modified. A Dask frame is counted partition by partition by
        Dask's own scheduler and gives the same result as the pandas path.
    target : str or array-like
        Column name (or values) of the true labels.
    sensitive : str, list of str, or dict
        Sensitive column(s). Several columns give intersectional groups in ``by_group`` and
        one facet per value in ``clarify``. A dict ``{column: threshold}`` splits a numeric
        column into ``<= threshold`` and ``> threshold`` (``None`` keeps it categorical).
    prediction : str or array-like, optional
        Predicted labels, in the same classes as ``target``.
    score : str or array-like, optional
        Predicted probability of the positive class; adds ``ece`` per group, and gives
        ``prediction = score >= threshold`` when no prediction is passed.
    positive_label : scalar or list, optional
        The favourable outcome(s). Needed unless labels are 0/1, -1/1 or booleans.
    group_variable : str or array-like, optional
        Strata for Clarify's conditional demographic disparity (CDDL, CDDPL).
    n_boot : int, default 0
        Bootstrap resamples for percentile intervals (0: none).
    ci : float, default 0.95
        Coverage of the intervals.
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the bootstrap: fixed by default, so the same data gives the same intervals on
        every run (as fairlearn's ``random_state``); None draws a fresh seed.

    Returns
    -------
    BiasResult

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0], "yhat": [1, 0, 0, 0], "sex": list("FFMM")})
    >>> result = rai_nb.bias(df, target="y", prediction="yhat", sensitive="sex")
    >>> result.by_group["selection_rate"].tolist()
    [0.5, 0.0]
    >>> float(result.disparities["demographic_parity_difference"])
    0.5
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise RaiError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < ci < 1:
        raise RaiError(f"ci must lie strictly between 0 and 1, got {ci!r}")
    options = dict(target=target, sensitive=sensitive, prediction=prediction, score=score,
                   positive_label=positive_label, group_variable=group_variable,
                   threshold=threshold)
    if is_dask_frame(data):
        from ._dask import dask_bias_counts

        counts = dask_bias_counts(data, **options)
    else:
        counts = bias_counts(encode_bias_inputs(data, **options))
    return _result(counts, n_boot=n_boot, ci=ci, random_state=random_state)


@dataclass(frozen=True)
class BiasCounts:
    """The sufficient statistics of a bias audit and the labels of their axes.

    ``tensor[g, s, y, ŷ]`` counts rows per group, stratum and labels; ``histograms`` are
    ``score_histograms`` per group (or None without scores).
    """

    tensor: np.ndarray
    histograms: np.ndarray | None
    facets: tuple
    groups: EncodedColumn
    group_variable: EncodedColumn | None
    target: object
    positive_label: object
    predicted: bool


def bias_counts(inputs) -> BiasCounts:
    """One pass over encoded rows: the count tensor (and score histograms)."""
    n_groups = inputs.groups.n_levels
    n_strata = inputs.group_variable.n_levels if inputs.group_variable is not None else 1
    tensor = confusion_counts(inputs.group_codes, inputs.y_true, inputs.y_pred,
                              n_groups=n_groups * n_strata, xp=inputs.xp)
    histograms = None
    if inputs.y_score is not None:
        histograms = score_histograms(inputs.group_codes, inputs.y_true, inputs.y_score,
                                      n_groups=n_groups * n_strata, xp=inputs.xp)
        histograms = histograms.reshape(3, n_groups, n_strata, -1).sum(axis=2)
    return BiasCounts(
        tensor=tensor.reshape(n_groups, n_strata, 2, 2), histograms=histograms,
        facets=inputs.facets, groups=inputs.groups, group_variable=inputs.group_variable,
        target=inputs.target, positive_label=inputs.positive_label,
        predicted=inputs.y_pred is not None)


def _result(counts: BiasCounts, *, n_boot: int, ci: float, random_state) -> BiasResult:
    tensor, predicted = counts.tensor, counts.predicted
    onehots = facet_onehots(_facet_codes_of_groups(counts), [f.n_levels for f in counts.facets])
    stats = bias_statistics(tensor, onehots, predicted=predicted)
    tables = _tables(counts, stats, predicted, stratified=tensor.shape[1] > 1)
    if counts.histograms is not None:
        tables["by_group"]["ece"] = expected_calibration_error(counts.histograms)
        tables["overall"]["ece"] = float(expected_calibration_error(counts.histograms.sum(axis=1)))
    if n_boot:
        replicates = bootstrap_replicates(tensor, n_boot=n_boot, random_state=random_state)
        tables["intervals"] = _interval_table(
            stats, bias_statistics(replicates, onehots, predicted=predicted), ci, tables, predicted)
    return BiasResult(
        target=counts.target, positive_label=counts.positive_label,
        sensitive=tuple(f.name for f in counts.facets), has_predictions=predicted,
        counts=tensor.sum(axis=1), n_boot=int(n_boot), ci=ci, **tables)


def _tables(inputs, stats, predicted: bool, *, stratified: bool) -> dict:
    """The point estimates as labelled pandas objects."""
    by_group = pd.DataFrame(stats["by_group"], index=_group_index(inputs),
                            columns=list(GROUP_METRICS))
    by_group["count"] = by_group["count"].astype(np.int64)
    facet_index = pd.MultiIndex.from_tuples(
        [(f.name, level) for f in inputs.facets for level in f.levels], names=["sensitive", "facet"])
    disparities = pd.Series(stats["disparities"], index=list(DISPARITIES), name="disparity")
    return {
        "by_group": by_group,
        "overall": pd.Series(stats["overall"], index=list(GROUP_METRICS), name="overall"),
        "clarify": pd.DataFrame(stats["clarify"], index=facet_index,
                                columns=clarify_names(predicted, stratified)),
        "disparities": disparities if predicted else disparities.iloc[:0],
    }


def _facet_codes_of_groups(inputs) -> list[np.ndarray]:
    """For each sensitive column, the level code of every intersection group."""
    positions = [{level: i for i, level in enumerate(f.levels)} for f in inputs.facets]
    return [np.array([lookup[group[j]] for group in inputs.groups.levels], dtype=np.int64)
            for j, lookup in enumerate(positions)]


def _group_index(inputs) -> pd.Index:
    names = [f.name for f in inputs.facets]
    if len(names) == 1:
        return pd.Index([g[0] for g in inputs.groups.levels], name=names[0])
    return pd.MultiIndex.from_tuples(list(inputs.groups.levels), names=names)


def _interval_table(stats, replicates, ci, tables, predicted) -> pd.DataFrame:
    """Long table (table, row, metric) → estimate, lower, upper."""
    blocks = [
        ("by_group", [str(g) if not isinstance(g, tuple) else " · ".join(map(str, g))
                      for g in tables["by_group"].index], list(GROUP_METRICS)),
        ("clarify", [f"{c} = {v}" for c, v in tables["clarify"].index],
         list(tables["clarify"].columns)),
    ]
    if predicted:
        blocks.append(("disparities", ["all groups"], list(DISPARITIES)))
    frames = []
    for key, rows, metrics in blocks:
        estimate = np.asarray(stats[key]).reshape(len(rows), len(metrics))
        low, high = percentile_interval(np.asarray(replicates[key]).reshape(
            -1, len(rows), len(metrics)), ci)
        index = pd.MultiIndex.from_product([[key], rows, metrics], names=["table", "row", "metric"])
        frames.append(pd.DataFrame({"estimate": estimate.ravel(), "lower": low.ravel(),
                                    "upper": high.ravel()}, index=index))
    table = pd.concat(frames)
    return table.drop(index="count", level="metric", errors="ignore")
