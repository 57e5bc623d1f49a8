"""Compiled exact two-sample KS tail of :func:`rai_nb.checks.drift.ks_pvalue` (numba; loaded on
first use).

The lattice paths from (0, 0) to (n1, n2) are counted row by row inside the band
``|i·n2 − j·n1| < bound`` only (its width is about ``2·bound / n1`` points, so a small statistic
costs little), and the tail is summed over first exits from the band (Hodges 1958), never taken
as 1 − P(inside).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _log_paths(right, up):
    """log C(right + up, right): lattice paths with ``right`` and ``up`` steps."""
    return math.lgamma(right + up + 1.0) - math.lgamma(right + 1.0) - math.lgamma(up + 1.0)


@nb.njit(cache=True)
def exact_tail(n1, n2, bound):
    """P(a uniformly random path from (0, 0) to (n1, n2) leaves ``|i·n2 − j·n1| < bound``).

    ``n1 <= n2``. Row ``i`` of the inside counts is the running sum of row ``i − 1`` over the
    band (rescaled to its peak, the scale kept as a log). A path first leaves by a step up from
    row ``i − 1`` onto a point left of row ``i``'s band, or by a step right past the band's
    last point; each exit ``p`` adds ``A(p)·C(p → end) / C(all)``.
    """
    log_all = _log_paths(n1, n2)
    row = np.zeros(n2 + 1)
    terms = np.empty(n1 + n2 + 2)  # each column j is left upwards at most once
    t = 0
    high = min(n2, (bound - 1) // n1)
    row[:high + 1] = 1.0
    low, log_scale = 0, 0.0
    if high < n2:
        terms[t] = _log_paths(n1, n2 - high - 1) - log_all
        t += 1
    for i in range(1, n1 + 1):
        below = i * n2 - bound  # j·n1 must exceed it
        new_low = below // n1 + 1 if below >= 0 else 0
        new_high = min(n2, (i * n2 + bound - 1) // n1)
        for j in range(low, min(new_low, high + 1)):  # step up onto the boundary
            if row[j] > 0:
                terms[t] = math.log(row[j]) + log_scale + _log_paths(n1 - i, n2 - j) - log_all
                t += 1
            row[j] = 0.0
        total, peak = 0.0, 0.0
        for j in range(new_low, new_high + 1):
            total += row[j]
            row[j] = total
            peak = max(peak, total)
        if peak == 0:
            break
        for j in range(new_low, new_high + 1):
            row[j] /= peak
        log_scale += math.log(peak)
        low, high = new_low, new_high
        if high < n2:  # step right from the band's last point
            terms[t] = math.log(row[high]) + log_scale + _log_paths(n1 - i, n2 - high - 1) \
                - log_all
            t += 1
    if t == 0:
        return 0.0
    top = terms[:t].max()
    return min(1.0, math.exp(top) * np.exp(terms[:t] - top).sum())
