"""KernelSHAP against brute-force Shapley enumeration and against shap's KernelExplainer."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import rai_nb
from rai_nb.backend import to_device, to_host
from rai_nb.explain.kernel import (
    add_pair_values,
    budget_level,
    coalitions,
    pair_groups,
    solve_shapley,
    spread_masks,
)

shap = pytest.importorskip("shap")



@pytest.fixture(scope="module")
def adult(adult_numeric):
    return adult_numeric


def exact_shapley(predict, x, background):
    """Shapley values of the background-mean value function, every coalition in one call."""
    m = len(x)
    codes = np.arange(2**m)
    masks = ((codes[:, None] >> np.arange(m)) & 1).astype(bool)  # coalition code → members
    rows = np.where(masks[:, None, :], x, background[None, :, :]).reshape(-1, m)
    values = predict(rows).reshape(len(masks), len(background), -1).mean(axis=1)
    size = masks.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m)
                       for s in range(m)])
    phi = np.zeros((m, values.shape[1]))
    for i in range(m):  # φ_i = Σ_{S ∌ i} |S|! (M − |S| − 1)! / M! (v(S ∪ i) − v(S))
        without = codes[~masks[:, i]]
        phi[i] = weight[size[without]] @ (values[without | (1 << i)] - values[without])
    return phi


def named(model, X):
    """``predict_proba`` on arrays, given the column names the model was fitted with."""
    return lambda rows: model.predict_proba(pd.DataFrame(rows, columns=X.columns))


def exact_all(predict, X, background):
    return np.stack([exact_shapley(predict, x, background) for x in X])


def shap_kernel(predict, background, X, nsamples):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's own deprecation and progress noise
        values = shap.KernelExplainer(predict, background).shap_values(X, nsamples=nsamples,
                                                                        silent=True)
    return np.asarray(values)


def test_kernel_shap_is_exact_when_every_coalition_fits(adult):
    X, y = adult
    model = GradientBoostingClassifier(n_estimators=10).fit(X, y)
    background = X[:8]
    ours = rai_nb.explain(model, X[:3], background=background, method="kernel", progress=False)
    for row in range(3):
        expected = exact_shapley(named(model, X), X.to_numpy()[row], background.to_numpy())
        np.testing.assert_allclose(ours.values[row], expected, atol=1e-10)


def test_pairs_with_few_differing_features_are_exact_on_a_small_budget():
    # 10 features but x and every background row differ in at most 4: 14 coalitions per pair
    # cover each pair's game, so nsamples=20 (far below 2^10 − 2) is exact.
    rng = np.random.default_rng(3)
    background = rng.integers(0, 3, size=(6, 10)).astype(float)
    X = np.repeat(background[:1], 4, axis=0)
    X[:, :4] = rng.integers(3, 6, size=(4, 4))  # differs from row 0 of the background in 4
    background[1:, 4:] = background[0, 4:]  # the rest agree with x outside the first 4
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    weights = rng.normal(size=10)
    y = (frame.to_numpy() @ weights + rng.normal(size=4) > np.median(frame.to_numpy() @ weights))
    reference = pd.DataFrame(background, columns=frame.columns)
    model = LogisticRegression().fit(pd.concat([frame, reference]),
                                     np.r_[y, rng.integers(0, 2, 6)].astype(int))
    ours = rai_nb.explain(model, frame, background=reference, method="kernel", nsamples=20,
                          progress=False)
    np.testing.assert_allclose(ours.values, exact_all(named(model, frame), X, background),
                               atol=1e-12)


def twelve_features():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 12)), columns=[f"f{i}" for i in range(12)])
    signal = X.to_numpy() @ rng.normal(size=12) + 1.5 * X["f0"] * X["f1"] - X["f2"] * X["f3"] * X["f4"]
    model = GradientBoostingClassifier(n_estimators=25, max_depth=3, random_state=0).fit(
        X, (signal > 0).astype(int))
    return X, model


def test_kernel_shap_error_is_below_shaps_at_the_same_budget():
    # Continuous features: x and the background differ everywhere, so all the gain is in the
    # sampling (strata without replacement, complements, interaction fit), none from ties.
    X, model = twelve_features()
    background, rows = X[:5], X[100:104]
    exact = exact_all(named(model, X), rows.to_numpy(), background.to_numpy())
    theirs = shap_kernel(named(model, X), background.to_numpy(), rows.to_numpy(), 600)
    ours = rai_nb.explain(model, rows, background=background, method="kernel", nsamples=600,
                          random_state=0, progress=False)
    ours_error, shap_error = np.abs(ours.values - exact).mean(), np.abs(theirs - exact).mean()
    assert ours_error < 0.25 * shap_error, (ours_error, shap_error)  # 3.8e-5 vs 1.5e-3


def test_kernel_shap_within_sampling_error_of_shap():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 12)), columns=[f"f{i}" for i in range(12)])
    weights = rng.normal(size=12)
    model = LogisticRegression().fit(X, (X.to_numpy() @ weights > 0).astype(int))
    background = X[:5]
    ours = rai_nb.explain(model, X[:4], background=background, method="kernel", nsamples=600,
                          progress=False)
    exact = exact_all(named(model, X), X.to_numpy()[:4], background.to_numpy())
    theirs = shap_kernel(model.predict_proba, background, X[:4], 600)
    ours_error = np.abs(ours.values - exact).mean()
    assert ours_error < 0.01 and ours_error < np.abs(theirs - exact).mean()


def test_coalitions_cover_all_when_budget_allows():
    masks, weights = coalitions(5, 100, np.random.default_rng(0))
    assert len(masks) == 30 and len({m.tobytes() for m in masks}) == 30 and (weights > 0).all()
    sampled, weights = coalitions(12, 500, np.random.default_rng(0))
    assert len(sampled) == 500 and len({m.tobytes() for m in sampled}) == 500
    assert (sampled.sum(axis=1) > 0).all() and (sampled.sum(axis=1) < 12).all()
    complements = {m.tobytes() for m in ~sampled}
    assert all(m.tobytes() in complements for m in sampled)  # drawn in complementary pairs
    sizes = sampled.sum(axis=1)
    np.testing.assert_allclose(weights[sizes == 3].sum(), weights[sizes == 9].sum())


def test_solver_is_exact_for_linear_value_functions():
    rng = np.random.default_rng(1)
    masks, weights = coalitions(6, 2000, rng)
    effect = rng.normal(size=(3, 6, 1))
    values = np.einsum("cm,rmk->rck", masks.astype(float), effect)
    phi = solve_shapley(masks, weights, values, effect.sum(axis=1), np.zeros(1))
    np.testing.assert_allclose(phi, effect, atol=1e-10)


def test_interaction_fit_is_exact_for_games_of_order_three():
    # A game with interactions of up to three features is fitted exactly from sampled
    # coalitions; its Shapley values are θ_T / |T| summed over the terms T holding i.
    rng = np.random.default_rng(2)
    m = 9
    masks, weights = coalitions(m, 300, rng)
    assert len(masks) < 2**m - 2
    terms = [t for k in (1, 2, 3) for t in itertools.combinations(range(m), k)]
    theta = rng.normal(size=len(terms))
    values = sum(c * masks[:, list(t)].all(axis=1) for c, t in zip(theta, terms))[None, :, None]
    full = np.array([[theta.sum()]])
    expected = np.zeros(m)
    for c, t in zip(theta, terms):
        expected[list(t)] += c / len(t)
    phi = solve_shapley(masks, weights, values, full, np.zeros(1), order=3)
    np.testing.assert_allclose(phi[0, :, 0], expected, atol=1e-9)
    additive = solve_shapley(masks, weights, values, full, np.zeros(1))
    assert np.abs(additive[0, :, 0] - expected).max() > 1e-3  # KernelSHAP's fit is not


def test_kernels_run_on_every_namespace(xp):
    rng = np.random.default_rng(4)
    masks, weights = coalitions(7, 60, rng)
    values, full, base = rng.normal(size=(3, len(masks), 2)), rng.normal(size=(3, 2)), \
        rng.normal(size=(3, 2))
    for order in (1, 2):
        expected = solve_shapley(masks, weights, values, full, base, order=order)
        got = solve_shapley(to_device(masks, xp), to_device(weights, xp), to_device(values, xp),
                            to_device(full, xp), to_device(base, xp), order=order, xp=xp)
        np.testing.assert_allclose(to_host(got), expected, atol=1e-10)
    inverse = np.array([[0, 7, 1, 2, 3, 4, 5, 6, 7], [6, 5, 4, 3, 2, 1, 0, 7, 7]])
    spread = spread_masks(to_device(masks, xp), to_device(inverse, xp), xp=xp)
    assert to_host(spread).shape == (2, len(masks), 9)
    np.testing.assert_array_equal(to_host(spread)[0][:, [0, 2, 3, 4, 5, 6, 7]], masks)
    assert not to_host(spread)[0][:, [1, 8]].any() and not to_host(spread)[1][:, 7:].any()
    local = rng.normal(size=(2, 7, 2))
    total = add_pair_values(to_device(np.zeros((1, 9, 2)), xp), to_device(local, xp),
                            to_device(np.array([0, 0]), xp), to_device(inverse, xp),
                            to_device(np.array([0.25, 0.75]), xp), xp=xp)
    expected = np.zeros((9, 2))
    expected[[0, 2, 3, 4, 5, 6, 7]] += 0.25 * local[0]
    expected[[6, 5, 4, 3, 2, 1, 0]] += 0.75 * local[1]
    np.testing.assert_allclose(to_host(total)[0], expected, atol=1e-12)


def test_budget_goes_to_pairs_that_cannot_be_enumerated():
    features = np.array([2, 2, 3, 10, 10])  # caps 2, 2, 6, 1022, 1022
    level = budget_level(features, 100)
    assert level == pytest.approx((500 - 10) / 2)
    assert budget_level(np.array([2, 3]), 100) == 6.0  # every pair fits: the largest cap
    groups = pair_groups(np.ones((2, 3, 4), bool), 5, np.random.default_rng(0))
    assert [g.masks.shape[1] for g in groups] == [4] and groups[0].rows.tolist() == [0, 0, 0, 1, 1, 1]


class Game:
    """A model of 5 columns: columns 0 and 1 enter symmetrically, column 4 not at all."""

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c

    def predict(self, frame):
        x = np.asarray(frame, dtype=np.float64)
        return (self.a * (x[:, 0] + x[:, 1]) + self.b * x[:, 0] * x[:, 1] * x[:, 2]
                + np.tanh(self.c * x[:, 3] + x[:, 2]) + (x[:, 0] + x[:, 1]) * x[:, 3])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), nsamples=st.sampled_from([4, 9, 30]),
       a=st.floats(-2, 2), b=st.floats(-2, 2), c=st.floats(-2, 2))
def test_efficiency_symmetry_and_null_players(seed, nsamples, a, b, c):
    rng = np.random.default_rng(seed)
    data = rng.integers(-2, 3, size=(9, 5)).astype(float)  # ties are frequent
    data[:, 1] = data[:, 0]  # symmetric players: equal in x and in every background row
    frame = pd.DataFrame(data, columns=list("abcde"))
    model = Game(a, b, c)
    rows, background = frame[:4], frame[4:]
    sampled = rai_nb.explain(model, rows, background=background, method="kernel",
                             nsamples=nsamples, random_state=seed, progress=False)
    output, base = model.predict(rows), model.predict(background).mean()
    np.testing.assert_allclose(sampled.values.sum(axis=1) + sampled.base_values, output,
                               atol=1e-10)  # efficiency holds for any budget
    assert sampled.base_values[0] == pytest.approx(base, abs=1e-12)
    exact = rai_nb.explain(model, rows, background=background, method="kernel", nsamples=30,
                           progress=False)  # 2^5 − 2 = 30: every coalition
    brute = exact_all(lambda r: model.predict(r)[:, None], rows.to_numpy(),
                      background.to_numpy())[..., 0]
    np.testing.assert_allclose(exact.values, brute, atol=1e-10)
    np.testing.assert_allclose(exact.values[:, 0], exact.values[:, 1], atol=1e-10)
    np.testing.assert_allclose(exact.values[:, 4], 0, atol=1e-12)


def test_same_seed_same_values_other_seed_other_values():
    X, model = twelve_features()
    background, rows = X[:4], X[50:53]
    runs = [rai_nb.explain(model, rows, background=background, method="kernel", nsamples=200,
                           random_state=seed, progress=False).values for seed in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_small_model_calls_give_the_same_values():
    X, model = twelve_features()
    background, rows = X[:4], X[50:53]
    whole, pieces = (rai_nb.explain(model, rows, background=background, method="kernel",
                                    nsamples=300, batch_rows=size, progress=False).values
                     for size in (200_000, 97))
    np.testing.assert_allclose(pieces, whole, atol=1e-12)


def test_multi_output_model():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(90, 5)), columns=list("abcde"))
    y = np.digitize(X["a"] + X["b"] * X["c"], [-0.5, 0.5])  # three classes
    model = LogisticRegression(max_iter=500).fit(X, y)
    background, rows = X[:6], X[20:24]
    exact = rai_nb.explain(model, rows, background=background, method="kernel", progress=False)
    assert exact.values.shape == (4, 5, 3) and exact.base_values.shape == (4, 3)
    np.testing.assert_allclose(exact.values, exact_all(named(model, X), rows.to_numpy(),
                                                       background.to_numpy()), atol=1e-10)
    sampled = rai_nb.explain(model, rows, background=background, method="kernel", nsamples=8,
                             progress=False)
    np.testing.assert_allclose(sampled.values.sum(axis=1) + sampled.base_values,
                               model.predict_proba(rows), atol=1e-10)


class Typed:
    """Refuses anything but its own dtypes; price + a size factor + a colour bonus."""

    def predict(self, frame):
        assert isinstance(frame["size"].dtype, pd.CategoricalDtype)
        assert list(frame["size"].cat.categories) == ["S", "M", "L"]
        assert frame["colour"].dtype == object and frame["count"].dtype == np.int64
        assert frame["tag"].dtype == "string"
        size = frame["size"].cat.codes.to_numpy() + 1.0
        bonus = np.where(frame["colour"].to_numpy() == "red", 2.0, 0.0)
        tag = np.where(frame["tag"].isna().to_numpy(), 0.5, 0.0)
        return frame["count"].to_numpy() * size + bonus * size + tag


def test_string_and_categorical_columns_keep_their_dtypes():
    rng = np.random.default_rng(6)
    n = 12
    frame = pd.DataFrame({
        "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"]),
        "colour": pd.Series(rng.choice(["red", "blue"], n), dtype=object),
        "count": rng.integers(0, 4, n),
        "tag": pd.array(np.where(rng.random(n) < 0.3, None, "x"), dtype="string"),
    })
    rows, background = frame[:5], frame[5:].reset_index(drop=True)
    ours = rai_nb.explain(Typed(), rows, background=background, method="kernel", progress=False)
    masks = list(itertools.product([False, True], repeat=4))
    for r in range(5):  # brute force on frames, one coalition at a time
        worth = {mask: _worth(rows.iloc[r], background, mask) for mask in masks}
        for i in range(4):
            expected = sum(
                math.factorial(sum(mask)) * math.factorial(3 - sum(mask)) / math.factorial(4)
                * (worth[(*mask[:i], True, *mask[i + 1:])] - worth[mask])
                for mask in masks if not mask[i])
            assert ours.values[r, i] == pytest.approx(expected, abs=1e-10)


def _worth(row, background, mask):
    synthetic = background.copy()
    for name, on in zip(background.columns, mask):
        if on:
            synthetic[name] = pd.Series([row[name]] * len(background), dtype=background[name].dtype)
    return Typed().predict(synthetic).mean()


@pytest.mark.parametrize("options,argument", [
    ({"nsamples": 0}, "nsamples"),
    ({"nsamples": "many"}, "nsamples"),
    ({"nsamples": True}, "nsamples"),
    ({"nsamples": 2.5}, "nsamples"),
    ({"batch_rows": 0}, "batch_rows"),
    ({"background": 0}, "background"),
])
def test_bad_options_name_the_argument(options, argument):
    X, model = twelve_features()
    with pytest.raises(rai_nb.RaiError, match=argument):
        rai_nb.explain(model, X[:2], method="kernel", progress=False,
                       **{"background": X[:3], **options})


def test_duplicate_column_names_are_refused():
    X, model = twelve_features()
    twice = X[["f0", "f0", "f1"]]
    with pytest.raises(rai_nb.RaiError, match="duplicate column names"):
        rai_nb.explain(lambda_model(), twice[:2], background=twice[:2], method="kernel",
                       progress=False)


def lambda_model():
    class Sum:
        def predict(self, frame):
            return np.asarray(frame, dtype=np.float64).sum(axis=1)

    return Sum()


def test_default_background_does_not_depend_on_row_order(adult):
    X, y = adult
    X = X.iloc[:120]
    model = LogisticRegression(max_iter=500).fit(X, y[:120])
    order = np.random.default_rng(0).permutation(len(X))
    first = rai_nb.explain(model, X, method="kernel", nsamples=64, progress=False)
    shuffled = rai_nb.explain(model, X.iloc[order].reset_index(drop=True), method="kernel",
                              nsamples=64, progress=False)
    np.testing.assert_allclose(np.asarray(shuffled.values), np.asarray(first.values)[order],
                               rtol=1e-9, atol=1e-12)
