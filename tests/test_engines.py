"""The engine protocol on every engine: Dask and Spark give what the in-memory engine gives.

Every test takes ``to_engine`` (conftest.py), which cuts a pandas frame into the same
contiguous partitions on each engine, so per-partition results compare exactly.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rai_nb import RaiError
from rai_nb.engine import (
    PartitionedFrame,
    Partitions,
    _order,
    distinct_values,
    in_memory,
    order_statistics,
    partitioned,
    value_counts,
)
from rai_nb.engine._memory import MemoryPartitions, split_frame


def _frame(n_rows: int = 23, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_rows)
    x[rng.random(n_rows) < 0.2] = np.nan
    strings = rng.choice(np.array(["a", "b", "c", None], dtype=object), n_rows)
    return pd.DataFrame({
        "i": rng.integers(0, 5, n_rows).astype(np.int64),
        "x": x,
        "s": pd.Series(strings, dtype=object),
        "b": rng.random(n_rows) < 0.5,
        "t": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 10**6, n_rows), unit="s"),
    })


def _rows(frame, native) -> pd.DataFrame:
    """What an engine's partitions of ``frame`` hold, concatenated: Spark's are its
    ``toPandas()`` (strings as pandas' string dtype, timestamps in microseconds)."""
    return native.toPandas() if hasattr(native, "toPandas") else frame


def _joined(frames: list) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def _column_sum(part: pd.DataFrame, name: str) -> int:
    return int(part[name].sum())


def _shifted(total: int, shift: int, scale: int) -> int:
    return (total + shift) * scale


def _tagged(part: pd.DataFrame, tag: int) -> list:
    return [tag]


def _concatenated(lists: list) -> list:
    return [item for items in lists for item in items]


def _array_sum(arrays: list) -> np.ndarray:
    return np.sum(arrays, axis=0) if arrays else np.zeros(2, dtype=np.int64)


def _counts(part: pd.DataFrame) -> np.ndarray:
    return np.array([len(part), int(part["i"].sum())], dtype=np.int64)


def _pieces(part: pd.DataFrame, tag: int, n_buckets: int) -> list:
    return [(tag, bucket, len(part)) for bucket in range(n_buckets)]


def _gathered(pieces: list, label: str) -> tuple:
    return label, tuple(pieces)


def _touch(part: pd.DataFrame, folder: str) -> int:
    (Path(folder) / uuid.uuid4().hex).touch()
    return len(part)


@pytest.mark.parametrize("n_partitions", [1, 4, 30])
def test_collect_gives_each_partition_s_rows_in_order(to_engine, n_partitions):
    frame = _frame()
    native = to_engine(frame, n_partitions)
    parts = partitioned(native)
    assert parts.n_partitions == n_partitions
    frames = parts.parts.collect()
    expected = [len(p) for p in split_frame(frame, n_partitions)]
    assert [len(f) for f in frames] == expected
    assert parts.lengths.tolist() == expected
    pd.testing.assert_frame_equal(_joined(frames), _rows(frame, native))
    assert all((f.dtypes == parts.meta.dtypes).all() for f in frames)


@pytest.mark.parametrize("n_partitions", [1, 5])
def test_map_with_args_and_each_gives_the_in_memory_values(to_engine, n_partitions):
    frame = _frame()
    shifts = list(range(10, 10 + n_partitions))

    def chain(parts):
        return parts.map(_column_sum, "i").map(_shifted, 3, each=shifts).collect()

    assert chain(partitioned(to_engine(frame, n_partitions)).parts) == chain(
        in_memory(frame, n_partitions).parts)


def test_persist_computes_each_partition_once(to_engine, tmp_path):
    parts = partitioned(to_engine(_frame(), 3)).parts
    kept = parts.map(_touch, str(tmp_path)).persist()
    assert kept.map(_shifted, 0, 2).collect() == [2 * len(p) for p in split_frame(_frame(), 3)]
    assert kept.collect() == [len(p) for p in split_frame(_frame(), 3)]
    assert len(list(tmp_path.iterdir())) == 3


@pytest.mark.parametrize("n_partitions", [1, 8, 20, 70])
def test_reduce_adds_in_partition_order(to_engine, n_partitions):
    """A concatenation tells the order the tree adds in: Dask and Spark add as the in-memory
    engine does (FAN_IN consecutive partitions a task, every level)."""
    frame = _frame()
    parts = partitioned(to_engine(frame, n_partitions)).parts
    tags = list(range(n_partitions))
    assert parts.map(_tagged, each=tags).reduce(_concatenated) == tags
    np.testing.assert_array_equal(parts.map(_counts).reduce(_array_sum),
                                  [len(frame), frame["i"].sum()])


@pytest.mark.parametrize("n_partitions", [1, 6])
def test_regroup_hands_each_bucket_its_pieces_in_partition_order(to_engine, n_partitions):
    frame = _frame()
    tags = list(range(n_partitions))

    def regrouped(parts):
        return parts.map(_pieces, 3, each=tags).regroup(3, _gathered, "bucket")

    spread = regrouped(partitioned(to_engine(frame, n_partitions)).parts)
    assert spread.n_partitions == 3
    assert spread.collect() == regrouped(in_memory(frame, n_partitions).parts).collect()
    assert spread.map(len).collect() == [2, 2, 2]


def test_subset_gives_the_partitions_asked_for_numbered_anew(to_engine):
    frame = _frame(50)
    parts = partitioned(to_engine(frame, 5)).parts
    pieces = split_frame(frame, 5)
    tagged = parts.map(_tagged, each=[10, 11, 12, 13, 14])
    assert tagged.subset([3, 1]).collect() == [[13], [11]]
    # An item of ``each`` after the subset is for the new numbering.
    assert parts.subset([4, 0]).map(_tagged, each=[7, 8]).collect() == [[7], [8]]
    assert parts.subset([2, 4]).subset([1]).map(len).collect() == [len(pieces[4])]
    derived = parts.map(_counts).persist()
    expected = [_counts(pieces[i]).tolist() for i in (4, 2)]
    assert [v.tolist() for v in derived.subset([4, 2]).collect()] == expected
    assert derived.subset([4, 2]).reduce(_array_sum).tolist() == np.sum(expected, axis=0).tolist()
    assert parts.subset([]).collect() == []


def test_frame_moves_give_the_rows_asked_for(to_engine):
    frame = _frame(40)
    native = to_engine(frame, 6)
    parts = partitioned(native)
    rows = _rows(frame, native)
    assert parts.n_rows == 40
    assert parts.offsets.tolist() == np.cumsum([0, *map(len, split_frame(frame, 6))]).tolist()
    for n in (0, 1, 9, 100):
        pd.testing.assert_frame_equal(parts.head(n).reset_index(drop=True), rows.head(n))
    positions = np.array([39, 0, 17, 17, 5, 22, 38])
    pd.testing.assert_frame_equal(parts.take(positions).reset_index(drop=True),
                                  rows.iloc[positions].reset_index(drop=True))
    chosen = parts.select(["x", "i"])
    assert list(chosen.columns) == ["x", "i"]
    pd.testing.assert_frame_equal(_joined(chosen.parts.collect()), rows[["x", "i"]])
    dropped = parts.drop(["s", "t"])
    assert list(dropped.columns) == ["i", "x", "b"]
    pd.testing.assert_frame_equal(_joined(dropped.parts.collect()), rows[["i", "x", "b"]])


def _select_x(part: pd.DataFrame) -> pd.DataFrame:
    return part[["x"]]


def _first_half(part: pd.DataFrame) -> pd.DataFrame:
    return part.iloc[:len(part) // 2]


def test_column_moves_keep_the_lengths_the_engine_gave(to_engine):
    """Selecting, dropping, persisting or mapping with ``same_rows`` keeps the rows, so a
    length known before costs no pass after; a frame whose lengths were never given, or a
    map that may change its rows, counts them once."""
    frame = _frame(40)
    given = partitioned(to_engine(frame, 6))
    expected = given.lengths.tolist()
    log = []
    logged = PartitionedFrame(_Logged(given.parts, log), given.meta, given.lengths)
    moved = logged.select(["x", "i"]).drop(["i"]).persist() \
        .map_frames(_select_x, meta=given.meta[["x"]], same_rows=True)
    assert moved.lengths.tolist() == expected and moved.n_rows == 40
    assert _passes(log) == ["persist"]
    log.clear()
    unknown = PartitionedFrame(_Logged(given.parts, log), given.meta).select(["x"])
    assert unknown.lengths.tolist() == expected
    assert _passes(log) == ["collect"]
    log.clear()
    halved = logged.map_frames(_first_half, meta=given.meta)
    assert halved.lengths.tolist() == [n // 2 for n in expected]
    assert _passes(log) == ["collect"]


_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan,
                                     5e-324, -5e-324, np.nextafter(1.0, 2.0)]))


@st.composite
def _columns(draw) -> np.ndarray:
    """Up to 60 values with NaN, ±inf, −0.0, neighbouring floats (adjacent keys) and repeats;
    at times one value fills most rows."""
    values = draw(st.lists(_FLOATS, min_size=1, max_size=30))
    values += [draw(_FLOATS)] * draw(st.sampled_from([0, 0, 10, 30]))
    return np.array(draw(st.permutations(values)), dtype=np.float64)


class _Logged(Partitions):
    """``parts`` that log every pass over them (``persist``, ``collect``, ``reduce``) and the
    name of every function mapped over them."""

    def __init__(self, parts: Partitions, log: list):
        self._parts, self.log, self.engine = parts, log, parts.engine

    @property
    def n_partitions(self) -> int:
        return self._parts.n_partitions

    def map(self, function, *args, each=None):
        self.log.append(f"map {function.__name__}")
        return _Logged(self._parts.map(function, *args, each=each), self.log)

    def subset(self, indices):
        return _Logged(self._parts.subset(indices), self.log)

    def persist(self):
        self.log.append("persist")
        return _Logged(self._parts.persist(), self.log)

    def collect(self):
        self.log.append("collect")
        return self._parts.collect()

    def reduce(self, add):
        self.log.append("reduce")
        return self._parts.reduce(add)

    def regroup(self, n_buckets, function, *args):
        raise AssertionError("order_statistics does not regroup")


def _passes(log: list) -> list:
    return [step for step in log if not step.startswith("map")]


def test_order_statistics_equal_a_full_sort(to_engine, request, monkeypatch):
    """Values with NaN, ±inf, −0.0, repeats and a value filling most rows, over more partitions
    than rows at times, with a few samples per partition (so brackets hold several keys) and
    small limits on their distinct keys (so pivot rounds finish some ranks); Spark runs fewer
    examples (each one is a few jobs)."""
    spark = request.node.callspec.params["to_engine"] == "spark"

    @settings(max_examples=5 if spark else 40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(x=_columns(), n_partitions=st.integers(1, 8),
           samples=st.sampled_from([1, 2, 3, 5, _order._SAMPLES]),
           limit=st.sampled_from([1, 2, _order._DISTINCT]), data=st.data())
    def check(x, n_partitions, samples, limit, data):
        monkeypatch.setattr(_order, "_SAMPLES", samples)
        monkeypatch.setattr(_order, "_DISTINCT", limit)
        present = np.sort(x[~np.isnan(x)])
        ranks = data.draw(st.lists(st.integers(0, max(len(present) - 1, 0)),
                                   max_size=8 if len(present) else 0))
        ranks += [0, len(present) - 1] if len(present) else []
        found = order_statistics(partitioned(to_engine(pd.DataFrame({"x": x}),
                                                       n_partitions)).parts, {"x": ranks})
        np.testing.assert_array_equal(found["x"], present[ranks])

    check()


def _wide_frame(n_rows: int) -> pd.DataFrame:
    """A spread column with missing values and one where a single value fills 90 % of rows."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=n_rows)
    x[rng.random(n_rows) < 0.1] = np.nan
    tied = np.where(rng.random(n_rows) < 0.9, 2.5, rng.normal(size=n_rows))
    return pd.DataFrame({"x": x, "tied": tied})


def _ends_and_deciles(n: int) -> np.ndarray:
    return np.r_[0, (np.arange(1, 10) * n) // 10, n - 1]


def test_order_statistics_take_two_passes_after_the_sort(to_engine):
    """The sample and the brackets: one reduce each after the persisted sort, and only the
    sample's when every partition is sampled whole."""
    for n_rows, passes in ((40_000, ["persist", "reduce", "reduce"]), (900, ["persist", "reduce"])):
        frame = _wide_frame(n_rows)
        present = {name: np.sort(frame[name].dropna().to_numpy()) for name in frame}
        ranks = {name: _ends_and_deciles(len(values)) for name, values in present.items()}
        log = []
        found = order_statistics(_Logged(partitioned(to_engine(frame, 4)).parts, log), ranks)
        assert _passes(log) == passes
        for name, values in present.items():
            np.testing.assert_array_equal(found[name], values[ranks[name]])


def test_order_statistics_finish_flagged_brackets_by_pivot_rounds(to_engine, monkeypatch):
    """With at most one distinct key a bracket may return, spread columns go to pivot rounds
    from their brackets, and still equal a full sort; ranks settled by the sample do not."""
    monkeypatch.setattr(_order, "_SAMPLES", 16)
    monkeypatch.setattr(_order, "_DISTINCT", 1)
    frame = _wide_frame(3_000)
    present = {name: np.sort(frame[name].dropna().to_numpy()) for name in frame}
    ranks = {name: _ends_and_deciles(len(values)) for name, values in present.items()}
    log = []
    found = order_statistics(_Logged(partitioned(to_engine(frame, 3)).parts, log), ranks)
    assert "map _count_at_or_below" in log
    assert _passes(log)[:3] == ["persist", "reduce", "reduce"] and len(_passes(log)) > 3
    for name, values in present.items():
        np.testing.assert_array_equal(found[name], values[ranks[name]])


def test_order_statistics_of_a_column_without_values(to_engine):
    """Missing values only, in partitions some of which are empty: no ranks give no values and
    any rank is an error naming the column."""
    frame = pd.DataFrame({"x": [np.nan, np.nan], "y": [1.0, np.nan]})
    parts = partitioned(to_engine(frame, 4)).parts
    found = order_statistics(parts, {"x": [], "y": [0]})
    assert found["x"].shape == (0,) and found["y"].tolist() == [1.0]
    with pytest.raises(RaiError, match="'x'"):
        order_statistics(parts, {"x": [0]})


def test_distinct_values_and_value_counts_match_pandas(to_engine):
    frame = _frame(60)
    native = to_engine(frame, 7)
    parts = partitioned(native)
    rows = _rows(frame, native)
    strings, integers = distinct_values(parts, ["s", "i"])
    assert set(strings.dropna()) == {"a", "b", "c"} and strings.isna().sum() == 1
    assert sorted(integers) == sorted(frame["i"].unique())
    pd.testing.assert_series_equal(value_counts(parts, "s"),
                                   value_counts(in_memory(rows, 7), "s"))
    counts = value_counts(parts, "i")
    pd.testing.assert_series_equal(counts.sort_index(), frame["i"].value_counts().sort_index())


def test_dtypes_survive_the_round_trip(to_engine):
    frame = _frame(12)
    native = to_engine(frame, 3)
    parts = partitioned(native)
    rows = _rows(frame, native)
    pd.testing.assert_series_equal(parts.meta.dtypes, rows.dtypes)
    pd.testing.assert_frame_equal(_joined(parts.parts.collect()), rows)
    if parts.engine != "Spark":
        assert (rows.dtypes == frame.dtypes).all()


# Spark alone: what its partitions must not do.


def test_spark_rows_are_fixed_once_even_when_the_plan_is_not_deterministic(spark):
    from pyspark.sql import functions as F

    draw = F.udf(lambda: float(np.random.default_rng().random()), "double").asNondeterministic()
    data = spark.range(0, 200, 1, 4).withColumn("u", draw()).repartition(3, "id")
    parts = partitioned(data)
    first = _joined(parts.parts.collect())
    pd.testing.assert_frame_equal(_joined(parts.parts.map(_same_rows).collect()), first)
    assert parts.n_rows == 200


def _same_rows(part: pd.DataFrame) -> pd.DataFrame:
    return part


def test_spark_nullable_integers_and_booleans_get_to_pandas_dtypes(spark):
    """``toPandas`` gives float64 for an integer column with nulls and object for a boolean one
    with nulls, for the whole frame: so do the partitions without nulls."""
    data = spark.sql("select id, if(id = 7, null, id) as n, if(id = 7, null, id % 2 = 0) as b,"
                     " if(id < 0, null, id) as never from range(0, 12, 1, 3)")
    parts = partitioned(data)
    rows = data.toPandas()
    assert rows.dtypes.to_dict() == {"id": np.int64, "n": np.float64, "b": object,
                                     "never": np.int64}
    frames = parts.parts.collect()
    assert all((f.dtypes == rows.dtypes).all() for f in frames)
    pd.testing.assert_frame_equal(_joined(frames), rows)


def test_spark_frame_with_no_partitions(spark):
    parts = partitioned(spark.range(0)).parts
    assert parts.n_partitions == 0
    assert parts.collect() == []
    assert parts.map(len).reduce(sum) == 0
    assert parts.regroup(2, _gathered, "empty").collect() == MemoryPartitions([]).regroup(
        2, _gathered, "empty").collect()


def test_spark_duplicate_column_names_are_refused(spark):
    data = spark.sql("select 1 as a, 2 as a, 3 as b")
    with pytest.raises(RaiError, match="duplicate column names: 'a'"):
        partitioned(data)


def test_spark_session_batch_size_is_put_back(spark):
    setting = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(setting)
    parts = partitioned(spark.range(0, 10, 1, 2)).parts
    assert parts.map(len).collect() == [5, 5]
    assert spark.conf.get(setting) == before
    spark.conf.set(setting, "5000000")
    try:
        assert parts.map(len).collect() == [5, 5]
        assert spark.conf.get(setting) == "5000000"
    finally:
        spark.conf.set(setting, before)


def test_local_spark_connect_refuses_a_driver_memory():
    pytest.importorskip("pyspark")
    from rai_nb.engine import local_spark

    with pytest.raises(RaiError, match="driver_memory needs a classic session"):
        local_spark(connect=True, driver_memory="2g")


def test_spark_each_needs_one_item_per_partition(spark):
    parts = partitioned(spark.range(0, 10, 1, 3)).parts
    with pytest.raises(RaiError, match=r"each must hold one item per partition \(3\), got 2"):
        parts.map(_tagged, each=[0, 1])


def test_spark_partitions_lost_by_the_plan_are_an_error(spark):
    """Spark skips the Python function of a plan it knows is empty: values must come for every
    partition. Pinned rows have a piece for each partition the pinning job ran on (none for a
    plan Spark knows is empty: no partitions, no rows)."""
    from pyspark.sql import functions as F

    from rai_nb.engine._spark import SparkPartitions

    values = spark.range(0, 3, 1, 3).selectExpr("cast(id as int) as partition",
                                                "cast(null as binary) as value")
    with pytest.raises(RuntimeError, match="expected one for each of 3"):
        SparkPartitions(values.where(F.lit(False)), 3).collect()
    pinned = partitioned(spark.range(0, 10, 1, 3).where(F.lit(False)))
    assert pinned.parts.map(len).collect() == [0] * pinned.n_partitions


def test_spark_steps_do_not_repeat_pyspark_s_pandas_support_warning(spark):
    """PySpark 4 under pandas 3 warns on every pandas UDF and toPandas; a notebook calling
    rai_nb on a Spark frame would show it dozens of times a call."""
    import warnings

    import rai_nb

    with warnings.catch_warnings(record=True) as control:
        warnings.simplefilter("always")
        spark.range(1).toPandas()
    if not any("fully support pandas" in str(w.message) for w in control):
        pytest.skip("this PySpark does not warn on this pandas")
    frame = spark.createDataFrame(pd.DataFrame({"g": list("abab") * 5, "y": [0, 1] * 10,
                                                "p": [1, 1, 0, 0] * 5}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = partitioned(frame).parts
        kept = parts.map(len).persist()
        assert kept.reduce(sum) == 20
        regrouped = parts.map(_pieces, 7, 2).regroup(2, _gathered, "bucket").collect()
        assert [label for label, _ in regrouped] == ["bucket", "bucket"]
        rai_nb.bias(frame, target="y", prediction="p", sensitive="g", n_boot=10)
    assert [str(w.message) for w in caught if issubclass(w.category, FutureWarning)] == []


def _imports_a_missing_module(part: pd.DataFrame):
    import rai_nb_module_not_installed  # noqa: F401  (as on executors without rai_nb)

    return len(part)


def test_spark_workers_without_a_module_name_it(spark):
    parts = partitioned(spark.range(0, 10, 1, 2)).parts
    with pytest.raises(RaiError, match=r"Spark's Python workers cannot import "
                                       r"'rai_nb_module_not_installed'.*PYSPARK_PYTHON"):
        parts.map(_imports_a_missing_module).collect()


def test_spark_pinned_rows_in_many_pieces_keep_their_order_and_dtypes(spark, monkeypatch):
    from rai_nb.engine import _spark

    frame = _frame(300)
    native = spark.createDataFrame(frame)
    whole = partitioned(native)
    monkeypatch.setattr(_spark, "_PIECE_BYTES", 200)  # a few rows a piece
    pieced = partitioned(native)
    pieces = pieced.parts._source.groupBy("partition").count().toPandas()
    assert (pieces["count"] > 5).all()
    pd.testing.assert_frame_equal(_joined(pieced.parts.collect()), _joined(whole.parts.collect()))
    assert pieced.lengths.tolist() == whole.lengths.tolist()
    pd.testing.assert_frame_equal(pieced.head(150), whole.head(150))


def _filled(part: pd.DataFrame, size: int) -> np.ndarray:
    return np.full(size, len(part), dtype=np.float64)


def _with_head(value: np.ndarray) -> list:
    return [value, value[:5]]


def _lengths(pieces: list) -> list:
    return [len(p) for p in pieces]


def test_spark_values_larger_than_a_piece_travel_in_pieces(spark):
    from rai_nb.engine import _spark

    size = _spark._PIECE_BYTES // 8 + 1000  # a pickle just over one piece
    big = partitioned(spark.range(0, 30, 1, 3)).parts.map(_filled, size)
    assert [(len(v), v[0], v[-1]) for v in big.collect()] == [(size, 10.0, 10.0)] * 3
    kept = big.persist()
    pieces = kept._source.groupBy("partition").count().toPandas()
    assert sorted(pieces["count"].tolist()) == [2, 2, 2]
    total = kept.reduce(_array_sum)
    assert len(total) == size and (total == 30.0).all()
    assert kept.map(_with_head).regroup(2, _lengths).collect() == [[size] * 3, [5] * 3]
