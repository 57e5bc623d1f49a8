"""Property-based fuzzing of frames through every public entry point: each call ends in a
result or a RaiError — never another exception — and never changes its input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rai_nb

N_ROWS = 40


def _column(kind: str, rng: np.random.Generator, n: int) -> pd.Series:
    if kind == "float":
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        values[rng.random(n) < 0.05] = np.inf
        return pd.Series(values)
    if kind == "int":
        return pd.Series(rng.integers(-3, 3, n))
    if kind == "nullable":
        return pd.Series(rng.integers(0, 4, n), dtype="Int64").mask(rng.random(n) < 0.1)
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.5)
    if kind == "category":
        return pd.Series(pd.Categorical(rng.choice(["a", "b", "c"], n), categories=list("abcd")))
    if kind == "text":
        return pd.Series(rng.choice(["x", "y", None, "<b>z</b>"], n), dtype=object)
    if kind == "mixed":
        return pd.Series(rng.choice(np.array([1, "one", 2.5, None], dtype=object), n))
    if kind == "datetime":
        return pd.Series(pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"))
    return pd.Series(np.zeros(n))  # "constant"


KINDS = ["float", "int", "nullable", "bool", "category", "text", "mixed", "datetime", "constant"]
NAMES = ["a", "b c", "constructor", "|x|", "<i>", "ünï", "1"]


@st.composite
def frames(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.sampled_from([1, 2, 7, N_ROWS]))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=len(kinds), max_size=len(kinds),
                          unique=True))
    data = pd.DataFrame({name: _column(kind, rng, n) for name, kind in zip(names, kinds)})
    data["target"] = rng.integers(0, 2, n)
    data["group"] = rng.choice(["p", "q"], n)
    data["pred"] = rng.integers(0, 2, n)
    return data


def _calls(data: pd.DataFrame) -> dict:
    features = [c for c in data.columns if c not in ("target", "group", "pred")]
    return {
        "bias": lambda: rai_nb.bias(data, target="target", prediction="pred", sensitive="group",
                                    n_boot=3),
        "slices": lambda: rai_nb.slices(data.drop(columns="pred"), target="target",
                                        prediction=data["pred"].to_numpy(), max_l=2, min_sup=1),
        "validate": lambda: rai_nb.validate(data, target="target", sensitive="group"),
        "validate with reference": lambda: rai_nb.validate(data, reference=data.iloc[::-1],
                                                           target="target"),
        "drift": lambda: rai_nb.drift(data, data.sample(frac=1.0, random_state=0)),
        "explain (kernel)": lambda: rai_nb.explain(_Echo(features), data[features][:3],
                                                   method="kernel", nsamples=16,
                                                   progress=False),
    }


class _Echo:
    """A model that can predict anything: the number of non-missing cells of a row."""

    def __init__(self, features):
        self.features = features

    def predict(self, X):
        return np.asarray(pd.DataFrame(X).notna().sum(axis=1), dtype=np.float64)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.sampled_from(["bias", "slices", "validate", "validate with reference",
                                  "drift", "explain (kernel)"]))
def test_any_frame_gives_a_result_or_a_rai_error(data, entry):
    before = data.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party noise on odd dtypes is not the point here
        try:
            _calls(data)[entry]()
        except rai_nb.RaiError:
            pass
    pd.testing.assert_frame_equal(data, before)
