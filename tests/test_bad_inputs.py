"""Messy input everywhere: a correct result or a RaiError naming the argument or column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

import rai_nb

RNG = np.random.default_rng(0)
N = 200


def frame(**changes):
    """The same small valid frame at every call, with some columns replaced."""
    rng = np.random.default_rng(0)
    base = pd.DataFrame({
        "x1": rng.normal(size=N), "x2": rng.normal(size=N),
        "sex": rng.choice(["F", "M"], N), "race": rng.choice(["a", "b", "c"], N),
        "y": rng.integers(0, 2, N), "pred": rng.integers(0, 2, N),
        "score": rng.random(N),
    })
    return base.assign(**changes)


MODEL = LogisticRegression().fit(frame()[["x1", "x2"]], frame()["y"])


def bias(**kwargs):
    arguments = dict(target="y", prediction="pred", sensitive="sex") | kwargs
    data = arguments.pop("data", frame())
    return rai_nb.bias(data, **arguments)


BIAS_ERRORS = {
    "empty frame": (lambda: bias(data=frame().iloc[:0]), "data has no rows"),
    "not a frame": (lambda: rai_nb.bias([1, 2], target="y", sensitive="s"), "Dask or Spark DataFrame"),
    "missing target": (lambda: bias(target="income"), "'income'.*target"),
    "missing sensitive": (lambda: bias(sensitive=["sex", "nope"]), "'nope'.*sensitive"),
    "short prediction": (lambda: bias(prediction=np.ones(5)), "prediction has 5 rows"),
    "NaN label": (lambda: bias(data=frame(y=[np.nan] + [1] * (N - 1))), "target.*missing"),
    "inf score": (lambda: bias(score=np.r_[np.inf, RNG.random(N - 1)]), "score.*non-finite"),
    "NaN prediction": (lambda: bias(data=frame(pred=[np.nan] + [1] * (N - 1))),
                       "prediction.*missing"),
    "NaN sensitive": (lambda: bias(data=frame(sex=[None] + ["F"] * (N - 1))), "sensitive.*missing"),
    "one class": (lambda: bias(data=frame(y=1)), "single class"),
    "unknown positive label": (lambda: bias(positive_label="yes"), "positive_label 'yes'"),
    "string labels without positive": (lambda: bias(data=frame(y="no", pred="no").assign(
        y=RNG.choice(["no", "yes"], N))), "positive_label="),
    "one facet value": (lambda: bias(data=frame(sex="F")), "single value"),
    "huge cardinality": (lambda: _huge(), "sensitive column 'id' has 200 distinct values"),
    "scores as predictions": (lambda: bias(prediction="score"), "pass predicted classes"),
    "bad n_boot": (lambda: bias(n_boot=-3), "n_boot"),
    "bad ci": (lambda: bias(ci=0), "ci must"),
    "empty sensitive list": (lambda: bias(sensitive=[]), "at least one"),
    "sensitive as a set": (lambda: bias(sensitive={"sex", "race"}), "is a set.*list"),
    "boolean n_boot": (lambda: bias(n_boot=True), "n_boot must be a non-negative integer"),
    "duplicate column names": (lambda: bias(data=frame().rename(columns={"race": "sex"})),
                               "more than once"),
}


def _huge():
    with rai_nb.config_context(max_groups=100):
        return bias(sensitive="id", data=frame(id=np.arange(N).astype(str)))


@pytest.mark.parametrize("case", BIAS_ERRORS, ids=list(BIAS_ERRORS))
def test_bias_bad_inputs(case):
    call, message = BIAS_ERRORS[case]
    with pytest.raises(rai_nb.RaiError, match=message):
        call()


OTHER_ERRORS = {
    "slices: NaN losses": (lambda: rai_nb.slices(frame(), errors=np.r_[np.nan, np.ones(N - 1)]),
                           "errors"),
    "slices: negative losses": (lambda: rai_nb.slices(frame(), errors=-np.ones(N)), "errors"),
    "slices: short errors": (lambda: rai_nb.slices(frame(), errors=np.ones(3)), "3 rows"),
    "slices: bad alpha": (lambda: rai_nb.slices(frame(), errors="score", alpha=2), "alpha"),
    "slices: huge max_l": (lambda: rai_nb.slices(frame(), errors="score", max_l=0), "max_l"),
    "explain: wrong columns": (lambda: rai_nb.explain(MODEL, frame()[["x1"]], method="linear"),
                               "columns|features"),
    "explain: unknown method": (lambda: rai_nb.explain(MODEL, frame()[["x1", "x2"]],
                                                       method="magic"), "method"),
    "explain: unfitted model": (lambda: rai_nb.explain(LinearSVC(), frame()[["x1", "x2"]],
                                                       method="kernel", progress=False),
                                "failed to predict"),
    "validate: missing target": (lambda: rai_nb.validate(frame(), target="nope"), "'nope'"),
    "validate: unknown check": (lambda: rai_nb.validate(frame(), checks=["nope"]), "nope"),
    "drift: no shared columns": (lambda: rai_nb.drift(frame()[["x1"]], frame()[["x2"]]),
                                 "share no column"),
    "drift: unknown column": (lambda: rai_nb.drift(frame(), frame(), columns=["x1", "zz"]),
                              "'zz' given as columns"),
    "audit: model that raises": (lambda: rai_nb.audit(_Raises(), frame(), target="y",
                                                      sensitive="sex", progress=False),
                                 "failed to predict: RuntimeError"),
    "audit: no predict": (lambda: rai_nb.audit(object(), frame(), target="y", sensitive="sex",
                                               progress=False), "predict method"),
    "audit: sample=0": (lambda: rai_nb.audit(MODEL, frame(), target="y", sensitive="sex",
                                             features=["x1", "x2"], sample=0, progress=False),
                        "sample .rows explained. must be a positive integer"),
    "audit: card not a dict": (lambda: rai_nb.audit(
        MODEL, frame(), target="y", sensitive="sex", features=["x1", "x2"], card=["a"],
        explain=False, progress=False), "card must be a dict"),
    "validate: MultiIndex columns": (lambda: rai_nb.validate(frame().set_axis(
        pd.MultiIndex.from_tuples([(c, "v") for c in frame().columns]), axis=1)),
        "MultiIndex .tuple. column names; flatten them"),
    "validate: list cells": (lambda: rai_nb.validate(frame(tags=[[1, 2]] * N), target="y"),
                             "'tags' holds list cells"),
    "drift: dict cells": (lambda: rai_nb.drift(frame(meta=[{"a": 1}] * N), frame()),
                          "'meta' holds dict cells"),
    "slices: list cells": (lambda: rai_nb.slices(frame(tags=[[1]] * N), errors="score"),
                           "features column 'tags' holds list cells"),
    "audit: boolean n_boot": (lambda: rai_nb.audit(
        MODEL, frame(), target="y", sensitive="sex", features=["x1", "x2"], n_boot=True,
        explain=False, progress=False), "n_boot must be"),
    "flip test: regressor labels": (lambda: rai_nb.flip_test(
        LinearRegression().fit(frame()[["x1", "x2"]], frame()["score"]), frame(),
        sensitive="sex", features=["x1", "x2"]), "binary classifier"),
}


class _Raises:
    def predict(self, X):
        raise RuntimeError("boom")


@pytest.mark.parametrize("case", OTHER_ERRORS, ids=list(OTHER_ERRORS))
def test_other_bad_inputs(case):
    call, message = OTHER_ERRORS[case]
    with pytest.raises(rai_nb.RaiError, match=message):
        call()


CORRECT = {
    "one row per group": lambda: bias(data=frame().iloc[:2].assign(sex=["F", "M"], y=[0, 1])),
    "nullable dtypes": lambda: bias(data=frame().astype({"y": "Int64", "pred": "Int64",
                                                         "sex": "string"})),
    "boolean labels": lambda: bias(data=frame().astype({"y": "boolean", "pred": bool})),
    "unused categories": lambda: bias(data=frame(sex=pd.Categorical(
        RNG.choice(["F", "M"], N), categories=["F", "M", "X"]))),
    "integer column names": lambda: rai_nb.bias(frame().set_axis(range(7), axis=1), target=4,
                                                prediction=5, sensitive=2),
    "all predictions negative": lambda: bias(data=frame(pred=0)),
    "huge k": lambda: rai_nb.slices(frame(), errors="score", k=10_000, max_l=2),
    "all-zero losses": lambda: rai_nb.slices(frame(), errors=np.zeros(N)),
    "sensitive as a pandas Index": lambda: bias(sensitive=frame()[["sex", "race"]].columns),
    "time-zone aware datetimes, validate": lambda: rai_nb.validate(
        frame(when=pd.date_range("2024-01-01", periods=N, freq="h", tz="Europe/Paris")),
        reference=frame(when=pd.date_range("2024-01-01", periods=N, freq="h", tz="UTC")),
        target="y"),
    "time-zone aware datetimes, drift": lambda: rai_nb.drift(
        frame(when=pd.date_range("2024-01-01", periods=N, freq="D", tz="UTC")),
        frame(when=pd.date_range("2024-03-01", periods=N, freq="D", tz="UTC"))),
    "time-zone aware datetimes, slices": lambda: rai_nb.slices(
        frame(when=pd.date_range("2024-01-01", periods=N, freq="h", tz="UTC")), errors="score"),
    "all-NaN column, validate": lambda: rai_nb.validate(frame(x2=np.nan), target="y"),
    "all-NaN column, validate with reference": lambda: rai_nb.validate(
        frame(x2=np.nan), reference=frame(), target="y", sensitive="sex"),
    "only an all-NaN feature": lambda: rai_nb.validate(frame()[["y"]].assign(x=np.nan),
                                                       target="y"),
    "all-NaN column, audit": lambda: rai_nb.audit(MODEL, frame(race=np.nan), target="y",
                                                  sensitive="sex", features=["x1", "x2"],
                                                  n_boot=0, progress=False),
}


@pytest.mark.parametrize("case", CORRECT, ids=list(CORRECT))
def test_awkward_but_valid_inputs_give_results(case):
    result = CORRECT[case]()
    assert result.to_json()


def test_nullable_and_plain_dtypes_agree():
    plain = bias()
    nullable = bias(data=frame().astype({"y": "Int64", "pred": "Int64", "sex": "string"}))
    pd.testing.assert_frame_equal(plain.by_group, nullable.by_group)


def test_unused_categories_do_not_become_groups():
    result = bias(data=frame(sex=pd.Categorical(RNG.choice(["F", "M"], N),
                                                categories=["F", "M", "X"])))
    assert list(result.by_group.index) == ["F", "M"]


def test_polars_input_names_the_argument():
    pl = pytest.importorskip("polars")
    data = pl.from_pandas(frame())
    calls = [lambda: rai_nb.bias(data, target="y", sensitive="sex"),
             lambda: rai_nb.slices(data, errors="score"),
             lambda: rai_nb.validate(data, target="y"),
             lambda: rai_nb.drift(data, data),
             lambda: rai_nb.audit(MODEL, data, target="y", sensitive="sex", progress=False)]
    for call in calls:
        with pytest.raises(rai_nb.RaiError, match=r"must be a pandas, Dask or Spark DataFrame"):
            call()


class ColumnPredictions:
    """A Keras-style model: predict returns (n, 1)."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return (np.asarray(X)[:, :1] > 0).astype(int)


class ShortPredictions(ColumnPredictions):
    def predict(self, X):
        return np.zeros(len(X) - 1, int)


def test_keras_style_column_predictions_are_one_per_row():
    data = frame()
    result = rai_nb.audit(ColumnPredictions(), data, target="y", sensitive="sex",
                          features=["x1", "x2"], explain=False, n_boot=0, progress=False)
    expected = rai_nb.bias(data.assign(p=(data["x1"] > 0).astype(int)), target="y",
                           prediction="p", sensitive="sex")
    pd.testing.assert_frame_equal(result.bias.by_group, expected.by_group)


def test_predictions_of_the_wrong_length_are_refused():
    with pytest.raises(rai_nb.RaiError, match=r"predict returned shape \(199,\) for 200 rows"):
        rai_nb.audit(ShortPredictions(), frame(), target="y", sensitive="sex",
                     features=["x1", "x2"], explain=False, n_boot=0, progress=False)


def test_slices_refuse_predictions_in_other_labels_than_the_target():
    data = frame()
    model = LogisticRegression().fit(data[["x1", "x2"]], np.where(data["y"] == 1, "yes", "no"))
    with pytest.raises(rai_nb.RaiError, match=r"values \['no', 'yes'\] that never occur in target"):
        rai_nb.slices(data, model=model, target="y", features=["sex", "race"])


def test_audit_slices_over_the_models_inputs_and_sensitive_columns_only():
    data = frame(customer_id=[f"c{i}" for i in range(N)], note=RNG.choice(["u", "v"], N))
    with rai_nb.config_context(max_groups=100):
        result = rai_nb.audit(MODEL, data, target="y", sensitive="sex", features=["x1", "x2"],
                              explain=False, n_boot=0, progress=False)
    # An ID outside the features used to stop the audit (too many groups); now it is left out,
    # and so is every other column the model does not take.
    sliced = {column for predicates in result.slices.top["predicates"] for column in predicates}
    assert sliced <= {"x1", "x2", "sex"}
