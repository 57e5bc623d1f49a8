"""Multivariate drift: maximum mean discrepancy with an RBF kernel and a permutation test.

Gretton, Borgwardt, Rasch, Schölkopf and Smola (2012), "A Kernel Two-Sample Test", JMLR 13:
unbiased MMD² (their eq. 3), Gaussian kernel with the median-distance bandwidth, and a
permutation null. All permutations are scored in one pass over the kernel matrix: for each block
of rows ``K_B`` the products ``K_B @ A`` with the (rows × permutations) membership matrix ``A``
give every permuted within-sample sum at once, so the kernel is never stored whole and the work
is matrix products on the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import namespace, to_device, to_host

#: Rows used to estimate the median pairwise distance (the bandwidth).
BANDWIDTH_SAMPLE = 1000
#: Entries of one kernel block (rows × all points); bounds memory at 8 bytes each.
BLOCK_ENTRIES = 1 << 24


@dataclass(frozen=True)
class MMDTest:
    """Unbiased MMD² of two samples, its permutation p-value and the kernel bandwidth used."""

    statistic: float
    pvalue: float
    bandwidth: float
    n_permutations: int


def median_bandwidth(points, *, rng: np.random.Generator, xp=None) -> float:
    """Median Euclidean distance between distinct pairs of (a sample of) ``points``."""
    xp = namespace(points, xp=xp)
    n = points.shape[0]
    if n > BANDWIDTH_SAMPLE:
        rows = to_device(np.sort(rng.choice(n, BANDWIDTH_SAMPLE, replace=False)), xp)
        points = xp.take(points, rows, axis=0)
    squared = to_host(_squared_distances(points, points, xp))
    upper = squared[np.triu_indices(squared.shape[0], k=1)]
    median = float(np.sqrt(np.median(upper))) if upper.size else 0.0
    return median if median > 0 else 1.0


def _squared_distances(a, b, xp):
    cross = a @ b.T
    a2 = xp.sum(a * a, axis=1)
    b2 = xp.sum(b * b, axis=1)
    return xp.clip(a2[:, None] + b2[None, :] - 2 * cross, 0, None)


def mmd_test(x, y, *, n_permutations: int = 200, bandwidth: float | None = None,
             random_state=None, xp=None) -> MMDTest:
    """Permutation test of ``x`` and ``y`` (rows are points) coming from one distribution.

    Parameters
    ----------
    x, y : arrays of float, shapes (m, d) and (n, d), m, n ≥ 2
    n_permutations : int
        Random relabellings; the p-value is ``(1 + #{MMD²_perm ≥ MMD²}) / (1 + n_permutations)``.
    bandwidth : float, optional
        σ of ``k(a, b) = exp(−‖a − b‖² / 2σ²)``; default the median pairwise distance.
    random_state : int or numpy.random.Generator, optional
        Seed of the bandwidth sample and the relabellings, which are drawn over the rows in
        the order given: callers that want a result free of row order pass the rows in a
        canonical order (``rai_nb.drift`` uses :mod:`rai_nb.frame._sampling`).

    Returns
    -------
    MMDTest
    """
    xp = namespace(x, y, xp=xp)
    rng = np.random.default_rng(random_state)
    m, n = x.shape[0], y.shape[0]
    points = xp.concat([xp.astype(x, xp.float64), xp.astype(y, xp.float64)], axis=0)
    sigma = bandwidth if bandwidth is not None else median_bandwidth(points, rng=rng, xp=xp)
    labels = np.zeros((n_permutations + 1, m + n), dtype=np.float64)
    labels[:, :m] = 1.0
    labels[1:] = rng.permuted(labels[1:], axis=1)
    member = to_device(np.ascontiguousarray(labels.T), xp)
    within, row_sums, total = _kernel_sums(points, member, sigma, xp)
    # a'Ka = Σ_xx k (with diagonal), r = a'K1, Σ_xy = r − a'Ka, Σ_yy = 1'K1 − 2r + a'Ka.
    s_xx = within - m
    s_xy = row_sums - within
    s_yy = total - 2 * row_sums + within - n
    stats = s_xx / (m * (m - 1)) + s_yy / (n * (n - 1)) - 2 * s_xy / (m * n)
    pvalue = (1 + np.count_nonzero(stats[1:] >= stats[0])) / (1 + n_permutations)
    return MMDTest(float(stats[0]), float(pvalue), float(sigma), int(n_permutations))


def _kernel_sums(points, member, sigma: float, xp):
    """``diag(AᵀKA)``, ``AᵀK1`` and ``1ᵀK1`` over row blocks of the kernel matrix ``K``."""
    total_rows = points.shape[0]
    block = max(1, BLOCK_ENTRIES // total_rows)
    within = np.zeros(member.shape[1])
    row_sums = np.zeros(member.shape[1])
    total = 0.0
    scale = -1.0 / (2.0 * sigma * sigma)
    for start in range(0, total_rows, block):
        rows = slice(start, min(start + block, total_rows))
        kernel = xp.exp(_squared_distances(points[rows, :], points, xp) * scale)
        k_member = kernel @ member
        within += to_host(xp.sum(member[rows, :] * k_member, axis=0))
        row_sums += to_host(xp.sum(k_member, axis=0))  # 1ᵀKA = (AᵀK1)ᵀ as K is symmetric
        total += float(to_host(xp.sum(kernel)))
    return within, row_sums, total
