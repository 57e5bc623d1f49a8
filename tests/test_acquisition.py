"""acquisition_plan (Slice Tuner): curve fits against scipy, the allocation against brute force
and SLSQP, a planted starved slice, the SliceResult and iterative paths, renderings, bad input."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit, minimize
from sklearn.linear_model import LogisticRegression

import rai_nb
from rai_nb.api._acquisition import acquisition_plan
from rai_nb.stats import learning_curves as lc

D = 40
FEATURES = [f"x{i}" for i in range(D)] + [f"gx{i}" for i in range(D)]


def planted(n_starved: int, n_large: int, seed: int) -> pd.DataFrame:
    """Two slices with the same Bayes loss: ``large`` follows x0 alone (learnt from few rows,
    so its curve is flat at its size), ``starved`` a rule over 40 features that only the
    interaction columns ``gx`` can express (steep at 150 rows)."""
    rng = np.random.default_rng(seed)
    starved = np.r_[np.ones(n_starved), np.zeros(n_large)].astype(bool)
    x = rng.normal(size=(len(starved), D))
    rule = np.random.default_rng(99).normal(size=D)
    logit = np.where(starved, 3.5 * x @ rule / np.sqrt(D), 3.0 * x[:, 0])
    frame = pd.DataFrame(np.hstack([x, x * starved[:, None]]), columns=FEATURES)
    frame["g"] = np.where(starved, "starved", "large")
    frame["y"] = (rng.random(len(starved)) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def case():
    train = planted(150, 4000, 0)
    plan = acquisition_plan(LogisticRegression(max_iter=1000), train, target="y",
                            features=FEATURES, slices="g", budget=600, progress=False)
    return train, plan


def curves(a, b) -> lc.PowerLaws:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return lc.PowerLaws(a=a, b=b, a_se=np.zeros_like(a), b_se=np.zeros_like(a))


# --- curve fits -------------------------------------------------------------------------------

def test_fit_recovers_planted_exponents_and_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = np.array([0.1, 0.35, 0.8]), np.array([0.5, 2.0, 9.0])
    sizes = np.tile(np.repeat([50.0, 100, 200, 400, 800, 1600], 4), (3, 1))
    losses = b[:, None] * sizes ** -a[:, None] * np.exp(rng.normal(0, 0.02, sizes.shape))
    fitted = lc.fit_power_laws(sizes, losses)
    np.testing.assert_allclose(fitted.a, a, atol=0.02)
    np.testing.assert_allclose(fitted.b, b, rtol=0.1)
    assert (np.abs(fitted.a - a) < 4 * fitted.a_se).all()
    for s in range(3):  # scipy's weighted least squares in log space, covariance scaled
        x, y = np.log(sizes[s]), np.log(losses[s])
        (slope, intercept), cov = curve_fit(lambda t, m, c: m * t + c, x, y,
                                            sigma=sizes[s] ** -0.5)
        np.testing.assert_allclose([fitted.a[s], fitted.b[s]], [-slope, np.exp(intercept)],
                                   rtol=1e-7)
        np.testing.assert_allclose([fitted.a_se[s], fitted.b_se[s]],
                                   [np.sqrt(cov[0, 0]), np.exp(intercept) * np.sqrt(cov[1, 1])],
                                   rtol=1e-6)


@given(st.floats(0.0, 2.0), st.floats(0.01, 100.0))
@settings(max_examples=50, deadline=None)
def test_exact_power_law_is_recovered(a, b):
    sizes = np.array([[10.0, 30.0, 90.0, 270.0]])
    fitted = lc.fit_power_laws(sizes, b * sizes ** -a)
    np.testing.assert_allclose([fitted.a[0], fitted.b[0]], [a, b], rtol=1e-9, atol=1e-9)


# --- allocation -------------------------------------------------------------------------------

def _grid(slices: int, budget: int) -> np.ndarray:
    head = np.array([g for g in itertools.product(range(budget + 1), repeat=slices - 1)
                     if sum(g) <= budget]).reshape(-1, slices - 1)
    return np.column_stack([head, budget - head.sum(axis=1)])


@given(st.integers(2, 3), st.integers(0, 120), st.sampled_from([0.0, 0.5, 1.0, 10.0]),
       st.integers(0, 2 ** 31 - 1))
@settings(max_examples=60, deadline=None)
def test_allocation_equals_brute_force(slices, budget, weight, seed):
    rng = np.random.default_rng(seed)
    fitted = curves(rng.uniform(-0.1, 1.2, slices), rng.uniform(0.2, 5.0, slices))
    rows = rng.integers(20, 2000, slices).astype(np.float64)
    plan = lc.allocate(fitted, rows, budget, weight)
    grid = _grid(slices, budget)
    best = lc.acquisition_objective(fitted, rows, grid, weight).min()
    assert plan.sum() == budget and (plan >= 0).all()
    assert lc.acquisition_objective(fitted, rows, plan, weight) <= best + 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_water_filling_equals_slsqp_on_the_epigraph_form(seed):
    """The continuous optimum against SLSQP on the smooth form: d and t ≥ 0,
    t_s ≥ L_s / A_s − 1, Σ d = B, minimise Σ L_s + λ Σ t_s."""
    rng = np.random.default_rng(seed)
    fitted, rows = curves(rng.uniform(0.1, 1.0, 3), rng.uniform(0.5, 3.0, 3)), \
        rng.uniform(50, 1000, 3)
    budget, weight = 500.0, 2.0
    a, b = fitted.a, fitted.b
    reference = lc.reference_losses(b * rows ** -a)

    def loss(z):
        return b * (rows + z[:3]) ** -a

    constraints = [{"type": "eq", "fun": lambda z: z[:3].sum() - budget},
                   {"type": "ineq", "fun": lambda z: z[3:] - (loss(z) / reference - 1)}]
    found = minimize(lambda z: loss(z).sum() + weight * z[3:].sum(),
                     np.r_[np.full(3, budget / 3), np.ones(3)], method="SLSQP",
                     bounds=[(0, None)] * 6, constraints=constraints,
                     options={"ftol": 1e-12, "maxiter": 500})
    ours = lc.water_fill(fitted, rows, budget, weight)
    assert found.success
    assert lc.acquisition_objective(fitted, rows, ours, weight) <= found.fun + 1e-9
    np.testing.assert_allclose(ours, found.x[:3], atol=0.5)


def test_flat_curves_split_the_budget_evenly():
    assert lc.allocate(curves([0.0, -0.2], [1.0, 1.0]), np.array([10.0, 20.0]), 7, 1.0).tolist() \
        == [4, 3]


# --- the planted case -------------------------------------------------------------------------

def test_plan_gives_most_of_the_budget_to_the_starved_slice(case):
    _, plan = case
    table = plan.table.set_index("slice")
    assert plan.plan["starved"] >= 0.8 * plan.budget and plan.plan.sum() == plan.budget
    assert table.loc["starved", "a"] > 5 * table.loc["large", "a"]
    assert plan.n_refits == 13 and len(plan.points) == 10  # fraction 1 fitted once


def test_acquiring_per_plan_lowers_imbalance_more_than_uniform(case):
    train, plan = case
    pool, test = planted(3000, 3000, 1), planted(4000, 4000, 2)

    def imbalance(counts: dict) -> float:
        taken = [pool[pool["g"] == name].sample(int(k), random_state=0)
                 for name, k in counts.items()]
        frame = pd.concat([train, *taken])
        model = LogisticRegression(max_iter=1000).fit(frame[FEATURES], frame["y"])
        p = np.clip(model.predict_proba(test[FEATURES])[:, 1], 1e-15, 1 - 1e-15)
        y = test["y"].to_numpy()
        row_loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        losses = test.assign(loss=row_loss).groupby("g")["loss"].mean().to_numpy()
        return lc.equalized_error_rates(losses)[0]

    before = imbalance({})
    planned = imbalance(plan.plan.to_dict())
    uniform = imbalance({"large": plan.budget // 2, "starved": plan.budget // 2})
    print(f"loss imbalance (avg EER) before {before:.4f}, per plan {planned:.4f}, "
          f"uniform {uniform:.4f}")
    assert planned < uniform < before


def test_iterative_acquires_from_the_pool_in_rounds():
    train, pool = planted(150, 1500, 3), planted(800, 800, 4)
    features = FEATURES[:4] + FEATURES[D:D + 4]
    plan = acquisition_plan(LogisticRegression(max_iter=500), train, target="y",
                            features=features, slices="g", budget=300, iterative=True,
                            pool=pool, fractions=(0.3, 0.6, 1.0), n_repeats=2, progress=False)
    rounds = plan.rounds
    assert len(rounds) >= 2 and rounds["rows"].sum() == plan.plan.sum() <= 300
    assert (rounds[["large", "starved"]].sum().to_numpy() == plan.plan.to_numpy()).all()
    assert rounds["imbalance_limit"].tolist()[:2] == [1.0, 2.0]
    assert "loss_after" in plan.table and plan.n_refits == 5 * (len(rounds) + 1)
    assert "Rounds" in plan.to_markdown()


# --- inputs -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def adult():
    data = rai_nb.load_adult().sample(4000, random_state=0).reset_index(drop=True)
    return data, ["age", "education_num", "hours_per_week", "capital_gain"]


def test_slice_result_input_uses_its_slices(adult):
    data, features = adult
    model = LogisticRegression(max_iter=500).fit(data[features], data["income"])
    found = rai_nb.slices(data.assign(error=model.predict(data[features]) != data["income"]),
                          errors="error", k=3, max_l=1, min_sup=300)
    plan = acquisition_plan(LogisticRegression(max_iter=500), data, target="income",
                            features=features, slices=found, budget=100, n_repeats=1,
                            fractions=(0.5, 1.0), progress=False)
    assert plan.table["slice"].tolist() == found.top["slice"].tolist()
    by_mask = acquisition_plan(LogisticRegression(max_iter=500), data, target="income",
                               features=features, budget=100, n_repeats=1,
                               fractions=(0.5, 1.0), progress=False,
                               slices={s: found.mask(i) for i, s in enumerate(found.top["slice"])})
    pd.testing.assert_frame_equal(plan.table, by_mask.table)


def test_same_plan_in_parallel_and_input_untouched(adult):
    data, features = adult
    before = data.copy()
    kwargs = dict(target="income", features=features, sensitive="sex", budget=50,
                  n_repeats=2, fractions=(0.5, 1.0), progress=False)
    one = acquisition_plan(LogisticRegression(max_iter=500), data, **kwargs)
    two = acquisition_plan(LogisticRegression(max_iter=500), data, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(data, before)


def test_renderings_escape_slice_names(adult):
    data, features = adult
    masks = {"<b>old</b>": (data["age"] > 40).to_numpy(), "young": (data["age"] <= 40).to_numpy()}
    plan = acquisition_plan(LogisticRegression(max_iter=500), data, target="income",
                            features=features, slices=masks, budget=20, n_repeats=1,
                            fractions=(0.5, 1.0), loss="error", progress=False)
    html = plan.to_html()
    assert "<b>old" not in html and "&lt;b&gt;old" in html and "<script" not in html
    report = json.loads(plan.to_json())
    assert report["kind"] == "acquisition" and report["summary"]["budget"] == 20
    assert "| young |" in plan.to_markdown()
    assert set(plan._repr_mimebundle_()) >= {"text/html", "text/markdown", rai_nb.render.REPORT_MIME}
    from rai_nb.ui.plots import svg

    assert "currentColor" in svg(plan.figure())


@pytest.mark.parametrize("change, message", [
    ({"budget": -1}, "budget must be a whole number of rows >= 0"),
    ({"slices": "region"}, "column 'region' given as slices is not in the data"),
    ({"fairness_weight": -1.0}, "fairness_weight must be a finite number"),
    ({"fractions": (0.5,)}, "fractions must be two or more"),
    ({"loss": "squared"}, "loss for a binary target must be one of"),
    ({"slices": None, "sensitive": None}, "exactly one of slices= and sensitive="),
    ({"iterative": True}, "iterative=True acquires from pool="),
])
def test_bad_inputs_name_the_argument(adult, change, message):
    data, features = adult
    kwargs = dict(target="income", features=features, slices="sex", budget=10, progress=False)
    with pytest.raises(rai_nb.RaiError, match=message):
        acquisition_plan(LogisticRegression(), data, **{**kwargs, **change})


def test_too_few_rows_names_the_slice(adult):
    data, features = adult
    tiny = np.zeros(len(data), dtype=bool)
    tiny[:12] = True
    with pytest.raises(rai_nb.RaiError, match=r"slice\(s\) \['tiny'\] have too few rows"):
        acquisition_plan(LogisticRegression(), data, target="income", features=features,
                         slices={"tiny": tiny, "rest": ~tiny}, budget=10, progress=False)


def test_masks_cannot_describe_pool_rows(adult):
    data, features = adult
    old = (data["age"] > 40).to_numpy()
    with pytest.raises(rai_nb.RaiError, match="boolean masks describe data's rows only; for pool"):
        acquisition_plan(LogisticRegression(), data, target="income", features=features,
                         slices=[old, ~old], budget=10, iterative=True, pool=data,
                         fractions=(0.5, 1.0), n_repeats=1, progress=False)


def test_acquire_magic_binds_the_plan(ipython_shell, adult):
    data, features = adult
    ipython_shell.user_ns.update(acq_df=data[[*features, "sex", "income"]],
                                 acq_model=LogisticRegression(max_iter=500))
    ipython_shell.run_line_magic("acquire", "acq_model acq_df --target income --slices sex "
                                 "--budget 40 --n-repeats 1 --out acq_plan "
                                 f"--features {','.join(features)}")
    plan = ipython_shell.user_ns["_acquisition"]
    assert plan is ipython_shell.user_ns["acq_plan"] and plan.plan.sum() == 40
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="budget must be a whole number of rows >= 0"):
        ipython_shell.run_line_magic("acquire", "acq_model acq_df --target income --slices sex "
                                     "--budget -3")
