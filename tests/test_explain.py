"""SHAP values against shap and against brute-force Shapley enumeration."""

from __future__ import annotations

import itertools
import math
import pickle
import warnings

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
from rai_nb.explain.kernel import coalitions, solve_shapley

shap = pytest.importorskip("shap")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")

FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def adult():
    frame = rai_nb.load_adult(split="test").sample(2000, random_state=0)
    X = frame[FEATURES].astype(float).reset_index(drop=True)
    X.loc[::17, "hours_per_week"] = np.nan  # missing values follow each model's default
    return X, frame["income"].to_numpy()


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


def exact_shapley(predict, x, background):
    """Shapley values of the background-mean value function, every coalition in one call."""
    m = len(x)
    masks = np.array(list(itertools.product([False, True], repeat=m)))
    rows = np.where(masks[:, None, :], x, background[None, :, :]).reshape(-1, m)
    values = predict(rows).reshape(len(masks), len(background), -1).mean(axis=1)
    index = {mask.tobytes(): k for k, mask in enumerate(masks)}
    phi = np.zeros((m, values.shape[1]))
    for mask, value in zip(masks, values):
        size = int(mask.sum())
        for i in np.flatnonzero(~mask):
            with_i = mask.copy()
            with_i[i] = True
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            phi[i] += weight * (values[index[with_i.tobytes()]] - value)
    return phi


def named(model, X):
    """``predict_proba`` on arrays, given the column names the model was fitted with."""
    return lambda rows: model.predict_proba(pd.DataFrame(rows, columns=X.columns))


def test_kernel_shap_is_exact_when_every_coalition_fits(adult):
    X, y = adult
    X = X.fillna(0)
    model = GradientBoostingClassifier(n_estimators=10).fit(X, y)
    background = X[:8]
    ours = rai_nb.explain(model, X[:3], background=background, method="kernel", progress=False)
    for row in range(3):
        expected = exact_shapley(named(model, X), X.to_numpy()[row], background.to_numpy())
        np.testing.assert_allclose(ours.values[row], expected, atol=1e-10)


def test_kernel_shap_within_sampling_error_of_shap(adult):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 12)), columns=[f"f{i}" for i in range(12)])
    weights = rng.normal(size=12)
    model = LogisticRegression().fit(X, (X.to_numpy() @ weights > 0).astype(int))
    background = X[:5]
    ours = rai_nb.explain(model, X[:4], background=background, method="kernel", nsamples=600,
                          progress=False)
    exact = np.stack([exact_shapley(named(model, X), X.to_numpy()[r], background.to_numpy())
                      for r in range(4)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.asarray(shap.KernelExplainer(model.predict_proba, background).shap_values(
            X[:4], nsamples=600, silent=True))
    ours_error = np.abs(ours.values - exact).mean()
    assert ours_error < 0.01 and ours_error < 3 * np.abs(theirs - exact).mean() + 1e-3


def test_coalitions_cover_all_when_budget_allows():
    masks, weights = coalitions(5, 100, np.random.default_rng(0))
    assert len(masks) == 30 and len({m.tobytes() for m in masks}) == 30 and (weights > 0).all()
    sampled, _ = coalitions(12, 500, np.random.default_rng(0))
    assert len(sampled) <= 500 and (sampled.sum(axis=1) > 0).all()
    assert (sampled.sum(axis=1) < 12).all()


def test_solver_is_exact_for_linear_value_functions():
    rng = np.random.default_rng(1)
    masks, weights = coalitions(6, 2000, rng)
    effect = rng.normal(size=(3, 6, 1))
    values = np.einsum("cm,rmk->rck", masks.astype(float), effect)
    phi = solve_shapley(masks, weights, values, effect.sum(axis=1), np.zeros(1))
    np.testing.assert_allclose(phi, effect, atol=1e-10)


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
    for facet in (0, 1):
        expected = smc.FT(numeric, pd.Series((compas["male"] == facet).to_numpy()), predicted)
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
