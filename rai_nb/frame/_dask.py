"""Dask DataFrames: recognising them and collecting what must agree across partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import NAN_VALUES, ONE_FACET, RaiError


def is_dask_frame(data) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (checked without importing Dask)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(
        data, "map_partitions")


def require_column_names(data, **specs) -> None:
    """Dask inputs name their columns; arrays cannot be aligned with partitions."""
    for argument, spec in specs.items():
        names = list(spec) if isinstance(spec, (list, tuple, dict)) else [spec]
        for name in names:
            if name is None:
                continue
            if not isinstance(name, str):
                raise RaiError(f"with a Dask DataFrame, {argument} must name columns, "
                               f"got {type(name).__name__}")
            if name not in data.columns:
                shown = ", ".join(map(repr, list(data.columns)[:20]))
                raise RaiError(f"column {name!r} given as {argument} is not in the data; "
                               f"available: {shown}")


def distinct_values(data, names: list[str]) -> list:
    """Distinct values (missing included) of each named column of a Dask frame.

    Each partition reports its own distinct values and the client pools them: no shuffle,
    so it runs the same on every scheduler.
    """
    import dask

    def of_partition(part):
        return [pd.Series(part[name].unique(), dtype=part[name].dtype) for name in names]

    found = dask.compute([dask.delayed(of_partition)(part) for part in data.to_delayed()])[0]
    return [pooled([f[i] for f in found]) for i in range(len(names))]


def level_tuple(name, values, *, argument: str) -> tuple:
    """The levels of a column from its distinct values (:func:`distinct_values`), checked."""
    values = pd.Series(values)
    if values.isna().any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count="some"))
    levels = ordered_levels(values)
    if argument == "sensitive" and len(levels) < 2:
        raise RaiError(ONE_FACET.format(column=name, value=values.iloc[0]))
    return levels


def pooled(parts: list) -> pd.Series:
    """Distinct values of per-partition Series of distinct values (a categorical dtype kept)."""
    return pd.Series(pd.concat(parts, ignore_index=True).unique())


def ordered_levels(values: pd.Series) -> tuple:
    """Levels in the in-memory path's order: categories' order, else sorted, else first seen."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.tolist())
        return tuple(c for c in values.cat.categories.tolist() if c in seen)
    try:
        return tuple(sorted(present.tolist()))
    except TypeError:  # mixed types that do not sort
        return tuple(present.tolist())


#: Pivots probed per rank and round of :func:`order_statistics`; each round narrows the
#: candidate range of float64 bit patterns by this factor, so 64-bit keys need at most 7 rounds.
_PIVOTS = 1024
_SIGN = np.int64(-(2**63))


def order_statistics(data, ranks) -> np.ndarray | dict:
    """Exact ``k``-th smallest non-missing values of numeric Dask columns (0-based ``ranks``).

    Each partition's values are sorted once, as integer keys ordered like the float64 values,
    and kept where Dask holds data (``dask.persist``). Every round then counts, per partition,
    the keys at or below ``_PIVOTS`` pivots spread over each rank's remaining key range, and
    keeps the sub-range holding the rank; the range is one key after a few rounds. Only
    counts travel, and the answer is the same value a full sort would give.

    Parameters
    ----------
    data : dask Series or dask DataFrame
        Numeric column(s); missing values are ignored (ranks count non-missing values).
    ranks : array-like of int, or dict
        For a Series, the ranks; for a DataFrame, ``{column: ranks}``.

    Returns
    -------
    numpy.ndarray of float64, or dict of them (for a DataFrame)
    """
    import dask

    single = not isinstance(ranks, dict)
    wanted = {None: ranks} if single else ranks
    names = list(wanted)
    columns = [data if single else data[name] for name in names]
    sorted_keys = dask.persist(*[dask.delayed(_sorted_keys)(part) for column in columns
                                 for part in column.to_delayed()])
    n_parts = len(sorted_keys) // max(len(columns), 1)
    per_column = [sorted_keys[i * n_parts:(i + 1) * n_parts] for i in range(len(columns))]
    sizes = dask.compute([[dask.delayed(len)(keys) for keys in parts] for parts in per_column])[0]
    rank_arrays, low, high = [], [], []
    for name, counts in zip(names, sizes):
        r = np.asarray(wanted[name], dtype=np.int64).reshape(-1)
        total = int(np.sum(counts))
        if len(r) and (r.min() < 0 or r.max() >= total):
            raise RaiError(f"rank out of range for column {name!r}: it has {total} non-missing values")
        rank_arrays.append(r)
        low.append(np.full(len(r), np.iinfo(np.int64).min))
        high.append(np.full(len(r), np.iinfo(np.int64).max))
    while any((lo < hi).any() for lo, hi in zip(low, high)):
        pivots = [_pivots(lo, hi) for lo, hi in zip(low, high)]
        counted = dask.compute([[dask.delayed(np.searchsorted)(keys, p, side="right") for keys in parts]
                                for parts, p in zip(per_column, pivots)])[0]
        for i, (p, per_part) in enumerate(zip(pivots, counted)):
            low[i], high[i] = _narrow(low[i], high[i], p, np.sum(per_part, axis=0), rank_arrays[i])
    values = {name: _from_keys(hi) for name, hi in zip(names, high)}
    return values[None] if single else values


def _narrow(low, high, pivots, at_or_below, ranks):
    """The key range still holding each rank: its answer is the smallest key counting rank + 1."""
    enough = at_or_below >= ranks[:, None] + 1
    largest, smallest = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    high = np.where(enough.any(axis=1), np.where(enough, pivots, largest).min(axis=1), high)
    below = np.where(~enough, pivots, smallest).max(axis=1)
    low = np.where((~enough).any(axis=1), np.maximum(low, below + 1), low)
    return low, high


def _sorted_keys(part) -> np.ndarray:
    x = pd.to_numeric(part).to_numpy(dtype=np.float64, na_value=np.nan)
    return np.sort(_to_keys(x[~np.isnan(x)]))


def _to_keys(x: np.ndarray) -> np.ndarray:
    """int64 keys ordered as the float64 values (−0.0 and 0.0 share a key)."""
    bits = x.view(np.int64)
    return np.where(bits < 0, _SIGN - bits, bits)


def _from_keys(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys < 0, _SIGN - keys, keys)
    return bits.astype(np.int64).view(np.float64)


def _pivots(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``_PIVOTS`` keys from ``low`` upward per row, spaced to cover ``[low, high)``."""
    span = high.astype(np.uint64) - low.astype(np.uint64)  # wraps correctly for int64 ranges
    step = np.maximum(span // np.uint64(_PIVOTS), np.uint64(1))
    offsets = np.minimum(step[:, None] * np.arange(_PIVOTS, dtype=np.uint64), span[:, None])
    return (low.astype(np.uint64)[:, None] + offsets).astype(np.int64)
