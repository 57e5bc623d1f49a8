"""Partitioned frames for the data checks: what partitions must agree on, then their encoding.

One pass over the partitions collects their row counts, the distinct values of every categorical
column and of the label columns (in partition order, so first-seen order is kept where values do
not sort), missing counts of the label columns and one value of each Python type in object
columns. The schemas and vocabularies then come from the same functions as for pandas, applied to
those distinct values, so every partition encodes into the codes a whole-frame encoding gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..checks.quality import absolute_deviation
from ..engine import pooled
from ..errors import EMPTY_DATA, RaiError
from ._bins import encode_cut
from ._columns import _is_column_key, column_values
from ._tabular import (
    EncodedTable,
    _compare,
    _encode,
    _select,
    category_codes,
    infer_schema,
    numeric_values,
)


@dataclass(frozen=True)
class PartitionEncoder:
    """How each partition of one frame becomes an :class:`EncodedTable` (picklable, small)."""

    names: tuple
    schema: dict
    vocab: dict

    def table(self, part: pd.DataFrame) -> EncodedTable:
        return _encode(part, list(self.names), self.schema, self.vocab)


@dataclass(frozen=True)
class Labels:
    """How a partition encodes the target and the sensitive columns (picklable, small)."""

    target: object = None
    target_levels: tuple = ()
    #: Quantile edges of a target with too many values to be classes (None: classes).
    target_edges: np.ndarray | None = None
    positive_code: int | None = None
    facets: tuple = ()  # (name, levels, Cut) triples

    def target_codes(self, part: pd.DataFrame) -> np.ndarray:
        values = part[self.target].reset_index(drop=True)
        if self.target_edges is None:
            return category_codes(values, self.target_levels)[0]
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
        return np.searchsorted(self.target_edges, numeric)

    def codes(self, part: pd.DataFrame, key) -> np.ndarray:
        """Codes of the target (``key`` "target") or of sensitive column ``key``."""
        if key == "target":
            return self.target_codes(part)
        name, levels, cut = self.facets[key]
        return encode_cut(name, part[name].reset_index(drop=True), cut, levels=levels,
                          argument="sensitive").codes


def numeric_frame(part, encoder, centres=None) -> pd.DataFrame:
    """The encoded numeric columns of a partition (``|x − centre|`` with centres), float64."""
    names = [n for n in encoder.names if encoder.schema[n].kind == "numeric"]
    values = {n: numeric_values(part[n]) for n in names}
    if centres is not None:
        values = {n: absolute_deviation(v, c) for (n, v), c in zip(values.items(), centres)}
    return pd.DataFrame(values, columns=names, index=part.index, dtype=np.float64)


def coerced_numeric(part: pd.DataFrame, name) -> pd.DataFrame:
    """Column ``name`` of a partition as float64 numbers, NaN where a value is not one
    (``pd.to_numeric``)."""
    return pd.DataFrame({name: pd.to_numeric(part[name], errors="coerce").astype(np.float64)})


@dataclass(frozen=True)
class PartitionedTable:
    """A partitioned frame with the description of its encoding (``info`` holds no rows)."""

    frame: object
    info: EncodedTable
    encoder: PartitionEncoder
    lengths: np.ndarray
    #: Distinct values (pandas Series, first-seen order) and missing counts of label columns.
    labels: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)])


def label_name(data, spec, *, argument: str):
    """Column name of a target/sensitive/prediction spec on a partitioned frame (errors as
    pandas)."""
    if not _is_column_key(spec):
        raise RaiError(f"with a {data.engine} DataFrame, {argument} must name columns, "
                       f"got {type(spec).__name__}")
    return column_values(data.meta, spec, argument=argument)[0]


def encode_partitioned_tables(data, reference=None, *, columns=None, argument: str = "data",
                              labels=()):
    """:func:`encode_tables` for partitioned frames: (PartitionedTable, PartitionedTable or None,
    SchemaChanges).

    ``labels`` names columns of ``data`` whose distinct values and missing counts are collected
    too (target, sensitive columns).
    """
    from ._tabular import SchemaChanges

    _check_columns(data, argument)
    if reference is not None:
        _check_columns(reference, "reference")
    names = _select(data.meta, columns, argument,
                    also=None if reference is None else reference.meta)
    frames = [(data, argument, list(labels))] + ([] if reference is None else
                                                  [(reference, "reference", [])])
    plans = [_survey_plan(frame, [n for n in names if n in frame.columns], extra)
             for frame, _, extra in frames]
    found = plans[0][0].collect_with(*(parts for parts, _ in plans[1:]))
    surveys = [_combine_surveys(parts, *options) for parts, (_, options) in zip(found, plans)]
    for (_, label, _), survey in zip(frames, surveys):
        if survey["lengths"].sum() == 0:
            raise RaiError(EMPTY_DATA.format(argument=label))
    schemas = [{n: _schema(n, frame.meta[n], survey["types"].get(n)) for n in names
                if n in frame.columns} for (frame, _, _), survey in zip(frames, surveys)]
    if reference is None:
        vocab = {n: category_codes(surveys[0]["distinct"][n], ())[1] for n in names
                 if schemas[0][n].kind == "categorical"}
        cur = _table(data, names, schemas[0], vocab, surveys[0])
        return cur, None, SchemaChanges()
    cur_schema, ref_schema = schemas
    changes = _compare(ref_schema, cur_schema)
    shared = [n for n in names if n in ref_schema and n in cur_schema
              and n not in changes.kind_changes]
    ref_vocab = {n: category_codes(surveys[1]["distinct"][n], ())[1] for n in shared
                 if ref_schema[n].kind == "categorical"}
    vocab = {n: category_codes(surveys[0]["distinct"][n], ref_vocab[n])[1] for n in ref_vocab}
    changes = SchemaChanges(changes.missing, changes.new, changes.kind_changes,
                            changes.dtype_changes, {n: len(v) for n, v in ref_vocab.items()})
    return (_table(data, shared, cur_schema, vocab, surveys[0]),
            _table(reference, shared, ref_schema, vocab, surveys[1]), changes)


def _check_columns(frame, argument: str) -> None:
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise RaiError(f"{argument}: column {dup!r} appears more than once")


def _schema(name, meta: pd.Series, types: dict | None):
    if types is None:
        return infer_schema(name, meta)
    # One value of each Python type classifies the column as all its values do.
    return infer_schema(name, pd.Series(list(types.values()), dtype=object))


def _table(frame, names, schema, vocab, survey) -> PartitionedTable:
    encoder = PartitionEncoder(tuple(names), {n: schema[n] for n in names}, vocab)
    empty = _encode(frame.meta.iloc[:0], list(names), encoder.schema, vocab)
    info = replace(empty, n_rows=int(survey["lengths"].sum()))
    return PartitionedTable(frame, info, encoder, survey["lengths"], survey["labels"],
                            survey["missing"])


def _survey_plan(frame, names: list, labels: list):
    """Each partition's survey (lazy) and the options that combine them."""
    kinds = {n: infer_schema(n, frame.meta[n]).kind for n in names}
    categorical = [n for n in names if kinds[n] == "categorical"]
    objects = [n for n in names if pd.api.types.is_object_dtype(frame.meta[n].dtype)]
    return frame.parts.map(_survey_part, categorical, objects, labels), (categorical, objects,
                                                                         labels)


def _survey_part(part: pd.DataFrame, categorical, objects, labels) -> dict:
    types = {}
    for name in objects:
        found: dict = {}
        for value in pd.unique(part[name].dropna()):
            found.setdefault(type(value).__name__, value)
        types[name] = found
    return {"length": len(part),
            "distinct": {n: part[n].drop_duplicates() for n in dict.fromkeys(categorical + labels)},
            "missing": {n: int(part[n].isna().sum()) for n in labels}, "types": types}


def _combine_surveys(parts, categorical, objects, labels) -> dict:
    def distinct(name):
        return pooled([p["distinct"][name] for p in parts])

    types = {}
    for name in objects:
        types[name] = {}
        for p in parts:
            for kind, value in p["types"][name].items():
                types[name].setdefault(kind, value)
    return {"lengths": np.array([p["length"] for p in parts], dtype=np.int64),
            "distinct": {n: distinct(n) for n in categorical},
            "labels": {n: distinct(n) for n in labels},
            "missing": {n: sum(p["missing"][n] for p in parts) for n in labels},
            "types": types}


def intersection_levels(facets, cells: np.ndarray) -> tuple:
    """Levels of the observed cells (mixed-radix codes, ascending) of several sensitive columns."""
    from ..backend import get_config
    from ..errors import TOO_MANY_GROUPS

    sizes = [f.n_levels for f in facets]
    digits = np.stack(np.unravel_index(cells, sizes), axis=1)
    limit = get_config().max_groups
    if len(cells) > limit:
        names = " x ".join(map(str, (f.name for f in facets)))
        raise RaiError(TOO_MANY_GROUPS.format(column=names, count=len(cells), limit=limit))
    return tuple(tuple(f.levels[d] for f, d in zip(facets, row)) for row in digits)
