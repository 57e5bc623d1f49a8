"""The sufficient statistics of a bias audit, from one frame or from partitions.

One pass over encoded rows gives every count a fairness metric needs (:func:`bias_counts`);
partitions of a larger frame each make that pass and add their counts
(:func:`partitioned_bias_counts`), so every metric then comes from the same code and a
partitioned audit equals a pandas audit of the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from ..engine import distinct_values, level_tuple, require_column_names, value_counts
from ..errors import ONE_FACET, RaiError
from ..stats.regression import distribution_gaps, merge_distributions
from ._bias import check_same_classes, encode_bias_inputs
from ._bins import facet_specs, resolve_cut
from ._columns import EncodedColumn
from ._task import encode_target


@dataclass(frozen=True)
class BiasCounts:
    """The sufficient statistics of a bias audit and the labels of their axes.

    ``rows[g]`` counts rows per group. Classification: ``tensor[g, s, y, ŷ]`` sums rows (or
    weights) per group, stratum of the group variable and class; ``histograms`` are
    ``score_histograms`` per group. Regression: ``sums`` per group (see
    :func:`rai_nb.stats.regression.regression_sums`), the KS and Wasserstein ``gaps`` of each
    group's predictions to all rows (a partition keeps its exact ``distribution`` instead,
    to be merged), Poisson bootstrap replicates of both, and with a ``label_threshold``
    the binary ``tensor`` of ``target > t`` and ``prediction > t`` for Clarify's metrics.
    """

    task: str
    task_inferred: bool
    rows: np.ndarray
    tensor: np.ndarray | None
    histograms: np.ndarray | None
    facets: tuple
    cuts: tuple
    groups: EncodedColumn
    group_variable: EncodedColumn | None
    target: object
    positive_label: object
    classes: tuple
    predicted: bool
    weighted: bool
    shift: float = 0.0
    sums: np.ndarray | None = None
    distribution: object | None = None
    gaps: tuple | None = None
    replicate_sums: np.ndarray | None = None
    replicate_gaps: tuple | None = None


def bias_counts(inputs, *, label_threshold=None, n_boot: int = 0, seed: int = 0,
                offset: int | None = None, shift: float | None = None) -> BiasCounts:
    """One pass over encoded rows: the sufficient statistics of ``inputs.target.task``.

    A partition of a larger data set passes ``offset`` (the global position of its first
    row) and ``shift`` (the target's weighted mean over the whole data), so it draws the same
    bootstrap weights and sums as the whole would.
    """
    from ..stats.counts import confusion_counts, score_histograms

    n_groups = inputs.groups.n_levels
    n_strata = inputs.group_variable.n_levels if inputs.group_variable is not None else 1
    task, xp = inputs.target.task, inputs.xp
    regression = task == "regression"
    n_classes = 2 if task != "multiclass" else len(inputs.target.classes)
    y_true, y_pred = inputs.y_true, inputs.y_pred
    if regression:
        shift = _weighted_mean(y_true, inputs.weights, xp) if shift is None else shift
        if label_threshold is not None:
            y_true = y_true > label_threshold
            y_pred = None if y_pred is None else y_pred > label_threshold
    tensor = None
    if not regression or label_threshold is not None:
        tensor = confusion_counts(inputs.group_codes, y_true, y_pred,
                                  n_groups=n_groups * n_strata, n_classes=n_classes,
                                  weights=inputs.weights, xp=xp)
        tensor = tensor.reshape(n_groups, n_strata, n_classes, n_classes)
    histograms = None
    if inputs.y_score is not None:
        histograms = score_histograms(inputs.group_codes, y_true, inputs.y_score,
                                      n_groups=n_groups * n_strata, xp=xp)
        histograms = histograms.reshape(3, n_groups, n_strata, -1).sum(axis=2)
    regression_parts = (_regression_parts(inputs, n_boot=n_boot, seed=seed, offset=offset,
                                          shift=shift) if regression else {})
    rows = (tensor.sum(axis=(1, 2, 3)).astype(np.int64)
            if tensor is not None and inputs.weights is None
            else np.bincount(np.asarray(inputs.groups.codes), minlength=n_groups))
    return BiasCounts(
        task=task, task_inferred=inputs.target.inferred, rows=rows, tensor=tensor,
        histograms=histograms, facets=inputs.facets, cuts=inputs.cuts, groups=inputs.groups,
        group_variable=inputs.group_variable, target=inputs.target.name,
        positive_label=inputs.target.positive_label, classes=inputs.target.classes,
        predicted=inputs.y_pred is not None, weighted=inputs.weights is not None,
        shift=float(shift or 0.0), **regression_parts)


def _regression_parts(inputs, *, n_boot, seed, offset, shift) -> dict:
    from ..stats import regression as reg

    n_groups, xp = inputs.groups.n_levels, inputs.xp
    codes = inputs.group_codes
    if inputs.group_variable is not None:  # regression sums are per group, not per stratum
        codes = codes // inputs.group_variable.n_levels
    y_pred = inputs.y_pred if inputs.y_pred is not None else inputs.y_true
    parts = {"sums": reg.regression_sums(codes, inputs.y_true, y_pred, inputs.weights,
                                         n_groups=n_groups, shift=shift, xp=xp)}
    if inputs.y_pred is not None and offset is None:
        parts["gaps"] = reg.prediction_gaps(codes, inputs.y_pred, inputs.weights,
                                            n_groups=n_groups)
    elif inputs.y_pred is not None:  # a partition: its distribution merges with the others'
        parts["distribution"] = reg.prediction_distribution(codes, inputs.y_pred, inputs.weights,
                                                            n_groups=n_groups)
    if n_boot:
        sums, ks, wasserstein = reg.poisson_bootstrap(
            codes, inputs.y_true, y_pred, inputs.weights, n_groups=n_groups, shift=shift,
            n_boot=n_boot, seed=seed, offset=offset or 0,
            gaps=offset is None and inputs.y_pred is not None)
        parts["replicate_sums"] = sums
        if inputs.y_pred is not None and offset is None:  # a partition's gaps are not the whole's
            parts["replicate_gaps"] = (ks, wasserstein)
    return parts


def _weighted_mean(values, weights, xp) -> float:
    if weights is None:
        return float(xp.mean(values))
    return float(xp.sum(values * weights) / xp.sum(weights))


def partitioned_bias_counts(data, *, options: dict, label_threshold, n_boot: int, seed: int):
    """:class:`BiasCounts` of a partitioned frame (see :func:`rai_nb.bias` for ``options``).

    Partitions agree first on the levels of every grouping column and on the target's
    classes; each then counts its own rows (with its first row's global position, so the
    bootstrap draws what the whole frame would) and the counts add up.
    """
    target, weight = options["target"], options["sample_weight"]
    specs = facet_specs(options["sensitive"])
    require_column_names(data, target=target, sensitive=[n for n, _ in specs],
                         prediction=options["prediction"], score=options["score"],
                         group_variable=options["group_variable"], sample_weight=weight)
    levels = _levels(data, specs, options)
    # The checks that need every row (two classes, the positive label present) run on the
    # target's distinct values.
    whole_values = pd.Series(levels.pop(("distinct", target)))
    whole = encode_target(target, whole_values,
                          task=options["task"], positive_label=options["positive_label"])
    resolved = dict(options, task=whole.task, positive_label=whole.positive_label)
    predicted = levels.pop(("distinct", options["prediction"]), None)
    if predicted is not None and whole.task != "regression":
        check_same_classes(options["prediction"], predicted, target, whole_values)
    if whole.task == "multiclass":
        levels[target] = whole.classes
    shift = _target_mean(data, target, weight) if whole.task == "regression" else None
    offsets = data.offsets
    draws = dict(label_threshold=label_threshold, n_boot=n_boot, seed=seed, shift=shift)
    # One real row gives the shapes and labels of every partition's statistics.
    template = bias_counts(encode_bias_inputs(data.head(1), **resolved, levels=levels),
                           **dict(draws, n_boot=0))
    count = partial(_partition_counts, options=dict(resolved, levels=levels), draws=draws,
                    template=template)
    total = data.parts.map(count, each=offsets[:-1].tolist()).reduce(_add)
    present = total["rows"] > 0
    groups = EncodedColumn(template.groups.name, np.empty(0, np.int64),
                           tuple(g for g, seen in zip(template.groups.levels, present) if seen))
    _check_facets_present(template.facets, groups)
    distribution = total.pop("distribution")
    if distribution is not None:
        total["gaps"] = distribution_gaps(distribution)
    kept = {key: None if value is None else np.compress(present, value, axis=_GROUP_AXIS.get(key, 0))
            for key, value in total.items()}
    return replace(template, groups=groups, task_inferred=whole.inferred, **kept)


def _levels(data, specs, options) -> dict:
    """Levels every partition must share: the target's distinct values (under key
    ``("distinct", target)``), each categorical column's levels and each binned column's cut
    (under ``("cut", name)``)."""
    target, group_variable = options["target"], options["group_variable"]
    prediction = options["prediction"]
    columns = [name for name, _ in specs] + ([group_variable] if group_variable else [])
    columns += [prediction] if prediction is not None and prediction not in columns else []
    distinct = dict(zip([target, *columns], distinct_values(data, [target, *columns])))
    levels = {("distinct", target): distinct[target]}
    if prediction is not None:
        levels[("distinct", prediction)] = distinct[prediction]
    for name, cut in specs:
        values = distinct[name]
        spec = resolve_cut(name, cut, lambda n=name: value_counts(data, n),
                           data.meta[name].dtype)
        if spec.kind == "levels":
            levels[name] = level_tuple(name, values, argument="sensitive")
        else:
            levels[("cut", name)] = spec
    if group_variable is not None:
        levels[group_variable] = level_tuple(group_variable, distinct[group_variable],
                                             argument="group_variable")
    return levels


def _target_mean(data, target, weight) -> float:
    total, weights = data.parts.map(_target_sums, target, weight).reduce(_add_arrays)
    return float(total / weights)


def _target_sums(part: pd.DataFrame, target, weight) -> np.ndarray:
    y = part[target].astype("float64")
    w = 1.0 if weight is None else part[weight].astype("float64")
    return np.array([(y * w).sum(), w.sum() if weight is not None else len(part)])


def _add_arrays(arrays: list) -> np.ndarray:
    return np.sum(arrays, axis=0)


def _partition_counts(part: pd.DataFrame, offset: int, *, options, draws, template) -> dict:
    if len(part) == 0:
        return {key: None for key in _ADDED}
    counts = bias_counts(encode_bias_inputs(part, **options), offset=int(offset), **draws)
    return {key: getattr(counts, key) for key in _ADDED}


#: The statistics that partitions add up (the prediction distributions merge).
_ADDED = ("rows", "tensor", "histograms", "sums", "replicate_sums", "distribution")


def _add(parts: list[dict]) -> dict:
    total = {}
    for key in _ADDED:
        values = [p[key] for p in parts if p[key] is not None]
        if not values:
            total[key] = None
        elif key == "distribution":
            total[key] = merge_distributions(values)
        else:
            total[key] = np.sum(values, axis=0)
    return total


#: The group axis of each statistic: groups no partition saw are dropped (a partition's
#: encoding covers every combination of levels).
_GROUP_AXIS = {"histograms": 1, "replicate_sums": 1, "gaps": 1}


def _check_facets_present(facets, groups) -> None:
    for position, facet in enumerate(facets):
        seen = {group[position] for group in groups.levels}
        if len(seen) < 2:
            raise RaiError(ONE_FACET.format(column=facet.name, value=next(iter(seen))))
