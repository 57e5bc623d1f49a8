"""SHAP values against shap and against brute-force Shapley enumeration."""

from __future__ import annotations

import base64
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb.api._fairness_tests import neighbour_order
from rai_nb.render import REPORT_MIME
from rai_nb.results import ExplanationResult

shap = pytest.importorskip("shap")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")

FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def adult(adult_numeric):
    X, y = adult_numeric
    X = X.copy()
    X.loc[::17, "hours_per_week"] = np.nan  # missing values follow each model's default
    return X, y


def test_linear_shap_equals_shap_linear_explainer(adult):
    X, y = adult
    X = X.fillna(0)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    ours = rai_nb.explain(pipe, X[:100], background=X)
    transformed = pipe[:-1].transform(X)
    masker = shap.maskers.Independent(transformed, max_samples=len(transformed))
    expected = shap.LinearExplainer(pipe[-1], masker)(transformed[:100])
    np.testing.assert_allclose(ours.values, expected.values, atol=1e-10)
    np.testing.assert_allclose(ours.base_values, expected.base_values, atol=1e-10)


def test_group_attributions_gap(adult):
    X, y = adult
    model = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    explanation = rai_nb.explain(model, X[:300])
    groups = pd.DataFrame({"old": np.where(X["age"][:300] > 40, "yes", "no")})
    table = rai_nb.group_attributions(explanation, groups)
    assert list(table.columns) == ["no", "yes", "gap"]
    assert table["gap"].is_monotonic_decreasing
    expected = np.abs(explanation.values[groups["old"] == "yes"]).mean(axis=0)
    np.testing.assert_allclose(table.loc[FEATURES, "yes"], expected, atol=1e-12)


def test_flip_test_equals_smclarify():
    smc = pytest.importorskip("smclarify.bias.metrics.posttraining")
    compas = rai_nb.load_compas()
    compas["male"] = (compas["sex"] == "Male").astype(int)
    features = ["age", "priors_count", "juv_fel_count", "male"]
    model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(
        compas[features], compas["two_year_recid"])
    result = rai_nb.flip_test(model, compas, sensitive="male", features=features)
    predicted = pd.Series(model.predict(compas[features]) == 1)
    numeric = compas[["age", "priors_count", "juv_fel_count"]].reset_index(drop=True)
    # smclarify breaks ties between equidistant neighbours by row order: give it the rows in
    # the content order rai_nb uses whatever the input order.
    order = neighbour_order(numeric.to_numpy(np.float64), predicted.to_numpy(),
                            compas["male"].to_numpy())
    numeric, predicted, male = numeric.iloc[order], predicted.iloc[order], compas["male"].iloc[order]
    for facet in (0, 1):
        expected = smc.FT(numeric.reset_index(drop=True), pd.Series((male == facet).to_numpy()),
                          predicted.reset_index(drop=True))
        assert result.flip.loc[("male", facet), "FT"] == pytest.approx(expected, abs=1e-12)
    changed = result.invariance.loc[("male", 1), "as 0"]
    flipped = compas[features].assign(male=0)[compas["male"] == 1]
    assert changed == pytest.approx(np.mean(model.predict(flipped) != model.predict(
        compas[features][compas["male"] == 1])))


def test_inputs_are_not_mutated(adult):
    X, y = adult
    model = GradientBoostingClassifier(n_estimators=5).fit(X.fillna(0), y)
    data, before = X.fillna(0), pickle.dumps(model)
    copy = data.copy()
    rai_nb.explain(model, data[:20])
    rai_nb.explain(model, data[:5], method="kernel", background=data[:5], progress=False)
    pd.testing.assert_frame_equal(data, copy)
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("model,X,message", [
    (GradientBoostingClassifier(), np.zeros((3, 2)), "not fitted"),
    (object(), np.zeros((3, 2)), "no exact explainer for object; pass method=.kernel."),
    ("fitted", np.zeros((3, 7)), "X has 7 columns but the model was fitted on 5"),
    ("fitted", np.zeros((0, 5)), "X has no rows"),
    ("fitted", np.zeros(5), "must be 2-D"),
])
def test_bad_inputs_raise_rai_error(adult, model, X, message):
    if model == "fitted":
        data, y = adult
        model = GradientBoostingClassifier(n_estimators=2).fit(data.fillna(0), y)
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.explain(model, X, progress=False)


# --- the saved view of an explanation (what %explain and an audit's Explanations tab keep) ----

#: The report JSON of an explanation holds aggregates and one PNG: its size does not grow with
#: the rows explained.
REPORT_BYTES = 120_000


def report_size(result) -> int:
    return len(json.dumps(result.to_dict(), allow_nan=False))


def image_of(report: dict, title: str) -> bytes:
    uri = next(s for s in report["sections"] if s["title"] == title)["image"]
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


def test_explanation_report_holds_importance_and_the_beeswarm_only(adult):
    X, y = adult
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    explanation = rai_nb.explain(model, X[:600])
    report = ExplanationResult.of(explanation)
    expected = np.abs(explanation.values).mean(axis=0)  # by hand: mean |SHAP| per feature
    order = np.argsort(-expected, kind="stable")
    assert list(report.importance.index) == [FEATURES[i] for i in order]
    np.testing.assert_allclose(report.importance, expected[order], rtol=1e-12)
    data = report.to_dict()
    assert data["kind"] == "explanation" and data["summary"]["rows"] == 600
    assert [s["title"] for s in data["sections"]] == ["Global importance", "Beeswarm"]
    assert image_of(data, "Beeswarm")[:8] == b"\x89PNG\r\n\x1a\n"
    small = ExplanationResult.of(rai_nb.explain(model, X[:100]))
    assert report_size(report) < REPORT_BYTES and report_size(small) < REPORT_BYTES
    assert all(s["table"] is None or len(s["table"]["rows"]) <= len(FEATURES)
               for s in data["sections"])
    html = report.to_html()
    assert html.count("<img ") == 1 and "<td class=\"rai-label\">capital_gain</td>" in html
    assert "array(" not in str(report) and "Beeswarm" in report.to_markdown()


def test_multi_output_importance_is_the_positive_class_or_the_mean_over_classes(adult):
    X, y = adult
    X = X.fillna(0)
    two = shap.TreeExplainer(RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
                             .fit(X, y))(X[:80])
    assert np.ndim(two.values) == 3
    np.testing.assert_allclose(ExplanationResult.of(two).importance[FEATURES],
                               np.abs(two.values[..., 1]).mean(axis=0), rtol=1e-12)
    bands = np.digitize(X["age"], [30, 45, 60])  # four classes
    four = rai_nb.explain(GradientBoostingClassifier(n_estimators=5, random_state=0)
                          .fit(X, bands), X[:80])
    report = ExplanationResult.of(four)
    np.testing.assert_allclose(report.importance[FEATURES],
                               np.abs(four.values).mean(axis=(0, 2)), rtol=1e-12)
    assert report.outputs == 4 and "Mean over the 4 outputs." in report.sections()[0].text


def test_interaction_report_lists_the_strongest_pairs(adult):
    X, y = adult
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    explanation = rai_nb.explain(model, X[:100], interactions=True)
    report = ExplanationResult.of(explanation)
    phi = np.abs(explanation.values).mean(axis=0)
    pairs = {(FEATURES[i], FEATURES[j]): phi[i, j] + phi[j, i]
             for i in range(len(FEATURES)) for j in range(i + 1, len(FEATURES))}
    shown = report.interactions
    assert len(shown) == len(pairs) and shown["mean |interaction|"].is_monotonic_decreasing
    for row in shown.itertuples(index=False):
        assert row[2] == pytest.approx(pairs[(row[0], row[1])], rel=1e-12)
    np.testing.assert_allclose(report.importance[FEATURES],
                               np.abs(explanation.values.sum(axis=2)).mean(axis=0), rtol=1e-12)


def test_show_of_an_explanation_carries_every_static_rendering(adult, monkeypatch):
    from rai_nb import ui

    X, y = adult
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    explanation = rai_nb.explain(model, X[:200])
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: shown.append(obj))
    ui.show(explanation)
    (bundle,) = shown
    assert {ui.PANEL_MIME, "text/html", "text/markdown", "text/plain", REPORT_MIME} <= set(bundle)
    assert bundle[REPORT_MIME]["kind"] == "explanation"
    assert "<img " in bundle["text/html"] and "array(" not in bundle["text/plain"]
    assert isinstance(explanation, shap.Explanation)  # what explain returns is unchanged


def test_audit_report_has_the_explanations_part_and_the_live_panels_tabs(adult):
    from rai_nb import ui

    X, y = adult
    data = X.assign(income=y, sex=np.where(X["age"] > 40, "old", "young"))
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    audit = rai_nb.audit(model, data[:400], target="income", sensitive="sex", sample=100,
                         n_boot=0, progress=False, card={"name": "Adult"})
    report = audit.to_dict()
    part = next(p for p in report["parts"] if p["kind"] == "explanation")
    groups = next(s for s in part["sections"] if s["title"] == "Attribution by group")["table"]
    assert [r["index"][0] for r in groups["rows"]] == list(audit.group_importance.index)
    np.testing.assert_allclose([r["values"] for r in groups["rows"]],
                               audit.group_importance.to_numpy(), rtol=1e-12)
    assert image_of(part, "Beeswarm")[:4] == b"\x89PNG"
    assert [s["title"] for s in report["sections"]] == ["Overview"]
    assert audit.to_html().count("<img ") == 1
    assert len(json.dumps(report)) < 2 * REPORT_BYTES
    # The saved report (labextension) names each part's tab by kind: the live panel's tabs.
    source = (Path(__file__).parent.parent / "labextension/src/report.ts").read_text()
    block = re.search(r"PART_LABELS[^=]*=\s*{(.*?)}", source, re.S).group(1)
    labels = dict(re.findall(r"(\w+): '([^']+)'", block))
    saved = ["Overview", *(labels[p["kind"]] for p in report["parts"])]
    assert tuple(saved) == ui.panel_for(audit).titles
