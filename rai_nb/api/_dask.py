"""Dask inputs: sufficient statistics per partition, summed by Dask's own scheduler.

Every metric then comes from the same code as the in-memory path, so a Dask audit equals a
pandas audit of the same rows.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd

from ..errors import ONE_FACET, RaiError
from ..frame import (
    EncodedColumn,
    distinct_values,
    encode_bias_inputs,
    level_tuple,
    require_column_names,
)
from ..frame._bias import check_same_classes
from ..frame._bins import facet_specs, resolve_cut
from ..frame._task import encode_target
from ..stats.regression import distribution_gaps, merge_distributions


def dask_bias_counts(data, *, options: dict, label_threshold, n_boot: int, seed: int):
    """:class:`BiasCounts` of a Dask DataFrame (see :func:`rai_nb.bias` for ``options``)."""
    import dask

    from ._bias import bias_counts

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
    offsets = np.concatenate([[0], np.cumsum(data.map_partitions(len).compute().to_numpy())])
    draws = dict(label_threshold=label_threshold, n_boot=n_boot, seed=seed, shift=shift)
    # One real row gives the shapes and labels of every partition's statistics.
    template = bias_counts(encode_bias_inputs(data.head(1, npartitions=-1), **resolved,
                                              levels=levels), **dict(draws, n_boot=0))
    count = partial(_partition_counts, options=dict(resolved, levels=levels), draws=draws,
                    template=template)
    parts = [dask.delayed(count)(part, offset) for part, offset in
             zip(data.to_delayed(), offsets[:-1].tolist())]
    total = dask.compute(dask.delayed(_add)(parts))[0]
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
        spec = resolve_cut(name, cut, lambda n=name: data[n].value_counts().compute(),
                           data[name].dtype)
        if spec.kind == "levels":
            levels[name] = level_tuple(name, values, argument="sensitive")
        else:
            levels[("cut", name)] = spec
    if group_variable is not None:
        levels[group_variable] = level_tuple(group_variable, distinct[group_variable],
                                             argument="group_variable")
    return levels


def _target_mean(data, target, weight) -> float:
    y = data[target].astype("float64")
    if weight is None:
        return float(y.mean().compute())
    w = data[weight].astype("float64")
    return float(((y * w).sum() / w.sum()).compute())


def _partition_counts(part: pd.DataFrame, offset: int, *, options, draws, template) -> dict:
    if len(part) == 0:
        return {key: None for key in _ADDED}
    from ._bias import bias_counts

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
