"""Nothing the user passes in is changed, and nothing they wrote reaches HTML unescaped."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import rai_nb

EVIL = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
FEATURES = ["age", "priors_count", "juv_fel_count"]


def fingerprint(obj) -> str:
    if isinstance(obj, pd.DataFrame):
        payload = pickle.dumps((obj.to_dict("list"), list(obj.columns), list(map(str, obj.dtypes)),
                                list(obj.index)))
    else:
        payload = pickle.dumps(obj)
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture(scope="module")
def world():
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", "two_year_recid"]].copy()
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
        compas[FEATURES], compas["two_year_recid"])
    errors = (model.predict(compas[FEATURES]) != compas["two_year_recid"]).to_numpy(float)
    return {"df": compas, "train": compas.iloc[:3000].copy(), "test": compas.iloc[3000:].copy(),
            "clf": model, "errors": errors}


CALLS = {
    "bias": lambda w: rai_nb.bias(w["df"], target="two_year_recid", sensitive="race",
                                  prediction=w["clf"].predict(w["df"][FEATURES]), n_boot=5),
    "slices": lambda w: rai_nb.slices(w["df"], errors=w["errors"], max_l=2),
    "explain": lambda w: rai_nb.explain(w["clf"], w["df"][FEATURES][:50]),
    "kernel explain": lambda w: rai_nb.explain(w["clf"], w["df"][FEATURES][:3], method="kernel",
                                               nsamples=50, progress=False),
    "validate": lambda w: rai_nb.validate(w["test"], reference=w["train"],
                                          target="two_year_recid", sensitive="race"),
    "drift": lambda w: rai_nb.drift(w["train"], w["test"]),
    "audit": lambda w: rai_nb.audit(w["clf"], w["test"], target="two_year_recid",
                                    sensitive="race", reference=w["train"], features=FEATURES,
                                    sample=50, n_boot=5, progress=False),
    "flip test": lambda w: rai_nb.flip_test(w["clf"], w["df"], sensitive="race",
                                            features=FEATURES),
}


@pytest.mark.parametrize("name", CALLS)
def test_api_calls_mutate_nothing(world, name):
    before = {key: fingerprint(value) for key, value in world.items()}
    CALLS[name](world)
    assert {key: fingerprint(value) for key, value in world.items()} == before


MAGICS = [
    ("audit", "clf test --target two_year_recid --sensitive race --reference train --sample 50 "
              "--n-boot 5"),
    ("slices", "clf df --target two_year_recid --max-l 2"),
    ("explain", "clf df[['age','priors_count','juv_fel_count']][:20]"),
    ("validate", "test --reference train --target two_year_recid"),
    ("drift", "train test"),
]


@pytest.mark.parametrize("magic,line", MAGICS, ids=[m for m, _ in MAGICS])
def test_magics_mutate_nothing(world, magic, line, ipython_shell):
    shell = ipython_shell
    shell.user_ns.update(world)
    before = {key: fingerprint(value) for key, value in world.items()}
    shell.run_line_magic(magic, line)
    assert {key: fingerprint(shell.user_ns[key]) for key in world} == before


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame({
        EVIL: rng.choice([IMG, "| **bold** |", "[link](javascript:x)"], n),
        "y": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n), IMG: rng.normal(size=n),
    })


RENDERED = {
    "bias": lambda f: rai_nb.bias(f, target="y", prediction="pred", sensitive=EVIL, n_boot=5),
    "slices": lambda f: rai_nb.slices(f.drop(columns="pred"), errors=f["pred"].to_numpy(float),
                                      min_sup=5),
    "validate": lambda f: rai_nb.validate(f, reference=f, target="y", sensitive=EVIL),
    "drift": lambda f: rai_nb.drift(f, f.assign(**{IMG: f[IMG] + 1})),
    "model card": lambda f: rai_nb.modelcard.ModelCard({"name": EVIL, "caveats": IMG,
                                                        EVIL: "| cell |"}),
}


@pytest.mark.parametrize("name", RENDERED)
def test_hostile_text_is_escaped_everywhere(hostile, name):
    result = RENDERED[name](hostile)
    page = result.to_html()
    assert "<script" not in page and "<img" not in page
    markdown = result.to_markdown()
    assert "<script" not in markdown and "<img" not in markdown
    assert "](javascript" not in markdown
