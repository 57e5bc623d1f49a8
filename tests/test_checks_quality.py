"""Quality and leakage kernels and the table encoder, against pandas, scipy, sklearn and brute force."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats.contingency import association
from sklearn.metrics import mutual_info_score, roc_auc_score

from rai_nb.backend import to_device
from rai_nb.checks import leakage as kl
from rai_nb.checks import quality as kq
from rai_nb.frame import encode_tables


def small_table(data, n_rows, n_columns=3, levels=3):
    return data.draw(hnp.arrays(np.int64, (n_columns, n_rows), elements=st.integers(0, levels)))


@settings(max_examples=100, deadline=None)
@given(st.data(), st.integers(1, 60))
def test_duplicates_and_conflicts_equal_pandas(data, n):
    keys = small_table(data, n)
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
    frame = pd.DataFrame(keys.T).assign(y=labels)
    hashes = kq.row_hashes(keys)
    assert kq.duplicate_rows(hashes) == (int(frame.drop(columns="y").duplicated().sum()),
                                         int((frame.drop(columns="y").value_counts() > 1).sum()))
    groups = frame.groupby([0, 1, 2])["y"].agg(["nunique", "size"])
    conflict = groups[groups["nunique"] > 1]
    assert kq.conflicting_labels(hashes, labels, n_labels=3) == (int(conflict["size"].sum()),
                                                                 len(conflict))
    # Continuing a hash equals hashing the stacked keys.
    both = kq.row_hashes(labels[None, :], state=hashes)
    np.testing.assert_array_equal(both, kq.row_hashes(np.vstack([keys, labels[None, :]])))


def test_quality_kernels_on_every_namespace(xp):
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 4, (3, 200))
    keys[:, 50:60] = keys[:, :10]
    labels = rng.integers(0, 2, 200)
    hashes = kq.row_hashes(to_device(keys, xp), xp=xp)
    frame = pd.DataFrame(keys.T)
    assert kq.duplicate_rows(hashes, xp=xp)[0] == frame.duplicated().sum()
    expected = kq.conflicting_labels(kq.row_hashes(keys), labels, n_labels=2)
    assert kq.conflicting_labels(hashes, to_device(labels, xp), n_labels=2, xp=xp) == expected
    missing = rng.random((4, 200)) < 0.2
    groups = rng.integers(0, 3, 200)
    got = kq.missing_by_group(to_device(missing, xp), to_device(groups, xp), n_groups=3, xp=xp)
    np.testing.assert_array_equal(got, pd.DataFrame(missing.T).groupby(groups).sum().to_numpy())
    np.testing.assert_array_equal(kq.missing_by_group(to_device(missing, xp), xp=xp)[0],
                                  missing.sum(axis=1))
    values = np.where(rng.random((2, 200)) < 0.1, np.nan, rng.normal(size=(2, 200)).round(1))
    for got_sorted, row in zip(kq.sorted_columns(to_device(values, xp), xp=xp), values):
        expected_sorted = np.sort(row[~np.isnan(row)])
        np.testing.assert_array_equal(np.asarray(got_sorted), expected_sorted)
        profile = kq.value_profile(got_sorted, xp=xp)
        uniques, counts = np.unique(expected_sorted, return_counts=True)
        assert (profile.n_values, profile.n_distinct, profile.top_count) == (
            expected_sorted.size, uniques.size, counts.max())


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 80),
                  elements=st.floats(-1e3, 1e3).map(lambda v: round(v, 0))))
def test_outliers_equal_brute_force(values):
    values = np.sort(values)
    found = kq.outliers(values)
    q1, q3 = np.percentile(values, [25, 75])
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    assert found.iqr == np.sum((values < low) | (values > high))
    median = np.median(values)
    mad = np.median(np.abs(values - median))
    z = 0.6745 * (values - median) / mad if mad > 0 else np.zeros_like(values)
    assert found.robust_z == np.sum(np.abs(z) > 3.5)
    assert found.quartiles == (q1, median, q3)
    assert (found.low, found.high) == (values.min(), values.max())


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 80), elements=st.one_of(
    st.floats(-1e3, 1e3).map(lambda v: round(v, 0)), st.sampled_from([-np.inf, np.inf]))))
def test_outliers_with_infinities_equal_brute_force(values):
    """±inf lie beyond any finite fence; where the quartiles and MAD are finite they equal those
    of the sample with each infinity moved far out (order is all they depend on)."""
    values = np.sort(values)
    far = np.clip(values, -1e9, 1e9)
    q1, median, q3 = np.percentile(far, [25, 50, 75])
    mad = np.median(np.abs(far - median))
    assume(max(abs(q1), abs(q3), mad) < 1e6)
    found = kq.outliers(values)
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    assert found.iqr == np.sum((values < low) | (values > high))
    deviation = np.abs(values - median)
    expected = np.sum(0.6745 * deviation / mad > 3.5) if mad > 0 else 0
    assert found.robust_z == expected
    finite = values[np.isfinite(values)]
    ends = (finite.min(), finite.max()) if finite.size else (np.nan, np.nan)
    np.testing.assert_array_equal((found.low, found.high), ends)


@pytest.mark.parametrize("distinct,quartiles,reason", [
    (16, (9.0, 10.0, 12.0), "16 distinct values"),  # Adult's education_num: ordinal
    (2, (0.0, 0.0, 0.0), "2 distinct values"),
    (123, (0.0, 0.0, 0.0), "fences collapse to 0–0"),  # Adult's capital_gain: zero-inflated
    (40, (2.0, 2.0, 2.0), "fences collapse to 2–2"),
    (96, (40.0, 40.0, 45.0), "heaped at 40"),  # Adult's hours_per_week: 47 % at 40
    (96, (1.0, 3.0, 3.0), "heaped at 3"),
    (21_648, (117_827.0, 178_356.0, 237_051.0), ""),  # Adult's fnlwgt: continuous
])
def test_outlier_skip_names_ordinal_and_heaped_columns(distinct, quartiles, reason):
    got = kq.outlier_skip(distinct, quartiles)
    assert got.startswith(reason) and bool(got) == bool(reason)


def offset_of(values):
    found = kq.outliers(np.sort(np.asarray(values, dtype=np.float64)))
    return kq.spread_offset(found.low, found.quartiles, found.high)


@settings(max_examples=50, deadline=None)
@given(st.integers(20, 5000), st.integers(-10**6, 10**6))
def test_running_index_spreads_evenly(n, start):
    assert offset_of(np.arange(start, start + n)) <= 1 / n


@pytest.mark.parametrize("seed", range(5))
def test_ids_spread_evenly_and_amounts_do_not(seed):
    """A random subset of an index (a split of an id column) and random ids pass as identifiers;
    skewed and bell-shaped amounts do not. The offset equals one computed with numpy."""
    rng = np.random.default_rng(seed)
    assert offset_of(rng.choice(10_000, size=500, replace=False)) <= kq.MAX_ID_SPREAD_OFFSET
    assert offset_of(rng.integers(0, 2**40, size=500)) <= kq.MAX_ID_SPREAD_OFFSET
    for amount in (np.rint(rng.lognormal(8, 1, size=500)), np.rint(rng.normal(1e5, 1e4, 500))):
        quartiles, width = np.percentile(amount, [25, 50, 75]), np.ptp(amount)
        even = amount.min() + width * np.array([0.25, 0.5, 0.75])
        offset = offset_of(amount)
        assert offset == pytest.approx(np.abs(quartiles - even).max() / width, rel=1e-12)
        assert offset > kq.MAX_ID_SPREAD_OFFSET


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(2, 60))
def test_association_equals_scipy_and_sklearn(data, n):
    a = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 4)))
    b = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
    table = kl.contingency(a, b, n_a=5, n_b=3)
    np.testing.assert_array_equal(table, pd.crosstab(a, b).reindex(
        index=range(5), columns=range(3), fill_value=0).to_numpy())
    got = kl.association(table)
    assert got.mutual_information == pytest.approx(mutual_info_score(a, b), abs=1e-12)
    if len(np.unique(a)) < 2 or len(np.unique(b)) < 2:
        assert got.cramers_v == 0.0
        return
    observed = table[table.sum(1) > 0][:, table.sum(0) > 0]
    assert got.cramers_v == pytest.approx(association(observed, method="cramer"), abs=1e-9)
    # Bergsma's correction, written out.
    r, c = observed.shape
    phi2 = got.cramers_v**2 * (min(r, c) - 1)
    phi2c = max(0, phi2 - (r - 1) * (c - 1) / (n - 1))
    rc, cc = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    expected = np.sqrt(phi2c / (min(rc, cc) - 1)) if min(rc, cc) > 1 else 0.0
    # Squared: near zero the square root turns rounding of phi2c (~1e-16) into ~1e-8.
    assert got.cramers_v_corrected**2 == pytest.approx(min(expected, 1.0) ** 2, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(2, 60))
def test_numeric_auc_equals_sklearn(data, n):
    x = data.draw(hnp.arrays(np.float64, n, elements=st.integers(-5, 5).map(float)))
    y = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    if y.min() == y.max():
        assert np.isnan(kl.numeric_auc(x, y))
        return
    auc = roc_auc_score(y, x)
    assert kl.numeric_auc(x, y) == pytest.approx(max(auc, 1 - auc), abs=1e-12)


def test_leakage_kernels_on_every_namespace(xp):
    rng = np.random.default_rng(3)
    x = np.where(rng.random(300) < 0.1, np.nan, rng.normal(size=300).round(1))
    y = (rng.random(300) < 0.4).astype(np.int64)
    keep = ~np.isnan(x)
    auc = roc_auc_score(y[keep], x[keep])
    assert kl.numeric_auc(to_device(x, xp), to_device(y, xp), xp=xp) == pytest.approx(
        max(auc, 1 - auc), abs=1e-12)
    edges = np.array([-0.5, 0.0, 0.5])
    codes = np.asarray(kl.bin_codes(to_device(x, xp), edges, xp=xp))
    np.testing.assert_array_equal(codes, np.where(keep, np.searchsorted(edges, np.nan_to_num(x)),
                                                  4))
    # Cross-fitted AUC: an identifier scores 0.5, a copy of the label scores 1.
    half = to_device(np.arange(300) % 2, xp)
    ids = to_device(np.arange(300), xp)
    assert kl.cross_fitted_auc(ids, to_device(y, xp), half, n_levels=300, xp=xp) == 0.5
    assert kl.cross_fitted_auc(to_device(y, xp), to_device(y, xp), half, n_levels=2, xp=xp) == 1.0


def brute_label_issues(p, y):
    k = p.shape[1]
    thresholds = np.array([p[y == j, j].mean() for j in range(k)])
    issues = []
    for row, label in zip(p, y):
        above = [j for j in range(k) if row[j] >= thresholds[j]]
        best = max(above, key=lambda j: row[j]) if above else None
        issues.append(best is not None and best != label)
    return np.array(issues)


def test_label_issues_equal_brute_force(xp):
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(3), size=120)
    y = rng.integers(0, 3, 120)
    issue, confidence, _ = kl.label_issues(to_device(p, xp), to_device(y, xp), n_classes=3, xp=xp)
    np.testing.assert_array_equal(issue, brute_label_issues(p, y))
    np.testing.assert_allclose(confidence, p[np.arange(120), y], atol=1e-15)


def test_encode_tables_shares_vocabulary_and_reports_schema_changes():
    ref = pd.DataFrame({"c": ["a", "b", None, "a"], "x": [1, 2, 3, 4], "gone": [1, 1, 1, 1],
                        "kind": [1.0, 2.0, 3.0, 4.0]})
    cur = pd.DataFrame({"c": ["b", "z", "a"], "x": [1.5, np.inf, None], "new": [0, 0, 0],
                        "kind": ["p", "q", "r"], "mixed": [1, "a", 2.5]})
    saved = (ref.copy(), cur.copy())
    table, ref_table, changes = encode_tables(cur, ref)
    pd.testing.assert_frame_equal(ref, saved[0])
    pd.testing.assert_frame_equal(cur, saved[1])
    assert changes.missing == ("gone",) and changes.new == ("new", "mixed")
    assert changes.kind_changes == {"kind": ("numeric", "categorical")}
    assert changes.dtype_changes == {"x": ("int64", "float64")}
    assert table.categorical_names == ("c",) and table.levels == (("a", "b", "z"),)
    np.testing.assert_array_equal(ref_table.codes[0], [0, 1, -1, 0])
    np.testing.assert_array_equal(table.codes[0], [1, 2, 0])
    assert changes.n_reference_levels == {"c": 2}
    np.testing.assert_array_equal(table.numeric[0], [1.5, np.inf, np.nan])  # inf is a value
    alone, _, _ = encode_tables(cur)
    assert alone.schema["mixed"].mixed_types == ("float", "int", "str")
    keys = alone.row_keys()
    assert keys.shape == (5, 3) and keys.dtype == np.int64
    np.testing.assert_array_equal(alone.row_keys([4, 0, 2]), keys[[4, 0, 2]])
