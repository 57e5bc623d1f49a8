"""Sampled steps follow ``random_state`` and the rows' contents, never the rows' positions.

The MMD drift test, the out-of-fold label-error check, the leakage and proxy AUCs, the flip
test and the audit's explanation must give the same result on shuffled rows, on a reset or
renamed index, on a rerun and on Dask partitions, and a different one for another seed (issue
#21, item 15); the statistics stay right (brute force).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rai_nb
from rai_nb.checks.mmd import mmd_test
from rai_nb.datasets import load_adult
from rai_nb.frame import _sampling as sampling

NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain"]


@pytest.fixture(scope="module")
def adult():
    """3,000 test and 3,000 train rows of Adult, with 60 exact copies of test rows added."""
    test = load_adult(split="test").drop(columns="split").iloc[:3000]
    train = load_adult(split="train").drop(columns="split").iloc[:3000]
    return pd.concat([test, test.iloc[:60]], ignore_index=True), train


def _shuffled(frame, seed):
    order = np.random.default_rng(seed).permutation(len(frame))
    return frame.iloc[order], order


def _mmd(current, reference, **options):
    result = rai_nb.drift(reference, current, columns=NUMERIC, mmd_rows=400,
                          n_permutations=100, **options)
    return result.mmd["statistic"], result.mmd["p_value"]


def _label_errors(frame, **options):
    result = rai_nb.validate(frame, target="income", checks=["label_errors"],
                             label_error_rows=900, **options)
    return result.checks.loc["label_errors", "message"], result.details["label_errors"]


def _contents(frame, rows):
    """Sorted content hashes of ``rows``: equal exactly when the rows are equal as a multiset."""
    return np.sort(sampling.frame_hashes(frame.iloc[rows]))


# --- the sample itself ------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.integers(1, 45),
       st.integers(0, 2**62), st.randoms(use_true_random=False))
def test_sample_follows_contents_not_positions(values, k, seed, random):
    hashes = np.array(values, dtype=np.uint64)
    order = np.array(random.sample(range(len(values)), len(values)))
    rows = sampling.sample_positions(hashes, k, seed)
    moved = sampling.sample_positions(hashes[order], k, seed)
    np.testing.assert_array_equal(hashes[order][moved], hashes[rows])
    assert rows.size == min(k, len(values)) and np.unique(rows).size == rows.size


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=60), st.integers(1, 30),
       st.integers(1, 5), st.lists(st.integers(0, 60), max_size=5))
def test_partitioned_sample_equals_one_partition(values, k, n_buckets, cuts):
    hashes = np.array(values, dtype=np.uint64)
    parts = np.split(hashes, sorted(c for c in cuts if c <= len(values)))
    counted = [sampling.count_hashes(p, n_buckets) for p in parts]
    chosen = sampling.merge([sampling.bottom_k([c[b] for c in counted], k, 7)
                             for b in range(n_buckets)], k)
    starts = np.cumsum([0] + [len(p) for p in parts])
    positions = np.concatenate([sampling.first_copies(p, chosen) + s
                                for p, s in zip(parts, starts)])
    got = sampling.arrange(chosen, positions, hashes[positions])
    np.testing.assert_array_equal(got, sampling.sample_positions(hashes, k, 7))


def test_copies_of_a_row_are_sampled_in_proportion():
    """A row present 20 times among 100 is drawn 20 / 100 × k times on average, not 0 or 20."""
    hashes = np.concatenate([np.zeros(20), np.arange(1, 81)]).astype(np.uint64)
    drawn = np.array([np.count_nonzero(hashes[sampling.sample_positions(hashes, 10, s)] == 0)
                      for s in range(400)])
    assert drawn.mean() == pytest.approx(2.0, abs=4 * drawn.std() / 20)
    assert drawn.max() < 10


def test_a_generator_gives_the_seed_it_was_made_from():
    assert sampling.seed_of(np.random.default_rng(5)) == sampling.seed_of(5) != sampling.seed_of(6)


# --- MMD --------------------------------------------------------------------------------------

def test_mmd_ignores_row_order_and_index(adult):
    current, reference = adult
    expected = _mmd(current, reference)
    shuffled = _shuffled(current, 1)[0].set_index(pd.Index(np.arange(len(current))[::-1] * 3))
    assert _mmd(shuffled, _shuffled(reference, 2)[0].reset_index(drop=True)) == expected
    assert _mmd(current, reference) == expected
    assert _mmd(current, reference, random_state=1) != expected


def test_mmd_on_dask_equals_pandas(adult):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    current, reference = adult
    statistic, pvalue = _mmd(current, reference)
    with dask.config.set(scheduler="sync"):
        lazy = _mmd(dd.from_pandas(_shuffled(current, 3)[0], npartitions=4),
                    dd.from_pandas(_shuffled(reference, 4)[0], npartitions=3))
    assert lazy[0] == pytest.approx(statistic, rel=1e-9) and lazy[1] == pvalue


def _unbiased_mmd2(x, y, sigma):
    def kernel_sum(a, b, same):
        k = np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (2 * sigma**2))
        return k.sum() - (np.trace(k) if same else 0.0)
    m, n = len(x), len(y)
    return (kernel_sum(x, x, True) / (m * (m - 1)) + kernel_sum(y, y, True) / (n * (n - 1))
            - 2 * kernel_sum(x, y, False) / (m * n))


def test_mmd_statistic_and_pvalue_equal_brute_force():
    """All rows taken (mmd_rows ≥ rows): MMD² equals the brute-force sum on the reference-
    standardised values, and the p-value is within binomial error of the exact permutation
    p-value over all C(11, 4) relabellings."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(rng.normal(size=(4, 2)), columns=["a", "b"])
    current = pd.DataFrame(rng.normal(0.8, 1.0, size=(7, 2)), columns=["a", "b"])
    result = rai_nb.drift(reference, current, mmd_rows=50, n_permutations=4000).mmd
    centre, spread = reference.mean().to_numpy(), reference.std(ddof=0).to_numpy()
    x, y = ((f.to_numpy() - centre) / spread for f in (reference, current))
    sigma = result["bandwidth"]
    observed = _unbiased_mmd2(x, y, sigma)
    assert result["statistic"] == pytest.approx(observed, rel=1e-9)
    points = np.concatenate([x, y])
    null = [_unbiased_mmd2(points[list(c)], np.delete(points, list(c), axis=0), sigma)
            for c in combinations(range(11), 4)]
    exact = np.mean(np.array(null) >= observed - 1e-12)
    error = np.sqrt(exact * (1 - exact) / 4000)
    assert abs(result["p_value"] - exact) <= 4 * error + 2 / 4000


def test_mmd_statistic_is_that_of_the_content_sample():
    """With fewer ``mmd_rows`` than rows, MMD² is the brute-force one on the bottom-k rows."""
    from rai_nb.frame import _row_sample as rs
    from rai_nb.frame import encode_tables

    rng = np.random.default_rng(3)
    reference = pd.DataFrame(rng.normal(size=(250, 2)), columns=["a", "b"])
    current = pd.DataFrame(rng.normal(0.2, 1.0, size=(300, 2)), columns=["a", "b"])
    result = rai_nb.drift(reference, current, mmd_rows=40, n_permutations=20,
                          random_state=4).mmd
    cur, ref, _ = encode_tables(current, reference)
    seed = sampling.seed_of(4)

    def sample(table, frame, stream):
        rows = sampling.sample_positions(rs._hashes(table, {}), 40,
                                         sampling.substream(seed, stream))
        return ((frame.iloc[rows] - reference.mean()) / reference.std(ddof=0)).to_numpy()

    expected = _unbiased_mmd2(sample(ref, reference, rs.MMD_REFERENCE),
                              sample(cur, current, rs.MMD_CURRENT), result["bandwidth"])
    assert result["statistic"] == pytest.approx(expected, rel=1e-9)


def test_mmd_kernel_pvalue_equals_brute_force_on_its_order():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 3)), rng.normal(0.5, 1.0, size=(6, 3))
    test = mmd_test(x, y, n_permutations=3000, random_state=0)
    points = np.concatenate([x, y])
    null = [_unbiased_mmd2(points[list(c)], np.delete(points, list(c), axis=0), test.bandwidth)
            for c in combinations(range(11), 5)]
    exact = np.mean(np.array(null) >= test.statistic - 1e-12)
    assert abs(test.pvalue - exact) <= 4 * np.sqrt(exact * (1 - exact) / 3000) + 2 / 3000


# --- label errors -----------------------------------------------------------------------------

def test_label_errors_ignore_row_order_and_index(adult):
    current, _ = adult
    message, details = _label_errors(current)
    assert "sample of 900 rows" in message and len(details) > 0
    shuffled, order = _shuffled(current, 5)
    moved_message, moved = _label_errors(shuffled.set_index(shuffled.index.astype(str)))
    assert moved_message == message
    np.testing.assert_array_equal(moved["self_confidence"], details["self_confidence"])
    np.testing.assert_array_equal(_contents(current, moved.index.astype(int)),  # labels
                                  _contents(current, details.index))
    pd.testing.assert_frame_equal(_label_errors(current.reset_index(drop=True))[1], details)
    pd.testing.assert_frame_equal(_label_errors(current)[1], details)
    other = _label_errors(current, random_state=1)[1]
    assert not other.index.equals(details.index)


def test_label_errors_on_dask_equal_pandas(adult):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    shuffled, _ = _shuffled(adult[0], 6)
    message, details = _label_errors(shuffled)
    with dask.config.set(scheduler="sync"):
        lazy_message, lazy = _label_errors(dd.from_pandas(shuffled, npartitions=5, sort=False))
        # from_pandas sorts by index: the rows in another order give the same rows
        sorted_message, by_index = _label_errors(dd.from_pandas(shuffled, npartitions=3))
    assert lazy_message == sorted_message == message
    pd.testing.assert_frame_equal(lazy, details)
    np.testing.assert_array_equal(_contents(adult[0], by_index.index),  # index labels
                                  _contents(adult[0], details.index))


@settings(max_examples=8, deadline=None)
@given(st.permutations(range(120)))
def test_label_errors_and_mmd_any_permutation(order):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.integers(0, 4, 120).astype(float), "z": rng.normal(size=120),
                          "c": rng.choice(["a", "b"], 120)})
    frame["y"] = (frame["x"] + rng.normal(size=120) > 1.5).astype(int)
    frame = pd.concat([frame, frame.iloc[:30]], ignore_index=True)  # repeated rows
    order = np.array(list(order) + list(range(120, 150)))
    reference = frame.assign(z=frame["z"] + 0.3)
    moved = frame.iloc[order]

    def result(data, ref):
        out = rai_nb.validate(data, reference=ref, target="y", mmd_rows=60, n_permutations=50,
                              label_error_rows=80, checks=["label_errors",
                                                           "multivariate_drift"])
        return out.checks["message"].tolist(), out.details["label_errors"]

    messages, details = result(frame, reference)
    moved_messages, moved_details = result(moved, reference.iloc[order[::-1]])
    assert moved_messages == messages
    np.testing.assert_array_equal(_contents(frame, moved_details.index),  # index labels
                                  _contents(frame, details.index))


# --- flip test --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compas_model():
    from sklearn.ensemble import RandomForestClassifier

    compas = rai_nb.load_compas()
    compas["male"] = (compas["sex"] == "Male").astype(int)
    features = ["age", "priors_count", "juv_fel_count", "male"]
    model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(
        compas[features], compas["two_year_recid"])
    return model, pd.concat([compas, compas.iloc[:50]], ignore_index=True), features


def test_flip_test_ignores_row_order_and_index(compas_model):
    """COMPAS' integer features put many neighbours at equal distance: the ties used to follow
    the row order."""
    model, data, features = compas_model
    expected = rai_nb.flip_test(model, data, sensitive=["male", "race"], features=features)
    for moved in (_shuffled(data, 7)[0], _shuffled(data, 8)[0].reset_index(drop=True),
                  data.set_index(data.index.astype(str) + "x")):
        got = rai_nb.flip_test(model, moved, sensitive=["male", "race"], features=features)
        pd.testing.assert_frame_equal(got.flip, expected.flip)
        pd.testing.assert_frame_equal(got.invariance, expected.invariance)


# --- leakage and proxy AUCs -------------------------------------------------------------------

@pytest.fixture
def small_auc_rows(monkeypatch):
    """``auc_rows`` of 1,000, below the 3,060 rows: the numeric AUCs read the content sample."""
    from rai_nb.api import _validate

    original = _validate.check_options
    monkeypatch.setattr(_validate, "check_options", lambda **k: {**original(**k), "auc_rows": 1000})


def _associations(frame, **options):
    result = rai_nb.validate(frame, target="income", sensitive=["sex", "race"],
                             checks=["label_leakage", "proxies"], **options)
    return result.details["label_leakage"], result.details["proxies"]


def test_leakage_and_proxies_ignore_row_order_and_index(adult, small_auc_rows):
    current, _ = adult
    leakage, proxies = _associations(current)
    assert leakage["auc"].notna().all() and proxies["auc"].notna().any()
    shuffled = _shuffled(current, 9)[0]
    for moved in (shuffled, shuffled.reset_index(drop=True),
                  shuffled.set_index(shuffled.index.astype(str) + "r")):
        got_leakage, got_proxies = _associations(moved)
        pd.testing.assert_frame_equal(got_leakage, leakage, check_exact=True)
        pd.testing.assert_frame_equal(got_proxies, proxies, check_exact=True)
    other_leakage, other_proxies = _associations(current, random_state=1)
    for column in ("age", "relationship"):  # a numeric sample, and the cross-fit halves
        assert other_leakage.loc[column, "auc"] != leakage.loc[column, "auc"]
    assert not np.array_equal(other_proxies["auc"].to_numpy(), proxies["auc"].to_numpy())


def test_leakage_and_proxies_on_dask_equal_pandas(adult, small_auc_rows):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    shuffled = _shuffled(adult[0], 10)[0]
    leakage, proxies = _associations(adult[0])
    with dask.config.set(scheduler="sync"):
        got = [_associations(dd.from_pandas(shuffled, npartitions=n, sort=False)) for n in (1, 4)]
    for got_leakage, got_proxies in got:
        pd.testing.assert_frame_equal(got_leakage, leakage, check_exact=True)
        pd.testing.assert_frame_equal(got_proxies, proxies, check_exact=True)


def test_leakage_aucs_equal_brute_force_on_the_content_sample_and_halves(adult, small_auc_rows):
    """A numeric AUC is scikit-learn's on the bottom-k rows of the row hashes; a categorical one
    is fitted on one content half, measured by scikit-learn on the other, and averaged."""
    from sklearn.metrics import roc_auc_score

    from rai_nb.checks import leakage as kl
    from rai_nb.frame import _row_sample as rs
    from rai_nb.frame import encode_tables

    current = adult[0]
    leakage, _ = _associations(current, random_state=3)
    table = encode_tables(current, None)[0]
    hashes = rs._hashes(table, {"income": "target"})
    seed = sampling.seed_of(3)
    y = (current["income"] == sorted(current["income"].unique())[-1]).to_numpy()
    rows = sampling.sample_positions(hashes, 1000, sampling.substream(seed, rs.AUC_ROWS))
    auc = roc_auc_score(y[rows], current["age"].to_numpy()[rows])
    assert leakage.loc["age", "auc"] == pytest.approx(max(auc, 1 - auc), abs=1e-12)
    half = kl.cross_fit_halves(hashes, sampling.substream(seed, rs.CROSS_FIT)).astype(bool)
    level = current["relationship"].to_numpy()

    def fitted_on(fit):
        rate = pd.Series(y[fit]).groupby(level[fit]).mean()
        score = pd.Series(level[~fit]).map(rate).fillna(y[fit].mean())
        return roc_auc_score(y[~fit], score)

    expected = (fitted_on(half) + fitted_on(~half)) / 2
    assert leakage.loc["relationship", "auc"] == pytest.approx(expected, abs=1e-12)


# --- audit's explanation sample ---------------------------------------------------------------

def _explained(model, data, features, **options):
    result = rai_nb.audit(model, data, target="two_year_recid", sensitive=["sex", "race"],
                          features=features, n_boot=10, sample=150, progress=False, **options)
    return result.importance, result.group_importance, np.asarray(result.explanation.values)


@pytest.fixture(scope="module")
def compas_audited(compas_model):
    """2,050 COMPAS rows (50 repeated) and the audit's explanation of them."""
    model, data, features = compas_model
    data = pd.concat([data.iloc[:2000], data.iloc[-50:]])
    return model, data, features, _explained(model, data, features)


def test_audit_explanation_ignores_row_order_and_index(compas_audited):
    model, data, features, (importance, by_group, values) = compas_audited
    shuffled = _shuffled(data, 11)[0].reset_index(drop=True)
    got_importance, got_by_group, got_values = _explained(model, shuffled, features)
    pd.testing.assert_series_equal(got_importance, importance, check_exact=True)
    pd.testing.assert_frame_equal(got_by_group, by_group, check_exact=True)
    np.testing.assert_array_equal(got_values, values)
    other = _explained(model, data, features, random_state=1)[0]
    assert not np.array_equal(other.to_numpy(), importance.reindex(other.index).to_numpy())


def test_explanation_rows_follow_contents():
    """The sample is of whole rows over the features and sensitive columns: equal under another
    order or index, each copy of a repeated row drawn on its own."""
    from rai_nb.frame._predictions import sample_rows

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.integers(0, 3, 300), "s": rng.choice(["a", "b"], 300),
                          "other": rng.normal(size=300)})
    options = dict(features=["x"], sensitive="s", random_state=0)
    rows = sample_rows(frame, 40, **options)
    moved = _shuffled(frame, 12)[0].set_index(pd.Index(np.arange(300) * 7 + 1))
    pd.testing.assert_frame_equal(sample_rows(moved, 40, **options)[["x", "s"]].reset_index(drop=True),
                                  rows[["x", "s"]].reset_index(drop=True))
    assert len(rows) == 40 and rows.index.is_unique  # six contents, forty rows


def test_audit_explanation_on_dask_equals_pandas(compas_audited):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    model, data, features, (importance, by_group, values) = compas_audited
    with dask.config.set(scheduler="sync"):
        lazy = dd.from_pandas(_shuffled(data, 13)[0], npartitions=4, sort=False)
        got_importance, got_by_group, got_values = _explained(model, lazy, features)
    pd.testing.assert_series_equal(got_importance, importance, check_exact=True)
    pd.testing.assert_frame_equal(got_by_group, by_group, check_exact=True)
    np.testing.assert_array_equal(got_values, values)


def test_frame_hashes_of_unhashable_cells_hash_their_repr():
    frame = pd.DataFrame({"n": [1, 2, 1, 1], "tags": [[1, 2], {"k": 1}, [1, 2], [2, 1]],
                          "c": ["u", "v", "u", "u"]})
    hashes = sampling.frame_hashes(frame)
    assert hashes[0] == hashes[2] and len(set(hashes[[0, 1, 3]].tolist())) == 3
    printed = frame.assign(tags=frame["tags"].map(repr))
    np.testing.assert_array_equal(hashes, sampling.frame_hashes(printed))
    np.testing.assert_array_equal(sampling.frame_hashes(printed),
                                  pd.util.hash_pandas_object(printed, index=False).to_numpy())
