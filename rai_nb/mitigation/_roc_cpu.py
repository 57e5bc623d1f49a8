"""Compiled kernels of the threshold post-processor (numba; loaded on first use).

A group's ROC staircase lists, for every distinct score ``t`` of the group in descending order
(after a first point for ``t = +inf``), the weighted true and false positives of the rule
"predict positive when score >= t". Along a group's points every rate (selection, true and
false positive) is non-decreasing, which the searches below rely on.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def roc_points(order, scores, positive, weights, codes, starts):
    """Every group's ROC staircase from one ascending ``order`` of the scores, in one pass.

    Group g writes its points from ``starts[g]`` on (room for one per row, plus the first);
    ``weights`` is empty for unit weights. Returns ``thresholds``, ``tp`` and ``fp``
    (cumulative weights) and the number of points of each group.
    """
    size = starts[-1]
    thresholds, tp, fp = np.empty(size), np.empty(size), np.empty(size)
    at = starts[:-1].copy()
    thresholds[at] = np.inf
    tp[at] = 0.0
    fp[at] = 0.0
    unit = weights.size == 0
    for k in range(order.size - 1, -1, -1):
        row = order[k]
        g = codes[row]
        i = at[g]
        if scores[row] != thresholds[i]:
            i += 1
            at[g] = i
            thresholds[i] = scores[row]
            tp[i] = tp[i - 1]
            fp[i] = fp[i - 1]
        w = 1.0 if unit else weights[row]
        if positive[row]:
            tp[i] += w
        else:
            fp[i] += w
    return thresholds, tp, fp, at - starts[:-1] + 1


@nb.njit(cache=True)
def hull_vertices(x, y, offsets):
    """Mask of the points on each group's convex hull (upper or lower chain).

    Points of a group are sorted by ``x`` and, at equal ``x``, by ``y`` (a staircase), so
    Andrew's monotone chain needs no sort; collinear and repeated points are left out.
    """
    keep = np.zeros(x.size, np.bool_)
    stack = np.empty(x.size, np.int64)
    for g in range(offsets.size - 1):
        for sign in (1.0, -1.0):  # upper chain, then lower chain
            top = 0
            for i in range(offsets[g], offsets[g + 1]):
                while top >= 2:
                    o, a = stack[top - 2], stack[top - 1]
                    cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
                    if sign * cross < 0:
                        break
                    top -= 1
                stack[top] = i
                top += 1
            for j in range(top):
                keep[stack[j]] = True
    return keep


@nb.njit(cache=True)
def best_window(rate, gain, group_of, starts, ends, tol):
    """One point per group, all rates within ``[b, b + tol]``, maximising the total gain.

    Group g may choose among points ``starts[g]:ends[g]``, whose ``rate`` is non-decreasing.
    The lower end ``b`` sweeps every candidate rate; each group keeps the best point inside
    the window in a monotone queue (indices increasing, gains decreasing), so the sweep is
    linear after one sort. Returns the best total (``-inf`` when no window holds a point of
    every group) and the chosen point of each group.
    """
    n_groups = starts.size
    sizes = ends - starts
    points = np.empty(sizes.sum(), np.int64)
    base = np.zeros(n_groups + 1, np.int64)
    base[1:] = np.cumsum(sizes)
    for g in range(n_groups):
        points[base[g]:base[g + 1]] = np.arange(starts[g], ends[g])
    points = points[np.argsort(rate[points], kind="mergesort")]
    queue = np.empty(points.size, np.int64)
    head, tail = base[:-1].copy(), base[:-1].copy()
    filled, total, best = 0, 0.0, -np.inf
    chosen = np.full(n_groups, -1, np.int64)
    add = drop = 0
    for k in range(points.size):
        low = rate[points[k]]
        if k > 0 and low == rate[points[k - 1]]:
            continue
        while rate[points[drop]] < low:  # points below the lower end leave their queue
            g = group_of[points[drop]]
            while head[g] < tail[g] and rate[queue[head[g]]] < low:
                total -= gain[queue[head[g]]]
                head[g] += 1
                if head[g] < tail[g]:
                    total += gain[queue[head[g]]]
                else:
                    filled -= 1
            drop += 1
        while add < points.size and rate[points[add]] <= low + tol:
            p = points[add]
            g = group_of[p]
            if head[g] < tail[g]:
                total -= gain[queue[head[g]]]
            else:
                filled += 1
            while head[g] < tail[g] and gain[queue[tail[g] - 1]] <= gain[p]:
                tail[g] -= 1
            queue[tail[g]] = p
            tail[g] += 1
            total += gain[queue[head[g]]]
            add += 1
        if filled == n_groups and total > best:
            exact = 0.0
            for g in range(n_groups):
                exact += gain[queue[head[g]]]
            if exact > best:
                best = exact
                for g in range(n_groups):
                    chosen[g] = queue[head[g]]
    return best, chosen


@nb.njit(cache=True)
def best_box(fpr, tpr, gain, group_of, offsets, tol):
    """:func:`best_window` in two rates: every chosen point's false and true positive rates
    within ``[a, a + tol]`` and ``[b, b + tol]``.

    The lower end ``a`` sweeps every distinct false positive rate; a group's points with
    false positive rate in ``[a, a + tol]`` are a contiguous run of its staircase, and the
    true positive window is searched among those runs. Cost: O(distinct rates × points).
    """
    n_groups = offsets.size - 1
    lows = np.unique(fpr)
    starts, ends = offsets[:-1].copy(), offsets[:-1].copy()
    best, chosen = -np.inf, np.full(n_groups, -1, np.int64)
    for a in lows:
        feasible = True
        for g in range(n_groups):
            while starts[g] < offsets[g + 1] and fpr[starts[g]] < a:
                starts[g] += 1
            ends[g] = max(ends[g], starts[g])
            while ends[g] < offsets[g + 1] and fpr[ends[g]] <= a + tol:
                ends[g] += 1
            feasible = feasible and ends[g] > starts[g]
        if feasible:
            total, picks = best_window(tpr, gain, group_of, starts, ends, tol)
            if total > best:
                best, chosen = total, picks
    return best, chosen


@nb.njit(cache=True)
def distinct_codes(scores, cap):
    """Each score's position among the distinct scores in first-seen order, by hashing.

    Returns ``codes`` (int32 per row) and the distinct values, or an empty ``codes`` as soon as
    more than ``cap`` distinct values are seen (then sorting is the cheaper way). ``-0.0`` and
    ``0.0`` are one value, as they compare equal.
    """
    size = 1
    while size < 2 * cap + 2:
        size *= 2
    mask = np.uint64(size - 1)
    slots = np.full(size, -1, np.int32)
    values = np.empty(cap + 1)
    bits = np.empty(1, np.float64)
    as_int = bits.view(np.uint64)
    codes = np.empty(scores.size, np.int32)
    found = 0
    for row in range(scores.size):
        x = scores[row]
        bits[0] = x if x != 0.0 else 0.0
        slot = ((as_int[0] * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & mask
        while slots[slot] >= 0 and values[slots[slot]] != x:
            slot = (slot + np.uint64(1)) & mask
        if slots[slot] < 0:
            if found == cap:
                return np.empty(0, np.int32), values[:0]
            slots[slot] = found
            values[found] = x
            found += 1
        codes[row] = slots[slot]
    return codes, values[:found]


@nb.njit(cache=True)
def tally(codes, groups, positive, weights, n_values, n_groups):
    """Weighted negatives, positives and rows of each (group, value): shape (G, V, 3).

    ``weights`` is empty for unit weights.
    """
    out = np.zeros((n_groups, n_values, 3))
    unit = weights.size == 0
    for row in range(codes.size):
        g, v = groups[row], codes[row]
        out[g, v, positive[row]] += 1.0 if unit else weights[row]
        out[g, v, 2] += 1.0
    return out
