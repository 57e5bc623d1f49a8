"""Dask inputs give the pandas path's results, on a real multi-process LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rai_nb
from rai_nb.frame._dask import order_statistics

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


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
    dict(sensitive={"age": 40}),
    dict(sensitive="race", group_variable="relationship"),
]


@pytest.mark.parametrize("options", CASES)
def test_dask_equals_pandas_to_1e_12(client, adult, options):
    lazy = dd.from_pandas(adult, npartitions=7)
    expected = rai_nb.bias(adult, target="income", prediction="pred", score="score", n_boot=30,
                           random_state=1, **options)
    got = rai_nb.bias(lazy, target="income", prediction="pred", score="score", n_boot=30,
                      random_state=1, **options)
    for name in ("by_group", "clarify", "intervals"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name),
                                      atol=1e-12, rtol=0)
    pd.testing.assert_series_equal(got.disparities, expected.disparities, atol=1e-12, rtol=0)


def test_partitions_missing_a_group_or_class_still_add_up(client):
    frame = pd.DataFrame({"y": [1, 1, 0, 0, 1, 0], "group": list("aabbcc"), "pred": [1] * 6})
    lazy = dd.from_pandas(frame, npartitions=3, sort=False)
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
def test_bad_dask_inputs_raise_rai_error(frame, options, message):
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.bias(dd.from_pandas(frame, npartitions=2), target="y", **options)


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
        got = order_statistics(dd.from_pandas(pd.Series(x), npartitions=npartitions), ranks)
    np.testing.assert_array_equal(got, present[ranks])


def test_order_statistics_of_several_columns_and_bad_ranks():
    frame = pd.DataFrame({"a": np.r_[np.arange(10.0), np.nan], "b": -np.arange(11)})
    with dask.config.set(scheduler="sync"):
        lazy = dd.from_pandas(frame, npartitions=3)
        got = order_statistics(lazy, {"a": [0, 9], "b": [0, 5, 10]})
        np.testing.assert_array_equal(got["a"], [0.0, 9.0])
        np.testing.assert_array_equal(got["b"], [-10.0, -5.0, 0.0])
        with pytest.raises(rai_nb.RaiError, match="'a'"):
            order_statistics(lazy, {"a": [10]})
