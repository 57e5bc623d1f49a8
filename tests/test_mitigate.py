"""rai_nb.mitigate: a mitigation fitted, its candidates scored on held-out rows, audits before
and after on the same rows, and the report, panel tab and model card that show it."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import rai_nb
from rai_nb.api._mitigate import _strata
from rai_nb.errors import RaiError
from rai_nb.mitigation._fitting import stratified_split

TARGET, FEATURES = "two_year_recid", ["priors_count", "age", "juv_fel_count", "race"]
FAST = dict(target=TARGET, sensitive="race", features=FEATURES, n_boot=20)


@pytest.fixture(scope="module")
def compas():
    """COMPAS's two largest groups; the model reads race (one-hot), so mitigation can move it."""
    data = rai_nb.load_compas()
    data = data[data["race"].isin(["African-American", "Caucasian"])]
    data = data.assign(race=data["race"].cat.remove_unused_categories())
    return data[[*FEATURES, "sex", TARGET]].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(compas):
    encode = make_column_transformer((OneHotEncoder(), ["race"]), remainder="passthrough")
    return make_pipeline(encode, LogisticRegression(max_iter=1000))


@pytest.fixture(scope="module")
def fitted(model, compas):
    return clone(model).fit(compas[FEATURES], compas[TARGET])


@pytest.fixture(scope="module")
def results(model, fitted, compas):
    return {"thresholds": rai_nb.mitigate(fitted, compas, **FAST),
            "reweighing": rai_nb.mitigate(model, compas, method="reweighing", **FAST),
            "exponentiated_gradient": rai_nb.mitigate(
                model, compas, method="exponentiated_gradient", options={"max_iter": 20},
                **FAST)}


def _held_out(result, compas):
    """The held-out rows, found again from the audits' row count and the seed's split."""
    held = stratified_split(_strata(compas, TARGET, ["race"]), 0.3, 0)
    assert held.sum() == result.after.n_rows
    return compas[held]


def _row(result, name):
    table = result.candidates
    return table[(table["candidate"] == name) & (table["rows"] == "held-out")].iloc[0]


@pytest.mark.parametrize("method", ["thresholds", "reweighing", "exponentiated_gradient"])
def test_mitigation_reduces_the_demographic_parity_difference_on_held_out_rows(results, method):
    result = results[method]
    dp = result.comparison.disparities.loc["demographic_parity_difference"]
    assert dp["after"] < dp["before"] - 0.1, (
        f"{method}: held-out DP difference {dp['before']:.4f} -> {dp['after']:.4f}")
    assert dp["verdict"] == "change beyond noise"
    assert result.comparison.same_group_rows and result.before.n_rows == result.after.n_rows
    summary = result.summary()
    assert summary["demographic_parity_difference_after"] < \
        summary["demographic_parity_difference_before"]


def test_candidates_match_fairlearn_on_the_held_out_rows(results, fitted, compas):
    """Deterministic candidates against fairlearn's metrics of the same predictions; the
    randomized ones against each group's mean probability (brute force)."""
    result = results["reweighing"]
    rows = _held_out(result, compas)
    for name, estimator in (("unmitigated", None), ("reweighing", result.model)):
        predicted = (estimator or clone(result.model.estimator).fit(
            compas.drop(rows.index)[FEATURES], compas.drop(rows.index)[TARGET])).predict(
                rows[FEATURES])
        expected = demographic_parity_difference(rows[TARGET], predicted,
                                                 sensitive_features=rows["race"])
        assert _row(result, name)["demographic_parity_difference"] == pytest.approx(expected)
        assert _row(result, name)["equalized_odds_difference"] == pytest.approx(
            equalized_odds_difference(rows[TARGET], predicted, sensitive_features=rows["race"]))
        assert _row(result, name)["accuracy"] == pytest.approx(
            np.mean(predicted == rows[TARGET].to_numpy()))
    for method, name in (("exponentiated_gradient", "mixture"), ("thresholds", "tol=0")):
        result = results[method]
        p = result.model.predict_proba(rows)[:, 1]
        rates = pd.Series(p).groupby(rows["race"].to_numpy(), observed=True).mean()
        assert _row(result, name)["demographic_parity_difference"] == pytest.approx(
            rates.max() - rates.min())
        assert _row(result, name)["chosen"]


def test_thresholds_trace_the_tolerance_grid(results):
    result = results["thresholds"]
    table = result.candidates
    assert table["candidate"].tolist() == ["unmitigated", "tol=0", "tol=0.01", "tol=0.02",
                                           "tol=0.05", "tol=0.1", "tol=0.2"]
    assert table["chosen"].sum() == 1 and result.chosen == "tol=0" and not result.refit
    assert (table["rows"] == "held-out").all()
    assert result.before.model_name == "Pipeline"
    assert result.after.model_name == "ThresholdClassifier"
    assert result.pareto[:4] == b"\x89PNG"
    html = result.to_html()  # the chart in the page's colours, not a white PNG in dark theme
    assert html.count("<svg") >= 1 and "currentColor" in result.pareto_svg
    assert "data:image/png" not in html


def test_refitting_methods_compare_with_the_same_estimator_refitted(results, model, compas):
    result = results["exponentiated_gradient"]
    assert result.refit and result.before.model_name == "Pipeline"
    assert "same rows without mitigation" in result.method_text()
    table = result.candidates
    assert table["candidate"].iloc[-1] == "mixture" and table["chosen"].iloc[-1]
    assert table["weight"].iloc[1:-1].sum() == pytest.approx(1.0)
    assert not hasattr(model, "classes_")  # the user's unfitted estimator stays unfitted


def test_fairbatch_lists_its_training_rounds_as_fit_rows(compas):
    data = compas.iloc[:1500]
    result = rai_nb.mitigate(LogisticRegression(), data, target=TARGET, sensitive="race",
                             features=["priors_count", "age"], method="fairbatch",
                             constraint="equal_opportunity", n_boot=0,
                             options={"n_rounds": 3, "alpha": 0.05})
    table = result.candidates
    assert table["rows"].tolist() == ["held-out"] * 2 + ["fit rows"] * 4
    assert table.loc[table["rows"] == "fit rows", "round"].tolist() == [0, 1, 2, 3]
    assert "fit rows" in result.to_markdown()


def test_given_test_rows_are_the_audited_rows(fitted, compas):
    train, test = compas.iloc[:3000], compas.iloc[3000:]
    result = rai_nb.mitigate(fitted, train, test=test, constraint="equalized_odds", **FAST)
    assert result.fit_rows == 3000 and result.after.n_rows == len(test)
    assert result.disparity == "equalized_odds_difference"
    assert _row(result, "tol=0")["equalized_odds_difference"] < \
        _row(result, "unmitigated")["equalized_odds_difference"]


def test_inputs_are_never_modified(model, fitted, compas):
    data, before = compas.copy(), compas.copy()
    coef = fitted[-1].coef_.copy()
    rai_nb.mitigate(fitted, data, **FAST)
    rai_nb.mitigate(model, data, method="reweighing", **FAST)
    pd.testing.assert_frame_equal(data, before)
    assert np.array_equal(fitted[-1].coef_, coef) and not hasattr(model, "classes_")


def test_mitigated_models_clone_and_pickle(results, compas):
    for result in results.values():
        again = pickle.loads(pickle.dumps(result.model))
        assert np.array_equal(again.predict_proba(compas), result.model.predict_proba(compas))
        assert clone(result.model).get_params().keys() == result.model.get_params().keys()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.floats(0.05, 0.95),
       st.integers(0, 2**32 - 1))
def test_stratified_split_holds_out_the_share_of_every_stratum(strata, share, seed):
    strata = np.asarray(strata, dtype=np.int64)
    held = stratified_split(strata, share, seed)
    for code in np.unique(strata):
        assert held[strata == code].sum() == round((strata == code).sum() * share)
    assert np.array_equal(held, stratified_split(strata, share, seed))


def test_renders_in_every_format_escaped(fitted, compas):
    data = compas.assign(sex=compas["sex"].cat.rename_categories({"Male": "<b>Male</b>"}))
    result = rai_nb.mitigate(fitted, data, target=TARGET, sensitive="sex", n_boot=0)
    bundle = result._repr_mimebundle_()
    report = bundle["application/vnd.rai-nb.report+json"]
    assert report["kind"] == "mitigation"
    titles = [s["title"] for s in report["sections"]]
    assert titles[:3] == ["Mitigation", "Trade-off", "Before and after"]
    assert report["sections"][1]["image"].startswith("data:image/png;base64,")
    assert "<b>Male" not in bundle["text/html"] and "&lt;b&gt;Male" in bundle["text/html"]
    assert "Trade-off" in bundle["text/markdown"] and "Trade-off" in bundle["text/plain"]
    assert report["summary"]["chosen"] == "tol=0"
    result.to_json()  # strict JSON: no NaN


def test_the_mitigated_audit_carries_the_mitigation(results):
    result = results["thresholds"]
    audit = result.audit
    assert audit.mitigation is result and result.after.mitigation is None
    parts = audit.to_dict()["parts"]
    assert [p["kind"] for p in parts][-2:] == ["mitigation", "model_card"]
    card = audit.card.to_markdown()
    assert "## Mitigation" in card and "Per-group thresholds" in card
    assert "demographic parity ratio" in card and "| tol=0 |" in card
    assert "## Mitigation" not in result.after.card.to_markdown()


def test_audit_panel_has_a_mitigation_tab(results):
    from rai_nb.ui.panels import AuditPanel

    result = results["thresholds"]
    panel = AuditPanel(result.audit)
    assert "Mitigation" in panel.titles
    assert "Trade-off" in panel.tab("Mitigation").value
    assert "Mitigation" not in AuditPanel(result.before).titles  # as in its saved report


def test_the_function_and_the_estimators_package(results):
    import inspect

    import rai_nb.mitigation as package

    assert "constraint" in inspect.signature(rai_nb.mitigate).parameters  # help() shows its API
    assert rai_nb.mitigation.ThresholdClassifier is package.ThresholdClassifier
    assert isinstance(results["thresholds"], rai_nb.MitigationResult)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "magic"}, "method must be one of thresholds, reweighing"),
    ({"method": "reweighing", "constraint": "equalized_odds"},
     "constraint of method 'reweighing' must be one of demographic_parity"),
    ({"constraint": "parity"}, "constraint of method 'thresholds' must be one of"),
    ({"method": "reweighing", "tol": 0.1}, "reweighing has no tolerance"),
    ({"tol": -1}, "tol must be"),
    ({"test_size": 1.5}, "test_size must be"),
    ({"options": {"max_iter": 3}}, r"options \['max_iter'\] are not arguments of "
                                   "ThresholdClassifier"),
    ({"options": [1]}, "options must be a dict"),
    ({"sensitive": {"race": None}}, "sensitive must be a column name"),
])
def test_bad_arguments_raise_one_readable_error(fitted, compas, kwargs, match):
    arguments = {**FAST, **kwargs}
    with pytest.raises(RaiError, match=match):
        rai_nb.mitigate(fitted, compas, **arguments)


def test_multiclass_and_intersectional_thresholds():
    """Multiclass: each class's selection-rate gap (one-vs-rest), worst class, against the
    groups' mean probabilities (brute force); intersections of race and sex as the groups."""
    data = rai_nb.load_compas()
    data = data[data["race"].isin(["African-American", "Caucasian"])].reset_index(drop=True)
    data = data.assign(race=data["race"].astype(str), score_text=data["score_text"].astype(str))
    numeric = ["priors_count", "age", "juv_fel_count"]
    model = LogisticRegression(max_iter=1000).fit(data[numeric], data["score_text"])
    result = rai_nb.mitigate(model, data[[*numeric, "race", "sex", "score_text"]],
                             target="score_text", sensitive=["race", "sex"], features=numeric,
                             n_boot=0)
    held = stratified_split(_strata(data, "score_text", ["race", "sex"]), 0.3, 0)
    rows = data[held]
    proba = pd.DataFrame(result.model.predict_proba(rows), index=rows.index)
    rates = proba.groupby([rows["race"], rows["sex"]], observed=True).mean()
    worst = (rates.max() - rates.min()).max()
    chosen = _row(result, "tol=0")
    assert chosen["demographic_parity_difference"] == pytest.approx(worst)
    assert len(rates) == 4 and worst < _row(result, "unmitigated")[
        "demographic_parity_difference"] / 2
