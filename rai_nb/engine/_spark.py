"""The Spark engine: partitions of a ``pyspark.sql.DataFrame``, read as pandas through Arrow.

Every step is a DataFrame operation (``mapInPandas``, ``localCheckpoint``, ``repartition``,
``groupBy`` then ``applyInPandas``), none an RDD one, so the engine also runs on Spark Connect.

The rows are one pandas DataFrame per Spark partition. Whatever a function mapped over them
returns travels as a Spark DataFrame ``(partition int, piece int, value binary)``: the value
pickled and cut into pieces of at most :data:`_PIECE_BYTES`, all in the partition's task; maps
are fused, so a chain of maps is one Python pass when it runs.

Row order. A plan with a shuffle (``repartition``, a join, a ``groupBy``) may give each job
different rows per partition, and every statistic here takes several jobs (distinct values,
then counts; passes of order statistics; positions found, then rows taken). So
:func:`spark_partitions` pins the rows once: one job reads them into Python and keeps each
partition's pandas frame, pickled, with ``localCheckpoint``; every later job reads those same
blocks, and reading them back costs far less than Spark's conversion of rows to Arrow. A lost
executor then fails the job instead of silently recomputing other rows (``persist`` would
recompute). Spark's ContextCleaner frees the blocks once the checkpointed frame is garbage
collected (on the JVM's next collection).
"""

from __future__ import annotations

import pickle
import re
import warnings
from contextlib import contextmanager
from functools import partial, wraps

import numpy as np
import pandas as pd

from ..errors import RaiError
from ._partitions import FAN_IN, Partitions, tree_reduce

#: The schema of derived values: the partition they belong to and the value, pickled, in pieces.
_VALUES = "partition int, piece int, value binary"
#: The schema of pinned rows: pieces of each partition's frame, pickled, in order.
_ROW_PIECES = "partition int, piece int, rows long, nulls binary, value binary"
#: The largest piece of a partition's frame pickled as one value (pandas' memory, no index).
_PIECE_BYTES = 16 * 2**20
_PIECES = "bucket int, partition int, piece int, value binary"

_BATCH_SETTING = "spark.sql.execution.arrow.maxRecordsPerBatch"
_BATCH_ROWS = 1_000_000
#: Arrow batches of every other job: pieces of at most :data:`_PIECE_BYTES` each.
_BATCH_PIECES = 8

DUPLICATE_COLUMNS = "data has duplicate column names: {names}"

#: What PySpark 4 warns on every pandas UDF and ``toPandas`` under pandas 3 (dozens of times a
#: call). The conversions the engine relies on are checked against ``toPandas`` on the pandas
#: installed (tests/test_engines.py), so the engine's own calls do not repeat it to the user.
_PANDAS_SUPPORT = "PySpark does not yet fully support pandas"


def _quiet(step):
    """``step`` without PySpark's pandas-support warning (:data:`_PANDAS_SUPPORT`)."""
    @wraps(step)
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PANDAS_SUPPORT, category=FutureWarning)
            return step(*args, **kwargs)
    return quiet


def local_spark(app: str = "rai_nb", *, driver_memory: str | None = None, connect: bool = False):
    """A ``local[2]`` Spark session for one machine (tests, benchmarks, trying rai_nb out).

    Arrow on, UTC, four shuffle partitions (a classic session also has no UI or progress bars
    and quiet logs), and Python workers started with this interpreter (``PYSPARK_PYTHON``,
    unless already set): Spark's default is the ``python3`` on ``PATH``, which in a virtual
    environment lacks rai_nb.

    Parameters
    ----------
    app : str
        The application's name.
    driver_memory : str, optional
        ``spark.driver.memory`` (e.g. ``"6g"``); Spark's default when ``None``.
    connect : bool, default False
        A Spark Connect session (``remote("local[2]")``, as Databricks' shared and serverless
        compute give) instead of a classic one; needs ``pyspark[connect]``. PySpark refuses
        it while a classic session runs in this process.
    """
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session_settings = {"spark.sql.execution.arrow.pyspark.enabled": "true",
                        "spark.sql.shuffle.partitions": "4",
                        "spark.sql.session.timeZone": "UTC"}
    if connect:  # the server's own settings (UI, memory, JVM options) are not a client's
        if driver_memory is not None:
            raise RaiError("driver_memory needs a classic session (connect=False): a Spark "
                           "Connect client cannot size the server's JVM")
        builder = SparkSession.builder.remote("local[2]")
    else:
        builder = SparkSession.builder.master("local[2]").config(map={
            "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
            "spark.driver.extraJavaOptions": "-Dlog4j2.level=error",
            **({} if driver_memory is None else {"spark.driver.memory": driver_memory})})
    session = builder.appName(app).config(map=session_settings).getOrCreate()
    if not connect:  # a Connect client has no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    return session


def is_spark_frame(data) -> bool:
    """True for a ``pyspark.sql.DataFrame`` (checked without importing PySpark)."""
    return type(data).__module__.startswith("pyspark.sql") and hasattr(data, "mapInPandas")


@_quiet
def spark_partitions(data) -> tuple[SparkPartitions, pd.DataFrame, np.ndarray]:
    """The partitions of a Spark DataFrame, pinned as pickled pandas, their ``meta`` and their
    lengths.

    One job reads every row into Python once, as ``mapInPandas`` (so as ``data.toPandas()``)
    converts it, and keeps each partition's frame as pickled pieces of at most
    :data:`_PIECE_BYTES`, checkpointed (``localCheckpoint``) on the executors. Every later pass
    reads those pieces back: unpickling a frame costs a fraction of Spark's conversion of rows to
    Arrow, which is most of a pass over rows (10M rows of 7 columns, 2 cores: ~7 s a pass over
    rows, ~1 s over their pieces). Each partition's frame is indexed by its rows' global
    positions, as ``data.toPandas()`` is (a Spark frame has no index of its own).

    ``meta`` has no rows and the dtypes ``data.toPandas()`` gives: an integer column with
    missing values is float64 and a boolean one object, as in ``toPandas``; the pinning job
    reports which nullable integer and boolean columns hold missing values and how many rows
    each partition has.
    """
    from pyspark.sql.types import BooleanType, IntegralType

    names = list(data.columns)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise RaiError(DUPLICATE_COLUMNS.format(names=", ".join(map(repr, repeated))))
    flagged = [f.name for f in data.schema.fields
               if f.nullable and isinstance(f.dataType, (IntegralType, BooleanType))]
    with _row_batches(data.sparkSession), _workers_named():
        pinned = data.mapInPandas(partial(_pieces_of_rows, flagged, _PIECE_BYTES), _ROW_PIECES) \
            .localCheckpoint(eager=True)
    info = _table(pinned.select("partition", "rows", "nulls"))
    ids = info.column("partition").to_numpy()
    n_partitions = int(ids.max()) + 1 if len(ids) else 0
    if not np.array_equal(np.unique(ids), np.arange(n_partitions)):
        raise RuntimeError(f"Spark pinned pieces of partitions {sorted(set(ids.tolist()))}, "
                           f"expected each of {n_partitions}")
    lengths = np.bincount(ids, weights=info.column("rows").to_numpy(),
                          minlength=n_partitions).astype(np.int64)
    nulls = [pickle.loads(b) for b in info.column("nulls").to_pylist()]
    missing = np.any(nulls, axis=0) if nulls else np.zeros(len(flagged), dtype=bool)
    meta = data.limit(0).toPandas()
    for name, has_missing in zip(flagged, missing):
        if has_missing:
            integral = isinstance(data.schema[name].dataType, IntegralType)
            meta[name] = meta[name].astype(np.float64 if integral else object)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    parts = SparkPartitions(pinned.select("partition", "piece", "value"), n_partitions,
                            meta=meta, held=True, starts=starts)
    return parts, meta, lengths


def _pieces_of_rows(flagged: list, piece_bytes: int, frames):
    """One partition's rows as pickled pieces ``(partition, piece, rows, nulls, value)`` of at
    most about ``piece_bytes``: at least one piece (an empty one for an empty partition, so
    that every partition is seen), ``nulls`` telling which ``flagged`` columns hold missing
    values (on the first piece)."""
    from pyspark import TaskContext

    partition = TaskContext.get().partitionId()
    rows = _gathered(frames)
    rows = pd.DataFrame() if rows is None else rows
    found = np.array([bool(rows[name].isna().any()) if name in rows else False
                      for name in flagged], dtype=bool)
    size = max(1, int(rows.memory_usage(index=False, deep=False).sum()))
    step = max(1, int(len(rows) * piece_bytes / size))
    pieces = [rows.iloc[a:a + step] for a in range(0, len(rows), step)] or [rows]
    yield pd.DataFrame({
        "partition": np.full(len(pieces), partition, dtype=np.int32),
        "piece": np.arange(len(pieces), dtype=np.int32),
        "rows": [len(piece) for piece in pieces],
        "nulls": [pickle.dumps(found if i == 0 else np.zeros_like(found), protocol=5)
                  for i in range(len(pieces))],
        "value": [pickle.dumps(piece, protocol=5) for piece in pieces]})


class SparkPartitions(Partitions):
    """Rows of a Spark DataFrame, or values derived from them, with maps not yet run.

    Parameters
    ----------
    source : pyspark.sql.DataFrame
        The rows (when ``meta`` is given) or derived values, schema ``partition int, value
        binary``, one row per partition.
    n_partitions : int
        How many partitions there are.
    meta : pandas.DataFrame, optional
        The dtypes of the rows' partitions; ``None`` for derived values.
    steps : tuple
        ``(function, args, each)`` of the maps still to apply, in order.
    held : bool
        Whether ``source`` is computed and kept by Spark (checkpointed or persisted).
    parent : SparkPartitions, optional
        Kept alive so that a checkpointed source it owns is not cleaned up under this one.
    starts : numpy.ndarray, optional
        With ``meta``: the global position of each partition's first row (its frame's index).
    ids : tuple, optional
        The partitions of ``source`` these values are (:meth:`subset`), renumbered ``0, 1, …``
        in this order; ``None`` for all of them.
    """

    engine = "Spark"

    def __init__(self, source, n_partitions: int, *, meta: pd.DataFrame | None = None,
                 steps: tuple = (), held: bool = False, parent: SparkPartitions | None = None,
                 starts: np.ndarray | None = None, ids: tuple | None = None):
        self._source = source
        self._starts = starts
        self._ids = ids
        self._n = int(n_partitions) if ids is None else len(ids)
        self._meta = meta
        self._steps = steps
        self._held = held
        self._parent = parent

    @property
    def n_partitions(self) -> int:
        return self._n

    def map(self, function, *args, each=None) -> SparkPartitions:
        if each is not None:
            each = list(each)
            if len(each) != self._n:
                raise RaiError(f"each must hold one item per partition ({self._n}), "
                               f"got {len(each)}")
        return SparkPartitions(self._source, self._n, meta=self._meta, held=self._held,
                               steps=(*self._steps, (function, args, each)), parent=self,
                               starts=self._starts, ids=self._ids)

    def subset(self, indices) -> SparkPartitions:
        indices = [int(i) for i in indices]
        ids = tuple(i if self._ids is None else self._ids[i] for i in indices)
        steps = tuple((function, args, None if each is None else [each[i] for i in indices])
                      for function, args, each in self._steps)
        return SparkPartitions(self._source, len(ids), meta=self._meta, held=self._held,
                               steps=steps, parent=self, starts=self._starts, ids=ids)

    @_quiet
    def persist(self) -> SparkPartitions:
        if self._held and not self._steps and self._ids is None:
            return self
        # Checkpointed as the pinned rows are: Spark's columnar cache (``persist``) copies a
        # batch of values into one buffer, and values of large partitions (sorted keys, codes
        # and losses: hundreds of MB each) ran a 6 GiB JVM out of heap at 10M-50M rows.
        with _batches(self._source.sparkSession, _BATCH_PIECES), _workers_named():
            frame = self._values().localCheckpoint(eager=True)
        _land(frame.select("partition"), self._n)  # checks every partition
        return SparkPartitions(frame, self._n, held=True)

    @_quiet
    def collect(self) -> list:
        return _land(self._values(), self._n)

    @_quiet
    def reduce(self, add):
        from pyspark.sql import functions as F

        frame, count = self._values(), self._n
        while count > FAN_IN:  # one tree level per pass, FAN_IN consecutive partitions a task
            count = -(-count // FAN_IN)
            level = frame.withColumn("level", F.expr(f"partition div {FAN_IN}"))
            frame = _grouped(level, count, "level").applyInPandas(partial(_add_level, add), _VALUES)
        return tree_reduce(_land(frame, count), add)

    @_quiet
    def regroup(self, n_buckets: int, function, *args) -> SparkPartitions:
        from pyspark.sql import functions as F

        pieces = self._values().mapInPandas(partial(_pieces_of, n_buckets), _PIECES)
        # One empty row per bucket, so every bucket's function runs even with no partitions.
        seeds = self._source.sparkSession.range(n_buckets).select(
            F.col("id").cast("int").alias("bucket"), F.lit(-1).alias("partition"),
            F.lit(0).alias("piece"),
            F.lit(None).cast("binary").alias("value"))
        tasks = max(1, min(n_buckets, self._n))
        frame = _grouped(pieces.unionByName(seeds), tasks, "bucket").applyInPandas(
            partial(_gather, function, args), _VALUES)
        return SparkPartitions(frame, n_buckets, parent=self)

    def _values(self):
        """The Spark DataFrame ``(partition, piece, value)`` of these values, maps applied."""
        from pyspark.sql import functions as F

        if self._meta is not None:
            source = self._source
            if self._ids is not None:  # a filter keeps the partitions: other ones arrive empty
                source = source.where(F.col("partition").isin(list(self._ids)))
            return source.mapInPandas(partial(_read_rows, self._meta, self._starts, self._ids,
                                              self._steps), _VALUES)
        source = self._source
        if self._ids is not None:
            numbered = F.array(*[F.lit(i) for i in self._ids])
            source = source.where(F.col("partition").isin(list(self._ids))).withColumn(
                "partition", (F.array_position(numbered, F.col("partition")) - 1).cast("int"))
        if not self._steps:
            return source
        return source.mapInPandas(partial(_apply_steps, self._steps), _VALUES)


def _grouped(frame, tasks: int, key: str):
    """``frame`` grouped by column ``key``, the groups spread over exactly ``tasks`` tasks (not
    ``spark.sql.shuffle.partitions``)."""
    return frame.repartition(tasks, key).groupBy(key)


@contextmanager
def _batches(session, records: int):
    """Arrow batches of ``records`` rows while one job is planned and run; the session's
    setting is put back after the job."""
    before = session.conf.get(_BATCH_SETTING)
    session.conf.set(_BATCH_SETTING, str(records))
    try:
        yield
    finally:
        session.conf.set(_BATCH_SETTING, before)


def _row_batches(session):
    """Batches of at least :data:`_BATCH_ROWS` rows for the job that reads the user's rows.

    A partition is read whole anyway, and larger batches save per-batch conversions (10M rows
    of one double in 8 partitions, best of 4 alternating passes on 2 busy cores: 2.4 s against
    2.6 s at Spark's default of 10,000 rows; 2.8 s against 3.5 s in another run).
    """
    before = int(session.conf.get(_BATCH_SETTING))
    return _batches(session, before if before <= 0 or before >= _BATCH_ROWS else _BATCH_ROWS)


#: What a Python worker that cannot import rai_nb or one of its dependencies prints.
_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")


@contextmanager
def _workers_named():
    """A :class:`RaiError` saying what to install when Spark's Python workers cannot import
    a module that the functions sent to them need (rai_nb, pandas, …), instead of the
    worker's traceback wrapped in Spark's."""
    try:
        yield
    except Exception as error:
        found = _MISSING_MODULE.search(str(error))
        if found is None or type(error).__name__ != "PythonException":
            raise
        raise RaiError(
            f"Spark's Python workers cannot import {found.group(1)!r}: install rai_nb with "
            "its dependencies in the Python the executors run (on a cluster, as a cluster "
            "library), or point PYSPARK_PYTHON at a Python that has them") from None


def _table(frame):
    """``frame`` (pieces, or other small rows) on the driver as a ``pyarrow.Table``."""
    with _batches(frame.sparkSession, _BATCH_PIECES), _workers_named():
        return frame.toArrow()


def _land(frame, n: int | None = None) -> list:
    """The values of ``frame`` ``(partition, piece, value)`` on the driver, in partition order;
    each of the ``n`` partitions (``0, 1, …`` when ``n`` is ``None``) must have one."""
    table = _table(frame)
    found = np.unique(table.column("partition").to_numpy())
    expected = np.arange(len(found) if n is None else n)
    if not np.array_equal(found, expected):
        raise RuntimeError(f"Spark returned values for partitions {found.tolist()}, "
                           f"expected one for each of {len(expected)}")
    if "value" not in table.column_names:
        return []
    values = _values_of(table.select(["partition", "piece", "value"]).to_pandas())[1]
    raised = _first_raised(values)
    if raised is not None:
        raise raised.error
    return values


def _values_of(pieces: pd.DataFrame) -> tuple[list[int], list]:
    """The partitions and values in rows ``(partition, piece, value)``, in partition order:
    each value is the pickle cut into consecutive pieces by :func:`_frame_of`."""
    ids, values = [], []
    for partition, group in pieces.sort_values(["partition", "piece"]).groupby("partition"):
        if not np.array_equal(group["piece"].to_numpy(), np.arange(len(group))):
            raise RuntimeError(f"Spark lost pieces of partition {partition}'s value")
        ids.append(int(partition))
        values.append(pickle.loads(b"".join(group["value"])))
    return ids, values


class _Raised:
    """A :class:`RaiError` raised on an executor, carried back as the value so that the driver
    raises it (Spark would wrap it in a PythonException with the worker's traceback)."""

    def __init__(self, error: RaiError):
        self.error = error


def _guarded(function, *args):
    try:
        return function(*args)
    except RaiError as error:
        return _Raised(error)


def _first_raised(values: list):
    return next((v for v in values if isinstance(v, _Raised)), None)


def _frame_of(ids, values) -> pd.DataFrame:
    """Rows ``(partition, piece, value)``: each value pickled and cut into pieces of at most
    :data:`_PIECE_BYTES`, because Spark copies a binary value whole (a value of hundreds of MB
    ran a 6 GiB JVM out of heap)."""
    rows = [(i, k, blob[a:a + _PIECE_BYTES])
            for i, v in zip(ids, values)
            for blob in [pickle.dumps(v, protocol=5)]
            for k, a in enumerate(range(0, len(blob), _PIECE_BYTES))]
    return pd.DataFrame({"partition": np.array([r[0] for r in rows], dtype=np.int32),
                         "piece": np.array([r[1] for r in rows], dtype=np.int32),
                         "value": [r[2] for r in rows]})


def _gathered(batches) -> pd.DataFrame | None:
    """A task's batches of pieces as one frame (a value's pieces may span batches)."""
    batches = [b for b in batches if len(b)]
    if not batches:
        return None
    return pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0]


def _run(steps: tuple, partition: int, value):
    for function, args, each in steps:
        if isinstance(value, _Raised):
            break
        value = _guarded(function, value, *args) if each is None else \
            _guarded(function, value, each[partition], *args)
    return value


def _rows_of(pieces: pd.DataFrame, meta: pd.DataFrame, start: int) -> pd.DataFrame:
    """One partition's frame from its pinned ``pieces``, with ``meta``'s dtypes, indexed by
    global positions from ``start``."""
    frames = [pickle.loads(v) for v in pieces.sort_values("piece")["value"]]
    frames = [f for f in frames if len(f.columns)] or [meta]
    part = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    changed = {c: t for c, t in meta.dtypes.items() if part[c].dtype != t}
    part = part.astype(changed) if changed else part
    return part.set_axis(pd.RangeIndex(start, start + len(part)))


def _read_rows(meta: pd.DataFrame, starts, ids, steps: tuple, batches):
    pieces = _gathered(batches)
    if pieces is None:  # a partition that :meth:`SparkPartitions.subset` left out
        return
    partition = int(pieces["partition"].iloc[0])
    number = partition if ids is None else ids.index(partition)
    rows = _rows_of(pieces, meta, int(starts[partition]))
    yield _frame_of([number], [_run(steps, number, rows)])


def _apply_steps(steps: tuple, batches):
    pieces = _gathered(batches)
    if pieces is not None:
        ids, values = _values_of(pieces)
        yield _frame_of(ids, [_run(steps, i, v) for i, v in zip(ids, values)])


# No annotations on the applyInPandas functions: PySpark reads a partial's annotations as
# type hints of its own API and warns that it cannot use them.
def _add_level(add, group):
    values = _values_of(group[["partition", "piece", "value"]])[1]
    return _frame_of([group["level"].iloc[0]], [_first_raised(values) or _guarded(add, values)])


def _pieces_of(n_buckets: int, batches):
    pieces = _gathered(batches)
    if pieces is None:
        return
    for i, v in zip(*_values_of(pieces)):
        parts = [_frame_of([i], [v if isinstance(v, _Raised) else v[b]]) for b in range(n_buckets)]
        for b, part in enumerate(parts):
            part.insert(0, "bucket", np.full(len(part), b, dtype=np.int32))
        yield pd.concat(parts, ignore_index=True)


def _gather(function, args, group):
    bucket = group["bucket"].iloc[0]
    pieces = _values_of(group.loc[group["partition"] >= 0, ["partition", "piece", "value"]])[1]
    return _frame_of([bucket], [_first_raised(pieces) or _guarded(function, pieces, *args)])
