"""Compiled kernels of :mod:`rai_nb.stats.regression` (numba; imported on first use).

Bootstrap weights are counter-based: the weight of row ``r`` in replicate ``b`` is the inverse
Poisson(1) CDF of ``splitmix64(key_b + (r + 1)·γ)``, where ``key_b`` is the ``b``-th output of a
splitmix64 generator seeded with ``seed`` (Steele, Lea & Flood, OOPSLA 2014). The weight depends
only on ``(seed, b, r)``, never on the order rows are visited in or on how they are partitioned.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_ONE = np.uint64(1)
_UNIT = 2.0**-53
_N_SUMS = 9
_PMF = [math.exp(-1) / math.factorial(k) for k in range(40)]
#: P(K <= k) for K ~ Poisson(1), k = 0..18, as 1 − tail (accurate near 1); P(K > 18) < 1e-17.
_POISSON_CDF = 1 - np.cumsum(_PMF[::-1])[::-1][1:20]


@nb.njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def stream_keys(seed, n_boot):
    """Per-replicate keys: the first ``n_boot`` outputs of splitmix64 seeded with ``seed``."""
    keys = np.empty(n_boot, np.uint64)
    state = seed
    for b in range(n_boot):
        state += _GOLDEN
        keys[b] = _mix(state)
    return keys


@nb.njit(cache=True, inline="always")
def _poisson(key, row):
    """Poisson(1) draw of global row ``row`` (uint64) in the replicate with ``key``.

    Counting the CDF values at or below the uniform is branch-free, so loops over replicates
    vectorise.
    """
    u = (_mix(key + (row + _ONE) * _GOLDEN) >> _S11) * _UNIT
    k = 0.0
    for j in range(len(_POISSON_CDF)):
        k += u >= _POISSON_CDF[j]
    return k


@nb.njit(cache=True, inline="always")
def _terms(terms, y, p, w, shift):
    """One row's contribution to each sum, in ``REGRESSION_SUMS`` order."""
    d, e = y - shift, p - y
    terms[0] = 1.0
    terms[1] = w
    terms[2] = w * y
    terms[3] = w * p
    terms[4] = w * d
    terms[5] = w * d * d
    terms[6] = w * e
    terms[7] = w * abs(e)
    terms[8] = w * e * e


@nb.njit(cache=True)
def sums(codes, y, p, w, weighted, shift, out):
    """Every sum of every row into ``out[g]`` (one pass)."""
    terms = np.empty(_N_SUMS)
    for i in range(len(codes)):
        _terms(terms, y[i], p[i], w[i] if weighted else 1.0, shift)
        for s in range(_N_SUMS):
            out[codes[i], s] += terms[s]


@nb.njit(cache=True)
def _group_order(codes, n_groups):
    """Rows grouped by code (a counting sort) and where each group starts."""
    start = np.zeros(n_groups + 1, np.int64)
    for i in range(len(codes)):
        start[codes[i] + 1] += 1
    start = np.cumsum(start)
    fill, order = start[:-1].copy(), np.empty(len(codes), np.int64)
    for i in range(len(codes)):
        order[fill[codes[i]]] = i
        fill[codes[i]] += 1
    return order, start


@nb.njit(parallel=True, cache=True)
def bootstrap_sums(codes, y, p, w, weighted, shift, keys, offset, n_blocks, out):
    """Replicate sums into ``out[g, s, b]``.

    Each block of replicates reads the rows once, group by group, so its running sums
    (statistics x replicates of one group) stay in cache.
    """
    n_boot, n_groups = len(keys), out.shape[0]
    order, start = _group_order(codes, n_groups)
    for block in nb.prange(n_blocks):
        first, last = block * n_boot // n_blocks, (block + 1) * n_boot // n_blocks
        width = last - first
        draws, terms = np.empty(width), np.empty(_N_SUMS)
        running = np.empty((_N_SUMS, width))
        for g in range(n_groups):
            running[:] = 0.0
            for j in range(start[g], start[g + 1]):
                i = order[j]
                row = np.uint64(offset + i)
                _terms(terms, y[i], p[i], w[i] if weighted else 1.0, shift)
                for b in range(width):
                    draws[b] = _poisson(keys[first + b], row)
                for s in range(_N_SUMS):
                    for b in range(width):
                        running[s, b] += draws[b] * terms[s]
            out[g, :, first:last] = running


@nb.njit(cache=True, inline="always")
def _first_at_least(cdf, start, stop, level):
    """The first ``j`` in ``[start, stop)`` with ``cdf[j] >= level`` (``stop`` if none)."""
    while start < stop:
        mid = (start + stop) // 2
        if cdf[mid] >= level:
            stop = mid
        else:
            start = mid + 1
    return start


@nb.njit(cache=True, inline="always")
def _segment(cdf, area, z, start, stop, level):
    """sup and integral of ``|level − F|`` over ``[z[start], z[stop])`` for the overall CDF F.

    F is ``cdf[j]`` on ``[z[j], z[j+1])`` and ``area[j] = ∫_{z[0]}^{z[j]} F``; F is monotone, so
    the sup is at an end and the integral splits where F first reaches ``level``.
    """
    if stop <= start:
        return 0.0, 0.0
    sup = max(abs(level - cdf[start]), abs(level - cdf[stop - 1]))
    cross = _first_at_least(cdf, start, stop, level)
    below = level * (z[cross] - z[start]) - (area[cross] - area[start])
    above = (area[stop] - area[cross]) - level * (z[stop] - z[cross])
    return sup, below + above


@nb.njit(cache=True)
def _overall_cdf(entry_value, entry_weight, z, cdf, area):
    """Fill the overall CDF at each distinct value and its integral from ``z[0]``; return the
    total weight."""
    cdf[:] = 0.0
    for e in range(len(entry_value)):
        cdf[entry_value[e]] += entry_weight[e]
    total = 0.0
    for j in range(len(z)):
        total += cdf[j]
        cdf[j] = total
    area[:] = 0.0
    if total > 0:
        cdf /= total
        for j in range(len(z) - 1):
            area[j + 1] = area[j] + cdf[j] * (z[j + 1] - z[j])
    return total


@nb.njit(cache=True)
def gaps(entry_group, entry_value, entry_weight, z, ks, w1):
    """KS and Wasserstein-1 between each group's prediction distribution and the overall one.

    Entries are distinct (value, group) pairs sorted by value, ``entry_value`` the index of the
    value in the sorted distinct values ``z``. Groups without weight get NaN.
    """
    _gaps(entry_group, entry_value, entry_weight, z, ks, w1, np.empty(len(z)), np.empty(len(z)))


@nb.njit(cache=True)
def _gaps(entry_group, entry_value, entry_weight, z, ks, w1, cdf, area):
    """:func:`gaps` with work arrays ``cdf`` and ``area`` (one per distinct value).

    Each group's CDF is constant between its own values; one sweep in value order handles a
    group's stretch when it ends, so the binary searches stay just behind the sweep.
    """
    n_groups = len(ks)
    ks[:] = np.nan
    w1[:] = np.nan
    if _overall_cdf(entry_value, entry_weight, z, cdf, area) <= 0:
        return
    group_weight = np.zeros(n_groups)
    for e in range(len(entry_group)):
        group_weight[entry_group[e]] += entry_weight[e]
    start, running = np.zeros(n_groups, np.int64), np.zeros(n_groups)
    level, sup, integral = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
    for e in range(len(entry_group)):
        g, t = entry_group[e], entry_value[e]
        if group_weight[g] > 0:
            s, a = _segment(cdf, area, z, start[g], t, level[g])
            sup[g], integral[g] = max(sup[g], s), integral[g] + a
            running[g] += entry_weight[e]  # same order as group_weight: ends at exactly 1
            level[g], start[g] = running[g] / group_weight[g], t
    for g in range(n_groups):
        if group_weight[g] > 0:
            s, a = _segment(cdf, area, z, start[g], len(z) - 1, level[g])
            ks[g], w1[g] = max(sup[g], s), integral[g] + a


@nb.njit(parallel=True, cache=True)
def bootstrap_gaps(order, entry_of_sorted, entry_group, entry_value, z, w, weighted, keys,
                   offset, n_blocks, ks, w1):
    """:func:`gaps` of every replicate; sorted row ``j`` is row ``order[j]`` of entry
    ``entry_of_sorted[j]``, with weight ``w[j]`` (sorted too). Each block of replicates reuses
    its work arrays."""
    n_boot = len(keys)
    for block in nb.prange(n_blocks):
        weight = np.empty(len(entry_group))
        cdf, area = np.empty(len(z)), np.empty(len(z))
        for b in range(block * n_boot // n_blocks, (block + 1) * n_boot // n_blocks):
            weight[:] = 0.0
            for j in range(len(order)):
                k = _poisson(keys[b], np.uint64(offset + order[j]))
                weight[entry_of_sorted[j]] += k * (w[j] if weighted else 1.0)
            _gaps(entry_group, entry_value, weight, z, ks[b], w1[b], cdf, area)
