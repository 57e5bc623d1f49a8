"""Widget panels built from real results, inspected through their trait state (no browser).

Numbers shown in tables are read back from the HTML (parsed with the standard library) and
compared with the result's own values; the charts' artists are compared in test_plots.py.
"""

from __future__ import annotations

import dataclasses
import html
import json
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import rai_nb
from rai_nb import render
from rai_nb.render import REPORT_MIME
from rai_nb.stats.clarify import DESCRIPTIONS

ipywidgets = pytest.importorskip("ipywidgets")
shap = pytest.importorskip("shap")
pytest.importorskip("matplotlib")
from rai_nb import ui  # noqa: E402
from rai_nb.ui import panels  # noqa: E402
from rai_nb.ui._html import SEVERITY_COLOURS  # noqa: E402

EVIL = "<script>alert(1)</script>"
FEATURES = ["age", "priors_count", "juv_fel_count", EVIL]  # a hostile column name too
TARGET = "two_year_recid"


# --- reading panels back ------------------------------------------------------------------

class _Tables(HTMLParser):
    """Every <table> of an HTML string: rows of (text, attributes) per cell, text unescaped."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = ["", dict(attrs)]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None


def tables(markup: str) -> list[list[list[tuple[str, dict]]]]:
    parser = _Tables()
    parser.feed(markup)
    return parser.tables


def frame(table) -> pd.DataFrame:
    """A parsed table as a DataFrame of cell texts, header row as columns."""
    header = [text for text, _ in table[0]]
    return pd.DataFrame([[text for text, _ in row] for row in table[1:]], columns=header)


def widgets_in(widget) -> list:
    """``widget`` and every widget inside it."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += widgets_in(child)
    return found


def html_values(widget) -> list[str]:
    return [w.value for w in widgets_in(widget) if isinstance(w, ipywidgets.HTML)]


def number(text: str) -> float:
    return float(text.replace(",", "").split(" [")[0])


def interval(text: str) -> tuple[float, float]:
    low, high = text.split(" [")[1].rstrip("]").split(", ")
    return float(low), float(high)


# --- real results on COMPAS ---------------------------------------------------------------

@pytest.fixture(scope="module")
def compas():
    data = rai_nb.load_compas()[["age", "priors_count", "juv_fel_count", "juv_misd_count",
                                 "race", "sex", "c_charge_degree", TARGET]]
    data = data.rename(columns={"juv_misd_count": EVIL})
    data["race"] = data["race"].cat.rename_categories({"Other": EVIL})
    return data


@pytest.fixture(scope="module")
def model(compas):
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(
        compas[FEATURES], compas[TARGET])


@pytest.fixture(scope="module")
def scored(compas, model):
    return compas.assign(prediction=model.predict(compas[FEATURES]))


@pytest.fixture(scope="module")
def bias_result(scored):
    return rai_nb.bias(scored, target=TARGET, sensitive=["race", "sex"], prediction="prediction",
                       n_boot=30, random_state=0)


@pytest.fixture(scope="module")
def slice_result(compas, model):
    return rai_nb.slices(compas, model=model, target=TARGET, features=[*FEATURES, "race", "sex"],
                         k=6, max_l=2)


@pytest.fixture(scope="module")
def validation(scored):
    return rai_nb.validate(scored.iloc[:3000], reference=scored.iloc[3000:], target=TARGET,
                           sensitive=["race"], n_permutations=20)


@pytest.fixture(scope="module")
def explanation(compas, model):
    return shap.TreeExplainer(model)(compas[FEATURES].iloc[:200])


@pytest.fixture(scope="module")
def audit(compas, model):
    return rai_nb.audit(model, compas, target=TARGET, sensitive=["race"], features=FEATURES,
                        n_boot=30, sample=200, progress=False,
                        card={"name": "COMPAS model", "caveats": EVIL})


# --- fairness -----------------------------------------------------------------------------

def test_bias_table_holds_every_group_value_and_interval(bias_result):
    panel = panels.BiasPanel(bias_result)
    shown = frame(tables(panel.table.value)[0])
    groups = bias_result.by_group
    assert len(shown) == len(groups) + 1 and shown["race"].iloc[-1] == "(all rows)"
    bounds = bias_result.intervals.xs("by_group", level="table")
    for position, (key, values) in enumerate(groups.iterrows()):
        assert tuple(shown.loc[position, ["race", "sex"]]) == key
        assert number(shown.loc[position, "count"]) == values["count"]
        for metric in groups.columns.drop("count"):
            cell = shown.loc[position, metric]
            assert number(cell) == pytest.approx(values[metric], abs=5e-5)
            expected = bounds.loc[(" · ".join(key), metric), ["lower", "upper"]].to_numpy()
            np.testing.assert_allclose(interval(cell), expected, atol=5e-4)
    overall = shown.iloc[-1]
    for metric in groups.columns.drop("count"):
        assert number(overall[metric]) == pytest.approx(bias_result.overall[metric], abs=5e-5)


def test_bias_table_sorts_by_the_chosen_column(bias_result):
    panel = panels.BiasPanel(bias_result)
    panel.sort.value = "false_positive_rate"
    rates = frame(tables(panel.table.value)[0])["false_positive_rate"].iloc[:-1].map(number)
    expected = bias_result.by_group["false_positive_rate"].sort_values(ascending=False)
    np.testing.assert_allclose(rates, expected, atol=5e-5)
    panel.descending.value = False
    rates = frame(tables(panel.table.value)[0])["false_positive_rate"].iloc[:-1].map(number)
    np.testing.assert_allclose(rates, np.sort(expected), atol=5e-5)


def test_bias_table_marks_best_and_worst_groups(bias_result):
    panel = panels.BiasPanel(bias_result)
    rows = tables(panel.table.value)[0][1:]
    marked = {attrs.get("title"): (row[0][0], row[1][0]) for row in rows for _, attrs in row
              if attrs.get("title")}
    groups = bias_result.by_group
    groups = groups[groups["count"] >= bias_result.min_group_size]
    assert marked["best accuracy"] == groups["accuracy"].idxmax()
    assert marked["worst false_positive_rate"] == groups["false_positive_rate"].idxmax()
    assert marked["lowest selection_rate"] == groups["selection_rate"].idxmin()


def test_small_groups_are_never_marked_best_or_worst():
    """A 5-row group with every rate at an extreme is shown but not coloured, live or saved:
    it decides no finding, so it is not called the worst group either."""
    rng = np.random.default_rng(0)
    sizes = {"a": 400, "b": 300, "c": 200, "tiny": 5}
    group = np.repeat(list(sizes), list(sizes.values()))
    y = rng.integers(0, 2, len(group))
    pred = np.where(group == "tiny", 1 - y, rng.integers(0, 2, len(group)))
    result = rai_nb.bias(pd.DataFrame({"g": group, "y": y, "p": pred}), target="y",
                         prediction="p", sensitive="g")
    assert result.by_group.loc["tiny", "accuracy"] == 0  # the extreme, were it eligible
    rows = tables(panels.BiasPanel(result).table.value)[0][1:]
    marked = {row[0][0] for row in rows for _, attrs in row if attrs.get("title")}
    assert marked and "tiny" not in marked
    assert "among groups of at least 30 rows" in panels.BiasPanel(result).table.value
    section = result.sections()[0]
    tiny = list(result.by_group.index).index("tiny")
    assert section.marks and all(tiny not in rows for rows in section.marks.values())
    assert "Highest and lowest group (among groups of at least 30 rows) in bold." in section.text


def test_metric_dropdown_redraws_the_chart(bias_result):
    panel = panels.BiasPanel(bias_result)
    first = panel.chart.value
    panel.metric.value = "false_positive_rate"
    assert "<svg" in panel.chart.value and panel.chart.value != first
    assert ">false positive rate</text>" in panel.chart.value  # the x label, as text


def test_clarify_table_defines_metrics_on_hover_and_shows_intervals(bias_result):
    panel = panels.BiasPanel(bias_result)
    clarify = next(t for value in html_values(panel) if "Clarify" in value
                   for t in tables(value))
    header = {text: attrs.get("title") for text, attrs in clarify[0]}
    for name in bias_result.clarify.columns:
        assert header[name] == DESCRIPTIONS[name]
    row = next(r for r in clarify[1:] if r[1][0] == "Caucasian")
    cell = dict(zip([text for text, _ in clarify[0]], row))["DI"]
    assert number(cell[0]) == pytest.approx(bias_result.clarify.loc[("race", "Caucasian"), "DI"],
                                            abs=5e-5)
    bound = bias_result.intervals.loc[("clarify", "race = Caucasian", "DI")]
    assert cell[1]["title"] == f"95% interval [{bound['lower']:.3f}, {bound['upper']:.3f}]"


def test_fairness_summary_shows_disparities_with_intervals(bias_result):
    panel = panels.BiasPanel(bias_result)
    summary = frame(next(t for v in html_values(panel) if "Fairness summary" in v
                         for t in tables(v))).set_index("")
    for name, value in bias_result.disparities.items():
        bound = bias_result.intervals.loc[("disparities", "all groups", name)]
        np.testing.assert_allclose(summary.loc[name, ["value", "lower", "upper"]].map(number),
                                   [value, bound["lower"], bound["upper"]], atol=5e-5)


def test_bias_panel_without_predictions_or_intervals(compas):
    labels_only = rai_nb.bias(compas, target=TARGET, sensitive="sex")
    panel = panels.BiasPanel(labels_only)
    assert panel.metric.options == ("base_rate",)
    shown = frame(tables(panel.table.value)[0])
    assert list(shown.columns) == ["sex", "count", "base_rate"]
    np.testing.assert_allclose(shown["base_rate"].iloc[:-1].map(number),
                               labels_only.by_group["base_rate"], atol=5e-5)
    assert not any("Fairness summary" in v for v in html_values(panel))


# --- fairness of multiclass and regression models -----------------------------------------

def _table_after(panel, heading: str) -> pd.DataFrame:
    return frame(next(t for v in html_values(panel) if f"<h4>{heading}</h4>" in v
                      for t in tables(v)))


def test_multiclass_panel_shows_metrics_by_group_and_by_class(wine_audit):
    bias = wine_audit.bias
    panel = panels.BiasPanel(bias)
    shown = frame(tables(panel.table.value)[0])
    assert list(shown.columns) == ["site", "count", "accuracy", "balanced_accuracy", "macro_f1"]
    assert panel.metric.options == ("accuracy", "balanced_accuracy", "macro_f1")
    assert panel.metric.value == "accuracy" and "<svg" in panel.chart.value
    for metric in ("accuracy", "macro_f1"):
        np.testing.assert_allclose(shown[metric].iloc[:-1].map(number), bias.by_group[metric],
                                   atol=5e-5)
    intro = html_values(panel)[0]
    assert html.escape(bias.task_note()) in intro and "3 classes of cultivar" in intro
    by_class = _table_after(panel, "Metrics by class")
    assert list(by_class.columns) == ["site", "class", *bias.by_class.columns]
    sites = list(bias.by_group.index)
    assert list(zip(by_class["class"], by_class["site"])) == [
        (str(c), g) for c in bias.classes for g in sites]  # the groups of a class side by side
    bounds = bias.intervals.xs("by_class", level="table")
    for _, row in by_class.iterrows():
        for metric in bias.by_class.columns:
            key = (row["site"], int(row["class"]))
            assert number(row[metric]) == pytest.approx(bias.by_class.loc[key, metric], abs=5e-5)
            expected = bounds.loc[(f"{key[0]} · {key[1]}", metric), ["lower", "upper"]]
            np.testing.assert_allclose(interval(row[metric]), expected.to_numpy(), atol=5e-4)
    per_class = _table_after(panel, "Fairness by class").set_index("class")
    np.testing.assert_allclose(per_class.map(number), bias.class_disparities, atol=5e-5)


def test_multiclass_clarify_rows_are_per_class_with_intervals(wine_audit):
    bias = wine_audit.bias
    clarify = next(t for v in html_values(panels.BiasPanel(bias)) if "Clarify" in v
                   for t in tables(v))
    assert len(clarify) - 1 == len(bias.clarify)
    header = [text for text, _ in clarify[0]]
    row = next(r for r in clarify[1:] if (r[0][0], r[2][0]) == ("1", "north"))
    cell = dict(zip(header, row))["DPPL"]
    assert number(cell[0]) == pytest.approx(bias.clarify.loc[(1, "site", "north"), "DPPL"],
                                            abs=5e-5)
    bound = bias.intervals.loc[("clarify", "1 · site = north", "DPPL")]
    assert cell[1]["title"] == f"95% interval [{bound['lower']:.3f}, {bound['upper']:.3f}]"


def test_regression_panel_shows_errors_disparities_and_no_clarify(diabetes_audit):
    from rai_nb.stats.regression import REGRESSION_DISPARITIES

    bias = diabetes_audit.bias
    panel = panels.BiasPanel(bias)
    shown = frame(tables(panel.table.value)[0])
    groups = bias.by_group
    assert list(shown.columns) == ["sex", *groups.columns] and groups.columns[0] == "count"
    assert panel.metric.value == "mean_absolute_error" and "<svg" in panel.chart.value
    bounds = bias.intervals.xs("by_group", level="table")
    for position, group in enumerate(groups.index):
        for metric in groups.columns.drop("count"):
            cell = shown.loc[position, metric]
            assert number(cell) == pytest.approx(groups.loc[group, metric], rel=1e-4, abs=5e-5)
            np.testing.assert_allclose(interval(cell), bounds.loc[(group, metric)][
                ["lower", "upper"]].to_numpy(), atol=5e-4)
    rows = tables(panel.table.value)[0][1:]
    marked = {attrs.get("title"): row[0][0] for row in rows for _, attrs in row
              if attrs.get("title")}
    assert marked["best mean_error"] == groups["mean_error"].abs().idxmin()  # closest to zero
    assert marked["worst mean_absolute_error"] == groups["mean_absolute_error"].idxmax()
    assert marked["worst r2"] == groups["r2"].idxmin()
    assert len(groups) == 2 and "highest mean_target" not in marked  # one of two is always so
    summary = _table_after(panel, "Fairness summary").set_index("")
    assert list(summary.index) == list(REGRESSION_DISPARITIES)
    for name, value in bias.disparities.items():
        bound = bias.intervals.loc[("disparities", "all groups", name)]
        np.testing.assert_allclose(summary.loc[name, ["value", "lower", "upper"]].map(number),
                                   [value, bound["lower"], bound["upper"]], rtol=1e-4, atol=5e-5)
    clarify = next(v for v in html_values(panel) if "Clarify" in v)
    assert "label_threshold=" in clarify and not tables(clarify)


def test_regression_with_a_label_threshold_shows_clarify():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"g": rng.choice(["a", "b"], 400), "y": rng.normal(size=400)})
    data["p"] = data["y"] + rng.normal(scale=0.5, size=400)
    result = rai_nb.bias(data, target="y", prediction="p", sensitive="g", label_threshold=0.0)
    clarify = next(t for v in html_values(panels.BiasPanel(result)) if "Clarify" in v
                   for t in tables(v))
    assert len(clarify) - 1 == len(result.clarify) == 2


def test_label_only_multiclass_panel_has_no_chart():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"g": rng.choice(["a", "b"], 300), "y": rng.integers(0, 3, 300)})
    panel = panels.BiasPanel(rai_nb.bias(data, target="y", sensitive="g"))
    assert panel.metric.options == () and panel.chart not in panel.children
    assert list(frame(tables(panel.table.value)[0]).columns) == ["g", "count"]


def test_panel_intro_says_weights_bins_and_small_groups():
    rng = np.random.default_rng(6)
    data = pd.DataFrame({"age": rng.uniform(18, 80, 300), "y": rng.normal(size=300),
                         "w": rng.uniform(0.5, 2.0, 300),
                         "g": rng.choice(["a", "b", "c"], 300, p=[0.48, 0.48, 0.04])})
    data["p"] = data["y"] + rng.normal(scale=0.5, size=300)
    binned = rai_nb.bias(data, target="y", prediction="p", sensitive={"age": 3}, sample_weight="w")
    small = rai_nb.bias(data, target="y", prediction="p", sensitive="g", min_group_size=30)
    intros = [html_values(panels.BiasPanel(result))[0] for result in (binned, small)]
    assert all(html.escape(r.task_note()) in t for r, t in zip((binned, small), intros))
    assert "weighted by sample_weight" in intros[0] and "age is binned" in intros[0]
    assert "under min_group_size=30 never decide a finding: c (" in intros[1]


def test_no_view_of_a_non_binary_audit_speaks_of_a_positive_outcome(wine_audit, diabetes_audit):
    for audit in (wine_audit, diabetes_audit):
        bundle = audit._repr_mimebundle_()
        texts = [*html_values(ui.panel_for(audit).build_all()), bundle["text/html"],
                 bundle["text/markdown"], json.dumps(bundle[REPORT_MIME]),
                 audit.card.to_markdown(), audit.card.to_html()]
        assert not any("positive outcome" in text for text in texts)


def test_static_renderings_hold_the_task_tables(wine_audit, diabetes_audit):
    from rai_nb.stats.regression import REGRESSION_DISPARITIES

    multiclass, regression = wine_audit.bias, diabetes_audit.bias
    report = multiclass._repr_mimebundle_()[REPORT_MIME]
    by_class = next(s for s in report["sections"] if s["title"] == "Metrics by class")["table"]
    assert by_class["columns"] == list(multiclass.by_class.columns)
    assert len(by_class["rows"]) == len(multiclass.by_class)
    assert "Metrics by class" in multiclass.to_html() and "Metrics by class" in (
        multiclass.to_markdown())
    report = regression._repr_mimebundle_()[REPORT_MIME]
    summary = next(s for s in report["sections"] if s["title"] == "Fairness summary")["table"]
    assert [row["index"][0] for row in summary["rows"]] == list(REGRESSION_DISPARITIES)
    assert "statistical_parity_wasserstein" in regression.to_html()
    assert "statistical_parity_wasserstein" in regression.to_markdown()


# --- slices -------------------------------------------------------------------------------

def _independent_mask(data: pd.DataFrame, predicates: dict) -> np.ndarray:
    mask = np.ones(len(data), dtype=bool)
    for column, level in predicates.items():
        values = data[column]
        if isinstance(level, pd.Interval):
            mask &= np.array([v in level for v in values])
        else:
            mask &= (values == level).to_numpy()
    return mask


def test_slices_table_holds_the_top_slices(slice_result):
    panel = panels.SlicesPanel(slice_result)
    shown = frame(tables(panel.children[0].value)[0])
    top = slice_result.top
    assert list(shown["slice"]) == list(top["slice"])
    np.testing.assert_allclose(shown["size"].map(number), top["size"])
    np.testing.assert_allclose(shown["mean_loss"].map(number), top["mean_loss"], atol=5e-5)
    assert "<svg" in panel.children[1].value


def test_selecting_a_slice_summarises_its_rows(slice_result, compas):
    panel = panels.SlicesPanel(slice_result)
    assert len(slice_result.top) >= 2
    first = panel.summary.value
    panel.select.value = 1
    assert panel.summary.value != first
    row = slice_result.top.iloc[1]
    rows = compas[_independent_mask(compas, row["predicates"])]
    summary = panel.summary.value
    assert f"{int(row['rows']):,} rows, mean" in summary
    assert f"mean error {row['mean_loss']:.4f}" in summary
    assert f"{len(rows):,} rows match" in summary
    numeric, common = (frame(t) for t in tables(summary))
    age = numeric.set_index("").loc["age"]
    assert number(age["mean"]) == pytest.approx(rows["age"].mean(), abs=5e-5)
    assert number(age["mean (all rows)"]) == pytest.approx(compas["age"].mean(), abs=5e-5)
    sex = common[common["column"] == "sex"].set_index("value")
    counts = rows["sex"].value_counts()
    for value, shown in sex["rows"].items():
        assert number(shown) == counts[value]


def test_slices_panel_without_slices_or_rows(slice_result):
    empty = panels.SlicesPanel(dataclasses.replace(slice_result, top=slice_result.top.iloc[:0]))
    assert empty.select.value is None and empty.summary.value == ""
    rowless = panels.SlicesPanel(dataclasses.replace(slice_result, data=None))
    assert "rows were not kept" in rowless.summary.value


# --- data checks --------------------------------------------------------------------------

def test_validation_panel_groups_checks_by_severity(validation):
    panel = panels.ValidationPanel(validation)
    checks = validation.checks
    titles = panel.accordion.titles
    present = [s for s in ("fail", "warn", "pass") if (checks["severity"] == s).any()]
    assert titles[:len(present)] == tuple(
        f"{s} ({(checks['severity'] == s).sum()})" for s in present)
    for severity, box in zip(present, panel.accordion.children):
        shown = frame(tables(box.children[0].value)[0])
        expected = checks[checks["severity"] == severity]
        assert list(shown["name"]) == list(expected.index)
        assert list(shown["message"]) == list(expected["message"])
        with_details = [n for n in expected.index if len(validation.details.get(n, ()))]
        if with_details:
            assert box.children[1].titles == tuple(f"{n}: details" for n in with_details)


def test_validation_details_and_drift_are_shown(validation):
    panel = panels.ValidationPanel(validation)
    box = panel.accordion.children[0]
    worst = validation.checks[validation.checks["severity"] == validation.checks["severity"].iat[
        validation.checks["severity"].map({"fail": 0, "warn": 1, "pass": 2}).argmin()]]
    name = next(n for n in worst.index if len(validation.details.get(n, ())))
    detail = box.children[1].children[box.children[1].titles.index(f"{name}: details")]
    shown = frame(tables(detail.value)[0])
    assert len(shown) == min(len(validation.details[name]), 20)
    assert validation.checks.at[name, "message"] in html.unescape(detail.value)
    assert panel.accordion.titles[-1].startswith(f"drift ({len(validation.drift.drifted)} of")
    drift = frame(tables(panel.accordion.children[-1].children[0].value)[0]).set_index("column")
    np.testing.assert_allclose(drift["statistic"].map(number),
                               validation.drift.columns["statistic"], rtol=1e-3, atol=5e-5)


# --- explanations -------------------------------------------------------------------------

def test_explanation_panel_from_a_shap_explanation(explanation, compas):
    panel = ui.panel_for(explanation)
    assert isinstance(panel, panels.ExplanationPanel)
    expected = pd.Series(np.abs(explanation.values).mean(axis=0), index=FEATURES)
    assert [label for label, _ in panel.feature.options] == list(
        expected.sort_values(ascending=False).index)
    assert not [w for w in widgets_in(panel) if isinstance(w, ipywidgets.Image)]
    assert panel.report.beeswarm[:4] == b"\x89PNG"  # the saved report's copy, on white
    figures = [w.value for w in widgets_in(panel) if isinstance(w, ipywidgets.HTML)
               and "<svg" in w.value]
    # importance, beeswarm (dots as one embedded image, text in the theme's colour), dependence
    assert len(figures) == 3 and panel.dependence.value in figures
    beeswarm = figures[1]
    assert "currentColor" in beeswarm and beeswarm.count("<image") == 1
    assert "SHAP value" in beeswarm
    before = panel.dependence.value
    panel.feature.value = panel.feature.options[-1][1]
    assert panel.dependence.value != before


def test_explanation_panel_of_a_multi_output_explanation_without_names():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(
        x, x[:, 0] + 0.3 * rng.normal(size=120) > 0)
    explained = shap.TreeExplainer(forest)(x[:60])
    assert np.ndim(explained.values) == 3 and explained.feature_names is None
    panel = panels.ExplanationPanel(explained)
    expected = pd.Series(np.abs(explained.values[..., 1]).mean(axis=0),
                         index=[f"feature {i}" for i in range(3)])
    pd.testing.assert_series_equal(panel.importance, expected.sort_values(ascending=False),
                                   check_names=False)
    assert "<svg" in panel.dependence.value


def test_group_attribution_table(explanation, compas):
    gaps = rai_nb.group_attributions(explanation, compas[["race"]].iloc[:200])
    panel = panels.ExplanationPanel(explanation, group_importance=gaps)
    shown = frame(tables(panel.children[-1].value)[0]).set_index("feature")
    np.testing.assert_allclose(shown["gap"].map(number), gaps["gap"], atol=5e-5)
    assert list(shown.index) == list(gaps.index)


# --- model card ---------------------------------------------------------------------------

def test_model_card_edits_rebuild_the_preview_and_save(audit, tmp_path):
    panel = panels.ModelCardPanel(audit.card)
    panel.inputs["intended_use"].value = "Research on <b>bias</b>"
    assert "Research on &lt;b&gt;bias&lt;/b&gt;" in panel.preview.value
    assert panel.card.fields["intended_use"] == "Research on <b>bias</b>"
    assert "intended_use" not in audit.card.fields  # the card passed in is left as it was
    panel.path.value = str(tmp_path / "card")
    panel.buttons[0].click()
    panel.buttons[1].click()
    assert "Research on &lt;b>bias&lt;/b>" in (tmp_path / "card.md").read_text()
    page = (tmp_path / "card.html").read_text()
    assert page == render.html_document(panel.card.to_html(), panel.card.title)
    assert "Saved" in panel.status.value


def test_model_card_save_error_is_one_line(audit, tmp_path):
    (tmp_path / "file").write_text("")
    panel = panels.ModelCardPanel(audit.card)
    panel.path.value = str(tmp_path / "file" / "card")
    assert panel.save(".md") is None
    assert "Saved" not in panel.status.value and panel.status.value


# --- audit --------------------------------------------------------------------------------

def test_audit_overview_lists_every_finding(audit):
    panel = ui.panel_for(audit)
    assert panel.titles == ("Overview", "Fairness", "Explanations", "Slices", "Data checks",
                            "Model card")  # Mitigation: only on the audit a mitigation made
    shown = frame(tables(panel.children[0].value)[0])
    findings = audit.findings()
    assert list(shown["finding"]) == list(findings["finding"])
    assert list(shown["area"]) == list(findings["area"])
    assert list(shown[""]) == [f"● {s}" for s in findings["severity"]]
    for text, value in zip(shown["value"], findings["value"]):
        assert (text == "–") if np.isnan(value) else number(text) == pytest.approx(value, abs=5e-5)
    for severity, colour in SEVERITY_COLOURS.items():  # each row coloured by its severity
        assert panel.children[0].value.count(f'<tr style="background:{colour}"') == (
            findings["severity"] == severity).sum()


def test_audit_tabs_are_built_when_selected(audit):
    panel = ui.panel_for(audit)
    assert all(box.children == () for box in panel.children[1:])
    panel.selected_index = 1
    assert isinstance(panel.children[1].children[0], panels.BiasPanel)
    explanations = panel.tab("Explanations")  # the SHAP panel, then the top feature's PDP/ICE
    assert isinstance(explanations.children[0], panels.ExplanationPanel)
    assert "Partial dependence" in explanations.children[1].value
    assert "<svg" in explanations.children[1].value
    assert isinstance(panel.tab("Slices"), panels.SlicesPanel)
    assert isinstance(panel.tab("Data checks"), panels.ValidationPanel)
    assert isinstance(panel.tab("Model card"), panels.ModelCardPanel)
    assert panel.tab("Fairness") is panel.children[1].children[0]  # built once


def test_audit_without_explanations_says_so(audit):
    bare = dataclasses.replace(audit, explanation=None, importance=None, group_importance=None,
                               dependence=None)
    content = ui.panel_for(bare).tab("Explanations")
    assert "Not part of this audit" in content.value


def test_every_html_widget_escapes_hostile_names(audit, bias_result, slice_result, validation,
                                                 explanation):
    built = [ui.panel_for(audit).build_all(), panels.BiasPanel(bias_result),
             panels.SlicesPanel(slice_result), panels.ValidationPanel(validation),
             panels.ExplanationPanel(explanation)]
    values = [v for panel in built for v in html_values(panel)]
    assert values and not any(EVIL in v for v in values)
    assert any(html.escape(EVIL) in v for v in values)  # the hostile text is shown, escaped
    # Descriptions, options and titles are shown as text, never as HTML:
    assert not any(getattr(w, "description_allow_html", False)
                   for p in built for w in widgets_in(p))


def test_show_displays_one_bundle_with_widget_and_static_renderings(audit, monkeypatch):
    shown, built = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: shown.append(obj))
    panel_for = ui.panel_for
    monkeypatch.setattr(ui, "panel_for", lambda result: built.append(panel_for(result)) or built[-1])
    ui.show(audit)
    (bundle,) = shown
    assert {ui.PANEL_MIME, "text/html", "text/markdown", "text/plain", REPORT_MIME} <= set(bundle)
    assert isinstance(built[0], panels.AuditPanel)
    assert bundle[ui.PANEL_MIME]["model_id"] == built[0].model_id
    assert bundle["text/html"] == audit.to_html() and bundle[REPORT_MIME] == audit.to_dict()


def test_panel_for_other_results_and_refusals(validation):
    assert isinstance(ui.panel_for(validation.drift), panels.DriftPanel)
    flip = rai_nb.FlipTestResult(
        flip=pd.DataFrame({"count": [3], "FT": [0.1]},
                          index=pd.MultiIndex.from_tuples([("race", EVIL)])),
        invariance=pd.DataFrame({"changed": [0.0]}, index=["a"]))
    report = ui.panel_for(flip)
    assert isinstance(report, panels.ReportPanel) and report.children[0].value == flip.to_html()
    with pytest.raises(rai_nb.RaiError, match="no panel shows a dict"):
        ui.panel_for({})


def test_panels_never_recompute(audit, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a panel called the API")

    for name in ("audit", "bias", "slices", "validate", "drift", "explain", "group_attributions"):
        monkeypatch.setattr(rai_nb.api, name, fail)
        monkeypatch.setattr(rai_nb, name, fail)
    before = audit.to_json()
    ui.panel_for(audit).build_all()
    assert audit.to_json() == before


def test_import_rai_nb_loads_no_view_library():
    code = ("import sys, rai_nb; print(sorted({'ipywidgets', 'matplotlib', 'IPython', 'shap'} "
            "& set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
