"""SliceLine kernel against the sliceline package and a brute-force lattice; significance vs scipy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sliceline.slicefinder import Slicefinder

import rai_nb
from rai_nb.backend import to_device, to_host
from rai_nb.stats import slice_counts
from rai_nb.stats.significance import (
    alpha_investing,
    alpha_investing_levels,
    benjamini_hochberg,
    benjamini_hochberg_levels,
    effect_size,
    mean_variance,
    welch_test,
)
from rai_nb.stats.slicing import slice_line, slice_moments, slice_score


def planted(seed: int, n: int = 1500, levels=(3, 4, 2, 5, 3)):
    """Random codes with two planted high-error slices, one of them a 2-predicate slice."""
    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, d, n) for d in levels], axis=1)
    errors = (rng.random(n) < 0.1).astype(np.float64)
    noise = rng.random((2, n))
    errors = np.where((codes[:, 0] == 1) & (codes[:, 3] == 2), noise[0] < 0.7, errors)
    errors = errors + ((codes[:, 2] == 0) & (noise[1] < 0.15))
    return codes, np.minimum(errors, 1.0), np.array(levels)


def run_sliceline(codes, errors, **params):
    finder = Slicefinder(verbose=False, **params).fit(codes, errors)
    slices = np.array([[-1 if v is None else v for v in row] for row in finder.top_slices_],
                      dtype=np.int64).reshape(-1, codes.shape[1])
    stats = finder.top_slices_statistics_
    return slices, np.array([s["slice_score"] for s in stats]), np.array([s["slice_size"] for s in stats])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_l", [1, 2, 3])
def test_matches_sliceline_on_planted_slices(seed, max_l):
    codes, errors, levels = planted(seed)
    params = dict(alpha=0.95, k=6, max_l=max_l, min_sup=10)
    ref_slices, ref_scores, ref_sizes = run_sliceline(codes, errors, **params)
    got = slice_line(codes, errors, levels, **params)
    np.testing.assert_array_equal(got.slices, ref_slices)
    np.testing.assert_allclose(got.scores, ref_scores, rtol=1e-12)
    np.testing.assert_array_equal(got.sizes, ref_sizes)
    if max_l >= 2:
        assert got.slices[0].tolist() == [1, -1, -1, 2, -1]


@pytest.mark.parametrize("seed", range(6))
def test_matches_sliceline_with_continuous_loss(seed):
    rng = np.random.default_rng(100 + seed)
    codes, errors, levels = planted(seed, n=800)
    errors = errors * rng.gamma(2.0, 1.0, len(errors)) + 0.01 * rng.random(len(errors))
    params = dict(alpha=float(rng.uniform(0.85, 1.0)), k=int(rng.integers(1, 12)), max_l=3,
                  min_sup=int(rng.integers(1, 40)))
    ref_slices, ref_scores, _ = run_sliceline(codes, errors, **params)
    got = slice_line(codes, errors, levels, **params)
    np.testing.assert_array_equal(got.slices, ref_slices)
    np.testing.assert_allclose(got.scores, ref_scores, rtol=1e-12)


#: Scores this close to 0 (the slice of all rows scores exactly 0) may fall either side of it.
_ZERO = 1e-9


def brute_force(codes, errors, levels, *, alpha, max_l, min_sup):
    """Every slice of up to max_l predicates, enumerated directly, with size, loss and score."""
    n, m = codes.shape
    average = errors.mean()
    found = []
    for width in range(1, min(m, max_l) + 1):
        for features in itertools.combinations(range(m), width):
            for values in itertools.product(*(range(levels[f]) for f in features)):
                inside = np.all(codes[:, features] == values, axis=1)
                size, loss = inside.sum(), errors[inside].sum()
                if size >= max(min_sup, 1) and loss > 0:
                    score = alpha * (loss / size / average - 1) - (1 - alpha) * (n / size - 1)
                    row = np.full(m, -1)
                    row[list(features)] = values
                    found.append((tuple(row), score, size, loss))
    return [f for f in found if f[1] > _ZERO]


@st.composite
def small_problems(draw):
    m = draw(st.integers(1, 4))
    levels = np.array(draw(st.lists(st.integers(1, 3), min_size=m, max_size=m)))
    n = draw(st.integers(1, 40))
    codes = np.stack([np.array(draw(st.lists(st.integers(0, d - 1), min_size=n, max_size=n)))
                      for d in levels], axis=1)
    binary = draw(st.booleans())
    values = st.integers(0, 1) if binary else st.floats(0, 5, allow_subnormal=False)
    errors = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    params = dict(alpha=draw(st.floats(0.5, 1.0)), k=draw(st.integers(1, 6)),
                  max_l=draw(st.integers(1, 4)), min_sup=draw(st.integers(0, 6)))
    return codes, errors, levels, params


@settings(max_examples=150, deadline=None)
@given(small_problems())
def test_top_k_equals_brute_force(problem):
    codes, errors, levels, params = problem
    got = slice_line(codes, errors, levels, **params)
    if errors.sum() == 0:
        assert len(got.scores) == 0
        return
    clear = got.scores > _ZERO
    got = type(got)(got.slices[clear], got.sizes[clear], got.errors[clear], got.scores[clear],
                    got.average_error, got.n_rows, got.evaluated)
    every = brute_force(codes, errors, levels, **{p: params[p] for p in ("alpha", "max_l", "min_sup")})
    scores = np.sort([f[1] for f in every])[::-1]
    k = params["k"]
    assert len(got.scores) >= min(k, len(scores))
    np.testing.assert_allclose(got.scores[:k], scores[:k], rtol=1e-9, atol=1e-12)
    if not len(scores):
        return
    kth = scores[min(k, len(scores)) - 1]
    by_slice = {f[0]: f for f in every}
    returned = {tuple(row) for row in got.slices}
    assert {f[0] for f in every if f[1] > kth + 1e-9} <= returned
    assert returned <= {f[0] for f in every if f[1] >= kth - 1e-9}
    for row, size, score in zip(got.slices, got.sizes, got.scores):
        assert by_slice[tuple(row)][2] == size
        assert by_slice[tuple(row)][1] == pytest.approx(score, rel=1e-9, abs=1e-12)
    assert np.all(np.diff(got.scores) <= 0)


def test_batches_chunks_and_sparse_cells_do_not_change_the_answer(monkeypatch):
    codes, errors, levels = planted(7)
    params = dict(alpha=0.97, k=8, max_l=3, min_sup=5)
    reference = slice_line(codes, errors, levels, **params)
    monkeypatch.setattr(slice_counts, "_DENSE_CELLS", 1)
    with rai_nb.config_context(chunk_rows=97):
        small = slice_line(codes, errors, levels, batch=5, **params)
    np.testing.assert_array_equal(small.slices, reference.slices)
    np.testing.assert_allclose(small.scores, reference.scores, rtol=1e-12)


def test_kernels_on_every_namespace(xp):
    codes, errors, levels = planted(3, n=600)
    params = dict(alpha=0.95, k=5, max_l=3, min_sup=8)
    expected = slice_line(codes, errors, levels, **params)
    got = slice_line(to_device(codes, xp), to_device(errors, xp), levels, xp=xp, **params)
    np.testing.assert_array_equal(got.slices, expected.slices)
    np.testing.assert_allclose(got.scores, expected.scores, rtol=1e-12)
    moments = slice_moments(to_device(codes, xp), to_device(errors, xp), got.slices, xp=xp)
    for (count, total, squares), row in zip(moments.T, got.slices):
        inside = np.all((codes == row) | (row < 0), axis=1)
        assert count == inside.sum()
        assert total == pytest.approx(errors[inside].sum())
        assert squares == pytest.approx((errors[inside] ** 2).sum())
    assert isinstance(to_host(moments), np.ndarray)


def test_no_positive_loss_gives_no_slices():
    codes, _, levels = planted(0, n=100)
    got = slice_line(codes, np.zeros(100), levels, alpha=0.9, k=3, max_l=2, min_sup=1)
    assert got.slices.shape == (0, len(levels)) and got.scores.shape == (0,)


def test_score_formula_matches_paper():
    score = slice_score(np.array([10.0, 50.0]), np.array([5.0, 10.0]), n_rows=100, average_error=0.1,
                        alpha=0.9)
    np.testing.assert_allclose(score, [0.9 * (0.5 / 0.1 - 1) - 0.1 * (10 - 1),
                                       0.9 * (0.2 / 0.1 - 1) - 0.1 * (2 - 1)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=40),
       st.lists(st.floats(-50, 50), min_size=2, max_size=40),
       st.sampled_from(["greater", "less", "two-sided"]))
def test_welch_from_moments_matches_scipy(a, b, alternative):
    a, b = np.array(a), np.array(b)
    if a.var() < 1e-6 or b.var() < 1e-6:
        return
    shift = np.concatenate([a, b]).mean()
    mean_a, var_a = mean_variance(len(a), (a - shift).sum(), ((a - shift) ** 2).sum())
    mean_b, var_b = mean_variance(len(b), (b - shift).sum(), ((b - shift) ** 2).sum())
    np.testing.assert_allclose([mean_a + shift, var_a], [a.mean(), a.var(ddof=1)], rtol=1e-9, atol=1e-9)
    t, _, p = welch_test(mean_a, var_a, len(a), mean_b, var_b, len(b), alternative=alternative)
    ref = scipy.stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    np.testing.assert_allclose([t, p], [ref.statistic, ref.pvalue], rtol=1e-7, atol=1e-12)
    phi = effect_size(mean_a, var_a, mean_b, var_b)
    assert phi == pytest.approx((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from([0.01, 0.05, 0.2]))
def test_benjamini_hochberg_matches_scipy(p, level):
    p = np.array(p)
    expected = scipy.stats.false_discovery_control(p, method="bh") <= level
    np.testing.assert_array_equal(benjamini_hochberg(p, level), expected)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(np.nan)), min_size=0, max_size=30),
       st.sampled_from([0.01, 0.05, 0.2]))
def test_benjamini_hochberg_cutoff_is_scipys(p, level):
    """Rejected exactly at or below the cutoff, which is q·k/m with k the number rejected."""
    p = np.array(p, dtype=np.float64)
    tested = ~np.isnan(p)
    levels = benjamini_hochberg_levels(p, level)
    assert np.isnan(levels[~tested]).all()
    if tested.any():
        expected = scipy.stats.false_discovery_control(p[tested], method="bh") <= level
        np.testing.assert_array_equal(p[tested] <= levels[tested], expected)
        np.testing.assert_array_equal(benjamini_hochberg(p, level)[tested], expected)
        np.testing.assert_allclose(levels[tested], level * expected.sum() / tested.sum())


def reference_alpha_investing(p_values, level):
    """Foster & Stine's α-investing with the all-in bet, written as the sequential rule: the
    rejections and the level of each test (NaN once no wealth is left)."""
    wealth, out, bets = level, [], []
    for p in p_values:
        bet = wealth / (1 + wealth)
        bets.append(bet if wealth > 1e-12 else np.nan)
        if wealth > 1e-12 and p <= bet:
            out.append(True)
            wealth += level
        else:
            out.append(False)
            wealth = max(wealth - bet / (1 - bet), 0.0)
    return out, bets


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 0.3), min_size=0, max_size=20), st.sampled_from([0.05, 0.1]))
def test_alpha_investing_matches_sequential_rule(p, level):
    rejected, bets = reference_alpha_investing(p, level)
    assert alpha_investing(np.array(p), level).tolist() == rejected
    levels = alpha_investing_levels(np.array(p), level)
    np.testing.assert_allclose(levels, bets, rtol=1e-12)
    np.testing.assert_array_equal(np.array(p) <= levels, rejected)


def test_alpha_investing_worked_example():
    # wealth 0.05 -> test at 0.0476 (reject), wealth 0.10 -> 0.0909 (reject), 0.15 -> 0.1304 (accept)
    assert alpha_investing([0.01, 0.09, 0.2, 0.0], 0.05).tolist() == [True, True, False, False]
    np.testing.assert_allclose(alpha_investing_levels([0.01, 0.09, 0.2, 0.0], 0.05),
                               [0.05 / 1.05, 0.1 / 1.1, 0.15 / 1.15, np.nan])


@settings(max_examples=100, deadline=None)
@given(small_problems(), st.data())
def test_integer_weights_equal_repeated_rows(problem, data):
    codes, errors, levels, params = problem
    weights = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(codes), max_size=len(codes))),
                       dtype=np.float64)
    if not weights.any():
        return
    errors = np.round(errors * 8) / 8  # dyadic losses: every sum exact, so ties stay ties
    got = slice_line(codes, errors, levels, weights=weights, **params)
    repeat = np.repeat(np.arange(len(codes)), weights.astype(np.int64))
    expected = slice_line(codes[repeat], errors[repeat], levels, **params)
    np.testing.assert_array_equal(got.slices, expected.slices)
    np.testing.assert_allclose(got.sizes, expected.sizes, rtol=0, atol=0)
    np.testing.assert_array_equal(got.errors, expected.errors)
    np.testing.assert_array_equal(got.scores, expected.scores)
    assert got.evaluated == expected.evaluated and got.n_rows == expected.n_rows
    assert got.sizes.dtype == np.float64 and expected.sizes.dtype == np.int64


def weighted_brute_force(codes, errors, weights, levels, *, alpha, max_l, min_sup):
    """Every slice of up to max_l predicates with its weight, weighted loss sum and score."""
    n, m = codes.shape
    total, average = weights.sum(), (weights * errors).sum() / weights.sum()
    found = {}
    for width in range(1, min(m, max_l) + 1):
        for features in itertools.combinations(range(m), width):
            for values in itertools.product(*(range(levels[f]) for f in features)):
                inside = np.all(codes[:, features] == values, axis=1)
                size, loss = weights[inside].sum(), (weights * errors)[inside].sum()
                if size >= min_sup and loss > 0:
                    score = alpha * (loss / size / average - 1) - (1 - alpha) * (total / size - 1)
                    row = np.full(m, -1)
                    row[list(features)] = values
                    found[tuple(row)] = (score, size, loss)
    return found


@pytest.mark.parametrize("seed", range(8))
def test_fractional_weights_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    levels = np.array([3, 2, 4])
    codes = np.stack([rng.integers(0, d, 40) for d in levels], axis=1)
    errors = rng.gamma(1.0, 1.0, 40) * (rng.random(40) < 0.5)
    weights = rng.uniform(0, 0.3, 40) * (rng.random(40) < 0.8)  # tiny weights: sizes below 1
    params = dict(alpha=0.9, max_l=2, min_sup=float(rng.choice([0.0, 0.5])))
    every = weighted_brute_force(codes, errors, weights, levels, **params)
    scores = np.sort([v[0] for v in every.values() if v[0] > _ZERO])[::-1]
    k = 5
    got = slice_line(codes, errors, levels, weights=weights, k=k, **params)
    np.testing.assert_allclose(got.scores[:k], scores[:k], rtol=1e-10)
    kth = scores[min(k, len(scores)) - 1]
    assert {s for s, v in every.items() if v[0] > kth + 1e-9} <= {tuple(r) for r in got.slices}
    for row, size, error, score in zip(got.slices, got.sizes, got.errors, got.scores):
        assert every[tuple(row)] == pytest.approx((score, size, error), rel=1e-10)
    assert got.n_rows == pytest.approx(weights.sum())


def test_weighted_kernels_on_every_namespace(xp):
    codes, errors, levels = planted(4, n=600)
    weights = np.random.default_rng(0).uniform(0, 3, len(errors))
    params = dict(alpha=0.95, k=5, max_l=3, min_sup=8)
    expected = slice_line(codes, errors, levels, weights=weights, **params)
    got = slice_line(to_device(codes, xp), to_device(errors, xp), levels,
                     weights=to_device(weights, xp), xp=xp, **params)
    np.testing.assert_array_equal(got.slices, expected.slices)
    np.testing.assert_allclose(got.scores, expected.scores, rtol=1e-12)
    moments = slice_moments(to_device(codes, xp), to_device(errors, xp), got.slices,
                            weights=to_device(weights, xp), xp=xp)
    for (count, total, squares), row in zip(moments.T, got.slices):
        inside = np.all((codes == row) | (row < 0), axis=1)
        w, e = weights[inside], errors[inside]
        np.testing.assert_allclose([count, total, squares], [w.sum(), (w * e).sum(), (w * e**2).sum()],
                                   rtol=1e-12)
