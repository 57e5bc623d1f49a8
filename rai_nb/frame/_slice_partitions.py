"""The slice search over a partitioned frame: codes and losses stay in the partitions.

The encoded codes, per-row losses and weights of each partition are computed once and persisted
where the engine keeps data; each level of the SliceLine search then asks every partition for
the sizes and loss sums of its candidates (:func:`rai_nb.stats.slice_counts.slice_sums`) and
adds them. Search and significance come from the in-memory code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine import distinct_values, require_column_names
from ..errors import EMPTY_DATA, RaiError
from ..stats.slice_counts import slice_sums
from ..stats.slicing import search_slices
from ._slice_losses import (
    _RATES,
    check_weight_left,
    loss_moments,
    min_support,
    no_rows_of_class,
    row_weights,
    slice_losses,
)
from ._slice_plans import encode_partition, partitioned_slice_features
from ._task import encode_target


@dataclass(frozen=True)
class PartitionedSearch:
    """What a partitioned slice search found, for ``slice_result``."""

    search: object
    columns: tuple
    moments: np.ndarray
    rows: np.ndarray
    total: np.ndarray
    n_rows: int
    weighted: bool
    loss: str
    min_sup: int


def partitioned_slices(data, *, features, bins, n_bins, sample_weight, loss_options, alpha, k,
                       max_l, min_sup) -> PartitionedSearch:
    """The search of :func:`rai_nb.slices` over a partitioned frame (same arguments, checked)."""
    options = dict(loss_options)
    require_column_names(data, errors=options["errors"], target=options["target"],
                         prediction=options["prediction"], sample_weight=sample_weight)
    plans = partitioned_slice_features(data, features, bins=bins, n_bins=n_bins)
    if options["loss"] in _RATES and options["target"] is not None:
        classes = distinct_values(data, [options["target"]])[0]
        options["positive_label"] = encode_target(
            options["target"], pd.Series(classes), task="binary",
            positive_label=options["positive_label"]).positive_label
    rows = data.parts.map(_partition_rows, plans, options, sample_weight).persist()
    totals = rows.map(_totals).collect()
    n_rows, weight, loss_sum = (sum(t[i] for t in totals) for i in range(3))
    if n_rows == 0:
        if options["loss"] in _RATES and options["target"] is not None:
            raise no_rows_of_class(options["loss"], options["target"], options["positive_label"])
        raise RaiError(EMPTY_DATA.format(argument="data"))
    name = next(t[5] for t in totals if t[5] is not None)
    weighted = sample_weight is not None
    if weighted:
        check_weight_left(sample_weight, weight, name)
    n_levels = np.array([plan.column().n_levels for plan in plans], dtype=np.int64)

    def sums(features, levels):
        return rows.map(_sums, features, levels, n_levels).reduce(_add_tuples)

    support = min_support(min_sup, weight)
    search = search_slices(sums, n_levels, n_rows=weight if weighted else int(n_rows),
                           loss_sum=loss_sum, loss_max=max(t[3] for t in totals if t[1] > 0),
                           min_weight=min(t[4] for t in totals) if weighted else None,
                           alpha=alpha, k=k, max_l=max_l, min_sup=support)
    moments, slice_rows, total = rows.map(_moments, search.average_error,
                                          search.slices).reduce(_add_tuples)
    return PartitionedSearch(search, tuple(plan.column() for plan in plans), moments, slice_rows,
                             total, int(n_rows), weighted, name, support)


def _partition_rows(part, plans, options, sample_weight):
    """One partition's codes (of the rows the loss is defined on), losses, weights (None:
    unweighted), loss sums (loss × weight) and loss name."""
    if len(part) == 0:
        empty = np.zeros(0)
        return (np.zeros((0, len(plans)), dtype=np.int32), empty,
                None if sample_weight is None else empty, empty, None)
    weights = row_weights(part, sample_weight, require_positive=False)[1]
    loss, rows, name = slice_losses(part, **options, require_rows=False)
    codes = encode_partition(part, plans)
    if rows is not None:
        codes, weights = codes[rows], None if weights is None else weights[rows]
    return codes, loss, weights, loss if weights is None else loss * weights, name


def _totals(part):
    """Rows, total weight, loss sum, largest loss of a weighted row, smallest positive weight."""
    _, loss, weights, loss_sums, name = part
    w = np.ones(len(loss)) if weights is None else weights
    positive = w > 0
    return (len(loss), float(w.sum()), float(loss_sums.sum()),
            float(loss[positive].max()) if positive.any() else 0.0,
            float(w[positive].min()) if positive.any() else np.inf, name)


def _sums(part, features, levels, n_levels):
    codes, _, weights, loss_sums, _ = part
    return slice_sums(codes, loss_sums, features, levels, n_levels, weights=weights, xp=np)


def _moments(part, average, slices):
    codes, loss, weights, _, _ = part
    return loss_moments(codes, loss - average, weights, slices, xp=np)


def _add_tuples(parts: list[tuple]) -> tuple:
    return tuple(np.sum(values, axis=0) for values in zip(*parts))
