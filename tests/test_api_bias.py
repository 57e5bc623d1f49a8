"""``rai_nb.bias`` end to end against fairlearn and smclarify, on real data and random cases."""

from __future__ import annotations

import json
import logging
import warnings

import hypothesis.extra.pandas as hpd
import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb.render import REPORT_MIME
from rai_nb.stats.bias import DISPARITIES
from tests.test_stats_bias import REFERENCE_METRICS

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def with_predictions(frame, target, features):
    """``frame`` plus a logistic model's predictions and scores (trained on half the rows)."""
    frame = frame.dropna(subset=features).reset_index(drop=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(frame[features].iloc[::2], frame[target].iloc[::2])
    frame["score"] = model.predict_proba(frame[features])[:, 1]
    frame["pred"] = (frame["score"] >= 0.5).astype(np.int64)
    return frame


@pytest.fixture(scope="module")
def adult():
    return with_predictions(rai_nb.load_adult(split="test"), "income", NUMERIC)


@pytest.fixture(scope="module")
def compas():
    features = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]
    return with_predictions(rai_nb.load_compas(), "two_year_recid", features)


def metric_frame(frame, target, sensitive):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's single-class warnings inside some groups
        return flm.MetricFrame(metrics=REFERENCE_METRICS, y_true=frame[target],
                               y_pred=frame["pred"], sensitive_features=frame[sensitive])


@pytest.mark.parametrize("sensitive", [["sex"], ["race"], ["sex", "race"]])
def test_group_metrics_equal_fairlearn_on_adult(adult, sensitive):
    result = rai_nb.bias(adult, target="income", prediction="pred", sensitive=sensitive)
    expected = metric_frame(adult, "income", sensitive)
    by_group = expected.by_group.astype(float)
    by_group.index = by_group.index if len(sensitive) > 1 else by_group.index.rename(sensitive[0])
    pd.testing.assert_frame_equal(result.by_group[list(REFERENCE_METRICS)], by_group,
                                  check_dtype=False, atol=1e-12, rtol=0)
    pd.testing.assert_series_equal(result.overall[list(REFERENCE_METRICS)],
                                   expected.overall.astype(float), check_names=False, atol=1e-12)
    shared = list(REFERENCE_METRICS)
    for method in ("between_groups", "to_overall"):
        pd.testing.assert_series_equal(result.difference(method)[shared], expected.difference(method),
                                       check_names=False, atol=1e-12)
        pd.testing.assert_series_equal(result.ratio(method)[shared], expected.ratio(method),
                                       check_names=False, atol=1e-12)
    pd.testing.assert_series_equal(result.group_min()[shared], expected.group_min().astype(float),
                                   check_names=False, check_dtype=False, atol=1e-12)


FAIRLEARN_SUMMARIES = {name: getattr(flm, name) for name in DISPARITIES}


@pytest.mark.parametrize("dataset,target,sensitive", [
    ("adult", "income", ["sex", "race"]), ("compas", "two_year_recid", ["race"])])
def test_disparities_equal_fairlearn(dataset, target, sensitive, request):
    frame = request.getfixturevalue(dataset)
    result = rai_nb.bias(frame, target=target, prediction="pred", sensitive=sensitive)
    for name, function in FAIRLEARN_SUMMARIES.items():
        expected = function(frame[target], frame["pred"], sensitive_features=frame[sensitive])
        assert result.disparities[name] == pytest.approx(expected, abs=1e-12), name


@pytest.fixture
def smclarify_report():
    report = pytest.importorskip("smclarify.bias.report")
    logging.getLogger("smclarify").setLevel(logging.CRITICAL)  # it logs every refused metric

    def run(frame, facet, target, *, prediction=None, group_variable=None, values=None):
        stage = report.StageType.POST_TRAINING if prediction else report.StageType.PRE_TRAINING
        label = report.LabelColumn(target, frame[target], [1])
        predicted = report.LabelColumn(prediction, frame[prediction], [1]) if prediction else None
        metrics = ["all"] if prediction is None else [
            m for m in rai_nb.stats.clarify.POSTTRAINING]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # smclarify uses pandas APIs deprecated upstream
            return report.bias_report(frame, report.FacetColumn(facet, values), label, stage,
                                      predicted, metrics=metrics, group_variable=group_variable)
    return run


def assert_matches_report(table, report):
    for facet in report:
        row = table.loc[facet["value_or_threshold"]]
        for metric in facet["metrics"]:
            if metric["name"] not in row.index:
                continue
            got, expected = row[metric["name"]], metric.get("value")
            if expected is None or metric.get("error"):
                assert np.isnan(got), metric["name"]
            else:
                assert got == pytest.approx(expected, abs=1e-9), (facet, metric["name"])


@pytest.mark.parametrize("dataset,target,facet,strata", [
    ("compas", "two_year_recid", "race", "age_cat"), ("adult", "income", "race", "relationship")])
def test_clarify_equals_smclarify(dataset, target, facet, strata, smclarify_report, request):
    frame = request.getfixturevalue(dataset)[[facet, strata, target, "pred"]].astype(
        {facet: object, strata: object})
    result = rai_nb.bias(frame, target=target, prediction="pred", sensitive=facet,
                         group_variable=strata)
    table = result.clarify.xs(facet).rename(index=str)
    for prediction in (None, "pred"):
        assert_matches_report(table, smclarify_report(frame, facet, target, prediction=prediction,
                                                      group_variable=frame[strata]))


def test_numeric_facet_threshold_equals_smclarify(compas, smclarify_report):
    frame = compas[["age", "two_year_recid", "pred"]].copy()
    frame["age"] = frame["age"].astype(float)  # smclarify treats low-cardinality ints as categories
    result = rai_nb.bias(frame, target="two_year_recid", prediction="pred", sensitive={"age": 40.0})
    facet = result.clarify.loc[("age", "> 40")]
    for stage in (None, "pred"):
        report = smclarify_report(frame, "age", "two_year_recid", prediction=stage, values=[40])
        assert len(report) == 1
        assert_matches_report(pd.DataFrame([facet], index=[report[0]["value_or_threshold"]]),
                              report)


group_frames = hpd.data_frames([
    hpd.column("y", elements=st.integers(0, 1)),
    hpd.column("pred", elements=st.integers(0, 1)),
    hpd.column("group", elements=st.sampled_from(["a", "b", "c", "d"])),
], index=hpd.range_indexes(min_size=2, max_size=60))


@settings(max_examples=60, deadline=None)
@given(group_frames)
def test_random_groups_equal_brute_force(frame):
    """Tiny, size-1 and single-class groups: each group's metrics recomputed one by one."""
    if frame["y"].nunique() < 2 or frame["group"].nunique() < 2:
        return
    result = rai_nb.bias(frame, target="y", prediction="pred", sensitive="group")
    for group, rows in frame.groupby("group"):
        for name, reference in REFERENCE_METRICS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = reference(rows["y"], rows["pred"])
            assert result.by_group.loc[group, name] == pytest.approx(expected, abs=1e-12)


def test_string_labels_need_and_use_positive_label():
    frame = pd.DataFrame({"y": [">50K", "<=50K"] * 4, "pred": [">50K"] * 8, "sex": list("FM") * 4})
    with pytest.raises(rai_nb.RaiError, match="positive_label"):
        rai_nb.bias(frame, target="y", prediction="pred", sensitive="sex")
    result = rai_nb.bias(frame, target="y", prediction="pred", sensitive="sex",
                         positive_label=">50K")
    assert result.by_group["selection_rate"].tolist() == [1.0, 1.0]
    assert result.by_group["true_positive_rate"].tolist() == [1.0, 0.0]


def test_score_gives_predictions_and_calibration(adult):
    from_score = rai_nb.bias(adult, target="income", score="score", sensitive="sex")
    from_pred = rai_nb.bias(adult, target="income", prediction="pred", sensitive="sex")
    pd.testing.assert_frame_equal(from_score.by_group.drop(columns="ece"), from_pred.by_group)
    assert (from_score.by_group["ece"] > 0).all() and "ece" in from_score.overall


def test_label_only_audit_has_pretraining_metrics_only(adult):
    result = rai_nb.bias(adult, target="income", sensitive="sex")
    assert list(result.clarify.columns) == ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS"]
    assert result.disparities.empty


def test_bootstrap_intervals_bracket_estimates(compas):
    result = rai_nb.bias(compas, target="two_year_recid", prediction="pred", sensitive="race",
                         n_boot=200, random_state=0)
    intervals = result.intervals.dropna()
    inside = (intervals["lower"] <= intervals["estimate"] + 1e-12) & (
        intervals["estimate"] <= intervals["upper"] + 1e-12)
    assert inside.mean() > 0.95
    again = rai_nb.bias(compas, target="two_year_recid", prediction="pred", sensitive="race",
                        n_boot=200, random_state=0)
    pd.testing.assert_frame_equal(result.intervals, again.intervals)


def fingerprint(frame):
    return (pd.util.hash_pandas_object(frame, index=True).sum(), tuple(frame.columns),
            tuple(map(str, frame.dtypes)))


def test_inputs_are_not_mutated(compas):
    frame = compas.copy()
    frame["race"] = frame["race"].astype("category")
    before = fingerprint(frame)
    rai_nb.bias(frame, target="two_year_recid", prediction="pred", score="score",
                sensitive=["race", "sex"], group_variable="age_cat", n_boot=10)
    assert fingerprint(frame) == before


BAD_INPUTS = [
    (dict(target="nope"), "'nope'.*target"),
    (dict(sensitive="nope"), "'nope'.*sensitive"),
    (dict(prediction=[1, 0]), "prediction has 2 rows"),
    (dict(target="y_nan"), "target.*missing"),
    (dict(prediction="p_nan"), "prediction.*missing"),
    (dict(target="one"), "single class"),
    (dict(positive_label=7), "positive_label 7 does not occur"),
    (dict(sensitive="const"), "single value"),
    (dict(sensitive="id"), "distinct values"),
    (dict(score="bad_score"), r"probabilities in \[0, 1\]"),
    (dict(prediction="score"), "pass predicted classes"),
    (dict(n_boot=-1), "n_boot"),
    (dict(ci=1.5), "ci must"),
]


@pytest.mark.parametrize("override,message", BAD_INPUTS)
def test_bad_inputs_raise_rai_error(override, message):
    n = 20
    frame = pd.DataFrame({"y": [0, 1] * 10, "pred": [1, 1] * 10, "g": list("ab") * 10,
                          "y_nan": [0, 1, np.nan] + [1] * 17, "p_nan": [np.nan] + [1] * 19,
                          "one": [1] * n, "const": ["x"] * n, "id": [f"c{i}" for i in range(n)],
                          "score": np.linspace(0, 1, n), "bad_score": np.linspace(0, 2, n)})
    arguments = dict(target="y", prediction="pred", sensitive="g") | override
    with rai_nb.config_context(max_groups=10), pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.bias(frame, **arguments)


def test_renderings_escape_user_text():
    evil = '<script>alert(1)</script>'
    frame = pd.DataFrame({"y": [0, 1] * 4, "pred": [1, 0] * 4,
                          evil: [evil, '"><img src=x onerror=alert(1)>|**x**'] * 4})
    result = rai_nb.bias(frame, target="y", prediction="pred", sensitive=evil)
    bundle = result._repr_mimebundle_()
    assert "<script>" not in bundle["text/html"] and "<img" not in bundle["text/html"]
    assert "&lt;script&gt;" in bundle["text/html"]
    assert "<script>" not in bundle["text/markdown"] and "\\*\\*x\\*\\*" in bundle["text/markdown"]
    report = json.loads(json.dumps(bundle[REPORT_MIME]))
    assert report["kind"] == "bias" and report["rai_nb_report"] == 1
    titles = [section["title"] for section in report["sections"]]
    assert titles[:3] == ["Metrics by group", "Fairness summary", "SageMaker Clarify metrics"]


def test_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, rai_nb; heavy = {'IPython', 'ipywidgets', 'matplotlib', 'cupy', 'shap',"
            " 'numba', 'xgboost', 'lightgbm', 'catboost'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bootstrap_intervals_are_the_same_on_every_run_by_default():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"s": rng.choice(["a", "b"], 500), "y": rng.integers(0, 2, 500),
                         "p": rng.integers(0, 2, 500)})
    first = rai_nb.bias(data, target="y", prediction="p", sensitive="s", n_boot=30)
    again = rai_nb.bias(data, target="y", prediction="p", sensitive="s", n_boot=30)
    pd.testing.assert_frame_equal(first.intervals, again.intervals)
