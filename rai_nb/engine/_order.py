"""Exact order statistics of numeric columns held in partitions: only samples, counts and the
few keys near each answer travel."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..errors import RaiError

#: Sorted keys each partition samples per column, at evenly spaced positions. Without ties the
#: bracket the pooled sample leaves around an answer holds fewer than ``4 * (rows / _SAMPLES +
#: partitions)`` keys (the comment above :func:`_samples`), so the second pass stays small.
_SAMPLES = 4096
#: Most distinct keys a partition returns for one rank's bracket; past it the rank is found
#: by pivot rounds instead (heavily tied or adversarial data).
_DISTINCT = 65536
#: Pivots probed per rank and round of the pivot rounds; each round narrows the candidate range
#: of float64 bit patterns by this factor, so 64-bit keys need at most 7 rounds.
_PIVOTS = 1024
_SIGN = np.int64(-(2**63))
_LOWEST, _HIGHEST = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def order_statistics(parts, ranks: dict) -> dict:
    """Exact ``k``-th smallest non-missing values of numeric columns (0-based ``ranks``).

    Each partition's values are sorted once, as integer keys ordered like the float64 values,
    and kept where the engine holds data (``persist``). Then, usually, two passes:

    1. each partition returns a regular sample of its sorted keys (``_SAMPLES`` keys at evenly
       spaced positions, its last key among them); the pooled sample brackets each rank's
       answer between two sample keys;
    2. each partition returns its exact count of keys below each bracket and the distinct keys
       inside it with their counts, from which the answer is read off.

    A rank whose bracket holds only one candidate skips the second pass; one whose bracket holds
    more than ``_DISTINCT`` distinct keys in some partition is narrowed by rounds of counts at
    ``_PIVOTS`` pivots instead. The answer is the value a full sort would give.

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
    if not names:
        return {}
    keys = parts.map(_sorted_keys, names).persist()
    tables = keys.map(_samples, _SAMPLES).reduce(partial(_merge_samples, len(names)))
    wanted = [_checked(name, ranks[name], table) for name, table in zip(names, tables)]
    low, high = map(list, zip(*(_brackets(t, r) for t, r in zip(tables, wanted))))
    open_ = [lo < hi for lo, hi in zip(low, high)]
    if any(o.any() for o in open_):
        inside = [(lo[o], hi[o]) for lo, hi, o in zip(low, high, open_)]
        counted = keys.map(_bracket_counts, inside, _DISTINCT).reduce(_merge_brackets)
        for lo, hi, o, r, column in zip(low, high, open_, wanted, counted):
            lo[o], hi[o] = _settled(lo[o], hi[o], r[o], *column)
    return {name: _from_keys(hi) for name, hi in zip(names, _pivot_rounds(keys, wanted, low, high))}


def _sorted_keys(part: pd.DataFrame, names: list) -> list[np.ndarray]:
    out = []
    for name in names:
        x = pd.to_numeric(part[name]).to_numpy(dtype=np.float64, na_value=np.nan)
        out.append(np.sort(_to_keys(x[~np.isnan(x)])))
    return out


def _checked(name, ranks, table) -> np.ndarray:
    total = int(table[1].sum())  # every key's lower-bound rise, summed: the partitions' sizes
    r = np.asarray(ranks, dtype=np.int64).reshape(-1)
    if len(r) and (r.min() < 0 or r.max() >= total):
        raise RaiError(f"rank out of range for column {name!r}: it has {total} "
                       "non-missing values")
    return r


# The pooled sample, and why its brackets hold the answers.
#
# Partition p has sorted keys k[0] <= ... <= k[n-1] and samples them at positions
# s_0 < s_1 < ... < s_{m-1} = n - 1 (m = min(n, _SAMPLES); s_m := n). For any key v let j be the
# last sample with k[s_j] <= v. Then p's count of keys <= v, c_p(v), satisfies
#     s_j + 1 <= c_p(v) <= s_{j+1},
# (0 <= c_p(v) <= s_0 when no sample is <= v): positions 0..s_j hold keys <= k[s_j] <= v, and
# positions s_{j+1}.. hold keys >= k[s_{j+1}] > v. Only sortedness is used, so the bounds hold
# with ties, with −0.0 and 0.0 (one key), with ±inf (ordinary keys) and for empty partitions
# (no samples, bounds 0 and 0). As step functions of v both bounds rise only at p's sample keys:
# the lower one by s_j - s_{j-1} at sample j (s_{-1} := -1), the upper one by s_{j+1} - s_j from
# a base of s_0. So a table of sample keys with the two rises summed over partitions (and the
# bases summed) gives global bounds lower(v) <= c(v) <= upper(v) at every key v, by cumulative
# sums. At the largest sample key every partition's last key is counted, so lower = upper = N.
#
# The answer for rank r is a = the smallest key with c(a) >= r + 1. With H the smallest sample
# key with lower(H) >= r + 1 (one exists, as lower reaches N > r), c(H) >= r + 1 and a <= H.
# With L the largest sample key with upper(L) <= r, c(L) <= r and a > L; when there is none,
# every key is a candidate from below. So a lies in the closed key interval [L + 1, H]. Between
# two consecutive sample keys the upper bound is constant, so when upper just below H (at the
# preceding sample key, or the base below all of them) is <= r, no key below H counts r + 1 and
# a = H: such a rank needs no second pass. On fully sampled partitions (n <= _SAMPLES) every
# rank is settled this way.
#
# Size of the bracket: let G be the sum over partitions of the widest gap s_{j+1} - s_j (at most
# ceil(n / m)). Without ties a partition has at most one sample key at H and none between H and
# the sample key before it, so c(H) <= upper(H) <= lower(key before H) + 2G <= r + 2G; likewise
# c(L) >= r + 1 - 2G, and fewer than 4G <= 4 (N / _SAMPLES + P) keys lie in (L, H]. Ties can
# make the bracket longer (a key filling most rows), hence the limit on the distinct keys it
# returns. (The sample is that of parallel sorting by regular sampling: Shi & Schaeffer,
# J. Parallel Distrib. Comput. 14, 1992.)

def _samples(keys: list, m: int) -> list[tuple]:
    """Per column: sample keys with their lower- and upper-bound rises, and the upper base."""
    out = []
    for k in keys:
        n = len(k)
        at = _sample_positions(n, min(n, m))
        out.append((*_combined(k[at], np.diff(at, prepend=-1), np.diff(at, append=n)),
                    int(at[0]) if n else 0))
    return out


def _sample_positions(n: int, m: int) -> np.ndarray:
    """``m`` increasing positions spread over ``range(n)``, the last one ``n - 1``."""
    if not m:
        return np.empty(0, dtype=np.int64)
    return (np.arange(1, m + 1, dtype=np.int64) * n) // m - 1


def _merge_samples(n_columns: int, tables: list) -> list[tuple]:
    merged = []
    for j in range(n_columns):
        pieces = [t[j] for t in tables]
        arrays = [np.concatenate([p[i] for p in pieces] or [np.empty(0, np.int64)])
                  for i in range(3)]
        merged.append((*_combined(*arrays), sum(p[3] for p in pieces)))
    return merged


def _brackets(table: tuple, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed key intervals ``[low, high]`` holding each rank's answer (one key when settled)."""
    keys, low_rise, high_rise, base = table
    lower, upper = np.cumsum(low_rise), base + np.cumsum(high_rise)
    h = np.searchsorted(lower, ranks + 1)
    below = np.searchsorted(upper, ranks, side="right") - 1
    high = keys[h]
    low = np.where(below >= 0, keys[np.maximum(below, 0)] + 1, _LOWEST)
    before_high = np.where(h > 0, upper[np.maximum(h - 1, 0)], base)
    return np.where(before_high <= ranks, high, low), high


def _bracket_counts(keys: list, brackets: list, limit: int) -> list[tuple]:
    """Per column: keys below each bracket, and its distinct keys with their counts (``None``
    where there are more than ``limit``)."""
    out = []
    for k, (low, high) in zip(keys, brackets):
        first = np.searchsorted(k, low)
        last = np.searchsorted(k, high, side="right")
        out.append((first, [_runs(k[a:b], limit) for a, b in zip(first, last)]))
    return out


def _runs(sorted_keys: np.ndarray, limit: int):
    starts = _run_starts(sorted_keys)
    if len(starts) > limit:
        return None
    return sorted_keys[starts], np.diff(np.append(starts, len(sorted_keys)))


def _merge_brackets(counts: list) -> list[tuple]:
    merged = []
    for column in zip(*counts):
        below = np.sum([c[0] for c in column], axis=0)
        merged.append((below, [_merged_runs(rank) for rank in zip(*(c[1] for c in column))]))
    return merged


def _merged_runs(runs: tuple):
    """One rank's distinct keys and counts over partitions (``None`` if any is)."""
    if any(run is None for run in runs):
        return None
    keys, counts = zip(*runs)
    return _combined(np.concatenate(keys), np.concatenate(counts))


def _settled(low, high, ranks, below, runs):
    """The answer as ``[low, high]`` (one key) for ranks whose bracket came back whole."""
    low, high = low.copy(), high.copy()
    for i, run in enumerate(runs):
        if run is not None:
            keys, counts = run
            low[i] = high[i] = keys[np.searchsorted(below[i] + np.cumsum(counts), ranks[i] + 1)]
    return low, high


def _pivot_rounds(keys, ranks: list, low: list, high: list) -> list[np.ndarray]:
    """``high`` once every ``[low, high]`` is one key, by rounds of counts at pivots."""
    while any((lo < hi).any() for lo, hi in zip(low, high)):
        pivots = [_pivots(lo, hi) for lo, hi in zip(low, high)]
        counted = keys.map(_count_at_or_below, pivots).reduce(_add_counts)
        for i, p in enumerate(pivots):
            low[i], high[i] = _narrow(low[i], high[i], p, counted[i], ranks[i])
    return high


def _count_at_or_below(keys: list, pivots: list) -> list[np.ndarray]:
    return [np.searchsorted(k, p, side="right") for k, p in zip(keys, pivots)]


def _add_counts(counts: list) -> list:
    return [np.sum(column, axis=0) for column in zip(*counts)]


def _narrow(low, high, pivots, at_or_below, ranks):
    """The key range still holding each rank: its answer is the smallest key counting rank + 1."""
    enough = at_or_below >= ranks[:, None] + 1
    high = np.where(enough.any(axis=1), np.where(enough, pivots, _HIGHEST).min(axis=1), high)
    below = np.where(~enough, pivots, _LOWEST).max(axis=1)
    low = np.where((~enough).any(axis=1), np.maximum(low, below + 1), low)
    return low, high


def _run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys begins."""
    if not len(sorted_keys):
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _combined(keys: np.ndarray, *weights: np.ndarray) -> tuple:
    """The distinct ``keys``, ascending, and each of ``weights`` summed over equal keys."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = _run_starts(keys)
    return keys[starts], *(np.add.reduceat(w[order], starts) for w in weights)


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
