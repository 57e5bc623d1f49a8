"""Which of the user's columns each feature of a fitted scikit-learn preprocessing step comes from.

SHAP values of a pipeline are computed on the features its final estimator sees; summing the
attributions of each input column's outputs (a one-hot column's indicators, an imputer's missing
indicator) gives them in the user's columns — shap's convention for grouped features, exact
because Shapley values are additive over a partition of the players only when each output
depends on one input. A step whose outputs mix inputs (PCA, polynomial features) cannot be
mapped, and :func:`input_columns` says so by returning None.
"""

from __future__ import annotations

import numpy as np


def input_columns(preprocessor, n_inputs: int) -> np.ndarray | None:
    """For each output feature of the fitted ``preprocessor``, the index of its input column.

    Parameters
    ----------
    preprocessor : fitted transformer
        A ``Pipeline`` of steps, a ``ColumnTransformer``, a ``OneHotEncoder`` or any one-to-one
        transformer (scalers, ordinal encoders, imputers).
    n_inputs : int
        Number of input columns.

    Returns
    -------
    ndarray of int, or None when some output depends on several inputs (or the step is not
    understood).
    """
    mapping = np.arange(n_inputs)
    for step in _steps(preprocessor):
        own = _step_columns(step, len(mapping))
        if own is None:
            return None
        mapping = mapping[own]
    return mapping


def _steps(preprocessor) -> list:
    if hasattr(preprocessor, "steps"):
        return [s for _, s in preprocessor.steps if s not in (None, "passthrough")]
    return [preprocessor]


def _step_columns(step, n_inputs: int) -> np.ndarray | None:
    name = type(step).__name__
    if name == "ColumnTransformer":
        return _column_transformer(step, n_inputs)
    if name == "Pipeline":
        return input_columns(step, n_inputs)
    if name == "OneHotEncoder":
        return np.repeat(np.arange(n_inputs), step._n_features_outs)
    if name == "SimpleImputer" and getattr(step, "indicator_", None) is not None:
        return np.r_[np.arange(n_inputs), step.indicator_.features_]
    return _one_to_one(step, n_inputs)


def _one_to_one(step, n_inputs: int) -> np.ndarray | None:
    """Identity when the step keeps its input names (scalers, ordinal encoders, imputers)."""
    names_in = getattr(step, "feature_names_in_", None)
    try:
        names_out = step.get_feature_names_out()
    except (AttributeError, ValueError, TypeError):
        return None
    if len(names_out) != n_inputs:
        return None
    expected = names_in if names_in is not None else [f"x{i}" for i in range(n_inputs)]
    return np.arange(n_inputs) if list(map(str, names_out)) == list(map(str, expected)) else None


def _column_transformer(transformer, n_inputs: int) -> np.ndarray | None:
    pieces = []
    sizes = transformer.output_indices_
    for name, step, _ in transformer.transformers_:
        width = sizes[name].stop - sizes[name].start
        if width == 0:
            continue
        inputs = np.asarray(transformer._transformer_to_input_indices[name], dtype=np.int64)
        if step == "passthrough":
            own = np.arange(len(inputs))
        elif len(inputs) == 1:
            own = np.zeros(width, np.int64)
        else:
            own = _step_columns(step, len(inputs))
        if own is None or len(own) != width:
            return None
        pieces.append((sizes[name].start, inputs[own]))
    pieces.sort(key=lambda piece: piece[0])
    return np.concatenate([p for _, p in pieces]) if pieces else np.zeros(0, np.int64)
