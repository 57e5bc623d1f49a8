"""Encoding of single columns: look-up by name or array, categorical codes, numeric thresholds."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backend import get_config
from ..errors import (
    EMPTY_DATA,
    LENGTH_MISMATCH,
    MISSING_COLUMN,
    NAN_VALUES,
    TOO_MANY_GROUPS,
    RaiError,
)


@dataclass(frozen=True)
class EncodedColumn:
    """A column as integer codes ``0..len(levels)-1`` (host NumPy) and the label of each code."""

    name: object
    codes: np.ndarray
    levels: tuple

    @property
    def n_levels(self) -> int:
        return len(self.levels)


def require_frame(frame, argument: str) -> pd.DataFrame:
    """``frame`` when it is a pandas DataFrame with rows; a RaiError naming ``argument``
    otherwise."""
    if not isinstance(frame, pd.DataFrame):
        raise RaiError(f"{argument} must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise RaiError(EMPTY_DATA.format(argument=argument))
    return frame


def column_values(data: pd.DataFrame, spec, *, argument: str) -> tuple[object, pd.Series]:
    """Resolve ``spec`` — a column name of ``data`` or an array-like of its length — to a Series.

    Returns the display name and the values as a Series aligned positionally with ``data``.
    """
    if _is_column_key(spec):
        if spec not in data.columns:
            shown = ", ".join(map(repr, list(data.columns)[:20]))
            raise RaiError(MISSING_COLUMN.format(column=spec, argument=argument, available=shown))
        values = data[spec]
        if isinstance(values, pd.DataFrame):
            raise RaiError(f"{argument}: column {spec!r} appears more than once in the data")
        return spec, values.reset_index(drop=True)
    values = pd.Series(np.asarray(spec) if not isinstance(spec, pd.Series) else spec.to_numpy())
    if values.ndim != 1 or len(values) != len(data):
        raise RaiError(LENGTH_MISMATCH.format(argument=argument, got=len(values), expected=len(data)))
    name = spec.name if isinstance(spec, pd.Series) and spec.name is not None else argument
    return name, values


def _is_column_key(spec) -> bool:
    return isinstance(spec, (str, int, np.integer, tuple)) and not isinstance(spec, bool)


def encode_categorical(name, values: pd.Series, *, argument: str) -> EncodedColumn:
    """Codes for the observed values of ``values``, in sorted order where the values sort."""
    if values.isna().any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name,
                                         count=int(values.isna().sum())))
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, levels = _used_categories(values)
    else:
        try:
            codes, levels = pd.factorize(values, sort=True)
        except TypeError:  # mixed types that do not sort: keep first-seen order
            require_hashable(name, values, argument)
            codes, levels = pd.factorize(values, sort=False)
    limit = get_config().max_groups
    if len(levels) > limit:
        raise RaiError(TOO_MANY_GROUPS.format(argument=argument, column=name, count=len(levels),
                                              limit=limit))
    return EncodedColumn(name, np.asarray(codes, dtype=np.int64), tuple(levels.tolist()))


def _used_categories(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """A categorical's codes and categories without the unused ones, in category order (as
    ``remove_unused_categories``, whose sort of the codes this presence count avoids)."""
    codes = values.cat.codes.to_numpy()
    categories = values.cat.categories
    present = np.bincount(codes, minlength=len(categories)) > 0
    if present.all():
        return codes.astype(np.int64), categories
    return (np.cumsum(present) - 1)[codes], categories[present]


def encode_with_levels(name, values: pd.Series, levels: tuple, *, argument: str) -> EncodedColumn:
    """Codes of ``values`` among known ``levels`` (e.g. collected over every partition first)."""
    if values.isna().any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name,
                                         count=int(values.isna().sum())))
    codes = codes_among(values, levels)
    if (codes < 0).any():
        unknown = values[codes < 0].iloc[0]
        raise RaiError(f"{argument} ({name!r}) has value {unknown!r} outside its known levels")
    return EncodedColumn(name, codes, tuple(levels))


def codes_among(values: pd.Series, levels) -> np.ndarray:
    """Position of each value in ``levels`` (-1 where absent), int64."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)  # its own categories may hold values outside ``levels``
    return pd.Index(list(levels)).get_indexer(values).astype(np.int64, copy=False)


def encode_threshold(name, values: pd.Series, threshold: float, *, argument: str) -> EncodedColumn:
    """Two codes for a numeric column: 0 for ``<= threshold``, 1 for ``> threshold`` (Clarify)."""
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(numeric)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(bad.sum())))
    return EncodedColumn(name, (numeric > threshold).astype(np.int64),
                         (f"<= {threshold:g}", f"> {threshold:g}"))


def product_columns(columns: list[EncodedColumn]) -> EncodedColumn:
    """Every combination of the columns' levels as one code, observed or not (mixed radix)."""
    codes = np.zeros_like(columns[0].codes)
    for col in columns:
        codes = codes * col.n_levels + col.codes
    levels = tuple(itertools.product(*(col.levels for col in columns)))
    return EncodedColumn(tuple(c.name for c in columns), codes, levels)


def combine_columns(columns: list[EncodedColumn]) -> EncodedColumn:
    """The intersection of several encoded columns: one code per observed combination.

    Levels are tuples of the columns' levels, in lexicographic code order.
    """
    if len(columns) == 1:
        col = columns[0]
        return EncodedColumn((col.name,), col.codes, tuple((level,) for level in col.levels))
    sizes = [c.n_levels for c in columns]
    mixed = np.zeros_like(columns[0].codes)
    for col in columns:
        mixed = mixed * col.n_levels + col.codes
    n_cells = int(np.prod(sizes, dtype=np.float64))
    if n_cells <= max(4 * len(mixed), 1 << 20):
        present = np.bincount(mixed, minlength=n_cells) > 0
        cells = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        codes = lookup[mixed]
    else:
        cells, codes = np.unique(mixed, return_inverse=True)
    digits = np.stack(np.unravel_index(cells, sizes), axis=1)
    levels = tuple(tuple(col.levels[d] for col, d in zip(columns, row)) for row in digits)
    limit = get_config().max_groups
    if len(levels) > limit:
        names = " x ".join(map(str, (c.name for c in columns)))
        raise RaiError(TOO_MANY_GROUPS.format(argument="sensitive", column=names, count=len(levels),
                                              limit=limit))
    return EncodedColumn(tuple(c.name for c in columns), codes.astype(np.int64), levels)


def require_hashable(name, values: pd.Series, argument: str) -> None:
    """RaiError naming the column when its cells are lists, dicts or sets (they cannot be
    counted, compared or grouped as values)."""
    if not pd.api.types.is_object_dtype(values.dtype):
        return
    try:
        pd.unique(values)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values.head(1000)
                        if isinstance(v, (list, dict, set))})
        raise RaiError(f"{argument} column {name!r} holds {'/'.join(kinds) or 'unhashable'} "
                       "cells, which cannot be counted or grouped; convert them to strings "
                       "or leave the column out") from None
