"""Feature columns as integer codes for slice search, and the predicates that read them back.

Categorical columns keep their values as levels. Numeric columns with more distinct values
than ``n_bins`` are cut at quantiles; a value held by more than ``1/n_bins`` of the rows (0 in
``capital_gain``, 40 in ``hours_per_week``) gets a level of its own and the intervals next to it
exclude it, so every level is a predicate that reads true: ``age in [37, 45)``,
``hours_per_week in (40, 45)``, ``capital_gain = 0``. Missing values form the level ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, NAN_VALUES, RaiError
from ._columns import EncodedColumn, column_values, encode_categorical

#: Level of the rows whose value is missing.
MISSING = None


@dataclass(frozen=True)
class SliceFeatures:
    """Feature columns encoded for slicing: ``codes[:, j]`` indexes ``columns[j].levels``."""

    columns: tuple[EncodedColumn, ...]
    codes: np.ndarray

    @property
    def names(self) -> tuple:
        return tuple(c.name for c in self.columns)

    @property
    def n_levels(self) -> np.ndarray:
        return np.array([c.n_levels for c in self.columns], dtype=np.int64)


def encode_slice_features(data: pd.DataFrame, features, *, bins=None, n_bins: int = 10) -> SliceFeatures:
    """Encode the ``features`` columns of ``data`` (names or a list of names) for slice search.

    ``bins`` maps a column to its binning: an int (that many quantile bins), a list of edges
    (intervals ``[e0, e1), …, [e_{k-1}, e_k]``) or None (each distinct value is a level).
    Columns not named there are binned with ``n_bins`` quantile bins when numeric.
    """
    names, bins = feature_options(features, bins, n_bins)
    if len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    columns = []
    for name in names:
        _, values = column_values(data, name, argument="features")
        columns.append(encode_feature(name, values, bins.get(name, n_bins)))
    codes = np.stack([c.codes for c in columns], axis=1).astype(np.int32)
    return SliceFeatures(tuple(columns), codes)


def feature_options(features, bins, n_bins) -> tuple[list, dict]:
    """The feature names and per-column bins, checked (shared by the pandas and Dask paths)."""
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise RaiError("features: no column to slice on")
    bins = {} if bins is None else dict(bins)
    unknown = set(bins) - set(names)
    if unknown:
        raise RaiError(f"bins names column(s) {sorted(map(str, unknown))} that are not among the features")
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise RaiError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    return names, bins


def encode_feature(name, values: pd.Series, spec) -> EncodedColumn:
    """One column as codes: ``spec`` is a number of quantile bins, a list of edges, or None."""
    missing = values.isna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    if spec is None or not numeric:
        present = encode_categorical(name, values[~missing], argument="features")
        codes, levels = present.codes, present.levels
    else:
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)[~missing]
        if not np.isfinite(x).all():
            raise RaiError(NAN_VALUES.format(argument="features", column=name,
                                             count=int((~np.isfinite(x)).sum())))
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            codes, levels = _quantile_bins(values[~missing], x, int(spec))
        else:
            codes, levels = _edge_bins(name, x, spec)
    return _with_missing(name, codes, levels, missing)


def _with_missing(name, codes, levels, missing) -> EncodedColumn:
    if not missing.any():
        return EncodedColumn(name, np.asarray(codes, dtype=np.int64), tuple(levels))
    full = np.full(missing.shape, len(levels), dtype=np.int64)
    full[~missing] = codes
    return EncodedColumn(name, full, (*levels, MISSING))


def _quantile_bins(values: pd.Series, x: np.ndarray, n_bins: int):
    """Quantile intervals, with a point level for each value that fills more than one bin."""
    distinct, counts = np.unique(x, return_counts=True)
    if len(distinct) <= n_bins:
        codes, levels = pd.factorize(values, sort=True)
        return codes, tuple(levels.tolist())
    dominant = distinct[counts * n_bins > len(x)]
    rest = np.sort(x[~np.isin(x, dominant)])
    bounds = quantile_bounds(rest[quantile_ranks(len(rest), n_bins, len(dominant))], dominant)
    return _cut(x, bounds, dominant)


def quantile_ranks(n_rest: int, n_bins: int, n_dominant: int) -> np.ndarray:
    """0-based ranks, among the ``n_rest`` non-dominant values, of the quantile bin edges.

    The ``inverted_cdf`` quantiles (Hyndman & Fan's definition 1, NumPy's rule) at
    ``0, 1/b, …, 1`` with ``b = n_bins − n_dominant`` bins: always an observed value.
    """
    n_edges = max(n_bins - n_dominant, 1) + 1
    index = n_rest * np.linspace(0, 1, n_edges) - 1
    below = np.floor(index)
    return np.maximum(np.where(index == below, below, below + 1), 0).astype(np.int64)


def quantile_bounds(edges: np.ndarray, dominant: np.ndarray) -> np.ndarray:
    """Interval bounds of a quantile-binned column: its edges and its dominant values."""
    return np.unique(np.concatenate([edges, dominant]))


def _edge_bins(name, x: np.ndarray, edges):
    bounds = check_edges(name, edges)
    outside = (x < bounds[0]) | (x > bounds[-1])
    if outside.any():
        raise RaiError(outside_edges(name, int(outside.sum()), bounds))
    return _cut(x, bounds, bounds[:0])


def check_edges(name, edges) -> np.ndarray:
    """User-given bin edges as float64, checked to increase."""
    bounds = np.asarray(edges, dtype=np.float64)
    if bounds.ndim != 1 or len(bounds) < 2 or np.any(np.diff(bounds) <= 0) or np.isnan(bounds).any():
        raise RaiError(f"bins for {name!r} must be an increasing list of at least two edges, got {edges!r}")
    return bounds


def outside_edges(name, count: int, bounds: np.ndarray) -> str:
    return (f"column {name!r} has {count} value(s) outside the bin edges "
            f"[{bounds[0]:g}, {bounds[-1]:g}]; add -inf/inf edges to catch them")


def _cut(x: np.ndarray, bounds: np.ndarray, points: np.ndarray):
    """Codes of ``x`` among the observed levels of :func:`cut_keys`."""
    used, codes = np.unique(cut_keys(x, bounds, points), return_inverse=True)
    return codes, levels_of_keys(used, bounds, points)


def cut_keys(x: np.ndarray, bounds: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Sortable level keys of ``x`` among the intervals between ``bounds`` and the ``points``.

    A level at ``bounds[j]`` (a point) sorts as ``2j``, the interval after it as ``2j + 1``;
    intervals exclude neighbouring points. Only observed keys become levels, so partitions of
    one column agree on its levels once their keys are pooled.
    """
    is_point = np.isin(x, points)
    interval = np.clip(np.searchsorted(bounds, x, side="right") - 1, 0, max(len(bounds) - 2, 0))
    return np.where(is_point, 2 * np.searchsorted(bounds, x), 2 * interval + 1)


def levels_of_keys(used: np.ndarray, bounds: np.ndarray, points: np.ndarray) -> tuple:
    """The levels (points and intervals) of sorted observed keys of :func:`cut_keys`."""
    return tuple(_level_of_key(int(k), bounds, points) for k in used)


def _level_of_key(key: int, bounds: np.ndarray, points: np.ndarray):
    j = key // 2
    if key % 2 == 0:
        return _scalar(bounds[j])
    left, right = bounds[j], bounds[j + 1]
    closed_left = left not in points
    closed_right = j + 2 == len(bounds) and right not in points
    closed = {(True, True): "both", (True, False): "left", (False, True): "right",
              (False, False): "neither"}[(closed_left, closed_right)]
    return pd.Interval(_scalar(left), _scalar(right), closed=closed)


def _scalar(value: float):
    """Whole numbers as int (so predicates read ``age in [37, 45)``), others as float."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def level_mask(values: pd.Series, level) -> np.ndarray:
    """Boolean rows of ``values`` that satisfy ``column = level`` (or lie in the interval)."""
    if level is MISSING:
        return values.isna().to_numpy()
    if isinstance(level, pd.Interval):
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        low = x >= level.left if level.closed_left else x > level.left
        high = x <= level.right if level.closed_right else x < level.right
        return low & high
    return (values == level).fillna(False).to_numpy(dtype=bool)


def predicate_mask(data: pd.DataFrame, predicates: dict) -> np.ndarray:
    """Rows of ``data`` satisfying every ``column = level`` predicate (a conjunction)."""
    mask = np.ones(len(data), dtype=bool)
    for name, level in predicates.items():
        _, values = column_values(data, name, argument="slice predicate")
        mask &= level_mask(values, level)
    return mask


def describe_predicate(name, level) -> str:
    """Readable text of one predicate: ``age in [37, 45)``, ``sex = Female``, ``x is missing``."""
    if level is MISSING:
        return f"{name} is missing"
    if isinstance(level, pd.Interval):
        opening = "[" if level.closed_left else "("
        closing = "]" if level.closed_right else ")"
        return f"{name} in {opening}{_number(level.left)}, {_number(level.right)}{closing}"
    return f"{name} = {_number(level) if isinstance(level, (float, np.floating)) else level}"


def _number(value) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def encode_loss(name, values: pd.Series, *, argument: str) -> np.ndarray:
    """Per-row loss as float64; it must be numeric, finite and non-negative."""
    try:
        loss = pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise RaiError(f"{argument} ({name!r}) must be numeric") from exc
    bad = ~np.isfinite(loss)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(bad.sum())))
    if (loss < 0).any():
        raise RaiError(f"{argument} ({name!r}) has {int((loss < 0).sum())} negative value(s); "
                       "a loss must be >= 0")
    return loss
