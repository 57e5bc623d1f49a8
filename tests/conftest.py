"""Shared fixtures: the array namespaces every kernel is tested on."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

from rai_nb.backend import gpu_available


def _namespaces():
    yield pytest.param(array_api_compat.array_namespace(np.empty(0)), id="numpy")
    import array_api_strict

    yield pytest.param(array_api_strict, id="array_api_strict")
    if gpu_available():
        import cupy

        yield pytest.param(array_api_compat.array_namespace(cupy.empty(0)), id="cupy")
    else:
        yield pytest.param(None, id="cupy", marks=pytest.mark.skip(
            reason="CuPy with a visible CUDA device is not available on this machine"))


@pytest.fixture(params=list(_namespaces()))
def xp(request):
    """An array namespace: NumPy, array_api_strict (proves portability) and CuPy when present."""
    return request.param


@pytest.fixture(scope="session")
def ipython_shell():
    """The test IPython shell, with ``%load_ext rai_nb`` done (started once per session)."""
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "rai_nb")
    return shell


@pytest.fixture(scope="module")
def client():
    """A Dask client of a real two-process LocalCluster, for one test module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


#: Numeric columns of UCI Adult the explanation tests fit their models on.
ADULT_NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="session")
def adult_numeric():
    """2,000 rows of Adult's numeric columns (float, no NaN) and the income labels."""
    import rai_nb

    frame = rai_nb.load_adult(split="test").sample(2000, random_state=0)
    return frame[ADULT_NUMERIC].astype(float).reset_index(drop=True), frame["income"].to_numpy()


@pytest.fixture(scope="session")
def schema_drift_frames():
    """A reference and a current frame where one column changed kind (numbers to text), one
    vanished, one is now empty, one lost 30 % of its values and one is unchanged."""
    import pandas as pd

    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"code": rng.integers(0, 5, 600), "emptied": rng.normal(size=600),
                        "gone": rng.normal(size=600), "sparse": rng.normal(size=600),
                        "steady": rng.normal(size=600)})
    cur = pd.DataFrame({"code": rng.integers(0, 5, 500).astype(str), "emptied": np.nan,
                        "sparse": np.where(rng.random(500) < 0.3, np.nan, rng.normal(size=500)),
                        "steady": rng.normal(size=500)})
    return ref, cur


@pytest.fixture(scope="session")
def wine_audit():
    """An audit of a 3-class model (wine cultivars, 4 features, fitted on half the rows) over a
    random three-level sensitive column, with bootstrap intervals and a model card."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import rai_nb

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    features = ["alcohol", "malic_acid", "ash", "magnesium"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    model.fit(frame[features].iloc[::2], frame["cultivar"].iloc[::2])
    frame["site"] = np.random.default_rng(1).choice(["north", "south", "coast"], len(frame))
    return rai_nb.audit(model, frame, target="cultivar", sensitive="site", features=features,
                        explain=False, n_boot=20, progress=False, card={"name": "Cultivars"})


@pytest.fixture(scope="session")
def diabetes_audit():
    """An audit of a Ridge regression (diabetes progression, fitted on half the rows) by sex,
    with bootstrap intervals and a model card."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    import rai_nb

    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.rename(columns={"target": "progression"})
    features = [c for c in data.feature_names if c != "sex"]
    model = Ridge().fit(frame[features].iloc[::2], frame["progression"].iloc[::2])
    frame["sex"] = frame["sex"].map({1.0: "F", 2.0: "M"})
    return rai_nb.audit(model, frame, target="progression", sensitive="sex", features=features,
                        explain=False, n_boot=20, progress=False, card={"name": "Progression"})
