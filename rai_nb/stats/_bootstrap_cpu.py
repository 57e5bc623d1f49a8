"""Compiled bootstrap kernels of :mod:`rai_nb.stats.bias` (numba; loaded on first use).

Replicate counts are ``R[b, g, c]`` with cell ``c = 4 s + 2 y + ŷ`` of stratum ``s``. The
kernels evaluate the per-group metrics of :mod:`.group_metrics` and the Clarify metrics of
:mod:`.clarify` for one group (or facet) at a time over all replicates, and keep only the few
order statistics a percentile interval needs, so no ``(replicates, groups, metrics)`` array is
ever built, and the replicate counts themselves are drawn one block of groups at a time
(``bias._resample``, :func:`draw_block`). The formulas are copies, in scalar form, of those
modules' vectorised ones, in the same operation order but for KL (from JS's logs): numba
cannot compile the NumPy forms (``np.divide(where=)``, ``errstate``), and calling one formula
per metric over arrays of replicates would build the tables this module avoids.
``tests/test_stats_bias.py`` checks that both give the same intervals to 1e-12.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._regression_cpu import _GOLDEN, _S11, _UNIT, _mix

_TASK = 64  # groups (or facets) per parallel task
_NAN = np.nan


@nb.njit(parallel=True, error_model="numpy", cache=True)
def draw_block(drawn, first_draw, keys, cell_start, group_of_row, out):
    """Replicate counts of one block of groups: ``out[b, g, c]`` rows of group g in cell c.

    Replicate b draws ``drawn[b, c]`` rows of the block's cell c uniformly with replacement
    among its ``cell_start[c + 1] − cell_start[c]`` rows, whose groups are
    ``group_of_row[cell_start[c]:cell_start[c + 1]]``. Its j-th draw (j counted over the
    whole replicate, from ``first_draw[b, c]`` in this cell) is the uniform of
    ``splitmix64(keys[b] + (j + 1)·γ)``, so the counts depend only on the seed, never on the
    threads.
    """
    n_boot, n_cells = drawn.shape
    for b in nb.prange(n_boot):
        out[b] = 0
        for c in range(n_cells):
            start, rows = cell_start[c], cell_start[c + 1] - cell_start[c]
            first = first_draw[b, c]
            for i in range(drawn[b, c]):
                u = (_mix(keys[b] + np.uint64(first + i + 1) * _GOLDEN) >> _S11) * _UNIT
                out[b, group_of_row[start + min(int(u * rows), rows - 1)], c] += 1


@nb.njit(parallel=True, error_model="numpy", cache=True)
def facet_sums(replicates, codes, out):
    """``out[b, l, c]`` += the sum of ``replicates[b, g, c]`` over the groups g with level l."""
    n_boot, n_groups, n_cells = replicates.shape
    for b in nb.prange(n_boot):
        for g in range(n_groups):
            for c in range(n_cells):
                out[b, codes[g], c] += replicates[b, g, c]


# --- order statistics ------------------------------------------------------------------------

@nb.njit(error_model="numpy", cache=True)
def _quantile(ascending, descending, count, q):
    """The linear-interpolation ``q`` quantile of ``count`` values, from their smallest values
    in ``ascending`` or their largest in ``descending`` (NumPy's default method, as in
    ``bias._order_statistic``)."""
    position = max(count - 1, 0) * q
    below = math.floor(position)
    above = min(below + 1, max(count - 1, 0))
    if above < len(ascending):
        low, high = ascending[below], ascending[above]
    else:
        low, high = descending[count - 1 - below], descending[count - 1 - above]
    fraction = position - below
    if fraction >= 0.5:
        return high - (high - low) * (1 - fraction)
    return low + (high - low) * fraction


@nb.njit(error_model="numpy", cache=True)
def _buffers(n_smallest, n_largest, n_metrics):
    """``(smallest, largest, count, low_carry, high_carry)``: the scratch of :func:`_select`."""
    return (np.empty((n_smallest, n_metrics)), np.empty((n_largest, n_metrics)),
            np.zeros(n_metrics, dtype=np.int64), np.empty(n_metrics), np.empty(n_metrics))


@nb.njit(error_model="numpy", cache=True)
def _select(values, low_q, high_q, scratch, low, high):
    """Write the ``low_q`` and ``high_q`` quantiles over replicates of the finite
    ``values[:, m]`` into ``low[m]`` and ``high[m]`` (NaN when none is finite).

    Every replicate passes through a branch-free compare-exchange network into the
    ``n_smallest`` smallest and ``n_largest`` largest values of each metric: metrics are the
    inner, contiguous loop (vectorised), and no data-dependent branch mispredicts on random
    replicate order, as an insertion with an early exit does on every other insert.
    """
    smallest, largest, count, low_carry, high_carry = scratch
    n_boot, n_metrics = values.shape
    smallest[:] = math.inf  # padding sorts after every finite value, and is never read
    largest[:] = -math.inf
    count[:] = 0
    for b in range(n_boot):
        for m in range(n_metrics):
            x = values[b, m]
            finite = abs(x) < math.inf  # NaN and ±inf are undefined replicates
            count[m] += finite
            low_carry[m] = x if finite else math.inf
            high_carry[m] = x if finite else -math.inf
        for i in range(smallest.shape[0]):
            for m in range(n_metrics):
                kept, x = smallest[i, m], low_carry[m]
                smallest[i, m] = min(kept, x)
                low_carry[m] = max(kept, x)
        for i in range(largest.shape[0]):
            for m in range(n_metrics):
                kept, x = largest[i, m], high_carry[m]
                largest[i, m] = max(kept, x)
                high_carry[m] = min(kept, x)
    for m in range(n_metrics):
        if count[m] == 0:
            low[m] = high[m] = _NAN
        else:
            low[m] = _quantile(smallest[:, m], largest[:, m], count[m], low_q)
            high[m] = _quantile(smallest[:, m], largest[:, m], count[m], high_q)


# --- per-group metrics (group_metrics.GROUP_METRICS order) -----------------------------------

@nb.njit(error_model="numpy", cache=True, inline="always")
def _rate(num, den):
    return num / den if den != 0 else 0.0


@nb.njit(error_model="numpy", cache=True)
def _group_metrics(tn, fp, fn, tp, out, b):
    n = tn + fp + fn + tp
    tpr, tnr = _rate(tp, tp + fn), _rate(tn, tn + fp)
    has_pos = 1.0 if tp + fn > 0 else 0.0
    has_neg = 1.0 if tn + fp > 0 else 0.0
    rates = (_rate(tp + fn, n), _rate(tp + fp, n), _rate(tp + tn, n),
             _rate(tpr * has_pos + tnr * has_neg, has_pos + has_neg), _rate(tp, tp + fp), tpr,
             _rate(2 * tp, 2 * tp + fp + fn), tpr, tnr, _rate(fp, tn + fp), _rate(fn, tp + fn))
    out[b, 0] = n
    for m in range(len(rates)):
        out[b, m + 1] = rates[m] if n > 0 else _NAN  # a group absent from a replicate


@nb.njit(parallel=True, error_model="numpy", cache=True)
def group_intervals(replicates, spread_columns, large, low_q, high_q, n_smallest, n_largest, low,
                    high):
    """Write the ``low_q`` and ``high_q`` quantiles over replicates of every per-group metric
    into ``low[g, m]`` and ``high[g, m]``; return per task the NaN-ignoring min and max over
    its groups of the metrics ``spread_columns`` in each replicate, and the same over its
    groups with ``large[g]``, shape ``(tasks, n_boot, 4, metrics)`` (NaN in the other
    columns)."""
    n_boot, n_groups, n_cells = replicates.shape
    n_metrics = low.shape[1]
    n_tasks = (n_groups + _TASK - 1) // _TASK
    extremes = np.full((n_tasks, n_boot, 4, n_metrics), _NAN)
    for task in nb.prange(n_tasks):
        values = np.empty((n_boot, n_metrics))
        scratch = _buffers(n_smallest, n_largest, n_metrics)
        for g in range(task * _TASK, min((task + 1) * _TASK, n_groups)):
            for b in range(n_boot):
                tn = fp = fn = tp = 0.0
                for c in range(0, n_cells, 4):
                    tn += replicates[b, g, c]
                    fp += replicates[b, g, c + 1]
                    fn += replicates[b, g, c + 2]
                    tp += replicates[b, g, c + 3]
                _group_metrics(tn, fp, fn, tp, values, b)
                for m in spread_columns:
                    _fold(extremes[task, b, :2, m], values[b, m])
                    if large[g]:
                        _fold(extremes[task, b, 2:, m], values[b, m])
            _select(values, low_q, high_q, scratch, low[g], high[g])
    return extremes


@nb.njit(error_model="numpy", cache=True, inline="always")
def _fold(extremes, v):
    """NaN-ignoring ``extremes = (min, max)`` with ``v``."""
    if not math.isnan(v):
        extremes[0] = v if math.isnan(extremes[0]) else min(extremes[0], v)
        extremes[1] = v if math.isnan(extremes[1]) else max(extremes[1], v)


# --- Clarify metrics (clarify.clarify_names order) -------------------------------------------

@nb.njit(error_model="numpy", cache=True, inline="always")
def _divide(num, den):
    if den == 0:
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / den


@nb.njit(error_model="numpy", cache=True, inline="always")
def _gap(first, second):
    return 0.0 if math.isinf(first) and first == second else first - second


@nb.njit(error_model="numpy", cache=True, inline="always")
def _label_terms(a, d):
    """One label's terms of KL, JS and of the difference (0 unless both probabilities are > 0).

    Two logs, not three: log(a/d) = log(a/m) − log(d/m).
    """
    if not (a > 0 and d > 0):
        return 0.0, 0.0, 0.0
    mid = (a + d) / 2
    above, below = math.log(a / mid), math.log(d / mid)
    return a * (above - below), a * above + d * below, a - d


@nb.njit(error_model="numpy", cache=True)
def _divergences(a0, a1, d0, d1):
    """KL, JS, LP, TVD, KS of label distributions (a0, a1) and (d0, d1)."""
    if not ((a0 > 0 and d0 > 0) or (a1 > 0 and d1 > 0)):
        return _NAN, _NAN, _NAN, _NAN, _NAN
    kl0, js0, diff0 = _label_terms(a0, d0)
    kl1, js1, diff1 = _label_terms(a1, d1)
    return (kl0 + kl1, 0.5 * (js0 + js1), math.sqrt(diff0**2 + diff1**2),
            0.5 * (abs(diff0) + abs(diff1)), max(abs(diff0), abs(diff1)))


@nb.njit(error_model="numpy", cache=True)
def _conditional_disparity(facet, totals, b, f, positive):
    """CDD over strata, splitting by y (``positive`` = 2: CDDL) or by ŷ (1: CDDPL)."""
    weighted = sizes = 0.0
    other = 3 - positive  # the cell of the negative label with the other label positive
    for c in range(0, totals.shape[1], 4):
        facet0 = facet[b, f, c] + facet[b, f, c + other]
        facet1 = facet[b, f, c + positive] + facet[b, f, c + 3]
        all0 = totals[b, c] + totals[b, c + other]
        all1 = totals[b, c + positive] + totals[b, c + 3]
        size = all0 + all1
        weighted += size * (_rate(facet0, all0) - _rate(facet1, all1))
        sizes += size
    return _divide(weighted, sizes)


@nb.njit(error_model="numpy", cache=True)
def _clarify_metrics(facet, totals, ge, b, f, predicted, stratified, out):
    tn_d = fp_d = fn_d = tp_d = tn_a = fp_a = fn_a = tp_a = 0.0
    for c in range(0, totals.shape[1], 4):
        tn_d += facet[b, f, c]
        fp_d += facet[b, f, c + 1]
        fn_d += facet[b, f, c + 2]
        tp_d += facet[b, f, c + 3]
        tn_a += totals[b, c]
        fp_a += totals[b, c + 1]
        fn_a += totals[b, c + 2]
        tp_a += totals[b, c + 3]
    tn_a, fp_a, fn_a, tp_a = tn_a - tn_d, fp_a - fp_d, fn_a - fn_d, tp_a - tp_d
    n_d, n_a = tn_d + fp_d + fn_d + tp_d, tn_a + fp_a + fn_a + tp_a
    if n_d == 0 or n_a == 0:
        out[b, :] = _NAN
        return
    out[b, 0] = _divide(n_a - n_d, n_a + n_d)
    out[b, 1] = _divide(fn_a + tp_a, n_a) - _divide(fn_d + tp_d, n_d)
    out[b, 2], out[b, 3], out[b, 4], out[b, 5], out[b, 6] = _divergences(
        _divide(tn_a + fp_a, n_a), _divide(fn_a + tp_a, n_a),
        _divide(tn_d + fp_d, n_d), _divide(fn_d + tp_d, n_d))
    k = 7
    if stratified:
        out[b, k] = _conditional_disparity(facet, totals, b, f, 2)
        k += 1
    if not predicted:
        return
    q_d, q_a = _divide(tp_d + fp_d, n_d), _divide(tp_a + fp_a, n_a)
    out[b, k] = q_a - q_d
    out[b, k + 1] = _divide(q_d, q_a)
    out[b, k + 2] = _gap(_divide(tp_a + fn_a, tp_a + fp_a), _divide(tp_d + fn_d, tp_d + fp_d))
    out[b, k + 3] = _gap(_divide(tn_d + fp_d, tn_d + fn_d), _divide(tn_a + fp_a, tn_a + fn_a))
    out[b, k + 4] = _divide(tn_d, tn_d + fp_d) - _divide(tn_a, tn_a + fp_a)
    out[b, k + 5] = _divide(tp_a, tp_a + fn_a) - _divide(tp_d, tp_d + fn_d)
    out[b, k + 6] = _divide(tp_a, tp_a + fp_a) - _divide(tp_d, tp_d + fp_d)
    out[b, k + 7] = _divide(tn_d, tn_d + fn_d) - _divide(tn_a, tn_a + fn_a)
    out[b, k + 8] = _rate(tp_a + tn_a, n_a) - _rate(tp_d + tn_d, n_d)
    out[b, k + 9] = _gap(_divide(fn_d, fp_d), _divide(fn_a, fp_a))
    k += 10
    if stratified:
        out[b, k] = _conditional_disparity(facet, totals, b, f, 1)
        k += 1
    out[b, k] = ge[b]


@nb.njit(parallel=True, error_model="numpy", cache=True)
def clarify_intervals(facet, totals, ge, predicted, stratified, low_q, high_q, n_smallest,
                      n_largest, low, high):
    """Write the ``low_q`` and ``high_q`` quantiles over replicates of every Clarify metric of
    every facet into ``low[f, k]`` and ``high[f, k]``.

    ``facet[b, f, c]`` counts the facet's rows per cell, ``totals[b, c]`` all rows, ``ge[b]``
    is the generalized entropy of replicate b.
    """
    n_boot, n_facets, _ = facet.shape
    n_metrics = low.shape[1]
    for task in nb.prange((n_facets + _TASK - 1) // _TASK):
        values = np.empty((n_boot, n_metrics))
        scratch = _buffers(n_smallest, n_largest, n_metrics)
        for f in range(task * _TASK, min((task + 1) * _TASK, n_facets)):
            for b in range(n_boot):
                _clarify_metrics(facet, totals, ge, b, f, predicted, stratified, values)
            _select(values, low_q, high_q, scratch, low[f], high[f])
