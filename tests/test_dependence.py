"""rai_nb.dependence against sklearn.inspection.partial_dependence(method="brute")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.inspection import partial_dependence
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import rai_nb
from rai_nb.api._dependence import dependence
from rai_nb.errors import RaiError

NUMERIC = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 600
    data = pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.uniform(0, 10, n), "x3": rng.integers(0, 5, n) * 1.0,
        "colour": rng.choice(["red", "green", "blue"], n),
        "sex": rng.choice(["F", "M"], n, p=[0.4, 0.6]),
        "race": rng.choice(["a", "b", "c"], n, p=[0.6, 0.35, 0.05]),
    })
    logit = data.x1 + 0.3 * data.x2 - 2 + (data.colour == "red") + (data.sex == "M")
    data["y"] = (logit + rng.logistic(size=n) > 0).astype(int)
    data["label3"] = np.digitize(data.x1 + rng.normal(size=n), [-0.5, 0.5])
    return data


@pytest.fixture(scope="module")
def hgb(frame):
    return HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(frame[NUMERIC], frame.y)


@pytest.fixture(scope="module")
def tree(frame):
    """A non-linear model that predicts fast on small batches (HGB's threads do not)."""
    return DecisionTreeClassifier(max_depth=6, random_state=0).fit(frame[NUMERIC], frame.y)


@pytest.fixture(scope="module")
def pipe(frame):
    columns = [*NUMERIC, "colour"]
    encode = make_column_transformer((OneHotEncoder(), ["colour"]), (StandardScaler(), NUMERIC))
    return make_pipeline(encode, LogisticRegression()).fit(frame[columns], frame.y), columns


def _sklearn(model, rows, features, **kwargs):
    return partial_dependence(model, rows, features, method="brute", kind="both", **kwargs)


def test_numeric_feature_equals_sklearn(frame, hgb):
    result = dependence(hgb, frame, "x1", features=NUMERIC, kind="both", sample=None,
                        grid_resolution=30)
    expected = _sklearn(hgb, frame[NUMERIC], ["x1"], grid_resolution=30)
    np.testing.assert_allclose(result.grid[0], expected["grid_values"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.average, expected["average"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.moveaxis(result.ice, 0, 1), expected["individual"], atol=1e-9)
    assert result.outputs == (1,) and result.response == "predict_proba"


def test_few_distinct_values_grid_at_them(frame, tree):
    result = dependence(tree, frame, "x3", features=NUMERIC)
    np.testing.assert_array_equal(result.grid[0], [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(result.average, _sklearn(tree, frame[NUMERIC], ["x3"])["average"],
                               atol=1e-9)


def test_categorical_feature_in_pipeline_equals_sklearn(frame, pipe):
    model, columns = pipe
    result = dependence(model, frame, "colour", features=columns, response="decision_function")
    expected = _sklearn(model, frame[columns], ["colour"], categorical_features=["colour"],
                        response_method="decision_function")
    assert list(result.grid[0]) == ["blue", "green", "red"] == list(expected["grid_values"][0])
    np.testing.assert_allclose(result.average, expected["average"], atol=1e-9)


def test_pandas_categorical_dtype_keeps_categories(frame, pipe):
    model, columns = pipe
    rows = frame.assign(colour=frame.colour.astype("category"))
    result = dependence(model, rows, "colour", features=columns)
    expected = _sklearn(model, frame[columns], ["colour"], categorical_features=["colour"])
    np.testing.assert_allclose(result.average, expected["average"], atol=1e-9)


def test_multiclass_every_class_and_target_class(frame):
    model = LogisticRegression().fit(frame[NUMERIC], frame.label3)
    expected = _sklearn(model, frame[NUMERIC], ["x2"])["average"]
    result = dependence(model, frame, "x2", features=NUMERIC, grid_resolution=100)
    assert result.outputs == (0, 1, 2)
    np.testing.assert_allclose(result.average, expected, atol=1e-9)
    one = dependence(model, frame, "x2", features=NUMERIC, target_class=2)
    np.testing.assert_allclose(one.average, expected[2:], atol=1e-9)
    assert list(one.to_frame().columns) == ["all rows"]


def test_binary_decision_function_of_the_negative_class(frame, pipe):
    model, columns = pipe
    scores = [dependence(model, frame, "x1", features=columns, response="decision_function",
                         target_class=label).average for label in (1, 0)]
    np.testing.assert_allclose(scores[1], -scores[0], atol=1e-12)


def test_regression_equals_sklearn(frame):
    model = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0)
    model.fit(frame[NUMERIC], frame.x1 * 2 + frame.x2)
    result = dependence(model, frame, "x2", features=NUMERIC, kind="both", sample=None)
    expected = _sklearn(model, frame[NUMERIC], ["x2"])
    assert result.response == "predict" and result.outputs == ("prediction",)
    np.testing.assert_allclose(result.average, expected["average"], atol=1e-9)
    np.testing.assert_allclose(np.moveaxis(result.ice, 0, 1), expected["individual"], atol=1e-9)


def test_group_curves_equal_sklearn_on_the_groups_rows(frame, tree):
    result = dependence(tree, frame, "x1", by=["sex", "race"], features=NUMERIC,
                        grid_resolution=25)
    grid = {"x1": result.grid[0]}
    assert len(result.groups) == 6
    for g, (sex, race) in enumerate(result.groups):
        rows = frame[(frame.sex == sex) & (frame.race == race)][NUMERIC]
        expected = partial_dependence(tree, rows, ["x1"], method="brute", custom_values=grid)
        np.testing.assert_allclose(result.group_average[g], expected["average"], atol=1e-9)
        assert result.group_rows[g] == len(rows)
    small = result.small_groups()
    assert set(small.index) == {label for label, n in zip(result.labels[1:], result.group_rows)
                                if n < 30}


def test_centred_ice_starts_at_zero(frame, tree):
    plain = dependence(tree, frame, "x2", by="sex", features=NUMERIC, kind="both", sample=50)
    centred = dependence(tree, frame, "x2", by="sex", features=NUMERIC, kind="both", sample=50,
                         centered=True)
    np.testing.assert_array_equal(centred.ice[..., 0], 0.0)
    np.testing.assert_allclose(centred.ice, plain.ice - plain.ice[..., :1], atol=1e-12)
    np.testing.assert_allclose(centred.group_average,
                               plain.group_average - plain.group_average[..., :1], atol=1e-12)
    assert len(centred.ice) == 50 and centred.ice_rows == plain.ice_rows
    ice = plain.ice_frame()
    assert list(ice.index) == plain.ice_rows and ice.shape == (50, len(plain.grid[0]))
    np.testing.assert_array_equal(ice.to_numpy(), plain.ice[:, 0])


def test_two_way_equals_sklearn(frame, tree):
    result = dependence(tree, frame, ("x1", "x2"), by="sex", features=NUMERIC, grid_resolution=12)
    expected = partial_dependence(tree, frame[NUMERIC], ["x1", "x2"], method="brute",
                                  grid_resolution=12)
    assert result.average.shape == (1, 12, 12)
    np.testing.assert_allclose(result.average, expected["average"], atol=1e-9)
    female = frame[frame.sex == "F"][NUMERIC]
    by_group = partial_dependence(tree, female, ["x1", "x2"], method="brute",
                                  custom_values={"x1": result.grid[0], "x2": result.grid[1]})
    np.testing.assert_allclose(result.group_average[0], by_group["average"], atol=1e-9)
    assert result.to_frame().index.names == ["x1", "x2"]


def test_chunks_give_the_same_curves(frame, tree):
    options = {"by": "sex", "features": NUMERIC, "kind": "both", "grid_resolution": 20}
    whole = dependence(tree, frame, "x1", **options)
    for chunk in (250, 1900):  # row blocks; runs of three grid points
        with rai_nb.config_context(chunk_rows=chunk):
            part = dependence(tree, frame, "x1", **options)
        np.testing.assert_allclose(part.average, whole.average, atol=1e-12)
        np.testing.assert_allclose(part.group_average, whole.group_average, atol=1e-12)
        np.testing.assert_allclose(part.ice, whole.ice, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=40, max_size=40))
def test_sample_weight_equals_row_repetition(counts):
    counts = np.asarray(counts)
    if counts.sum() == 0:
        counts[0] = 1
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40),
                         "g": rng.choice(["p", "q"], 40)})
    model = Ridge().fit(data[["a", "b"]], data.a * 3 - data.b ** 2)
    weighted = dependence(model, data.assign(w=counts), "a", by="g", features=["a", "b"],
                          sample_weight="w", grid_resolution=7, percentiles=(0, 1))
    repeated = data.iloc[np.repeat(np.arange(40), counts)]
    expected = partial_dependence(model, repeated[["a", "b"]], ["a"], method="brute",
                                  custom_values={"a": weighted.grid[0]})
    np.testing.assert_allclose(weighted.average, expected["average"], atol=1e-9)
    for g, (level,) in enumerate(weighted.groups):
        rows = repeated[repeated.g == level]
        if len(rows):
            by_group = partial_dependence(model, rows[["a", "b"]], ["a"], method="brute",
                                          custom_values={"a": weighted.grid[0]})
            np.testing.assert_allclose(weighted.group_average[g], by_group["average"], atol=1e-9)


def test_columns_matched_by_name(frame, pipe):
    model, columns = pipe
    shuffled = frame[["y", "colour", "x3", "sex", "x2", "x1"]]
    a = dependence(model, frame, "x2", by="sex", features=columns)
    b = dependence(model, shuffled, "x2", by="sex", features=columns)
    np.testing.assert_array_equal(a.average, b.average)
    np.testing.assert_array_equal(a.group_average, b.group_average)


def test_input_not_mutated(frame, pipe):
    model, columns = pipe
    before = frame.copy()
    dependence(model, frame, "colour", by="sex", features=columns, kind="both")
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"feature": "nope"}, "'nope' given as feature is not in the data"),
    ({"feature": "sex"}, "feature 'sex' is not one of the columns the model takes"),
    ({"feature": "x1", "kind": "ice"}, "kind must be one of"),
    ({"feature": ("x1", "x2"), "kind": "both"}, "a pair of features has no ICE"),
    ({"feature": "x1", "target_class": 7}, "target_class 7 is not one of the model's classes"),
    ({"feature": "x1", "grid_resolution": 1}, "grid_resolution must be"),
    ({"feature": "x1", "by": "nope"}, "'nope' given as by is not in the data"),
    ({"feature": "x1", "response": "predict_log_proba"}, "response must be one of"),
    ({"feature": ("x1", "x2"), "n_boot": 10}, "a pair of features has no bootstrap band"),
    ({"feature": "x1", "n_boot": 10, "ci": 95}, "ci must be between 0 and 1"),
])
def test_bad_arguments(frame, tree, kwargs, match):
    with pytest.raises(RaiError, match=match):
        dependence(tree, frame, features=NUMERIC, **kwargs)


def test_nullable_and_categorical_options(frame, tree):
    nullable = frame.assign(x2=frame.x2.astype("Float64"))
    expected = _sklearn(tree, frame[NUMERIC], ["x2"])["average"]
    np.testing.assert_allclose(dependence(tree, nullable, "x2", features=NUMERIC).average,
                               expected, atol=1e-9)
    forced = dependence(tree, frame, "x1", features=NUMERIC, categorical=["x1"])
    assert len(forced.grid[0]) == frame.x1.nunique()
    with pytest.raises(RaiError, match="feature 'x3': the percentiles are too close"):
        dependence(tree, frame, "x3", features=NUMERIC, grid_resolution=3, percentiles=(0.3, 0.4))


def test_missing_values_in_the_feature_named(frame, tree):
    holes = frame.assign(x1=frame.x1.mask(frame.index % 50 == 0))
    with pytest.raises(RaiError, match=r"feature \('x1'\) has 12 missing"):
        dependence(tree, holes, "x1", features=NUMERIC)


def test_renderings(frame, tree):
    tricky = frame.assign(sex=frame.sex.map({"F": "<b>F</b>", "M": "M"}))
    result = dependence(tree, tricky, "x1", by="sex", features=NUMERIC, kind="both",
                        grid_resolution=30)
    html = result.to_html()
    assert "<svg" in html and "<b>F</b>" not in html and "&lt;b&gt;F&lt;/b&gt;" in html
    assert "<script" not in html
    report = json.loads(result.to_json())
    assert report["kind"] == "dependence" and report["summary"]["grid_points"] == 30
    curves = report["sections"][0]
    assert curves["image"].startswith("data:image/png") and len(curves["table"]["rows"]) == 30
    assert "| x1 | all rows | &lt;b>F&lt;/b> | M |" in result.to_markdown()
    groups = report["sections"][1]
    assert groups["title"] == "Partial dependence by group"
    assert groups["table"]["columns"] == ["rows", "weight", "small"]


def test_two_way_and_multiclass_figures_draw(frame, tree):
    model = LogisticRegression().fit(frame[NUMERIC], frame.label3)
    multi = dependence(model, frame, "x1", by="race", features=NUMERIC, kind="individual")
    assert multi.svg.count("<svg") == 1
    two = dependence(tree, frame, ("x1", "x3"), by="race", features=NUMERIC, grid_resolution=8)
    assert "<svg" in two.svg and two.sections()[0].table.shape == (8, 5)


def test_magic_binds_the_result(frame, tree, ipython_shell):
    from IPython.core.error import UsageError

    shell = ipython_shell
    shell.user_ns.update(model=tree, rows=frame)
    options = "--features x1,x2,x3 --grid-resolution 10"
    shell.run_line_magic("dependence", f"model rows --feature x1 --by sex,race --kind both "
                                       f"--centered --n-boot 5 {options}")
    result = shell.user_ns["_dependence"]
    assert result.by == ("sex", "race") and result.centered and result.plot == "both"
    assert result.n_boot == 5 and result.lower.shape == (7, 1, 10)
    shell.run_line_magic("dependence", f"model rows --feature x1,x2 {options} --out pair")
    assert shell.user_ns["pair"].average.shape == (1, 10, 10)
    with pytest.raises(UsageError, match="'zz' given as feature is not in the data"):
        shell.run_line_magic("dependence", f"model rows --feature zz {options}")


def test_bootstrap_band_equals_brute_force_replicates(frame, tree):
    from rai_nb.explain.dependence import poisson_draws

    weights = np.where(frame.x3 > 2, 2.0, 1.0)
    result = dependence(tree, frame.assign(w=weights), "x1", by="race", features=NUMERIC,
                        grid_resolution=8, n_boot=6, ci=0.8, sample_weight="w", centered=True,
                        random_state=3)
    draws = poisson_draws(6, len(frame), 4)  # the bootstrap's seed is random_state + 1
    masks = [np.ones(len(frame), bool), *((frame.race == g).to_numpy() for (g,) in result.groups)]
    for c, mask in enumerate(masks):
        curves = []
        for draw in draws:
            if (draw[mask] * weights[mask]).sum() == 0:
                continue  # the group has no rows in this replicate: no curve
            curve = partial_dependence(tree, frame[NUMERIC][mask], ["x1"], method="brute",
                                       sample_weight=draw[mask] * weights[mask],
                                       custom_values={"x1": result.grid[0]})["average"]
            curves.append(curve - curve[:, :1])
        low, high = np.quantile(np.stack(curves), [0.1, 0.9], axis=0)
        np.testing.assert_allclose(result.lower[c], low, atol=1e-9)
        np.testing.assert_allclose(result.upper[c], high, atol=1e-9)
    with rai_nb.config_context(chunk_rows=250):
        chunked = dependence(tree, frame.assign(w=weights), "x1", by="race", features=NUMERIC,
                             grid_resolution=8, n_boot=6, ci=0.8, sample_weight="w",
                             centered=True, random_state=3)
    np.testing.assert_allclose(chunked.lower, result.lower, atol=1e-12)
    band = result.band()
    assert band[0].shape == result.to_frame().shape and "Bands and brackets" in result.to_markdown()


def test_bootstrap_band_covers_the_population_curve():
    rng = np.random.default_rng(5)
    population = pd.DataFrame({"a": rng.normal(size=20_000), "b": rng.exponential(2, 20_000)})
    model = Ridge().fit(population, population.a * 2 + population.b * 3)
    covered = 0
    for trial in range(40):
        rows = population.sample(200, random_state=trial)
        result = dependence(model, rows, "a", grid_resolution=3, percentiles=(0, 1), n_boot=200,
                            random_state=trial)
        truth = partial_dependence(model, population, ["a"], method="brute",
                                   custom_values={"a": result.grid[0]})["average"][0]
        low, high = result.lower[0, 0], result.upper[0, 0]
        covered += bool(((low <= truth) & (truth <= high)).all())
    assert covered >= 33  # 95% bands: about 38 of 40 (98 of 100 with these seeds)
