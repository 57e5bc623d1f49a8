"""Compiled bootstrap kernels of :mod:`rai_nb.stats.bias` (numba; loaded on first use).

Replicate counts are ``R[b, g, c]`` with cell ``c = 4 s + 2 y + ŷ`` of stratum ``s``. The
kernels evaluate the per-group metrics of :mod:`.group_metrics` and the Clarify metrics of
:mod:`.clarify` for ``_LANES`` groups (or facets) at a time, one replicate after another, and
keep only the few order statistics a percentile interval needs, so no ``(replicates, groups,
metrics)`` array is ever built; the replicate counts themselves are drawn one block of groups
at a time (``bias._resample``, :func:`draw_block`).

The groups of a pass are the inner axis of every scratch array, loops over them have a
run-time length (LLVM unrolls constant short loops before it vectorises, and then does not),
and every formula chooses with one select rather than nested branches, so the compiler
evaluates a pass's groups in SIMD registers; a function that writes many rows of different
arrays in one loop does not vectorise (too many overlap checks), hence the small helpers.
The formulas are copies, in scalar form, of those modules' vectorised ones, in the same
operation order but for KL (from JS's logs) and the logs themselves (:func:`_log`): numba
cannot compile the NumPy forms (``np.divide(where=)``, ``errstate``), and calling one formula
per metric over arrays of replicates would build the tables this module avoids.
``tests/test_stats_bias.py`` checks that both give the same intervals to 1e-12.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._regression_cpu import _GOLDEN, _S11, _UNIT, _mix

_TASK = 256  # groups (or facets) per parallel task
_LANES = 32  # groups (or facets) evaluated together, the inner axis of the scratch arrays
_DRAWS = 512  # row draws computed together before they are counted
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
        rows_drawn = np.empty(_DRAWS, np.int64)
        for c in range(n_cells):
            start, rows = cell_start[c], cell_start[c + 1] - cell_start[c]
            for done in range(0, drawn[b, c], _DRAWS):
                count = min(_DRAWS, drawn[b, c] - done)
                _draw_rows(keys[b], first_draw[b, c] + done, rows, rows_drawn, count)
                for i in range(count):
                    out[b, group_of_row[start + rows_drawn[i]], c] += 1


@nb.njit(error_model="numpy", cache=True)
def _draw_rows(key, first, rows, out, count):
    """``out[i]``: row of draw ``first + i`` among ``rows`` rows, for i < count (a separate
    loop from the counting, so the random numbers are computed in SIMD registers)."""
    for i in range(count):
        u = (_mix(key + np.uint64(first + i + 1) * _GOLDEN) >> _S11) * _UNIT
        out[i] = min(int(u * rows), rows - 1)


@nb.njit(parallel=True, error_model="numpy", cache=True)
def facet_sums(replicates, codes, out):
    """``out[b, l, c]`` += the sum of ``replicates[b, g, c]`` over the groups g with level l."""
    n_boot, n_groups, n_cells = replicates.shape
    for b in nb.prange(n_boot):
        for g in range(n_groups):
            for c in range(n_cells):
                out[b, codes[g], c] += replicates[b, g, c]


@nb.njit(error_model="numpy", cache=True)
def _load(counts, b, first, lanes, cells, confusion):
    """``cells[c, lane]`` = ``counts[b, first + lane, c]`` (0 past the last group) and
    ``confusion[k, lane]`` its sum over strata (k = 2 y + ŷ)."""
    for lane in range(cells.shape[1]):
        for c in range(cells.shape[0]):
            cells[c, lane] = counts[b, first + lane, c] if lane < lanes else 0
    confusion[:] = 0.0
    for c in range(cells.shape[0]):
        for lane in range(cells.shape[1]):
            confusion[c % 4, lane] += cells[c, lane]


# --- order statistics ------------------------------------------------------------------------

@nb.njit(error_model="numpy", cache=True)
def _quantile(ascending, negated, count, q):
    """The linear-interpolation ``q`` quantile of ``count`` values, from their smallest values
    in ``ascending`` or their largest, negated, in ``negated`` (NumPy's default method, as in
    ``bias._order_statistic``)."""
    position = max(count - 1, 0) * q
    below = math.floor(position)
    above = min(below + 1, max(count - 1, 0))
    if above < len(ascending):
        low, high = ascending[below], ascending[above]
    else:
        low, high = -negated[count - 1 - below], -negated[count - 1 - above]
    fraction = position - below
    if fraction >= 0.5:
        return high - (high - low) * (1 - fraction)
    return low + (high - low) * fraction


@nb.njit(error_model="numpy", cache=True)
def _buffers(n_smallest, n_largest, n_values):
    """``(smallest, negated largest, count, pair)``: the scratch of :func:`_insert`."""
    return (np.empty((n_smallest, n_values)), np.empty((n_largest, n_values)),
            np.zeros(n_values, dtype=np.int64), np.empty((4, n_values)))


@nb.njit(error_model="numpy", cache=True)
def _reset(scratch):
    smallest, negated, count, _ = scratch
    smallest[:] = math.inf  # padding sorts after every finite value, and is never read
    negated[:] = math.inf
    count[:] = 0


@nb.njit(error_model="numpy", cache=True)
def _insert(values, scratch):
    """Pass two replicates' ``values[0, j]`` and ``values[1, j]`` into the smallest and the
    largest finite values so far.

    The largest are kept negated, so that one merge serves both. Values are the inner,
    contiguous loop (vectorised), and nothing branches on the data, so random replicate
    order never mispredicts.
    """
    smallest, negated, count, pair = scratch
    for j in range(values.shape[1]):
        x, y = values[0, j], values[1, j]
        x_finite, y_finite = abs(x) < math.inf, abs(y) < math.inf  # NaN, ±inf: undefined
        count[j] += x_finite + y_finite
        x_low, y_low = x if x_finite else math.inf, y if y_finite else math.inf
        x_high, y_high = -x if x_finite else math.inf, -y if y_finite else math.inf
        pair[0, j], pair[1, j] = min(x_low, y_low), max(x_low, y_low)
        pair[2, j], pair[3, j] = min(x_high, y_high), max(x_high, y_high)
    _merge(smallest, pair[0], pair[1])
    _merge(negated, pair[2], pair[3])


@nb.njit(error_model="numpy", cache=True)
def _merge(kept, lower, upper):
    """``kept[:, j]`` (ascending) becomes the smallest of itself and ``lower[j] ≤ upper[j]``.

    The i-th smallest of a sorted A and a sorted pair (l, u) is min(A[i], max(A[i−1], l),
    max(A[i−2], u)), with A[−1] = A[−2] = −inf; rows are rewritten from the last, so each
    reads only rows not yet rewritten. Two values cost four min/max and one store per row,
    where inserting them one at a time through a compare-exchange chain costs four and four.
    """
    for i in range(kept.shape[0] - 1, 1, -1):
        for j in range(lower.shape[0]):
            kept[i, j] = min(kept[i, j], max(kept[i - 1, j], lower[j]), max(kept[i - 2, j], upper[j]))
    if kept.shape[0] > 1:
        for j in range(lower.shape[0]):
            kept[1, j] = min(kept[1, j], max(kept[0, j], lower[j]), upper[j])
    for j in range(lower.shape[0]):
        kept[0, j] = min(kept[0, j], lower[j])


@nb.njit(error_model="numpy", cache=True)
def _finish(scratch, low_q, high_q, first, lanes, low, high):
    """Write the ``low_q`` and ``high_q`` quantiles of value ``m · _LANES + lane`` into
    ``low[first + lane, m]`` and ``high[first + lane, m]`` (NaN when none was finite)."""
    smallest, negated, count, _ = scratch
    for m in range(low.shape[1]):
        for lane in range(lanes):
            j, g = m * _LANES + lane, first + lane
            if count[j] == 0:
                low[g, m] = high[g, m] = _NAN
            else:
                low[g, m] = _quantile(smallest[:, j], negated[:, j], count[j], low_q)
                high[g, m] = _quantile(smallest[:, j], negated[:, j], count[j], high_q)


# --- per-group metrics (group_metrics.GROUP_METRICS order) -----------------------------------

@nb.njit(error_model="numpy", cache=True, inline="always")
def _rate(num, den):
    return num / den if den != 0 else 0.0


@nb.njit(error_model="numpy", cache=True, inline="always")
def _present(value, n):
    return value if n > 0 else _NAN  # a group absent from a replicate has no rates


@nb.njit(error_model="numpy", cache=True)
def _group_metrics(confusion, out):
    """``out[m, lane]``: every per-group metric of the counts ``confusion[:, lane]``."""
    for lane in range(confusion.shape[1]):
        tn, fp, fn, tp = (confusion[0, lane], confusion[1, lane], confusion[2, lane],
                          confusion[3, lane])
        n = tn + fp + fn + tp
        tpr, tnr = _rate(tp, tp + fn), _rate(tn, tn + fp)
        has_pos = 1.0 if tp + fn > 0 else 0.0
        has_neg = 1.0 if tn + fp > 0 else 0.0
        out[0, lane] = n
        out[1, lane] = _present(_rate(tp + fn, n), n)
        out[2, lane] = _present(_rate(tp + fp, n), n)
        out[3, lane] = _present(_rate(tp + tn, n), n)
        out[4, lane] = _present(_rate(tpr * has_pos + tnr * has_neg, has_pos + has_neg), n)
        out[5, lane] = _present(_rate(tp, tp + fp), n)
        out[6, lane] = _present(tpr, n)
        out[7, lane] = _present(_rate(2 * tp, 2 * tp + fp + fn), n)
        out[8, lane] = _present(tpr, n)
        out[9, lane] = _present(tnr, n)
        out[10, lane] = _present(_rate(fp, tn + fp), n)
        out[11, lane] = _present(_rate(fn, tp + fn), n)


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
        cells, confusion = np.empty((n_cells, _LANES)), np.empty((4, _LANES))
        values = np.empty((2, n_metrics, _LANES))  # two replicates
        scratch = _buffers(n_smallest, n_largest, n_metrics * _LANES)
        # per lane over the task's passes, then over lanes: (min, max, min large, max large)
        lane_extremes = np.full((n_boot, 4, len(spread_columns), _LANES), _NAN)
        keep = np.empty((2, _LANES))  # 0 where a lane holds a group (a large one), else NaN
        for first in range(task * _TASK, min((task + 1) * _TASK, n_groups), _LANES):
            lanes = min(_LANES, n_groups - first)
            for lane in range(_LANES):
                keep[0, lane] = 0.0 if lane < lanes else _NAN
                keep[1, lane] = 0.0 if lane < lanes and large[first + lane] else _NAN
            _reset(scratch)
            for b in range(0, n_boot, 2):
                for k in range(min(2, n_boot - b)):
                    _load(replicates, b + k, first, lanes, cells, confusion)
                    _group_metrics(confusion, values[k])
                    _fold_lanes(values[k], spread_columns, keep, lane_extremes[b + k])
                if b + 1 == n_boot:
                    values[1] = _NAN  # an odd replicate out: its partner is undefined
                _insert(values.reshape(2, -1), scratch)
            _finish(scratch, low_q, high_q, first, lanes, low, high)
        for b in range(n_boot):
            for k in range(4):
                for i, m in enumerate(spread_columns):
                    for lane in range(_LANES):
                        kept, v = extremes[task, b, k, m], lane_extremes[b, k, i, lane]
                        extremes[task, b, k, m] = _least(kept, v) if k % 2 == 0 else \
                            _most(kept, v)
    return extremes


@nb.njit(error_model="numpy", cache=True, inline="always")
def _least(kept, v):
    """NaN-ignoring min."""
    return v if (kept != kept) | (v < kept) else kept


@nb.njit(error_model="numpy", cache=True, inline="always")
def _most(kept, v):
    """NaN-ignoring max."""
    return v if (kept != kept) | (v > kept) else kept


@nb.njit(error_model="numpy", cache=True)
def _fold_lanes(values, columns, keep, out):
    """Fold metric ``columns[i]`` of every lane into its ``out[:, i, lane]`` = (min, max) of
    all groups, (min, max) of the large ones (``keep``)."""
    for i in range(len(columns)):
        m = columns[i]
        for lane in range(keep.shape[1]):
            v, w = values[m, lane] + keep[0, lane], values[m, lane] + keep[1, lane]
            out[0, i, lane] = _least(out[0, i, lane], v)
            out[1, i, lane] = _most(out[1, i, lane], v)
            out[2, i, lane] = _least(out[2, i, lane], w)
            out[3, i, lane] = _most(out[3, i, lane], w)


# --- Clarify metrics (clarify.clarify_names order) -------------------------------------------

_MANTISSA = np.uint64(2**52 - 1)
_EXPONENT_ZERO = np.uint64(1023 << 52)  # the exponent bits of 1.0
_S52 = np.uint64(52)
_SQRT2 = math.sqrt(2.0)
_LN2 = math.log(2.0)
#: 2 / (2k + 1): ln f = 2 atanh(s) = Σ 2 s^(2k+1) / (2k + 1), s = (f − 1) / (f + 1)
_ATANH = tuple(2.0 / (2 * k + 1) for k in range(11))


@nb.njit(error_model="numpy", cache=True, inline="always")
def _log(x):
    """Natural log of a positive normal float, within 3 ulp of ``math.log``, in operations
    that vectorise: numba has no vector log (without Intel's SVML), and one scalar call keeps
    a whole loop over facets from vectorising.

    x = 2^e f with f in [√½, √2), and ln f = 2 atanh(s) summed to s^21 (Abramowitz & Stegun
    4.1.27; |s| ≤ 0.172, so the first term left out is below 2^-60 of the sum).
    """
    bits = np.float64(x).view(np.uint64)
    exponent = np.float64(np.int64(bits >> _S52) - 1023)
    f = np.uint64((bits & _MANTISSA) | _EXPONENT_ZERO).view(np.float64)  # in [1, 2)
    halve = f > _SQRT2
    f = f * 0.5 if halve else f
    exponent = exponent + 1.0 if halve else exponent
    s = (f - 1.0) / (f + 1.0)
    z = s * s
    series = _ATANH[10]
    for k in range(9, -1, -1):
        series = series * z + _ATANH[k]
    return exponent * _LN2 + s * series


@nb.njit(error_model="numpy", cache=True, inline="always")
def _divide(num, den):
    """Clarify's division: 0/0 = 0, and x/0 = ±inf as IEEE gives it (no denominator here is
    −0). One select, so loops over facets vectorise."""
    return num / den if (num != 0) | (den != 0) else 0.0


@nb.njit(error_model="numpy", cache=True, inline="always")
def _gap(first, second):
    return 0.0 if math.isinf(first) & (first == second) else first - second


@nb.njit(error_model="numpy", cache=True)
def _label_shares(confusion, total, shares):
    """``shares[:, lane]``: the label shares (label 0, label 1) of the rest (a), then of the
    facet (d)."""
    negative, positive = total[0] + total[1], total[2] + total[3]
    for lane in range(confusion.shape[1]):
        neg_d = confusion[0, lane] + confusion[1, lane]
        pos_d = confusion[2, lane] + confusion[3, lane]
        neg_a, pos_a = negative - neg_d, positive - pos_d
        shares[0, lane] = _divide(neg_a, neg_a + pos_a)
        shares[1, lane] = _divide(pos_a, neg_a + pos_a)
        shares[2, lane] = _divide(neg_d, neg_d + pos_d)
        shares[3, lane] = _divide(pos_d, neg_d + pos_d)


@nb.njit(error_model="numpy", cache=True)
def _divergences(shares, out):
    """KL, JS, LP, TVD, KS (``out[2:7, lane]``) of the label distributions a and d.

    Only labels with both shares > 0 enter the sums (undefined when none does), as in
    ``clarify.label_divergences``; two logs per label, not three: log(a/d) = log(a/m) −
    log(d/m).
    """
    for lane in range(shares.shape[1]):
        kl = js = squares = absolute = largest = 0.0
        shared = False
        for label in range(2):
            a, d = shares[label, lane], shares[label + 2, lane]
            both = (a > 0) & (d > 0)
            mid = (a + d) / 2
            above, below = _log(a / mid), _log(d / mid)
            kl += a * (above - below) if both else 0.0
            js += a * above + d * below if both else 0.0
            diff = a - d if both else 0.0
            squares += diff**2
            absolute += abs(diff)
            largest = max(largest, abs(diff))
            shared |= both
        out[2, lane] = kl if shared else _NAN
        out[3, lane] = 0.5 * js if shared else _NAN
        out[4, lane] = math.sqrt(squares) if shared else _NAN
        out[5, lane] = 0.5 * absolute if shared else _NAN
        out[6, lane] = largest if shared else _NAN


@nb.njit(error_model="numpy", cache=True)
def _conditional_disparity(cells, totals, b, positive, out):
    """CDD over strata into ``out[lane]``, splitting by y (``positive`` = 2: CDDL) or by ŷ
    (1: CDDPL)."""
    other = 3 - positive  # the cell of the negative label with the other label positive
    out[:] = 0.0
    sizes = 0.0
    for c in range(0, totals.shape[1], 4):
        all0 = totals[b, c] + totals[b, c + other]
        all1 = totals[b, c + positive] + totals[b, c + 3]
        size = all0 + all1
        for lane in range(out.shape[0]):
            facet0 = cells[c, lane] + cells[c + other, lane]
            facet1 = cells[c + positive, lane] + cells[c + 3, lane]
            out[lane] += size * (_rate(facet0, all0) - _rate(facet1, all1))
        sizes += size
    for lane in range(out.shape[0]):
        out[lane] = _divide(out[lane], sizes)


@nb.njit(error_model="numpy", cache=True)
def _posttraining(confusion, total, out):
    """DPPL, DI, DCA, DCR, SD, RD, DAR, DRR, AD, TE into ``out[:10, lane]``."""
    tn, fp, fn, tp = total[0], total[1], total[2], total[3]
    for lane in range(confusion.shape[1]):
        tn_d, fp_d, fn_d, tp_d = (confusion[0, lane], confusion[1, lane], confusion[2, lane],
                                  confusion[3, lane])
        tn_a, fp_a, fn_a, tp_a = tn - tn_d, fp - fp_d, fn - fn_d, tp - tp_d
        n_d, n_a = tn_d + fp_d + fn_d + tp_d, tn_a + fp_a + fn_a + tp_a
        q_d, q_a = _divide(tp_d + fp_d, n_d), _divide(tp_a + fp_a, n_a)
        out[0, lane] = q_a - q_d
        out[1, lane] = _divide(q_d, q_a)
        out[2, lane] = _gap(_divide(tp_a + fn_a, tp_a + fp_a), _divide(tp_d + fn_d, tp_d + fp_d))
        out[3, lane] = _gap(_divide(tn_d + fp_d, tn_d + fn_d), _divide(tn_a + fp_a, tn_a + fn_a))
        out[4, lane] = _divide(tn_d, tn_d + fp_d) - _divide(tn_a, tn_a + fp_a)
        out[5, lane] = _divide(tp_a, tp_a + fn_a) - _divide(tp_d, tp_d + fn_d)
        out[6, lane] = _divide(tp_a, tp_a + fp_a) - _divide(tp_d, tp_d + fp_d)
        out[7, lane] = _divide(tn_d, tn_d + fn_d) - _divide(tn_a, tn_a + fn_a)
        out[8, lane] = _rate(tp_a + tn_a, n_a) - _rate(tp_d + tn_d, n_d)
        out[9, lane] = _gap(_divide(fn_d, fp_d), _divide(fn_a, fp_a))


@nb.njit(error_model="numpy", cache=True)
def _clarify_metrics(cells, confusion, totals, b, ge, predicted, stratified, scratch, out):
    """``out[k, lane]``: every Clarify metric of facet ``lane`` in replicate b."""
    total, shares, facet_rows = scratch
    total[:] = 0.0
    for c in range(totals.shape[1]):
        total[c % 4] += totals[b, c]
    n = total[0] + total[1] + total[2] + total[3]
    _label_shares(confusion, total, shares)
    _divergences(shares, out)
    for lane in range(confusion.shape[1]):
        n_d = confusion[0, lane] + confusion[1, lane] + confusion[2, lane] + confusion[3, lane]
        n_a = n - n_d
        facet_rows[lane] = n_d
        out[0, lane] = _divide(n_a - n_d, n_a + n_d)
        out[1, lane] = shares[1, lane] - shares[3, lane]
    k = 7
    if stratified:
        _conditional_disparity(cells, totals, b, 2, out[k])
        k += 1
    if predicted:
        _posttraining(confusion, total, out[k:k + 10])
        k += 10
        if stratified:
            _conditional_disparity(cells, totals, b, 1, out[k])
            k += 1
        out[k] = ge[b]
    for row in range(out.shape[0]):
        for lane in range(facet_rows.shape[0]):
            n_d = facet_rows[lane]
            # no facet or no rest in this replicate
            out[row, lane] = _NAN if (n_d == 0) | (n_d == n) else out[row, lane]


@nb.njit(parallel=True, error_model="numpy", cache=True)
def clarify_intervals(facet, totals, ge, predicted, stratified, low_q, high_q, n_smallest,
                      n_largest, low, high):
    """Write the ``low_q`` and ``high_q`` quantiles over replicates of every Clarify metric of
    every facet into ``low[f, k]`` and ``high[f, k]``.

    ``facet[b, f, c]`` counts the facet's rows per cell, ``totals[b, c]`` all rows, ``ge[b]``
    is the generalized entropy of replicate b.
    """
    n_boot, n_facets, n_cells = facet.shape
    n_metrics = low.shape[1]
    for task in nb.prange((n_facets + _TASK - 1) // _TASK):
        cells, confusion = np.empty((n_cells, _LANES)), np.empty((4, _LANES))
        values = np.empty((2, n_metrics, _LANES))  # two replicates
        scratch = (np.empty(4), np.empty((4, _LANES)), np.empty(_LANES))
        selection = _buffers(n_smallest, n_largest, n_metrics * _LANES)
        for first in range(task * _TASK, min((task + 1) * _TASK, n_facets), _LANES):
            lanes = min(_LANES, n_facets - first)
            _reset(selection)
            for b in range(0, n_boot, 2):
                for k in range(min(2, n_boot - b)):
                    _load(facet, b + k, first, lanes, cells, confusion)
                    _clarify_metrics(cells, confusion, totals, b + k, ge, predicted, stratified,
                                     scratch, values[k])
                if b + 1 == n_boot:
                    values[1] = _NAN  # an odd replicate out: its partner is undefined
                _insert(values.reshape(2, -1), selection)
            _finish(selection, low_q, high_q, first, lanes, low, high)
