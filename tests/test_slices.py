"""rai_nb.slices end to end: against sliceline on Adult, scipy's Welch test, sklearn metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.tree import DecisionTreeClassifier
from sliceline.slicefinder import Slicefinder

import rai_nb
from rai_nb import RaiError
from rai_nb.frame import describe_predicate, encode_slice_features
from rai_nb.frame._features import encode_feature, level_mask


@pytest.fixture(scope="module")
def adult():
    """4,000 Adult rows with a shallow tree's predictions (trained on other rows)."""
    datasets = pytest.importorskip("rai_nb.datasets")
    frame = datasets.load_adult()
    frame = frame.drop(columns=[c for c in frame.columns if "fnlwgt" in str(c)])
    features = frame.drop(columns="income")
    onehot = pd.get_dummies(features, dummy_na=True).astype(np.float64).fillna(-1)
    model = DecisionTreeClassifier(max_depth=5, random_state=0).fit(onehot.iloc[5000:15000],
                                                                   frame["income"].iloc[5000:15000])
    sample = frame.iloc[:4000].reset_index(drop=True)
    sample["prediction"] = model.predict(onehot.iloc[:4000])
    return sample


def sliceline_top(codes, errors, **params):
    finder = Slicefinder(verbose=False, **params).fit(codes, errors)
    slices = np.array([[-1 if v is None else v for v in row] for row in finder.top_slices_],
                      dtype=np.int64).reshape(-1, codes.shape[1])
    return slices, np.array([s["slice_score"] for s in finder.top_slices_statistics_])


@pytest.mark.parametrize("max_l", [2, 3])
def test_adult_top_k_equals_sliceline(adult, max_l):
    features = [c for c in adult.columns if c not in ("income", "prediction")]
    errors = (adult["income"] != adult["prediction"]).to_numpy(np.float64)
    result = rai_nb.slices(adult, target="income", prediction="prediction", alpha=0.95, k=10,
                           max_l=max_l, min_sup=40)
    encoded = encode_slice_features(adult, features)
    slices, scores = sliceline_top(encoded.codes, errors, alpha=0.95, k=10, max_l=max_l, min_sup=40)
    np.testing.assert_allclose(result.top["score"], scores, rtol=1e-12)
    expected = [{c.name: c.levels[v] for c, v in zip(encoded.columns, row) if v >= 0} for row in slices]
    assert result.top["predicates"].tolist() == expected
    assert result.average_loss == pytest.approx(errors.mean())


def test_planted_slice_is_found_and_matches_sliceline():
    rng = np.random.default_rng(5)
    n = 5000
    frame = pd.DataFrame({"color": rng.choice(["red", "green", "blue"], n),
                          "size": rng.choice(["S", "M", "L", "XL"], n),
                          "age": rng.integers(18, 80, n), "score": rng.normal(size=n)})
    bad = (frame["color"] == "red") & (frame["age"] >= 60)
    errors = np.where(bad, rng.random(n) < 0.8, rng.random(n) < 0.1).astype(np.float64)
    result = rai_nb.slices(frame, errors=errors, bins={"age": [18, 40, 60, 80]}, k=5, max_l=3)
    assert result.top["predicates"].iloc[0] == {"color": "red", "age": pd.Interval(60, 80, "both")}
    assert result.top["slice"].iloc[0] == "color = red & age in [60, 80]"
    np.testing.assert_array_equal(result.mask(0), bad.to_numpy())
    encoded = encode_slice_features(frame, list(frame.columns), bins={"age": [18, 40, 60, 80]})
    _, scores = sliceline_top(encoded.codes, errors, alpha=0.95, k=5, max_l=3, min_sup=10)
    np.testing.assert_allclose(result.top["score"], scores, rtol=1e-12)


def test_statistics_match_scipy_on_the_slice_rows(adult):
    result = rai_nb.slices(adult, target="income", prediction="prediction", k=5, max_l=2, min_sup=30,
                           fdr="benjamini_hochberg")
    errors = (adult["income"] != adult["prediction"]).to_numpy(np.float64)
    for i, row in result.top.iterrows():
        inside = result.mask(i)
        assert inside.sum() == row["size"]
        assert row["mean_loss"] == pytest.approx(errors[inside].mean())
        assert row["rest_loss"] == pytest.approx(errors[~inside].mean())
        ref = scipy.stats.ttest_ind(errors[inside], errors[~inside], equal_var=False, alternative="greater")
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
        a, b = errors[inside], errors[~inside]
        phi = (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        assert row["effect_size"] == pytest.approx(phi, rel=1e-9)
    bh = scipy.stats.false_discovery_control(result.top["p_value"]) <= 0.05
    np.testing.assert_array_equal(result.top["significant"], bh)


@pytest.mark.parametrize("fdr,name,q", [("alpha_investing", "α-investing", 0.01),
                                        ("benjamini_hochberg", "Benjamini–Hochberg", 0.05)])
def test_significant_slices_have_p_below_the_stated_level(adult, fdr, name, q):
    """On Adult, a slice is significant exactly when p ≤ its level_used, the level is the one
    the rule prescribes (recomputed here by hand), and the table says which rule at which level.
    Small slices of 1,000 rows (alpha=1 ranks by loss alone) give p-values on both sides."""
    result = rai_nb.slices(adult.iloc[:1000], target="income", prediction="prediction", k=10,
                           max_l=2, min_sup=5, alpha=1.0, fdr=fdr, significance=q)
    top = result.top
    p, level = top["p_value"].to_numpy(), top["level_used"].to_numpy()
    np.testing.assert_array_equal(top["significant"], p <= level)
    assert top["significant"].any() and not top["significant"].all()
    if fdr == "benjamini_hochberg":
        expected = scipy.stats.false_discovery_control(p) <= q
        np.testing.assert_array_equal(top["significant"], expected)
        np.testing.assert_allclose(level, q * expected.sum() / len(p))
    else:
        run = int(np.argmin(top["significant"]))  # the first acceptance spends the wealth
        wealth = q * np.arange(1, run + 2)
        np.testing.assert_allclose(level[:run + 1], wealth / (1 + wealth))
        assert np.isnan(level[run + 1:]).all() and not top["significant"][run:].any()
    section = result.sections()[0]
    assert f"{name} at {q}" in section.text and "p_value ≤ level_used" in section.text
    assert name in section.notes["significant"] and "level_used" in section.table.columns
    assert f"{name} at {q}" in result.to_markdown()


def test_model_losses_match_sklearn(adult):
    features = adult.drop(columns=["income", "prediction"])
    numeric = features.select_dtypes("number")
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(numeric, adult["income"])
    data = pd.concat([numeric, adult[["income"]]], axis=1)
    error = rai_nb.slices(data, model=model, target="income", k=3, max_l=2)
    assert error.average_loss == pytest.approx((model.predict(numeric) != adult["income"]).mean())
    logloss = rai_nb.slices(data, model=model, target="income", loss="log_loss", k=3, max_l=2)
    proba = model.predict_proba(numeric)
    assert logloss.average_loss == pytest.approx(log_loss(adult["income"], proba))


@pytest.mark.parametrize("loss", ["false_positive_rate", "false_negative_rate", "selection_rate"])
def test_fairness_objectives_are_rates(adult, loss):
    result = rai_nb.slices(adult, target="income", prediction="prediction", loss=loss, k=3, max_l=2)
    y, pred = adult["income"].to_numpy(), adult["prediction"].to_numpy()

    def rate(rows):
        tn, fp, fn, tp = confusion_matrix(y[rows], pred[rows], labels=[0, 1]).ravel()
        return {"false_positive_rate": fp / (fp + tn), "false_negative_rate": fn / (fn + tp),
                "selection_rate": 1 - (tp + fp) / rows.sum()}[loss]

    assert result.average_loss == pytest.approx(rate(np.ones(len(y), dtype=bool)))
    for i in range(len(result.top)):
        assert result.top["mean_loss"].iloc[i] == pytest.approx(rate(result.mask(i)))


def test_renders_everywhere(adult):
    result = rai_nb.slices(adult, target="income", prediction="prediction", k=3, max_l=2)
    bundle = result._repr_mimebundle_()
    assert "<svg" in bundle["text/html"] and "<script" not in bundle["text/html"]
    assert "Top slices" in bundle["text/markdown"]
    report = json.loads(result.to_json())
    assert report["kind"] == "slices" and report["summary"]["slices"] == len(result.top)
    assert str(result).startswith("Problem slices by error")


def test_does_not_mutate_inputs(adult):
    data = adult.copy()
    errors = (adult["income"] != adult["prediction"]).to_numpy(np.float64)
    kept = errors.copy()
    rai_nb.slices(data, errors=errors, features=["sex", "race"] if "sex" in data else None, k=2)
    pd.testing.assert_frame_equal(data, adult)
    np.testing.assert_array_equal(errors, kept)


def frame_with(values, n=20):
    return pd.DataFrame({"g": ["a", "b"] * (n // 2), "x": values})


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(errors=[np.nan] + [1.0] * 19), "missing or non-finite"),
    (dict(errors=[-1.0] + [1.0] * 19), "negative"),
    (dict(errors=[1.0] * 5), "has 5 rows but the data has 20"),
    (dict(errors="nope"), "'nope' given as errors is not in the data"),
    (dict(errors="g"), "must be numeric"),
    (dict(errors=[1.0] * 20, alpha=0), "alpha"),
    (dict(errors=[1.0] * 20, k=0), "k must be a positive integer"),
    (dict(errors=[1.0] * 20, max_l=1.5), "max_l must be a positive integer"),
    (dict(errors=[1.0] * 20, min_sup=-1), "min_sup"),
    (dict(errors=[1.0] * 20, loss="auc"), "loss must be one of"),
    (dict(errors=[1.0] * 20, fdr="bonferroni"), "fdr must be one of"),
    (dict(errors=[1.0] * 20, features=["zzz"]), "'zzz' given as features"),
    (dict(errors=[1.0] * 20, features=[]), "no column"),
    (dict(errors=[1.0] * 20, bins={"x": [5, 1]}), "increasing list"),
    (dict(errors=[1.0] * 20, bins={"x": [0, 3]}), "outside the bin edges"),
    (dict(target="g"), "exactly one of model= and prediction="),
    (dict(), "pass errors="),
])
def test_bad_input_is_a_rai_error(kwargs, match):
    with pytest.raises(RaiError, match=match):
        rai_nb.slices(frame_with(np.arange(20.0)), **kwargs)


def test_degenerate_inputs_give_well_formed_results():
    constant = rai_nb.slices(frame_with(np.ones(20)), errors=np.r_[np.tile([1.0, 0.0], 3), np.zeros(14)],
                             min_sup=1)
    assert len(constant.top) >= 1 and "x" not in constant.top["slice"].iloc[0]
    zero = rai_nb.slices(frame_with(np.arange(20.0)), errors=np.zeros(20))
    assert zero.top.empty and "No slice" in zero.to_markdown()
    assert zero.summary()["slices"] == 0 and json.loads(zero.to_json())
    huge = rai_nb.slices(frame_with(np.arange(20.0)), errors=np.r_[np.ones(5), np.zeros(15)], k=10_000,
                         min_sup=1)
    assert 0 < len(huge.top) < 10_000
    with pytest.raises(RaiError, match="slice index"):
        huge.mask(len(huge.top))
    with pytest.raises(RaiError, match="pass errors"):
        rai_nb.slices(pd.DataFrame({"g": ["a"]}))
    with pytest.raises(RaiError, match="no rows"):
        rai_nb.slices(pd.DataFrame({"g": []}), errors=[])


def test_quantile_bins_isolate_a_dominant_value():
    rng = np.random.default_rng(0)
    gain = pd.Series(np.where(rng.random(2000) < 0.9, 0, rng.integers(100, 10_000, 2000)))
    column = encode_feature("capital_gain", gain, 10)
    assert column.levels[0] == 0 and all(isinstance(v, pd.Interval) for v in column.levels[1:])
    assert describe_predicate("capital_gain", column.levels[0]) == "capital_gain = 0"
    hours = pd.Series(np.r_[np.full(500, 40), np.arange(1, 501) % 99 + 1])
    levels = encode_feature("hours", hours, 10).levels
    around = [v for v in levels if isinstance(v, pd.Interval) and v.left <= 40 <= v.right]
    assert 40 in levels and all(40 not in v for v in around)
    assert describe_predicate("age", pd.Interval(37, 45, "left")) == "age in [37, 45)"
    assert describe_predicate("w", None) == "w is missing"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5), st.floats(-1e3, 1e3), st.just(np.nan)), min_size=1,
                max_size=60), st.integers(2, 6))
def test_every_level_reads_back_its_rows(values, n_bins):
    series = pd.Series(values, dtype=np.float64)
    column = encode_feature("v", series, n_bins)
    for code, level in enumerate(column.levels):
        np.testing.assert_array_equal(level_mask(series, level), column.codes == code)


#: Slice statistics that must not depend on whether a row is weighted w or repeated w times.
_SAME = ["level", "size", "mean_loss", "rest_loss", "score", "effect_size", "p_value"]


def fixed_bins(frame, columns):
    """Quantile edges of the original rows, so a repeated frame is binned the same way."""
    return {c: np.unique(np.quantile(frame[c], np.linspace(0, 1, 6))) for c in columns}


def assert_same_as_repeated(weighted, repeated, weights, defined=None):
    """``defined``: the rows the loss is defined on (default: all)."""
    defined = np.ones(len(weights), dtype=bool) if defined is None else defined
    assert weighted.top["predicates"].tolist() == repeated.top["predicates"].tolist()
    np.testing.assert_allclose(weighted.top[_SAME].to_numpy(np.float64),
                               repeated.top[_SAME].to_numpy(np.float64), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(weighted.top["significant"], repeated.top["significant"])
    assert weighted.average_loss == pytest.approx(repeated.average_loss, rel=1e-12)
    assert weighted.total_weight == pytest.approx(weights[defined].sum(), rel=1e-12)
    assert weighted.n_rows == defined.sum()
    assert weighted.min_sup == repeated.min_sup and repeated.total_weight is None
    for i in range(len(weighted.top)):
        inside = weighted.mask(i) & defined
        assert weighted.top["rows"].iloc[i] == inside.sum()
        assert weighted.top["size"].iloc[i] == pytest.approx(weights[inside].sum(), rel=1e-12)


@pytest.mark.parametrize(("loss", "min_sup"), [("error", 60), ("false_negative_rate", 0.02),
                                               ("selection_rate", 30)])
def test_integer_weights_equal_repeated_rows_on_adult(adult, loss, min_sup):
    weights = np.random.default_rng(1).integers(0, 4, len(adult))
    bins = fixed_bins(adult, adult.select_dtypes("number").columns.drop(["prediction", "income"]))
    options = dict(target="income", prediction="prediction", loss=loss, bins=bins, k=8, max_l=2,
                   min_sup=min_sup)
    weighted = rai_nb.slices(adult.assign(w=weights), sample_weight="w", **options)
    repeated = rai_nb.slices(adult.loc[adult.index.repeat(weights)].reset_index(drop=True),
                             **options)
    assert len(weighted.top) >= 8  # ties with the 8th are kept
    defined = (adult["income"] == 1).to_numpy() if loss == "false_negative_rate" else None
    assert_same_as_repeated(weighted, repeated, weights, defined)
    assert "w" not in {c for p in weighted.top["predicates"] for c in p}


def test_integer_weights_equal_repeated_rows_with_a_continuous_loss(adult):
    rng = np.random.default_rng(2)
    data = adult[["sex", "race", "relationship", "age"]].assign(
        loss=np.where(adult["income"] != adult["prediction"], rng.gamma(2.0, 1.0, len(adult)), 0.0))
    weights = rng.integers(1, 5, len(adult))
    options = dict(errors="loss", bins=fixed_bins(data, ["age"]), k=6, max_l=3, min_sup=25)
    weighted = rai_nb.slices(data, sample_weight=weights, **options)
    repeated = rai_nb.slices(data.loc[data.index.repeat(weights)].reset_index(drop=True), **options)
    assert_same_as_repeated(weighted, repeated, weights)
    assert weighted.evaluated == repeated.evaluated


@st.composite
def weighted_frames(draw):
    n = draw(st.integers(1, 30))
    column = st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)
    frame = pd.DataFrame({"f": draw(column), "g": draw(column), "h": draw(column),
                          "e": draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))})
    frame["e"] = frame["e"] / 4  # dyadic losses: every sum exact, so ties stay ties
    weights = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    params = dict(alpha=draw(st.floats(0.6, 1.0)), k=draw(st.integers(1, 5)),
                  max_l=draw(st.integers(1, 3)), min_sup=draw(st.integers(0, 5)))
    return frame, weights, params


@settings(max_examples=60, deadline=None)
@given(weighted_frames())
def test_integer_weights_equal_repeated_rows_on_random_frames(problem):
    frame, weights, params = problem
    if not weights.any():
        with pytest.raises(RaiError, match=r"sample_weight .* zero on every row"):
            rai_nb.slices(frame, errors="e", sample_weight=weights, **params)
        return
    weighted = rai_nb.slices(frame, errors="e", sample_weight=weights, **params)
    repeated = rai_nb.slices(frame.loc[frame.index.repeat(weights)].reset_index(drop=True),
                             errors="e", **params)
    assert_same_as_repeated(weighted, repeated, weights)


def weighted_welch(x, w, y, v):
    """Welch's one-sided test with frequency weights, written out from its definition."""
    def moments(values, weights):
        n = weights.sum()
        mean = (weights * values).sum() / n
        return n, mean, (weights * (values - mean) ** 2).sum() / (n - 1)

    (n1, m1, s1), (n2, m2, s2) = moments(x, w), moments(y, v)
    t = (m1 - m2) / np.sqrt(s1 / n1 + s2 / n2)
    df = (s1 / n1 + s2 / n2) ** 2 / ((s1 / n1) ** 2 / (n1 - 1) + (s2 / n2) ** 2 / (n2 - 1))
    return scipy.stats.t.sf(t, df), (m1 - m2) / np.sqrt((s1 + s2) / 2)


@pytest.mark.parametrize("seed", range(4))
def test_fractional_weights_match_a_weighted_brute_force(seed):
    import itertools

    rng = np.random.default_rng(seed)
    n = 60
    frame = pd.DataFrame({"f": rng.choice(list("abc"), n), "g": rng.choice(list("xy"), n),
                          "h": rng.choice(list("pqr"), n)})
    errors = rng.gamma(1.5, 1.0, n) * (rng.random(n) < 0.5)
    weights = rng.uniform(0.2, 3.0, n) * (rng.random(n) < 0.9)
    result = rai_nb.slices(frame, errors=errors, sample_weight=weights, alpha=0.98, k=4, max_l=2,
                           min_sup=3)
    total, average = weights.sum(), (weights * errors).sum() / weights.sum()
    found = {}
    for width in (1, 2):
        for columns in itertools.combinations(frame.columns, width):
            for values in itertools.product(*(sorted(frame[c].unique()) for c in columns)):
                inside = np.all(frame[list(columns)].to_numpy() == values, axis=1)
                size = weights[inside].sum()
                mean = (weights * errors)[inside].sum() / size if size else 0.0
                if size >= 3 and mean > 0:
                    score = 0.98 * (mean / average - 1) - 0.02 * (total / size - 1)
                    found[tuple(zip(columns, values))] = (score, size, mean, inside)
    best = sorted((item for item in found.items() if item[1][0] > 1e-9), key=lambda item: -item[1][0])
    assert len(result.top) == min(4, len(best)) > 0
    for (_, (score, size, mean, inside)), (_, row) in zip(best, result.top.iterrows()):
        assert (row["score"], row["size"], row["mean_loss"]) == pytest.approx((score, size, mean),
                                                                               rel=1e-12)
        assert row["rows"] == inside.sum()
        rest = (weights * errors)[~inside].sum() / weights[~inside].sum()
        assert row["rest_loss"] == pytest.approx(rest, rel=1e-12)
        p, phi = weighted_welch(errors[inside], weights[inside], errors[~inside], weights[~inside])
        assert (row["p_value"], row["effect_size"]) == pytest.approx((p, phi), rel=1e-9)


@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_dask_weighted_slices_equal_pandas(adult, npartitions):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    data = adult[["sex", "race", "relationship", "age", "hours_per_week", "income",
                  "prediction"]].assign(w=np.random.default_rng(3).uniform(0, 2, len(adult)))
    options = dict(target="income", prediction="prediction", sample_weight="w", k=6, max_l=2,
                   min_sup=0.02)
    expected = rai_nb.slices(data, **options)
    with dask.config.set(scheduler="synchronous"):
        got = rai_nb.slices(dd.from_pandas(data, npartitions=npartitions), **options)
    pd.testing.assert_frame_equal(got.top, expected.top, atol=1e-12, rtol=1e-12)
    assert got.total_weight == pytest.approx(expected.total_weight, rel=1e-12)
    assert (got.n_rows, got.min_sup, got.evaluated) == (expected.n_rows, expected.min_sup,
                                                        expected.evaluated)


@pytest.mark.parametrize(("weights", "match"), [
    ([-1.0] + [1.0] * 19, r"sample_weight \('sample_weight'\) has 1 negative"),
    ([np.nan] + [1.0] * 19, r"sample_weight \('sample_weight'\) has 1 missing or non-finite"),
    ([np.inf] + [1.0] * 19, "missing or non-finite"),
    ([0.0] * 20, "zero on every row"),
    ([1.0] * 5, "sample_weight has 5 rows but the data has 20"),
    ("nope", "'nope' given as sample_weight is not in the data"),
    ("g", r"sample_weight \('g'\) must hold numbers"),
])
def test_bad_weights_are_a_rai_error(weights, match):
    with pytest.raises(RaiError, match=match):
        rai_nb.slices(frame_with(np.arange(20.0)), errors=[1.0] * 20, sample_weight=weights)


def test_weights_zero_on_the_rows_of_a_rate_loss_are_refused():
    frame = pd.DataFrame({"g": list("abab"), "y": [0, 0, 1, 1], "p": [1, 0, 1, 1]})
    with pytest.raises(RaiError, match=r"sample_weight \('w'\) is zero on every row the loss"):
        rai_nb.slices(frame.assign(w=[0, 0, 1, 1]), target="y", prediction="p",
                      loss="false_positive_rate", sample_weight="w", min_sup=1)


def test_dask_weights_must_name_a_column():
    dd = pytest.importorskip("dask.dataframe")
    lazy = dd.from_pandas(frame_with(np.arange(20.0)).assign(e=1.0, w=-1.0), npartitions=2)
    with pytest.raises(RaiError, match="sample_weight must name columns"):
        rai_nb.slices(lazy, errors="e", sample_weight=np.ones(20))
    with pytest.raises(RaiError, match=r"sample_weight \('w'\) has 10 negative"):
        rai_nb.slices(lazy, errors="e", sample_weight="w")
    with pytest.raises(RaiError, match="zero on every row"):
        rai_nb.slices(lazy.assign(w=0.0), errors="e", sample_weight="w")


def test_weighted_result_renders_its_weight(adult):
    weights = np.random.default_rng(4).uniform(0, 2, len(adult))
    result = rai_nb.slices(adult, target="income", prediction="prediction", sample_weight=weights,
                           k=3, max_l=2)
    assert result.top["size"].dtype == np.float64 and result.top["rows"].dtype == np.int64
    assert "total weight" in result.to_markdown()
    assert "rows in the slice, unweighted" in result.to_html()
    assert json.loads(result.to_json())["summary"]["total_weight"] == pytest.approx(weights.sum())
    plain = rai_nb.slices(adult, target="income", prediction="prediction", k=3, max_l=2)
    assert plain.top["size"].dtype == np.int64 and (plain.top["rows"] == plain.top["size"]).all()
    assert "total weight" not in plain.to_markdown() and "total_weight" not in plain.summary()


def test_audit_passes_weights_to_its_slices(adult):
    numeric = adult.select_dtypes("number").drop(columns=["prediction"])
    data = numeric.assign(sex=adult["sex"], w=np.random.default_rng(5).integers(1, 4, len(adult)))
    features = [c for c in numeric.columns if c != "income"]
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data[features], data["income"])
    result = rai_nb.audit(model, data, target="income", sensitive="sex", sample_weight="w",
                          features=features, explain=False, n_boot=10, progress=False)
    assert result.slices.total_weight == pytest.approx(data["w"].sum())
    assert "w" not in {c for p in result.slices.top["predicates"] for c in p}
