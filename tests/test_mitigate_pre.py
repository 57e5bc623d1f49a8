"""Pre- and in-processing mitigators: Reweighing, FairBatch and fairlearn's reductions."""

from __future__ import annotations

import pickle
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equal_opportunity_difference
from fairlearn.reductions import (
    DemographicParity,
    ExponentiatedGradient,
    GridSearch,
    TruePositiveRateParity,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import rai_nb
from rai_nb.errors import RaiError
from rai_nb.mitigation import FairBatch, Reduction, Reweighing, reweighing_weights
from rai_nb.mitigation._fairbatch import _step

FEATURES = ["priors_count", "age", "juv_fel_count", "juv_misd_count", "c_charge_degree", "sex"]


class Split(NamedTuple):
    X: pd.DataFrame
    X_test: pd.DataFrame
    y: pd.Series
    y_test: pd.Series
    race: pd.Series
    race_test: pd.Series


@pytest.fixture(scope="module")
def compas() -> Split:
    """ProPublica's two largest groups: scaled numeric and one-hot features (race among them,
    as a 0/1 column), the label and ``race`` beside them, split in halves."""
    data = rai_nb.load_compas()
    data = data[data["race"].isin(["African-American", "Caucasian"])].reset_index(drop=True)
    X = pd.get_dummies(data[FEATURES], dtype=float)
    X["race_aa"] = (data["race"] == "African-American").astype(float)
    X = X.loc[:, X.std() > 0]
    X = (X - X.mean()) / X.std()
    parts = train_test_split(X, data["two_year_recid"], data["race"].astype(str), test_size=0.5,
                             random_state=0, stratify=data["race"])
    return Split(*parts)


def _eo_gap(model, X, y, race):
    return equal_opportunity_difference(y, model.predict(X), sensitive_features=race)


def _without_race(estimator):
    """``estimator`` behind a step dropping the ``race`` column (so ``sensitive="race"`` works
    on a frame holding it)."""
    drop = make_column_transformer(("drop", ["race"]), remainder="passthrough")
    return Pipeline([("prep", drop), ("model", estimator)])


# --- Reweighing ---------------------------------------------------------------------------------

def _kamiran_calders(y, g, w):
    """W(g, y) = P(g) P(y) / P(g, y) per row, shares of weight, by pandas group sums."""
    frame = pd.DataFrame({"y": y, "g": g, "w": w})
    n = frame["w"].sum()
    p_g = frame.groupby("g")["w"].transform("sum") / n
    p_y = frame.groupby("y")["w"].transform("sum") / n
    p_gy = frame.groupby(["g", "y"])["w"].transform("sum") / n
    return (w * p_g * p_y / p_gy).to_numpy()


def _aif360_reweighing(favorable, privileged, w):
    """AIF360's Reweighing (fit + transform) as its documentation defines it: for each of the
    privileged/unprivileged × favourable/unfavourable cells, W = n_y · n_g / (n · n_{g,y}) with
    n the sums of instance weights; new instance weights are the old times W."""
    n = w.sum()
    out = w.astype(float).copy()
    for group in (privileged, ~privileged):
        for label in (favorable, ~favorable):
            cell = group & label
            if w[cell].sum() > 0:
                out[cell] *= w[label].sum() * w[group].sum() / (n * w[cell].sum())
    return out


cases = st.integers(2, 60).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 2), min_size=n, max_size=n),
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n),
    st.lists(st.integers(1, 4), min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None)
@given(cases)
def test_reweighing_weights_equal_kamiran_calders_and_give_weighted_parity(case):
    y, g, w = (np.asarray(v) for v in case)
    weights = reweighing_weights(y, g, sample_weight=w)
    np.testing.assert_allclose(weights, _kamiran_calders(y, g, w), rtol=1e-12)
    # Under the weights every group has the label distribution of the whole (weighted) data,
    # wherever no group lacks a label (an empty cell cannot be weighted up).
    if len(set(zip(y.tolist(), g.tolist()))) < len(np.unique(y)) * len(np.unique(g)):
        return
    for label in np.unique(y):
        overall = w[y == label].sum() / w.sum()
        for group in np.unique(g):
            share = weights[(g == group) & (y == label)].sum() / weights[g == group].sum()
            assert abs(share - overall) < 1e-12


@settings(max_examples=40, deadline=None)
@given(cases)
def test_reweighing_weights_equal_aif360_on_two_groups(case):
    y, g, w = (np.asarray(v) for v in case)
    favorable, privileged = y == 1, np.isin(g, ["a", "b"])
    weights = reweighing_weights(favorable, privileged, sample_weight=w)
    np.testing.assert_allclose(weights, _aif360_reweighing(favorable, privileged, w),
                               rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(cases)
def test_integer_sample_weight_equals_repeated_rows(case):
    y, g, w = (np.asarray(v) for v in case)
    repeated = reweighing_weights(np.repeat(y, w), np.repeat(g, w))
    first = np.cumsum(w) - w  # position of each row's first copy
    np.testing.assert_allclose(reweighing_weights(y, g, sample_weight=w), w * repeated[first],
                               rtol=1e-12)


def test_reweighing_fits_a_clone_on_the_weights(compas):
    X, y, race = compas.X, compas.y, compas.race
    fitted = Reweighing(LogisticRegression(max_iter=1000)).fit(X, y, sensitive_features=race)
    weights = reweighing_weights(y, race)
    direct = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(fitted.estimator_.coef_, direct.coef_, rtol=1e-6)
    cell = ((race == "Caucasian") & (y == 1)).to_numpy()
    assert fitted.cell_weights_.loc[("Caucasian",), 1] == pytest.approx(weights[cell][0])
    row = fitted.candidates_.iloc[0]
    predicted = fitted.predict(X)
    assert row["equal_opportunity_difference"] == pytest.approx(
        equal_opportunity_difference(y, predicted, sensitive_features=race), abs=1e-12)
    assert row["accuracy"] == pytest.approx(np.mean(predicted == y), abs=1e-12)


def test_reweighing_routes_weights_to_a_pipelines_last_step():
    adult = rai_nb.load_adult(split="test").sample(3000, random_state=1)
    adult = adult.dropna(subset=["workclass"])
    X, y = adult[["age", "hours_per_week", "workclass", "sex"]], adult["income"]
    pipe = Pipeline([("prep", make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["workclass", "sex"]),
        (StandardScaler(), ["age", "hours_per_week"]))), ("model", LogisticRegression())])
    fitted = Reweighing(pipe, sensitive="sex").fit(X, y)
    direct = clone(pipe).fit(X, y, model__sample_weight=reweighing_weights(y, X["sex"]))
    np.testing.assert_allclose(fitted.predict_proba(X), direct.predict_proba(X), rtol=1e-9)
    assert not hasattr(pipe[-1], "coef_")


def test_reweighing_multiclass_and_intersections(compas):
    X = compas.X
    target = pd.Series(np.where(X["priors_count"] > 0, "high",
                                np.where(X["age"] > 0, "low", "medium")), index=X.index)
    facets = pd.DataFrame({"race": compas.race, "sex": np.where(X["sex_Male"] > 0, "M", "F")})
    fitted = Reweighing(LogisticRegression(max_iter=1000)).fit(X, target,
                                                               sensitive_features=facets)
    assert len(fitted.groups_) == 4 and list(fitted.classes_) == ["high", "low", "medium"]
    cells = facets["race"] + "/" + facets["sex"]
    weights = reweighing_weights(target, cells)
    shares = pd.Series(weights).groupby([cells.to_numpy(), target.to_numpy()]).sum().unstack()
    shares = shares.div(shares.sum(axis=1), axis=0)
    overall = target.value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares.to_numpy() - overall, 0, atol=1e-12)
    assert np.isfinite(fitted.candidates_["demographic_parity_difference"]).all()


# --- FairBatch ----------------------------------------------------------------------------------

def test_fairbatch_reduces_the_equal_opportunity_gap_of_logistic_regression(compas):
    X, y, race = compas.X, compas.y, compas.race
    plain = LogisticRegression(max_iter=1000).fit(X, y)
    model = FairBatch(LogisticRegression(max_iter=1000)).fit(X, y, sensitive_features=race)
    before = _eo_gap(plain, compas.X_test, compas.y_test, compas.race_test)
    after = _eo_gap(model, compas.X_test, compas.y_test, compas.race_test)
    accuracy_loss = (plain.score(compas.X_test, compas.y_test)
                     - model.score(compas.X_test, compas.y_test))
    # Measured on 2026-12-02: held-out gap 0.375 -> 0.081, accuracy 0.682 -> 0.669.
    assert before - after >= 0.15, f"equal opportunity gap {before:.3f} -> {after:.3f}"
    assert accuracy_loss <= 0.04, f"accuracy fell by {accuracy_loss:.3f}"
    rounds = model.candidates_
    assert rounds["round"].tolist() == list(range(21))
    first = rounds.iloc[0]  # round 0 trains on the data's own shares: the plain model
    assert first["accuracy"] == pytest.approx(plain.score(X, y))
    assert rounds.iloc[-1]["equal_opportunity_difference"] < first["equal_opportunity_difference"]
    assert model.lambdas_.shape == (21, 2, 2)
    np.testing.assert_allclose(model.lambdas_.sum(axis=1), 1.0)


def test_fairbatch_partial_fit_path_is_reproducible_and_fairer(compas):
    X, y, race = compas.X, compas.y, compas.race
    sgd = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0)

    def fit(n_rounds):
        model = FairBatch(sgd, batch_size=500, n_rounds=n_rounds, alpha=0.01, random_state=1)
        return model.fit(X, y, sensitive_features=race)

    first, again = fit(30), fit(30)
    np.testing.assert_array_equal(first.estimator_.coef_, again.estimator_.coef_)
    plain = clone(sgd).fit(X, y)
    before = _eo_gap(plain, compas.X_test, compas.y_test, compas.race_test)
    after = _eo_gap(first, compas.X_test, compas.y_test, compas.race_test)
    accuracy_loss = (plain.score(compas.X_test, compas.y_test)
                     - first.score(compas.X_test, compas.y_test))
    # Measured on 2026-12-02: held-out gap 0.385 -> 0.070, accuracy 0.673 -> 0.647.
    assert before - after >= 0.15, f"equal opportunity gap {before:.3f} -> {after:.3f}"
    assert accuracy_loss <= 0.05, f"accuracy fell by {accuracy_loss:.3f}"
    assert not hasattr(sgd, "coef_")


@pytest.mark.parametrize(("constraint", "gap"), [
    ("equalized_odds", "equalized_odds_difference"),
    ("demographic_parity", "demographic_parity_difference")])
def test_fairbatch_other_constraints_shrink_their_gap(compas, constraint, gap):
    rounds = FairBatch(LogisticRegression(max_iter=1000), constraint=constraint, alpha=0.01).fit(
        compas.X, compas.y, sensitive_features=compas.race).candidates_
    assert rounds.iloc[-1][gap] < rounds.iloc[0][gap] - 0.1, rounds[gap].tolist()
    assert any(column.startswith("lambda[") and column.endswith("| 0]") for column in rounds)


def test_fairbatch_moves_share_among_intersectional_groups(compas):
    def facets(X, race):
        return pd.DataFrame({"race": race, "sex": np.where(X["sex_Male"] > 0, "M", "F")})

    plain = LogisticRegression(max_iter=1000).fit(compas.X, compas.y)
    model = FairBatch(LogisticRegression(max_iter=1000), n_rounds=40, alpha=0.01).fit(
        compas.X, compas.y, sensitive_features=facets(compas.X, compas.race))
    held_out = facets(compas.X_test, compas.race_test)
    before = _eo_gap(plain, compas.X_test, compas.y_test, held_out)
    after = _eo_gap(model, compas.X_test, compas.y_test, held_out)
    # Measured on 2026-12-02: four race x sex groups, held-out gap 0.619 -> 0.056.
    assert len(model.groups_) == 4 and before - after >= 0.3, f"{before:.3f} -> {after:.3f}"


def test_fairbatch_step_is_the_papers_update_on_two_groups():
    shares = np.array([[0.6, 0.3], [0.4, 0.7]])  # [group, label]
    present = np.ones((2, 2), dtype=bool)
    losses = np.array([[0.5, 0.9], [0.4, 0.2]])
    # Equal opportunity: group 0 has the larger loss among positives, so its λ grows by alpha.
    np.testing.assert_allclose(_step("equal_opportunity", shares, losses, present, 0.05),
                               [[0.6, 0.35], [0.4, 0.65]])
    # Equalized odds: the positives' gap (0.7) beats the negatives' (0.1): the same move.
    np.testing.assert_allclose(_step("equalized_odds", shares, losses, present, 0.05),
                               [[0.6, 0.35], [0.4, 0.65]])
    # Demographic parity, gap larger among positives: the less selected group 0 gains there.
    np.testing.assert_allclose(_step("demographic_parity", shares,
                                     np.array([[0.2, 0.9], [0.25, 0.3]]), present, 0.05),
                               [[0.6, 0.35], [0.4, 0.65]])
    # ... larger among negatives: the group with the larger loss (group 0) gives share there.
    np.testing.assert_allclose(_step("demographic_parity", shares,
                                     np.array([[0.5, 0.4], [0.1, 0.35]]), present, 0.05),
                               [[0.55, 0.3], [0.45, 0.7]])
    # λ stays in [0, 1]: never more than the source's share moves.
    np.testing.assert_allclose(_step("equal_opportunity", np.array([[0.5, 0.98], [0.5, 0.02]]),
                                     losses, present, 0.05), [[0.5, 1.0], [0.5, 0.0]])


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6).flatmap(lambda k: st.tuples(
    st.lists(st.floats(0.01, 1), min_size=2 * k, max_size=2 * k),
    st.lists(st.floats(0, 5), min_size=2 * k, max_size=2 * k))),
    st.sampled_from(["equal_opportunity", "equalized_odds", "demographic_parity"]))
def test_fairbatch_step_moves_share_from_the_best_to_the_worst_group(case, constraint):
    raw, loss = (np.asarray(v).reshape(-1, 2) for v in case)
    shares = raw / raw.sum(axis=0)
    after = _step(constraint, shares, loss, np.ones_like(shares, dtype=bool), 0.05)
    np.testing.assert_allclose(after.sum(axis=0), 1.0)
    assert (after >= 0).all()
    changed = np.abs(after - shares) > 1e-15
    # Either nothing moves or two groups trade share within one label.
    assert changed.sum() in (0, 2) and set(changed.sum(axis=0).tolist()) <= {0, 2}


# --- Reductions ---------------------------------------------------------------------------------

def test_exponentiated_gradient_equals_fairlearn(compas):
    X, y, race = compas.X, compas.y, compas.race
    ours = Reduction(LogisticRegression(max_iter=500), constraint="equal_opportunity",
                     options={"max_iter": 20, "difference_bound": 0.02}, random_state=5)
    ours.fit(X, y, sensitive_features=race)
    theirs = ExponentiatedGradient(LogisticRegression(max_iter=500),
                                   TruePositiveRateParity(difference_bound=0.02), max_iter=20)
    theirs.fit(X, y, sensitive_features=race)
    rows = compas.X_test
    np.testing.assert_array_equal(ours.predict(rows), theirs.predict(rows, random_state=5))
    np.testing.assert_array_equal(ours.predict_proba(rows)[:, 1],
                                  theirs._pmf_predict(rows)[:, 1])
    mixture = ours.candidates_.set_index("candidate").loc["mixture"]
    assert mixture["chosen"] and len(ours.candidates_) == len(theirs.predictors_) + 1


def test_grid_search_equals_fairlearn_with_string_labels(compas):
    X, y, race = compas.X, compas.y, compas.race
    words = y.map({0: "stays", 1: "reoffends"})
    ours = Reduction(LogisticRegression(max_iter=500), method="grid_search",
                     positive_label="reoffends", options={"grid_size": 9})
    ours.fit(X, words, sensitive_features=race)
    theirs = GridSearch(LogisticRegression(max_iter=500), DemographicParity(), grid_size=9)
    theirs.fit(X, y, sensitive_features=race)
    expected = np.where(theirs.predict(compas.X_test) == 1, "reoffends", "stays")
    np.testing.assert_array_equal(ours.predict(compas.X_test), expected)
    assert list(ours.classes_) == ["reoffends", "stays"]
    np.testing.assert_allclose(ours.predict_proba(compas.X_test)[:, 0],
                               theirs.predict_proba(compas.X_test)[:, 1])
    assert ours.candidates_["chosen"].sum() == 1 and len(ours.candidates_) == 9


# --- the common contract ------------------------------------------------------------------------

def _mitigators():
    lr = _without_race(LogisticRegression(max_iter=500))
    return [Reweighing(lr, sensitive="race"), FairBatch(lr, sensitive="race", n_rounds=3),
            Reduction(lr, sensitive="race", options={"max_iter": 5}, random_state=0)]


@pytest.mark.parametrize("model", _mitigators(), ids=lambda m: type(m).__name__)
def test_clone_pickle_and_inputs_left_alone(compas, model):
    X, y = compas.X.assign(race=compas.race), compas.y
    X_test = compas.X_test.assign(race=compas.race_test)
    X_before, y_before, params = X.copy(), y.copy(), model.get_params()
    fitted = clone(model).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    # The groups may come from sensitive_features= instead; the columns may come in any order.
    other = clone(model).set_params(sensitive=None).fit(X, y, sensitive_features=compas.race)
    np.testing.assert_array_equal(other.predict(X_test[X_test.columns[::-1]]),
                                  fitted.predict(X_test))
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)
    assert model.get_params().keys() == params.keys() and not hasattr(model, "estimator_")
    assert not hasattr(model.estimator[-1], "coef_")
    assert {"candidate", "accuracy", "equal_opportunity_difference"} <= set(fitted.candidates_)


@pytest.mark.parametrize("model", _mitigators()[:2], ids=lambda m: type(m).__name__)
def test_sample_weight_equals_repeated_rows(compas, model):
    X, y = compas.X.assign(race=compas.race).iloc[:800], compas.y.iloc[:800]
    weights = np.random.default_rng(0).integers(1, 4, len(X))
    weighted = clone(model).fit(X, y, sample_weight=weights)
    repeated = clone(model).fit(X.loc[X.index.repeat(weights)], y.loc[y.index.repeat(weights)])
    X_test = compas.X_test.assign(race=compas.race_test)
    np.testing.assert_allclose(weighted.predict_proba(X_test), repeated.predict_proba(X_test),
                               atol=1e-4)
    pd.testing.assert_frame_equal(weighted.candidates_, repeated.candidates_, atol=1e-4)


@pytest.mark.parametrize(("model", "supported"), [
    (FairBatch(LogisticRegression(), constraint="false_positive_rate_parity"),
     "equal_opportunity"),
    (Reduction(LogisticRegression(), constraint="calibration"), "false_positive_rate_parity")])
def test_unsupported_constraint_lists_the_supported_ones(compas, model, supported):
    with pytest.raises(RaiError, match=f"constraint of {type(model).__name__}.*{supported}"):
        model.fit(compas.X, compas.y, sensitive_features=compas.race)


@pytest.mark.parametrize("make", [Reweighing, FairBatch, Reduction])
@pytest.mark.parametrize("estimator", [KNeighborsClassifier(),
                                       Pipeline([("knn", KNeighborsClassifier())])])
def test_estimator_without_sample_weight_is_named(compas, make, estimator):
    with pytest.raises(RaiError, match=r"KNeighborsClassifier\.fit takes no sample_weight"):
        make(estimator).fit(compas.X, compas.y, sensitive_features=compas.race)


def test_bad_inputs_are_named(compas):
    X, y, race = compas.X, compas.y, compas.race
    lr = LogisticRegression()
    with pytest.raises(RaiError, match="take no sample_weight"):
        Reduction(lr).fit(X, y, sensitive_features=race, sample_weight=np.ones(len(y)))
    with pytest.raises(RaiError, match="FairBatch needs a binary target"):
        FairBatch(lr).fit(X, np.arange(len(y)) % 3, sensitive_features=race)
    with pytest.raises(RaiError, match="positive_label 'yes' does not occur"):
        FairBatch(lr, positive_label="yes").fit(X, y, sensitive_features=race)
    with pytest.raises(RaiError, match="alpha must be"):
        FairBatch(lr, alpha=0).fit(X, y, sensitive_features=race)
    with pytest.raises(RaiError, match="y has 5 rows"):
        Reweighing(lr).fit(X, y[:5], sensitive_features=race)
    with pytest.raises(RaiError, match="'nope'"):
        Reweighing(lr, sensitive="nope").fit(X, y)
    with pytest.raises(RaiError, match=r"options \['bogus'\]"):
        Reduction(lr, options={"bogus": 1}).fit(X, y, sensitive_features=race)
    with pytest.raises(RaiError, match="negative"):
        Reweighing(lr).fit(X, y, sensitive_features=race, sample_weight=-np.ones(len(y)))
    with pytest.raises(RaiError, match="DataFrame"):
        Reweighing(lr).fit(X.to_numpy(), y, sensitive_features=race)
