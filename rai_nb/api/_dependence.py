"""``rai_nb.dependence``: partial dependence and ICE curves, for all rows and per group."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..backend import get_config, row_chunks
from ..errors import BAD_OPTION, MISSING_COLUMN, NAN_VALUES, RaiError
from ..explain import dependence as kernels
from ..frame import column_values, encode_categorical
from ..frame._bias import encode_weights
from ..frame._columns import combine_columns, require_frame
from ..frame._model import call_model, model_features
from ..results._dependence import DependenceResult

KINDS = ("average", "individual", "both")
RESPONSES = ("auto", "predict_proba", "decision_function", "predict")
NOT_A_MODEL_INPUT = "feature {feature!r} is not one of the columns the model takes: {columns}"
UNKNOWN_CLASS = "target_class {value!r} is not one of the model's classes {classes}"
#: Rows per model call that stacking grid copies aims at: enough to amortise a call's overhead;
#: larger calls were slower (HistGradientBoosting, RandomForest, one-hot pipelines on Adult).
CALL_ROWS = 100_000


def dependence(model, data: pd.DataFrame, feature, *, by=None, grid_resolution: int = 100,
               percentiles: tuple = (0.05, 0.95), kind: str = "average", centered: bool = False,
               sample: int | None = 100, features=None, sample_weight=None,
               response: str = "auto", target_class=None, categorical=None,
               min_group_size: int = 30, n_boot: int = 0, ci: float = 0.95,
               random_state: int = 0) -> DependenceResult:
    """Partial dependence (PDP) and individual conditional expectation (ICE) of a model's
    output on one feature or a pair, for all rows and for each group of ``by``.

    The whole-frame curve equals ``sklearn.inspection.partial_dependence(..., method="brute")``
    on the same rows, grid and response; each group's curve is the same average over that
    group's rows only. The model is called on stacked copies of the rows, one per grid point,
    in chunks of at most ``rai_nb.config().chunk_rows`` rows.

    Parameters
    ----------
    model : fitted estimator
        Anything with ``predict_proba``, ``decision_function`` or ``predict`` (pipelines too).
    data : pandas.DataFrame
        The rows to average over; the model's columns are matched by name.
    feature : str or tuple of two str
        The feature to vary, or a pair for a two-way PDP (``kind="average"`` only).
    by : str, list of str or array-like, optional
        Sensitive column(s); several give one curve per observed combination.
    grid_resolution : int, default 100
        Points of a numeric grid; a feature with fewer distinct values, or a categorical one,
        is gridded at its distinct values.
    percentiles : tuple of two float, default (0.05, 0.95)
        The quantiles a numeric grid spans.
    kind : {"average", "individual", "both"}, default "average"
        What the figure draws: group PDPs, ICE curves of ``sample`` rows, or both. ICE curves
        are kept only for ``individual`` and ``both``.
    centered : bool, default False
        Subtract each curve's value at the first grid point (centred ICE and PDP).
    sample : int or None, default 100
        Rows whose ICE curves are kept (drawn at random with ``random_state``); None keeps
        every row's.
    features : list of str, optional
        The columns the model takes (default ``model.feature_names_in_``, else every column).
    sample_weight : str or array-like, optional
        Row weights (a column name or one value per row) for the averages.
    response : {"auto", "predict_proba", "decision_function", "predict"}, default "auto"
        The model output: ``auto`` takes ``predict_proba``, else ``decision_function``, else
        ``predict``.
    target_class : optional
        For a classifier, the class whose output is shown (default: the positive class
        ``classes_[1]`` of a binary one, every class of a multiclass one).
    categorical : list of str, optional
        Features gridded at their distinct values although numeric (non-numeric and boolean
        features always are).
    min_group_size : int, default 30
        Groups with fewer rows are drawn but marked small.
    n_boot : int, default 0
        Poisson bootstrap replicates over rows for a percentile band around every curve (one
        feature only; 0: no band). The model is called once, as without: each replicate
        reweights the same outputs.
    ci : float, default 0.95
        Coverage of the band.
    random_state : int, default 0
        Seed of the ICE row sample and of the bootstrap.

    Returns
    -------
    DependenceResult

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> adult = rai_nb.load_adult().head(2000)
    >>> X = adult[["age", "hours_per_week"]].astype(float)
    >>> clf = LogisticRegression().fit(X, adult["income"])
    >>> result = rai_nb.dependence(clf, adult.assign(**X), "age", by="sex", features=list(X),
    ...                            grid_resolution=20)
    >>> result.average.shape
    (1, 20)
    """
    _check_options(kind, response, grid_resolution, percentiles, sample, n_boot, ci)
    names = _feature_names(feature, kind, n_boot)
    columns = _model_columns(model, data, names, features)
    rows = data[columns]
    axes = [_axis(rows[name], name, categorical, grid_resolution, percentiles) for name in names]
    groups = _groups(data, by)
    weights = _weights(data, sample_weight)
    respond, outputs, method = _responder(model, response, target_class)
    ice_rows = _ice_rows(len(rows), sample, kind, random_state)
    draws = kernels.poisson_draws(n_boot, len(rows), random_state + 1) if n_boot else None
    evaluated = _evaluate(respond, len(outputs), rows, names, axes, weights, groups, ice_rows,
                          draws)
    result = _result(model, data, names, axes, (outputs, method), kind, centered, groups,
                     weights, evaluated[:3], ice_rows, min_group_size)
    if draws is None:
        return result
    lower, upper = _band(evaluated[3], draws, weights, result, groups, ci)
    return replace(result, lower=lower, upper=upper, n_boot=n_boot, ci=ci)


def _check_options(kind, response, grid_resolution, percentiles, sample, n_boot, ci) -> None:
    if kind not in KINDS:
        raise RaiError(BAD_OPTION.format(argument="kind", allowed=KINDS, value=kind))
    if response not in RESPONSES:
        raise RaiError(BAD_OPTION.format(argument="response", allowed=RESPONSES, value=response))
    if not isinstance(grid_resolution, (int, np.integer)) or grid_resolution < 2:
        raise RaiError(f"grid_resolution must be an integer of at least 2, got {grid_resolution!r}")
    if (len(tuple(percentiles)) != 2 or not 0 <= percentiles[0] < percentiles[1] <= 1):
        raise RaiError(f"percentiles must be two increasing values in [0, 1], got {percentiles!r}")
    if sample is not None and (not isinstance(sample, (int, np.integer)) or sample < 1):
        raise RaiError(f"sample must be a positive integer or None, got {sample!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise RaiError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < ci < 1:
        raise RaiError(f"ci must be between 0 and 1, got {ci!r}")


def _feature_names(feature, kind: str, n_boot: int) -> list:
    """One feature, or two for a two-way PDP (which has no ICE curves nor bands)."""
    names = list(feature) if isinstance(feature, (list, tuple)) else [feature]
    if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        raise RaiError(f"feature must be one column or a pair of distinct columns, got {feature!r}")
    if len(names) == 2 and kind != "average":
        raise RaiError(f"a pair of features has no ICE curves: use kind='average', not {kind!r}")
    if len(names) == 2 and n_boot:
        raise RaiError("a pair of features has no bootstrap band: use n_boot=0")
    return names


def _model_columns(model, data, names: list, features) -> list:
    """The model's columns, checked to hold every feature to vary."""
    require_frame(data, "data")
    columns = model_features(model, data, None, features)
    for name in names:
        if name not in data.columns:
            raise RaiError(MISSING_COLUMN.format(column=name, argument="feature",
                                                 available=", ".join(map(repr, data.columns[:20]))))
        if name not in columns:
            raise RaiError(NOT_A_MODEL_INPUT.format(feature=name, columns=columns[:20]))
    return columns


def _axis(values: pd.Series, name, categorical, grid_resolution: int, percentiles) -> np.ndarray:
    """The grid of one feature (scikit-learn's rule, see :func:`kernels.grid_axis`)."""
    missing = int(values.isna().sum())
    if missing:
        raise RaiError(NAN_VALUES.format(argument="feature", column=name, count=missing))
    is_categorical = (name in (categorical or ()) or not pd.api.types.is_numeric_dtype(values)
                      or pd.api.types.is_bool_dtype(values))
    # nullable numbers (Int64, Float64) as floats: their object arrays have no quantiles
    plain = is_categorical or isinstance(values.dtype, np.dtype)
    array = values.to_numpy() if plain else values.to_numpy(dtype=np.float64)
    try:
        return kernels.grid_axis(array, categorical=is_categorical,
                                 grid_resolution=grid_resolution, percentiles=percentiles)
    except TypeError as error:
        raise RaiError(f"feature {name!r} mixes values that do not sort: {error}") from error
    except ValueError as error:
        raise RaiError(f"feature {name!r}: {error}; choose percentiles further apart or pass "
                       "categorical=") from error


def _groups(data: pd.DataFrame, by):
    """The intersections of the ``by`` columns as one encoded column, or None."""
    if by is None:
        return None
    specs = list(by) if isinstance(by, list) else [by]
    return combine_columns([encode_categorical(*column_values(data, spec, argument="by"),
                                               argument="by") for spec in specs])


def _weights(data: pd.DataFrame, sample_weight) -> np.ndarray:
    if sample_weight is None:
        return np.ones(len(data))
    return encode_weights(*column_values(data, sample_weight, argument="sample_weight"))


def _responder(model, response: str, target_class):
    """A function from rows to the kept model outputs (rows x outputs), the outputs' labels,
    and the method called."""
    method = _method_name(model, response)
    classes = list(np.asarray(getattr(model, "classes_", [0, 1])).tolist())
    columns, sign, outputs = _selection(method, classes, target_class)
    call = getattr(model, method)

    def respond(rows: pd.DataFrame) -> np.ndarray:
        values = np.asarray(call_model(call, rows))
        if values.dtype.kind not in "biuf":
            raise RaiError(f"the model's {method} returned {values.dtype} values; pass "
                           "response='predict_proba' for a classifier's labels")
        values = values.astype(np.float64, copy=False).reshape(len(rows), -1)
        return sign * values[:, columns]

    return respond, outputs, method


def _method_name(model, response: str) -> str:
    if response == "auto":
        found = [m for m in RESPONSES[1:] if hasattr(model, m)]
        if not found:
            raise RaiError(f"model must have a predict method; got {type(model).__name__}")
        return found[0]
    if not hasattr(model, response):
        raise RaiError(f"response={response!r} but {type(model).__name__} has no {response} method")
    return response


def _selection(method: str, classes: list, target_class) -> tuple[list, float, tuple]:
    """Columns of the method's output to keep, their sign and the outputs' labels: a binary
    classifier's positive class (or ``target_class``), else every class or the one asked for."""
    if method == "predict":
        if target_class is not None:
            raise RaiError("target_class= needs response='predict_proba' or 'decision_function'")
        return [0], 1.0, ("prediction",)
    if target_class is not None and target_class not in classes:
        raise RaiError(UNKNOWN_CLASS.format(value=target_class, classes=classes[:20]))
    if len(classes) == 2:
        label = classes[1] if target_class is None else target_class
        if method == "decision_function":  # one score, of classes_[1]
            return [0], 1.0 if label == classes[1] else -1.0, (label,)
        return [classes.index(label)], 1.0, (label,)
    if target_class is not None:
        return [classes.index(target_class)], 1.0, (target_class,)
    return list(range(len(classes))), 1.0, tuple(classes)


def _ice_rows(n_rows: int, sample, kind: str, random_state: int) -> np.ndarray:
    """Sorted positions of the rows whose ICE curves are kept (none for ``average``)."""
    if kind == "average":
        return np.empty(0, dtype=np.int64)
    if sample is None or sample >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(random_state).choice(n_rows, sample, replace=False))


def _evaluate(respond, n_outputs: int, rows: pd.DataFrame, names: list, axes: list,
              weights: np.ndarray, groups, ice_rows: np.ndarray, draws):
    """Weighted output sums per grid point (all rows and per group) and the sampled rows' ICE.

    Each model call takes a block of rows stacked once per grid point in a run of points,
    about :data:`CALL_ROWS` rows and at most ``chunk_rows`` (one block of rows per call when it
    alone is larger).
    """
    grid = kernels.grid_points(axes)
    n_points, chunk = len(grid[0]), get_config().chunk_rows
    codes = np.zeros(len(rows), dtype=np.int64) if groups is None else groups.codes
    n_groups = 1 if groups is None else groups.n_levels
    totals = np.zeros((n_points, n_outputs))
    sums = np.zeros((n_groups, n_points, n_outputs))
    ice = np.zeros((len(ice_rows), n_points, n_outputs))
    boot = None if draws is None else np.zeros((len(draws), n_groups + 1, n_points, n_outputs))
    for block in row_chunks(len(rows), chunk):
        part = rows.iloc[block]
        kept = np.flatnonzero((ice_rows >= block.start) & (ice_rows < block.stop))
        step = max(min(chunk, CALL_ROWS) // len(part), 1)
        for start in range(0, n_points, step):
            points = slice(start, min(start + step, n_points))
            outputs = respond(_stacked(part, names, grid, points))
            outputs = outputs.reshape(points.stop - start, len(part), n_outputs)
            total, by_group = kernels.group_sums(outputs, weights[block], codes[block], n_groups)
            totals[points] += total
            sums[:, points] += by_group
            ice[kept, points] = np.swapaxes(outputs[:, ice_rows[kept] - block.start], 0, 1)
            if boot is not None:
                boot[:, :, points] += kernels.replicate_sums(
                    outputs, weights[block], codes[block], n_groups, draws[:, block], budget=chunk)
    return totals, sums, ice, boot


def _stacked(part: pd.DataFrame, names: list, grid: list, points: slice) -> pd.DataFrame:
    """The rows once per grid point of ``points`` (point-major), the features set to it."""
    n_points = points.stop - points.start
    stacked = part.iloc[np.tile(np.arange(len(part)), n_points)]
    for name, values in zip(names, grid):
        stacked[name] = _like(np.repeat(values[points], len(part)), part[name].dtype)
    return stacked


def _like(values: np.ndarray, dtype):
    """Grid values in a categorical column's own dtype (its categories kept for the model)."""
    return pd.Categorical(values, dtype=dtype) if isinstance(dtype, pd.CategoricalDtype) else values


def _result(model, data, names, axes, response, kind, centered, groups, weights, evaluated,
            ice_rows, min_group_size) -> DependenceResult:
    """The result: weighted sums over weights, centred if asked; no group arrays without ``by``."""
    (totals, sums, ice), (outputs, method) = evaluated, response
    shape = [len(axis) for axis in axes]
    codes = np.zeros(len(weights), dtype=np.int64) if groups is None else groups.codes
    group_weight = np.bincount(codes, weights=weights, minlength=len(sums))
    curves = (_curves(totals[None], weights.sum()[None], shape)[0],
              _curves(sums, group_weight, shape), _curves(ice, np.ones(len(ice)), shape))
    if centered:
        curves = tuple(kernels.centred(c, len(shape)) for c in curves)
    shown = slice(0 if groups is None else None)
    return DependenceResult(
        features=tuple(names), grid=tuple(axes), outputs=outputs, response=method,
        average=curves[0], plot=kind, centered=bool(centered), n_rows=len(weights),
        by=() if groups is None else tuple(groups.name),
        groups=() if groups is None else groups.levels, group_average=curves[1][shown],
        group_rows=np.bincount(codes, minlength=len(sums))[shown], group_weight=group_weight[shown],
        ice=curves[2], ice_rows=data.index[ice_rows].tolist(), ice_groups=codes[ice_rows],
        min_group_size=int(min_group_size), model_name=type(model).__name__)


def _band(boot: np.ndarray, draws: np.ndarray, weights: np.ndarray, result, groups, ci: float):
    """Percentile bounds of every curve (all rows first, as :attr:`DependenceResult.labels`)
    over the replicates' weighted means, centred as the curves are."""
    codes = np.zeros(len(weights), dtype=np.int64) if groups is None else groups.codes
    n_groups, shape = boot.shape[1] - 1, result.average.shape[1:]
    totals = kernels.replicate_sums(np.ones((1, len(weights), 1)), weights, codes, n_groups,
                                    draws, budget=get_config().chunk_rows)[:, :, 0, 0]
    order = [n_groups, *range(n_groups)] if groups is not None else [n_groups]
    means = np.stack([_curves(b[order], t[order], list(shape)) for b, t in zip(boot, totals)])
    if result.centered:
        means = kernels.centred(means, len(shape))
    return kernels.percentile_band(means, ci)


def _curves(sums: np.ndarray, weight: np.ndarray, shape: list) -> np.ndarray:
    """(curves, points, outputs) sums over weights as (curves, outputs, *grid shape); a curve
    of zero weight is NaN."""
    means = np.full_like(sums, np.nan)
    np.divide(sums, weight[:, None, None], out=means, where=weight[:, None, None] > 0)
    return np.moveaxis(means, 2, 1).reshape(len(sums), sums.shape[2], *shape)
