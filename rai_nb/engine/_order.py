"""Exact order statistics of numeric columns held in partitions: only counts travel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import RaiError

#: Pivots probed per rank and round of :func:`order_statistics`; each round narrows the
#: candidate range of float64 bit patterns by this factor, so 64-bit keys need at most 7 rounds.
_PIVOTS = 1024
_SIGN = np.int64(-(2**63))


def order_statistics(parts, ranks: dict) -> dict:
    """Exact ``k``-th smallest non-missing values of numeric columns (0-based ``ranks``).

    Each partition's values are sorted once, as integer keys ordered like the float64 values,
    and kept where the engine holds data (``persist``). Every round then counts, per partition,
    the keys at or below ``_PIVOTS`` pivots spread over each rank's remaining key range, and
    keeps the sub-range holding the rank; the range is one key after a few rounds. Only
    counts travel, and the answer is the value a full sort would give.

    Parameters
    ----------
    parts : Partitions
        One pandas DataFrame per partition holding the numeric columns named in ``ranks``;
        missing values are ignored (ranks count non-missing values).
    ranks : dict
        ``{column: ranks}``.

    Returns
    -------
    dict
        ``{column: numpy.ndarray of float64}``, the values at the ranks.
    """
    names = list(ranks)
    keys = parts.map(_sorted_keys, names).persist()
    sizes = np.sum(keys.map(_sizes).collect(), axis=0) if names else []
    rank_arrays, low, high = [], [], []
    for name, total in zip(names, sizes):
        r = np.asarray(ranks[name], dtype=np.int64).reshape(-1)
        if len(r) and (r.min() < 0 or r.max() >= total):
            raise RaiError(f"rank out of range for column {name!r}: it has {int(total)} "
                           "non-missing values")
        rank_arrays.append(r)
        low.append(np.full(len(r), np.iinfo(np.int64).min))
        high.append(np.full(len(r), np.iinfo(np.int64).max))
    while any((lo < hi).any() for lo, hi in zip(low, high)):
        pivots = [_pivots(lo, hi) for lo, hi in zip(low, high)]
        counted = keys.map(_count_at_or_below, pivots).reduce(_add_counts)
        for i, p in enumerate(pivots):
            low[i], high[i] = _narrow(low[i], high[i], p, counted[i], rank_arrays[i])
    return {name: _from_keys(hi) for name, hi in zip(names, high)}


def _sorted_keys(part: pd.DataFrame, names: list) -> list[np.ndarray]:
    out = []
    for name in names:
        x = pd.to_numeric(part[name]).to_numpy(dtype=np.float64, na_value=np.nan)
        out.append(np.sort(_to_keys(x[~np.isnan(x)])))
    return out


def _sizes(keys: list) -> np.ndarray:
    return np.array([len(k) for k in keys], dtype=np.int64)


def _count_at_or_below(keys: list, pivots: list) -> list[np.ndarray]:
    return [np.searchsorted(k, p, side="right") for k, p in zip(keys, pivots)]


def _add_counts(counts: list) -> list:
    return [np.sum(column, axis=0) for column in zip(*counts)]


def _narrow(low, high, pivots, at_or_below, ranks):
    """The key range still holding each rank: its answer is the smallest key counting rank + 1."""
    enough = at_or_below >= ranks[:, None] + 1
    largest, smallest = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    high = np.where(enough.any(axis=1), np.where(enough, pivots, largest).min(axis=1), high)
    below = np.where(~enough, pivots, smallest).max(axis=1)
    low = np.where((~enough).any(axis=1), np.maximum(low, below + 1), low)
    return low, high


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
