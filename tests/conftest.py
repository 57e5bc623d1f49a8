"""Shared fixtures: the array namespaces every kernel is tested on, and the engines (in-memory,
Dask, Spark) every partitioned statistic is tested on."""

from __future__ import annotations

import os
import shutil
from functools import partial

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


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (two cores, Arrow on, UTC, four shuffle partitions, no UI), started
    once per test run; skipped when PySpark or Java is missing."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (the [spark] extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java, which is not installed (scripts/ensure_java.sh)")
    from rai_nb.engine import local_spark

    # Models and helpers defined in test modules are pickled by reference: the workers (started
    # by the JVM with this environment) import them from the tests folder, as Dask's do.
    tests = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (tests, os.environ.get("PYTHONPATH")) if p)
    connect = bool(os.environ.get("RAI_NB_SPARK_CONNECT"))  # set by `make test`'s second run
    if connect:
        pytest.importorskip("grpc", reason="Spark Connect needs the [spark-connect] extra")
    session = local_spark("rai_nb tests", connect=connect)
    yield session
    session.stop()


def _memory_frame(frame, n_partitions):
    from rai_nb.engine import in_memory

    return in_memory(frame, n_partitions)


def _dask_frame(frame, n_partitions):
    """The pieces of ``split_frame`` as Dask partitions (``from_pandas`` picks its own cuts and
    may give fewer partitions than asked); object columns stay object."""
    import dask
    import dask.dataframe as dd

    from rai_nb.engine._memory import split_frame

    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(_same, split_frame(frame, n_partitions), meta=frame.iloc[:0])


def _same(frame):
    return frame


def _spark_frame(session, frame, n_partitions):
    """A Spark frame of ``frame``'s rows in order, cut as ``split_frame`` cuts: each piece's rows
    get a key that Spark's hash partitioning sends to the piece's partition, then each
    partition is sorted back into row order."""
    from pyspark.sql import functions as F

    from rai_nb.engine._memory import split_frame

    if len(frame) == 0:  # Spark infers no schema from no rows: one row of missing values, dropped
        return _spark_frame(session, frame.reindex([0]), n_partitions).where(F.lit(False))
    ids = spark_partition_keys(session, n_partitions)
    sizes = [len(piece) for piece in split_frame(frame, n_partitions)]
    keyed = frame.assign(_key=np.repeat(ids, sizes), _position=np.arange(len(frame)))
    data = session.createDataFrame(keyed).repartition(n_partitions, F.col("_key"))
    return data.sortWithinPartitions("_position").drop("_key", "_position")


def spark_partition_keys(session, n_partitions):
    """For each partition ``i``, a long key that ``repartition(n_partitions, key)`` sends to
    ``i`` (Spark's hash partitioning is ``pmod(hash(key), n)``)."""
    from pyspark.sql import functions as F

    found = (session.range(64 * n_partitions)
             .select("id", F.expr(f"pmod(hash(id), {n_partitions})").alias("to"))
             .groupBy("to").agg(F.min("id").alias("id")).toPandas())
    assert len(found) == n_partitions, "some partition got none of the candidate keys"
    return found.sort_values("to")["id"].to_numpy()


@pytest.fixture(params=["memory", "dask", "spark"])
def to_engine(request):
    """``convert(frame, n_partitions)``: the engine's frame of ``frame``'s rows, in order, in
    exactly ``n_partitions`` contiguous partitions (``split_frame``'s cuts): rai_nb's in-memory
    partitions, a Dask frame on the module's LocalCluster, or a Spark frame."""
    if request.param == "memory":
        return _memory_frame
    if request.param == "dask":
        request.getfixturevalue("client")
        return _dask_frame
    return partial(_spark_frame, request.getfixturevalue("spark"))


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
