"""Compiled selection of each row's ``k`` smallest entries of a distance block (numba; loaded on
first use by :mod:`rai_nb.checks.row_drift`)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def smallest_k(block, k, skip):
    """Column positions of the ``k`` smallest entries of each row of ``block``, ascending.

    ``skip[i]`` is a column row ``i`` must not pick (its own position among the points, or -1).
    A row keeps its best ``k`` in a small sorted buffer (insertion), so the block is read once.
    """
    n, m = block.shape
    chosen = np.empty((n, k), dtype=np.int64)
    for i in nb.prange(n):
        best = np.full(k, np.inf, dtype=np.float64)
        where = np.full(k, -1, dtype=np.int64)
        for j in range(m):
            value = block[i, j]
            if value < best[k - 1] and j != skip[i]:
                slot = k - 1
                while slot > 0 and best[slot - 1] > value:
                    best[slot] = best[slot - 1]
                    where[slot] = where[slot - 1]
                    slot -= 1
                best[slot] = value
                where[slot] = j
        chosen[i] = where
    return chosen
