"""Per-row losses the slice search ranks slices by, and the moments slices are tested with.

Shared by the in-memory search and the partitioned one (``_slice_partitions``): a partition
computes its rows' losses with the same functions the whole frame would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend import to_device
from ..errors import ONE_CLASS, RaiError
from ..stats.slicing import slice_moments
from ._bias import check_same_classes, encode_weights
from ._columns import column_values
from ._features import encode_loss
from ._model import model_features, predict
from ._task import encode_binary, regression_values

#: Fairness objectives: rows the rate is defined on (y value, None: all) and the per-row loss.
_RATES = {
    "false_positive_rate": (0, lambda pred: pred),
    "false_negative_rate": (1, lambda pred: 1 - pred),
    "selection_rate": (None, lambda pred: 1 - pred),
}
#: Per-row losses of a regression: squared and absolute error of the prediction.
_REGRESSION_LOSSES = {"squared_error": np.square, "absolute_error": np.abs}
LOSSES = ("error", "log_loss", *_RATES, *_REGRESSION_LOSSES)
def row_weights(data, sample_weight, *, require_positive: bool):
    """The name and float64 values of ``sample_weight`` (None, None without weights)."""
    if sample_weight is None:
        return None, None
    name, values = column_values(data, sample_weight, argument="sample_weight")
    return name, encode_weights(name, values, require_positive=require_positive)


def check_weight_left(name, total: float, loss: str) -> None:
    """Refuse weights that are zero on every row the loss is defined on."""
    if not total > 0:
        raise RaiError(f"sample_weight ({name!r}) is zero on every row the loss ({loss}) is "
                       "defined on")


def loss_moments(codes, centred, weights, slices, *, xp):
    """Moments of the centred loss over each slice and over all rows, and the slices' rows.

    ``centred`` and ``weights`` (None: unweighted) are host arrays, ``codes`` in ``xp``.
    Returns ``(moments (3, K), rows (K,), total (3,))``: weight, weighted sum and weighted sum
    of squares of ``centred``, and the number of rows of each slice.
    """
    values = to_device(centred, xp)
    device_weights = None if weights is None else to_device(weights, xp)
    moments = slice_moments(codes, values, slices, weights=device_weights, xp=xp)
    rows = moments[0] if weights is None else slice_moments(codes, values, slices, xp=xp)[0]
    w = np.ones(len(centred)) if weights is None else weights
    total = np.array([w.sum(), (w * centred).sum(), (w * centred**2).sum()])
    return moments, rows, total


def min_support(min_sup, n_rows: float) -> int:
    """Smallest slice size: ``min_sup`` itself, or that fraction of the rows (or their weight)."""
    return int(min_sup * n_rows) if 0 < min_sup < 1 else int(min_sup)


def slice_losses(data, *, errors, model, target, prediction, loss, positive_label, drop,
          require_rows: bool = True):
    """Per-row loss (host float64), the rows it is defined on (None: all) and its name.

    ``require_rows=False`` allows a fairness loss with no row of its class (one partition).
    """
    if errors is not None:
        if model is not None or prediction is not None:
            raise RaiError("pass either errors= or target= with model= or prediction=, not both")
        return encode_loss(*column_values(data, errors, argument="errors"), argument="errors"), \
            None, "loss"
    if target is None or (model is None) == (prediction is None):
        raise RaiError("pass errors=, or target= with exactly one of model= and prediction=")
    target_name, y = column_values(data, target, argument="target")
    if y.isna().any():
        raise RaiError(f"target ({target_name!r}) has {int(y.isna().sum())} missing value(s)")
    features = data[model_features(model, data.drop(columns=[c for c in drop if c in data.columns]),
                                   target_name)] if model is not None else None
    if loss in _REGRESSION_LOSSES:
        predicted = (predict(model, features)[0] if model is not None
                     else column_values(data, prediction, argument="prediction")[1])
        truth = regression_values(target_name, y, "target")
        gap = regression_values("prediction", pd.Series(predicted), "prediction") - truth
        return _REGRESSION_LOSSES[loss](gap), None, loss
    if loss == "log_loss":
        if model is None:
            raise RaiError("loss='log_loss' needs model= (with predict_proba), not prediction=")
        return _log_loss(model, features, target_name, y), None, "log_loss"
    predicted = (pd.Series(predict(model, features)[0]) if model is not None
                 else column_values(data, prediction, argument="prediction")[1])
    check_same_classes("prediction" if model is not None else prediction, predicted,
                       target_name, y)
    if loss == "error":
        return (predicted.to_numpy() != y.to_numpy()).astype(np.float64), None, "error"
    return _rate_loss(loss, target_name, y, predicted, positive_label, require_rows)


def _rate_loss(loss, target_name, y, predicted, positive_label, require_rows):
    y01, positive = encode_binary(target_name, y, positive_label, argument="target")
    pred01, _ = encode_binary("prediction", predicted, positive, argument="prediction")
    label, per_row = _RATES[loss]
    rows = None if label is None else y01 == label
    if require_rows and rows is not None and not rows.any():
        raise no_rows_of_class(loss, target_name, positive)
    values = per_row(pred01.astype(np.float64))
    name = "1 − selection_rate" if loss == "selection_rate" else loss
    return (values if rows is None else values[rows]), rows, name


def no_rows_of_class(loss, target_name, positive) -> RaiError:
    """The error for a fairness loss whose rows (one class of the target) are absent."""
    value = positive if _RATES[loss][0] == 0 else f"not {positive!r}"
    return RaiError(ONE_CLASS.format(argument="target", column=target_name, value=value))


def _log_loss(model, features, target_name, y) -> np.ndarray:
    proba = np.asarray(model.predict_proba(features), dtype=np.float64)
    classes = np.asarray(model.classes_)
    position = pd.Index(classes).get_indexer(y)
    if (position < 0).any():
        unknown = sorted(map(str, pd.unique(y[position < 0])))[:5]
        raise RaiError(f"target ({target_name!r}) has values {unknown} the model does not know")
    chosen = proba[np.arange(len(y)), position]
    return -np.log(np.clip(chosen, np.finfo(np.float64).eps, 1.0))
