"""``rai_nb.slices`` on a Dask frame: codes and losses stay in the partitions, Dask sums counts.

The encoded codes and per-row losses of each partition are computed once and persisted where
Dask keeps data; each level of the SliceLine search then asks every partition for the sizes
and loss sums of its candidates (:func:`rai_nb.stats.slice_counts.slice_sums`) and adds them.
Search, significance and the result come from the in-memory code.
"""

from __future__ import annotations

import numpy as np

from ..errors import EMPTY_DATA, RaiError
from ..frame import distinct_values, require_column_names
from ..frame._dask_features import dask_slice_features, encode_partition
from ..stats.slice_counts import slice_moments, slice_sums
from ..stats.slicing import search_slices
from ._dask import positive_of
from ._slices import _RATES, _loss, min_support, no_rows_of_class, slice_result


def dask_slices(data, *, features, bins, n_bins, loss_options, alpha, k, max_l, min_sup,
                significance, fdr):
    """:func:`rai_nb.slices` of a Dask DataFrame (same arguments, already checked)."""
    import dask

    options = dict(loss_options)
    require_column_names(data, errors=options["errors"], target=options["target"],
                         prediction=options["prediction"])
    plans = dask_slice_features(data, features, bins=bins, n_bins=n_bins)
    if options["loss"] in _RATES and options["target"] is not None:
        classes = distinct_values(data, [options["target"]])[0]
        options["positive_label"] = positive_of(options["target"], classes, options["positive_label"])
    rows = dask.persist(*[dask.delayed(_partition_rows)(part, plans, options)
                          for part in data.to_delayed()])
    totals = dask.compute([dask.delayed(_totals)(part) for part in rows])[0]
    n_rows = int(sum(t[0] for t in totals))
    if n_rows == 0:
        if options["loss"] in _RATES and options["target"] is not None:
            raise no_rows_of_class(options["loss"], options["target"], options["positive_label"])
        raise RaiError(EMPTY_DATA.format(argument="data"))
    n_levels = np.array([plan.column().n_levels for plan in plans], dtype=np.int64)

    def sums(features, levels):
        parts = dask.compute([dask.delayed(_sums)(part, features, levels, n_levels) for part in rows])[0]
        return tuple(np.sum(values, axis=0) for values in zip(*parts))

    support = min_support(min_sup, n_rows)
    search = search_slices(sums, n_levels, n_rows=n_rows, loss_sum=float(sum(t[1] for t in totals)),
                           loss_max=max(t[2] for t in totals if t[0]), alpha=alpha, k=k,
                           max_l=max_l, min_sup=support)
    parts = dask.compute([dask.delayed(_moments)(part, search.average_error, search.slices)
                          for part in rows])[0]
    moments, total = (np.sum(values, axis=0) for values in zip(*parts))
    name = next(t[3] for t in totals if t[3] is not None)
    return slice_result(search, tuple(plan.column() for plan in plans), moments, total, loss=name,
                        data=None, alpha=alpha, k=k, max_l=max_l, min_sup=support,
                        significance=significance, fdr=fdr)


def _partition_rows(part, plans, options):
    """One partition's codes (of the rows the loss is defined on), losses and loss name."""
    if len(part) == 0:
        return np.zeros((0, len(plans)), dtype=np.int32), np.zeros(0), None
    loss, rows, name = _loss(part, **options, require_rows=False)
    codes = encode_partition(part, plans)
    return (codes if rows is None else codes[rows]), loss, name


def _totals(part):
    codes, loss, name = part
    return len(loss), float(loss.sum()), float(loss.max()) if len(loss) else 0.0, name


def _sums(part, features, levels, n_levels):
    codes, loss, _ = part
    return slice_sums(codes, loss, features, levels, n_levels, xp=np)


def _moments(part, average, slices):
    codes, loss, _ = part
    centred = loss - average
    return (slice_moments(codes, centred, slices, xp=np),
            np.array([len(centred), centred.sum(), (centred**2).sum()]))
