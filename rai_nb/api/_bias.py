"""``rai_nb.bias``: group fairness metrics from one pass of sufficient statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..frame import EncodedColumn, encode_bias_inputs, is_dask_frame
from ..results import BiasResult
from ._bias_tables import bias_tables


def bias(
    data: pd.DataFrame,
    *,
    target,
    sensitive,
    prediction=None,
    score=None,
    positive_label=None,
    task=None,
    sample_weight=None,
    group_variable=None,
    threshold: float = 0.5,
    label_threshold: float | None = None,
    min_group_size: int = 30,
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
        Column name (or values) of the true labels, classes or quantities.
    sensitive : str, list of str, or dict
        Sensitive column(s). Several columns give intersectional groups in ``by_group`` and
        one facet per value in ``clarify``. A dict maps a column to how it is grouped: an int
        ``n`` for ``n`` quantile bins, a list of bin edges, a float threshold (Clarify's
        ``<= t`` and ``> t``) or None for one group per value. A numeric column with more
        than 10 distinct values, named without a cut, is binned into 4 quantile groups; the
        result says so.
    prediction : str or array-like, optional
        Predictions, in the same classes (or units) as ``target``.
    score : str or array-like, optional
        Binary tasks: predicted probability of the positive class; adds ``ece`` per group,
        and gives ``prediction = score >= threshold`` when no prediction is passed.
    positive_label : scalar or list, optional
        Binary tasks: the favourable outcome(s). Needed unless labels are 0/1, -1/1 or
        booleans.
    task : {"binary", "multiclass", "regression"}, optional
        Default: inferred from the target (two values: binary; numbers with fractional parts
        or many distinct values: regression; 3+ classes: multiclass) and said in the result.
    sample_weight : str or array-like, optional
        Row weights: every metric is weighted as scikit-learn's ``sample_weight`` (fairlearn's
        ``MetricFrame`` with ``sample_params``); ``count`` stays the number of rows.
    group_variable : str or array-like, optional
        Strata for Clarify's conditional demographic disparity (CDDL, CDDPL).
    threshold : float, default 0.5
        Score threshold for the predicted label when only ``score`` is given.
    label_threshold : float, optional
        Regression: Clarify's metrics on ``target > label_threshold`` (and prediction >
        threshold) as the favourable outcome, as Clarify does for a continuous label.
    min_group_size : int, default 30
        Groups with fewer rows are flagged and never decide a finding (the metrics themselves
        cover every group, as fairlearn's do).
    n_boot : int, default 0
        Bootstrap resamples for percentile intervals (0: none). Classification resamples the
        count tensor (multinomial); regression draws Poisson(1) row weights.
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
    if (isinstance(min_group_size, bool) or not isinstance(min_group_size, (int, np.integer))
            or min_group_size < 1):
        raise RaiError(f"min_group_size must be a positive integer, got {min_group_size!r}")
    if label_threshold is not None and not np.isfinite(_number(label_threshold)):
        raise RaiError(f"label_threshold must be a finite number, got {label_threshold!r}")
    options = dict(target=target, sensitive=sensitive, prediction=prediction, score=score,
                   positive_label=positive_label, task=task, sample_weight=sample_weight,
                   group_variable=group_variable, threshold=threshold)
    seed = bootstrap_seed(random_state)
    draws = dict(label_threshold=label_threshold, n_boot=int(n_boot), seed=seed)
    if is_dask_frame(data):
        from ._dask import dask_bias_counts

        counts = dask_bias_counts(data, options=options, **draws)
    else:
        counts = bias_counts(encode_bias_inputs(data, **options), **draws)
    tables = bias_tables(counts, n_boot=int(n_boot), ci=ci, seed=seed,
                         min_group_size=int(min_group_size))
    return BiasResult(
        task=counts.task, task_inferred=counts.task_inferred, target=counts.target,
        positive_label=counts.positive_label, classes=counts.classes,
        sensitive=tuple(f.name for f in counts.facets), has_predictions=counts.predicted,
        weighted=counts.weighted,
        counts=None if counts.tensor is None else counts.tensor.sum(axis=1), n_boot=int(n_boot), ci=ci,
        min_group_size=int(min_group_size), label_threshold=label_threshold,
        binned={f.name: text for f, cut in zip(counts.facets, counts.cuts)
                if (text := cut.describe(f.name)) is not None},
        **tables)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def bootstrap_seed(random_state) -> int:
    """An integer seed for the bootstrap from ``random_state`` (int, Generator or None)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise RaiError(f"random_state must be an int, a numpy Generator or None, got "
                       f"{random_state!r}")
    return int(random_state)


@dataclass(frozen=True)
class BiasCounts:
    """The sufficient statistics of a bias audit and the labels of their axes.

    ``rows[g]`` counts rows per group. Classification: ``tensor[g, s, y, ŷ]`` sums rows (or
    weights) per group, stratum of the group variable and class; ``histograms`` are
    ``score_histograms`` per group. Regression: ``sums`` per group (see
    :func:`rai_nb.stats.regression.regression_sums`), the KS and Wasserstein ``gaps`` of each
    group's predictions to all rows (a partition keeps its exact ``distribution`` instead,
    to be merged), Poisson bootstrap replicates of both, and with a ``label_threshold``
    the binary ``tensor`` of ``target > t`` and ``prediction > t`` for Clarify's metrics.
    """

    task: str
    task_inferred: bool
    rows: np.ndarray
    tensor: np.ndarray | None
    histograms: np.ndarray | None
    facets: tuple
    cuts: tuple
    groups: EncodedColumn
    group_variable: EncodedColumn | None
    target: object
    positive_label: object
    classes: tuple
    predicted: bool
    weighted: bool
    shift: float = 0.0
    sums: np.ndarray | None = None
    distribution: object | None = None
    gaps: tuple | None = None
    replicate_sums: np.ndarray | None = None
    replicate_gaps: tuple | None = None


def bias_counts(inputs, *, label_threshold=None, n_boot: int = 0, seed: int = 0,
                offset: int | None = None, shift: float | None = None) -> BiasCounts:
    """One pass over encoded rows: the sufficient statistics of ``inputs.target.task``.

    A partition of a larger data set passes ``offset`` (the global position of its first
    row) and ``shift`` (the target's weighted mean over the whole data), so it draws the same
    bootstrap weights and sums as the whole would.
    """
    from ..stats.counts import confusion_counts, score_histograms

    n_groups = inputs.groups.n_levels
    n_strata = inputs.group_variable.n_levels if inputs.group_variable is not None else 1
    task, xp = inputs.target.task, inputs.xp
    regression = task == "regression"
    n_classes = 2 if task != "multiclass" else len(inputs.target.classes)
    y_true, y_pred = inputs.y_true, inputs.y_pred
    if regression:
        shift = _weighted_mean(y_true, inputs.weights, xp) if shift is None else shift
        if label_threshold is not None:
            y_true = y_true > label_threshold
            y_pred = None if y_pred is None else y_pred > label_threshold
    tensor = None
    if not regression or label_threshold is not None:
        tensor = confusion_counts(inputs.group_codes, y_true, y_pred,
                                  n_groups=n_groups * n_strata, n_classes=n_classes,
                                  weights=inputs.weights, xp=xp)
        tensor = tensor.reshape(n_groups, n_strata, n_classes, n_classes)
    histograms = None
    if inputs.y_score is not None:
        histograms = score_histograms(inputs.group_codes, y_true, inputs.y_score,
                                      n_groups=n_groups * n_strata, xp=xp)
        histograms = histograms.reshape(3, n_groups, n_strata, -1).sum(axis=2)
    regression_parts = (_regression_parts(inputs, n_boot=n_boot, seed=seed, offset=offset,
                                          shift=shift) if regression else {})
    rows = (tensor.sum(axis=(1, 2, 3)).astype(np.int64)
            if tensor is not None and inputs.weights is None
            else np.bincount(np.asarray(inputs.groups.codes), minlength=n_groups))
    return BiasCounts(
        task=task, task_inferred=inputs.target.inferred, rows=rows, tensor=tensor,
        histograms=histograms, facets=inputs.facets, cuts=inputs.cuts, groups=inputs.groups,
        group_variable=inputs.group_variable, target=inputs.target.name,
        positive_label=inputs.target.positive_label, classes=inputs.target.classes,
        predicted=inputs.y_pred is not None, weighted=inputs.weights is not None,
        shift=float(shift or 0.0), **regression_parts)


def _regression_parts(inputs, *, n_boot, seed, offset, shift) -> dict:
    from ..stats import regression as reg

    n_groups, xp = inputs.groups.n_levels, inputs.xp
    codes = inputs.group_codes
    if inputs.group_variable is not None:  # regression sums are per group, not per stratum
        codes = codes // inputs.group_variable.n_levels
    y_pred = inputs.y_pred if inputs.y_pred is not None else inputs.y_true
    parts = {"sums": reg.regression_sums(codes, inputs.y_true, y_pred, inputs.weights,
                                         n_groups=n_groups, shift=shift, xp=xp)}
    if inputs.y_pred is not None and offset is None:
        parts["gaps"] = reg.prediction_gaps(codes, inputs.y_pred, inputs.weights,
                                            n_groups=n_groups)
    elif inputs.y_pred is not None:  # a partition: its distribution merges with the others'
        parts["distribution"] = reg.prediction_distribution(codes, inputs.y_pred, inputs.weights,
                                                            n_groups=n_groups)
    if n_boot:
        sums, ks, wasserstein = reg.poisson_bootstrap(
            codes, inputs.y_true, y_pred, inputs.weights, n_groups=n_groups, shift=shift,
            n_boot=n_boot, seed=seed, offset=offset or 0,
            gaps=offset is None and inputs.y_pred is not None)
        parts["replicate_sums"] = sums
        if inputs.y_pred is not None and offset is None:  # a partition's gaps are not the whole's
            parts["replicate_gaps"] = (ks, wasserstein)
    return parts


def _weighted_mean(values, weights, xp) -> float:
    if weights is None:
        return float(xp.mean(values))
    return float(xp.sum(values * weights) / xp.sum(weights))
