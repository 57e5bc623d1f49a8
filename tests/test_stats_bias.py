"""Kernels and count-based metrics of the bias engine against independent references."""

from __future__ import annotations

import warnings
from functools import partial

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st

import rai_nb
from rai_nb.backend import bincount, to_device, to_host
from rai_nb.findings import _bias_tables
from rai_nb.stats import _bootstrap_cpu, bias, clarify
from rai_nb.stats.bias import (
    bias_statistics,
    bootstrap_intervals,
    bootstrap_replicates,
    facet_onehots,
    percentile_interval,
)
from rai_nb.stats.counts import confusion_counts, score_histograms
from rai_nb.stats.group_metrics import GROUP_METRICS, expected_calibration_error

smc_pre = pytest.importorskip("smclarify.bias.metrics.pretraining")
smc_post = pytest.importorskip("smclarify.bias.metrics.posttraining")
smc_common = pytest.importorskip("smclarify.bias.metrics.common")

#: Independent per-group reference implementations (scikit-learn / fairlearn functions).
REFERENCE_METRICS = {
    "count": flm.count,
    "selection_rate": flm.selection_rate,
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "precision": partial(skm.precision_score, zero_division=0),
    "recall": partial(skm.recall_score, zero_division=0),
    "f1": partial(skm.f1_score, zero_division=0),
    "true_positive_rate": flm.true_positive_rate,
    "true_negative_rate": flm.true_negative_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
}


def random_rows(seed, n, n_groups):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, n_groups, n), rng.integers(0, 2, n), rng.integers(0, 2, n),
            rng.random(n))


def test_bincount_matches_numpy(xp):
    codes, _, _, weights = random_rows(0, 500, 37)
    got = bincount(to_device(codes, xp), minlength=40, xp=xp)
    assert np.array_equal(to_host(got), np.bincount(codes, minlength=40))
    got = bincount(to_device(codes, xp), minlength=40, weights=to_device(weights, xp), xp=xp)
    np.testing.assert_allclose(to_host(got), np.bincount(codes, weights, minlength=40), rtol=1e-12)


@pytest.mark.parametrize("chunk_rows", [7, 1_000_000])
def test_confusion_counts_equal_brute_force(xp, chunk_rows):
    g, y, yhat, _ = random_rows(1, 999, 13)
    expected = np.zeros((13, 2, 2), dtype=np.int64)
    np.add.at(expected, (g, y, yhat), 1)
    with rai_nb.config_context(chunk_rows=chunk_rows):
        got = confusion_counts(to_device(g, xp), to_device(y, xp), to_device(yhat, xp),
                               n_groups=13, xp=xp)
    assert isinstance(got, np.ndarray) and np.array_equal(got, expected)


def test_score_histograms_and_ece_equal_brute_force(xp):
    g, y, _, score = random_rows(2, 800, 5)
    hist = score_histograms(to_device(g, xp), to_device(y, xp), to_device(score, xp),
                            n_groups=5, n_bins=10, xp=xp)
    for group in range(5):
        rows = g == group
        bins = np.minimum((score[rows] * 10).astype(int), 9)
        ece = sum(np.sum(bins == b) / rows.sum()
                  * abs(y[rows][bins == b].mean() - score[rows][bins == b].mean())
                  for b in range(10) if np.any(bins == b))
        assert expected_calibration_error(hist[:, group]) == pytest.approx(ece, abs=1e-12)


def confusion_of(y, yhat):
    counts = np.zeros((2, 2), dtype=np.int64)
    np.add.at(counts, (y, yhat), 1)
    return counts


labels = hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(0, 1))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_group_metrics_equal_sklearn_and_fairlearn(data):
    y = data.draw(labels)
    yhat = data.draw(hnp.arrays(np.int64, y.shape, elements=st.integers(0, 1)))
    counts = confusion_of(y, yhat)
    for name, reference in REFERENCE_METRICS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns on single-class input; values stand
            expected = reference(y, yhat)
        assert GROUP_METRICS[name](counts) == pytest.approx(expected, abs=1e-12), name


def facet_case(data):
    n = data.draw(st.integers(2, 40))
    facet = data.draw(hnp.arrays(bool, n))
    if facet.all() or not facet.any():
        facet[0] = not facet[0]
    y = data.draw(hnp.arrays(bool, n))
    yhat = data.draw(hnp.arrays(bool, n))
    return pd.Series(facet), pd.Series(y), pd.Series(yhat)


PRE_REFERENCES = {"CI": lambda f, y: smc_pre.CI(y, f), "DPL": lambda f, y: smc_pre.DPL(y, f, y),
                  "KL": lambda f, y: smc_pre.KL(y, f), "JS": lambda f, y: smc_pre.JS(y, f),
                  "LP": lambda f, y: smc_pre.LP(y, f), "TVD": lambda f, y: smc_pre.TVD(y, f),
                  "KS": lambda f, y: smc_pre.KS(y, f)}
POST_NAMES = ("DPPL", "DI", "DCA", "DCR", "SD", "RD", "DAR", "DRR", "AD", "TE")


def assert_same(got, expected, name):
    if expected is None:
        assert np.isnan(got), name
    else:
        assert got == pytest.approx(expected, abs=1e-9, nan_ok=True), name


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_clarify_metrics_equal_smclarify(data):
    facet, y, yhat = facet_case(data)
    counts_d = confusion_of(y[facet].astype(int), yhat[facet].astype(int))
    counts_a = confusion_of(y[~facet].astype(int), yhat[~facet].astype(int))
    pre = clarify.pretraining(counts_d, counts_a)
    for name, reference in PRE_REFERENCES.items():
        try:
            expected = reference(facet, y)
        except ValueError:  # smclarify refuses when no label value is shared
            expected = None
        assert_same(pre[name], expected, name)
    post = clarify.posttraining(counts_d, counts_a)
    for name in POST_NAMES:
        args = (y, facet, yhat) if name in ("DPPL", "DI") else (y, facet, y, yhat)
        expected = getattr(smc_post, name)(*args)
        assert_same(post[name], expected, name)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_conditional_demographic_disparity_equals_smclarify(data):
    facet, y, yhat = facet_case(data)
    strata = pd.Series(data.draw(hnp.arrays(np.int64, len(y), elements=st.integers(0, 3))))
    tensor = np.zeros((2, 4, 2, 2))
    np.add.at(tensor, (facet.astype(int), strata, y.astype(int), yhat.astype(int)), 1)
    for predicted, labels_ in ((False, y), (True, yhat)):
        if labels_.all() or not labels_.any():
            continue  # smclarify refuses: no positive (or negative) outcome at all
        got = clarify.conditional_demographic_disparity(tensor[1], tensor.sum(0),
                                                        predicted=predicted)
        assert got == pytest.approx(smc_common.CDD(y, facet, labels_, strata), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_generalized_entropy_equals_smclarify(data):
    _, y, yhat = facet_case(data)
    got = clarify.generalized_entropy(confusion_of(y.astype(int), yhat.astype(int)))
    if (y & ~yhat).all():
        assert np.isnan(got)
    else:
        assert got == pytest.approx(smc_post.GE(y, yhat), abs=1e-12)


def test_bootstrap_keeps_row_count_and_is_reproducible():
    tensor = np.array([[[30, 5], [7, 20]], [[3, 1], [0, 2]]])
    first = bootstrap_replicates(tensor, n_boot=200, random_state=3)
    assert first.shape == (200, 2, 2, 2)
    assert np.all(first.sum(axis=(1, 2, 3)) == tensor.sum())
    assert np.array_equal(first, bootstrap_replicates(tensor, n_boot=200, random_state=3))


def test_bootstrap_interval_coverage_on_simulated_data():
    """95% intervals for a selection rate cover the true rate about 95% of the time."""
    rng = np.random.default_rng(7)
    true_rate, n, trials, hits = 0.3, 400, 300, 0
    for _ in range(trials):
        yhat = rng.random(n) < true_rate
        counts = confusion_of(np.zeros(n, dtype=int), yhat.astype(int))[None, None]
        replicates = bootstrap_replicates(counts, n_boot=400, random_state=rng)
        rates = GROUP_METRICS["selection_rate"](replicates.sum(axis=2))
        low, high = percentile_interval(rates, 0.95)
        hits += bool(low[0] <= true_rate <= high[0])
    assert 0.90 <= hits / trials <= 0.99


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=12),
                  elements=st.one_of(st.floats(-5, 5), st.just(np.nan), st.just(np.inf))),
       st.sampled_from([0.8, 0.9, 0.95]))
def test_percentile_interval_equals_numpy_nanpercentile(replicates, ci):
    """Vectorised over cells, with NaN and ±inf replicates ignored, as nanpercentile does."""
    low, high = percentile_interval(replicates, ci)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells
        expected = np.nanpercentile(np.where(np.isinf(replicates), np.nan, replicates),
                                    [(1 - ci) * 50, 100 - (1 - ci) * 50], axis=0)
    np.testing.assert_allclose(low, expected[0], atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(high, expected[1], atol=1e-12, equal_nan=True)


def two_column_case(rng, levels, strata):
    """A count tensor over every (a, b) intersection, some of them empty, and its one-hots."""
    groups = levels[0] * levels[1]
    tensor = rng.poisson(1.2, (groups, strata, 2, 2))
    tensor[rng.random(groups) < 0.05] = 0
    codes = [np.repeat(np.arange(levels[0]), levels[1]), np.tile(np.arange(levels[1]), levels[0])]
    return tensor, facet_onehots(codes, list(levels))


@pytest.mark.parametrize(("columns", "strata", "predicted", "method", "ci", "rows"), [
    (1, 1, True, "between_groups", 0.95, 1.2),
    (2, 3, True, "to_overall", 0.9, 1.2),
    (2, 2, False, "between_groups", 0.95, 1.2),
    (1, 2, True, "between_groups", 0.5, 1.2),
    (1, 1, True, "between_groups", 0.95, 60.0),
])
def test_bootstrap_intervals_equal_percentiles_of_every_replicate(monkeypatch, columns, strata,
                                                                   predicted, method, ci, rows):
    """The compiled path (a few dozen groups at a time) equals the NumPy path over whole
    replicate tables (several resampling blocks, empty groups, strata, both disparity methods,
    groups of a few rows and of hundreds: label shares far from and near the rest's, for the
    logs of KL and JS)."""
    monkeypatch.setattr(bias, "_BLOCK_COUNTS", 41 * 16 * 300)  # blocks of 300 groups or fewer
    rng = np.random.default_rng(columns * 10 + strata)
    if columns == 2:
        tensor, onehots = two_column_case(rng, (45, 50), strata)
    else:
        tensor = rng.poisson(rows * rng.choice([0.1, 1, 10], (2300, 1, 1, 1)), (2300, strata, 2, 2))
        tensor[rng.random(2300) < 0.05] = 0
        onehots = facet_onehots([np.arange(2300)], [2300])
    got = bootstrap_intervals(tensor, onehots, predicted=predicted, n_boot=41, ci=ci,
                              random_state=5, method=method)
    replicates = bootstrap_replicates(tensor, n_boot=41, random_state=5)
    expected = bias_statistics(replicates, onehots, predicted=predicted, method=method)
    assert set(got) == set(expected)
    for key, (low, high) in got.items():
        want_low, want_high = percentile_interval(expected[key], ci)
        np.testing.assert_allclose(low, want_low, rtol=0, atol=1e-12, equal_nan=True, err_msg=key)
        np.testing.assert_allclose(high, want_high, rtol=0, atol=1e-12, equal_nan=True,
                                   err_msg=key)


def test_compiled_log_is_within_3_ulp_of_numpy():
    """The kernels' vectorisable log against ``np.log`` over every binade of positive normal
    floats, each side of the √2 split, next to 1, and shares k / n of counts."""
    rng = np.random.default_rng(0)
    edges = np.sqrt(2) * np.ldexp(1.0, np.arange(-60, 60))
    counts = rng.integers(1, 10**6, 2000)
    x = np.concatenate([
        np.exp(rng.uniform(-708, 709, 4000)), rng.random(2000), np.ldexp(1.0, np.arange(-1022, 1024)),
        np.nextafter(edges, 0), edges, np.nextafter(edges, np.inf), 1 + np.ldexp(1.0, -np.arange(1, 53)),
        1 - np.ldexp(1.0, -np.arange(1, 54)), counts / rng.integers(counts, 2 * 10**6),
        np.array([np.finfo(float).tiny, np.finfo(float).max])])
    got = np.array([_bootstrap_cpu._log(v) for v in x])
    expected = np.log(x)
    assert np.all(np.abs(got - expected) <= 3 * np.spacing(np.abs(expected)))


def test_bootstrap_intervals_are_the_same_on_any_number_of_threads():
    """Replicates are counter-based and every task writes its own groups: one thread and all of
    them give the same bits."""
    import numba

    tensor, onehots = two_column_case(np.random.default_rng(4), (40, 30), 2)
    large = tensor.sum(axis=(1, 2, 3)) >= 5
    args = dict(predicted=True, n_boot=30, ci=0.9, random_state=2, large=large)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = bootstrap_intervals(tensor, onehots, **args)
    finally:
        numba.set_num_threads(threads)
    several = bootstrap_intervals(tensor, onehots, **args)
    for key, value in single.items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(several[key]), err_msg=key)


def test_sparse_facet_sums_equal_a_dense_one_hot_product():
    tensor, onehots = two_column_case(np.random.default_rng(3), (6, 7), 2)
    stats = bias_statistics(tensor, onehots, predicted=True)
    for hot, start in zip(onehots, (0, 6)):
        dense = hot.toarray()
        facet = np.einsum("lg,gsyp->lsyp", dense, tensor)
        got = stats["clarify"][start:start + len(dense), 0]  # CI = (n_a - n_d) / n
        n_d, n = facet.sum(axis=(1, 2, 3)), tensor.sum()
        np.testing.assert_allclose(got, (n - 2 * n_d) / n, rtol=0, atol=1e-12)


def test_bootstrap_replicates_are_multinomial_resamples():
    """Cell means and variances of the replicates match Multinomial(N, T / N)."""
    tensor = np.array([[[[300, 50], [70, 200]]], [[[30, 10], [0, 20]]]])
    replicates = bootstrap_replicates(tensor, n_boot=4000, random_state=1).reshape(4000, -1)
    n, p = tensor.sum(), tensor.ravel() / tensor.sum()
    variance = n * p * (1 - p)
    assert np.all(np.abs(replicates.mean(axis=0) - n * p) <= 4 * np.sqrt(variance / 4000))
    np.testing.assert_allclose(replicates.var(axis=0), variance, rtol=0.1)
    assert np.all(replicates[:, p == 0] == 0)


def mid_size_frame(rng, n=14_000):
    """Three sensitive columns (1,400 skewed intersections, small and large groups) and a
    group_variable with three strata."""
    frame = pd.DataFrame({"a": np.char.add("a", (rng.zipf(1.6, n) % 20).astype(str)),
                          "b": np.char.add("b", rng.integers(0, 14, n).astype(str)),
                          "c": rng.choice(["x", "y", "z", "w", "v"], n, p=[.4, .3, .2, .07, .03]),
                          "s": rng.integers(0, 3, n), "y": rng.integers(0, 2, n)})
    return frame.assign(p=(rng.random(n) < 0.3 + 0.4 * frame["y"]).astype(int))


def full_replicates(counts, onehots, n_boot, seed, ci, min_group_size, spread):
    """The path over whole replicate tables, as weighted counts take it."""
    reps = bias_statistics(_bias_tables._replicates(counts, n_boot, seed), onehots,
                           predicted=counts.predicted)
    return reps, {**spread, "replicates": reps["by_group"]}


@pytest.mark.parametrize("predicted", [True, False])
def test_bias_intervals_and_findings_equal_the_full_replicate_path(monkeypatch, predicted):
    """``rai_nb.bias`` takes unweighted intervals and findings from the count tensor; they are
    those of percentiles over every replicate's tables (the same replicates are drawn)."""
    monkeypatch.setattr(bias, "_BLOCK_COUNTS", 40 * 12 * 500)  # blocks of 500 groups
    frame = mid_size_frame(np.random.default_rng(11))
    kwargs = dict(target="y", prediction="p" if predicted else None, sensitive=["a", "b", "c"],
                  group_variable="s", n_boot=40, ci=0.9, random_state=4, min_group_size=25)
    got = rai_nb.bias(frame, **kwargs)
    monkeypatch.setattr(_bias_tables, "_binary_replicates", full_replicates)
    expected = rai_nb.bias(frame, **kwargs)
    assert len(got.by_group) > 1000 and got.intervals.index.equals(expected.intervals.index)
    np.testing.assert_allclose(got.intervals.to_numpy(), expected.intervals.to_numpy(), rtol=0,
                               atol=1e-12, equal_nan=True)
    if predicted:
        assert (got.decisive["high_rows"] >= 25).all() and got.decisive["lower"].notna().all()
        pd.testing.assert_frame_equal(got.decisive, expected.decisive, rtol=0, atol=1e-12)
