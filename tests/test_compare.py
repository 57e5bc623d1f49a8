"""rai_nb.compare: two audits side by side, and the Pareto front of mitigation candidates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb.results._bias import row_label
from rai_nb.ui._pareto import pareto_chart, pareto_front

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
KEY = ["rule", "group"]


@pytest.fixture(scope="module")
def adult_audits():
    """A LogisticRegression and a HistGradientBoosting (which also takes ``sex``) audited on
    the same 3,000 Adult test rows by sex and race."""
    adult = rai_nb.load_adult(split="test").sample(3000, random_state=0).reset_index(drop=True)
    y = adult["income"]
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    logistic.fit(adult[NUMERIC], y)
    boosted = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    boosted.fit(adult[[*NUMERIC, "sex"]], y)
    kwargs = dict(target="income", sensitive=["sex", "race"], explain=False, n_boot=50,
                  progress=False)
    return (rai_nb.audit(logistic, adult, features=NUMERIC, **kwargs),
            rai_nb.audit(boosted, adult, features=[*NUMERIC, "sex"], **kwargs))


@pytest.fixture(scope="module")
def comparison(adult_audits):
    return rai_nb.compare(*adult_audits)


def test_group_metrics_are_those_of_the_two_audits(adult_audits, comparison):
    table = comparison.by_group
    for audit, label in zip(adult_audits, ("before", "after")):
        bias = audit.bias
        lower, upper = bias.bounds("by_group", bias.by_group)
        for metric in bias.by_group.columns.drop("count"):
            for group in bias.by_group.index:
                row = table.loc[(metric, *group)]
                np.testing.assert_array_equal(  # NaN equals NaN here
                    row[[label, f"{label}_lower", f"{label}_upper"]].to_numpy(dtype=float),
                    [side.loc[group, metric] for side in (bias.by_group, lower, upper)])
            overall = table.loc[(metric, "(all rows)", "(all rows)")]
            assert overall[label] == bias.overall[metric]
            assert np.isnan(overall[f"{label}_lower"])
    np.testing.assert_array_equal(table["change"], table["after"] - table["before"])
    assert len(table) == 12 * (len(adult_audits[0].bias.by_group) + 1)


def test_disparities_and_graded_values_with_their_intervals(adult_audits, comparison):
    first, second = (audit.bias for audit in adult_audits)
    table = comparison.disparities
    pd.testing.assert_series_equal(table["before"], first.disparities, check_names=False)
    pd.testing.assert_series_equal(table["after"], second.disparities, check_names=False)
    ends = first.intervals.xs(("disparities", "all groups"), level=("table", "row"))
    np.testing.assert_array_equal(table["before_lower"], ends.loc[table.index, "lower"])
    np.testing.assert_array_equal(table["before_upper"], ends.loc[table.index, "upper"])
    graded = comparison.tables["graded"]
    for side, bias in (("before", first), ("after", second)):
        np.testing.assert_array_equal(graded[[side, f"{side}_lower", f"{side}_upper"]],
                                      bias.decisive[["value", "lower", "upper"]])


def test_verdicts_follow_the_intervals(comparison):
    for table in comparison.tables.values():
        a = table[["before_lower", "before_upper"]].to_numpy()
        b = table[["after_lower", "after_upper"]].to_numpy()
        for i, verdict in enumerate(table["verdict"]):
            before, after = table["before"].iloc[i], table["after"].iloc[i]
            if before == after:
                assert verdict == "no change"
            elif not (np.isfinite(a[i]).all() and np.isfinite(b[i]).all()):
                assert verdict == ("no value" if np.isnan([before, after]).any()
                                   else "no interval")
            else:
                disjoint = a[i, 1] < b[i, 0] or b[i, 1] < a[i, 0]
                assert verdict == ("change beyond noise" if disjoint else "change within noise")
    verdicts = set(comparison.by_group["verdict"])
    assert {"change within noise", "change beyond noise", "no interval"} <= verdicts


def _problems(audit) -> set:
    findings = audit.findings(keys=True)
    return set(map(tuple, findings.loc[findings["severity"] != "pass", KEY].to_numpy()))


def test_findings_appeared_cleared_and_stayed_are_set_differences(adult_audits, comparison):
    before, after = map(_problems, adult_audits)
    found = {status: set(map(tuple, comparison.status(status)[KEY].to_numpy()))
             for status in ("appeared", "cleared", "stayed")}
    assert found == {"appeared": after - before, "cleared": before - after,
                     "stayed": before & after}
    assert ("sensitive_input", "sex") in found["appeared"]  # the boosted model takes sex
    reverse = rai_nb.compare(*adult_audits[::-1], labels=("boosted", "logistic"))
    assert set(map(tuple, reverse.status("cleared")[KEY].to_numpy())) == found["appeared"]
    assert "sensitive input (sex)" in comparison.card_text()
    row = comparison.status("appeared").set_index(KEY).loc[("sensitive_input", "sex")]
    assert (row["before severity"], row["after severity"]) == ("pass", "warn")


def test_every_section_renders_in_each_format(comparison):
    html, markdown, text = comparison.to_html(), comparison.to_markdown(), str(comparison)
    report = json.loads(comparison.to_json())
    assert report["kind"] == "comparison"
    titles = [s.title for s in comparison.sections()]
    assert titles[:3] == ["Summary", "Graded disparities", "Findings"]
    assert {"Fairness summary", "Metrics by group", "SageMaker Clarify metrics"} <= set(titles)
    for title in titles:
        assert f"<h4>{title}</h4>" in html and f"### {title}" in markdown and title in text
    assert [s["title"] for s in report["sections"]] == titles
    findings = report["sections"][2]["table"]
    assert findings["index_names"] == [] and all(r["index"] == [] for r in findings["rows"])
    assert set(comparison._repr_mimebundle_()) >= {"text/html", "text/markdown", "text/plain"}
    assert report["summary"]["appeared"] == len(comparison.status("appeared"))


def test_summary_says_the_rows_are_the_same(comparison):
    assert comparison.same_group_rows and comparison.rows == (3000, 3000)
    text = comparison.card_text()
    assert "same rows in every group" in text and "equalized odds difference" in text
    assert "accuracy" in comparison.summary()["headline"]


def _frame(n=400, seed=0, group=("<b>x</b>", "y & z")):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"g": rng.choice(list(group), n), "y": rng.integers(0, 2, n),
                         "p": rng.integers(0, 2, n), "q": rng.integers(0, 2, n),
                         "h": rng.choice(["a", "b"], n)})


def _bias(frame, prediction="p", target="y", sensitive="g", n_boot=30):
    return rai_nb.bias(frame, target=target, sensitive=sensitive, prediction=prediction,
                       n_boot=n_boot, min_group_size=10)


def test_bias_results_compare_with_escaped_group_names():
    frame = _frame()
    copy = frame.copy()
    result = rai_nb.compare(_bias(frame), _bias(frame, "q"), labels=("p <i>", "q"))
    assert result.fairness_only and "Graded disparities only" in result.to_markdown()
    html = result.to_html()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<i>" not in html and "p &lt;i&gt;" in html
    assert "<b>x</b>" not in result.to_markdown()
    groups = set(result.by_group.index.get_level_values(1))
    assert {"<b>x</b>", "y & z", "(all rows)"} == groups
    pd.testing.assert_frame_equal(frame, copy)


def test_different_rows_are_compared_and_labelled():
    first, second = _frame(400, 0), _frame(300, 1)
    result = rai_nb.compare(_bias(first), _bias(second))
    assert not result.same_group_rows and result.rows == (400, 300)
    assert "different rows (400 and 300" in result.card_text()


def test_a_group_seen_by_one_audit_only():
    first = _frame(300, 0)
    second = _frame(300, 1, group=("<b>x</b>", "y & z", "new"))
    table = rai_nb.compare(_bias(first), _bias(second)).by_group
    only = table.xs("new", level=1)
    assert (only["verdict"] == "only in after").all() and only["before"].isna().all()


@pytest.mark.parametrize("change, message", [
    (dict(target="p", prediction="q"), "different targets"),
    (dict(sensitive="h"), "different sensitive columns"),
    (dict(sensitive=["g", "h"]), "different sensitive columns"),
])
def test_mismatched_audits_are_refused(change, message):
    frame = _frame()
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.compare(_bias(frame), _bias(frame, **change))


def test_bad_arguments_are_refused():
    bias = _bias(_frame(), n_boot=0)
    with pytest.raises(rai_nb.RaiError, match="b must be an AuditResult or a BiasResult"):
        rai_nb.compare(bias, bias.by_group)
    for labels in (("a", "a"), ("a",), ("a", "change"), ("", "b"), "ab"):
        with pytest.raises(rai_nb.RaiError, match="labels must be two"):
            rai_nb.compare(bias, bias, labels=labels)


def test_multiclass_and_regression_audits_compare_with_themselves(wine_audit, diabetes_audit):
    for audit, metric in ((wine_audit, "accuracy"), (diabetes_audit, "mean_absolute_error")):
        result = rai_nb.compare(audit, audit)
        assert metric in result.summary()["headline"]
        assert result.status("appeared").empty and result.status("cleared").empty
        for table in result.tables.values():
            known = table["before"].notna()
            assert set(table.loc[known, "verdict"]) == {"no change"}
        assert result.to_html() and result.to_markdown()
    tables = rai_nb.compare(wine_audit, wine_audit).tables
    assert {"by_class", "class_disparities", "clarify"} <= set(tables)
    assert set(tables["by_group"].index.get_level_values("site")) == {
        *map(row_label, wine_audit.bias.by_group.index), "(all rows)"}


def _brute_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pareto front of minimised x and maximised y by comparing every pair."""
    known = ~(np.isnan(x) | np.isnan(y))
    at_least = (x[None, :] <= x[:, None]) & (y[None, :] >= y[:, None])
    strictly = (x[None, :] < x[:, None]) | (y[None, :] > y[:, None])
    dominated = (at_least & strictly & known[None, :]).any(axis=1)
    return known & ~dominated


values = st.one_of(st.sampled_from([0.0, 0.5, 1.0, np.nan]),
                   st.floats(-2, 2, allow_nan=False, width=32))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=0, max_size=30))
def test_pareto_front_equals_brute_force(points):
    x, y = (np.array([p[i] for p in points], dtype=np.float64).reshape(-1) for i in (0, 1))
    table = pd.DataFrame({"equalized_odds_difference": x, "accuracy": y},
                         index=pd.Index([f"c{i}" for i in range(len(x))]))
    front = pareto_front(table, "equalized_odds_difference")
    np.testing.assert_array_equal(front.to_numpy(), _brute_front(x, y))
    assert front.index.equals(table.index)
    # A ratio is better when higher: the front of (ratio, accuracy) is that of (−ratio, accuracy).
    ratio = pareto_front(table.rename(columns={"equalized_odds_difference": "dp_ratio"}),
                         "dp_ratio")
    np.testing.assert_array_equal(ratio.to_numpy(), _brute_front(-x, y))


def test_pareto_chart_is_theme_aware_svg():
    table = pd.DataFrame({"candidate": ["tol=0", "tol=0.05", "<b>big</b>", "worse"],
                          "accuracy": [0.70, 0.78, 0.80, 0.69],
                          "equalized_odds_difference": [0.01, 0.05, 0.20, 0.10]})
    copy = table.copy()
    svg = pareto_chart(table, "equalized_odds_difference", chosen="<b>big</b>")
    assert svg.startswith("<svg") and "currentColor" in svg and "<script" not in svg
    assert "chosen: &lt;b&gt;big&lt;/b&gt;" in svg and "<b>" not in svg
    assert "equalized odds difference (lower is better)" in svg
    pd.testing.assert_frame_equal(table, copy)
    with pytest.raises(rai_nb.RaiError, match="chosen candidate 'nope'"):
        pareto_chart(table, "equalized_odds_difference", chosen="nope")
    with pytest.raises(rai_nb.RaiError, match="'missing' given as a trade-off axis"):
        pareto_front(table, "missing")
    with pytest.raises(rai_nb.RaiError, match="must be one of"):
        pareto_front(table, "accuracy", "equalized_odds_difference", x_better="up")
