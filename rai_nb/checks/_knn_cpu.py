"""Compiled selection of each row's ``k`` smallest entries of a distance block (numba; loaded on
first use by :mod:`rai_nb.checks.row_drift`)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def smallest_k(gram, norms, k, skip):
    """Column positions of the ``k`` smallest ``norms[j] − 2·gram[i, j]`` of each row ``i``
    (squared distances less the row's own norm, which does not change the order), ascending.

    ``skip[i]`` is a column row ``i`` must not pick (its own position among the points, or -1).
    A row keeps its best ``k`` in a small sorted buffer (insertion), so ``gram`` is read once.
    """
    n, m = gram.shape
    chosen = np.empty((n, k), dtype=np.int64)
    for i in nb.prange(n):
        best = np.full(k, np.inf, dtype=np.float64)
        where = np.full(k, -1, dtype=np.int64)
        for j in range(m):
            value = norms[j] - 2.0 * gram[i, j]
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
