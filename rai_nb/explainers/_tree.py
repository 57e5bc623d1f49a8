"""Exact TreeSHAP of a fitted tree model, checked against the model's own output.

XGBoost, LightGBM and CatBoost explain themselves (:mod:`rai_nb.explain._native`); scikit-learn's
trees are read into a :class:`~rai_nb.explain._forest.Forest` and go through the compiled kernel.
Either way the input columns are matched to the model's by name, and the values must add up to
the model's own margin before they are returned.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..explain._forest import hist_gradient_boosting_columns, load_forest
from ..explain._forest import is_tree_model as is_forest
from ..explain._native import native_feature_names, native_library, native_shap
from ..explain._paths import decompose
from ..explain.treeshap import tree_shap
from ..frame._explain_inputs import numeric
from ..frame._model import call_model

#: Largest |base + Σφ − margin| relative to the row's scale (1 + |margin| + Σ|φ|). The libraries
#: accumulate in float32 (XGBoost) or print thresholds rounded; our kernel works in float64.
_TOLERANCE = {"xgboost": 1e-5, "lightgbm": 1e-6, "catboost": 1e-6, None: 1e-8}


def is_tree_model(model) -> bool:
    """True when TreeSHAP can explain ``model`` exactly (its library's routine, or our kernel)."""
    return native_library(model) is not None or is_forest(model)


def tree_explain(model, frame: pd.DataFrame, *, interactions: bool = False):
    """SHAP values ``(rows, features, outputs)`` (or interaction values) and base values.

    ``frame`` holds the model's input columns, in any order; they are matched by name.
    """
    frame = match_columns(model, frame)
    library = native_library(model)
    if library is not None:
        values, base, margin = native_shap(model, frame, interactions=interactions)
        _check_additivity(model, values, base, margin, _TOLERANCE[library])
        return values, base
    inputs, margin = _forest_input(model, frame), _margin(model, frame)
    forest, paths = _read(model)
    values, base = tree_shap(forest, inputs, interactions=interactions, paths=paths)
    _check_additivity(model, values, base, margin, _TOLERANCE[None])
    return values, base


#: The forest and paths read from each fitted model object, kept while the model lives and its
#: fitted trees are the same objects, so that explaining it again skips reading it (as a shap
#: TreeExplainer object does). A refit replaces the trees, and the margin check stands behind.
_READ: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _read(model):
    """The model's forest and paths, read once per fitted state of the model object."""
    fitted = tuple(getattr(model, name, None) for name in _FITTED)
    grown = len(fitted[0]) if hasattr(fitted[0], "__len__") else 0
    try:
        kept = _READ.get(model)
    except TypeError:  # neither weakly referable nor hashable: read every time
        kept = None
    if kept is not None and kept[1] == grown and all(a is b for a, b in zip(kept[0], fitted)):
        return kept[2]
    forest = load_forest(model)
    read = (forest, decompose(forest))
    with contextlib.suppress(TypeError):
        _READ[model] = (fitted, grown, read)
    return read


#: The fitted attributes that a refit replaces (kept by reference, so compared by identity);
#: warm-started forests grow ``estimators_`` in place, so its length is compared too.
_FITTED = ("estimators_", "_predictors", "tree_", "init_")


def fitted_names(model) -> list[str] | None:
    """The column names ``model`` was fitted with, in its order; None when it has none."""
    if native_library(model) is not None:
        return native_feature_names(model)
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def match_columns(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s columns in the model's order, by name; RaiError naming missing/extra ones.

    A model fitted without names takes the columns by position, so only their count is checked.
    """
    names = fitted_names(model)
    if names is None:
        expected = getattr(model, "n_features_in_", None)
        if expected is not None and frame.shape[1] != expected:
            raise RaiError(f"X has {frame.shape[1]} columns but the model was fitted on "
                           f"{expected}")
        return frame
    columns = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in columns]
    extra = [c for c in columns if c not in set(names)]
    if missing or extra:
        parts = ([f"missing {_listed(missing)}"] if missing else []) + (
            [f"not fitted on {_listed(extra)}"] if extra else [])
        raise RaiError(f"X does not have the model's columns: {'; '.join(parts)} (the model was "
                       f"fitted on {len(names)} columns)")
    renamed = frame.set_axis(columns, axis=1)
    return renamed if columns == names else renamed[names]


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _forest_input(model, frame: pd.DataFrame) -> np.ndarray:
    """The float matrix the forest's splits read, in the model's column order."""
    if getattr(model, "_preprocessor", None) is not None:  # HistGradientBoosting categories
        encoded = np.asarray(model._preprocess_X(_model_input(model, frame), reset=False),
                             dtype=np.float64)
        out = np.empty_like(encoded)
        out[:, hist_gradient_boosting_columns(model)] = encoded
        return out
    return numeric(frame)


def _model_input(model, frame: pd.DataFrame):
    """What the model's own methods take: the frame if it was fitted with names, else arrays."""
    return frame if hasattr(model, "feature_names_in_") else frame.to_numpy()


def _margin(model, frame: pd.DataFrame) -> np.ndarray:
    """The model's own raw output ``(rows, outputs)``: what its trees add up to."""
    raw = call_model(_raw_output(model), _model_input(model, frame))
    return np.asarray(raw, dtype=np.float64).reshape(len(frame), -1)


def _raw_output(model):
    """The model method whose output its trees add up to."""
    name = type(model).__name__
    if name == "IsolationForest":
        from sklearn.ensemble._iforest import _average_path_length

        scale = _average_path_length([model._max_samples])[0]
        return lambda inputs: -np.log2(-model.score_samples(inputs)) * scale
    if name.startswith("HistGradientBoosting"):
        return model._raw_predict
    if name.startswith("GradientBoosting") and hasattr(model, "decision_function"):
        return model.decision_function
    return model.predict_proba if hasattr(model, "predict_proba") else model.predict


def additivity_gaps(values, base, margin) -> np.ndarray:
    """|base + Σ values − margin| relative to each row's scale (1 + |margin| + Σ|values|)."""
    axes = tuple(range(1, values.ndim - 1))
    total = base + values.sum(axis=axes)
    scale = 1 + np.abs(margin) + np.abs(values).sum(axis=axes)
    return np.abs(total - margin) / scale


def _check_additivity(model, values, base, margin, tolerance: float) -> None:
    """RaiError unless ``base + Σ values == margin`` on every row, to ``tolerance``."""
    gap = additivity_gaps(values, base, margin)
    if gap.size and not gap.max() <= tolerance:
        total = base + values.sum(axis=tuple(range(1, values.ndim - 1)))
        row = int(np.unravel_index(np.nanargmax(np.nan_to_num(gap, nan=np.inf)), gap.shape)[0])
        raise RaiError(
            f"the SHAP values of {type(model).__name__} do not add up to its own output (gap "
            f"{np.abs(total - margin)[row].max():.3g} on row {row}): this model is not explained "
            "exactly, so no values are returned; use method='kernel' for sampled KernelSHAP")
