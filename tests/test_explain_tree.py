"""TreeSHAP of scikit-learn's trees against shap, brute-force Shapley values and the models' own
outputs; columns by name, interactions, pipelines in the user's columns, refusals."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import rai_nb
from rai_nb.explain._forest import load_forest
from rai_nb.explain.treeshap import tree_shap

shap = pytest.importorskip("shap")

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "marital_status", "relationship", "sex"]


@pytest.fixture(scope="module")
def adult():
    frame = rai_nb.load_adult(split="test").sample(2000, random_state=0).reset_index(drop=True)
    return frame[NUMERIC + CATEGORICAL], frame["income"].to_numpy()


@pytest.fixture(scope="module")
def numeric(adult_numeric):
    X, y = adult_numeric
    with_nan = X.copy()
    with_nan.loc[::17, "hours_per_week"] = np.nan
    return X, with_nan, y


def shap_reference(model, X, interactions=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's own deprecation noise
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        values = explainer.shap_interaction_values(X) if interactions else explainer.shap_values(X)
        return np.asarray(values), np.asarray(explainer.expected_value).reshape(-1)


def as_outputs(values, interactions=False):
    """rai_nb's layout: outputs last, always present."""
    return values if values.ndim == (4 if interactions else 3) else values[..., None]


SKLEARN_MODELS = {
    "decision_tree": (lambda: DecisionTreeClassifier(max_depth=6, random_state=0), False),
    "random_forest": (lambda: RandomForestClassifier(n_estimators=10, max_depth=8,
                                                     random_state=0), True),
    "random_forest_deep": (lambda: RandomForestClassifier(n_estimators=3, random_state=0), False),
    "extra_trees": (lambda: ExtraTreesRegressor(n_estimators=5, max_depth=6, random_state=0),
                    False),
    "gradient_boosting": (lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3), False),
    "gradient_boosting_regressor": (lambda: GradientBoostingRegressor(n_estimators=20), False),
    "hist_gradient_boosting": (lambda: HistGradientBoostingClassifier(max_iter=20), True),
    "hist_gradient_boosting_regressor": (lambda: HistGradientBoostingRegressor(max_iter=20),
                                         True),
}


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_sklearn_trees_equal_shap(numeric, name):
    X, with_nan, y = numeric
    make, takes_nan = SKLEARN_MODELS[name]
    data = with_nan if takes_nan else X
    target = data["age"].to_numpy() if "regressor" in name or "extra" in name else y
    model = make().fit(data, target)
    ours = rai_nb.explain(model, data[:150])
    expected, base = shap_reference(model, data[:150])
    expected = expected if expected.shape == np.shape(ours.values) else np.moveaxis(expected, 0, -1)
    np.testing.assert_allclose(ours.values, expected, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(np.atleast_1d(ours.base_values[0]), base, atol=1e-6)


def test_multiclass_and_sample_weights_equal_shap(numeric):
    X, _, _ = numeric
    classes = np.digitize(X["age"], [30, 45])
    weights = np.random.default_rng(0).uniform(0.1, 3, len(X))
    for model in (HistGradientBoostingClassifier(max_iter=10),
                  RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0)):
        model.fit(X.drop(columns="age"), classes, sample_weight=weights)
        ours = rai_nb.explain(model, X.drop(columns="age")[:80])
        expected, _ = shap_reference(model, X.drop(columns="age")[:80])
        if expected.shape != ours.values.shape:
            expected = np.moveaxis(expected, 0, -1)
        np.testing.assert_allclose(ours.values, expected, atol=1e-6)


def test_multiclass_gradient_boosting_equals_brute_force(numeric):
    """shap reads binary GradientBoostingClassifier only; brute force covers three classes."""
    X, _, _ = numeric
    data = X[["education_num", "hours_per_week", "capital_gain"]][:500]
    classes = np.digitize(X["age"][:500], [30, 45])
    model = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(
        data, classes)
    ours = rai_nb.explain(model, data[:3])
    rows = data.to_numpy()
    for k in range(3):
        trees = [sklearn_nodes(stage[k], model.learning_rate) for stage in model.estimators_]
        for row in range(3):
            phi = brute_force_shapley(lambda s, x=rows[row], trees=trees: sum(
                path_dependent_value(t, x, s) for t in trees), 3)
            np.testing.assert_allclose(ours.values[row, :, k], phi, atol=1e-9)


def test_multi_output_regression_adds_up(numeric):
    X, _, _ = numeric
    targets = X[["age", "hours_per_week"]].to_numpy()
    model = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=0).fit(
        X[["education_num", "capital_gain"]], targets)
    ours = rai_nb.explain(model, X[["education_num", "capital_gain"]][:60])
    assert ours.values.shape == (60, 2, 2)
    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base_values,
                               model.predict(X[["education_num", "capital_gain"]][:60]),
                               atol=1e-8)


def test_isolation_forest_equals_shap(numeric):
    X, _, _ = numeric
    model = IsolationForest(n_estimators=20, max_features=0.6, random_state=0).fit(X)
    ours = rai_nb.explain(model, X[:100])
    expected, _ = shap_reference(model, X[:100])
    np.testing.assert_allclose(ours.values, expected, atol=1e-6)


def path_dependent_value(tree_nodes, x, subset):
    """E[f | x_S] of one tree by recursive cover weighting; ``tree_nodes(node)`` returns
    (is_leaf, value, children, go_left(x), feature, covers)."""

    def value(node):
        leaf, out, (left, right), goes_left, feature, (total, n_left, n_right) = tree_nodes(node)
        if leaf:
            return out
        if feature in subset:
            return value(left if goes_left(x) else right)
        return (n_left * value(left) + n_right * value(right)) / total

    return value(0)


def brute_force_shapley(value_function, n_features):
    """Exact Shapley values of a set function over ``n_features`` players."""
    phi = np.zeros(n_features)
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for size in range(n_features):
            weight = math.factorial(size) * math.factorial(n_features - size - 1) / math.factorial(
                n_features)
            for subset in itertools.combinations(others, size):
                phi[i] += weight * (value_function(set(subset) | {i}) - value_function(set(subset)))
    return phi


def sklearn_nodes(tree, scale=1.0):
    """A scikit-learn tree's routing, written from its documented rules: ``x <= threshold`` in
    float32, a missing value going where ``missing_go_to_left`` says."""
    t = tree.tree_

    def goes_left(node, x):
        value = np.float32(x[t.feature[node]])
        if np.isnan(value):
            return bool(t.missing_go_to_left[node])
        return value <= t.threshold[node]

    def nodes(node):
        left, right = t.children_left[node], t.children_right[node]
        return (left < 0, t.value[node, 0, 0] * scale, (left, right),
                lambda x: goes_left(node, x), t.feature[node],
                (t.weighted_n_node_samples[node], t.weighted_n_node_samples[left],
                 t.weighted_n_node_samples[right]))
    return nodes


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 6), n_features=st.integers(1, 4),
       missing=st.sampled_from([0.0, 0.2]))
def test_tiny_trees_equal_brute_force_shapley(seed, depth, n_features, missing):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(60, n_features)), 1)  # ties exercise the <= threshold side
    X[rng.random(X.shape) < missing] = np.nan  # missing values follow each split's own side
    tree = DecisionTreeRegressor(max_depth=depth, random_state=seed).fit(X, rng.normal(size=60))
    values, base = tree_shap(load_forest(tree), X[:5])
    nodes = sklearn_nodes(tree)
    for row in range(5):
        phi = brute_force_shapley(lambda s, x=X[row]: path_dependent_value(nodes, x, s),
                                  n_features)
        np.testing.assert_allclose(values[row, :, 0], phi, atol=1e-9)
    assert base[0] == pytest.approx(path_dependent_value(nodes, X[0], set()), abs=1e-9)


def test_gradient_boosting_with_a_tree_init_equals_brute_force(numeric):
    X, _, _ = numeric
    data = X[["age", "education_num", "hours_per_week"]][:400]
    init = DecisionTreeRegressor(max_depth=2, random_state=0)
    model = GradientBoostingRegressor(n_estimators=3, max_depth=2, init=init, random_state=0).fit(
        data, data["age"] * 0.1 + data["hours_per_week"] * 0.05)
    ours = rai_nb.explain(model, data[:4])
    trees = [sklearn_nodes(stage[0], model.learning_rate) for stage in model.estimators_]
    trees.append(sklearn_nodes(model.init_))
    for row in range(4):
        x = data.to_numpy()[row]
        phi = brute_force_shapley(
            lambda s, x=x: sum(path_dependent_value(t, x, s) for t in trees), 3)
        np.testing.assert_allclose(ours.values[row], phi, atol=1e-9)
    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base_values, model.predict(data[:4]),
                               atol=1e-9)


def test_gradient_boosting_with_classifier_or_dummy_init_adds_up(numeric):
    X, _, y = numeric
    for init in (DecisionTreeClassifier(max_depth=3, random_state=0),
                 DummyClassifier(strategy="prior")):
        model = GradientBoostingClassifier(n_estimators=5, init=init, random_state=0).fit(X, y)
        ours = rai_nb.explain(model, X[:50])  # raises if it did not add up to the margin
        np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base_values,
                                   model.decision_function(X[:50]), atol=1e-9)


def test_gradient_boosting_with_a_non_tree_init_is_refused(numeric):
    X, _, _ = numeric
    model = GradientBoostingRegressor(n_estimators=3, init=LinearRegression()).fit(X, X["age"])
    with pytest.raises(rai_nb.RaiError, match=r"init=LinearRegression.*method='kernel'"):
        rai_nb.explain(model, X[:5])


def hist_nodes(model, predictor):
    """Routing of a HistGradientBoosting tree written from sklearn's documented rules."""
    nodes = predictor.nodes
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()

    def in_set(table, row, value):
        code = int(value)
        return bool((table[row, code // 32] >> (code % 32)) & 1)

    def goes_left(node, x):
        n = nodes[node]
        value = x[n["feature_idx"]]
        if np.isnan(value):
            return bool(n["missing_go_to_left"])
        if not n["is_categorical"]:
            return value <= n["num_threshold"]
        if value < 0:
            return bool(n["missing_go_to_left"])
        if in_set(predictor.raw_left_cat_bitsets, n["bitset_idx"], value):
            return True
        if in_set(known, f_idx_map[n["feature_idx"]], value):
            return False
        return bool(n["missing_go_to_left"])

    def describe(node):
        n = nodes[node]
        left, right = int(n["left"]), int(n["right"])
        return (bool(n["is_leaf"]), n["value"], (left, right), lambda x: goes_left(node, x),
                int(n["feature_idx"]), (n["count"], nodes[left]["count"] if not n["is_leaf"]
                                        else 0, nodes[right]["count"] if not n["is_leaf"] else 0))
    return describe


def test_hist_gradient_boosting_categorical_splits_equal_brute_force():
    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame({"num": rng.normal(size=n),
                          "colour": pd.Categorical(rng.choice(["red", "green", "blue", "grey"], n)),
                          "size": rng.normal(size=n)})
    target = frame["num"] + frame["colour"].isin(["red", "grey"]) * 2 + rng.normal(size=n) * 0.1
    model = HistGradientBoostingRegressor(max_iter=3, max_depth=3,
                                          categorical_features="from_dtype").fit(frame, target)
    assert any(p.nodes["is_categorical"].any() for stage in model._predictors for p in stage)
    rows = frame[:6].copy()
    rows.loc[0, "colour"] = np.nan  # missing category
    rows.loc[1, "num"] = np.nan
    ours = rai_nb.explain(model, rows)
    encoded = model._preprocess_X(rows, reset=False)  # columns: colour, num, size
    trees = [hist_nodes(model, stage[0]) for stage in model._predictors]
    for row in range(len(rows)):
        phi = brute_force_shapley(lambda s, x=encoded[row]: sum(
            path_dependent_value(t, x, s) for t in trees), 3)
        np.testing.assert_allclose(ours.values[row], phi[[1, 0, 2]], atol=1e-9)  # user order
    assert ours.feature_names == ["num", "colour", "size"]
    assert ours.data.dtype == np.float64  # category codes colour shap's plots
    assert list(ours.display_data[2:4, 1]) == list(rows["colour"][2:4])  # the values shown


def test_hist_gradient_boosting_unknown_category_code_adds_up():
    rng = np.random.default_rng(4)
    X = np.c_[rng.integers(0, 5, 500), rng.normal(size=500)].astype(float)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]).fit(
        X, (X[:, 0] % 2 == 0) ^ (X[:, 1] > 0))
    rows = np.array([[7.0, 0.1], [-1.0, 0.3], [np.nan, -0.2], [2.0, 1.0]])  # unseen, <0, NaN
    ours = rai_nb.explain(model, rows)
    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base_values,
                               model.decision_function(rows), atol=1e-9)


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "hist_gradient_boosting"])
def test_interaction_values_equal_shap(numeric, name):
    X, with_nan, y = numeric
    make, takes_nan = SKLEARN_MODELS[name]
    data = with_nan if takes_nan else X
    model = make().fit(data, y)
    ours = rai_nb.explain(model, data[:40], interactions=True)
    expected, _ = shap_reference(model, data[:40], interactions=True)
    values = as_outputs(np.asarray(ours.values), interactions=True)
    expected = expected if expected.ndim == 4 else expected[..., None]
    if expected.shape != values.shape:
        expected = np.moveaxis(expected, 0, -1)
    np.testing.assert_allclose(values, expected, atol=1e-6)
    plain = as_outputs(np.asarray(rai_nb.explain(model, data[:40]).values))
    np.testing.assert_allclose(values.sum(axis=2), plain, atol=1e-9)


def test_columns_are_matched_by_name(numeric):
    X, _, y = numeric
    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    straight = rai_nb.explain(model, X[:30])
    shuffled = rai_nb.explain(model, X[X.columns[::-1]][:30])
    assert shuffled.feature_names == list(X.columns)
    np.testing.assert_allclose(shuffled.values, straight.values, atol=0)
    with pytest.raises(rai_nb.RaiError, match="missing 'age'"):
        rai_nb.explain(model, X.drop(columns="age")[:5])
    with pytest.raises(rai_nb.RaiError, match="not fitted on 'extra'"):
        rai_nb.explain(model, X.assign(extra=1.0)[:5])


def test_unknown_models_are_refused_not_sampled(numeric):
    X, _, y = numeric
    model = SVC().fit(X[:200], y[:200])
    with pytest.raises(rai_nb.RaiError, match=r"no exact explainer for SVC.*method='kernel'"):
        rai_nb.explain(model, X[:5])
    with pytest.raises(rai_nb.RaiError, match="TreeSHAP cannot read a SVC"):
        rai_nb.explain(model, X[:5], method="tree")
    with pytest.raises(rai_nb.RaiError, match="interactions=True needs TreeSHAP"):
        rai_nb.explain(model, X[:5], method="kernel", interactions=True)


class ShiftedForest(RandomForestClassifier):
    """A forest whose probabilities are not what its trees say: additivity must catch it."""

    def predict_proba(self, X):
        return super().predict_proba(X) * 0.9 + 0.05


def test_values_that_do_not_add_up_are_refused(numeric):
    X, _, y = numeric
    model = ShiftedForest(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    with pytest.raises(rai_nb.RaiError, match="do not add up to its own output"):
        rai_nb.explain(model, X[:10])


@pytest.fixture(scope="module")
def one_hot_pipeline(adult):
    X, y = adult
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL), (StandardScaler(), NUMERIC))
    return make_pipeline(encode, HistGradientBoostingClassifier(max_iter=20)).fit(X, y), X


def test_pipeline_attributions_sum_back_onto_the_users_columns(one_hot_pipeline):
    pipe, X = one_hot_pipeline
    rows = X[:100]
    grouped = rai_nb.explain(pipe, rows)
    model_view = rai_nb.explain(pipe, rows, features="model")
    assert grouped.feature_names == list(X.columns)
    assert model_view.feature_names[0].startswith("onehotencoder__workclass_")
    names = np.array(model_view.feature_names)
    for column in X.columns:
        own = [i for i, n in enumerate(names) if n.split("__", 1)[1].startswith(column)]
        np.testing.assert_allclose(grouped.values[:, list(X.columns).index(column)],
                                   model_view.values[:, own].sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(grouped.values.sum(axis=1) + grouped.base_values,
                               pipe.decision_function(rows), atol=1e-9)
    assert list(grouped.display_data[:3, 1]) == list(rows["education_num"][:3])
    codes = pd.Categorical(rows["workclass"]).codes
    np.testing.assert_allclose(grouped.data[:, list(X.columns).index("workclass")],
                               np.where(codes < 0, np.nan, codes))
    interactions = rai_nb.explain(pipe, rows[:10], interactions=True)
    assert interactions.values.shape == (10, 9, 9)
    np.testing.assert_allclose(interactions.values.sum(axis=2), grouped.values[:10], atol=1e-9)


def test_pipeline_that_mixes_columns_keeps_model_features(numeric):
    X, _, y = numeric
    pipe = make_pipeline(PCA(n_components=3), RandomForestClassifier(
        n_estimators=3, max_depth=3, random_state=0)).fit(X, y)
    assert rai_nb.explain(pipe, X[:5]).feature_names == ["pca0", "pca1", "pca2"]
    with pytest.raises(rai_nb.RaiError, match=r"mixes several input columns.*features='model'"):
        rai_nb.explain(pipe, X[:5], features="input")


def test_tree_shap_is_the_same_in_tiny_chunks(numeric):
    X, _, y = numeric
    model = GradientBoostingClassifier(n_estimators=5, max_depth=3).fit(X, y)
    whole = rai_nb.explain(model, X[:30]).values
    with rai_nb.config_context(chunk_rows=7):
        chunked = rai_nb.explain(model, X[:30]).values
    np.testing.assert_allclose(chunked, whole, atol=0)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_library_models_explain_themselves_by_name(numeric, library):
    module = pytest.importorskip(library)
    X, with_nan, y = numeric
    make = {"xgboost": lambda: module.XGBClassifier(n_estimators=20, max_depth=4),
            "lightgbm": lambda: module.LGBMClassifier(n_estimators=20, verbose=-1),
            "catboost": lambda: module.CatBoostClassifier(iterations=20, depth=4, verbose=0,
                                                          allow_writing_files=False)}[library]
    model = make().fit(with_nan, y)
    straight = rai_nb.explain(model, with_nan[:50])
    shuffled = rai_nb.explain(model, with_nan[with_nan.columns[::-1]][:50])
    np.testing.assert_allclose(shuffled.values, straight.values, atol=0)
    expected, _ = shap_reference(model, with_nan[:50])
    np.testing.assert_allclose(straight.values, expected.reshape(straight.values.shape),
                               atol=1e-6)
    with pytest.raises(rai_nb.RaiError, match="missing 'age'"):
        rai_nb.explain(model, with_nan.drop(columns="age")[:5])


def test_pipeline_ending_in_xgboost_is_explained_in_the_users_columns(one_hot_pipeline):
    xgboost = pytest.importorskip("xgboost")
    pipe, X = one_hot_pipeline
    from sklearn.base import clone

    booster_pipe = clone(pipe).set_params(histgradientboostingclassifier=xgboost.XGBClassifier(
        n_estimators=20, max_depth=4)).fit(X, pipe.classes_[pipe.predict(X).astype(int)])
    explained = rai_nb.explain(booster_pipe, X[:40])
    assert explained.feature_names == list(X.columns)
    margin = booster_pipe[-1].predict(booster_pipe[:-1].transform(X[:40]), output_margin=True)
    np.testing.assert_allclose(explained.values.sum(axis=1) + explained.base_values, margin,
                               atol=1e-5)


def test_a_refitted_or_grown_model_is_read_again(numeric):
    X, _, y = numeric
    model = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0, warm_start=True)
    first = rai_nb.explain(model.fit(X, y), X[:20]).values
    np.testing.assert_allclose(rai_nb.explain(model, X[:20]).values, first, atol=0)
    model.set_params(n_estimators=6).fit(X, y)  # warm start: estimators_ grows in place
    grown = rai_nb.explain(model, X[:20])
    np.testing.assert_allclose(grown.values.sum(axis=1) + grown.base_values,
                               model.predict_proba(X[:20]), atol=1e-9)
    model.set_params(warm_start=False, max_depth=5).fit(X[["age", "education_num"]], y)
    refitted = rai_nb.explain(model, X[["age", "education_num"]][:20])  # fewer columns now
    np.testing.assert_allclose(refitted.values.sum(axis=1) + refitted.base_values,
                               model.predict_proba(X[["age", "education_num"]][:20]), atol=1e-9)
