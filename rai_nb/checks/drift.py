"""Two-sample drift statistics: per column from sorted values or counts, and multivariate MMD.

Numeric columns arrive sorted (missing values removed), so the Kolmogorov–Smirnov statistic and
the Wasserstein-1 distance come from one linear merge of the two samples, and the
reference-quantile histograms behind PSI and Jensen–Shannon from ``searchsorted`` on the
device; categorical columns arrive as count vectors over a shared vocabulary. P-values and
divergences are host math on the small results.

Infinities are values, ordered below (−inf) or above (+inf) every finite one, as in
``scipy.stats.ks_2samp``: they move the ECDFs, land in the outer histogram bins, and make the
Wasserstein-1 distance infinite when the two samples hold different shares of them (the area
between the ECDFs is then unbounded); with equal shares it is the finite area between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..backend import bincount, namespace, to_device, to_host

#: ``method="auto"`` computes the exact KS p-value up to this many rows per sample (as scipy).
KS_EXACT_MAX_ROWS = 10_000
#: Empty bins count as this share in PSI, so that log(0) never occurs (Evidently's choice).
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class NumericDrift:
    """Drift statistics of one numeric column, reference vs current."""

    ks: float
    ks_pvalue: float
    wasserstein: float
    #: Wasserstein-1 divided by the reference standard deviation (Evidently's normed distance).
    wasserstein_norm: float
    psi: float
    jensen_shannon: float


@dataclass(frozen=True)
class CategoricalDrift:
    """Drift statistics of one categorical column, reference vs current."""

    chi2: float
    chi2_pvalue: float
    dof: int
    jensen_shannon: float
    psi: float


def ks_statistic(a_sorted, b_sorted, *, xp=None) -> float:
    """Two-sided KS statistic ``sup |F_a − F_b|`` of two sorted samples (ties handled exactly)."""
    return _ks_and_wasserstein(a_sorted, b_sorted, namespace(a_sorted, b_sorted, xp=xp))[0]


def _merged_gap(a_sorted, b_sorted, xp, *, before=(0, 0), sizes=None):
    """Pooled sorted values and ``F_a − F_b`` just after each of them (except within ties).

    A stable argsort of the two concatenated sorted runs is a linear merge (timsort on NumPy,
    radix sort on CuPy); running counts of each sample's members give both ECDFs. ``before``
    counts each sample's values below these runs and ``sizes`` are the full sample sizes, for
    runs that are one stretch of larger samples (the default: the runs are the samples).
    """
    n_a, n_b = sizes if sizes is not None else (a_sorted.shape[0], b_sorted.shape[0])
    pooled = xp.concat([a_sorted, b_sorted])
    order = xp.argsort(pooled, stable=True)
    values = xp.take(pooled, order)
    from_a = xp.astype(order < a_sorted.shape[0], xp.float64)
    count_a = xp.cumulative_sum(from_a)
    count_b = xp.astype(xp.arange(1, values.shape[0] + 1), xp.float64) - count_a
    return values, (count_a + before[0]) / n_a - (count_b + before[1]) / n_b


def _ks_and_wasserstein(a_sorted, b_sorted, xp) -> tuple[float, float]:
    """KS and W1 of two sorted samples that may hold ±inf at their ends.

    The finite values are merged with the −inf counts as the ECDFs' start, so the gap just
    after −inf (constant down to −inf) joins the KS candidates; the gap below +inf is the one
    after the last finite value, already among them.
    """
    n_a, n_b = a_sorted.shape[0], b_sorted.shape[0]
    (a, low_a, high_a), (b, low_b, high_b) = infinite_ends(a_sorted, xp), infinite_ends(b_sorted, xp)
    ks, area = abs(low_a / n_a - low_b / n_b), 0.0
    if a.shape[0] + b.shape[0]:
        values, gap = _merged_gap(a, b, xp, before=(low_a, low_b), sizes=(n_a, n_b))
        inner, area = _gap_max_and_area(values, gap, xp)
        ks = max(ks, inner)
    if low_a * n_b != low_b * n_a or high_a * n_b != high_b * n_a:
        area = math.inf  # the ECDFs differ on an unbounded stretch
    return ks, area


def infinite_ends(sorted_values, xp):
    """``(finite values, number of −inf, number of +inf)`` of a sorted sample."""
    n = sorted_values.shape[0]
    ends = to_device(np.array([-np.inf, np.inf]), xp)
    low = int(to_host(xp.searchsorted(sorted_values, ends[:1], side="right"))[0])
    high = n - int(to_host(xp.searchsorted(sorted_values, ends[1:], side="left"))[0])
    return sorted_values[low:n - high], low, high


def _gap_max_and_area(values, gap, xp) -> tuple[float, float]:
    """``max |gap|`` over completed ECDF steps and ``Σ |gap| · step`` between the values."""
    step = values[1:] - values[:-1]
    # The ECDFs are only complete after the last member of a run of ties.
    last_of_tie = xp.concat([step != 0, xp.ones(1, dtype=xp.bool)])
    ks = xp.max(xp.where(last_of_tie, xp.abs(gap), 0.0))
    # Within a run of ties the step is 0, so the incomplete gaps there do not count.
    w = xp.sum(xp.abs(gap[:-1]) * step)
    return float(to_host(ks)), float(to_host(w))


def stretch_ks_and_wasserstein(a_sorted, b_sorted, *, low: float, high: float, before,
                               sizes, xp=None) -> tuple[float, float]:
    """KS and Wasserstein-1 contributions of the stretch ``(low, high]`` of two larger samples.

    ``a_sorted``, ``b_sorted``: the samples' values in the stretch (not both empty); ``before``:
    each sample's count at or below ``low``; ``sizes``: the full sample sizes. Returns
    ``sup |F_a − F_b|`` over the stretch's values and ``∫_low^high |F_a − F_b| dx``.
    """
    xp = namespace(a_sorted, b_sorted, xp=xp)
    values, gap = _merged_gap(a_sorted, b_sorted, xp, before=before, sizes=sizes)
    ks, inner = _gap_max_and_area(values, gap, xp)
    start = abs(before[0] / sizes[0] - before[1] / sizes[1])
    first, last = float(to_host(values[0])), float(to_host(values[-1]))
    return ks, inner + start * (first - low) + abs(float(to_host(gap[-1]))) * (high - last)


def ks_pvalue(d: float, n1: int, n2: int, *, method: str = "auto") -> float:
    """Two-sided p-value of KS statistic ``d`` for samples of sizes ``n1`` and ``n2``.

    ``exact`` counts the lattice paths that stay within ``d`` of the diagonal (Hodges 1958);
    ``asymp`` uses the one-sample distribution at ``n1·n2/(n1+n2)`` rounded, as scipy does;
    ``auto`` is exact up to :data:`KS_EXACT_MAX_ROWS` rows per sample.
    """
    if method == "auto":
        method = "exact" if max(n1, n2) <= KS_EXACT_MAX_ROWS else "asymp"
    if method == "asymp":
        from scipy.stats import kstwo

        big, small = max(n1, n2), min(n1, n2)
        return float(np.clip(kstwo.sf(d, round(big * small / (big + small))), 0.0, 1.0))
    return _ks_exact_pvalue(d, n1, n2)


def _ks_exact_pvalue(d: float, n1: int, n2: int) -> float:
    """P(a uniformly random lattice path from (0,0) to (n1,n2) leaves |i/n1 − j/n2| < d).

    Computed as the tail itself, never as 1 − P(inside) (which loses every digit below ~1e-16):
    a path that leaves the band does so at one first point ``p``, so the tail is
    Σ_p A(p)·C(p → end) / C(all), where A(p) counts paths that stay inside until they step onto
    ``p`` (Hodges 1958's first-passage decomposition). ``d`` is first rounded to the lattice (a
    multiple of 1/lcm). The counts run in :mod:`._ks_cpu` (compiled, over the band only).
    """
    from ._ks_cpu import exact_tail

    if n1 > n2:
        n1, n2 = n2, n1
    g = math.gcd(n1, n2)
    lcm = (n1 // g) * n2
    h = round(d * lcm)
    if h == 0:
        return 1.0
    return float(exact_tail(n1, n2, h * g))  # inside ⇔ |i·n2 − j·n1| < h·g


def wasserstein_distance(a_sorted, b_sorted, *, xp=None) -> float:
    """Wasserstein-1 distance ``∫ |F_a − F_b| dx`` of two sorted samples."""
    return _ks_and_wasserstein(a_sorted, b_sorted, namespace(a_sorted, b_sorted, xp=xp))[1]


def quantile(sorted_values, q, *, xp=None):
    """Quantiles ``q`` (host array in [0, 1]) of a sorted sample, linear interpolation (NumPy's)."""
    xp = namespace(sorted_values, xp=xp)
    low, high, weight = quantile_ranks(sorted_values.shape[0], q)
    lo_v = to_host(xp.take(sorted_values, to_device(low, xp)))
    hi_v = to_host(xp.take(sorted_values, to_device(high, xp)))
    return interpolate(lo_v, hi_v, weight)


def quantile_ranks(n: int, q) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks (0-based) of the order statistics around quantiles ``q`` of ``n`` values, and the
    interpolation weight of the upper one (:func:`quantile` = :func:`interpolate` of them)."""
    position = np.asarray(q, dtype=np.float64) * (n - 1)
    low = np.floor(position).astype(np.int64)
    return low, np.minimum(low + 1, n - 1), position - low


def interpolate(low_values, high_values, weight) -> np.ndarray:
    """Linear interpolation between the order statistics of :func:`quantile_ranks`.

    Between an infinite and another value it is the infinite end (the limit of the formula);
    between −inf and +inf, the nearer one. NumPy's ``quantile`` gives NaN in some of these.
    """
    low, high = np.asarray(low_values, np.float64), np.asarray(high_values, np.float64)
    weight = np.asarray(weight, np.float64)
    finite = np.isfinite(low) & np.isfinite(high)
    out = np.where(finite, low, 0.0) + (np.where(finite, high, 0.0) - np.where(finite, low, 0.0)) \
        * weight
    infinite = np.where(np.isinf(low) & ((low == high) | np.isfinite(high) | (weight < 0.5)),
                        low, high)
    out = np.where(finite, out, infinite)
    return np.where(weight == 0, low, out)


def bin_edges(ref_sorted, n_bins: int, *, xp=None) -> np.ndarray:
    """Distinct inner edges at the reference's quantiles ``1/n_bins, …, (n_bins−1)/n_bins``.

    Bins are ``(−∞, e₁], (e₁, e₂], …, (e_k, ∞)``, so current values outside the reference
    range still land in a bin.
    """
    return np.unique(quantile(ref_sorted, bin_quantiles(n_bins), xp=xp))


def bin_quantiles(n_bins: int) -> np.ndarray:
    """The quantile levels behind :func:`bin_edges`."""
    return np.arange(1, n_bins) / n_bins


def histogram(values, edges: np.ndarray, *, xp=None) -> np.ndarray:
    """Counts of an unsorted sample without missing values in the bins of :func:`bin_edges`."""
    xp = namespace(values, xp=xp)
    codes = xp.searchsorted(to_device(edges, xp), values, side="left")
    return to_host(bincount(xp.astype(codes, xp.int64), minlength=edges.size + 1, xp=xp))


def sorted_histogram(sorted_values, edges: np.ndarray, *, xp=None) -> np.ndarray:
    """Counts of a sorted sample in the bins of :func:`bin_edges` (host int64)."""
    xp = namespace(sorted_values, xp=xp)
    cut = to_host(xp.searchsorted(sorted_values, to_device(edges, xp), side="right"))
    return np.diff(np.concatenate([[0], cut, [sorted_values.shape[0]]])).astype(np.int64)


def chi2_homogeneity(ref_counts, cur_counts) -> tuple[float, float, int]:
    """Pearson χ² test that two count vectors share one distribution (a 2 × k table).

    Categories absent from both are dropped; with one degree of freedom Yates' continuity
    correction is applied, as in ``scipy.stats.chi2_contingency``. Returns (χ², p, dof).
    """
    from scipy import special

    table = np.stack([np.asarray(ref_counts, np.float64), np.asarray(cur_counts, np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1:
        return 0.0, 1.0, 0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if dof == 1:
        diff = expected - table
        table = table + np.sign(diff) * np.minimum(0.5, np.abs(diff))
    stat = float(((table - expected) ** 2 / expected).sum())
    return stat, float(special.chdtrc(dof, stat)), dof


def jensen_shannon(p_counts, q_counts) -> float:
    """Jensen–Shannon *distance* (square root of the divergence, natural log) of two histograms.

    Lin (1991); the same quantity as ``scipy.spatial.distance.jensenshannon``.
    """
    p = np.asarray(p_counts, np.float64)
    q = np.asarray(q_counts, np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = (_rel_entr(p, m).sum() + _rel_entr(q, m).sum()) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def _rel_entr(p, m):
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * np.log(safe / np.where(m > 0, m, 1.0)), 0.0)


def psi(ref_counts, cur_counts, *, floor: float = PSI_FLOOR) -> float:
    """Population stability index ``Σ (c − r)·ln(c / r)`` over bins (shares floored at ``floor``).

    Siddiqi (2006), *Credit Risk Scorecards*; Yurdakul (2018) for its sampling distribution.
    """
    r = np.asarray(ref_counts, np.float64)
    c = np.asarray(cur_counts, np.float64)
    r = np.maximum(r / r.sum(), floor)
    c = np.maximum(c / c.sum(), floor)
    return float(((c - r) * np.log(c / r)).sum())


def numeric_drift(ref_sorted, cur_sorted, *, n_bins: int = 10, ks_method: str = "auto",
                  xp=None) -> NumericDrift:
    """All numeric drift statistics of two sorted, non-empty samples without missing values.

    PSI and Jensen–Shannon use ``n_bins`` reference-quantile bins (:func:`bin_edges`); the
    normed Wasserstein distance divides by the standard deviation of the finite reference values.
    """
    xp = namespace(ref_sorted, cur_sorted, xp=xp)
    d, w = _ks_and_wasserstein(ref_sorted, cur_sorted, xp)
    finite = infinite_ends(ref_sorted, xp)[0]
    std = float(to_host(xp.std(finite))) if finite.shape[0] else 0.0
    edges = bin_edges(ref_sorted, n_bins, xp=xp)
    return numeric_drift_from(d, w, std, sorted_histogram(ref_sorted, edges, xp=xp),
                              sorted_histogram(cur_sorted, edges, xp=xp), ks_method=ks_method)


def numeric_drift_from(ks: float, wasserstein: float, ref_std: float, ref_hist, cur_hist, *,
                       ks_method: str = "auto") -> NumericDrift:
    """:class:`NumericDrift` from its sufficient statistics: KS, W1, the reference's standard
    deviation and both histograms over the reference-quantile bins (sample sizes = their sums)."""
    n1, n2 = int(np.sum(ref_hist)), int(np.sum(cur_hist))
    # Evidently's guard for a constant reference: divide by at least 0.001.
    return NumericDrift(ks, ks_pvalue(ks, n1, n2, method=ks_method), wasserstein,
                        wasserstein / max(ref_std, 1e-3), psi(ref_hist, cur_hist),
                        jensen_shannon(ref_hist, cur_hist))


def categorical_drift(ref_counts, cur_counts) -> CategoricalDrift:
    """All categorical drift statistics of two count vectors over one vocabulary."""
    stat, p, dof = chi2_homogeneity(ref_counts, cur_counts)
    return CategoricalDrift(stat, p, dof, jensen_shannon(ref_counts, cur_counts),
                            psi(ref_counts, cur_counts))
