"""Encoding of the inputs of a bias audit: labels, predictions, scores and sensitive groups."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pandas as pd

from ..backend import choose_namespace, is_on_device, to_device
from ..errors import (
    BAD_SCORE,
    EMPTY_DATA,
    NAN_VALUES,
    NEED_POSITIVE,
    ONE_CLASS,
    ONE_FACET,
    UNKNOWN_POSITIVE,
    RaiError,
)
from ._columns import (
    EncodedColumn,
    column_values,
    combine_columns,
    encode_categorical,
    encode_threshold,
    encode_with_levels,
    product_columns,
)


@dataclass(frozen=True)
class BiasInputs:
    """Everything the bias kernels need, encoded.

    ``y_true``, ``y_pred`` (0/1), ``y_score`` and ``group_codes`` live in namespace ``xp``;
    ``facets``, ``groups`` and ``group_variable`` keep the host-side labels of each code.
    """

    xp: ModuleType
    n_rows: int
    target: object
    positive_label: object
    y_true: object
    y_pred: object | None
    y_score: object | None
    facets: tuple[EncodedColumn, ...]
    groups: EncodedColumn
    group_variable: EncodedColumn | None
    group_codes: object


def encode_bias_inputs(
    data: pd.DataFrame,
    *,
    target,
    sensitive,
    prediction=None,
    score=None,
    positive_label=None,
    group_variable=None,
    threshold: float = 0.5,
    levels: dict | None = None,
) -> BiasInputs:
    """Validate and encode the arguments of :func:`rai_nb.bias`; see there for their meaning.

    ``prediction`` defaults to ``score >= threshold`` when only a score is given.

    ``levels`` encodes one partition of a larger data set: it maps each categorical sensitive
    column and the group variable to its levels over the whole data set. Groups then cover
    every combination of levels, observed here or not, so partitions' counts add up; checks
    that need the whole data set (two classes, two facet values) are left to the caller, who
    also passes the resolved ``positive_label``.
    """
    if not isinstance(data, pd.DataFrame):
        raise RaiError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    target_name, target_values = column_values(data, target, argument="target")
    whole = levels is None
    y_true, positive = encode_binary(target_name, target_values, positive_label, argument="target",
                                     require_positive=whole)
    if whole and y_true.min() == y_true.max():
        raise RaiError(ONE_CLASS.format(argument="target", column=target_name,
                                        value=positive if y_true[0] else "not " + repr(positive)))
    y_score = None
    if score is not None:
        y_score = encode_score(*column_values(data, score, argument="score"))
    y_pred = None
    if prediction is not None:
        pred_name, pred_values = column_values(data, prediction, argument="prediction")
        check_same_classes(pred_name, pred_values, target_name, target_values)
        y_pred, _ = encode_binary(pred_name, pred_values, positive_label, argument="prediction")
    elif y_score is not None:
        y_pred = (y_score >= threshold).astype(np.int8)

    facets = tuple(_encode_facet(data, name, cut, levels) for name, cut in facet_specs(sensitive))
    groups = combine_columns(list(facets)) if whole else product_columns(list(facets))
    gv = None
    group_codes = groups.codes
    if group_variable is not None:
        name, values = column_values(data, group_variable, argument="group_variable")
        gv = (encode_categorical(name, values, argument="group_variable") if whole else
              encode_with_levels(name, values, levels[name], argument="group_variable"))
        group_codes = groups.codes * gv.n_levels + gv.codes

    on_device = any(is_on_device(a) for a in (target, prediction, score))
    xp = choose_namespace(len(data), on_device=on_device)
    move = lambda a: None if a is None else to_device(a, xp)  # noqa: E731
    return BiasInputs(
        xp=xp, n_rows=len(data), target=target_name, positive_label=positive,
        y_true=move(y_true), y_pred=move(y_pred), y_score=move(y_score),
        facets=facets, groups=groups, group_variable=gv, group_codes=move(group_codes),
    )


def encode_binary(name, values: pd.Series, positive_label, *, argument: str,
                  require_positive: bool = True):
    """0/1 array of ``values == positive_label`` (or membership when a list is given).

    Without ``positive_label`` the values must be 0/1, -1/1 or booleans and 1/True is positive.
    Returns the array (int8) and the positive label(s) used.
    """
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        missing = missing | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if missing.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(missing.sum())))
    if positive_label is None:
        if not is_implicit_binary(values):
            raise RaiError(NEED_POSITIVE.format(column=name, values=_some_values(values)))
        return (values.to_numpy() == 1).astype(np.int8), 1
    positives = list(positive_label) if isinstance(positive_label, (list, tuple, set)) else [positive_label]
    hits = values.isin(positives).to_numpy()
    if require_positive and argument == "target" and not hits.any():
        raise RaiError(UNKNOWN_POSITIVE.format(value=positive_label, column=name,
                                               values=_some_values(values)))
    return hits.astype(np.int8), positive_label


def is_implicit_binary(values: pd.Series) -> bool:
    """True when every value is 0/1, every value is -1/1, or the dtype is boolean."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if not pd.api.types.is_numeric_dtype(values.dtype):
        return False
    array = values.to_numpy()
    is_one = array == 1
    return bool(np.all(is_one | (array == 0)) or np.all(is_one | (array == -1)))


def _some_values(values: pd.Series) -> list[str]:
    return sorted(map(str, pd.unique(values)))[:10]


def check_same_classes(pred_name, pred_values, target_name, target_values) -> None:
    """RaiError when predictions hold labels the target never has (scores, or another coding)."""
    if is_implicit_binary(pred_values) and is_implicit_binary(target_values):
        return
    unknown = set(pd.unique(pred_values.dropna())) - set(pd.unique(target_values))
    if unknown:
        raise RaiError(f"prediction ({pred_name!r}) has values {sorted(map(str, unknown))[:5]} that never "
                       f"occur in target ({target_name!r}); pass predicted classes, not scores (use score=)")


def encode_score(name, values: pd.Series) -> np.ndarray:
    """Scores as float64 probabilities of the positive class, checked to lie in [0, 1]."""
    scores = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(scores)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument="score", column=name, count=int(bad.sum())))
    if scores.min() < 0 or scores.max() > 1:
        raise RaiError(BAD_SCORE.format(column=name, low=scores.min(), high=scores.max()))
    return scores


def facet_specs(sensitive) -> list[tuple[object, float | None]]:
    """Normalise ``sensitive`` (a name, a list of names, or {name: threshold}) to pairs."""
    if isinstance(sensitive, (set, frozenset)):
        raise RaiError("sensitive is a set, whose order is not fixed; pass a list of column "
                       "names")
    if isinstance(sensitive, dict):
        specs = list(sensitive.items())
    elif isinstance(sensitive, (list, tuple, pd.Index)):
        specs = [(name, None) for name in sensitive]
    else:
        specs = [(sensitive, None)]
    if not specs:
        raise RaiError("sensitive must name at least one column")
    return specs


def _encode_facet(data: pd.DataFrame, spec, cut, levels: dict | None) -> EncodedColumn:
    name, values = column_values(data, spec, argument="sensitive")
    if cut is not None:
        column = encode_threshold(name, values, cut, argument="sensitive")
    elif levels is not None:
        return encode_with_levels(name, values, levels[name], argument="sensitive")
    else:
        column = encode_categorical(name, values, argument="sensitive")
    if levels is None and (column.n_levels < 2 or np.all(column.codes == column.codes[0])):
        raise RaiError(ONE_FACET.format(column=name, value=values.iloc[0]))
    return column
