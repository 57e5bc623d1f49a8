"""SHAP values from XGBoost's, LightGBM's and CatBoost's own routines (rai_nb.explain._native).

Every test checks additivity (base + Σ values = the model's own margin) and compares with
``shap.TreeExplainer`` (path-dependent). shap 0.51 answers such models by calling the same
library routines, so where the trees are plain numeric splits the values are also compared with
shap's own TreeSHAP algorithm (``_shap_own``), an independent implementation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from rai_nb import load_adult
from rai_nb.errors import RaiError
from rai_nb.explain._native import _constant_base, native_feature_names, native_library, native_shap

shap = pytest.importorskip("shap")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")
catboost = pytest.importorskip("catboost")

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "education", "marital_status", "sex", "race"]
EXPLAINED = 200
XGB = {"n_estimators": 15, "max_depth": 3, "n_jobs": 1}
LGB = {"n_estimators": 15, "num_leaves": 8, "n_jobs": 1, "verbose": -1}
CAT = {"iterations": 15, "depth": 3, "thread_count": 1, "verbose": 0, "allow_writing_files": False}


@pytest.fixture(scope="module")
def adult():
    frame = load_adult(split="test").iloc[:1200].reset_index(drop=True)
    return frame[NUMERIC + CATEGORICAL], frame["income"]


@pytest.fixture(scope="module")
def numeric(adult):
    X, y = adult
    return X[NUMERIC].astype(np.float64), y


def _classes(X: pd.DataFrame) -> pd.Series:
    """Three classes from age, for the multiclass models."""
    return pd.Series(np.digitize(X["age"], [30, 45]), index=X.index)


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings():  # the libraries' own notes on their defaults, not ours
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kwargs)


def _shap(model, X, *, interactions=False, own=False):
    """shap.TreeExplainer's values; ``own`` makes shap run its TreeSHAP, not the library's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        if own:  # shap's own loader misreads XGBoost 3's intercept: compare the values only
            explainer.model.model_type = "internal"
        values = (explainer.shap_interaction_values(X) if interactions
                  else explainer.shap_values(X, check_additivity=not own))
    # shap still answers CatBoost multiclass interactions with one array per class.
    return np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values)


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def _additive(values, base, margin, *, interactions=False):
    _close(base + values.sum(axis=(1, 2) if interactions else 1), margin)


def _explained(model, X, *, outputs=1, interactions=False, own=False, reference=True):
    """native_shap on X with the layout, additivity and shap checks; returns its three arrays."""
    values, base, margin = native_shap(model, X, interactions=interactions)
    features = X.shape[1]
    shape = (len(X), features, features, outputs) if interactions else (len(X), features, outputs)
    assert values.shape == shape and values.dtype == np.float64
    assert base.shape == (outputs,) and margin.shape == (len(X), outputs)
    _additive(values, base, margin, interactions=interactions)
    if interactions:
        main, _, _ = native_shap(model, X)
        _close(values.sum(axis=2), main)
        _close(values, values.transpose(0, 2, 1, 3))
    if reference:
        expected = _shap(model, X, interactions=interactions, own=own).reshape(values.shape)
        _close(values, expected)
    return values, base, margin


# --- XGBoost ----------------------------------------------------------------------------------------

def test_xgboost_binary_matches_shap_and_margin(numeric):
    X, y = numeric
    model = _fit(xgboost.XGBClassifier(**XGB), X, y)
    _, _, margin = _explained(model, X[:EXPLAINED], own=True)
    _close(margin[:, 0], model.predict(X[:EXPLAINED], output_margin=True))


def test_xgboost_multiclass(numeric):
    X, _ = numeric
    model = _fit(xgboost.XGBClassifier(**XGB), X, _classes(X))
    _, _, margin = _explained(model, X[:EXPLAINED], outputs=3, own=True)
    _close(margin, model.predict(X[:EXPLAINED], output_margin=True))


def test_xgboost_regressor_with_sample_weights(numeric):
    X, _ = numeric
    target = X["hours_per_week"] / 10
    weights = np.where(X["age"] > 40, 3.0, 1.0)
    model = _fit(xgboost.XGBRegressor(**XGB), X.drop(columns="hours_per_week"), target,
                 sample_weight=weights)
    _explained(model, X.drop(columns="hours_per_week")[:EXPLAINED], own=True)


def test_xgboost_nan_inputs(numeric):
    X, y = numeric
    holes = X.mask(np.random.default_rng(0).random(X.shape) < 0.2)
    model = _fit(xgboost.XGBClassifier(**XGB), holes, y)
    _explained(model, holes[:EXPLAINED], own=True)


def test_xgboost_missing_sentinel_is_missing(numeric):
    X, y = numeric
    holes = X.mask(np.random.default_rng(1).random(X.shape) < 0.2)
    model = _fit(xgboost.XGBClassifier(**XGB, missing=-999.0), holes.fillna(-999.0), y)
    values, base, margin = _explained(model, holes.fillna(-999.0)[:EXPLAINED], reference=False)
    # -999 means missing to this model: the same values as NaN in shap's own TreeSHAP.
    expected = _shap(model, holes[:EXPLAINED], own=True).reshape(values.shape)
    _close(values, expected)
    _close(margin[:, 0], model.predict(holes.fillna(-999.0)[:EXPLAINED],
                                                           output_margin=True))


def test_xgboost_dart_tree_weights(numeric):
    X, y = numeric
    model = _fit(xgboost.XGBClassifier(**XGB, booster="dart", rate_drop=0.3, random_state=0), X, y)
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], output_margin=True))


def test_xgboost_categorical_splits(adult):
    X, y = adult
    model = _fit(xgboost.XGBClassifier(**XGB, enable_categorical=True, tree_method="hist",
                                       max_cat_to_onehot=1), X, y)
    assert model.get_booster().feature_types.count("c") == len(CATEGORICAL)
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], output_margin=True))


@pytest.mark.parametrize("kind", ["XGBRFClassifier", "XGBRFRegressor"])
def test_xgboost_random_forests(numeric, kind):
    X, y = numeric
    model = _fit(getattr(xgboost, kind)(n_estimators=10, max_depth=3, n_jobs=1), X, y)
    # shap's own loader reads the 10 parallel trees as 10 outputs; XGBoost's routine is right.
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], output_margin=True))


def test_xgboost_raw_booster(numeric):
    X, y = numeric
    booster = xgboost.train({"max_depth": 3, "objective": "binary:logistic", "nthread": 1},
                            xgboost.DMatrix(X, label=y), num_boost_round=15)
    assert native_library(booster) == "xgboost" and native_feature_names(booster) == NUMERIC
    _, _, margin = _explained(booster, X[:EXPLAINED], own=True)
    _close(margin[:, 0], booster.predict(xgboost.DMatrix(X[:EXPLAINED]),
                                                             output_margin=True))


def test_xgboost_early_stopping_uses_best_iteration(numeric):
    X, y = numeric
    model = _fit(xgboost.XGBClassifier(n_estimators=200, max_depth=3, n_jobs=1, learning_rate=0.5,
                                       early_stopping_rounds=3), X[:800], y[:800],
                 eval_set=[(X[800:], y[800:])], verbose=False)
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], output_margin=True))


@pytest.mark.parametrize("outputs", [1, 3])
def test_xgboost_interactions(numeric, outputs):
    X, y = numeric
    model = _fit(xgboost.XGBClassifier(**XGB), X, y if outputs == 1 else _classes(X))
    _explained(model, X[:100], outputs=outputs, interactions=True)


def test_xgboost_multi_output_tree_is_refused(numeric):
    X, _ = numeric
    targets = np.column_stack([X["age"] / 10, X["hours_per_week"] / 10])
    model = _fit(xgboost.XGBRegressor(**XGB, tree_method="hist", multi_strategy="multi_output_tree"),
                 X[["education_num", "capital_gain"]], targets)
    with pytest.raises(RaiError, match=r"multi_output_tree.*method=\"kernel\""):
        native_shap(model, X[["education_num", "capital_gain"]][:10])


def test_xgboost_gblinear_is_refused(numeric):
    X, y = numeric
    model = _fit(xgboost.XGBRegressor(booster="gblinear", n_estimators=5, n_jobs=1), X, y)
    with pytest.raises(RaiError, match="gblinear"):
        native_shap(model, X[:10])


# --- LightGBM ---------------------------------------------------------------------------------------

def test_lightgbm_binary(numeric):
    X, y = numeric
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, y)
    _, _, margin = _explained(model, X[:EXPLAINED], own=True)
    _close(margin[:, 0], model.predict(X[:EXPLAINED], raw_score=True))


def test_lightgbm_multiclass_layout(numeric):
    X, _ = numeric
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, _classes(X))
    values, _, margin = _explained(model, X[:EXPLAINED], outputs=3, own=True)
    flat = model.booster_.predict(X[:EXPLAINED], pred_contrib=True)
    features = X.shape[1]
    np.testing.assert_array_equal(values[:, :, 1], flat[:, features + 1:2 * features + 1])
    _close(margin, model.predict(X[:EXPLAINED], raw_score=True))


def test_lightgbm_regressor(numeric):
    X, _ = numeric
    model = _fit(lightgbm.LGBMRegressor(**LGB), X.drop(columns="age"), X["age"] / 10)
    _explained(model, X.drop(columns="age")[:EXPLAINED], own=True)


def test_lightgbm_nan_in_feature_without_training_nan(numeric):
    X, y = numeric
    assert not X.isna().any().any()
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, y)
    holes = X[:EXPLAINED].copy()
    holes.loc[holes.index[::3], "age"] = np.nan
    values, _, _ = _explained(model, holes, reference=False)
    # LightGBM reads NaN as 0 in a feature that had no missing values in training.
    expected = _shap(model, holes.fillna({"age": 0.0}), own=True).reshape(values.shape)
    _close(values, expected)


def test_lightgbm_zero_as_missing(numeric):
    X, y = numeric
    model = _fit(lightgbm.LGBMClassifier(**LGB, zero_as_missing=True), X, y)
    rows = X[:EXPLAINED]
    assert (rows["capital_gain"] == 0).mean() > 0.5
    values, _, margin = _explained(model, rows)
    # Zero and NaN are one missing value to this model.
    nan_values, _, _ = native_shap(model, rows.replace(0.0, np.nan))
    np.testing.assert_allclose(values, nan_values, rtol=1e-12, atol=1e-12)
    _close(margin[:, 0], model.predict(rows, raw_score=True))


def test_lightgbm_categorical_columns(adult):
    X, y = adult
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, y)
    assert any(tree["tree_structure"].get("decision_type") == "=="
               for tree in model.booster_.dump_model()["tree_info"])
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], raw_score=True))


def test_lightgbm_categorical_feature_argument(numeric):
    X, y = numeric
    codes = X.assign(education_num=X["education_num"].astype(int))
    model = _fit(lightgbm.LGBMClassifier(**LGB), codes, y, categorical_feature=["education_num"])
    _explained(model, codes[:EXPLAINED])


def test_lightgbm_raw_booster(numeric):
    X, y = numeric
    booster = lightgbm.train({"objective": "binary", "num_leaves": 8, "verbose": -1, "num_threads": 1},
                             lightgbm.Dataset(X, label=y), num_boost_round=15)
    assert native_library(booster) == "lightgbm" and native_feature_names(booster) == NUMERIC
    _, _, margin = _explained(booster, X[:EXPLAINED], own=True)
    _close(margin[:, 0], booster.predict(X[:EXPLAINED], raw_score=True))


def test_lightgbm_linear_tree_is_refused(numeric):
    X, y = numeric
    model = _fit(lightgbm.LGBMRegressor(**LGB, linear_tree=True), X, X["age"] / 10)
    with pytest.raises(RaiError, match=r"linear_tree.*method=\"kernel\""):
        native_shap(model, X[:10])
    with pytest.raises(lightgbm.basic.LightGBMError, match="linear trees"):
        model.booster_.predict(X[:10], pred_contrib=True)  # what the explicit check spares the user


def test_lightgbm_has_no_interactions(numeric):
    X, y = numeric
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, y)
    with pytest.raises(RaiError, match="interaction"):
        native_shap(model, X[:10], interactions=True)


# --- CatBoost ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strings(adult):
    """The Adult features with the categorical columns as strings (missing ones as "?")."""
    X, y = adult
    text = {column: X[column].astype(object).where(X[column].notna(), "?").astype(str)
            for column in CATEGORICAL}
    return X.assign(**text), y


def test_catboost_binary_cat_features(strings):
    X, y = strings
    model = _fit(catboost.CatBoostClassifier(**CAT, cat_features=CATEGORICAL), X, y)
    _, _, margin = _explained(model, X[:EXPLAINED])
    _close(margin[:, 0], model.predict(X[:EXPLAINED], prediction_type="RawFormulaVal"))
    assert native_feature_names(model) == NUMERIC + CATEGORICAL


def test_catboost_multiclass(strings):
    X, _ = strings
    model = _fit(catboost.CatBoostClassifier(**CAT, cat_features=CATEGORICAL), X, _classes(X))
    _explained(model, X[:EXPLAINED], outputs=3)


def test_catboost_regressor_with_nan(strings):
    X, _ = strings
    holes = X.assign(capital_gain=X["capital_gain"].mask(X.index % 4 == 0).astype(np.float64))
    model = _fit(catboost.CatBoostRegressor(**CAT, cat_features=CATEGORICAL), holes.drop(columns="age"),
                 X["age"] / 10)
    _explained(model, holes.drop(columns="age")[:EXPLAINED])


def test_catboost_category_dtype_columns(adult):
    X, y = adult
    filled = X.assign(**{c: X[c].cat.add_categories("?").fillna("?") for c in CATEGORICAL})
    model = _fit(catboost.CatBoostClassifier(**CAT, cat_features=CATEGORICAL), filled, y)
    _explained(model, filled[:EXPLAINED])


@pytest.mark.parametrize("outputs", [1, 3])
def test_catboost_interactions(strings, outputs):
    X, y = strings
    model = _fit(catboost.CatBoostClassifier(**CAT, cat_features=CATEGORICAL), X,
                 y if outputs == 1 else _classes(X))
    values, base, _ = _explained(model, X[:50], outputs=outputs, interactions=True)
    np.testing.assert_allclose(base, native_shap(model, X[:50])[1])


# --- recognition, names, bad input ------------------------------------------------------------------

def test_native_library_recognises_models_by_class():
    assert native_library(xgboost.XGBRFRegressor()) == "xgboost"
    assert native_library(lightgbm.LGBMRanker()) == "lightgbm"
    assert native_library(catboost.CatBoost()) == "catboost"
    Fake = type("XGBClassifier", (), {"__module__": "xgboost.sklearn"})
    assert native_library(Fake()) == "xgboost"
    Subclass = type("Mine", (lightgbm.LGBMClassifier,), {"__module__": "__main__"})
    assert native_library(Subclass()) == "lightgbm"
    from sklearn.ensemble import RandomForestClassifier

    for other in (RandomForestClassifier(), xgboost.DMatrix(np.zeros((2, 2))), "XGBClassifier"):
        assert native_library(other) is None


def test_feature_names_from_arrays_are_none(numeric):
    X, y = numeric
    array = X.to_numpy()[:300]
    for model in (xgboost.XGBClassifier(**XGB), lightgbm.LGBMClassifier(**LGB),
                  catboost.CatBoostClassifier(**CAT)):
        _fit(model, array, y[:300])
        assert native_feature_names(model) is None
        _additive(*native_shap(model, pd.DataFrame(array[:20])))
        _fit(model, X[:300], y[:300])
        assert native_feature_names(model) == NUMERIC


@pytest.mark.parametrize("model", [xgboost.XGBClassifier(), xgboost.Booster(), lightgbm.LGBMRegressor(),
                                   catboost.CatBoostClassifier()], ids=lambda m: type(m).__name__)
def test_unfitted_model(numeric, model):
    for call in (lambda: native_shap(model, numeric[0][:5]), lambda: native_feature_names(model)):
        with pytest.raises(RaiError, match=r"is not fitted") as error:
            call()
        assert "\n" not in str(error.value)


def test_other_models_and_empty_rows(numeric):
    X, y = numeric
    from sklearn.tree import DecisionTreeClassifier

    with pytest.raises(RaiError, match="not an XGBoost, LightGBM or CatBoost model"):
        native_shap(DecisionTreeClassifier().fit(X, y), X)
    model = _fit(lightgbm.LGBMClassifier(**LGB), X, y)
    with pytest.raises(RaiError, match="no rows"):
        native_shap(model, X[:0])


def test_library_errors_become_one_line(numeric):
    X, y = numeric
    model = _fit(xgboost.XGBClassifier(**XGB), X, y)
    with pytest.raises(RaiError, match="xgboost could not compute SHAP values") as error:
        native_shap(model, X[NUMERIC[::-1]][:5])  # columns out of the model's order
    assert "\n" not in str(error.value)


def test_base_must_be_constant():
    np.testing.assert_array_equal(_constant_base(np.array([[0.5, 1.0], [0.5, 1.0]])), [0.5, 1.0])
    with pytest.raises(RaiError, match="differs between rows"):
        _constant_base(np.array([[0.5], [0.7]]))
