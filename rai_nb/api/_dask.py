"""Dask inputs: sufficient statistics per partition, summed by Dask's own scheduler.

Every metric then comes from the same code as the in-memory path, so a Dask audit equals a
pandas audit of the same rows.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..errors import ONE_CLASS, ONE_FACET, RaiError
from ..frame import (
    EncodedColumn,
    distinct_values,
    encode_bias_inputs,
    level_tuple,
    require_column_names,
)
from ..frame._bias import encode_binary, facet_specs


def dask_bias_counts(data, *, target, sensitive, prediction, score, positive_label,
                     group_variable, threshold):
    """:class:`BiasCounts` of a Dask DataFrame (see :func:`rai_nb.bias`)."""
    import dask

    from ._bias import BiasCounts, bias_counts

    specs = facet_specs(sensitive)
    require_column_names(data, target=target, sensitive=[n for n, _ in specs],
                         prediction=prediction, score=score, group_variable=group_variable)
    # One pass collects the target's classes and every level column's values.
    arguments = {name: "sensitive" for name, cut in specs if cut is None}
    if group_variable is not None:
        arguments[group_variable] = "group_variable"
    distinct = dict(zip([target, *arguments], distinct_values(data, [target, *arguments])))
    positive = positive_of(target, distinct[target], positive_label)
    levels = {name: level_tuple(name, distinct[name], argument=argument)
              for name, argument in arguments.items()}
    options = dict(target=target, sensitive=sensitive, prediction=prediction, score=score,
                   positive_label=positive, group_variable=group_variable, threshold=threshold,
                   levels=levels)
    # One real row gives the shapes and labels of every partition's counts.
    template = bias_counts(encode_bias_inputs(data.head(1, npartitions=-1), **options))
    count = partial(_partition_counts, options=options, template=template)
    parts = [dask.delayed(count)(part) for part in data.to_delayed()]
    tensor, histograms = dask.compute(dask.delayed(_add)(parts))[0]
    present = tensor.sum(axis=(1, 2, 3)) > 0
    groups = EncodedColumn(template.groups.name, np.empty(0, np.int64),
                           tuple(g for g, seen in zip(template.groups.levels, present) if seen))
    _check_facets_present(template.facets, groups)
    return BiasCounts(
        tensor=tensor[present], histograms=None if histograms is None else histograms[:, present],
        facets=template.facets, groups=groups, group_variable=template.group_variable,
        target=target, positive_label=positive, predicted=template.predicted)


def positive_of(target, values, positive_label):
    """The positive label, checked on the target's distinct values (NaN, one class, unknown)."""
    values = pd.Series(values)
    labels, positive = encode_binary(target, values, positive_label, argument="target")
    if labels.min() == labels.max():
        raise RaiError(ONE_CLASS.format(argument="target", column=target, value=values.iloc[0]))
    return positive


def _partition_counts(part: pd.DataFrame, *, options, template):
    if len(part) == 0:
        hist = template.histograms
        return np.zeros_like(template.tensor), None if hist is None else np.zeros_like(hist)
    from ._bias import bias_counts

    counts = bias_counts(encode_bias_inputs(part, **options))
    return counts.tensor, counts.histograms


def _add(parts):
    tensors, histograms = zip(*parts)
    total = np.sum(tensors, axis=0)
    return total, None if histograms[0] is None else np.sum(histograms, axis=0)


def _check_facets_present(facets, groups) -> None:
    for position, facet in enumerate(facets):
        seen = {group[position] for group in groups.levels}
        if len(seen) < 2:
            raise RaiError(ONE_FACET.format(column=facet.name, value=next(iter(seen))))
