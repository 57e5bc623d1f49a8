"""Slice Finder's tests of a slice against its complement, and false-discovery control.

Chung, Kraska, Polyzotis, Tae & Whang, "Slice Finder: Automated Data Slicing for Model
Validation", ICDE 2019 (and the TKDE version, arXiv:1807.06068): a slice is interesting when
its loss exceeds the loss of the other rows by a large effect size

    φ = (μ_S − μ_S') / sqrt((σ²_S + σ²_S') / 2),

and significant when Welch's t-test rejects "the slice's mean loss is not larger" after
false-discovery control. Everything here is host math on per-slice moments (count, sum and
sum of squares of the loss), so the rows are read only once, by the kernel that sums them.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_ALTERNATIVES = ("greater", "less", "two-sided")


def mean_variance(count, total, squares):
    """Mean and sample variance (ddof=1) from count, sum and sum of squares.

    Pass moments of values shifted by a constant close to their mean (the kernels use the
    overall mean loss) so the subtraction below does not cancel catastrophically.
    """
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
        variance = np.maximum(squares - total * mean, 0.0) / (count - 1)
    return mean, np.where(count > 1, variance, np.nan)


def effect_size(mean, variance, other_mean, other_variance):
    """Slice Finder's effect size φ of a slice against its complement."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (mean - other_mean) / np.sqrt((variance + other_variance) / 2)


def welch_test(mean, variance, count, other_mean, other_variance, other_count, *,
               alternative: str = "greater"):
    """Welch's unequal-variance t-test from the two samples' means, variances and sizes.

    Returns ``(t, df, p_value)``; equals ``scipy.stats.ttest_ind(a, b, equal_var=False,
    alternative=...)`` on the raw samples.
    """
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = variance / count, other_variance / other_count
        t = (mean - other_mean) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (count - 1) + b**2 / (other_count - 1))
    if alternative == "greater":
        p = special.stdtr(df, -t)
    elif alternative == "less":
        p = special.stdtr(df, t)
    else:
        p = 2 * special.stdtr(df, -np.abs(t))
    return t, df, np.where(np.isnan(t) | np.isnan(df), np.nan, p)


def benjamini_hochberg(p_values, level: float) -> np.ndarray:
    """Rejections of the Benjamini–Hochberg step-up procedure at FDR ``level``: the p-values at
    or below :func:`benjamini_hochberg_levels`' cutoff.

    Missing p-values (NaN) are never rejected and do not count as tests.
    """
    return np.asarray(p_values, dtype=np.float64) <= benjamini_hochberg_levels(p_values, level)


def benjamini_hochberg_levels(p_values, level: float) -> np.ndarray:
    """The step-up cutoff ``level · k / m`` beside each p-value (NaN beside a missing one).

    ``m`` counts the non-missing p-values and ``k`` is the largest rank whose ordered p-value is
    at most ``level · k / m`` (0 when there is none: the cutoff is 0 and nothing is rejected,
    since a p-value of 0 would pass at rank 1).
    """
    p = np.asarray(p_values, dtype=np.float64)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    ordered = np.sort(p[tested])
    passed = np.flatnonzero(ordered <= level * np.arange(1, m + 1) / max(m, 1))
    k = passed[-1] + 1 if len(passed) else 0
    return np.where(tested, level * k / max(m, 1), np.nan)


def alpha_investing(p_values, level: float) -> np.ndarray:
    """Rejections of α-investing (Foster & Stine, JRSS-B 2008) over tests in the given order.

    Wealth starts at ``level``; each test is run at level ``W / (1 + W)``, all the wealth the
    rule allows (the "best-foot-forward" policy, suited to tests ranked from most to least
    promising, as the reported slices are); a rejection earns ``level``, an acceptance costs
    ``α_j / (1 - α_j) = W``. So after ``j`` rejections the wealth is ``(j + 1) · level`` and the
    first acceptance spends it all: the rejections are the leading run of tests that pass.
    """
    p = np.asarray(p_values, dtype=np.float64)
    wealth = level * np.arange(1, len(p) + 1)
    passed = p <= wealth / (1 + wealth)
    return np.cumprod(passed).astype(bool)


def alpha_investing_levels(p_values, level: float) -> np.ndarray:
    """The level :func:`alpha_investing` tests each p-value at: ``W / (1 + W)`` up to and
    including the first acceptance, NaN after it (the wealth is spent, no test is run)."""
    p = np.asarray(p_values, dtype=np.float64)
    wealth = level * np.arange(1, len(p) + 1)
    tested = np.concatenate([[True], alpha_investing(p, level)[:-1]]) if len(p) else \
        np.zeros(0, dtype=bool)
    return np.where(tested, wealth / (1 + wealth), np.nan)
