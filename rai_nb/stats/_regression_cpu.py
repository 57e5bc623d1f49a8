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


@nb.njit(cache=True)
def packed_keys(values, index_bits, packed, keys):
    """Fill ``keys`` with each float's order-preserving uint64 key and ``packed`` with the key's
    low ``index_bits`` bits replaced by the row number.

    Flipping the sign bit of non-negative floats and every bit of negative ones makes unsigned
    order equal float order. Sorting the packed keys (NumPy's vectorised sort of plain integers
    is several times faster than its argsort) orders rows by the keys' high bits and carries
    the row numbers along; :func:`order_from_packed` settles the rows whose high bits tie.
    """
    high = ~((_ONE << np.uint64(index_bits)) - _ONE)
    for i in range(len(values)):
        bits = np.float64(values[i]).view(np.uint64)
        keys[i] = ~bits if bits >> np.uint64(63) else bits | (_ONE << np.uint64(63))
        packed[i] = (keys[i] & high) | np.uint64(i)


@nb.njit(cache=True)
def order_from_packed(packed, keys, index_bits):
    """Rows in value order from the sorted :func:`packed_keys`: runs sharing the high bits but
    not the value are sorted by their full keys (tied values may stay in any order). The order
    overwrites ``packed`` (each entry is read before its slot is written)."""
    n = len(packed)
    order = packed.view(np.int64)
    low = (_ONE << np.uint64(index_bits)) - _ONE
    shift = np.uint64(index_bits)
    first = 0
    while first < n:
        stop, high = first + 1, packed[first] >> shift
        order[first] = np.int64(packed[first] & low)
        ordered = True
        while stop < n and packed[stop] >> shift == high:
            order[stop] = np.int64(packed[stop] & low)
            ordered &= keys[order[stop]] >= keys[order[stop - 1]]
            stop += 1
        if not ordered:
            run = order[first:stop].copy()
            order[first:stop] = run[np.argsort(keys[run])]
        first = stop
    return order


@nb.njit(cache=True, parallel=True)
def sorted_rows(order, p, codes, w, weighted, value, group, weight):
    """Fill ``value``, ``group`` and (if ``weighted``) ``weight`` with the predictions, groups
    and weights of the rows in ``order`` (a gather of scattered rows: threads hide its misses)."""
    for j in nb.prange(len(order)):
        i = order[j]
        value[j], group[j] = p[i], codes[i]
        if weighted:
            weight[j] = w[i]


@nb.njit(cache=True, inline="always")
def _crossing(cdf, start, stop, level):
    """The first ``j`` with ``cdf[j] >= level``, given ``cdf[start] < level <= cdf[stop - 1]``."""
    low, high = start + 1, stop - 1
    while low < high:
        mid = (low + high) // 2
        if cdf[mid] >= level:
            high = mid
        else:
            low = mid + 1
    return low


@nb.njit(cache=True, inline="always")
def _close_stretch(row, cdf, area, z, start, stop):
    """Fold a group's stretch ``[z[start], z[stop])`` into its sup and integral of ``|level − F|``;
    return the level and whether the overall CDF F crosses it inside.

    ``row`` is the group's :func:`gap_work` state; its CDF is the constant level
    ``running / weight`` over the stretch. F is ``cdf[j]`` on ``[z[j], z[j+1])`` and
    ``area[j] = ∫_{z[0]}^{z[j]} F``; F is monotone, so the sup is at an end and, without a
    crossing, ``level − F`` keeps the sign of its last value. Crossings are rare and settled
    apart (:func:`_crossing_correction`): inside the sweep they cost it twice its time.
    """
    level = row[1] / row[0]
    first, final = level - cdf[start], level - cdf[stop - 1]
    span = level * (z[stop] - row[4]) - (area[stop] - row[5])
    row[2] = max(row[2], abs(first), abs(final))
    row[3] += span * (1.0 - 2.0 * (final <= 0))
    return level, (first > 0) & (final <= 0)


@nb.njit(cache=True)
def _crossing_correction(cdf, area, z, start, stop, level):
    """What to add to :func:`_close_stretch`'s integral (``−span``) where F crosses the level
    inside: the integral splits where F first reaches the level."""
    cross = _crossing(cdf, start, stop, level)
    below = level * (z[cross] - z[start]) - (area[cross] - area[start])
    above = (area[stop] - area[cross]) - level * (z[stop] - z[cross])
    return below + above + level * (z[stop] - z[start]) - (area[stop] - area[start])


@nb.njit(cache=True)
def _settle(cdf, area, z, pending, pending_level, n_pending, state):
    """Add the corrections of the pending crossings ``(group, start, stop)``; return 0."""
    for i in range(n_pending):
        g, start, stop = pending[i, 0], pending[i, 1], pending[i, 2]
        state[g, 3] += _crossing_correction(cdf, area, z, start, stop, pending_level[i])
    return 0


#: Crossings held back before :func:`gaps` settles them.
_PENDING = 4096


@nb.njit(cache=True)
def gap_work(history, n_groups):
    """Work arrays of :func:`gaps`: z, cdf and area per distinct value (the rows of
    ``history``, shape (3, rows)); per group (one cache line each) its weight, running weight,
    sup, integral, and z and area where its current stretch starts; per group that start and
    the last distinct value it was seen at; the pending crossings and their levels. A caller
    in Python passes a NumPy ``history``: NumPy asks for huge pages, which saved a third of
    the sweep's time in page faults at 1M rows."""
    return (history[0], history[1], history[2], np.empty((n_groups, 8)),
            np.empty((n_groups, 2), np.int64), np.empty((_PENDING, 3), np.int64),
            np.empty(_PENDING))


@nb.njit(cache=True)
def gaps(value, group, weight, weighted, ks, w1, work):
    """KS and Wasserstein-1 of each group's distribution to the overall one, in one pass over
    rows (or (value, group) entries) sorted by value (``weight`` unused unless ``weighted``).

    Between two of a group's own values its CDF is constant while the overall CDF rises, so a
    group's stretch is settled (:func:`_close_stretch`) when the sweep reaches the group's next
    value. Weights are summed in the sweep's order, so every CDF ends at exactly 1. Rows without
    weight are skipped; groups without weight get NaN. ``work`` is :func:`gap_work`: called
    from Python with it, the sweep ran twice as fast as inside a compiled one-line wrapper that
    made it (numba 0.68; cause not found).
    """
    z, cdf, area, state, visit, pending, pending_level = work
    state[:] = 0.0
    total = 0.0
    for j in range(len(value)):
        u = weight[j] if weighted else 1.0
        state[group[j], 0] += u
        total += u
    visit[:, 0] = 0
    visit[:, 1] = -1
    d, n_pending, cumulative = -1, 0, 0.0
    for j in range(len(value)):
        u = weight[j] if weighted else 1.0
        if u == 0:
            continue
        if d < 0 or value[j] != z[d]:
            if d >= 0:
                cdf[d] = cumulative / total
            d += 1
            z[d] = value[j]
            area[d] = 0.0 if d == 0 else area[d - 1] + cdf[d - 1] * (z[d] - z[d - 1])
            if d == 0:
                state[:, 4] = z[0]  # every group's first stretch (level 0) starts there
        g = group[j]
        row = state[g]
        if visit[g, 1] != d:
            start = visit[g, 0]
            if start < d:
                level, crosses = _close_stretch(row, cdf, area, z, start, d)
                if n_pending == _PENDING:
                    n_pending = _settle(cdf, area, z, pending, pending_level, n_pending, state)
                pending[n_pending, 0], pending[n_pending, 1], pending[n_pending, 2] = (
                    g, start, d)
                pending_level[n_pending] = level
                n_pending += crosses
            visit[g, 0], visit[g, 1] = d, d
            row[4], row[5] = z[d], area[d]
        row[1] += u
        cumulative += u
    ks[:] = np.nan
    w1[:] = np.nan
    if d < 0:
        return
    cdf[d] = cumulative / total
    _settle(cdf, area, z, pending, pending_level, n_pending, state)
    for g in range(len(ks)):
        row, start = state[g], visit[g, 0]
        if row[0] > 0:
            if start < d:
                level, crosses = _close_stretch(row, cdf, area, z, start, d)
                if crosses:
                    row[3] += _crossing_correction(cdf, area, z, start, d, level)
            ks[g], w1[g] = row[2], row[3]


@nb.njit(parallel=True, cache=True)
def bootstrap_gaps(order, value, group, w, weighted, keys, offset, n_blocks, ks, w1):
    """:func:`gaps` of every replicate: sorted row ``j`` is row ``order[j]``, with prediction
    ``value[j]``, group ``group[j]`` and weight ``w[j]`` (if ``weighted``). The order is the
    same in every replicate; each block of replicates reuses its work arrays."""
    n_boot = len(keys)
    for block in nb.prange(n_blocks):
        work = gap_work(np.empty((3, len(order))), ks.shape[1])
        replicate = np.empty(len(order))
        for b in range(block * n_boot // n_blocks, (block + 1) * n_boot // n_blocks):
            for j in range(len(order)):
                k = _poisson(keys[b], np.uint64(offset + order[j]))
                replicate[j] = k * w[j] if weighted else k
            gaps(value, group, replicate, True, ks[b], w1[b], work)
