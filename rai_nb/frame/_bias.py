"""Encoding of the inputs of a bias audit: labels, predictions, scores and sensitive groups."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np
import pandas as pd

from ..backend import choose_namespace, is_on_device, to_device
from ..errors import (
    BAD_SCORE,
    EMPTY_DATA,
    NAN_VALUES,
    ONE_FACET,
    RaiError,
)
from ._bins import Cut, encode_cut, facet_specs, resolve_cut
from ._columns import (
    EncodedColumn,
    column_values,
    combine_columns,
    encode_categorical,
    encode_with_levels,
    product_columns,
)
from ._task import (
    EncodedTarget,
    class_codes,
    encode_binary,
    encode_target,
    is_implicit_binary,
    regression_values,
)


@dataclass(frozen=True)
class BiasInputs:
    """Everything the bias kernels need, encoded.

    ``y_true`` and ``y_pred`` are 0/1 (binary), class codes (multiclass) or floats
    (regression); they, ``y_score``, ``weights`` and ``group_codes`` live in namespace ``xp``;
    ``facets``, ``groups`` and ``group_variable`` keep the host-side labels of each code and
    ``cuts`` how each sensitive column became groups.
    """

    xp: ModuleType
    n_rows: int
    target: EncodedTarget
    y_pred: object | None
    y_score: object | None
    weights: object | None
    facets: tuple[EncodedColumn, ...]
    cuts: tuple[Cut, ...]
    groups: EncodedColumn
    group_variable: EncodedColumn | None
    group_codes: object

    @property
    def y_true(self):
        return self.target.values


def encode_bias_inputs(
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
    levels: dict | None = None,
) -> BiasInputs:
    """Validate and encode the arguments of :func:`rai_nb.bias`; see there for their meaning.

    ``prediction`` defaults to ``score >= threshold`` when only a score is given.

    ``levels`` encodes one partition of a larger data set: it maps each categorical sensitive
    column, the group variable and (for a multiclass target) the target to its levels over
    the whole data set, and each binned column to its :class:`Cut`. Groups then cover every
    combination of levels, observed here or not, so partitions' counts add up; checks that
    need the whole data set (two classes, two facet values) are left to the caller, who also
    passes the resolved ``task`` and ``positive_label``.
    """
    if not isinstance(data, pd.DataFrame):
        raise RaiError(f"data must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(data).__name__}")
    if len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    whole = levels is None
    target_name, target_values = column_values(data, target, argument="target")
    encoded = encode_target(target_name, target_values, task=task, positive_label=positive_label,
                            classes=None if whole else levels.get(target_name),
                            require_all=whole)
    y_score = _encode_score(data, score, encoded)
    y_pred = None
    if prediction is not None:
        pred_name, pred_values = column_values(data, prediction, argument="prediction")
        # Multiclass codes refuse unknown classes themselves; a partition may lack some.
        if whole and encoded.task == "binary":
            check_same_classes(pred_name, pred_values, target_name, target_values)
        y_pred = encode_prediction(encoded, pred_name, pred_values)
    elif y_score is not None:
        y_pred = (y_score >= threshold).astype(np.int8)

    specs = facet_specs(sensitive)
    facets, cuts = zip(*(_encode_facet(data, name, cut, levels) for name, cut in specs))
    groups = combine_columns(list(facets)) if whole else product_columns(list(facets))
    gv = None
    group_codes = groups.codes
    if group_variable is not None:
        name, values = column_values(data, group_variable, argument="group_variable")
        gv = (encode_categorical(name, values, argument="group_variable") if whole else
              encode_with_levels(name, values, levels[name], argument="group_variable"))
        group_codes = groups.codes * gv.n_levels + gv.codes

    weights = None if sample_weight is None else encode_weights(
        *column_values(data, sample_weight, argument="sample_weight"), require_positive=whole)
    on_device = any(is_on_device(a) for a in (target, prediction, score, sample_weight))
    xp = choose_namespace(len(data), on_device=on_device)
    move = lambda a: None if a is None else to_device(a, xp)  # noqa: E731
    encoded = replace(encoded, values=move(encoded.values))
    return BiasInputs(
        xp=xp, n_rows=len(data), target=encoded, y_pred=move(y_pred), y_score=move(y_score),
        weights=move(weights), facets=facets, cuts=cuts, groups=groups, group_variable=gv,
        group_codes=move(group_codes),
    )


def encode_prediction(target: EncodedTarget, name, values: pd.Series):
    """Predictions in the target's encoding (0/1, class codes or floats)."""
    if target.task == "regression":
        return regression_values(name, values, "prediction")
    if target.task == "multiclass":
        return class_codes(name, values, target.classes, argument="prediction")[0]
    return encode_binary(name, values, target.positive_label, argument="prediction")[0]


def _encode_score(data, score, target: EncodedTarget):
    if score is None:
        return None
    if target.task != "binary":
        raise RaiError(f"score= holds the probability of a positive class, which a {target.task} "
                       "target has not; pass prediction= instead")
    return encode_score(*column_values(data, score, argument="score"))


def encode_weights(name, values: pd.Series, *, require_positive: bool = True) -> np.ndarray:
    """Sample weights as float64: finite, non-negative and (over the whole data) not all zero."""
    if not (pd.api.types.is_numeric_dtype(values.dtype)
            and not pd.api.types.is_bool_dtype(values.dtype)):
        raise RaiError(f"sample_weight ({name!r}) must hold numbers, got {values.dtype}")
    weights = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(weights)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument="sample_weight", column=name,
                                         count=int(bad.sum())))
    if (weights < 0).any():
        raise RaiError(f"sample_weight ({name!r}) has {int((weights < 0).sum())} negative "
                       "value(s); weights must be >= 0")
    if require_positive and not (weights > 0).any():
        raise RaiError(f"sample_weight ({name!r}) is zero on every row")
    return weights


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


def _encode_facet(data: pd.DataFrame, spec, cut, levels: dict | None):
    """A sensitive column's codes and the :class:`Cut` that made them."""
    name, values = column_values(data, spec, argument="sensitive")
    if levels is not None:
        resolved = levels.get(("cut", name), Cut("levels"))
    else:
        resolved = resolve_cut(name, cut, values.value_counts, values.dtype)
    column = encode_cut(name, values, resolved, argument="sensitive",
                        levels=None if levels is None else levels.get(name))
    if levels is None and (column.n_levels < 2 or np.all(column.codes == column.codes[0])):
        raise RaiError(ONE_FACET.format(column=name, value=column.levels[column.codes[0]]))
    return column, resolved
