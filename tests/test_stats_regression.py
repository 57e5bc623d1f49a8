"""Regression kernels against fairlearn MetricFrame + scikit-learn, scipy and brute force."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

import rai_nb
from rai_nb.backend import to_device
from rai_nb.errors import RaiError
from rai_nb.stats.regression import (
    REGRESSION_DISPARITIES,
    REGRESSION_METRICS,
    REGRESSION_SUMS,
    _value_order,
    distribution_gaps,
    merge_distributions,
    poisson_bootstrap,
    prediction_distribution,
    prediction_gaps,
    regression_disparities,
    regression_metrics,
    regression_sums,
)


def _average(of):
    def metric(y_true, y_pred, sample_weight=None):
        return np.average(of(np.asarray(y_true), np.asarray(y_pred)), weights=sample_weight)
    return metric


#: The scikit-learn (or plain NumPy) function of each metric, as a MetricFrame user writes it.
REFERENCE = {
    "count": count,
    "mean_target": _average(lambda t, p: t),
    "mean_prediction": _average(lambda t, p: p),
    "mean_error": _average(lambda t, p: p - t),
    "mean_absolute_error": mean_absolute_error,
    "root_mean_squared_error": root_mean_squared_error,
    "r2": r2_score,
}


def _metric_frame(y, p, labels, weights=None) -> MetricFrame:
    params = None if weights is None else {
        name: {"sample_weight": weights} for name in REFERENCE if name != "count"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # r2 of a one-row group is NaN
        return MetricFrame(metrics=REFERENCE, y_true=y, y_pred=p,
                           sensitive_features=pd.Series(labels, name="group"), sample_params=params)


def _ours(y, p, labels, weights=None):
    """Our per-group metrics for the groups present, in sorted label order (as MetricFrame)."""
    groups, codes = np.unique(labels, return_inverse=True)
    shift = np.average(y, weights=weights)
    sums = regression_sums(codes, y, p, weights, n_groups=len(groups), shift=shift)
    return regression_metrics(sums), codes, len(groups)


def _assert_close(ours, reference, rtol=1e-12, least_scale=0.0):
    """Relative ``rtol``, and ``rtol`` of each column's largest magnitude (at least
    ``least_scale``) for values near zero."""
    reference = np.asarray(reference, dtype=np.float64)
    scale = np.maximum(np.max(np.abs(np.nan_to_num(reference)), axis=0, initial=0.0), least_scale)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    with np.errstate(invalid="ignore"):  # 0 / 0 where both are exactly 0
        error = np.nan_to_num(np.abs(ours - reference) / (np.abs(reference) + scale))
    assert error.max(initial=0.0) <= rtol, (error.max(axis=0), ours, reference)


def _check_against_fairlearn(y, p, labels, weights=None, *, r2_rtol=1e-12):
    ours, _, _ = _ours(y, p, labels, weights)
    frame = _metric_frame(y, p, labels, weights)
    reference = frame.by_group[list(REGRESSION_METRICS)].to_numpy(dtype=np.float64)
    _assert_close(ours[:, :-1], reference[:, :-1])
    # r2 = 1 − SSE/SST is a difference of numbers near 1: its rounding error is absolute.
    _assert_close(ours[:, -1:], reference[:, -1:], rtol=r2_rtol, least_scale=1.0)
    return ours, frame


_EPS = np.finfo(np.float64).eps


def _exact_r2(y, p, codes, weights):
    """r2 per group in exact rational arithmetic (the generated values are exact binary), and
    the rounding bound of ours: the target variance comes from sums about the overall mean
    (``Σw(y−c)²``), so (1 − r2) carries their relative rounding times ``Σw(y−c)² / SST``."""
    from fractions import Fraction

    w = np.ones_like(y) if weights is None else weights
    shift = Fraction(float(np.average(y, weights=weights)))
    out, bound = [], []
    for g in np.unique(codes):
        rows = np.flatnonzero(codes == g)
        yy, pp, ww = ([Fraction(float(v)) for v in a[rows]] for a in (y, p, w))
        mean = sum(a * b for a, b in zip(ww, yy)) / sum(ww)
        sse = sum(c * (a - b) ** 2 for a, b, c in zip(yy, pp, ww))
        sst = sum(c * (a - mean) ** 2 for a, c in zip(yy, ww))
        r2 = np.nan if len(rows) < 2 else float(1 - sse / sst) if sst else float(sse == 0)
        centred = sum(c * (a - shift) ** 2 for a, c in zip(yy, ww))
        cancellation = float(centred / sst) if sst else 1.0
        out.append(r2)
        bound.append(1e-13 * (1 + abs(r2)) + (len(rows) + 4) * _EPS * cancellation * abs(1 - r2))
    return np.array(out), np.array(bound)


def _brute_ks(values, weights, in_group):
    """sup |F_g − F| of weighted ECDFs, evaluated at every value (right-continuous)."""
    points = np.unique(values)
    below = values[None, :] <= points[:, None]
    overall = (below * weights).sum(1) / weights.sum()
    group = (below * weights * in_group).sum(1) / (weights * in_group).sum()
    return np.abs(group - overall).max()


def _check_gaps(p, codes, n_groups, weights=None):
    """Gaps from the rows and from their distribution, each against scipy (KS unweighted) and
    brute force (KS weighted); a group without weight gets NaN. Returns the rows' gaps."""
    ks, w1 = prediction_gaps(codes, p, weights, n_groups=n_groups)
    from_distribution = distribution_gaps(prediction_distribution(codes, p, weights,
                                                                  n_groups=n_groups))
    w = np.ones_like(p) if weights is None else weights
    for g in range(n_groups):
        rows = (codes == g) & (w > 0)
        if not rows.any():
            assert np.isnan([ks[g], w1[g], *(gap[g] for gap in from_distribution)]).all()
            continue
        if weights is None:
            expected_ks = stats.ks_2samp(p[rows], p).statistic
        else:
            expected_ks = _brute_ks(p, w, codes == g)
        expected_w1 = stats.wasserstein_distance(p[rows], p[w > 0], u_weights=w[rows],
                                                 v_weights=w[w > 0])
        for got_ks, got_w1 in (ks, w1), from_distribution:
            np.testing.assert_allclose(got_ks[g], expected_ks, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(got_w1[g], expected_w1, rtol=1e-12,
                                       atol=1e-12 * (p.max() - p.min()))
    return ks, w1


# --- real data ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def diabetes():
    """sklearn's bundled diabetes data with a fitted Ridge; groups: sex x age quartile."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    p = Ridge(alpha=0.1).fit(X, y).predict(X)
    age_band = np.digitize(X[:, 0], np.quantile(X[:, 0], [0.25, 0.5, 0.75]))
    labels = np.char.add(np.where(X[:, 1] > 0, "m", "f"), age_band.astype(str))
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    return y, p, labels, weights


@pytest.fixture(scope="module")
def adult_hours():
    """UCI Adult: hours_per_week predicted by a depth-8 tree (many tied predictions); groups
    race x sex; survey weights fnlwgt."""
    from sklearn.tree import DecisionTreeRegressor

    frame = rai_nb.load_adult()
    X = frame[["age", "education_num", "capital_gain", "capital_loss"]].to_numpy(float)
    y = frame["hours_per_week"].to_numpy(float)
    p = DecisionTreeRegressor(max_depth=8, random_state=0).fit(X, y).predict(X)
    labels = (frame["race"].astype(str) + "/" + frame["sex"].astype(str)).to_numpy()
    return y, p, labels, frame["fnlwgt"].to_numpy(float)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("data", ["diabetes", "adult_hours"])
def test_metrics_equal_fairlearn_on_real_data(data, weighted, request):
    y, p, labels, weights = request.getfixturevalue(data)
    _check_against_fairlearn(y, p, labels, weights if weighted else None)


def test_disparities_equal_fairlearn_between_groups(diabetes):
    y, p, labels, weights = diabetes
    ours, frame = _check_against_fairlearn(y, p, labels, weights)
    _, codes, n_groups = _ours(y, p, labels, weights)
    ks, w1 = _check_gaps(p, codes, n_groups, weights)
    summary = dict(zip(REGRESSION_DISPARITIES, regression_disparities(ours, ks, w1)))
    difference, ratio = frame.difference(), frame.ratio()
    for name in REGRESSION_METRICS[1:]:
        np.testing.assert_allclose(summary[f"{name}_difference"], difference[name], rtol=1e-10)
        np.testing.assert_allclose(summary[f"{name}_ratio"], ratio[name], rtol=1e-12)
    worst_mse = max(np.average((p[codes == g] - y[codes == g]) ** 2, weights=weights[codes == g])
                    for g in range(n_groups))
    np.testing.assert_allclose(summary["bounded_group_loss"], worst_mse, rtol=1e-12)
    assert summary["statistical_parity_ks"] == ks.max()
    assert summary["statistical_parity_wasserstein"] == w1.max()


@pytest.mark.parametrize("weighted", [False, True])
def test_gaps_equal_scipy_on_real_data(adult_hours, weighted):
    y, p, labels, weights = adult_hours
    _, codes = np.unique(labels, return_inverse=True)
    _check_gaps(p, codes, codes.max() + 1, weights if weighted else None)


def test_gaps_equal_scipy_with_distinct_predictions(diabetes):
    y, p, labels, weights = diabetes
    _, codes = np.unique(labels, return_inverse=True)
    _check_gaps(p, codes, codes.max() + 1)
    _check_gaps(p, codes, codes.max() + 1, weights)


# --- generated cases ----------------------------------------------------------------------------

@st.composite
def regressions(draw, max_rows=40):
    """Targets and predictions on a quarter grid (ties, exact arithmetic) around 0 or 1e9,
    group sizes from 1, optionally a constant-target group (and a perfectly fitted one)."""
    n = draw(st.integers(1, max_rows))
    base = draw(st.sampled_from([0.0, 1e9]))
    grid = st.lists(st.integers(-12, 12), min_size=n, max_size=n)
    y = base + np.array(draw(grid)) / 4
    p = base + np.array(draw(grid)) / 4
    codes = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    if draw(st.booleans()):
        y[codes == 0] = base + 1.25
        if draw(st.booleans()):
            p[codes == 0] = y[codes == 0]
    weights = None
    if draw(st.booleans()):
        weights = np.array(draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))) / 2
    return y, p, codes, weights


@settings(max_examples=60, deadline=None)
@given(regressions())
def test_metrics_equal_fairlearn_on_generated_data(case):
    """Around 1e9, scikit-learn's r2 itself is off by up to ~1e-12 · SST-relative (its mean
    target is rounded before squaring): there r2 is checked against exact arithmetic."""
    y, p, codes, weights = case
    offset = y[0] > 1e6
    ours, _ = _check_against_fairlearn(y, p, codes, weights, r2_rtol=1e-10 if offset else 1e-12)
    exact, bound = _exact_r2(y, p, codes, weights)
    np.testing.assert_array_equal(np.isnan(ours[:, -1]), np.isnan(exact))
    assert np.all(np.nan_to_num(np.abs(ours[:, -1] - exact)) <= np.nan_to_num(bound)), (
        ours[:, -1], exact, bound)


@settings(max_examples=60, deadline=None)
@given(regressions())
def test_gaps_equal_scipy_and_brute_force_on_generated_data(case):
    y, p, codes, weights = case
    _check_gaps(p, codes, 5, weights)  # group 4 never occurs: NaN


@st.composite
def close_predictions(draw, max_rows=60):
    """Predictions a few ulps apart (their sort keys share the high bits, so the packed-key sort
    must settle them), or quarters around zero with ±0.0; weights, if any, sometimes zero."""
    n = draw(st.integers(1, max_rows))
    base, step = draw(st.sampled_from([(0.0, 0.25), (-3.5, np.spacing(-3.5)),
                                       (1.0, np.spacing(1.0)), (1e9, np.spacing(1e9))]))
    p = base + np.array(draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n))) * step
    negative_zero = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    p = np.where(negative_zero & (p == 0), -0.0, p)
    codes = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    weights = None
    if draw(st.booleans()):
        weights = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))) / 2
    return p, codes, weights


@settings(max_examples=80, deadline=None)
@given(close_predictions())
def test_gaps_of_near_ties_and_zero_weights_equal_scipy(case):
    p, codes, weights = case
    order = _value_order(p)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(p)))
    assert np.all(np.diff(p[order]) >= 0)
    _check_gaps(p, codes, 5, weights)


def test_empty_group_is_nan_and_counts_zero():
    sums = regression_sums(np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]),
                           np.array([1.0, 1.5, 3.0]), n_groups=3, shift=2.0)
    table = regression_metrics(sums)
    assert table[1, 0] == 0 and np.isnan(table[1, 1:]).all()
    assert np.isnan(table[2, REGRESSION_METRICS.index("r2")])  # one row: undefined, as sklearn


def test_metrics_and_disparities_vectorise_over_replicates(diabetes):
    y, p, labels, weights = diabetes
    _, codes = np.unique(labels, return_inverse=True)
    n_groups = codes.max() + 1
    sums, ks, w1 = poisson_bootstrap(codes, y, p, weights, n_groups=n_groups, shift=y.mean(),
                                     n_boot=4, seed=3)
    table = regression_metrics(sums)
    assert table.shape == (4, n_groups, len(REGRESSION_METRICS))
    for b in range(4):
        np.testing.assert_array_equal(table[b], regression_metrics(sums[b]))
    summary = regression_disparities(table, ks, w1)
    assert summary.shape == (4, len(REGRESSION_DISPARITIES))
    np.testing.assert_array_equal(summary[2], regression_disparities(table[2], ks[2], w1[2]))
    assert np.isnan(regression_disparities(table)[:, -2:]).all()  # no gaps given


def test_disparities_ignore_undefined_groups():
    by_group = np.full((3, len(REGRESSION_METRICS)), np.nan)
    by_group[0] = [5, 2.0, 2.5, 0.5, 1.0, 2.0, 0.5]
    by_group[1] = [1, 4.0, 3.0, -1.0, 1.0, 1.0, np.nan]
    summary = dict(zip(REGRESSION_DISPARITIES, regression_disparities(by_group)))
    assert summary["mean_target_difference"] == 2.0 and summary["mean_target_ratio"] == 0.5
    assert summary["r2_difference"] == 0.0 and summary["bounded_group_loss"] == 4.0
    assert np.isnan(regression_disparities(np.full((2, len(REGRESSION_METRICS)), np.nan))).all()


# --- engines: partitions, namespaces ------------------------------------------------------------

def test_portable_path_equals_compiled_path(xp, diabetes):
    y, p, labels, weights = diabetes
    _, codes = np.unique(labels, return_inverse=True)
    expected = regression_sums(codes, y, p, weights, n_groups=9, shift=150.0)
    moved = [to_device(a, xp) for a in (codes, y, p, weights)]
    with rai_nb.config_context(chunk_rows=100):
        got = regression_sums(*moved, n_groups=9, shift=150.0, xp=xp)
        unweighted = regression_sums(*moved[:3], n_groups=9, shift=150.0, xp=xp)
    assert isinstance(got, np.ndarray) and got.shape == (9, len(REGRESSION_SUMS))
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    np.testing.assert_allclose(unweighted, regression_sums(codes, y, p, n_groups=9, shift=150.0),
                               rtol=1e-10)


def test_distribution_on_any_namespace_and_merged_partitions_equal_the_whole(xp, adult_hours):
    y, p, labels, weights = adult_hours
    _, codes = np.unique(labels, return_inverse=True)
    codes, p, weights = codes[:3000], p[:3000], weights[:3000]
    whole = prediction_distribution(codes, p, weights, n_groups=10)
    moved = [to_device(a, xp) for a in (codes, p, weights)]
    on_xp = prediction_distribution(*moved, n_groups=10, xp=xp)
    cuts = [0, 700, 701, 2500, 3000]
    parts = merge_distributions([prediction_distribution(codes[a:b], p[a:b], weights[a:b],
                                                         n_groups=10)
                                 for a, b in itertools.pairwise(cuts)])
    for dist in (on_xp, parts):
        np.testing.assert_array_equal(dist.value, whole.value)
        np.testing.assert_array_equal(dist.group, whole.group)
        np.testing.assert_allclose(dist.weight, whole.weight, rtol=1e-14)
    np.testing.assert_allclose(whole.weight.sum(), weights.sum(), rtol=1e-14)
    assert np.all(np.diff(whole.value) >= 0)
    # The in-memory path sweeps the rows, the Dask path the merged distribution: same gaps.
    for got, expected in zip(distribution_gaps(parts), prediction_gaps(codes, p, weights,
                                                                       n_groups=10)):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    unweighted = merge_distributions([prediction_distribution(codes[a:b], p[a:b], n_groups=10)
                                      for a, b in itertools.pairwise(cuts)])
    for got, expected in zip(distribution_gaps(unweighted),
                             prediction_gaps(codes, p, n_groups=10)):
        np.testing.assert_array_equal(got, expected)  # counts add exactly


# --- Poisson bootstrap --------------------------------------------------------------------------

def _multiplicities(n, *, n_boot, seed, offset=0):
    """Each row's Poisson weight per replicate, read off one-row groups: (n_boot, n)."""
    zeros = np.zeros(n)
    sums, _, _ = poisson_bootstrap(np.arange(n), zeros, zeros, n_groups=n, shift=0.0,
                                   n_boot=n_boot, seed=seed, offset=offset, gaps=False)
    return sums[..., REGRESSION_SUMS.index("rows")]


def test_poisson_weights_have_poisson_one_moments():
    k = _multiplicities(4000, n_boot=100, seed=11)
    assert np.array_equal(k, np.round(k)) and k.min() >= 0
    assert abs(k.mean() - 1) < 0.01 and abs(k.var() - 1) < 0.02
    assert abs((k == 0).mean() - np.exp(-1)) < 0.005
    assert abs(np.corrcoef(k[:-1].ravel(), k[1:].ravel())[0, 1]) < 0.01  # replicates independent
    assert abs(np.corrcoef(k[:, :-1].ravel(), k[:, 1:].ravel())[0, 1]) < 0.01  # rows independent
    np.testing.assert_array_equal(k, _multiplicities(4000, n_boot=100, seed=11))
    assert not np.array_equal(k, _multiplicities(4000, n_boot=100, seed=12))


def test_partitions_with_offsets_add_up_to_the_whole(adult_hours):
    y, p, labels, weights = adult_hours
    _, codes = np.unique(labels, return_inverse=True)
    n, shift = 5000, float(np.average(y[:5000], weights=weights[:5000]))
    whole, ks, w1 = poisson_bootstrap(codes[:n], y[:n], p[:n], weights[:n], n_groups=10,
                                      shift=shift, n_boot=30, seed=7, gaps=False)
    assert ks is None and w1 is None
    cuts = [0, 1234, 1235, 4000, n]
    parts = sum(poisson_bootstrap(codes[a:b], y[a:b], p[a:b], weights[a:b], n_groups=10,
                                  shift=shift, n_boot=30, seed=7, offset=a, gaps=False)[0]
                for a, b in itertools.pairwise(cuts))
    np.testing.assert_allclose(parts, whole, rtol=1e-12)
    np.testing.assert_array_equal(_multiplicities(n - 1234, n_boot=3, seed=5, offset=1234),
                                  _multiplicities(n, n_boot=3, seed=5)[:, 1234:])


@pytest.mark.parametrize("weighted", [False, True])
def test_replicates_equal_the_resampled_rows(diabetes, weighted):
    y, p, labels, weights = diabetes
    weights = weights if weighted else None
    _, codes = np.unique(labels, return_inverse=True)
    n_groups, n_boot, seed = codes.max() + 1, 5, 2024
    sums, ks, w1 = poisson_bootstrap(codes, y, p, weights, n_groups=n_groups, shift=150.0,
                                     n_boot=n_boot, seed=seed)
    k = _multiplicities(len(y), n_boot=n_boot, seed=seed).astype(np.int64)
    w = np.ones_like(y) if weights is None else weights
    for b in range(n_boot):
        rows = np.repeat(np.arange(len(y)), k[b])
        again = regression_sums(codes[rows], y[rows], p[rows], w[rows], n_groups=n_groups,
                                shift=150.0)
        np.testing.assert_allclose(sums[b], again, rtol=1e-12)
        _check_against_fairlearn(y[rows], p[rows], codes[rows], w[rows])
        # Gaps with the replicate's weights k·w, brute force: the rows repeated k times.
        expected_ks, expected_w1 = _check_gaps(p[rows], codes[rows], n_groups,
                                               None if weights is None else w[rows])
        np.testing.assert_allclose(ks[b], expected_ks, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(w1[b], expected_w1, rtol=1e-10)


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "match"), [
    ({"group_codes": np.array([0, 3, 1])}, "group_codes must lie in 0..2"),
    ({"group_codes": np.array([0, -1, 1])}, "group_codes must lie in 0..2"),
    ({"y_pred": np.zeros(2)}, "y_pred has 2 rows but the data has 3"),
    ({"weights": np.ones(4)}, "weights has 4 rows"),
    ({"n_groups": 0}, "n_groups must be a positive integer"),
])
def test_bad_input_is_a_rai_error(change, match):
    args = {"group_codes": np.array([0, 2, 1]), "y_true": np.zeros(3), "y_pred": np.zeros(3),
            "weights": None, "n_groups": 3}
    args.update(change)
    with pytest.raises(RaiError, match=match):
        regression_sums(**args)
    with pytest.raises(RaiError, match=match):
        poisson_bootstrap(**args, shift=0.0, n_boot=2, seed=0)


@pytest.mark.parametrize(("change", "match"), [
    ({"n_boot": 0}, "n_boot must be a positive integer"),
    ({"seed": -1}, "seed must be an integer"),
    ({"seed": 2**64}, "seed must be an integer"),
    ({"offset": -3}, "offset must be a non-negative integer"),
])
def test_bad_bootstrap_options_are_rai_errors(change, match):
    args = {"n_boot": 2, "seed": 0, "offset": 0, **change}
    with pytest.raises(RaiError, match=match):
        poisson_bootstrap(np.zeros(3, int), np.zeros(3), np.zeros(3), n_groups=1, shift=0.0,
                          **args)


def test_inputs_are_not_modified(diabetes):
    y, p, labels, weights = diabetes
    _, codes = np.unique(labels, return_inverse=True)
    copies = [a.copy() for a in (codes, y, p, weights)]
    regression_sums(codes, y, p, weights, n_groups=9, shift=1.0)
    poisson_bootstrap(codes, y, p, weights, n_groups=9, shift=1.0, n_boot=2, seed=0)
    prediction_distribution(codes, p, weights, n_groups=9)
    for before, after in zip(copies, (codes, y, p, weights)):
        np.testing.assert_array_equal(before, after)
