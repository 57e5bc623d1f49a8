"""``bias``, ``slices`` and ``audit`` on every engine (in-memory partitions, a multi-process Dask
LocalCluster, Spark ``local[2]``) give the pandas path's results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rai_nb
from rai_nb.engine import in_memory, order_statistics

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def adult():
    frame = rai_nb.load_adult()[["sex", "race", "relationship", "age", "income"]].copy()
    rng = np.random.default_rng(0)
    frame["score"] = np.clip(frame["income"] * 0.5 + rng.random(len(frame)) * 0.5, 0, 1)
    frame["pred"] = (frame["score"] >= 0.5).astype(np.int64)
    frame["sex"] = frame["sex"].astype(object)
    return frame


CASES = [
    dict(sensitive=["sex", "race"]),
    dict(sensitive={"age": 40.0}),
    dict(sensitive="race", group_variable="relationship"),
]


@pytest.mark.parametrize("options", CASES)
def test_bias_equals_pandas_to_1e_12(to_engine, adult, options):
    lazy = to_engine(adult, 7)
    expected = rai_nb.bias(adult, target="income", prediction="pred", score="score", n_boot=30,
                           random_state=1, **options)
    got = rai_nb.bias(lazy, target="income", prediction="pred", score="score", n_boot=30,
                      random_state=1, **options)
    for name in ("by_group", "clarify", "intervals"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name),
                                      atol=1e-12, rtol=0)
    pd.testing.assert_series_equal(got.disparities, expected.disparities, atol=1e-12, rtol=0)


def test_partitions_keep_the_category_order_of_pandas(to_engine, request):
    if request.node.callspec.params["to_engine"] == "spark":
        pytest.skip("Spark has no categorical type: its categories arrive as strings")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"y": rng.integers(0, 2, 300), "p": rng.integers(0, 2, 300),
                          "g": pd.Categorical(rng.choice(["g10", "g9", "g1"], 300),
                                              categories=["g1", "g9", "g10", "unused"])})
    expected = rai_nb.bias(frame, target="y", prediction="p", sensitive="g")
    got = rai_nb.bias(to_engine(frame, 3), target="y", prediction="p", sensitive="g")
    assert list(got.by_group.index) == list(expected.by_group.index) == ["g1", "g9", "g10"]
    pd.testing.assert_frame_equal(got.by_group, expected.by_group, atol=1e-12, rtol=0)


def test_partitions_missing_a_group_or_class_still_add_up(to_engine):
    frame = pd.DataFrame({"y": [1, 1, 0, 0, 1, 0], "group": list("aabbcc"), "pred": [1] * 6})
    lazy = to_engine(frame, 3)
    got = rai_nb.bias(lazy, target="y", prediction="pred", sensitive="group")
    expected = rai_nb.bias(frame, target="y", prediction="pred", sensitive="group")
    pd.testing.assert_frame_equal(got.by_group, expected.by_group)


@pytest.mark.parametrize("frame,options,message", [
    (pd.DataFrame({"y": [1, 1], "g": ["a", "b"]}), dict(sensitive="g"), "single class"),
    (pd.DataFrame({"y": [1, 0], "g": ["a", "a"]}), dict(sensitive="g"), "single value"),
    (pd.DataFrame({"y": [1, 0], "g": ["a", None]}), dict(sensitive="g"), "missing"),
    (pd.DataFrame({"y": [1, 0], "g": ["a", "b"]}), dict(sensitive=np.array(["a", "b"])),
     "must name columns"),
])
def test_bad_inputs_raise_rai_error(to_engine, frame, options, message):
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.bias(to_engine(frame, 2), target="y", **options)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, width=64), st.integers(-3, 3).map(float)),
                       min_size=1, max_size=60),
       npartitions=st.integers(1, 5), data=st.data())
def test_order_statistics_equal_a_full_sort(values, npartitions, data):
    x = np.array(values)
    present = np.sort(x[~np.isnan(x)])
    assume(len(present) > 0)
    ranks = data.draw(st.lists(st.integers(0, len(present) - 1), min_size=1, max_size=8))
    with dask.config.set(scheduler="sync"):
        lazy = in_memory(pd.DataFrame({"x": x}), npartitions)
        got = order_statistics(lazy.parts, {"x": ranks})["x"]
    np.testing.assert_array_equal(got, present[ranks])


def test_order_statistics_of_several_columns_and_bad_ranks():
    frame = pd.DataFrame({"a": np.r_[np.arange(10.0), np.nan], "b": -np.arange(11)})
    with dask.config.set(scheduler="sync"):
        lazy = in_memory(frame, 3).parts
        got = order_statistics(lazy, {"a": [0, 9], "b": [0, 5, 10]})
        np.testing.assert_array_equal(got["a"], [0.0, 9.0])
        np.testing.assert_array_equal(got["b"], [-10.0, -5.0, 0.0])
        with pytest.raises(rai_nb.RaiError, match="'a'"):
            order_statistics(lazy, {"a": [10]})


@pytest.fixture(scope="module")
def adult_errors():
    frame = rai_nb.load_adult().sample(12000, random_state=3).reset_index(drop=True)
    rng = np.random.default_rng(4)
    young = frame["age"] < 35
    frame["pred"] = np.where(rng.random(len(frame)) < np.where(young, 0.7, 0.9),
                             frame["income"], 1 - frame["income"])
    frame.loc[rng.random(len(frame)) < 0.05, "hours_per_week"] = np.nan
    frame["race"] = frame["race"].astype("category")
    return frame


SLICE_FEATURES = ["age", "sex", "race", "education", "hours_per_week", "capital_gain"]
SLICE_CASES = [
    dict(loss="error"),
    dict(loss="false_negative_rate", bins={"age": [0, 30, 45, 120], "education": None}),
    dict(loss="selection_rate", n_bins=5, fdr="benjamini_hochberg"),
]


@pytest.mark.parametrize("options", SLICE_CASES)
def test_slices_equal_pandas(to_engine, adult_errors, options):
    lazy = to_engine(adult_errors, 6)
    expected = rai_nb.slices(adult_errors, target="income", prediction="pred",
                             features=SLICE_FEATURES, max_l=2, **options)
    got = rai_nb.slices(lazy, target="income", prediction="pred", features=SLICE_FEATURES,
                        max_l=2, **options)
    assert len(expected.top) > 0
    pd.testing.assert_frame_equal(got.top, expected.top, atol=1e-12, rtol=0)
    assert (got.n_rows, got.evaluated, got.min_sup) == (expected.n_rows, expected.evaluated,
                                                        expected.min_sup)
    assert got.average_loss == pytest.approx(expected.average_loss, abs=1e-12)


def test_slices_predict_per_partition_with_log_loss(to_engine, adult_errors):
    from sklearn.linear_model import LogisticRegression

    features = ["age", "education_num", "hours_per_week", "capital_gain"]
    frame = adult_errors[[*features, "sex", "income"]].fillna(40)
    model = LogisticRegression(max_iter=500).fit(frame[features], frame["income"])
    sliced = ModelOnColumns(model, features)
    expected = rai_nb.slices(frame, target="income", model=sliced, loss="log_loss", max_l=2)
    got = rai_nb.slices(to_engine(frame, 5), target="income", model=sliced,
                        loss="log_loss", max_l=2)
    assert len(expected.top) > 0
    pd.testing.assert_frame_equal(got.top, expected.top, atol=1e-12, rtol=0)


class ModelOnColumns:
    """A fitted classifier that reads its own columns of whatever frame it is given."""

    def __init__(self, model, columns):
        self.model, self.columns, self.classes_ = model, columns, model.classes_

    def predict(self, frame):
        return self.model.predict(frame[self.columns])

    def predict_proba(self, frame):
        return self.model.predict_proba(frame[self.columns])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), npartitions=st.integers(1, 4), n_bins=st.integers(2, 5))
def test_partitioned_slices_equal_pandas_on_random_frames(seed, npartitions, n_bins):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 80))
    frame = pd.DataFrame({
        "a": rng.choice(list("xyz"), n),
        "b": np.round(rng.normal(size=n), 1),
        "c": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 4, n).astype(float)),
        "d": pd.Categorical(rng.choice(["z", "m", "a"], n), categories=["z", "m", "a", "b"]),
        "loss": rng.random(n) * (rng.random(n) < 0.4),
    })
    expected = rai_nb.slices(frame, errors="loss", n_bins=n_bins, min_sup=3, k=4)
    with dask.config.set(scheduler="sync"):
        got = rai_nb.slices(in_memory(frame, npartitions), errors="loss",
                            n_bins=n_bins, min_sup=3, k=4)
    pd.testing.assert_frame_equal(got.top, expected.top, atol=1e-12, rtol=0)


@pytest.mark.parametrize("frame,options,message", [
    (pd.DataFrame({"x": [1.0, np.inf], "e": [0.0, 1.0]}), dict(errors="e"), "'x'"),
    (pd.DataFrame({"x": [1.0, 9.0], "e": [0.0, 1.0]}), dict(errors="e", bins={"x": [0, 5]}),
     "outside the bin edges"),
    (pd.DataFrame({"x": [1.0, 2.0], "e": [0.0, 1.0]}), dict(errors="nope"), "'nope'"),
    (pd.DataFrame({"x": [1.0, 2.0], "y": [1, 1], "p": [1, 0]}),
     dict(target="y", prediction="p", loss="false_positive_rate"), "single class"),
])
def test_bad_slice_inputs_raise_rai_error(to_engine, frame, options, message):
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.slices(frame, **options)
    with dask.config.set(scheduler="sync"), pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.slices(to_engine(frame, 2), **options)


@pytest.mark.parametrize("lazy", [False, True])
def test_huge_cardinality_feature_is_named_as_a_feature(to_engine, lazy):
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(60)], "e": np.arange(60) % 2 * 1.0})
    data = to_engine(frame, 3) if lazy else frame
    with rai_nb.config_context(max_groups=50), dask.config.set(scheduler="sync"), \
            pytest.raises(rai_nb.RaiError, match="features column 'id' has 60 distinct values"):
        rai_nb.slices(data, errors="e")


def test_audit_equals_pandas(to_engine):
    from sklearn.ensemble import RandomForestClassifier

    frame = rai_nb.load_adult().sample(3000, random_state=8).reset_index(drop=True)
    features = ["age", "education_num", "hours_per_week", "capital_gain"]
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(
        frame[features], frame["income"])
    options = dict(target="income", sensitive=["sex", "race"], features=features, n_boot=20,
                   sample=60, progress=False)
    expected = rai_nb.audit(model, frame, **options)
    got = rai_nb.audit(model, to_engine(frame, 4), **options)
    assert got.n_rows == expected.n_rows == 3000
    for name in ("by_group", "clarify", "intervals"):
        pd.testing.assert_frame_equal(getattr(got.bias, name), getattr(expected.bias, name),
                                      atol=1e-12, rtol=0)
    pd.testing.assert_frame_equal(got.slices.top, expected.slices.top, atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.explanation.values, expected.explanation.values, atol=1e-12)
    pd.testing.assert_series_equal(got.importance, expected.importance, atol=1e-12, rtol=0)
    pd.testing.assert_frame_equal(got.validation.checks, expected.validation.checks)
    pd.testing.assert_frame_equal(got.findings(), expected.findings(), atol=1e-12, rtol=0)
