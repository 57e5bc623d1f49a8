"""Encoding of whole tables for the data checks: typed columns, shared category vocabularies.

A column is *numeric* (float64 values, NaN where missing, ±inf kept) or *categorical*
(int64 codes, -1 where missing). Numbers, datetimes and timedeltas are numeric; booleans,
categories, strings and other objects are categorical. When a reference table is given, the
current table takes the reference's column kinds and each categorical column gets one
vocabulary: the reference's levels first, then levels seen only in the current data, so an
unseen category is a code ``>= n_reference_levels``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import MISSING_COLUMN, RaiError
from ._columns import require_frame, require_hashable

_MIXED = frozenset({"mixed", "mixed-integer", "mixed-integer-float"})


@dataclass(frozen=True)
class ColumnSchema:
    """Inferred type of one column: ``kind`` (numeric/categorical), pandas dtype, object types."""

    name: object
    kind: str
    dtype: str
    #: Python type names of the values of an object column that holds more than one type.
    mixed_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class EncodedTable:
    """A table as two host matrices, one row per column (column-major, so sorts are fast).

    ``numeric[i]`` holds the values of ``numeric_names[i]`` (NaN = missing); ``codes[j]`` the
    codes of ``categorical_names[j]`` into ``levels[j]`` (-1 = missing).
    """

    n_rows: int
    numeric_names: tuple
    numeric: np.ndarray
    categorical_names: tuple
    codes: np.ndarray
    levels: tuple[tuple, ...]
    schema: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple:
        return self.numeric_names + self.categorical_names

    def row_keys(self, positions=None) -> np.ndarray:
        """int64 key per cell, shape ``(columns, rows)``: equal keys ⇔ equal values.

        ``positions`` (into :attr:`names`, default all) picks the columns, so a large table can
        be keyed a few columns at a time. Numbers use their IEEE-754 bit pattern (``-0.0``
        folded into ``0.0``, one NaN), so hashing rows needs no sort or factorisation of
        numeric columns.
        """
        positions = range(len(self.names)) if positions is None else positions
        keys = np.empty((len(positions), self.n_rows), dtype=np.int64)
        n_numeric = len(self.numeric_names)
        for row, i in zip(keys, positions):
            if i < n_numeric:
                values = row.view(np.float64)
                np.add(self.numeric[i], 0.0, out=values)
                values[np.isnan(values)] = np.nan
            else:
                row[:] = self.codes[i - n_numeric]
        return keys


@dataclass(frozen=True)
class SchemaChanges:
    """How the current table's columns differ from the reference's."""

    missing: tuple = ()
    new: tuple = ()
    #: ``{column: (reference kind, current kind)}``; such columns are left out of both tables.
    kind_changes: dict = field(default_factory=dict)
    #: ``{column: (reference dtype, current dtype)}`` for columns of the same kind.
    dtype_changes: dict = field(default_factory=dict)
    #: Number of levels of each categorical column seen in the reference.
    n_reference_levels: dict = field(default_factory=dict)


def encode_tables(data, reference=None, *, columns=None, argument: str = "data"):
    """Encode ``data`` (and ``reference``) for the checks.

    Parameters
    ----------
    data, reference : pandas.DataFrame
        Never modified. ``reference`` fixes the column kinds and the vocabularies' first levels.
    columns : list, optional
        Columns to keep (default: all of ``data``; with a reference, those of both).
    argument : str
        How ``data`` is called in error messages.

    Returns
    -------
    (EncodedTable, EncodedTable or None, SchemaChanges)
    """
    _check_frame(data, argument)
    if reference is None:
        names = _select(data, columns, argument)
        schema = {name: infer_schema(name, data[name]) for name in names}
        return _encode(data, names, schema, {}), None, SchemaChanges()
    _check_frame(reference, "reference")
    names = _select(data, columns, argument, also=reference)
    ref_schema = {name: infer_schema(name, reference[name]) for name in names
                  if name in reference.columns}
    cur_schema = {name: infer_schema(name, data[name]) for name in names if name in data.columns}
    changes = _compare(ref_schema, cur_schema)
    shared = [n for n in names if n in ref_schema and n in cur_schema and n not in changes.kind_changes]
    ref_table = _encode(reference, shared, ref_schema, {})
    vocab = dict(zip(ref_table.categorical_names, ref_table.levels))
    cur_table = _encode(data, shared, cur_schema, vocab)
    changes = SchemaChanges(changes.missing, changes.new, changes.kind_changes,
                            changes.dtype_changes, {n: len(v) for n, v in vocab.items()})
    # The reference table gets the grown vocabularies too, so both index the same levels.
    ref_table = EncodedTable(ref_table.n_rows, ref_table.numeric_names, ref_table.numeric,
                             ref_table.categorical_names, ref_table.codes, cur_table.levels,
                             ref_table.schema)
    return cur_table, ref_table, changes


def _check_frame(frame, argument: str) -> None:
    require_frame(frame, argument)
    if isinstance(frame.columns, pd.MultiIndex):
        raise RaiError(f"{argument} has MultiIndex (tuple) column names; flatten them first, "
                       "e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]")
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise RaiError(f"{argument}: column {dup!r} appears more than once")


def _select(data, columns, argument, also=None) -> list:
    if columns is None:
        names = list(data.columns)
        if also is not None:
            names += [n for n in also.columns if n not in data.columns]
        return names
    names = [columns] if isinstance(columns, (str, int, tuple)) else list(columns)
    for frame, label in ((data, argument), (also, "reference")):
        if frame is None:
            continue
        for name in names:
            if name not in frame.columns:
                shown = ", ".join(map(repr, list(frame.columns)[:20]))
                raise RaiError(MISSING_COLUMN.format(column=name, argument=f"columns ({label})",
                                                     available=shown))
    return names


def infer_schema(name, values: pd.Series) -> ColumnSchema:
    """Kind and dtype of one column, and the value types of a mixed object column."""
    dtype = values.dtype
    numeric = (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)) \
        or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
    mixed = ()
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(values, skipna=True) in _MIXED:
        require_hashable(name, values, "data")  # lists and dicts infer as mixed
        mixed = tuple(sorted({type(v).__name__ for v in pd.unique(values.dropna())}))
    return ColumnSchema(name, "numeric" if numeric else "categorical", str(dtype), mixed)


def _compare(ref_schema: dict, cur_schema: dict) -> SchemaChanges:
    missing = tuple(n for n in ref_schema if n not in cur_schema)
    new = tuple(n for n in cur_schema if n not in ref_schema)
    both = [n for n in cur_schema if n in ref_schema]
    kinds = {n: (ref_schema[n].kind, cur_schema[n].kind) for n in both
             if ref_schema[n].kind != cur_schema[n].kind}
    dtypes = {n: (ref_schema[n].dtype, cur_schema[n].dtype) for n in both
              if n not in kinds and ref_schema[n].dtype != cur_schema[n].dtype}
    return SchemaChanges(missing, new, kinds, dtypes)


def _encode(frame, names, schema, vocab: dict) -> EncodedTable:
    numeric_names = tuple(n for n in names if schema[n].kind == "numeric")
    categorical_names = tuple(n for n in names if schema[n].kind == "categorical")
    numeric = np.empty((len(numeric_names), len(frame)), dtype=np.float64)
    for row, name in zip(numeric, numeric_names):
        row[:] = numeric_values(frame[name])
    codes = np.empty((len(categorical_names), len(frame)), dtype=np.int64)
    levels = []
    for row, name in zip(codes, categorical_names):
        row[:], found = category_codes(frame[name], vocab.get(name, ()))
        levels.append(found)
    return EncodedTable(len(frame), numeric_names, numeric, categorical_names, codes,
                        tuple(levels), {n: schema[n] for n in names})


def numeric_values(values: pd.Series) -> np.ndarray:
    """float64 copy; datetimes (time-zone aware ones in UTC) and timedeltas in seconds; NaN
    where missing (infinities stay: they are values, not gaps)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or \
            pd.api.types.is_timedelta64_dtype(values.dtype):
        stamps = values.to_numpy()
        out = stamps.astype("datetime64[ns]" if stamps.dtype.kind == "M" else "timedelta64[ns]")
        out = np.where(np.isnat(out), np.nan, out.view(np.int64) / 1e9)
    else:
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return out.astype(np.float64, copy=True)


def category_codes(values: pd.Series, vocabulary: tuple) -> tuple[np.ndarray, tuple]:
    """Codes of ``values`` into ``vocabulary`` grown by the values it lacks (-1 = missing)."""
    try:
        codes, found = pd.factorize(values, sort=True)
    except TypeError:  # mixed types that do not sort: first-seen order
        codes, found = pd.factorize(values, sort=False)
    found = list(np.asarray(found, dtype=object))
    if not vocabulary:
        return codes.astype(np.int64), tuple(found)
    position = {level: i for i, level in enumerate(vocabulary)}
    unseen = [level for level in found if level not in position]
    grown = tuple(vocabulary) + tuple(unseen)
    position.update({level: len(vocabulary) + i for i, level in enumerate(unseen)})
    lookup = np.array([position[level] for level in found] + [-1], dtype=np.int64)
    return lookup[codes], grown
