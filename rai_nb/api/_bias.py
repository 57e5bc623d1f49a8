"""``rai_nb.bias``: group fairness metrics from one pass of sufficient statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import is_partitioned, partitioned
from ..errors import RaiError
from ..findings._bias_tables import bias_tables
from ..frame import encode_bias_inputs
from ..frame._bias_counts import bias_counts, partitioned_bias_counts
from ..results import BiasResult


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
    data : pandas.DataFrame, dask.dataframe.DataFrame or pyspark.sql.DataFrame
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
    if is_partitioned(data):
        counts = partitioned_bias_counts(partitioned(data), options=options, **draws)
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
