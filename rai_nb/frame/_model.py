"""Calling the user's model: which columns it takes, and its labels and scores as arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import RaiError


def model_features(model, data, target, features=None) -> list:
    """The columns ``model`` takes: ``features``, else ``model.feature_names_in_``, else every
    column of ``data`` but the target."""
    names = features if features is not None else getattr(model, "feature_names_in_", None)
    if names is None:
        return [c for c in data.columns if c != target]
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise RaiError(f"the model expects column(s) {missing[:5]} that are not in the data")
    return list(names)


def call_model(method, inputs):
    """``method(inputs)`` with the model's own failure (NotFittedError, bad columns…) turned
    into a RaiError saying so."""
    try:
        return method(inputs)
    except Exception as error:  # the user's model, not rai_nb, failed on these rows
        raise RaiError(f"the model failed to predict: {type(error).__name__}: {error}") from error


def predict(model, features: pd.DataFrame, *, positive_label=None):
    """The model's predicted labels and, for a binary classifier, its positive-class score.

    The score column is the one of ``positive_label`` in ``model.classes_`` (the last class
    when no label is given, i.e. 1 for 0/1 labels). Raises :class:`RaiError` (not the model's
    own exception) when the model cannot predict.
    """
    if not hasattr(model, "predict"):
        raise RaiError(f"model must have a predict method; got {type(model).__name__}")
    try:
        labels = np.asarray(model.predict(features))
        proba = model.predict_proba(features) if hasattr(model, "predict_proba") else None
    except Exception as error:  # the model's own failure, e.g. NotFittedError or bad columns
        raise RaiError(f"model {type(model).__name__} failed to predict: "
                       f"{type(error).__name__}: {error}") from error
    labels = _one_column(labels, len(features), "predict")
    proba = None if proba is None else np.asarray(proba)
    if proba is not None and (proba.ndim != 2 or len(proba) != len(features)):
        raise RaiError(f"model {type(model).__name__}.predict_proba returned shape {proba.shape} "
                       f"for {len(features)} rows; expected (rows, classes)")
    if proba is None or proba.shape[1] != 2:
        return labels, None  # no probabilities, or multi-class: audit predicted labels only
    classes = list(getattr(model, "classes_", [0, 1]))
    column = classes.index(positive_label) if positive_label in classes else 1
    return labels, proba[:, column]


def prediction_errors(truth: pd.Series, labels: np.ndarray, task: str) -> np.ndarray:
    """Per-row loss that problem slices search: the squared error of a regression, else
    the 0/1 error."""
    if task == "regression":
        return np.square(np.asarray(labels, dtype=np.float64) - truth.to_numpy(dtype=np.float64))
    return (truth.to_numpy() != labels).astype(np.float64)


def _one_column(values: np.ndarray, n_rows: int, method: str) -> np.ndarray:
    """Predictions as one value per row: (n,) as is, (n, 1) (Keras style) flattened; any
    other shape is refused before it can broadcast against the labels."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape != (n_rows,):
        raise RaiError(f"the model's {method} returned shape {values.shape} for {n_rows} rows; "
                       "expected one prediction per row")
    return values
