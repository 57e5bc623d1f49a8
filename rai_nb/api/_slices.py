"""``rai_nb.slices``: where does the model fail, or treat people worst? SliceLine + Slice Finder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend import choose_namespace, is_on_device, to_device
from ..engine import is_partitioned, partitioned
from ..errors import BAD_OPTION, EMPTY_DATA, RaiError
from ..frame import describe_predicate, encode_slice_features
from ..frame._slice_losses import (
    _REGRESSION_LOSSES,
    LOSSES,
    check_weight_left,
    loss_moments,
    min_support,
    row_weights,
    slice_losses,
)
from ..frame._task import check_task, resolve_task
from ..results import SliceResult
from ..stats.significance import (
    alpha_investing,
    alpha_investing_levels,
    benjamini_hochberg,
    benjamini_hochberg_levels,
    effect_size,
    mean_variance,
    welch_test,
)
from ..stats.slicing import slice_line

#: False-discovery rules: the rejections and the level each slice's p-value was tested at.
_FDR_RULES = {"alpha_investing": (alpha_investing, alpha_investing_levels),
              "benjamini_hochberg": (benjamini_hochberg, benjamini_hochberg_levels)}
FDR = tuple(_FDR_RULES)
#: The search ``audit`` runs and ``%slices`` defaults to, so both show the same top slices on
#: the same data; the smallest slice is :func:`default_support`.
SHARED_SEARCH = {"k": 10, "max_l": 2}


def default_support(n_rows: int, weighted: bool) -> int | float:
    """The smallest slice of ``audit`` and ``%slices``: 1% of the rows and at least 30; with
    weights, the same share of the total weight (a slice's size is then its weight)."""
    if not weighted:
        return max(30, n_rows // 100)
    return min(0.5, max(30 / n_rows, 0.01))


def slices(
    data: pd.DataFrame,
    *,
    errors=None,
    model=None,
    target=None,
    prediction=None,
    loss: str | None = None,
    task=None,
    positive_label=None,
    sample_weight=None,
    features=None,
    bins: dict | None = None,
    n_bins: int = 10,
    alpha: float = 0.95,
    k: int = 10,
    max_l: int = 3,
    min_sup: float = 10,
    significance: float = 0.05,
    fdr: str = "alpha_investing",
) -> SliceResult:
    """The top-``k`` slices (conjunctions of ``column = value``) where the loss is worst.

    SliceLine (Sagadeeva & Boehm, SIGMOD 2021) finds the exact top-``k`` by its score, which
    trades the slice's mean loss against its size; each slice found is then tested against
    the other rows as in Slice Finder (Chung et al., ICDE 2019): effect size, one-sided Welch
    t-test and false-discovery control.

    Parameters
    ----------
    data : pandas.DataFrame
        The rows; never modified. Numeric columns with more than ``n_bins`` distinct values are
        cut at quantiles (a value held by more than ``1/n_bins`` of the rows gets its own bin);
        missing values form their own level.
    errors : str or array-like, optional
        Per-row loss (non-negative). Give either this or ``target`` with ``model`` or
        ``prediction``.
    model : estimator, optional
        Called as ``model.predict(X)`` (``predict_proba`` for log-loss), where ``X`` is
        ``data`` without the target, prediction and errors columns.
    target, prediction : str or array-like, optional
        True labels, and predicted labels when no model is given.
    loss : {"error", "log_loss", "false_positive_rate", "false_negative_rate", \
"selection_rate", "squared_error", "absolute_error"}, optional
        Default ``squared_error`` for a regression target, else ``error``. ``error`` is the
        0/1 error (any number of classes), ``log_loss`` the per-row cross-entropy (of the
        true class, for any number of classes), ``squared_error`` / ``absolute_error`` those
        of a regression's prediction. The fairness
        objectives search for the slices whose rate is worst against the rest: the highest
        false-positive rate (rows with negative label), the highest false-negative rate (rows
        with positive label), or the lowest selection rate (the loss is ``1 - ŷ``).
    task : {"binary", "multiclass", "regression"}, optional
        Default: inferred from the target as in :func:`rai_nb.bias`; it picks the default loss
        and refuses losses that do not apply (a 0/1 error of a quantity).
    positive_label : scalar, optional
        The favourable class for the fairness objectives (needed unless labels are 0/1).
    sample_weight : str or array-like, optional
        Row weights (finite, >= 0, not all zero), read as frequency weights: a row of weight
        ``w`` counts as ``w`` rows, so integer weights give the result of the data with each
        row repeated ``w`` times. A slice's ``size``, the ``n`` of the score and ``min_sup``
        are sums of weights, the mean losses weighted means, and the Welch test uses
        ``n = Σw``, the weighted mean and the variance with denominator ``Σw − 1``. Quantile
        bins of numeric columns are still cut on the rows, unweighted; give ``bins=`` edges
        to fix them.
    features : list of str, optional
        Columns to slice on (default: every column but target, prediction, errors and
        sample_weight).
    bins : dict, optional
        Per column: a number of quantile bins, a list of edges, or None to keep every value.
    alpha, k, max_l, min_sup
        As in the ``sliceline`` package: score weight of the loss (0 < alpha <= 1), number of
        slices (ties with the k-th are kept), most predicates per slice, smallest slice size
        (a float in (0, 1) is a fraction of the rows; with ``sample_weight`` both are in
        weight: a total weight, or a fraction of the total weight).
    significance : float, default 0.05
        Level of the false-discovery control.
    fdr : {"alpha_investing", "benjamini_hochberg"}
        α-investing over the slices in score order (as Slice Finder) or Benjamini–Hochberg.

    Returns
    -------
    SliceResult
        ``top`` gives each slice's ``size`` (rows, or their total weight) and ``rows``, its
        ``p_value``, the ``level_used`` it was tested at (α-investing: the wealth's share at its
        turn, NaN once the wealth is spent; Benjamini–Hochberg: the step-up cutoff) and
        ``significant``, which is ``p_value <= level_used``.

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> df = pd.DataFrame({"city": list("aabbbbbbbb"), "err": [1, 1, 0, 0, 0, 0, 0, 0, 1, 0]})
    >>> result = rai_nb.slices(df, errors="err", min_sup=2, k=1)
    >>> result.top[["slice", "size", "mean_loss"]].values.tolist()
    [['city = a', 2, 1.0]]
    """
    loss = _resolve_loss(data, loss, task=task, target=target, errors=errors,
                         positive_label=positive_label)
    _check_options(data, loss=loss, alpha=alpha, k=k, max_l=max_l, min_sup=min_sup,
                   significance=significance, fdr=fdr)
    used = [c for c in (errors, target, prediction, sample_weight) if isinstance(c, str)]
    if features is None:
        features = [c for c in data.columns if c not in used]
    settings = dict(alpha=alpha, k=k, max_l=max_l, min_sup=min_sup, significance=significance,
                    fdr=fdr)
    if is_partitioned(data):
        from ..frame._slice_partitions import partitioned_slices

        found = partitioned_slices(partitioned(data), features=features, bins=bins,
                                   n_bins=n_bins, sample_weight=sample_weight,
                                   loss_options=dict(errors=errors, model=model, target=target,
                                                     prediction=prediction, loss=loss,
                                                     positive_label=positive_label, drop=used),
                                   alpha=alpha, k=k, max_l=max_l, min_sup=min_sup)
        return slice_result(found.search, found.columns, found.moments, found.rows, found.total,
                            n_rows=found.n_rows, weighted=found.weighted, loss=found.loss,
                            data=None, **dict(settings, min_sup=found.min_sup))
    weight_name, weights = row_weights(data, sample_weight, require_positive=True)
    encoded = encode_slice_features(data, features, bins=bins, n_bins=n_bins)
    loss_values, rows, name = slice_losses(data, errors=errors, model=model, target=target,
                                    prediction=prediction, loss=loss,
                                    positive_label=positive_label, drop=used)
    codes = encoded.codes if rows is None else encoded.codes[rows]
    if weights is not None and rows is not None:
        weights = weights[rows]
        check_weight_left(weight_name, weights.sum(), name)
    on_device = any(is_on_device(a) for a in (errors, target, prediction, sample_weight))
    xp = choose_namespace(len(codes), on_device=on_device)
    support = min_support(min_sup, len(codes) if weights is None else weights.sum())
    device_codes, device_loss = to_device(codes, xp), to_device(loss_values, xp)
    search = slice_line(device_codes, device_loss, encoded.n_levels,
                        weights=None if weights is None else to_device(weights, xp), alpha=alpha,
                        k=k, max_l=max_l, min_sup=support, xp=xp)
    stats = loss_moments(device_codes, loss_values - search.average_error, weights, search.slices,
                         xp=xp)
    return slice_result(search, encoded.columns, *stats, n_rows=len(codes),
                        weighted=weights is not None, loss=name, data=data,
                        **dict(settings, min_sup=support))


def _resolve_loss(data, loss, *, task, target, errors, positive_label) -> str:
    """The loss to search with: the task's default, or ``loss`` checked against the task."""
    check_task(task)
    if loss is not None and loss not in LOSSES:
        raise RaiError(BAD_OPTION.format(argument="loss", allowed=LOSSES, value=loss))
    if errors is not None or target is None:
        return loss or "error"
    if not (isinstance(data, pd.DataFrame) and len(data) == 0):
        task = resolve_task(data, target, task, positive_label)
    regression = task == "regression"
    if loss is None:
        return "squared_error" if regression else "error"
    if regression != (loss in _REGRESSION_LOSSES):
        wanted = ("squared_error or absolute_error" if regression
                  else "error, log_loss or a rate")
        raise RaiError(f"loss={loss!r} does not apply to a {task} target ({target!r}); "
                       f"pass loss= {wanted}, or task= if the task was inferred wrongly")
    return loss


def slice_result(search, columns, moments, rows, total, *, n_rows: int, weighted: bool, loss, data,
                 alpha, k, max_l, min_sup, significance, fdr) -> SliceResult:
    """The :class:`SliceResult` of a search, from the slices' and all rows' loss moments.

    ``moments`` (3, K) and ``total`` (3,) are the count (weight), sum and sum of squares of the
    loss centred on its mean, over each slice's rows and over all rows; ``rows`` (K,) the
    number of rows of each slice.
    """
    top = _top_table(search, columns, moments, rows, total[:, None], significance=significance,
                     fdr=fdr)
    return SliceResult(top=top, loss=loss, n_rows=n_rows, average_loss=search.average_error,
                       alpha=alpha, k=k, max_l=max_l, min_sup=min_sup, significance=significance,
                       fdr=fdr, evaluated=search.evaluated,
                       total_weight=search.n_rows if weighted else None, data=data)


def _check_options(data, *, loss, alpha, k, max_l, min_sup, significance, fdr) -> None:
    if not isinstance(data, pd.DataFrame) and not is_partitioned(data):
        raise RaiError(f"data must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(data).__name__}")
    if isinstance(data, pd.DataFrame) and len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    if loss not in LOSSES:
        raise RaiError(BAD_OPTION.format(argument="loss", allowed=LOSSES, value=loss))
    if fdr not in FDR:
        raise RaiError(BAD_OPTION.format(argument="fdr", allowed=FDR, value=fdr))
    if not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
        raise RaiError(f"alpha must lie in (0, 1], got {alpha!r}")
    for name, value in (("k", k), ("max_l", max_l)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise RaiError(f"{name} must be a positive integer, got {value!r}")
    is_count = isinstance(min_sup, (int, np.integer)) and not isinstance(min_sup, bool)
    if not (is_count and min_sup >= 0) and not (isinstance(min_sup, float) and 0 <= min_sup < 1):
        raise RaiError(f"min_sup must be a row count >= 0 or a fraction in [0, 1), got {min_sup!r}")
    if not 0 < significance < 1:
        raise RaiError(f"significance must lie strictly between 0 and 1, got {significance!r}")


def _top_table(search, columns, moments, rows, total, *, significance, fdr) -> pd.DataFrame:
    """The reported slices with their predicates, statistics and tests (host math on moments)."""
    mean, variance = mean_variance(*moments)
    rest_mean, rest_variance = mean_variance(*(total - moments))
    _, _, p_value = welch_test(mean, variance, moments[0], rest_mean, rest_variance,
                               total[0] - moments[0])
    control, levels = _FDR_RULES[fdr]
    predicates = [_predicates(row, columns) for row in search.slices]
    return pd.DataFrame({
        "predicates": predicates,
        "slice": [" & ".join(describe_predicate(c, v) for c, v in p.items()) for p in predicates],
        "level": (search.slices >= 0).sum(axis=1).astype(np.int64),
        "size": search.sizes,
        "rows": np.asarray(rows).astype(np.int64),
        "mean_loss": search.errors / search.sizes,
        "rest_loss": rest_mean + search.average_error,
        "score": search.scores,
        "effect_size": effect_size(mean, variance, rest_mean, rest_variance),
        "p_value": p_value,
        "level_used": levels(p_value, significance),
        "significant": control(p_value, significance),
    })


def _predicates(codes: np.ndarray, columns) -> dict:
    return {column.name: column.levels[code] for column, code in zip(columns, codes.tolist())
            if code >= 0}
