"""rai_nb.counterfactuals and rai_nb.burden: validity, constraints, optimality and burden."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import rai_nb
from rai_nb import burden, counterfactuals
from rai_nb.errors import RaiError
from rai_nb.render import format_value

FAST = {"population": 60, "generations": 10}


def _mad(values: np.ndarray) -> np.ndarray:
    return np.median(np.abs(values - np.median(values, axis=0)), axis=0)


@pytest.fixture(scope="module")
def mixed():
    """A pipeline on a numeric, an integer and a categorical column, with string labels."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"x": rng.normal(size=n), "count": rng.integers(0, 20, n),
                          "colour": rng.choice(["red", "green", "blue"], n),
                          "group": rng.choice(["a", "b"], n)})
    logit = 1.5 * frame["x"] - 0.2 * (frame["count"] - 10) + (frame["colour"] == "red") * 1.0
    labels = np.where(logit + rng.normal(size=n) > 0, "yes", "no")
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour", "group"]), remainder="passthrough"),
        LogisticRegression()).fit(frame, labels)
    return model, frame


@settings(max_examples=12, deadline=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), low=st.floats(-2, 0), width=st.floats(0.5, 4),
       top=st.integers(5, 19), colours=st.sets(st.sampled_from(["red", "green", "blue"]),
                                               min_size=1))
def test_valid_and_within_constraints(mixed, seed, low, width, top, colours):
    model, frame = mixed
    rows = frame.sample(4, random_state=seed)
    ranges = {"x": (low, low + width), "count": (0, top), "colour": sorted(colours)}
    result = counterfactuals(model, rows, data=frame, ranges=ranges, sensitive="group", k=3,
                             random_state=seed, **FAST)
    found = result.counterfactuals
    if found.empty:  # ranges that leave no way to flip any of the rows
        assert (result.rows["found"] == 0).all()
        return
    origin = rows.loc[found.index.get_level_values("row")].reset_index(drop=True)
    values = found.reset_index(drop=True)[list(frame.columns)]
    desired = np.where(model.predict(origin) == "yes", "no", "yes")
    assert (model.predict(values) == desired).all()
    assert (found["prediction"].to_numpy() == desired).all()
    assert (values["group"] == origin["group"]).all()  # sensitive: immutable by default
    moved = values["x"] != origin["x"]
    assert values.loc[moved, "x"].between(low, low + width).all()
    moved = values["count"] != origin["count"]
    assert values.loc[moved, "count"].between(0, top).all()
    assert values["count"].dtype == frame["count"].dtype
    moved = values["colour"] != origin["colour"]
    assert values.loc[moved, "colour"].isin(colours).all()
    assert (result.rows["found"] <= 3).all()


def test_closest_matches_analytic_minimum_l1():
    """Logistic regression on standardised features: the logit is ``b + Σ v_j x_j`` with
    ``v_j = w_j / σ_j``. Changing the row by δ, with distance ``Σ |δ_j| / s_j`` (s the MAD),
    the decision flips when ``Σ v_j δ_j = −logit``; writing ``u_j = δ_j / s_j`` this is a
    linear constraint on ``Σ (v_j s_j) u_j`` and the least ``Σ |u_j|`` meeting it is
    ``|logit| / max_j |v_j s_j|``: move only the feature with the largest ``|v_j| s_j``."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(500, 4)) * [1.0, 3.0, 0.5, 2.0], columns=list("abcd"))
    y = (X @ [1.0, -0.5, 2.0, 0.1] + rng.normal(size=500) > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    scaler, logistic = model[0], model[1]
    v = logistic.coef_[0] / scaler.scale_
    rows = X.iloc[:25]
    logit = logistic.decision_function(scaler.transform(rows))
    minimum = np.abs(logit) / np.max(np.abs(v) * _mad(X.to_numpy()))
    wide = {c: (-1e3, 1e3) for c in X.columns}
    result = counterfactuals(model, rows, data=X, ranges=wide, k=2, random_state=0)
    closest = result.closest_distance
    assert (closest >= minimum * (1 - 1e-9)).all()
    np.testing.assert_allclose(closest, minimum, rtol=1e-3)  # multisection: to 8^-6 of the move


def test_closest_integer_change_is_the_first_integer_past_the_boundary():
    """An integer feature decides: the closest counterfactual moves it to the first integer on
    the other side of the boundary (found by trying every integer), no further."""
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"n": rng.integers(0, 1000, 600), "other": rng.normal(size=600)})
    model = LogisticRegression().fit(X, (X["n"] > 437).astype(int))
    rows = X[model.predict(X) == 0].head(10)
    result = counterfactuals(model, rows, data=X, features_to_vary=["n"], k=1, **FAST)
    grid = pd.DataFrame({"n": np.repeat(np.arange(1000), len(rows)),
                         "other": np.tile(rows["other"].to_numpy(), 1000)})
    crossed = (model.predict(grid) == 1).reshape(1000, len(rows))
    expected = (np.argmax(crossed, axis=0) - rows["n"].to_numpy()) / _mad(X[["n"]].to_numpy())[0]
    np.testing.assert_allclose(result.closest_distance, expected)


def _brute_force_burden(model, data, features, favourable):
    """Each decided-against row's least distance over every integer point of the data's
    box of ``features`` (exhaustive grid), by the same MAD-scaled distance."""
    values = data[features].to_numpy(dtype=np.float64)
    grid = np.stack(np.meshgrid(*[np.arange(lo, hi + 1) for lo, hi
                                  in zip(values.min(0), values.max(0))]), -1).reshape(-1, 2)
    accepted = grid[model.predict(pd.DataFrame(grid, columns=features)) == favourable]
    against = model.predict(data[features]) != favourable
    gaps = np.abs(values[against, None, :] - accepted[None]) / _mad(values)
    return against, gaps.sum(-1).min(axis=1)


def test_burden_on_compas_covers_brute_force():
    compas = rai_nb.load_compas().sample(400, random_state=0)
    features = ["age", "priors_count"]
    model = LogisticRegression().fit(compas[features], compas["two_year_recid"] == 0)
    result = burden(model, compas, sensitive="race", positive_label=True, n_boot=300,
                    population=200, random_state=0, features=features)
    against, distance = _brute_force_burden(model, compas, features, True)
    brute = pd.Series(distance).groupby(compas["race"].to_numpy()[against],
                                        observed=True).mean()
    table = result.table.xs("race")
    assert (table["found"] == table["rows"]).all()
    shown = table.loc[brute.index]
    assert (shown["burden"] >= brute - 1e-9).all()
    assert ((shown["lower"] <= brute) & (brute <= shown["upper"]))[shown["rows"] >= 10].all()
    # a search, not an exhaustive one: near the grid's optimum, never below it
    np.testing.assert_allclose(shown["burden"], brute, rtol=0.1)


def test_nearest_real_rows_are_brute_force_nearest(mixed):
    model, frame = mixed
    rows = frame.iloc[:5]
    result = counterfactuals(model, rows, data=frame, sensitive="group", k=3, **FAST)
    predicted = model.predict(frame)
    numeric = frame[["x", "count"]].to_numpy(dtype=np.float64)
    scale = _mad(numeric)
    for label, row in rows.iterrows():  # five query rows: the reference may loop
        wanted = "no" if model.predict(row.to_frame().T.infer_objects())[0] == "yes" else "yes"
        gap = (np.abs(numeric - row[["x", "count"]].to_numpy(dtype=float)) / scale).sum(1) \
            + (frame["colour"] != row["colour"]).to_numpy()
        ok = (predicted == wanted) & (frame["group"] == row["group"]).to_numpy()
        expected = np.sort(gap[ok])[:3]
        np.testing.assert_allclose(result.nearest.xs(label)["distance"], expected)


def _brute_force_nearest(values, scale, origin, eligible, k):
    """Distances of the ``k`` nearest ``eligible`` rows to ``origin`` (numeric features)."""
    gap = (np.abs(values - origin) / scale).sum(axis=1)
    return np.sort(gap[eligible])[:k]


@pytest.mark.parametrize("task", ["rare class", "narrow interval"])
def test_nearest_real_rows_when_the_outcome_is_rare(task):
    """A desired outcome that few rows have: the nearest rows are found over several rounds of
    predictions (each row's nearest 32 k first, then more), still exactly the brute force's."""
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    if task == "rare class":
        model = LogisticRegression().fit(X, (X["a"] + 0.3 * X["b"] > 2.0).astype(int))
        wanted = model.predict(X) == 1
        desired = 1
    else:
        model = LinearRegression().fit(X, X @ [1.0, 0.5, -0.2])
        value = model.predict(X)
        wanted = (value >= 1.9) & (value <= 2.0)
        desired = (1.9, 2.0)
    rows = X[~wanted].head(6)
    result = counterfactuals(model, rows, data=X, desired=desired, k=4, **FAST)
    values, scale = X.to_numpy(), _mad(X.to_numpy())
    assert wanted.mean() < 0.05
    for position, label in enumerate(rows.index):
        expected = _brute_force_nearest(values, scale, rows.to_numpy()[position], wanted, 4)
        np.testing.assert_allclose(result.nearest.xs(label)["distance"], expected)


def test_blocks_of_query_rows(mixed, monkeypatch):
    """Query rows searched in several blocks (a small block size), and their distances to
    the data computed in blocks each round, still give valid counterfactuals for every row,
    and the same nearest rows."""
    from rai_nb.api import _counterfactuals

    model, frame = mixed
    rows = frame.iloc[:7]
    whole = counterfactuals(model, rows, data=frame, sensitive="group", k=2, **FAST)
    monkeypatch.setattr(_counterfactuals, "BLOCK_ROWS", 300)  # a few query rows a block
    monkeypatch.setattr(_counterfactuals, "DISTANCE_CELLS", 1000)  # two query rows' distances
    blocks = counterfactuals(model, rows, data=frame, sensitive="group", k=2, **FAST)
    assert (blocks.rows["found"] == 2).all()
    found = blocks.counterfactuals
    origin = rows.loc[found.index.get_level_values("row")]
    desired = np.where(model.predict(origin) == "yes", "no", "yes")
    assert (model.predict(found[frame.columns]) == desired).all()
    pd.testing.assert_frame_equal(blocks.nearest, whole.nearest)


def test_categorical_string_labels_pipeline_on_adult():
    adult = rai_nb.load_adult().dropna().sample(1500, random_state=0)
    X = adult.drop(columns=["income", "split", "fnlwgt", "native_country"])
    y = np.where(adult["income"] == 1, ">50K", "<=50K")
    categorical = list(X.select_dtypes("category").columns)
    model = make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical), remainder=StandardScaler()),
        LogisticRegression(max_iter=500)).fit(X, y)
    rows = X[model.predict(X) == "<=50K"].head(6)
    result = counterfactuals(model, rows, data=X, desired=">50K", sensitive=["sex", "race"],
                             k=3, **FAST)
    found = result.counterfactuals
    assert (result.rows["found"] > 0).all()
    assert (model.predict(found[X.columns]) == ">50K").all()
    origin = rows.loc[found.index.get_level_values("row")]
    for column in ("sex", "race"):
        assert (found[column].to_numpy() == origin[column].to_numpy()).all()
    assert found["occupation"].isin(X["occupation"].cat.categories).all()
    assert found["occupation"].dtype == X["occupation"].dtype
    assert all("→" in text for text in found["changes"])


def test_regression_interval():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["p", "q", "r"])
    model = LinearRegression().fit(X, X @ [2.0, -1.0, 0.5])
    rows = X.iloc[:5]
    result = counterfactuals(model, rows, desired=(3.0, 4.0), data=X, k=2, **FAST)
    predicted = model.predict(result.counterfactuals[X.columns])
    assert ((predicted >= 3.0) & (predicted <= 4.0)).all()


def test_inputs_not_mutated_and_reports_escaped(mixed):
    model, frame = mixed
    rows = frame.iloc[:3].rename(index={0: "<b>row</b>"})
    before_rows, before_frame = rows.copy(), frame.copy()
    result = counterfactuals(model, rows, data=frame, k=2, **FAST)
    pd.testing.assert_frame_equal(rows, before_rows)
    pd.testing.assert_frame_equal(frame, before_frame)
    html = result.to_html()
    assert "<b>row</b>" not in html and "&lt;b&gt;row&lt;/b&gt;" in html
    assert "Counterfactuals" in result.to_markdown()
    assert result.to_dict()["kind"] == "counterfactuals"
    assert len(result.for_row(1)) == result.rows.loc[1, "found"]
    alone = counterfactuals(model, rows, data=frame, k=2, n_nearest=0, **FAST)
    assert alone.nearest.empty and "Nearest real rows" in alone.to_html()


def test_burden_result_renders():
    compas = rai_nb.load_compas().head(200)
    model = LogisticRegression().fit(compas[["age", "priors_count"]], compas["two_year_recid"])
    result = burden(model, compas, sensitive=["sex", "race"], positive_label=0, n_boot=50,
                    **FAST)
    assert set(result.table.index.get_level_values("sensitive")) == {"sex", "race"}
    bundle = result._repr_mimebundle_()
    assert "Counterfactual burden by group" in bundle["text/html"]
    assert bundle["application/vnd.rai-nb.report+json"]["kind"] == "burden"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"desired": "maybe"}, "desired must be one of"),
    ({"features_to_vary": ["nope"]}, "features_to_vary names"),
    ({"ranges": {"nope": (0, 1)}}, "ranges names"),
    ({"ranges": {"x": (2, 1)}}, r"ranges\['x'\] must have low <= high"),
    ({"ranges": {"x": "wide"}}, r"ranges\['x'\] must be \(low, high\)"),
    ({"ranges": {"colour": ("red", "pink")}}, r"ranges\['colour'\] must be a list"),
    ({"ranges": {"colour": ["pink"]}}, r"ranges\['colour'\] must list levels"),
    ({"ranges": [("x", 1)]}, "ranges must be a dict"),
    ({"k": 0}, "k must be a positive integer"),
    ({"population": 1.5}, "population must be a positive integer"),
    ({"n_nearest": -1}, "n_nearest must be a non-negative integer"),
    ({"immutable": ["x", "count", "colour", "group"]}, "features_to_vary leaves no feature"),
    ({"data": [1, 2]}, "data must be a pandas DataFrame"),
    ({"data": pd.DataFrame({"x": [1.0]})}, r"data lacks the model's feature column\(s\) \['count'"),
])
def test_bad_inputs(mixed, kwargs, match):
    model, frame = mixed
    with pytest.raises(RaiError, match=match):
        counterfactuals(model, frame.head(2), **{"data": frame, **kwargs})


def test_bad_rows_and_models(mixed):
    model, frame = mixed
    with pytest.raises(RaiError, match="rows must be a pandas DataFrame"):
        counterfactuals(model, frame.to_numpy())
    with pytest.raises(RaiError, match="rows has no rows"):
        counterfactuals(model, frame.head(0), data=frame)
    X = frame[["x", "count"]]
    regressor = LinearRegression().fit(X, frame["x"])
    with pytest.raises(RaiError, match=r"desired must be \(low, high\)"):
        counterfactuals(regressor, X.head(2))
    with pytest.raises(RaiError, match="burden needs a binary classifier"):
        burden(regressor, frame, sensitive="group")
    with pytest.raises(RaiError, match="positive_label must be one of"):
        burden(model, frame, sensitive="group", positive_label="maybe")


def test_magic_binds_result(ipython_shell):
    from IPython.core.error import UsageError

    shell = ipython_shell
    compas = rai_nb.load_compas()[["age", "priors_count", "sex", "two_year_recid"]].head(300)
    model = LogisticRegression().fit(compas[["age", "priors_count"]], compas["two_year_recid"])
    shell.user_ns.update(model=model, compas=compas)
    shell.run_line_magic("load_ext", "rai_nb")
    shell.run_line_magic("counterfactuals", "model compas[:3] --data compas --k 2 --out found")
    result = shell.user_ns["_counterfactuals"]
    assert result is shell.user_ns["found"]
    assert isinstance(result, rai_nb.CounterfactualResult) and len(result.rows) == 3
    with pytest.raises(UsageError, match="k must be a positive integer"):
        shell.run_line_magic("counterfactuals", "model compas[:3] --k 0")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 10)), min_size=1, max_size=60))
def test_group_means_and_bootstrap(pairs):
    from rai_nb.stats.burden import bootstrap_group_means, group_means

    codes = np.array([c for c, _ in pairs])
    values = np.array([v for _, v in pairs])
    means = group_means(values, codes, 4)
    expected = pd.Series(values).groupby(codes).mean().reindex(range(4))
    np.testing.assert_allclose(means, expected.to_numpy())
    lower, upper = bootstrap_group_means(values, codes, 4, n_boot=200, ci=0.9, seed=0)
    spread = pd.Series(values).groupby(codes).agg(["min", "max"]).reindex(range(4))
    present = ~np.isnan(means)
    assert np.isnan(lower[~present]).all()
    assert (lower[present] >= spread["min"].to_numpy()[present] - 1e-9).all()
    assert (upper[present] <= spread["max"].to_numpy()[present] + 1e-9).all()
    assert (lower[present] <= upper[present]).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(-2, 2), min_size=3, max_size=3), min_size=1, max_size=50),
       st.floats(-1e6, 1e6))
def test_distinct_rows_groups_exactly_the_equal_rows(rows, scale):
    from rai_nb.explain.counterfactual import distinct_rows

    values = np.array(rows, dtype=np.float64) * [1.0, scale, 1e-3]
    first, inverse = distinct_rows(values)
    np.testing.assert_array_equal(values[first][inverse], values)
    assert len(first) == len(np.unique(values, axis=0))


def test_rows_without_counterfactuals_render():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    model = LogisticRegression().fit(X, (X["a"] > 0).astype(int))
    rows = X[X["a"].abs() > 2].head(3)  # b alone cannot cross the boundary within its range
    result = counterfactuals(model, rows, data=X, features_to_vary=["b"], k=2, **FAST)
    assert result.counterfactuals.empty and (result.rows["found"] == 0).all()
    assert np.isinf(result.closest_distance).all()
    assert result.to_dict()["summary"]["counterfactuals"] == 0
    assert "Counterfactuals" in result.to_html()


@pytest.fixture(scope="module")
def audited():
    """An audit with burden of a small COMPAS model, and the same burden computed directly."""
    compas = rai_nb.load_compas().head(200)[["age", "priors_count", "sex", "race",
                                               "two_year_recid"]]
    model = LogisticRegression().fit(compas[["age", "priors_count"]], compas["two_year_recid"])
    result = rai_nb.audit(model, compas, target="two_year_recid", sensitive=["sex", "race"],
                          positive_label=0, burden=True, n_boot=50, progress=False)
    direct = burden(model, compas, sensitive=["sex", "race"], positive_label=0,
                    features=["age", "priors_count"])
    return model, compas, result, direct


def test_audit_burden_equals_burden_and_is_in_every_rendering(audited):
    _, _, result, direct = audited
    pd.testing.assert_frame_equal(result.burden.table, direct.table)
    explanations = result.to_dict()["parts"][1]
    assert explanations["kind"] == "explanation"
    section = next(s for s in explanations["sections"]
                   if s["title"] == "Counterfactual burden by group")
    assert section["bars"]["values"] == pytest.approx(direct.table["burden"].tolist())
    html, markdown = result.to_html(), result.to_markdown()
    assert html.index("Counterfactual burden by group") > html.index("Global importance")
    assert "<svg" in html.split("Counterfactual burden by group", 1)[1]  # its bar chart
    assert "Counterfactual burden by group" in markdown
    shown = markdown.split("Counterfactual burden by group", 1)[1]
    assert all(format_value(v) in shown for v in direct.table["burden"])


def test_audit_burden_in_the_live_tab_and_alone(audited, ipython_shell):
    from rai_nb import ui

    model, compas, result, direct = audited
    tab = ui.panel_for(result).tab("Explanations")
    assert isinstance(tab.children[0], ui.panels.ExplanationPanel)
    assert "Counterfactual burden by group" in _html_of(tab)
    shell = ipython_shell
    shell.user_ns.update(model=model, compas=compas)
    shell.run_line_magic("load_ext", "rai_nb")
    shell.run_line_magic("audit", "model compas --target two_year_recid --sensitive sex,race "
                         "--positive-label 0 --no-explain --burden --n-boot 20")
    alone = shell.user_ns["_audit"]
    assert alone.explanation_report is None
    pd.testing.assert_frame_equal(alone.burden.table, direct.table)
    assert "burden" in [part.kind for part in alone.parts()]
    assert "Counterfactual burden by group" in _html_of(ui.panel_for(alone).tab("Explanations"))


def _html_of(widget) -> str:
    """The HTML of a widget and of its children's HTML widgets (not deeper)."""
    return "".join(getattr(w, "value", "") for w in (widget, *getattr(widget, "children", ())))
