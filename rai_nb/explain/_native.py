"""Exact SHAP values of XGBoost, LightGBM and CatBoost models, computed by each library itself.

Every library ships path-dependent TreeSHAP for its own models (XGBoost ``pred_contribs`` /
``pred_interactions``, LightGBM ``pred_contrib``, CatBoost ``ShapValues`` /
``ShapInteractionValues``). Those routines already know the library's missing-value rules,
``missing=`` sentinels, categorical splits, dart tree weights and objectives, so this module only
builds the library's input object, calls the routine, and brings its output into one layout:

* values ``(rows, features, outputs)``, or ``(rows, features, features, outputs)`` for
  interactions;
* base ``(outputs,)``, the bias term the library returns (the same for every row);
* margin ``(rows, outputs)``, the model's own raw output on the same input.

Models are recognised by the module their class comes from, so no library is imported until one
of its models is explained.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, RaiError

#: Library → class-name prefixes of its models (raw and scikit-learn style).
_MODEL_CLASSES = {
    "xgboost": ("XGB", "Booster"),
    "lightgbm": ("LGBM", "Booster"),
    "catboost": ("CatBoost",),
}
_KERNEL_HINT = 'explain it with method="kernel"'


def native_library(model) -> str | None:
    """Which gradient-boosting library ``model`` belongs to, if any.

    Parameters
    ----------
    model : object
        A scikit-learn style wrapper (``XGBClassifier``, ``LGBMRegressor``, ``CatBoostClassifier``
        …) or a raw model object (``xgboost.Booster``, ``lightgbm.Booster``, ``catboost.CatBoost``).
        Subclasses of those count too.

    Returns
    -------
    str or None
        ``"xgboost"``, ``"lightgbm"`` or ``"catboost"``; None for any other object. Decided from the
        class's module and name only: no library is imported.
    """
    for cls in type(model).__mro__:
        library = cls.__module__.partition(".")[0]
        if cls.__name__.startswith(_MODEL_CLASSES.get(library, ())):
            return library
    return None


def native_feature_names(model) -> list[str] | None:
    """The column names ``model`` was fitted with, in the model's order.

    Parameters
    ----------
    model : XGBoost, LightGBM or CatBoost model
        Fitted.

    Returns
    -------
    list of str or None
        None when the model was fitted without real names (on an array): XGBoost then stores
        none, LightGBM invents ``Column_0, Column_1, …`` and CatBoost ``"0", "1", …``.

    Raises
    ------
    RaiError
        If ``model`` is not one of those libraries' models, or is not fitted.
    """
    library = _library(model)
    names = _NAMES[library](model)
    return None if names is None or names == _INVENTED_NAMES[library](len(names)) else list(names)


def native_shap(model, X: pd.DataFrame, *,
                interactions: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact (path-dependent) SHAP values of ``model`` on ``X``, from the library's own routine.

    Parameters
    ----------
    model : XGBoost, LightGBM or CatBoost model
        Fitted; a scikit-learn style wrapper or the library's raw model object.
    X : pandas.DataFrame
        Rows to explain, with the model's columns in the model's order and the dtypes it was
        fitted with (pandas ``category`` columns for categorical splits, strings or categories for
        CatBoost ``cat_features``). Missing values as NaN, or as the XGBoost wrapper's
        ``missing=`` sentinel. Never modified.
    interactions : bool, default False
        Return SHAP interaction values instead (XGBoost and CatBoost; LightGBM has none).

    Returns
    -------
    values : ndarray of float64
        ``(rows, features, outputs)``, or ``(rows, features, features, outputs)`` with
        ``interactions`` (``[row, i, j]``: the diagonal holds main effects, and summing over ``j``
        gives the SHAP values). ``outputs`` is 1 for regression and binary classification, the
        number of classes for multiclass.
    base : ndarray of float64, shape (outputs,)
        The expected value: the bias term the library returns.
    margin : ndarray of float64, shape (rows, outputs)
        The model's raw (margin / log-odds) output on ``X``; ``base`` plus ``values`` summed over
        every feature axis equals it.

    Raises
    ------
    RaiError
        If the model is not one of those libraries', is not fitted, ``X`` has no rows, or the
        library cannot compute the values for this model (XGBoost multi-output trees or linear
        boosters, LightGBM linear trees or interactions).
    """
    library = _library(model)
    if len(X) == 0:
        raise RaiError(EMPTY_DATA.format(argument="X"))
    with _library_errors(library):
        values, bias, margin = _SHAP[library](model, X, interactions)
    return values.astype(np.float64), _constant_base(bias), margin.reshape(len(X), -1).astype(np.float64)


# --- shared helpers -------------------------------------------------------------------------------

def _library(model) -> str:
    library = native_library(model)
    if library is None:
        raise RaiError(f"{type(model).__name__} is not an XGBoost, LightGBM or CatBoost model")
    return library


def _not_fitted(model) -> RaiError:
    return RaiError(f"{type(model).__name__} is not fitted; call fit first")


@contextmanager
def _library_errors(library: str):
    """Turn an error raised inside ``library`` into a one-line RaiError."""
    try:
        yield
    except RaiError:
        raise
    except Exception as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        # XGBoost prefixes its messages with "[hh:mm:ss] source/file.cc:line: ".
        line = re.sub(r"^\[[\d:]+\] \S+: ", "", lines[0])
        raise RaiError(f"{library} could not compute SHAP values: {line}") from error


def _with_outputs(array: np.ndarray, feature_axes: int) -> np.ndarray:
    """``array`` with an outputs axis after the rows, inserting a single one when absent."""
    return array[:, None] if array.ndim == 1 + feature_axes else array


def _split_bias(table: np.ndarray, interactions: bool) -> tuple[np.ndarray, np.ndarray]:
    """Library layout ``(rows, outputs, F+1[, F+1])``, bias last → ``(values, bias per row)``."""
    table = _with_outputs(table, 2 if interactions else 1)
    if interactions:
        return table[:, :, :-1, :-1].transpose(0, 2, 3, 1), table[:, :, -1, -1]
    return table[:, :, :-1].transpose(0, 2, 1), table[:, :, -1]


def _constant_base(bias: np.ndarray) -> np.ndarray:
    """The bias column ``(rows, outputs)`` as one ``(outputs,)`` vector; RaiError if it varies."""
    bias = np.asarray(bias, dtype=np.float64)
    if not np.allclose(bias, bias[0], rtol=1e-7, atol=1e-9):
        raise RaiError("the model's SHAP base value differs between rows (a per-row base margin?); "
                       "it cannot be summarised as one expected value")
    return bias[0].copy()


def _unwrap(model, attribute: str):
    """The raw model behind a scikit-learn wrapper (``attribute`` on its class), else ``model``."""
    if not hasattr(type(model), attribute):
        return model
    try:
        raw = getattr(model, attribute)
        return raw() if callable(raw) else raw
    except (AttributeError, ValueError):
        raise _not_fitted(model) from None


# --- XGBoost --------------------------------------------------------------------------------------

def _xgboost_booster(model):
    booster = _unwrap(model, "get_booster")
    try:
        config = json.loads(booster.save_config())["learner"]
    except ValueError:  # XGBoostError: an empty Booster has no features yet
        raise _not_fitted(model) from None
    if config["gradient_booster"]["name"] == "gblinear":
        raise RaiError("an XGBoost gblinear model has no trees; its contributions are coefficient × "
                       f"value, not TreeSHAP: {_KERNEL_HINT}")
    if (config.get("learner_train_param", {}).get("multi_strategy") == "multi_output_tree"):
        raise RaiError("XGBoost cannot compute SHAP values of multi_strategy='multi_output_tree' "
                       f"models (vector leaves): {_KERNEL_HINT}")
    return booster


def _xgboost_shap(model, X: pd.DataFrame, interactions: bool):
    import xgboost

    booster = _xgboost_booster(model)
    wrapped = booster is not model
    # The scikit-learn wrapper reads its `missing` sentinel and, after early stopping, predicts
    # with the trees up to best_iteration; follow it so the margin is what the wrapper returns.
    missing = model.get_params().get("missing", np.nan) if wrapped else np.nan
    best = getattr(model, "best_iteration", None) if wrapped else None
    rounds = (0, best + 1) if best is not None else (0, 0)
    data = xgboost.DMatrix(X, missing=missing, enable_categorical=True)
    kind = "pred_interactions" if interactions else "pred_contribs"
    table = booster.predict(data, iteration_range=rounds, **{kind: True})
    values, bias = _split_bias(table, interactions)
    return values, bias, booster.predict(data, iteration_range=rounds, output_margin=True)


def _xgboost_names(model):
    return _xgboost_booster(model).feature_names


# --- LightGBM -------------------------------------------------------------------------------------

def _lightgbm_booster(model):
    booster = _unwrap(model, "booster_")
    linear = {str(booster.params.get(key, False)).lower() for key in ("linear_tree", "linear_trees")}
    if linear & {"true", "1"}:
        raise RaiError("LightGBM's SHAP values do not cover linear_tree=True models (the linear "
                       f"models in their leaves): {_KERNEL_HINT}")
    return booster


def _lightgbm_shap(model, X: pd.DataFrame, interactions: bool):
    if interactions:
        raise RaiError("LightGBM does not ship SHAP interaction values (pred_contrib only); "
                       "explain without interactions=True")
    booster = _lightgbm_booster(model)
    flat = booster.predict(X, pred_contrib=True)  # (rows, outputs × (F+1)), output-major
    table = flat.reshape(len(X), -1, booster.num_feature() + 1)
    values, bias = _split_bias(table, interactions=False)
    return values, bias, booster.predict(X, raw_score=True)


def _lightgbm_names(model):
    return _lightgbm_booster(model).feature_name()


# --- CatBoost -------------------------------------------------------------------------------------

def _catboost_model(model):
    if not model.is_fitted():
        raise _not_fitted(model)
    return model


def _catboost_shap(model, X: pd.DataFrame, interactions: bool):
    import catboost

    model = _catboost_model(model)
    pool = catboost.Pool(X, cat_features=model.get_cat_feature_indices())
    # (rows, F+1) or (rows, outputs, F+1); interactions add a second F+1 axis.
    values, bias = _split_bias(model.get_feature_importance(pool, type="ShapValues"), False)
    if interactions:
        # CatBoost leaves the bias corner of its interaction table at zero: keep the base above.
        table = model.get_feature_importance(pool, type="ShapInteractionValues")
        values, _ = _split_bias(table, interactions=True)
    return values, bias, model.predict(pool, prediction_type="RawFormulaVal")


def _catboost_names(model):
    return _catboost_model(model).feature_names_


# --- per-library lookup -----------------------------------------------------------------------------

_SHAP: dict[str, Callable] = {
    "xgboost": _xgboost_shap, "lightgbm": _lightgbm_shap, "catboost": _catboost_shap,
}
_NAMES: dict[str, Callable] = {
    "xgboost": _xgboost_names, "lightgbm": _lightgbm_names, "catboost": _catboost_names,
}
#: The names each library makes up for a model fitted on an array (XGBoost stores None).
_INVENTED_NAMES: dict[str, Callable[[int], list[str] | None]] = {
    "xgboost": lambda n: None,
    "lightgbm": lambda n: [f"Column_{i}" for i in range(n)],
    "catboost": lambda n: [str(i) for i in range(n)],
}
