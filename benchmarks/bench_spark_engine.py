"""What the engine protocol costs on Spark, and exact order statistics on every engine.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_spark_engine.py [--rows 10000000]
[--partitions 8]``. Prints, on Spark ``local[2]``:

- the fixed cost of one ``map(len).collect()`` round trip on a tiny frame (best of 10);
- what pinning the rows costs: ``spark_partitions`` (``localCheckpoint`` plus the job that finds
  nullable columns' missing values) beside a plain ``count()`` of the same frame and beside
  ``persist()`` + ``count()``;
- one ``map(len).collect()`` pass over all rows, at Spark's default Arrow batch (10,000 rows)
  and at the engine's (``_spark._BATCH_ROWS``, 1M rows), alternating;

then the wall time of ``order_statistics`` (the deciles) of one float64 column of ``--rows``
rows on the in-memory engine (one partition and ``--partitions``), Dask (threads) and Spark,
with the values checked against ``np.sort``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, local_spark, machine

from rai_nb.engine import _spark, in_memory, order_statistics, partitioned
from rai_nb.engine._spark import spark_partitions


def timed(function):
    start = time.perf_counter()
    out = function()
    return time.perf_counter() - start, out


def spark_costs(spark, frame: pd.DataFrame, n_partitions: int):
    tiny = partitioned(spark.range(0, 100, 1, 2))
    tiny.parts.map(len).collect()  # starts the Python workers
    print(f"map(len).collect() round trip, 100 rows in 2 partitions: "
          f"{best_time(lambda: tiny.parts.map(len).collect(), repeat=10) * 1e3:.0f} ms")
    drawn = spark.range(0, len(frame), 1, n_partitions).selectExpr("randn(0) as x")
    drawn.count()
    count = best_time(drawn.count, repeat=2)
    cached = best_time(lambda: drawn.persist().count() and drawn.unpersist(blocking=True),
                       repeat=2)
    pinned = best_time(lambda: spark_partitions(drawn), repeat=2)
    print(f"{len(frame):,} rows of randn in {n_partitions} partitions: count() {count:.2f} s, "
          f"persist() + count() {cached:.2f} s, spark_partitions (localCheckpoint + "
          f"missing-value job) {pinned:.2f} s")
    parts, _ = spark_partitions(drawn)
    times = {10_000: [], _spark._BATCH_ROWS: []}
    for turn in range(4):  # alternating, so a busy spell does not land on one size
        for rows in sorted(times, reverse=turn % 2 == 1):
            _spark._BATCH_ROWS = rows
            times[rows].append(best_time(lambda: parts.map(len).collect(), repeat=1))
    for rows, seconds in times.items():
        print(f"map(len).collect() over all rows, {rows:,} rows an Arrow batch: "
              f"{min(seconds):.2f} s (best of {len(seconds)})")
    _spark._BATCH_ROWS = max(times)
    return partitioned(spark.createDataFrame(frame).repartition(n_partitions))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    options = parser.parse_args()
    print(machine(), "| load", open("/proc/loadavg").read().split()[:3])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=options.rows)})
    ranks = (np.arange(1, 10) * options.rows) // 10
    expected = np.sort(frame["x"].to_numpy())[ranks]

    import dask
    import dask.dataframe as dd

    spark = local_spark("bench_spark_engine")
    engines = {
        "in-memory, 1 partition": in_memory(frame, 1),
        f"in-memory, {options.partitions} partitions": in_memory(frame, options.partitions),
        f"Dask threads, {options.partitions} partitions": partitioned(
            dd.from_pandas(frame, npartitions=options.partitions)),
        f"Spark local[2], {options.partitions} partitions": spark_costs(spark, frame,
                                                                     options.partitions),
    }
    with dask.config.set(scheduler="threads"):
        for name, parts in engines.items():
            seconds, found = timed(lambda p=parts: order_statistics(p.parts, {"x": ranks}))
            np.testing.assert_array_equal(found["x"], expected)
            print(f"order_statistics, deciles of {options.rows:,} float64 rows, {name}: "
                  f"{seconds:.2f} s")
    print("load", open("/proc/loadavg").read().split()[:3])
    spark.stop()


if __name__ == "__main__":
    main()
