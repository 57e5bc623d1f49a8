"""``rai_nb.audit`` and the model card, on COMPAS with a small real model."""

from __future__ import annotations

import json
import pickle

import mistune
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import rai_nb
from rai_nb.modelcard import ModelCard
from rai_nb.render import REPORT_MIME

FEATURES = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]


@pytest.fixture(scope="module")
def compas():
    frame = rai_nb.load_compas()
    return frame[[*FEATURES, "race", "sex", "two_year_recid"]].copy()


@pytest.fixture(scope="module")
def model(compas):
    return HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(
        compas[FEATURES], compas["two_year_recid"])


@pytest.fixture(scope="module")
def result(model, compas):
    return rai_nb.audit(model, compas, target="two_year_recid", sensitive=["race"],
                        features=FEATURES, explain=False, n_boot=50, progress=False,
                        card={"name": "Recidivism <script>x</script>", "owners": ["team"]})


def test_audit_parts_equal_the_separate_calls(result, model, compas):
    score = model.predict_proba(compas[FEATURES])[:, 1]
    expected = rai_nb.bias(compas, target="two_year_recid", sensitive=["race"], score=score,
                           prediction=model.predict(compas[FEATURES]))
    pd.testing.assert_frame_equal(result.bias.by_group, expected.by_group)
    errors = (model.predict(compas[FEATURES]) != compas["two_year_recid"]).astype(float)
    assert result.slices.average_loss == pytest.approx(errors.mean())
    assert set(result.validation.checks.index) >= {"duplicates", "proxies", "representation"}


def test_findings_are_graded_worst_first(result):
    findings = result.findings()
    assert list(findings.columns) == ["area", "severity", "finding", "value"]
    order = findings["severity"].map({"fail": 0, "warn": 1, "pass": 2})
    assert order.is_monotonic_increasing
    groups = result.bias.by_group
    large = groups[groups["count"] >= result.bias.min_group_size]["selection_rate"]
    ratio = large.min() / large.max()
    row = findings[findings["finding"].str.startswith("demographic parity ratio")].iloc[0]
    assert row["value"] == pytest.approx(ratio, rel=1e-12)
    assert row["severity"] == ("fail" if ratio < 0.6 else "warn" if ratio < 0.8 else "pass")
    low, high = large.idxmin(), large.idxmax()
    assert f"for {low} ({groups.loc[low, 'count']:,} rows)" in row["finding"]
    assert f"for {high} ({groups.loc[high, 'count']:,} rows)" in row["finding"]
    assert "warn below 0.8, fail below 0.6" in row["finding"]


def test_a_small_group_never_decides_a_finding(model, compas):
    """COMPAS has races of a handful of rows; with them a 1-row group would set the ratio."""
    counts = compas["race"].value_counts()
    assert counts.min() < 30
    audit = rai_nb.audit(model, compas, target="two_year_recid", sensitive="race",
                         features=FEATURES, explain=False, n_boot=20, progress=False)
    decisive = audit.bias.decisive.loc["demographic_parity_ratio"]
    assert decisive["low_rows"] >= 30 and decisive["high_rows"] >= 30
    text = audit.findings()["finding"]
    assert text.str.contains("under min_group_size=30 never decide a finding").any()
    for name in counts[counts < 30].index:
        assert text.str.contains(f"{name} ({counts[name]} rows)", regex=False).any()


@pytest.mark.parametrize("value,lower,upper,expected", [
    (0.906, 0.794, 0.95, "warn"),   # inside the limit, but the interval reaches past it
    (0.906, 0.85, 0.95, "pass"),
    (0.7, 0.65, 0.75, "warn"),
    (0.55, 0.5, 0.7, "fail"),
    (float("nan"), float("nan"), float("nan"), "warn"),  # no two large groups: not graded
])
def test_grading_uses_the_interval(result, value, lower, upper, expected):
    from rai_nb.results._audit import _disparity_finding

    row = result.bias.decisive.loc["demographic_parity_ratio"].copy()
    row["value"], row["lower"], row["upper"] = value, lower, upper
    severity = _disparity_finding("demographic_parity_ratio", row, result.bias)[1]
    assert severity == expected


def test_the_sensitive_column_as_a_model_input_is_a_finding(compas):
    frame = compas.assign(is_black=(compas["race"] == "African-American").astype(int))
    model = LogisticRegression(max_iter=500).fit(frame[[*FEATURES, "is_black"]],
                                                 frame["two_year_recid"])
    audit = rai_nb.audit(model, frame, target="two_year_recid", sensitive="is_black",
                         explain=False, n_boot=0, progress=False)
    text = audit.findings()["finding"]
    assert text.str.contains("sensitive column 'is_black' is a model input").any()


def test_report_bundle_nests_every_part(result):
    bundle = result._repr_mimebundle_()
    report = json.loads(json.dumps(bundle[REPORT_MIME]))
    assert report["kind"] == "audit"
    assert [p["kind"] for p in report["parts"]] == ["bias", "slices", "validation", "model_card"]
    assert "<script>x" not in bundle["text/html"] and "&lt;script&gt;" in bundle["text/html"]
    assert len(json.dumps(report)) < 1_000_000  # aggregates only


def test_model_card_sections_carry_the_audit_numbers(result):
    markdown = result.card.to_markdown()
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[:8] == ["Model details", "Description", "Intended use", "Factors", "Metrics",
                            "Evaluation data", "Training data", "Quantitative analyses"]
    assert headings[-2:] == ["Ethical considerations", "Caveats and recommendations"]
    assert "<script>" not in markdown and "&lt;script" in markdown
    rate = result.bias.by_group.loc["Caucasian", "selection_rate"]
    assert f"| Caucasian | 2,103 | {rate:.3f} [" in markdown.replace("\\[", "[")
    dpd = result.bias.disparities["demographic_parity_difference"]
    assert f"| demographic_parity_difference | {dpd:.4f} |" in markdown


def test_model_card_saves_markdown_with_figures_and_html(result, tmp_path):
    path = result.card.save(tmp_path / "MODEL_CARD.md")
    text = path.read_text()
    assert "![Selection rate by group](MODEL_CARD_files/selection_rate.png)" in text
    assert (tmp_path / "MODEL_CARD_files" / "selection_rate.png").stat().st_size > 1000
    html = result.card.save(tmp_path / "card.html").read_text()
    assert "<script>x" not in html and "Model details" in html
    with pytest.raises(rai_nb.RaiError, match=r"\.md or \.html"):
        result.card.save(tmp_path / "card.txt")


def test_model_card_without_audit_and_with_new_fields():
    card = ModelCard({"name": "m", "intended_use": "**bold** [link](x)"})
    changed = card.with_fields(caveats="small sample")
    assert "small sample" in changed.to_markdown() and "small sample" not in card.to_markdown()
    rendered = mistune.html(card.to_markdown())  # the narrative reads as written, inert
    assert "<p>**bold** [link](x)</p>" in rendered and "<a " not in rendered


class NoProba:
    def __init__(self, model):
        self.model = model

    def predict(self, features):
        return self.model.predict(features)


def test_model_without_predict_proba_is_audited_on_labels(model, compas):
    result = rai_nb.audit(NoProba(model), compas, target="two_year_recid", sensitive="race",
                          features=FEATURES, explain=False, n_boot=0, progress=False)
    assert "ece" not in result.bias.by_group


def test_inputs_are_not_mutated(model, compas):
    frame, before = compas.copy(), pickle.dumps(model)
    rai_nb.audit(model, frame, target="two_year_recid", sensitive="race", features=FEATURES,
                 explain=False, n_boot=10, progress=False)
    pd.testing.assert_frame_equal(frame, compas)
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("model_,message", [
    (LinearSVC(), "failed to predict: NotFittedError"),
    (object(), "must have a predict method"),
])
def test_bad_models_raise_rai_error(model_, message, compas):
    with pytest.raises(rai_nb.RaiError, match=message):
        rai_nb.audit(model_, compas, target="two_year_recid", sensitive="race",
                     features=FEATURES, explain=False, progress=False)


def test_missing_model_features_are_named(model, compas):
    with pytest.raises(rai_nb.RaiError, match="priors_count"):
        rai_nb.audit(model, compas.drop(columns="priors_count"), target="two_year_recid",
                     sensitive="race", explain=False, progress=False)
    assert np.array_equal(model.feature_names_in_, FEATURES)


def test_audit_explains_a_model_without_an_exact_explainer_by_kernel_shap(compas):
    from sklearn.neighbors import KNeighborsClassifier

    from rai_nb.frame._predictions import sample_rows

    knn = KNeighborsClassifier(n_neighbors=15).fit(compas[FEATURES], compas["two_year_recid"])
    result = rai_nb.audit(knn, compas.iloc[:400], target="two_year_recid", sensitive=["race"],
                          features=FEATURES, sample=8, n_boot=0, progress=False)
    values = result.explanation.values
    assert values.shape[:2] == (8, len(FEATURES))
    rows = sample_rows(compas.iloc[:400], 8, features=FEATURES, sensitive=["race"],
                       random_state=0)[FEATURES]  # the content sample audit explains
    output = knn.predict_proba(rows)
    np.testing.assert_allclose(values.sum(axis=1) + result.explanation.base_values, output,
                               atol=1e-9)  # KernelSHAP's efficiency constraint


def test_audit_of_a_one_hot_pipeline_ranks_the_users_columns(compas):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    columns = [*FEATURES, "sex"]
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["sex"]),
                                remainder="passthrough"),
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
    ).fit(compas[columns], compas["two_year_recid"])
    result = rai_nb.audit(pipe, compas, target="two_year_recid", sensitive=["race"],
                          features=columns, sample=100, n_boot=0, progress=False)
    assert set(result.importance.index) == set(columns)
    assert result.explanation.feature_names == columns


@pytest.fixture(scope="module")
def adult_tasks():
    """Bundled Adult rows with a 3-class target (education level) and a regression target."""
    adult = rai_nb.load_adult(split="test").sample(6000, random_state=0).reset_index(drop=True)
    level = pd.cut(adult["education_num"], [0, 9, 12, 16], labels=["school", "college",
                                                                    "degree"]).astype(str)
    return adult.assign(level=level)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_audit_of_other_tasks_end_to_end(adult_tasks, task, tmp_path):
    frame = adult_tasks
    target = "level" if task == "multiclass" else "hours_per_week"
    features = ["age", "capital_gain", "capital_loss"] + (
        ["hours_per_week"] if task == "multiclass" else ["education_num"])
    estimator = (HistGradientBoostingClassifier if task == "multiclass"
                 else HistGradientBoostingRegressor)(max_iter=20, random_state=0)
    model = estimator.fit(frame[features], frame[target])
    audit = rai_nb.audit(model, frame, target=target, sensitive=["sex"], features=features,
                         n_boot=30, sample=50, progress=False)
    assert audit.bias.task == task and audit.bias.task_inferred
    findings = audit.findings()
    assert findings["finding"].str.contains(f"Task: {task} (inferred", regex=False).any()
    expected = rai_nb.bias(frame, target=target, sensitive="sex",
                           prediction=model.predict(frame[features]))
    pd.testing.assert_frame_equal(audit.bias.by_group, expected.by_group)
    if task == "regression":
        errors = (model.predict(frame[features]) - frame[target]) ** 2
        assert audit.slices.average_loss == pytest.approx(errors.mean(), rel=1e-12)
        assert findings["finding"].str.startswith("statistical parity ks").any()
    else:
        assert set(audit.bias.classes) == {"school", "college", "degree"}
        assert findings["finding"].str.contains("(class ", regex=False).any()
    html = audit.to_html()
    assert "Metrics by group" in html and "positive outcome" not in html
    assert ("Metrics by class" in html) == (task == "multiclass")
    assert audit.card.to_markdown()
    from rai_nb.ui import panel_for

    panel_for(audit)
    assert audit.importance is not None and len(audit.importance) == len(features)


def test_findings_display_whole_texts(result):
    findings = result.findings()
    longest = max(findings["finding"], key=len)
    assert len(longest) > 50
    assert longest in repr(findings) and longest.replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;") in findings._repr_html_()
    assert type(findings[findings["severity"] == "fail"]) is pd.DataFrame
