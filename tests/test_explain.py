"""SHAP values against shap and against brute-force Shapley enumeration."""

from __future__ import annotations

import pickle

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
