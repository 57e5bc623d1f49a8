"""Properties every metric family must keep: invariances, symmetries and sign conventions."""

from __future__ import annotations

import hypothesis.extra.pandas as hpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rai_nb

rows = hpd.data_frames([
    hpd.column("y", elements=st.integers(0, 1)),
    hpd.column("pred", elements=st.integers(0, 1)),
    hpd.column("group", elements=st.sampled_from(["a", "b", "c"])),
    hpd.column("strata", elements=st.sampled_from(["s", "t"])),
    hpd.column("loss", elements=st.floats(0, 1)),
], index=hpd.range_indexes(min_size=4, max_size=60))


def audit(frame, **kwargs):
    return rai_nb.bias(frame, target="y", prediction="pred", sensitive="group", **kwargs)


def usable(frame, column="group"):
    return frame["y"].nunique() == 2 and frame[column].nunique() >= 2


@settings(max_examples=60, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_bias_is_invariant_to_row_order(frame, random):
    assume(usable(frame))
    order = list(range(len(frame)))
    random.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    first, second = audit(frame, group_variable="strata"), audit(shuffled, group_variable="strata")
    pd.testing.assert_frame_equal(first.by_group, second.by_group)
    pd.testing.assert_frame_equal(first.clarify, second.clarify)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_bias_is_invariant_to_relabelling_groups(frame):
    assume(usable(frame))
    names = {"a": "zeta", "b": "alpha", "c": "mu"}
    renamed = audit(frame.assign(group=frame["group"].map(names)))
    original = audit(frame)
    pd.testing.assert_frame_equal(renamed.by_group.rename(index={v: k for k, v in names.items()})
                                  .sort_index(), original.by_group, check_names=False)
    pd.testing.assert_series_equal(renamed.disparities, original.disparities)


ANTISYMMETRIC = ["CI", "DPL", "DPPL", "AD", "RD", "SD", "DAR", "DRR"]
SYMMETRIC = ["JS", "LP", "TVD", "KS", "GE"]


@settings(max_examples=80, deadline=None)
@given(rows)
def test_clarify_signs_between_the_two_facets_of_a_binary_column(frame):
    frame = frame.assign(group=np.where(frame["group"] == "a", "a", "b"))
    assume(usable(frame))
    facets = audit(frame).clarify.xs("group")
    first, second = facets.loc["a"], facets.loc["b"]
    for name in ANTISYMMETRIC:
        assert first[name] == pytest.approx(-second[name], abs=1e-12, nan_ok=True), name
    for name in SYMMETRIC:
        assert first[name] == pytest.approx(second[name], abs=1e-12, nan_ok=True), name
    if np.isfinite(first["DI"]) and first["DI"] > 0:
        assert first["DI"] == pytest.approx(1 / second["DI"], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_differences_are_non_negative_and_ratios_in_unit_interval(frame):
    assume(usable(frame))
    result = audit(frame)
    for method in ("between_groups", "to_overall"):
        assert (result.difference(method) >= 0).all()
        ratios = result.ratio(method).dropna()
        assert ((ratios >= 0) & (ratios <= 1 + 1e-12)).all()


@settings(max_examples=40, deadline=None)
@given(hpd.data_frames([hpd.column("x", elements=st.floats(-5, 5)),
                        hpd.column("c", elements=st.sampled_from(list("pqr")))],
                       index=hpd.range_indexes(min_size=5, max_size=40)),
       hpd.data_frames([hpd.column("x", elements=st.floats(-5, 5)),
                        hpd.column("c", elements=st.sampled_from(list("pqr")))],
                       index=hpd.range_indexes(min_size=5, max_size=40)))
def test_drift_statistics_are_symmetric(first, second):
    forward = rai_nb.drift(first, second, mmd=False).columns
    backward = rai_nb.drift(second, first, mmd=False).columns
    for column in ("ks_statistic", "ks_pvalue", "wasserstein"):
        if column in forward:
            assert forward.loc["x", column] == pytest.approx(backward.loc["x", column], abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_slices_are_invariant_to_row_order(frame, random):
    assume(frame["loss"].sum() > 0)
    order = list(range(len(frame)))
    random.shuffle(order)
    features = frame[["group", "strata"]]
    first = rai_nb.slices(features, errors=frame["loss"].to_numpy(), min_sup=2, k=3)
    second = rai_nb.slices(features.iloc[order].reset_index(drop=True),
                           errors=frame["loss"].to_numpy()[order], min_sup=2, k=3)
    assert first.top["score"].tolist() == pytest.approx(second.top["score"].tolist(), abs=1e-12)
    assert first.top["slice"].tolist() == second.top["slice"].tolist()
