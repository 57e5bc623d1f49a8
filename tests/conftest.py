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
