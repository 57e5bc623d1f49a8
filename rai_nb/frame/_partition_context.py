"""``validate`` and ``drift`` on partitioned frames: the checks' statistics from partitions.

:class:`PartitionedContext` answers every statistic the checks read
(``_validation_context._Context`` documents them) with a few passes over the partitions of any
engine: one to agree on vocabularies (``_partition_tables``), one of counts and moments, one of
counted hashes by bucket (duplicates, conflicts, distinct values), exact order statistics
(``rai_nb.engine.order_statistics``) for quantiles, one of counts against the quantile-derived
bounds and edges, and the binned passes of ``checks.ecdf`` for exact KS and Wasserstein-1. Row
subsamples (AUC, label errors, MMD) and the cross-fitting halves follow a seed and the rows'
contents (``frame._sampling``), as on the pandas path, so the whole result equals the pandas one
on the same rows in any order and partitioning.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..checks import drift as kd
from ..checks import quality as kq
from ..engine import order_statistics, partitioned, value_counts
from ..errors import NAN_VALUES, RaiError
from . import _partition_parts as parts
from ._bias import encode_weights
from ._bins import encode_cut, resolve_cut
from ._columns import EncodedColumn
from ._partition_drift import DriftPasses
from ._partition_tables import (
    Labels,
    coerced_numeric,
    encode_partitioned_tables,
    intersection_levels,
    label_name,
    numeric_frame,
)
from ._tabular import category_codes
from ._validation_context import _Base, _Target


class PartitionedContext(_Base):
    """The statistics of :class:`._validation_context._Context`, from partitions."""

    def __init__(self, cur, ref, changes, *, roles=None, target=None, sensitive=(), cuts=(),
                 weight=None, labels: Labels | None = None, thresholds, options, random_state):
        self.cur_table, self.ref_table = cur, ref
        self.cur, self.ref = cur.info, ref.info if ref is not None else None
        self.changes = changes
        self.roles = roles or {}
        self.target = target
        self.sensitive, self.cuts = list(sensitive), list(cuts)
        self.weight = weight  # name of the weight column, or None
        self.labels_encoder = labels
        self.thresholds = thresholds
        self.options = options
        self.rng = np.random.default_rng(random_state)
        self.xp = np
        self.cache: dict = {}

    def device(self, array):
        return array

    def _parts(self, table, function, *args):
        """``function(partition, encoder, *args)`` of each partition of ``table`` (lazy)."""
        return table.frame.parts.map(function, table.encoder, *args)

    def _local(self, table, rows: np.ndarray) -> list[np.ndarray]:
        """``rows`` (sorted global positions) split into each partition's local positions."""
        offsets = table.offsets
        cut = np.searchsorted(rows, offsets)
        return [rows[cut[i]:cut[i + 1]] - offsets[i] for i in range(len(offsets) - 1)]

    # --- counts and moments ------------------------------------------------------------------

    @cached_property
    def _summaries(self) -> tuple[dict, dict | None]:
        cur = self._parts(self.cur_table, parts.summary, self.labels_encoder, self.weight)
        ref = None if self.ref_table is None else \
            self._parts(self.ref_table, parts.summary, None, None).reduce(parts.add_summaries)
        return cur.reduce(parts.add_summaries), ref

    @property
    def cur_counts(self) -> list[np.ndarray]:
        return self._summaries[0]["levels"]

    @property
    def ref_counts(self) -> list[np.ndarray]:
        return self._summaries[1]["levels"]

    @property
    def cur_n_values(self) -> np.ndarray:
        return _n_values(self._summaries[0])

    @property
    def ref_n_values(self) -> np.ndarray:
        return _n_values(self._summaries[1])

    def infinite_counts(self, which: str) -> np.ndarray:
        return self._summaries[0 if which == "cur" else 1]["infinite"]

    def ref_range(self):
        found = self._summaries[1]
        low, high = found["infinite"] > 0
        lows = np.where(low, -np.inf, found["min"])
        highs = np.where(high, np.inf, found["max"])
        empty = self.ref_n_values == 0
        return np.where(empty, np.nan, lows), np.where(empty, np.nan, highs)

    def ref_moments(self, positions):
        n, mean, m2 = self._summaries[1]["moments"][:, positions]
        return np.where(n > 0, mean, 0.0), np.where(n > 0, np.sqrt(m2 / np.maximum(n, 1)), 1.0)

    def check_weights(self) -> None:
        """RaiError when the weights are non-finite or negative (a partition's encoding says) or
        zero on every row, as on the pandas path."""
        if not self._summaries[0]["weight"] > 0:
            encode_weights(self.weight, pd.Series([0.0]))  # raises the pandas path's error

    def missing_by_group(self, i: int):
        found = self._summaries[0]
        return found[f"missing{i}"], found[f"sizes{i}"]

    def class_counts(self) -> np.ndarray:
        return self._summaries[0]["classes"]

    def facet_positives(self, i: int):
        found = self._summaries[0]
        return found[f"sizes{i}"], found[f"positives{i}"]

    def representation_counts(self) -> list[tuple]:
        found = self._summaries[0]
        out = [(f.name, f.levels, found[f"sizes{i}"]) for i, f in enumerate(self.sensitive)]
        if len(self.sensitive) > 1:
            cells, counts = found["cells"]
            levels = intersection_levels(self.sensitive, cells)
            out.append((tuple(f.name for f in self.sensitive), levels,
                        counts if self.weight is not None else np.rint(counts).astype(np.int64)))
        return out

    # --- distinct rows and values --------------------------------------------------------------

    @cached_property
    def _distinct(self) -> dict:
        n_buckets = max(1, self.cur_table.frame.n_partitions)
        counted = self._parts(self.cur_table, parts.counted_keys, self.labels_encoder,
                              self.roles, n_buckets)
        n_labels = len(self.target.levels) if self.target is not None else 1
        found = counted.regroup(n_buckets, parts.bucket_counts, n_labels,
                                len(self.cur.numeric_names)).collect()
        out = {key: tuple(int(sum(b[key][i] for b in found)) for i in range(2))
               for key in ("duplicates", "conflicts") if key in found[0]}
        out["profiles"] = [kq.ValueProfile(sum(p.n_values for p in column),
                                           sum(p.n_distinct for p in column),
                                           max(p.top_count for p in column))
                           for column in zip(*(b["profiles"] for b in found))]
        return out

    def duplicate_stats(self):
        return self._distinct["duplicates"]

    def conflict_stats(self):
        return self._distinct["conflicts"]

    def numeric_profiles(self) -> list:
        return list(self._distinct["profiles"])

    # --- quantiles and counts against them -------------------------------------------------------

    def _order_statistics(self, table, ranks: dict) -> dict:
        """``{position: values}`` of the requested ranks of numeric columns of ``table``."""
        ranks = {j: r for j, r in ranks.items() if len(r)}
        if not ranks:
            return {}
        names = table.info.numeric_names
        found = order_statistics(table.frame.parts.map(numeric_frame, table.encoder),
                                 {names[j]: np.asarray(r) for j, r in ranks.items()})
        return {j: found[names[j]] for j in ranks}

    def _quantiles(self, which: str) -> dict:
        """Per numeric column with values: decile edges (association bins of the current data,
        drift histograms of the reference) and, for the current data, quartiles (outliers)."""
        if ("quantiles", which) in self.cache:
            return self.cache["quantiles", which]
        table = self.cur_table if which == "cur" else self.ref_table
        n_values = self.cur_n_values if which == "cur" else self.ref_n_values
        levels = [kd.bin_quantiles(self.options["n_bins"])] + \
            ([np.array([0.25, 0.5, 0.75])] if which == "cur" else [])
        wanted = {j: [kd.quantile_ranks(int(n), q) for q in levels]
                  for j, n in enumerate(n_values) if n > 0}
        union = {j: np.unique(np.concatenate([np.concatenate(s[:2]) for s in spots]))
                 for j, spots in wanted.items()}
        values = self._order_statistics(table, union)
        found = {j: [_interpolated(dict(zip(union[j].tolist(), values[j].tolist())), s)
                     for s in spots] for j, spots in wanted.items()}
        self.cache["quantiles", which] = found
        return found

    def bin_edges(self, which: str, j: int) -> np.ndarray:
        return np.unique(self._quantiles(which)[j][0])

    @cached_property
    def _outliers(self) -> dict:
        columns = [j for j, (name, n) in enumerate(zip(self.cur.numeric_names, self.cur_n_values))
                   if n >= 2 and name not in self.roles]
        quartiles = {j: self._quantiles("cur")[j][1] for j in columns}
        n_values = self.cur_n_values
        middle = {j: sorted({(int(n_values[j]) - 1) // 2, int(n_values[j]) // 2}) for j in columns}
        medians = np.full(len(n_values), np.nan)
        medians[columns] = [quartiles[j][1] for j in columns]
        deviations = self.cur_table.frame.parts.map(numeric_frame, self.cur_table.encoder, medians)
        names = self.cur.numeric_names
        found = order_statistics(deviations, {names[j]: np.asarray(middle[j]) for j in columns}) \
            if columns else {}
        fences = {j: kq.outlier_fences(*quartiles[j], kq.median_absolute_deviation(found[names[j]]))
                  for j in columns}
        bands = {"iqr": [fences[j][0] if j in fences else (np.nan, np.nan)
                         for j in range(len(names))],
                 "z": [fences[j][1] if j in fences and fences[j][1] is not None
                       else (np.nan, np.nan) for j in range(len(names))]}
        counted = self._parts(self.cur_table, parts.binned,
                              {k: tuple(np.array(v).T) for k, v in bands.items()},
                              [None] * len(names)).reduce(parts.add_binned)
        found = self._summaries[0]
        return {j: kq.OutlierCounts(int(counted["iqr"][j]), int(counted["z"][j]),
                                    float(fences[j][0][0]), float(fences[j][0][1]),
                                    *_finite_ends(found, j, quartiles[j]))
                for j in columns}

    def outlier_counts(self, j: int):
        return self._outliers[j]

    def count_outside(self, lows, highs) -> np.ndarray:
        names = self.cur.numeric_names
        counted = self._parts(self.cur_table, parts.binned,
                              {"range": (np.asarray(lows), np.asarray(highs))},
                              [None] * len(names)).reduce(parts.add_binned)
        return counted["range"]

    # --- drift ---------------------------------------------------------------------------------

    @cached_property
    def _drift(self) -> DriftPasses:
        return DriftPasses(self)

    def numeric_drift(self, j: int):
        return self._drift.numeric_drift(j)

    def numeric_rows(self, table, positions, rows: np.ndarray) -> np.ndarray:
        source = self.cur_table if table is self.cur else self.ref_table
        numeric, _, _ = self._take(source, rows, None)
        return numeric[positions]

    # --- associations and rows ---------------------------------------------------------------------

    def _take(self, table, rows: np.ndarray, labels):
        found = table.frame.parts.map(parts.take, table.encoder, labels,
                                      each=self._local(table, rows)).collect()
        return tuple(np.concatenate([f[i] for f in found], axis=-1) for i in range(3))

    def take(self, rows: np.ndarray):
        return self._take(self.cur_table, rows, self.labels_encoder)

    def row_labels(self, rows: np.ndarray) -> np.ndarray:
        found = self.cur_table.frame.parts.map(_index_at, each=self._local(self.cur_table, rows))
        return np.concatenate(found.collect())

    def association_tables(self, key, n_labels: int, binary: bool, exclude) -> list[tuple]:
        n = self.cur.n_rows
        rows = self.auc_sample() if binary else np.zeros(0, dtype=np.int64)
        rows = np.arange(n) if rows is None else rows
        folds = (self.fold_seed(), self.roles) if binary else None
        columns = [("numeric", j, self.bin_edges("cur", j)) for j in self.features(self.cur, "numeric")
                   if self.cur.numeric_names[j] not in exclude and self.cur_n_values[j] > 0]
        columns += [("categorical", j, None) for j in self.features(self.cur, "categorical")
                    if self.cur.categorical_names[j] not in exclude]
        found = parts.add_associations(self.cur_table.frame.parts.map(
            parts.association, self.cur_table.encoder, self.labels_encoder, key, n_labels,
            columns, folds, each=self._local(self.cur_table, rows)).collect())
        return _association_rows(self, columns, found, binary)


def _index_at(part, rows: np.ndarray) -> np.ndarray:
    return np.asarray(part.index[rows])


def _finite_ends(found: dict, j: int, quartiles) -> tuple:
    """``(low, quartiles, high)`` of column ``j``: NaN ends when it has no finite value."""
    low, high = float(found["min"][j]), float(found["max"][j])
    if low > high:
        return np.nan, tuple(quartiles), np.nan
    return low, tuple(quartiles), high


def _n_values(summary: dict) -> np.ndarray:
    """Non-missing values per numeric column: the finite ones and the infinities."""
    return summary["moments"][0].astype(np.int64) + summary["infinite"].sum(axis=0)


def _interpolated(lookup: dict, spots) -> np.ndarray:
    """Quantiles from ``{rank: order statistic}`` and the ranks and weights of ``spots``."""
    low, high, weight = spots
    return kd.interpolate(np.array([lookup[r] for r in low.tolist()]),
                          np.array([lookup[r] for r in high.tolist()]), weight)


def _association_rows(ctx, columns, found, binary: bool) -> list[tuple]:
    from ..checks import leakage as kl

    rows, numeric, cross = [], iter(found["values"]), iter(found["cross"])
    for (kind, j, _), table in zip(columns, found["tables"]):
        if kind == "numeric":
            values = next(numeric)
            auc = kl.numeric_auc(values, found["labels"]) if binary else np.nan
            rows.append((ctx.cur.numeric_names[j], table, auc))
        else:
            auc = kl.cross_fitted_auc_from(next(cross).reshape(2, -1, 2)) if binary else np.nan
            rows.append((ctx.cur.categorical_names[j], table, auc))
    return rows


def partitioned_context(data, reference, *, target, sensitive, prediction, positive_label,
                        sample_weight, thresholds, options, random_state) -> PartitionedContext:
    """The context of ``validate`` when ``data`` or ``reference`` is a partitioned frame (a
    pandas one beside it becomes one in-memory partition).

    ``sensitive`` holds ``(column, cut)`` pairs (``frame._bins.facet_specs``).
    """
    data = partitioned(data, "data")
    reference = None if reference is None else partitioned(reference, "reference")
    roles = {}
    target_name = None if target is None else label_name(data, target, argument="target")
    if target_name is not None:
        roles[target_name] = "target"
    if prediction is not None:
        roles[label_name(data, prediction, argument="prediction")] = "prediction"
    weight = None
    if sample_weight is not None:
        weight = label_name(data, sample_weight, argument="sample_weight")
        encode_weights(weight, data.meta[weight], require_positive=False)  # its dtype
        roles[weight] = "sample_weight"
    facet_names = [label_name(data, s, argument="sensitive") for s, _ in sensitive]
    wanted = list(dict.fromkeys(([target_name] if target_name is not None else []) + facet_names))
    cur, ref, changes = encode_partitioned_tables(data, reference, argument="data",
                                                  labels=wanted)
    tgt, labels = None, Labels()
    if target_name is not None:
        tgt, edges = _target(data, cur, target_name, positive_label)
        labels = Labels(target_name, tgt.levels, edges,
                        tgt.levels.index(tgt.positive) if tgt.classes else None)
    facets, cuts = [], []
    for name, (_, cut) in zip(facet_names, sensitive):
        _no_missing(cur, name, "sensitive")
        cuts.append(resolve_cut(name, cut, lambda n=name: value_counts(data, n),
                                data.meta[name].dtype))
        # The distinct values give the levels (or the bins' labels) every partition shares.
        found = encode_cut(name, cur.labels[name], cuts[-1], argument="sensitive")
        facets.append(EncodedColumn(name, np.empty(0, np.int64), found.levels))
    labels = Labels(labels.target, labels.target_levels, labels.target_edges,
                    labels.positive_code, tuple((f.name, f.levels, c) for f, c in zip(facets, cuts)))
    context = PartitionedContext(cur, ref, changes, roles=roles, target=tgt, sensitive=facets, cuts=cuts,
                                 weight=weight, labels=labels, thresholds=thresholds,
                                 options=options, random_state=random_state)
    if weight is not None:
        context.check_weights()
    return context


def partitioned_drift_context(reference, current, *, columns, target, prediction, thresholds,
                              options, random_state) -> PartitionedContext:
    """The context of ``drift`` when either frame is a partitioned frame."""
    reference, current = partitioned(reference, "reference"), partitioned(current, "current")
    if columns is None and not set(reference.columns) & set(current.columns):
        raise RaiError("reference and current share no column; name the columns to compare")
    roles = {}
    for spec, role in ((target, "target"), (prediction, "prediction")):
        if spec is not None:
            roles[label_name(current, label_name(reference, spec, argument=role),
                             argument=role)] = role
    cur, ref, changes = encode_partitioned_tables(current, reference, columns=columns,
                                                  argument="current" if columns else "data")
    return PartitionedContext(cur, ref, changes, roles=roles, thresholds=thresholds,
                              options=options, random_state=random_state)


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
    edges = _decile_edges(data, name)
    return _Target(name, tuple(range(edges.size + 1)), False, positive_label), edges


def _decile_edges(data, name) -> np.ndarray:
    """``np.unique(np.quantile(values, deciles))`` of a column coerced to numbers, exactly.

    NumPy's linear quantile interpolates between the order statistics at the floor and ceiling
    of ``q·(n−1)``; ``np.quantile`` of those two values at the fractional part repeats its
    arithmetic to the bit.
    """
    numeric = data.parts.map(coerced_numeric, name).persist()
    n_missing, n = numeric.map(_missing_and_size, name).reduce(_sum_pairs)
    deciles = np.arange(1, 10) / 10
    if n_missing:  # np.quantile of data holding NaN is NaN
        return np.unique(np.full(deciles.size, np.nan))
    low, high, weight = kd.quantile_ranks(n, deciles)
    ranks = np.unique(np.concatenate([low, high]))
    lookup = dict(zip(ranks.tolist(), order_statistics(numeric, {name: ranks})[name].tolist()))
    return np.unique([np.quantile([lookup[lo], lookup[hi]], w)
                      for lo, hi, w in zip(low.tolist(), high.tolist(), weight)])


def _missing_and_size(part, name) -> tuple[int, int]:
    return int(part[name].isna().sum()), len(part)


def _sum_pairs(pairs: list) -> tuple[int, int]:
    return tuple(int(sum(p[i] for p in pairs)) for i in range(2))
