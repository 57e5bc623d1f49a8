"""Building a :class:`._dask_validate._DaskContext` for ``validate`` and ``drift``.

Names and errors follow the pandas path: the label columns are looked up on the frame's empty
``_meta`` (same messages), and missing labels are counted over every partition before anything
is encoded.
"""

from __future__ import annotations

import numpy as np

from ..checks import drift as kd
from ..errors import NAN_VALUES, RaiError
from ..frame import EncodedColumn
from ..frame._bias import encode_weights
from ..frame._bins import encode_cut, resolve_cut
from ..frame._dask_tabular import Labels, as_dask, coerced_numeric, encode_dask_tables, label_name
from ..frame._tabular import category_codes
from ._dask_validate import _compute, _DaskContext
from ._validation_context import _Target


def dask_context(data, reference, *, target, sensitive, prediction, positive_label,
                 sample_weight, thresholds, options, random_state) -> _DaskContext:
    """The context of ``validate`` when ``data`` or ``reference`` is a Dask frame.

    ``sensitive`` holds ``(column, cut)`` pairs (``frame._bins.facet_specs``).
    """
    data = as_dask(data, "data")
    reference = None if reference is None else as_dask(reference, "reference")
    roles = {}
    target_name = None if target is None else label_name(data, target, argument="target")
    if target_name is not None:
        roles[target_name] = "target"
    if prediction is not None:
        roles[label_name(data, prediction, argument="prediction")] = "prediction"
    weight = None
    if sample_weight is not None:
        weight = label_name(data, sample_weight, argument="sample_weight")
        encode_weights(weight, data._meta[weight], require_positive=False)  # its dtype
        roles[weight] = "sample_weight"
    facet_names = [label_name(data, s, argument="sensitive") for s, _ in sensitive]
    wanted = list(dict.fromkeys(([target_name] if target_name is not None else []) + facet_names))
    cur, ref, changes = encode_dask_tables(data, reference, argument="data", labels=wanted)
    tgt, labels = None, Labels()
    if target_name is not None:
        tgt, edges = _target(data, cur, target_name, positive_label)
        labels = Labels(target_name, tgt.levels, edges,
                        tgt.levels.index(tgt.positive) if tgt.classes else None)
    facets, cuts = [], []
    for name, (_, cut) in zip(facet_names, sensitive):
        _no_missing(cur, name, "sensitive")
        cuts.append(resolve_cut(name, cut, lambda n=name: data[n].value_counts().compute(),
                                data[name].dtype))
        # The distinct values give the levels (or the bins' labels) every partition shares.
        found = encode_cut(name, cur.labels[name], cuts[-1], argument="sensitive")
        facets.append(EncodedColumn(name, np.empty(0, np.int64), found.levels))
    labels = Labels(labels.target, labels.target_levels, labels.target_edges,
                    labels.positive_code, tuple((f.name, f.levels, c) for f, c in zip(facets, cuts)))
    context = _DaskContext(cur, ref, changes, roles=roles, target=tgt, sensitive=facets, cuts=cuts,
                           weight=weight, labels=labels, thresholds=thresholds, options=options,
                           random_state=random_state)
    if weight is not None:
        context.check_weights()
    return context


def dask_drift_context(reference, current, *, columns, target, prediction, thresholds, options,
                       random_state) -> _DaskContext:
    """The context of ``drift`` when either frame is a Dask frame."""
    reference, current = as_dask(reference, "reference"), as_dask(current, "current")
    if columns is None and not set(reference.columns) & set(current.columns):
        raise RaiError("reference and current share no column; name the columns to compare")
    roles = {}
    for spec, role in ((target, "target"), (prediction, "prediction")):
        if spec is not None:
            roles[label_name(current, label_name(reference, spec, argument=role),
                             argument=role)] = role
    cur, ref, changes = encode_dask_tables(current, reference, columns=columns,
                                           argument="current" if columns else "data")
    return _DaskContext(cur, ref, changes, roles=roles, thresholds=thresholds, options=options,
                        random_state=random_state)


def _no_missing(table, name, argument: str) -> None:
    if table.missing[name]:
        raise RaiError(NAN_VALUES.format(argument=argument, column=name,
                                         count=table.missing[name]))


def _target(data, table, name, positive_label):
    """The target's classes, or (more than ``MAX_CLASSES`` values) its decile bins' edges."""
    _no_missing(table, name, "target")
    levels = category_codes(table.labels[name], ())[1]
    if len(levels) <= _Target.MAX_CLASSES:
        return _Target(name, levels, True, positive_label), None
    edges = _decile_edges(data[name])
    return _Target(name, tuple(range(edges.size + 1)), False, positive_label), edges


def _decile_edges(column) -> np.ndarray:
    """``np.unique(np.quantile(values, deciles))`` of a Dask column coerced to numbers, exactly.

    NumPy's linear quantile interpolates between the order statistics at the floor and ceiling
    of ``q·(n−1)``; ``np.quantile`` of those two values at the fractional part repeats its
    arithmetic to the bit.
    """
    from ..frame._dask import order_statistics

    numeric = coerced_numeric(column)
    n_missing, n = (int(v) for v in _compute([numeric.isna().sum(), numeric.size]))
    deciles = np.arange(1, 10) / 10
    if n_missing:  # np.quantile of data holding NaN is NaN
        return np.unique(np.full(deciles.size, np.nan))
    low, high, weight = kd.quantile_ranks(n, deciles)
    ranks = np.unique(np.concatenate([low, high]))
    lookup = dict(zip(ranks.tolist(), order_statistics(numeric, ranks).tolist()))
    return np.unique([np.quantile([lookup[lo], lookup[hi]], w)
                      for lo, hi, w in zip(low.tolist(), high.tolist(), weight)])
