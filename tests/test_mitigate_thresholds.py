"""ThresholdClassifier against fairlearn's ThresholdOptimizer, brute force and the sklearn contract."""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import rai_nb
from rai_nb.errors import RaiError
from rai_nb.mitigation import ThresholdClassifier
from rai_nb.mitigation._thresholds import CONSTRAINTS

FAIRLEARN_NAMES = {"demographic_parity": "demographic_parity",
                   "equal_opportunity": "true_positive_rate_parity",
                   "equalized_odds": "equalized_odds",
                   "false_positive_rate_parity": "false_positive_rate_parity"}
RATES = {"selection_rate": lambda y: np.ones(len(y), bool),
         "true_positive_rate": lambda y: y == 1, "false_positive_rate": lambda y: y == 0}


class ScoreModel(ClassifierMixin, BaseEstimator):
    """A 'fitted' model whose positive-class probability is the ``score`` column."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(["score"], dtype=object)
        return self

    def predict_proba(self, X):
        p = X["score"].to_numpy(dtype=float)
        return np.stack([1 - p, p], axis=1)


def expected_summary(y, p, groups, rates):
    """Expected accuracy and the largest between-group gap of each rate, from P(ŷ = 1)."""
    y, groups = np.asarray(y), np.asarray(groups).astype(str)
    gaps = []
    for rate in rates:
        rows = RATES[rate](y)
        means = pd.Series(p[rows]).groupby(groups[rows]).mean()
        gaps.append(means.max() - means.min())
    return np.mean(np.where(y == 1, p, 1 - p)), max(gaps)


@pytest.fixture(scope="module")
def splits():
    """(name, model, fit rows X, y, sensitive column) for Adult (LR) and COMPAS (HGB: ties)."""
    adult = rai_nb.load_adult()
    numeric = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    train, rest = adult[adult["split"] == "train"], adult[adult["split"] != "train"]
    lr = LogisticRegression(max_iter=500).fit(train[numeric], train["income"])
    compas = rai_nb.load_compas()
    features = ["priors_count", "age", "juv_fel_count", "juv_misd_count"]
    half = len(compas) // 2
    hgb = HistGradientBoostingClassifier(max_iter=30, max_depth=3, random_state=0).fit(
        compas[features][:half], compas["two_year_recid"][:half])
    later = compas[half:]
    return [("adult", lr, rest[[*numeric, "sex"]], rest["income"], "sex"),
            ("compas", hgb, later[[*features, "race"]], later["two_year_recid"], "race")]


@pytest.mark.parametrize("constraint", list(CONSTRAINTS))
def test_matches_or_beats_fairlearn(splits, constraint):
    """Same fit rows, same constraint: expected disparity ≤ fairlearn's + 1e-9 and expected
    accuracy ≥ fairlearn's − 0.005, both evaluated on the fit rows (fairlearn's ``_pmf_predict``
    and our ``predict_proba`` give each row's exact probability of a positive prediction)."""
    from fairlearn.postprocessing import ThresholdOptimizer

    for _, model, X, y, column in splits:
        ours = ThresholdClassifier(model, constraint=constraint, sensitive=column).fit(X, y)
        inputs = X[list(model.feature_names_in_)]
        theirs = ThresholdOptimizer(estimator=model, constraints=FAIRLEARN_NAMES[constraint],
                                    prefit=True, predict_method="predict_proba")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.fit(inputs, y, sensitive_features=X[column])
            p_theirs = theirs._pmf_predict(inputs, sensitive_features=X[column])[:, 1]
        rates = CONSTRAINTS[constraint]
        acc, gap = expected_summary(y, ours.predict_proba(X)[:, 1], X[column], rates)
        acc_fl, gap_fl = expected_summary(y, p_theirs, X[column], rates)
        assert gap <= gap_fl + 1e-9
        assert acc >= acc_fl - 0.005
        assert acc >= acc_fl - 1e-9  # the exact optimum is at least fairlearn's grid optimum


def test_tolerance_matches_or_beats_fairlearn(splits):
    from fairlearn.postprocessing import ThresholdOptimizer

    _, model, X, y, column = splits[1]
    ours = ThresholdClassifier(model, sensitive=column, tol=0.05).fit(X, y)
    inputs = X[list(model.feature_names_in_)]
    theirs = ThresholdOptimizer(estimator=model, prefit=True, predict_method="predict_proba",
                                tol=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(inputs, y, sensitive_features=X[column])
        p_theirs = theirs._pmf_predict(inputs, sensitive_features=X[column])[:, 1]
    acc, gap = expected_summary(y, ours.predict_proba(X)[:, 1], X[column], ["selection_rate"])
    acc_fl, _ = expected_summary(y, p_theirs, X[column], ["selection_rate"])
    assert gap <= 0.05 + 1e-9 and acc >= acc_fl - 1e-9


@st.composite
def small_cases(draw):
    """Rows with tied scores in 2–3 groups, every group holding both labels."""
    rows = []
    for g in range(draw(st.integers(2, 3))):
        size = draw(st.integers(2, 7))
        labels = [0, 1, *draw(st.lists(st.integers(0, 1), min_size=size - 2,
                                       max_size=size - 2))]
        scores = draw(st.lists(st.integers(0, 8), min_size=size, max_size=size))
        rows += [(s / 8, y, f"g{g}") for s, y in zip(scores, labels)]
    return pd.DataFrame(rows, columns=["score", "y", "group"])


def group_points(frame):
    """Each group's (rates, gain) of "positive when score >= t" for every threshold t."""
    total = len(frame)
    points = []
    for _, part in frame.groupby("group"):
        y = part["y"].to_numpy()
        cuts = np.r_[np.unique(part["score"]), np.inf]
        pred = part["score"].to_numpy()[None, :] >= cuts[:, None]
        rates = {name: pred[:, RATES[name](y)].mean(axis=1) for name in RATES}
        gain = (pred == (y == 1)).sum(axis=1) / total
        points.append((rates, gain))
    return points


def brute_randomized(points, rate, tol):
    """Best Σ_g f_g(r_g) with every r_g in [lo, lo + tol], f_g the group's best interpolation
    of two of its points at rate r (concave and piecewise linear, so its maxima over an
    interval sit at the interval's ends or at its breakpoints; the best lo puts lo or lo + tol
    on a breakpoint)."""
    def best_at(values, gain, r):
        lo, hi = np.meshgrid(np.arange(len(values)), np.arange(len(values)), indexing="ij")
        a, b = values[lo], values[hi]
        ok = (a <= r + 1e-12) & (r <= b + 1e-12)
        share = np.divide(r - a, b - a, out=np.zeros_like(a), where=b > a)
        return np.where(ok, gain[lo] + share * (gain[hi] - gain[lo]), -np.inf).max()

    breaks = np.unique(np.concatenate([p[0][rate] for p in points]))
    best = -np.inf
    for lo in np.unique(np.r_[breaks, breaks - tol]):
        if lo < -1e-12:
            continue
        total = 0.0
        for rates, gain in points:
            inside = rates[rate][(rates[rate] >= lo) & (rates[rate] <= lo + tol)]
            total += max(best_at(rates[rate], gain, r) for r in np.r_[lo, lo + tol, inside])
        best = max(best, total)
    return best


def brute_deterministic(points, rates, tol):
    best = -np.inf
    for combo in itertools.product(*(range(len(gain)) for _, gain in points)):
        gaps = [np.ptp([p[0][r][i] for p, i in zip(points, combo)]) for r in rates]
        if max(gaps) <= tol + 1e-12:
            best = max(best, sum(p[1][i] for p, i in zip(points, combo)))
    return best


def fitted_accuracy(frame, constraint, tol, randomized):
    model = ScoreModel().fit(frame, frame["y"])
    fair = ThresholdClassifier(model, constraint=constraint, sensitive="group", tol=tol,
                               randomized=randomized).fit(frame, frame["y"])
    return fair.tradeoff([tol])["accuracy"].iloc[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=small_cases(), tol=st.sampled_from([0.0, 0.1, 0.25]),
       constraint=st.sampled_from(["demographic_parity", "equal_opportunity",
                                   "false_positive_rate_parity"]))
def test_linear_program_equals_brute_force(frame, tol, constraint):
    (rate,) = CONSTRAINTS[constraint]
    expected = brute_randomized(group_points(frame), rate, tol)
    assert fitted_accuracy(frame, constraint, tol, True) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=small_cases(), tol=st.sampled_from([0.0, 0.1, 0.25]),
       constraint=st.sampled_from(list(CONSTRAINTS)))
def test_deterministic_equals_brute_force(frame, tol, constraint):
    expected = brute_deterministic(group_points(frame), CONSTRAINTS[constraint], tol)
    assert fitted_accuracy(frame, constraint, tol, False) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(frame=small_cases())
def test_equalized_odds_hull_loses_nothing(frame):
    """The LP over hull vertices equals the LP over every ROC point, and beats deterministic."""
    from rai_nb.mitigation._roc import staircase
    from rai_nb.mitigation._threshold_lp import binary_program, solve

    codes = pd.factorize(frame["group"], sort=True)[0]
    stairs = staircase(frame["score"].to_numpy(), frame["y"].to_numpy(np.int8), None, codes,
                       codes.max() + 1)
    rates = CONSTRAINTS["equalized_odds"]
    program = binary_program(stairs, rates, "accuracy")
    everything = program[0] @ solve(*program, 0.0)
    ours = fitted_accuracy(frame, "equalized_odds", 0.0, True)
    assert ours == pytest.approx(everything, abs=1e-9)
    assert ours >= fitted_accuracy(frame, "equalized_odds", 0.0, False) - 1e-12


@pytest.fixture(scope="module")
def compas():
    data = rai_nb.load_compas()
    features = ["priors_count", "age", "juv_fel_count"]
    model = LogisticRegression(max_iter=500).fit(data[features], data["two_year_recid"])
    return model, data[[*features, "race", "sex"]].iloc[::3], data["two_year_recid"].iloc[::3]


def test_clone_pickle_and_params(compas):
    model, X, y = compas
    fair = ThresholdClassifier(model, constraint="equalized_odds", sensitive="race",
                               random_state=3)
    assert clone(fair).get_params(deep=False) == fair.get_params(deep=False)
    assert clone(fair).estimator is model  # prefit: shared, so the clone can be fitted
    fair.fit(X, y)
    again = pickle.loads(pickle.dumps(fair))
    np.testing.assert_array_equal(again.predict_proba(X), fair.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), fair.predict(X))
    np.testing.assert_array_equal(clone(fair).fit(X, y).predict_proba(X), fair.predict_proba(X))
    refit = ThresholdClassifier(LogisticRegression(), sensitive="race", prefit=False)
    assert clone(refit).estimator is not refit.estimator


def test_string_labels_and_positive_label(compas):
    model, X, y = compas
    words = np.where(y == 1, "reoffends", "not")
    features = list(model.feature_names_in_)
    worded = LogisticRegression(max_iter=500).fit(X[features], words)
    fair = ThresholdClassifier(worded, sensitive="race").fit(X, words)  # "reoffends" sorts last
    same = LogisticRegression(max_iter=500).fit(X[features], y)  # the same model, 0/1 labels
    numeric = ThresholdClassifier(same, sensitive="race").fit(X, y)
    np.testing.assert_array_equal(fair.predict_proba(X), numeric.predict_proba(X))
    assert set(fair.predict(X)) <= {"not", "reoffends"}
    flipped = ThresholdClassifier(worded, sensitive="race", positive_label="not").fit(X, words)
    assert np.ptp(flipped.thresholds_["selection_rate"]) < 1e-9
    _, gap = expected_summary((words == "not").astype(int), flipped.predict_proba(X)[:, 0],
                              X["race"], ["selection_rate"])
    assert gap < 1e-9
    with pytest.raises(RaiError, match="positive_label 'maybe'"):
        ThresholdClassifier(worded, sensitive="race", positive_label="maybe").fit(X, words)


def test_sample_weight_equals_repetition(compas):
    model, X, y = compas
    weights = np.random.default_rng(0).integers(0, 4, len(X))
    repeated = np.repeat(np.arange(len(X)), weights)
    for constraint in ("demographic_parity", "equalized_odds"):
        weighted = ThresholdClassifier(model, constraint=constraint, sensitive="race").fit(
            X, y, sample_weight=weights)
        copies = ThresholdClassifier(model, constraint=constraint, sensitive="race").fit(
            X.iloc[repeated], y.iloc[repeated])
        np.testing.assert_allclose(weighted.predict_proba(X), copies.predict_proba(X),
                                   atol=1e-9)


def test_columns_by_name_and_sensitive_features(compas):
    model, X, y = compas
    fair = ThresholdClassifier(model, sensitive="race").fit(X, y)
    shuffled = X[X.columns[::-1]]
    np.testing.assert_array_equal(fair.predict_proba(shuffled), fair.predict_proba(X))
    given = ThresholdClassifier(model).fit(X.drop(columns="race"), y,
                                           sensitive_features=X["race"].to_numpy())
    np.testing.assert_array_equal(
        given.predict_proba(X.drop(columns="race"), sensitive_features=X["race"]),
        fair.predict_proba(X))
    pd.testing.assert_frame_equal(given.thresholds_.drop(columns="sensitive_features"),
                                  fair.thresholds_.drop(columns="race"))


def test_unseen_group_and_bad_arguments(compas):
    model, X, y = compas
    fair = ThresholdClassifier(model, sensitive="race").fit(X, y)
    unseen = X.assign(race=X["race"].astype(str).replace({"Asian": "Martian"}))
    with pytest.raises(RaiError, match="Martian"):
        fair.predict(unseen)
    for bad, match in (({"constraint": "parity"}, "constraint must be one of"),
                       ({"tol": -0.1}, "tol must be"), ({"tol": float("nan")}, "tol must be"),
                       ({"objective": "f1"}, "objective must be one of")):
        with pytest.raises(RaiError, match=match):
            ThresholdClassifier(model, sensitive="race", **bad).fit(X, y)
    with pytest.raises(RaiError, match="score"):
        nan_model = ScoreModel().fit(None, None)
        ThresholdClassifier(nan_model, sensitive="race").fit(X.assign(score=np.nan), y)
    with pytest.raises(RaiError, match="not a fitted model"):
        ThresholdClassifier(LogisticRegression(), sensitive="race").fit(X, y)


def test_inputs_never_mutated(compas):
    model, X, y = compas
    X_before, y_before, coef = X.copy(), y.copy(), model.coef_.copy()
    ThresholdClassifier(model, sensitive=["race", "sex"]).fit(X, y).predict(X)
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    unfitted = make_pipeline(make_column_transformer(("passthrough", ["age", "priors_count"])),
                             LogisticRegression(max_iter=200))
    ThresholdClassifier(unfitted, sensitive="race", prefit=False).fit(X, y)
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)
    np.testing.assert_array_equal(model.coef_, coef)
    assert not hasattr(unfitted[-1], "coef_")


def test_predict_draws_reproducibly_at_the_given_probabilities(compas):
    model, X, y = compas
    big = pd.concat([X] * 20, ignore_index=True)
    fair = ThresholdClassifier(model, constraint="equalized_odds", sensitive="race",
                               random_state=7).fit(X, y)
    draws = fair.predict(big)
    np.testing.assert_array_equal(draws, fair.predict(big))
    p = fair.predict_proba(big)[:, 1]
    mixed = (p > 0.05) & (p < 0.95)
    assert mixed.sum() > 1000
    # The draws' frequency matches the stated probabilities (binomial: 4 standard errors).
    spread = np.sqrt((p[mixed] * (1 - p[mixed])).sum())
    assert abs(draws[mixed].sum() - p[mixed].sum()) < 4 * spread


def test_tradeoff_traces_the_fitted_optimum(compas):
    model, X, y = compas
    fair = ThresholdClassifier(model, constraint="equal_opportunity", sensitive="race",
                               tol=0.02).fit(X, y)
    table = fair.tradeoff([0.0, 0.02, 0.05, 0.2])
    assert list(table.columns[:3]) == ["candidate", "tol", "accuracy"]
    assert (table["equal_opportunity_difference"] <= table["tol"] + 1e-9).all()
    assert (np.diff(table["accuracy"]) >= -1e-12).all()  # the feasible set only grows with tol
    acc, gap = expected_summary(y, fair.predict_proba(X)[:, 1], X["race"],
                                ["true_positive_rate"])
    row = table.iloc[1]
    assert row["accuracy"] == pytest.approx(acc) and row["equal_opportunity_difference"] == \
        pytest.approx(gap, abs=1e-12)


def test_decision_function_models(compas):
    from sklearn.svm import LinearSVC

    _, X, y = compas
    features = ["priors_count", "age", "juv_fel_count"]
    svm = LinearSVC().fit(X[features], y)
    fair = ThresholdClassifier(svm, constraint="false_positive_rate_parity",
                               sensitive="race").fit(X, y)
    _, gap = expected_summary(y, fair.predict_proba(X)[:, 1], X["race"],
                              ["false_positive_rate"])
    assert gap < 1e-9


def three_class_data(n, seed):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.4, 0.3, 0.3])
    other = rng.choice(["x", "y"], n)
    shift = pd.Series(group).map({"a": 0.0, "b": 0.6, "c": -0.5}).to_numpy()
    f1, f2 = rng.normal(size=n) + shift, rng.normal(size=n)
    label = np.digitize(f1 + 0.5 * f2 + rng.normal(size=n), [-0.5, 0.8])
    X = pd.DataFrame({"f1": f1, "f2": f2, "group": group, "other": other})
    return X, np.array(["low", "mid", "high"])[label]


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_multiclass_constraint_holds_on_held_out_rows(constraint):
    """Fit on 200k rows, check on 200k new ones: every class's gap (one-vs-rest, expected values
    from predict_proba) is within tol plus a sampling slack of 4/sqrt(n), n the smallest
    group-and-class cell: four standard errors (≤ 0.5/sqrt(n) each) of a gap between two
    groups' rates, each estimated once on the fit rows and once on the new rows."""
    X, y = three_class_data(200_000, 1)
    X_new, y_new = three_class_data(200_000, 2)
    model = LogisticRegression(max_iter=500).fit(X[["f1", "f2"]], y)
    fair = ThresholdClassifier(model, constraint=constraint, sensitive=["group", "other"],
                               tol=0.02).fit(X, y)
    assert fair.tradeoff([0.02])[f"{constraint}_difference"].iloc[0] <= 0.02 + 1e-9
    proba = fair.predict_proba(X_new)
    groups = X_new["group"] + X_new["other"]
    cells = pd.crosstab(groups, y_new).to_numpy()
    slack = 4 / np.sqrt(min(cells.min(), (cells.sum(axis=1, keepdims=True) - cells).min()))
    base_gap = 0.0
    for k, label in enumerate(fair.classes_):
        truth = (y_new == label).astype(int)
        _, gap = expected_summary(truth, proba[:, k], groups, CONSTRAINTS[constraint])
        assert gap <= 0.02 + slack, (label, gap)
        base = (model.predict(X_new[["f1", "f2"]]) == label).astype(float)
        base_gap = max(base_gap, expected_summary(truth, base, groups, CONSTRAINTS[constraint])[1])
    assert slack < 0.06 and base_gap > 0.2  # the check is tight enough to mean something


def test_multiclass_deterministic_and_relabelling():
    X, y = three_class_data(3_000, 3)
    model = LogisticRegression(max_iter=500).fit(X[["f1", "f2"]], y)
    fair = ThresholdClassifier(model, constraint="equal_opportunity", sensitive="group",
                               tol=0.1, randomized=False).fit(X, y)
    assert set(np.unique(fair.predict_proba(X))) <= {0.0, 1.0}
    assert fair.tradeoff([0.1])["equal_opportunity_difference"].iloc[0] <= 0.1 + 1e-9
    table = fair.relabelling_
    assert set(table.columns) == {"group", "prediction", "relabelled", "probability"}
    np.testing.assert_allclose(table.groupby(["group", "prediction"])["probability"].sum(), 1)


def test_intersectional_groups_hold_on_held_out_rows():
    """Binary equalized odds over group × other (6 groups): within tol on the fit rows exactly
    and on 200k new rows within tol plus the sampling slack of the multiclass test."""
    X, labels = three_class_data(200_000, 4)
    X_new, labels_new = three_class_data(200_000, 5)
    y, y_new = (labels == "high").astype(int), (labels_new == "high").astype(int)
    model = LogisticRegression(max_iter=500).fit(X[["f1", "f2"]], y)
    fair = ThresholdClassifier(model, constraint="equalized_odds", sensitive=["group", "other"],
                               tol=0.02).fit(X, y)
    assert len(fair.groups_) == 6
    assert fair.tradeoff([0.02])["equalized_odds_difference"].iloc[0] <= 0.02 + 1e-9
    groups = X_new["group"] + X_new["other"]
    cells = pd.crosstab(groups, y_new).to_numpy()
    slack = 4 / np.sqrt(cells.min())
    _, gap = expected_summary(y_new, fair.predict_proba(X_new)[:, 1], groups,
                              CONSTRAINTS["equalized_odds"])
    assert gap <= 0.02 + slack and slack < 0.06


def test_intersectional_adult_on_the_fit_rows():
    """Adult, sex × race (10 groups, the smallest 46 rows): the gap on the fit rows is within
    tol, and the thresholds table names both attributes."""
    adult = rai_nb.load_adult()
    numeric = ["age", "education_num", "capital_gain", "hours_per_week"]
    train, test = adult[adult["split"] == "train"], adult[adult["split"] != "train"]
    model = LogisticRegression(max_iter=500).fit(train[numeric], train["income"])
    fair = ThresholdClassifier(model, sensitive=["sex", "race"], tol=0.05).fit(
        test, test["income"])
    assert len(fair.groups_) == 10
    groups = test["sex"].astype(str) + test["race"].astype(str)
    _, gap = expected_summary(test["income"], fair.predict_proba(test)[:, 1], groups,
                              ["selection_rate"])
    assert gap <= 0.05 + 1e-9
    assert list(fair.thresholds_.columns[:2]) == ["sex", "race"]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_values=st.integers(1, 30), n_groups=st.integers(1, 4),
       weighting=st.sampled_from(["unit", "integer", "float"]))
def test_tally_of_tied_scores_equals_the_sort(seed, n_values, n_groups, weighting):
    """Few distinct scores (ties, -0.0 beside 0.0, groups without rows): the staircase from the
    hashed tally equals the one from the sort, exactly for unit and integer weights."""
    from rai_nb.mitigation._roc import staircase

    rng = np.random.default_rng(seed)
    n = 8 * n_values + int(rng.integers(0, 200))
    scores = rng.integers(-n_values // 2, n_values - n_values // 2, n) / 7.0
    scores[scores == 0] *= np.where(rng.random(int((scores == 0).sum())) < 0.5, -1.0, 1.0)
    positive = rng.integers(0, 2, n).astype(np.int8)
    codes = rng.integers(0, n_groups, n)
    weights = {"unit": None, "integer": rng.integers(0, 4, n).astype(float),
               "float": rng.random(n)}[weighting]
    tally = staircase(scores, positive, weights, codes, n_groups + 1)
    sort = staircase(scores, positive, weights, codes, n_groups + 1, max_cells=0)
    assert len(tally.group) < n + n_groups + 1 or n_values * n_groups > n  # the tally ran
    for field in ("group", "threshold", "tp", "fp", "pos", "neg"):
        ours, reference = getattr(tally, field), getattr(sort, field)
        if weighting == "float":
            np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(ours, reference)


def test_streamed_histogram_is_exact_with_few_distinct_scores(splits):
    """COMPAS's tree scores (ties): streamed in 500-row chunks with max_bins above the number
    of distinct scores, the thresholds and trade-off equal the exact path's; also with the
    groups and weights given beside X."""
    _, model, X, y, column = splits[1]
    weights = np.random.default_rng(0).integers(1, 4, len(X))
    for constraint in ("demographic_parity", "equalized_odds"):
        exact = ThresholdClassifier(model, constraint=constraint, sensitive=column,
                                    max_bins=None).fit(X, y, sample_weight=weights)
        with rai_nb.config_context(chunk_rows=500):
            streamed = ThresholdClassifier(model, constraint=constraint, max_bins=2000).fit(
                X.drop(columns=column), y, sample_weight=weights,
                sensitive_features=X[column])
        assert streamed.groups_ == exact.groups_
        pd.testing.assert_frame_equal(streamed.thresholds_, exact.thresholds_, rtol=1e-12)
        pd.testing.assert_frame_equal(streamed.tradeoff(), exact.tradeoff(), rtol=1e-9)


@pytest.mark.parametrize("constraint", list(CONSTRAINTS))
def test_streamed_bins_keep_accuracy_and_hold_the_constraint(splits, constraint):
    """Adult's logistic scores (~all distinct) in 2,000-row chunks and 64 bins per group:
    accuracy at least the exact path's - 0.005, and the constraint holds exactly (1e-9) on the
    fit rows with the thresholds on bin edges."""
    _, model, X, y, column = splits[0]
    exact = ThresholdClassifier(model, constraint=constraint, sensitive=column).fit(X, y)
    with rai_nb.config_context(chunk_rows=2000):
        binned = ThresholdClassifier(model, constraint=constraint, sensitive=column,
                                     max_bins=64).fit(X, y)
    assert binned._points.group.size <= 2 * (64 + 1)  # bins, not scores
    proba = {fit: fit.predict_proba(X)[:, 1] for fit in (exact, binned)}
    (exact_accuracy, _), (accuracy, gap) = (
        expected_summary(y, proba[fit], X[column], CONSTRAINTS[constraint])
        for fit in (exact, binned))
    assert accuracy >= exact_accuracy - 0.005
    assert gap <= 1e-9


def test_streamed_multiclass_equals_in_memory():
    X, y = three_class_data(3_000, 6)
    model = LogisticRegression(max_iter=500).fit(X[["f1", "f2"]], y)
    exact = ThresholdClassifier(model, constraint="equalized_odds", sensitive="group",
                                tol=0.05).fit(X, y)
    with rai_nb.config_context(chunk_rows=700):
        streamed = ThresholdClassifier(model, constraint="equalized_odds", sensitive="group",
                                       tol=0.05, max_bins=16).fit(X, y)
    np.testing.assert_allclose(streamed.relabel_, exact.relabel_, atol=1e-9)


def test_streamed_inputs_are_checked(compas):
    model, X, y = compas
    with rai_nb.config_context(chunk_rows=100):
        for bad, match in ((dict(y=y.astype(float).where(y.index % 7 != 0)), "missing"),
                           (dict(sample_weight=np.zeros(len(X))), "zero on every row"),
                           (dict(sensitive_features=X["race"][:-1]), "sensitive_features has")):
            arguments = {"y": y, **bad}
            with pytest.raises(RaiError, match=match):
                ThresholdClassifier(model, sensitive="race", max_bins=32).fit(
                    X, arguments.pop("y"), **arguments)
    for bad in (1, 2.5, "many", True):
        with pytest.raises(RaiError, match="max_bins must be"):
            ThresholdClassifier(model, sensitive="race", max_bins=bad).fit(X, y)


def test_deterministic_equalized_odds_size_guard(compas, monkeypatch):
    from rai_nb.mitigation import _roc

    model, X, y = compas
    monkeypatch.setattr(_roc, "MAX_BOX_WORK", 100)
    with pytest.raises(RaiError, match="pass randomized=True, or coarsen the scores"):
        ThresholdClassifier(model, constraint="equalized_odds", sensitive="race",
                            randomized=False).fit(X, y)
