"""``rai_nb.bias`` beyond binary classifiers: the task, multiclass, regression, sample weights,
binned sensitive columns and small groups — end to end against fairlearn, scikit-learn and
scipy on real data."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn.datasets import load_diabetes, load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb.frame import predicate_mask
from rai_nb.stats.bias import DISPARITIES

TOL = dict(rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def wine():
    """Three classes, a fitted classifier's predictions and a three-level sensitive column."""
    data = load_wine(as_frame=True)
    frame = data.frame.rename(columns={"target": "cultivar"})
    features = list(data.feature_names)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(frame[features].iloc[::2], frame["cultivar"].iloc[::2])
    rng = np.random.default_rng(1)
    return frame.assign(pred=model.predict(frame[features]),
                        site=rng.choice(["north", "south", "coast"], len(frame)),
                        w=rng.uniform(0.2, 3.0, len(frame)))


@pytest.fixture(scope="module")
def diabetes():
    """A regression target, a fitted model's predictions, binned age and weights."""
    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.rename(columns={"target": "progression"})
    features = [c for c in data.feature_names if c != "sex"]
    model = Ridge().fit(frame[features].iloc[::2], frame["progression"].iloc[::2])
    rng = np.random.default_rng(2)
    return frame.assign(pred=model.predict(frame[features]),
                        sex=frame["sex"].map({1.0: "F", 2.0: "M"}),
                        w=rng.uniform(0.2, 3.0, len(frame)))


def metric_frame(metrics, frame, target, sensitive, weights=None):
    params = None if weights is None else {name: {"sample_weight": frame[weights]}
                                           for name in metrics if name != "count"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return flm.MetricFrame(metrics=metrics, y_true=frame[target], y_pred=frame["pred"],
                               sensitive_features=frame[sensitive], sample_params=params)


MULTICLASS = {"count": flm.count, "accuracy": skm.accuracy_score,
              "balanced_accuracy": skm.balanced_accuracy_score,
              "macro_f1": partial(skm.f1_score, average="macro", zero_division=0)}
REGRESSION = {"count": flm.count, "mean_absolute_error": skm.mean_absolute_error,
              "root_mean_squared_error": skm.root_mean_squared_error, "r2": skm.r2_score}


def test_task_is_inferred_and_said(wine, diabetes):
    binary = pd.DataFrame({"y": [0, 1] * 20, "pred": [1, 1] * 20, "g": list("ab") * 20})
    assert rai_nb.bias(binary, target="y", prediction="pred", sensitive="g").task == "binary"
    multi = rai_nb.bias(wine, target="cultivar", prediction="pred", sensitive="site")
    assert (multi.task, multi.task_inferred) == ("multiclass", True)
    assert "Task: multiclass (inferred" in multi.task_note()
    reg = rai_nb.bias(diabetes, target="progression", prediction="pred", sensitive="sex")
    assert reg.task == "regression" and "regression" in reg.to_markdown()
    forced = rai_nb.bias(diabetes, target="progression", prediction="pred", sensitive="sex",
                         task="regression")
    assert not forced.task_inferred


def test_targets_that_fit_no_task_say_which_task_to_pass():
    frame = pd.DataFrame({"y": np.arange(60) % 30, "pred": np.arange(60) % 30,
                          "g": list("ab") * 30})
    with pytest.raises(rai_nb.RaiError, match=r"30 distinct whole numbers.*task='regression'"):
        rai_nb.bias(frame, target="y", prediction="pred", sensitive="g")
    with pytest.raises(rai_nb.RaiError, match="task must be one of"):
        rai_nb.bias(frame, target="y", prediction="pred", sensitive="g", task="ranking")
    with pytest.raises(rai_nb.RaiError, match="positive_label applies to binary"):
        rai_nb.bias(frame, target="y", prediction="pred", sensitive="g", task="regression",
                    positive_label=3)
    words = frame.assign(y=frame["y"].astype(str), pred=frame["pred"].astype(str))
    with pytest.raises(rai_nb.RaiError, match="needs numbers"):
        rai_nb.bias(words, target="y", prediction="pred", sensitive="g", task="regression")


@pytest.mark.parametrize("weights", [None, "w"])
def test_multiclass_group_metrics_equal_fairlearn(wine, weights):
    result = rai_nb.bias(wine, target="cultivar", prediction="pred", sensitive="site",
                         sample_weight=weights)
    expected = metric_frame(MULTICLASS, wine, "cultivar", "site", weights).by_group
    np.testing.assert_allclose(result.by_group[list(MULTICLASS)].to_numpy(),
                               expected.astype(float).to_numpy(), **TOL)
    assert result.weighted == (weights is not None)


@pytest.mark.parametrize("weights", [None, "w"])
def test_multiclass_classes_and_disparities_equal_fairlearn_one_vs_rest(wine, weights):
    result = rai_nb.bias(wine, target="cultivar", prediction="pred", sensitive="site",
                         sample_weight=weights)
    w = None if weights is None else wine[weights]
    for k in result.classes:
        y, p = (wine["cultivar"] == k).astype(int), (wine["pred"] == k).astype(int)
        rates = flm.MetricFrame(
            metrics={"selection_rate": flm.selection_rate,
                     "true_positive_rate": flm.true_positive_rate}, y_true=y, y_pred=p,
            sensitive_features=wine["site"],
            sample_params=None if w is None else {"selection_rate": {"sample_weight": w},
                                                  "true_positive_rate": {"sample_weight": w}})
        ours = result.by_class.xs(k, level="class")
        np.testing.assert_allclose(ours[["selection_rate", "true_positive_rate"]].to_numpy(),
                                   rates.by_group.astype(float).to_numpy(), **TOL)
        dp = flm.demographic_parity_difference(y, p, sensitive_features=wine["site"],
                                               sample_weight=w)
        eo = flm.equalized_odds_ratio(y, p, sensitive_features=wine["site"], sample_weight=w)
        row = result.class_disparities.loc[k]
        assert row["demographic_parity_difference"] == pytest.approx(dp, abs=1e-12)
        assert row["equalized_odds_ratio"] == pytest.approx(eo, abs=1e-12)
    worst = result.class_disparities
    assert result.disparities["demographic_parity_difference"] == worst[
        "demographic_parity_difference"].max()
    assert result.disparities["demographic_parity_ratio"] == worst[
        "demographic_parity_ratio"].min()
    assert list(result.disparities.index) == list(DISPARITIES)


def test_multiclass_clarify_per_class_is_the_binary_audit_of_that_class(wine):
    result = rai_nb.bias(wine, target="cultivar", prediction="pred", sensitive="site")
    for k in result.classes:
        binary = rai_nb.bias(wine.assign(y=(wine["cultivar"] == k).astype(int),
                                         p=(wine["pred"] == k).astype(int)),
                             target="y", prediction="p", sensitive="site")
        np.testing.assert_allclose(result.clarify.xs(k, level="class").to_numpy(),
                                   binary.clarify.to_numpy(), **TOL)


@pytest.mark.parametrize("weights", [None, "w"])
def test_regression_group_metrics_equal_fairlearn(diabetes, weights):
    result = rai_nb.bias(diabetes, target="progression", prediction="pred", sensitive="sex",
                         sample_weight=weights)
    expected = metric_frame(REGRESSION, diabetes, "progression", "sex", weights).by_group
    np.testing.assert_allclose(result.by_group[list(REGRESSION)].to_numpy(),
                               expected.astype(float).to_numpy(), **TOL)
    w = np.ones(len(diabetes)) if weights is None else diabetes[weights].to_numpy()
    for group, rows in diabetes.groupby("sex"):
        weight = w[rows.index]
        mean_error = np.average(rows["pred"] - rows["progression"], weights=weight)
        assert result.by_group.loc[group, "mean_error"] == pytest.approx(mean_error, rel=1e-12)
    gaps = result.by_group["mean_absolute_error"]
    assert result.disparities["mean_absolute_error_difference"] == pytest.approx(
        gaps.max() - gaps.min(), rel=1e-12)
    assert result.disparities["bounded_group_loss"] == pytest.approx(
        (result.by_group["root_mean_squared_error"] ** 2).max(), rel=1e-12)


def test_regression_statistical_parity_equals_scipy(diabetes):
    result = rai_nb.bias(diabetes, target="progression", prediction="pred", sensitive="sex")
    for group, rows in diabetes.groupby("sex"):
        ks = sps.ks_2samp(rows["pred"], diabetes["pred"]).statistic
        w1 = sps.wasserstein_distance(rows["pred"], diabetes["pred"])
        assert result.by_group.loc[group, "prediction_ks"] == pytest.approx(ks, abs=1e-12)
        assert result.by_group.loc[group, "prediction_wasserstein"] == pytest.approx(w1,
                                                                                    rel=1e-9)
    assert result.disparities["statistical_parity_ks"] == result.by_group["prediction_ks"].max()


def test_regression_clarify_uses_the_label_threshold_as_clarify_does(diabetes):
    t = float(diabetes["progression"].median())
    result = rai_nb.bias(diabetes, target="progression", prediction="pred", sensitive="sex",
                         label_threshold=t)
    binary = rai_nb.bias(diabetes.assign(y=(diabetes["progression"] > t).astype(int),
                                         p=(diabetes["pred"] > t).astype(int)),
                         target="y", prediction="p", sensitive="sex")
    np.testing.assert_allclose(result.clarify.to_numpy(), binary.clarify.to_numpy(), **TOL)
    assert "progression &gt;" in result.to_html()
    no_threshold = rai_nb.bias(diabetes, target="progression", prediction="pred",
                               sensitive="sex")
    assert no_threshold.clarify.empty


def test_weighted_binary_metrics_equal_fairlearn_sample_params():
    adult = rai_nb.load_adult(split="test").head(4000)
    rng = np.random.default_rng(3)
    frame = adult.assign(pred=(adult["education_num"] > 10).astype(int),
                         w=rng.uniform(0.1, 5.0, len(adult)))
    metrics = {"selection_rate": flm.selection_rate, "accuracy": skm.accuracy_score,
               "true_positive_rate": flm.true_positive_rate,
               "false_positive_rate": flm.false_positive_rate}
    result = rai_nb.bias(frame, target="income", prediction="pred", sensitive="race",
                         sample_weight="w")
    expected = metric_frame(metrics, frame, "income", "race", "w").by_group
    np.testing.assert_allclose(result.by_group[list(metrics)].to_numpy(),
                               expected.astype(float).to_numpy(), **TOL)
    assert result.by_group["count"].sum() == len(frame)
    dp = flm.demographic_parity_ratio(frame["income"], frame["pred"],
                                      sensitive_features=frame["race"], sample_weight=frame["w"])
    assert result.disparities["demographic_parity_ratio"] == pytest.approx(dp, abs=1e-12)


def test_bad_sample_weights_name_the_argument():
    frame = pd.DataFrame({"y": [0, 1] * 20, "pred": [1, 1] * 20, "g": list("ab") * 20,
                          "neg": [-1.0] * 40, "zero": [0.0] * 40, "text": ["a"] * 40})
    for column, message in (("neg", "negative"), ("zero", "zero on every row"),
                            ("text", "must hold numbers")):
        with pytest.raises(rai_nb.RaiError, match=f"sample_weight.*{message}"):
            rai_nb.bias(frame, target="y", prediction="pred", sensitive="g",
                        sample_weight=column)


def test_continuous_sensitive_columns_are_binned_and_said():
    adult = rai_nb.load_adult(split="test")
    frame = adult.assign(pred=(adult["education_num"] > 10).astype(int))
    auto = rai_nb.bias(frame, target="income", prediction="pred", sensitive="age")
    edges = np.quantile(frame["age"], [0.25, 0.5, 0.75])
    expected = pd.cut(frame["age"], [-np.inf, *edges, np.inf]).value_counts(sort=False)
    assert auto.by_group["count"].tolist() == expected.tolist()
    assert "age is binned into 4 quantile groups" in auto.task_note()
    three = rai_nb.bias(frame, target="income", prediction="pred", sensitive={"age": 3})
    assert len(three.by_group) == 3
    fixed = rai_nb.bias(frame, target="income", prediction="pred",
                        sensitive={"age": [25, 40, 60]})
    assert list(fixed.by_group.index) == ["<= 25", "(25, 40]", "(40, 60]", "> 60"]
    assert fixed.by_group["count"].tolist() == [
        int((frame["age"] <= 25).sum()), int(frame["age"].between(26, 40).sum()),
        int(frame["age"].between(41, 60).sum()), int((frame["age"] > 60).sum())]
    split = rai_nb.bias(frame, target="income", prediction="pred", sensitive={"age": 40.0})
    assert list(split.by_group.index) == ["<= 40", "> 40"]
    levels = rai_nb.bias(frame, target="income", prediction="pred", sensitive={"age": None})
    assert len(levels.by_group) == frame["age"].nunique()
    with pytest.raises(rai_nb.RaiError, match=r"pass 40.0 \(a threshold\)"):
        rai_nb.bias(frame, target="income", prediction="pred", sensitive={"age": 40})
    with pytest.raises(rai_nb.RaiError, match=r"holds .* values; pass None"):
        rai_nb.bias(frame, target="income", prediction="pred", sensitive={"sex": 3})


def test_zero_inflated_column_bins_drop_repeated_edges():
    adult = rai_nb.load_adult(split="test")
    frame = adult.assign(pred=(adult["education_num"] > 10).astype(int))
    result = rai_nb.bias(frame, target="income", prediction="pred", sensitive="capital_gain")
    assert result.by_group["count"].sum() == len(frame)
    assert len(result.by_group) >= 2 and result.by_group["count"].min() > 0


def test_small_groups_are_named_and_flagged():
    adult = rai_nb.load_adult(split="test")
    frame = adult.assign(pred=(adult["education_num"] > 10).astype(int))
    result = rai_nb.bias(frame, target="income", prediction="pred", sensitive=["sex", "race"],
                         min_group_size=100)
    small = result.small_groups()
    assert (small < 100).all() and len(small) == int((result.by_group["count"] < 100).sum())
    assert "under min_group_size=100" in result.task_note()
    with pytest.raises(rai_nb.RaiError, match="min_group_size"):
        rai_nb.bias(frame, target="income", prediction="pred", sensitive="sex", min_group_size=0)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_intervals_cover_their_estimates(wine, diabetes, task):
    frame, target, sensitive = ((wine, "cultivar", "site") if task == "multiclass"
                                else (diabetes, "progression", "sex"))
    result = rai_nb.bias(frame, target=target, prediction="pred", sensitive=sensitive,
                         n_boot=100)
    again = rai_nb.bias(frame, target=target, prediction="pred", sensitive=sensitive,
                        n_boot=100)
    pd.testing.assert_frame_equal(result.intervals, again.intervals)
    table = result.intervals.xs("by_group", level="table").dropna()
    inside = (table["lower"] <= table["estimate"] + 1e-12) & (
        table["estimate"] <= table["upper"] + 1e-12)
    assert inside.mean() > 0.95
    assert set(result.intervals.index.get_level_values("table")) >= {"by_group", "disparities"}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_row_order_changes_nothing(seed):
    rng = np.random.default_rng(seed)
    n = 80
    frame = pd.DataFrame({"y": rng.normal(size=n), "pred": rng.normal(size=n),
                          "c": rng.integers(0, 3, n), "cp": rng.integers(0, 3, n),
                          "g": rng.choice(list("abc"), n), "w": rng.uniform(0.1, 2, n)})
    order = rng.permutation(n)
    for target, pred in (("y", "pred"), ("c", "cp")):
        one = rai_nb.bias(frame, target=target, prediction=pred, sensitive="g",
                          sample_weight="w")
        other = rai_nb.bias(frame.iloc[order], target=target, prediction=pred, sensitive="g",
                            sample_weight="w")
        pd.testing.assert_frame_equal(one.by_group, other.by_group, rtol=1e-10)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_dask_equals_pandas_for_new_tasks(wine, diabetes, task):
    dd = pytest.importorskip("dask.dataframe")
    frame, target, sensitive = ((wine, "cultivar", "site") if task == "multiclass"
                                else (diabetes, "progression", "sex"))
    options = dict(target=target, prediction="pred", sensitive=sensitive, sample_weight="w",
                   n_boot=20)
    expected = rai_nb.bias(frame, **options)
    lazy = rai_nb.bias(dd.from_pandas(frame, npartitions=3), **options)
    pd.testing.assert_frame_equal(lazy.by_group, expected.by_group, rtol=1e-12)
    pd.testing.assert_series_equal(lazy.disparities, expected.disparities, rtol=1e-12)
    table = expected.intervals.xs("by_group", level="table")
    kept = ~table.index.get_level_values("metric").str.startswith("prediction_")
    pd.testing.assert_frame_equal(lazy.intervals.xs("by_group", level="table")[kept],
                                  table[kept], rtol=1e-12)


def test_slices_of_a_regression_search_its_squared_error(diabetes):
    features = ["sex", "bmi", "bp", "age", "s5"]
    result = rai_nb.slices(diabetes, target="progression", prediction="pred",
                           features=features, k=3, max_l=2, min_sup=20)
    assert result.loss == "squared_error"
    errors = (diabetes["pred"] - diabetes["progression"]) ** 2
    assert result.average_loss == pytest.approx(errors.mean(), rel=1e-12)
    assert len(result.top), "the worst slices of a linear fit on diabetes are found"
    for _, top in result.top.iterrows():
        rows = predicate_mask(diabetes, top["predicates"])
        assert top["size"] == rows.sum()
        assert top["mean_loss"] == pytest.approx(errors[rows].mean(), rel=1e-9)
    absolute = rai_nb.slices(diabetes, target="progression", prediction="pred",
                             features=features, loss="absolute_error", k=3, min_sup=20)
    assert absolute.average_loss == pytest.approx(errors.pow(0.5).mean(), rel=1e-12)
    with pytest.raises(rai_nb.RaiError, match="does not apply to a regression"):
        rai_nb.slices(diabetes, target="progression", prediction="pred", loss="error")


def test_slices_of_a_multiclass_model_per_class_and_overall(wine):
    overall = rai_nb.slices(wine, target="cultivar", prediction="pred", features=["site"],
                            k=3, max_l=1, min_sup=5)
    errors = (wine["pred"] != wine["cultivar"]).astype(float)
    assert overall.loss == "error" and overall.average_loss == pytest.approx(errors.mean())
    one_class = rai_nb.slices(wine, target="cultivar", prediction="pred", features=["site"],
                              loss="false_negative_rate", positive_label=1, k=3, max_l=1,
                              min_sup=5)
    rows = wine["cultivar"] == 1
    missed = (wine.loc[rows, "pred"] != 1).mean()
    assert one_class.average_loss == pytest.approx(missed)
