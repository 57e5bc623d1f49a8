"""``validate`` and ``drift`` on every engine (in-memory partitions, a multi-process Dask
LocalCluster, Spark ``local[2]``) equal the pandas path.

Every statistic is exact on partitions, and the subsamples (AUC above ``auc_rows``, label errors, MMD)
take the same rows as pandas, so every table matches to 1e-12; only moments (reference mean and
standard deviation, pooled over partitions) differ from a single pass in the last bits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

import rai_nb
from rai_nb.checks import ecdf

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")


def as_pandas(frame) -> pd.DataFrame:
    """The rows an engine's frame holds, as pandas (what the engine's partitions hold)."""
    if hasattr(frame, "toPandas"):
        return frame.toPandas()
    if hasattr(frame, "compute"):
        return frame.compute()
    return pd.concat(frame.parts.collect())


@pytest.fixture
def adult(to_engine):
    train, test = (rai_nb.load_adult(split=s).drop(columns="split") for s in ("train", "test"))
    test = test.sample(8000, random_state=1).reset_index(drop=True)
    test.loc[test["sex"] == "Female", "occupation"] = None  # missingness tied to a group
    test.loc[:40, "age"] = np.nan
    test = pd.concat([test, test.iloc[:120]], ignore_index=True)  # 1.5 % duplicated rows
    return to_engine(train, 6), to_engine(test, 5)


@pytest.fixture
def compas(to_engine):
    frame = rai_nb.load_compas()
    return to_engine(frame.iloc[:3500], 5), to_engine(frame.iloc[3500:].reset_index(drop=True), 7)


def assert_same_validation(got, expected):
    diff = got.checks.compare(expected.checks)
    assert diff.empty, diff.to_string()
    for name, table in expected.details.items():
        if table is None:
            assert got.details.get(name) is None
        else:
            pd.testing.assert_frame_equal(got.details[name], table, rtol=1e-12, atol=1e-12)


def assert_same_drift(got, expected):
    pd.testing.assert_frame_equal(got.columns, expected.columns, rtol=1e-12, atol=1e-12)
    if expected.mmd is None:
        assert got.mmd is None
    else:
        assert got.mmd == pytest.approx(expected.mmd, rel=1e-12, abs=1e-12)


def test_adult_validate_equals_pandas(to_engine, adult):
    train, test = adult
    options = dict(target="income", sensitive=["sex", "race"], n_permutations=50)
    got = rai_nb.validate(test, reference=train, **options)
    expected = rai_nb.validate(as_pandas(test), reference=as_pandas(train), **options)
    assert_same_validation(got, expected)
    assert got.checks.loc["duplicates", "severity"] != "pass"
    assert got.checks.loc["group_missingness", "severity"] != "pass"


def test_compas_validate_equals_pandas_with_many_class_target(to_engine, compas):
    """decile_score as target (10 classes) and a >20-value target binned at exact deciles."""
    ref, cur = compas
    for target in ("decile_score", "priors_count"):
        options = dict(target=target, sensitive="race", prediction="v_decile_score",
                       n_permutations=30, label_error_rows=1500)
        got = rai_nb.validate(cur, reference=ref, **options)
        expected = rai_nb.validate(as_pandas(cur), reference=as_pandas(ref), **options)
        assert_same_validation(got, expected)


def test_drift_equals_pandas_and_scipy(to_engine, compas):
    from scipy import stats

    ref, cur = compas
    got = rai_nb.drift(ref, cur, target="two_year_recid", n_permutations=50)
    expected = rai_nb.drift(as_pandas(ref), as_pandas(cur), target="two_year_recid",
                            n_permutations=50)
    assert_same_drift(got, expected)
    a, b = (as_pandas(f)["priors_count"].to_numpy(float) for f in (ref, cur))
    assert got.columns.loc["priors_count", "ks"] == pytest.approx(stats.ks_2samp(a, b).statistic,
                                                                  abs=1e-15)
    assert got.columns.loc["priors_count", "wasserstein"] == pytest.approx(
        stats.wasserstein_distance(a, b), rel=1e-12)


def test_refined_ks_bins_match_pandas(to_engine, adult, monkeypatch):
    """With a tiny gather limit the KS/W1 bins are split over several passes (the driver runs
    here, so patching it is enough) and the result is still the full-sort one."""
    train, test = adult
    monkeypatch.setattr(ecdf, "FIRST_BINS", 16)
    monkeypatch.setattr(ecdf, "GATHER_LIMIT", 200)
    got_drift = rai_nb.drift(train, test, columns=["age", "fnlwgt", "hours_per_week"], mmd=False)
    expected_drift = rai_nb.drift(as_pandas(train), as_pandas(test),
                                  columns=["age", "fnlwgt", "hours_per_week"], mmd=False)
    assert_same_drift(got_drift, expected_drift)


def test_crossing_ecdfs_are_finished_in_bounded_pieces(to_engine, monkeypatch):
    """Two samples of one distribution cross everywhere: nearly every bin is needed. Stretches
    are cut at GATHER_LIMIT values and finishing tasks hold FINISH_VALUES at most; the result
    is still the full-sort one."""
    from rai_nb.frame import _partition_drift

    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=4000), "k": rng.integers(0, 30, 4000)})
    current = pd.DataFrame({"x": rng.normal(size=3000), "k": rng.integers(0, 30, 3000)})
    finished = []
    original = _partition_drift.parts.finish_column

    def recording(ref_parts, cur_parts, stretches, sizes):
        finished.append(sum(len(p) for part in (*ref_parts, *cur_parts) for p in part))
        return original(ref_parts, cur_parts, stretches, sizes)

    monkeypatch.setattr(ecdf, "FIRST_BINS", 64)
    monkeypatch.setattr(ecdf, "GATHER_LIMIT", 100)
    monkeypatch.setattr(_partition_drift, "FINISH_VALUES", 400)
    with dask.config.set(scheduler="sync"):
        monkeypatch.setattr(_partition_drift.parts, "finish_column", recording)
        got = rai_nb.drift(to_engine(reference, 3),
                           to_engine(current, 4), mmd=False)
    assert_same_drift(got, rai_nb.drift(reference, current, mmd=False))
    assert len(finished) > 1 and max(finished) <= 400


def test_auc_rows_sample_matches_pandas(to_engine, adult, monkeypatch):
    """Above ``auc_rows`` both paths score the same sampled rows."""
    from rai_nb.api import _validate

    train, _ = adult
    original = _validate.check_options
    monkeypatch.setattr(_validate, "check_options", lambda **k: {**original(**k), "auc_rows": 5000})
    options = dict(target="income", sensitive="sex", checks=["label_leakage", "proxies"])
    assert_same_validation(rai_nb.validate(train, **options),
                           rai_nb.validate(as_pandas(train), **options))


def test_pandas_beside_partitions_missing_levels(to_engine, request):
    spark = request.node.callspec.params["to_engine"] == "spark"
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({
        "x": rng.normal(size=n), "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(
            rng.integers(0, 1000, n), unit="D"),
        "g": np.where(np.arange(n) < 100, "rare", rng.choice(["a", "b"], n)),  # rare: 1 partition
        "mixed": pd.Series([1, "one", 2.5] * (n // 3), dtype=object),
        "y": rng.integers(0, 2, n)})
    frame.loc[5, "x"] = np.inf
    if spark:  # Arrow, and so Spark, holds no column of mixed Python types
        frame = frame.drop(columns="mixed")
    reference = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    reference["x"] += 0.3
    with dask.config.set({"dataframe.convert-string": False}):  # keep the object column
        lazy = to_engine(frame, 4)
    options = dict(target="y", sensitive="g", n_permutations=20)
    got = rai_nb.validate(lazy, reference=reference, **options)
    expected = rai_nb.validate(as_pandas(lazy), reference=reference, **options)
    assert_same_validation(got, expected)
    assert got.checks.loc["mixed_types", "columns"] == (() if spark else ("mixed",))
    assert got.details["representation"].loc[("g", "rare"), "count"] == 100
    assert_same_drift(rai_nb.drift(reference, lazy, n_permutations=20),
                      rai_nb.drift(reference, as_pandas(lazy), n_permutations=20))


@pytest.mark.parametrize("frame,options,message", [
    (pd.DataFrame({"y": [1.0, None, 0.0], "g": list("abc")}), dict(target="y"), "1 missing"),
    (pd.DataFrame({"y": [1, 0, 1], "g": ["a", None, "b"]}), dict(sensitive="g"), "1 missing"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(target="nope"), "'nope'"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(target="y", positive_label=7), "does not occur"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(target=np.array([1, 0, 1])), "must name columns"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(checks=["nope"]), "nope"),
    (pd.DataFrame({"y": [1, 0, 1], "w": [1.0, np.nan, 2.0]}), dict(sample_weight="w"),
     "sample_weight .'w'. has 1 missing"),
    (pd.DataFrame({"y": [1, 0, 1], "w": [1.0, 2.0, -1.0]}), dict(sample_weight="w"), "negative"),
    (pd.DataFrame({"y": [1, 0, 1], "w": [0, 0, 0]}), dict(sample_weight="w"), "zero on every row"),
    (pd.DataFrame({"y": [1, 0, 1], "w": list("abc")}), dict(sample_weight="w"), "must hold numbers"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(sample_weight="nope"), "'nope' given as sample_weight"),
    (pd.DataFrame({"y": [1, 0, 1]}), dict(sample_weight=np.ones(3)), "must name columns"),
    (pd.DataFrame({"y": [1, 0, 1], "g": list("abc")}), dict(sensitive={"g": 3}), "bins or splits"),
])
def test_bad_inputs_raise_the_pandas_error(to_engine, frame, options, message):
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.validate(to_engine(frame, 2), **options)
    if message != "must name columns":
        with pytest.raises(rai_nb.RaiError, match=message):
            rai_nb.validate(frame, **options)


def test_bad_drift_inputs_raise_rai_error(to_engine):
    a = to_engine(pd.DataFrame({"x1": [1.0, 2.0]}), 1)
    b = to_engine(pd.DataFrame({"x2": [1.0, 2.0]}), 1)
    empty = to_engine(pd.DataFrame({"x1": [1.0, 2.0]}).iloc[:0], 2)
    with pytest.raises(rai_nb.RaiError, match="share no column"):
        rai_nb.drift(a, b)
    with pytest.raises(rai_nb.RaiError, match="zz"):
        rai_nb.drift(a, a, columns=["x1", "zz"])
    with pytest.raises(rai_nb.RaiError, match="no rows"):
        rai_nb.drift(a, empty)


def test_schema_and_missingness_drift_equal_pandas(to_engine, schema_drift_frames):

    ref, cur = schema_drift_frames
    got = rai_nb.drift(to_engine(ref, 3), to_engine(cur, 2))
    assert_same_drift(got, rai_nb.drift(ref, cur))
    assert set(got.drifted) >= {"code", "emptied", "gone", "sparse"}


def test_infinities_equal_pandas_and_scipy(to_engine):
    """±inf spread over partitions: drift (KS as scipy, W1 infinite or finite), the counts of
    infinities, the range check and the outliers equal the pandas path."""
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=900), "y": rng.normal(size=900).round(1),
                        "z": rng.normal(size=900)})
    cur = pd.DataFrame({"x": rng.normal(size=700), "y": rng.normal(0.2, size=700).round(1),
                        "z": rng.normal(size=700)})
    cur.loc[cur.index % 3 == 0, "x"] = np.inf
    cur.loc[:6, "y"], ref.loc[:8, "y"] = -np.inf, -np.inf  # 1 % of each: W1 stays finite
    ref.loc[5, "z"], cur.loc[8, "z"] = np.nan, np.inf
    options = dict(n_permutations=20, checks=["infinite_values", "out_of_range", "missing_values",
                                              "outliers", "drift"])
    got = rai_nb.validate(to_engine(cur, 3), reference=to_engine(
        ref, 4), **options)
    assert_same_validation(got, rai_nb.validate(cur, reference=ref, **options))
    table = got.drift.columns
    for name in ("x", "y", "z"):
        a, b = ref[name].dropna().to_numpy(), cur[name].dropna().to_numpy()
        assert table.loc[name, "ks"] == pytest.approx(ks_2samp(a, b).statistic, abs=1e-15)
    assert table.loc["x", "wasserstein"] == np.inf
    far = ref["y"].clip(-1e3).to_numpy(), cur["y"].clip(-1e3).to_numpy()
    assert table.loc["y", "wasserstein"] == pytest.approx(wasserstein_distance(*far), rel=1e-12)
    assert got.details["infinite_values"].loc["x", "pos_inf"] == (cur["x"] == np.inf).sum()


@pytest.mark.parametrize("spec", ["age", {"age": [30, 45], "sex": None}, {"age": 40.0}])
def test_weighted_binned_groups_equal_pandas(to_engine, spec):
    """Fractional weights and a binned sensitive column over several partitions: the weighted
    per-group checks (and the rest) equal the pandas path's."""
    frame = rai_nb.load_adult(split="test").drop(columns="split").sample(
        3000, random_state=3).reset_index(drop=True)
    frame["w"] = np.random.default_rng(4).gamma(0.8, 1.5, len(frame))
    frame.loc[:30, "w"] = 0.0
    frame.loc[frame["sex"] == "Female", "hours_per_week"] = np.where(
        np.arange((frame["sex"] == "Female").sum()) % 4 == 0, np.nan,
        frame.loc[frame["sex"] == "Female", "hours_per_week"])
    options = dict(target="income", sensitive=spec, sample_weight="w", n_permutations=20,
                   label_error_rows=500)
    got = rai_nb.validate(to_engine(frame, 4), **options)
    expected = rai_nb.validate(frame, **options)
    assert_same_validation(got, expected)
    assert "counts weighted by 'w'" in got.checks.loc["representation", "message"]
    assert got.details["representation"]["count"].dtype == np.float64
