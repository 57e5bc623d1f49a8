"""SHAP values against shap and against brute-force Shapley enumeration."""

from __future__ import annotations

import itertools
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

import rai_nb
from rai_nb.backend import to_device, to_host
from rai_nb.explain._forest import load_forest
from rai_nb.explain.kernel import coalitions, solve_shapley
from rai_nb.explain.treeshap import tree_shap

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


def shap_values(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's own deprecation noise
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        return np.asarray(explainer.shap_values(X)), np.asarray(explainer.expected_value)


TREE_MODELS = {
    "random_forest": lambda: RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
    "extra_trees": lambda: ExtraTreesRegressor(n_estimators=5, max_depth=6, random_state=0),
    "gradient_boosting": lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3),
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=20),
    "xgboost": lambda: xgboost.XGBClassifier(n_estimators=20, max_depth=4),
    "lightgbm": lambda: lightgbm.LGBMClassifier(n_estimators=20, max_depth=4, verbose=-1),
}


@pytest.mark.parametrize("name", TREE_MODELS)
def test_tree_shap_equals_shap(adult, name):
    X, y = adult
    needs_complete = name in ("random_forest", "extra_trees", "gradient_boosting")
    data = X.fillna(0) if needs_complete else X
    model = TREE_MODELS[name]().fit(data, y)
    ours = rai_nb.explain(model, data[:150])
    expected, base = shap_values(model, data[:150])
    np.testing.assert_allclose(ours.values, expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.base_values[0], base.reshape(-1)[:ours.values.ndim - 1]
                               if ours.values.ndim == 3 else base.reshape(-1)[0], atol=1e-6)


def test_additivity_equals_margin_output(adult):
    X, y = adult
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=5).fit(X, y)
    ours = rai_nb.explain(model, X[:200])
    margin = model.predict(X[:200], output_margin=True)
    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base_values, margin, atol=1e-5)


def brute_force_tree_shapley(tree, x):
    """Path-dependent value function E[f | x_S] by recursive cover weighting, then Shapley."""
    t = tree.tree_
    m = t.n_features

    def value(node, subset):
        if t.children_left[node] < 0:
            return t.value[node, 0, 0]
        left, right = t.children_left[node], t.children_right[node]
        if t.feature[node] in subset:
            return value(left if x[t.feature[node]] <= t.threshold[node] else right, subset)
        total = t.weighted_n_node_samples[node]
        return (t.weighted_n_node_samples[left] * value(left, subset)
                + t.weighted_n_node_samples[right] * value(right, subset)) / total

    phi = np.zeros(m)
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for size in range(m):
            for subset in itertools.combinations(others, size):
                w = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                phi[i] += w * (value(0, set(subset) | {i}) - value(0, set(subset)))
    return phi, value(0, set())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 5), n_features=st.integers(1, 4))
def test_tiny_trees_equal_brute_force_shapley(seed, depth, n_features):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(60, n_features)), 1)  # ties exercise the <= threshold side
    tree = DecisionTreeRegressor(max_depth=depth, random_state=seed).fit(X, rng.normal(size=60))
    values, base = tree_shap(load_forest(tree), X[:5])
    for row in range(5):
        phi, expected = brute_force_tree_shapley(tree, X[row].astype(np.float32))
        np.testing.assert_allclose(values[row, :, 0], phi, atol=1e-9)
        assert base[0] == pytest.approx(expected, abs=1e-9)


def test_tree_kernel_runs_on_every_namespace(adult, xp):
    X, y = adult
    model = GradientBoostingClassifier(n_estimators=5, max_depth=3).fit(X.fillna(0), y)
    data = X.fillna(0).to_numpy()[:40]
    forest = load_forest(model)
    expected, _ = tree_shap(forest, data)
    got, _ = tree_shap(forest, to_device(data, xp), xp=xp)
    np.testing.assert_allclose(to_host(got), expected, atol=1e-12)


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
    (object(), np.zeros((3, 2)), "neither predict_proba nor predict"),
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


def test_tree_shap_is_the_same_in_tiny_chunks(adult, xp):
    X, y = adult
    model = GradientBoostingClassifier(n_estimators=5, max_depth=3).fit(X.fillna(0), y)
    data = to_device(X.fillna(0).to_numpy()[:30], xp)
    forest = load_forest(model)
    whole, _ = tree_shap(forest, data, xp=xp)
    with rai_nb.config_context(chunk_rows=7):
        chunked, _ = tree_shap(forest, data, xp=xp)
    np.testing.assert_allclose(to_host(chunked), to_host(whole), atol=1e-12)


def test_pipeline_ending_in_trees_explains_its_final_features(adult):
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OrdinalEncoder

    X, y = adult
    data = X.assign(band=np.where(X["age"] > 40, "old", "young"))
    encode = make_column_transformer((OrdinalEncoder(), ["band"]), remainder="passthrough")
    pipe = make_pipeline(encode, HistGradientBoostingClassifier(max_iter=10)).fit(data, y)
    ours = rai_nb.explain(pipe, data[:50])
    transformed = pipe[:-1].transform(data[:50])
    expected, _ = shap_values(pipe[-1], transformed)
    np.testing.assert_allclose(ours.values, expected, atol=1e-6)
    assert ours.feature_names[0] == "ordinalencoder__band"


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "random_forest"])
def test_multiclass_tree_shap_equals_shap(adult, name):
    X, _ = adult
    data = X.fillna(0) if name == "random_forest" else X
    classes = np.digitize(data["age"], [30, 45])  # three classes
    model = TREE_MODELS[name]().fit(data.drop(columns="age"), classes)
    ours = rai_nb.explain(model, data.drop(columns="age")[:80])
    expected, base = shap_values(model, data.drop(columns="age")[:80])
    if expected.shape != ours.values.shape:  # older shap: one array per class
        expected = np.moveaxis(expected, 0, -1)
    np.testing.assert_allclose(ours.values, expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.base_values[0], base.reshape(-1), atol=1e-6)
