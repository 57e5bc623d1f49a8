"""Drift kernels against scipy (KS, Wasserstein, χ², Jensen–Shannon) and brute force (PSI, MMD)."""

from __future__ import annotations

import itertools
import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import cdist, jensenshannon

import rai_nb
from rai_nb.backend import to_device
from rai_nb.checks import drift as kd
from rai_nb.checks.mmd import mmd_test

# Rounded values so that ties (the hard case for KS and Wasserstein) are frequent.
samples = hnp.arrays(np.float64, st.integers(1, 60),
                     elements=st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 0)))
counts = hnp.arrays(np.int64, st.integers(2, 8), elements=st.integers(0, 40))
# The same with infinities mixed in (NaN is missing: it never reaches the kernels).
with_infinities = hnp.arrays(np.float64, st.integers(1, 40), elements=st.one_of(
    st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 0)),
    st.sampled_from([-np.inf, np.inf])))


def brute_ks_pvalue(d, n1, n2):
    """Share of all orderings of n1 + n2 values whose KS statistic reaches ``d``."""
    reached = []
    for chosen in itertools.combinations(range(n1 + n2), n1):
        step = np.zeros(n1 + n2)
        step[list(chosen)] = 1
        i, j = np.cumsum(step), np.cumsum(1 - step)
        reached.append(np.abs(i / n1 - j / n2).max() >= d - 1e-12)
    return np.mean(reached)


@settings(max_examples=200, deadline=None)
@given(samples, samples)
def test_ks_and_wasserstein_equal_scipy(a, b):
    a, b = np.sort(a), np.sort(b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = stats.ks_2samp(a, b)
    d = kd.ks_statistic(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    if not caught:
        assert kd.ks_pvalue(d, a.size, b.size) == pytest.approx(expected.pvalue, abs=1e-9)
    elif math.comb(a.size + b.size, a.size) <= 5000:  # scipy's exact count overflowed
        assert kd.ks_pvalue(d, a.size, b.size) == pytest.approx(
            brute_ks_pvalue(d, a.size, b.size), abs=1e-9)
    assert kd.wasserstein_distance(a, b) == pytest.approx(stats.wasserstein_distance(a, b),
                                                          abs=1e-9)


def shares_differ(a, b, end) -> bool:
    return int((a == end).sum()) * b.size != int((b == end).sum()) * a.size


@settings(max_examples=200, deadline=None)
@given(with_infinities, with_infinities)
def test_infinities_are_ordered_values_as_in_scipy(a, b):
    """KS as scipy's (inf above every finite value); W1 is inf when the shares of an infinity
    differ (scipy's answer where it does not compute inf − inf) and otherwise the finite area,
    which moving every infinity to one far finite point does not change."""
    a, b = np.sort(a), np.sort(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's note when its exact p-value count overflows
        expected = stats.ks_2samp(a, b).statistic
    assert kd.ks_statistic(a, b) == pytest.approx(expected, abs=1e-12)
    w = kd.wasserstein_distance(a, b)
    if shares_differ(a, b, -np.inf) or shares_differ(a, b, np.inf):
        assert w == np.inf
        pooled = np.concatenate([a, b])
        if (pooled == -np.inf).sum() <= 1 and (pooled == np.inf).sum() <= 1:  # else inf − inf
            assert stats.wasserstein_distance(a, b) == np.inf
    else:
        far = np.clip(a, -1e3, 1e3), np.clip(b, -1e3, 1e3)
        assert w == pytest.approx(stats.wasserstein_distance(*far), abs=1e-9)


def test_quantiles_between_infinities_are_their_limits():
    low = np.array([1.0, -np.inf, -np.inf, -np.inf, np.inf, 1.0, -np.inf])
    high = np.array([np.inf, 1.0, np.inf, np.inf, np.inf, 2.0, 3.0])
    weight = np.array([0.3, 0.3, 0.3, 0.7, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(kd.interpolate(low, high, weight),
                                  [np.inf, -np.inf, -np.inf, np.inf, np.inf, 1.5, -np.inf])
    values = np.array([-np.inf, -np.inf, -np.inf, 0.0, 1.0, np.inf, np.inf, np.inf])
    edges = kd.bin_edges(values, 4)
    np.testing.assert_array_equal(edges, [-np.inf, 0.5, np.inf])
    np.testing.assert_array_equal(kd.sorted_histogram(values, edges), kd.histogram(values, edges))


@pytest.mark.parametrize("n1, n2", [(1, 8), (4, 4), (3, 5), (6, 9), (7, 5)])
def test_exact_ks_pvalue_equals_brute_force_at_every_lattice_statistic(n1, n2):
    """Every attainable statistic, band edges included, against counting all orderings."""
    lcm = math.lcm(n1, n2)
    for h in range(lcm + 1):
        d = h / lcm
        assert kd.ks_pvalue(d, n1, n2, method="exact") == pytest.approx(
            brute_ks_pvalue(d, n1, n2), abs=1e-12)


@pytest.mark.parametrize("sizes", [(400, 400), (731, 509), (3000, 2500), (12000, 9000)])
def test_ks_pvalue_equals_scipy_exact_and_asymptotic(sizes):
    rng = np.random.default_rng(sum(sizes))
    a = np.sort(rng.normal(size=sizes[0]).round(2))
    b = np.sort(rng.normal(0.05, size=sizes[1]).round(2))
    d = kd.ks_statistic(a, b)
    for method in ("exact", "asymp", "auto"):
        if method == "exact" and max(sizes) > kd.KS_EXACT_MAX_ROWS:
            continue
        expected = stats.ks_2samp(a, b, method=method).pvalue
        assert kd.ks_pvalue(d, *sizes, method=method) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(counts, st.data())
def test_chi2_and_jensen_shannon_equal_scipy(ref, data):
    cur = data.draw(hnp.arrays(np.int64, ref.shape, elements=st.integers(0, 40)))
    if ref.sum() == 0 or cur.sum() == 0:
        return
    table = np.stack([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    stat, p, dof = kd.chi2_homogeneity(ref, cur)
    if table.shape[1] < 2:
        assert (stat, p, dof) == (0.0, 1.0, 0)
    else:
        expected = stats.chi2_contingency(table)
        assert stat == pytest.approx(expected.statistic, abs=1e-9)
        assert p == pytest.approx(expected.pvalue, abs=1e-9)
        assert dof == expected.dof
    assert kd.jensen_shannon(ref, cur) == pytest.approx(jensenshannon(ref, cur), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(counts, st.data())
def test_psi_equals_its_formula(ref, data):
    cur = data.draw(hnp.arrays(np.int64, ref.shape, elements=st.integers(1, 40)))
    if ref.sum() == 0:
        return
    r = np.maximum(ref / ref.sum(), kd.PSI_FLOOR)
    c = np.maximum(cur / cur.sum(), kd.PSI_FLOOR)
    expected = sum((ci - ri) * np.log(ci / ri) for ri, ci in zip(r, c))
    assert kd.psi(ref, cur) == pytest.approx(expected, abs=1e-12)
    assert kd.psi(ref, ref) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(samples, st.integers(2, 12))
def test_quantiles_and_histograms_equal_numpy(values, n_bins):
    values = np.sort(values)
    q = np.linspace(0, 1, 7)
    assert kd.quantile(values, q) == pytest.approx(np.quantile(values, q), abs=1e-12)
    edges = kd.bin_edges(values, n_bins)
    hist = kd.sorted_histogram(values, edges)
    expected = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    np.testing.assert_array_equal(hist, expected)


def test_kernels_on_every_namespace(xp):
    rng = np.random.default_rng(0)
    a = np.sort(rng.normal(size=300).round(1))
    b = np.sort(rng.normal(0.3, 1.2, size=250).round(1))
    got = kd.numeric_drift(to_device(a, xp), to_device(b, xp), xp=xp)
    expected = stats.ks_2samp(a, b)
    assert got.ks == pytest.approx(expected.statistic, abs=1e-12)
    assert got.ks_pvalue == pytest.approx(expected.pvalue, abs=1e-9)
    assert got.wasserstein == pytest.approx(stats.wasserstein_distance(a, b), abs=1e-9)
    assert got.wasserstein_norm == pytest.approx(got.wasserstein / a.std(), abs=1e-12)
    edges = np.unique(np.quantile(a, np.arange(1, 10) / 10))
    ref_hist = np.bincount(np.searchsorted(edges, a), minlength=edges.size + 1)
    cur_hist = np.bincount(np.searchsorted(edges, b), minlength=edges.size + 1)
    assert got.psi == pytest.approx(kd.psi(ref_hist, cur_hist), abs=1e-12)
    assert got.jensen_shannon == pytest.approx(jensenshannon(ref_hist, cur_hist), abs=1e-9)
    a_inf, b_inf = np.sort(np.r_[-np.inf, a, np.inf, np.inf]), np.sort(np.r_[b, np.inf])
    got = kd.numeric_drift(to_device(a_inf, xp), to_device(b_inf, xp), xp=xp)
    assert got == kd.numeric_drift(a_inf, b_inf)
    assert got.ks == pytest.approx(stats.ks_2samp(a_inf, b_inf).statistic, abs=1e-12)
    assert got.wasserstein == np.inf and got.wasserstein_norm == np.inf


def brute_mmd2(x, y, sigma):
    kernel = lambda p, q: np.exp(-cdist(p, q, "sqeuclidean") / (2 * sigma**2))  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy = kernel(x, x), kernel(y, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) /
            (n * (n - 1)) - 2 * kernel(x, y).mean())


def test_mmd_equals_brute_force_and_permutation_null(xp, monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(70, 3)), rng.normal(0.4, size=(55, 3))
    monkeypatch.setattr("rai_nb.checks.mmd.BLOCK_ENTRIES", 500)  # several blocks
    result = mmd_test(to_device(x, xp), to_device(y, xp), n_permutations=50, random_state=0, xp=xp)
    assert result.statistic == pytest.approx(brute_mmd2(x, y, result.bandwidth), abs=1e-9)
    z = np.vstack([x, y])
    pairwise = cdist(z, z)[np.triu_indices(len(z), k=1)]
    assert result.bandwidth == pytest.approx(np.sqrt(np.median(pairwise**2)), rel=1e-12)
    # The p-value counts permuted statistics recomputed by brute force with the same labels.
    labels = np.zeros((50, len(z)))
    labels[:, :70] = 1
    permuted = np.random.default_rng(0).permuted(labels, axis=1)
    null = [brute_mmd2(z[row == 1], z[row == 0], result.bandwidth) for row in permuted]
    assert result.pvalue == pytest.approx((1 + np.sum(np.array(null) >= result.statistic)) / 51)
    assert result.pvalue < 0.05


def test_mmd_does_not_flag_one_distribution():
    rng = np.random.default_rng(2)
    result = mmd_test(rng.normal(size=(200, 4)), rng.normal(size=(150, 4)), random_state=3)
    assert result.pvalue > 0.05


def _pieces_ks_wasserstein(a_pieces, b_pieces):
    """Drive ``ecdf.ks_and_wasserstein`` over in-memory pieces, as the Dask path does."""
    from rai_nb.checks import ecdf

    a_sorted, b_sorted = [np.sort(p) for p in a_pieces], [np.sort(p) for p in b_pieces]
    passes = []

    def summarize(edges):
        passes.append(edges)
        return [None if e is None else
                (sum_summaries(ecdf.bin_summary(p, e) for p in a_sorted),
                 sum_summaries(ecdf.bin_summary(p, e) for p in b_sorted)) for e in edges]

    def sum_summaries(summaries):
        summaries = list(summaries)
        total = summaries[0]
        for s in summaries[1:]:
            total = total + s
        return total

    def finish(stretches):
        sizes = (sum(map(len, a_pieces)), sum(map(len, b_pieces)))
        return [[ecdf.finish_stretch([ecdf.stretch_values(p, [s])[0] for p in a_sorted],
                                     [ecdf.stretch_values(p, [s])[0] for p in b_sorted], s, sizes)
                 for s in column] for column in stretches]

    pooled = np.concatenate(a_pieces + b_pieces)
    finite = pooled[np.isfinite(pooled)]
    span = (finite.min(), finite.max()) if finite.size else (np.inf, -np.inf)
    sizes = [(sum(map(len, a_pieces)), sum(map(len, b_pieces)))]
    return ecdf.ks_and_wasserstein(summarize, finish, [span], sizes)[0], len(passes)


@settings(max_examples=150, deadline=None)
@given(samples, samples, st.integers(1, 4), st.sampled_from([(4, 3, 2), (16, 8, 4), (1024, 1 << 20, 256)]))
def test_ks_and_wasserstein_from_pieces_equal_the_sorted_kernel(a, b, n_pieces, grid):
    """Bins, bounds, splitting and gathered stretches give the full-sort answer."""
    from rai_nb.checks import ecdf

    with pytest.MonkeyPatch.context() as patch:
        for name, value in zip(("FIRST_BINS", "GATHER_LIMIT", "SPLIT"), grid):
            patch.setattr(ecdf, name, value)
        (ks, w), _ = _pieces_ks_wasserstein(np.array_split(a, n_pieces),
                                            np.array_split(b, n_pieces))
    expected_ks = kd.ks_statistic(np.sort(a), np.sort(b))
    assert ks == expected_ks  # the same float: both are a gap at a completed ECDF step
    assert w == pytest.approx(kd.wasserstein_distance(np.sort(a), np.sort(b)), rel=1e-12,
                              abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(with_infinities, with_infinities, st.integers(1, 3))
def test_ks_and_wasserstein_from_pieces_with_infinities(a, b, n_pieces):
    """Infinities sit in the outer bins of the finite grid and give the sorted kernel's answer."""
    from rai_nb.checks import ecdf

    with pytest.MonkeyPatch.context() as patch:
        for name, value in zip(("FIRST_BINS", "GATHER_LIMIT", "SPLIT"), (4, 3, 2)):
            patch.setattr(ecdf, name, value)
        (ks, w), _ = _pieces_ks_wasserstein(np.array_split(a, n_pieces),
                                            np.array_split(b, n_pieces))
    assert ks == kd.ks_statistic(np.sort(a), np.sort(b))
    assert w == pytest.approx(kd.wasserstein_distance(np.sort(a), np.sort(b)), rel=1e-12,
                              abs=1e-12)


def test_ks_and_wasserstein_from_pieces_refine_heavy_bins(monkeypatch):
    """Clustered data with a tiny gather limit needs several passes and stays exact."""
    from rai_nb.checks import ecdf

    monkeypatch.setattr(ecdf, "FIRST_BINS", 8)
    monkeypatch.setattr(ecdf, "GATHER_LIMIT", 50)
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.normal(0, 1e-6, 3000), rng.normal(1e3, 1, 50), [1e6]])
    b = np.concatenate([rng.normal(1e-7, 1e-6, 2000), rng.normal(1e3, 1, 80)])
    (ks, w), passes = _pieces_ks_wasserstein(np.array_split(a, 5), np.array_split(b, 3))
    assert passes > 2
    assert ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-15)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


@pytest.mark.parametrize("n1, n2, shift", [(200, 150, 1.0), (300, 400, 1.5), (500, 500, 2.5),
                                           (1000, 3000, 0.6), (37, 1000, 2.0)])
def test_exact_ks_tail_keeps_its_digits_far_below_one_in_a_million(n1, n2, shift):
    """The exact tail is summed over first exits, not taken as 1 − P(inside), so p-values of
    1e-16 … 1e-146 keep their relative precision (scipy's exact method as reference)."""
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(shift, size=n2)
    expected = stats.ks_2samp(a, b, method="exact")
    assert expected.pvalue < 1e-12
    got = kd.ks_pvalue(expected.statistic, n1, n2, method="exact")
    assert got == pytest.approx(expected.pvalue, rel=1e-9)


def test_changed_kind_vanished_column_and_missingness_are_drift(schema_drift_frames):
    ref, cur = schema_drift_frames
    table = rai_nb.drift(ref, cur).columns
    assert table.loc["code", "method"] == "kind_change" and table.loc["code", "drifted"]
    assert table.loc["gone", "method"] == "vanished" and table.loc["gone", "drifted"]
    for name, share in (("emptied", 1.0), ("sparse", 0.3)):
        assert table.loc[name, "method"] == "missingness" and table.loc[name, "drifted"]
        assert table.loc[name, "statistic"] == pytest.approx(share, abs=0.05)
        expected = stats.chi2_contingency(
            [[0, 600], [round(table.loc[name, "missing_current"] * 500),
                        500 - round(table.loc[name, "missing_current"] * 500)]])
        assert table.loc[name, "missing_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert not table.loc["steady", "drifted"]
