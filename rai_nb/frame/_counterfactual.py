"""Encoding for the counterfactual search: a model's input columns as one float matrix and back.

Numeric columns keep their values; categorical ones (anything not numeric, booleans too)
become codes of their levels, a missing value the code after the last level (kept where a
row has it, never proposed as a change). :class:`FeatureCodec` decodes candidate matrices into frames of
the original dtypes, so the user's model reads them as it reads its own data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, NAN_VALUES, RaiError
from ..explain.counterfactual import SearchSpace, mad_scales


@dataclass(frozen=True)
class FeatureCodec:
    """The model's input columns: their dtypes and, for categorical ones, their levels."""

    features: tuple
    dtypes: tuple
    levels: tuple  # a pandas Index per categorical column, None per numeric one
    #: per categorical column, its levels and then a missing value, in the column's dtype (a
    #: code's value is one ``take``); None per numeric one
    tables: tuple

    @property
    def categorical(self) -> np.ndarray:
        return np.array([levels is not None for levels in self.levels])

    def encode(self, frame: pd.DataFrame, *, argument: str) -> np.ndarray:
        """``frame``'s feature columns as floats (categorical ones as level codes)."""
        columns = []
        for name, levels in zip(self.features, self.levels):
            values = frame[name]
            if levels is not None:  # factorize, then look up only the distinct values
                codes, distinct = pd.factorize(values)
                code = np.append(levels.get_indexer(distinct), len(levels))
                columns.append(code[codes])  # missing: code −1, the last entry
            elif values.isna().any():
                raise RaiError(NAN_VALUES.format(argument=argument, column=name,
                                                 count=int(values.isna().sum())))
            else:
                columns.append(values.to_numpy(dtype=np.float64))
        return np.column_stack(columns).astype(np.float64) if columns else \
            np.empty((len(frame), 0))

    def decode(self, values: np.ndarray) -> pd.DataFrame:
        """A frame of the original columns and dtypes from a float matrix."""
        return pd.DataFrame({name: self._column(values[:, j], dtype, levels, table)
                             for j, (name, dtype, levels, table)
                             in enumerate(zip(self.features, self.dtypes, self.levels,
                                              self.tables))})

    @staticmethod
    def _column(values, dtype, levels, table):
        if levels is None:
            return values.astype(dtype) if pd.api.types.is_integer_dtype(dtype) else values
        codes = values.astype(np.int64)
        if isinstance(dtype, pd.CategoricalDtype):
            return pd.Categorical.from_codes(np.where(codes == len(levels), -1, codes),
                                             dtype=dtype)
        return pd.Series(table.take(codes), dtype=dtype)

    def changes(self, origin: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each row's changed features as text, e.g. ``"age 35 → 41; sex Male → Female"``."""
        text = np.full(len(values), "", dtype=object)
        for j, name in enumerate(self.features):
            rows = np.flatnonzero(values[:, j] != origin[:, j])  # labels of changed ones only
            if len(rows):
                change = (f"{name} " + self.labels(origin[rows, j], j) + " → "
                          + self.labels(values[rows, j], j))
                text[rows] = np.where(text[rows] != "", text[rows] + "; ", "") + change
        return text

    def labels(self, values: np.ndarray, j: int) -> np.ndarray:
        """Column ``j``'s values as display strings (an object array), each distinct value
        formatted once."""
        from ..render import format_value

        distinct, inverse = np.unique(values, return_inverse=True)
        levels = self.levels[j]
        shown = distinct if levels is None else \
            _with_missing(levels, "missing")[distinct.astype(np.int64)]
        if levels is None and pd.api.types.is_integer_dtype(self.dtypes[j]):
            shown = shown.astype(np.int64)
        return np.array([format_value(v) for v in shown], dtype=object)[inverse]


def _with_missing(levels: pd.Index, missing=None) -> np.ndarray:
    return np.append(levels.to_numpy(dtype=object), missing)


def feature_codec(data: pd.DataFrame, rows: pd.DataFrame, features: list) -> FeatureCodec:
    """The codec of ``features``; categorical levels are those of ``data`` and ``rows``."""
    if len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    missing = [name for name in features if name not in data.columns]
    if missing:
        raise RaiError(f"data lacks the model's feature column(s) {missing[:5]}")
    dtypes, levels = [], []
    for name in features:
        dtype = data[name].dtype
        dtypes.append(dtype)
        levels.append(None if _is_numeric(dtype) else _levels(data[name], rows[name]))
    tables = [None if lv is None or isinstance(dtype, pd.CategoricalDtype)
              else pd.Series(_with_missing(lv)).astype(dtype).array
              for lv, dtype in zip(levels, dtypes)]
    return FeatureCodec(tuple(features), tuple(dtypes), tuple(levels), tuple(tables))


def _is_numeric(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _levels(column: pd.Series, query: pd.Series) -> pd.Index:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Index(column.dtype.categories)
    seen = pd.concat([column, query], ignore_index=True).dropna().unique()
    try:
        return pd.Index(np.sort(seen))
    except TypeError:  # mixed types that do not sort: first-seen order
        return pd.Index(seen)


def search_space(codec: FeatureCodec, data_values: np.ndarray, *, mutable: np.ndarray,
                 ranges: dict) -> SearchSpace:
    """Bounds, MAD scales and allowed levels: the data's, narrowed by ``ranges``.

    ``ranges`` maps a feature to ``(low, high)`` (numeric) or a list of allowed levels.
    """
    categorical = codec.categorical
    lower = np.where(categorical, 0.0, data_values.min(axis=0, initial=np.inf))
    upper = np.where(categorical, 0.0, data_values.max(axis=0, initial=-np.inf))
    allowed = [None if levels is None else np.arange(len(levels)) for levels in codec.levels]
    for name, spec in ranges.items():
        j = codec.features.index(name)
        if categorical[j]:
            allowed[j] = _allowed_codes(name, spec, codec.levels[j])
        else:
            lower[j], upper[j] = _bounds(name, spec)
    integer = np.array([levels is None and pd.api.types.is_integer_dtype(dtype)
                        for dtype, levels in zip(codec.dtypes, codec.levels)])
    lower = np.where(integer, np.ceil(lower), lower)
    upper = np.where(integer, np.floor(upper), upper)
    if (lower > upper).any():
        name = codec.features[int(np.argmax(lower > upper))]
        raise RaiError(f"ranges[{name!r}] holds no integer value of the integer column {name!r}")
    n_codes = np.array([1 if a is None else len(a) for a in allowed])
    codes = np.zeros((len(allowed), max(int(n_codes.max(initial=1)), 1)))
    for j, a in enumerate(allowed):
        if a is not None:
            codes[j] = np.resize(a, codes.shape[1])
    return SearchSpace(lower=lower, upper=upper, scale=_scales(data_values, categorical),
                       categorical=categorical, integer=integer, mutable=mutable, codes=codes,
                       n_codes=n_codes)


def _scales(values: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    numeric = values[:, ~categorical]
    scale = np.ones(values.shape[1])
    scale[~categorical] = mad_scales(numeric) if numeric.size else 1.0
    return scale


def _allowed_codes(name, spec, levels: pd.Index) -> np.ndarray:
    if isinstance(spec, (str, bytes, tuple)) or not np.iterable(spec):
        raise RaiError(f"ranges[{name!r}] must be a list of allowed levels for the categorical "
                       f"column {name!r}, got {spec!r}")
    codes = levels.get_indexer(pd.Index(list(spec)))
    if len(codes) == 0 or (codes < 0).any():
        unknown = [v for v, c in zip(spec, codes) if c < 0]
        raise RaiError(f"ranges[{name!r}] must list levels of {name!r}; unknown: {unknown[:5]}")
    return np.unique(codes)


def _bounds(name, spec) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in spec)
    except (TypeError, ValueError):
        raise RaiError(f"ranges[{name!r}] must be (low, high) for the numeric column {name!r}, "
                       f"got {spec!r}") from None
    if not low <= high:
        raise RaiError(f"ranges[{name!r}] must have low <= high, got {spec!r}")
    return low, high
