"""What the Spark engine's moves cost: pinning the rows, and a pass over them before and after.

Run: ``.venv/bin/python benchmarks/bench_spark_engine.py [--rows 10000000] [--partitions 8]``.
Prints, on Spark ``local[2]`` over ``--rows`` synthetic rows of 7 columns (two string columns,
as a Parquet file of categories arrives in Spark, and five numbers):

- the fixed cost of one ``map(len).collect()`` round trip on a tiny frame (best of 10);
- a ``count()`` of the plan and ``persist()`` + ``count()``, for scale;
- one pass of Spark's own conversion of the rows to pandas (``mapInPandas`` doing nothing), what
  every pass cost before the rows were pinned as pickled pandas;
- ``spark_partitions``: the pinning job (that conversion once, pickled pieces checkpointed);
- one ``map(len).collect()`` pass over the pinned pieces, what every later pass costs;
- Spark's floor for ``bias`` without Python: Spark SQL ``groupBy`` of the counts that
  ``rai_nb.bias(target="y", prediction="pred", score="score", sensitive=["region", "group"])``
  needs (rows per group and class pair; rows, scores and positives per group and score bin),
  beside that ``bias`` call on pandas, as a ratio: what a JVM-side engine would pay for
  those counts alone, before any checks or host-side finish.

Exact order statistics on every engine are in ``bench_order_statistics.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine

import rai_nb
from rai_nb.engine import local_spark, partitioned
from rai_nb.engine._spark import spark_partitions


def synthetic(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "region": np.array([f"r{i}" for i in range(20)], dtype=object)[rng.integers(0, 20, n_rows)],
        "group": np.array([f"g{i}" for i in range(50)], dtype=object)[rng.integers(0, 50, n_rows)],
        "y": rng.integers(0, 2, n_rows).astype(np.int8),
        "pred": rng.integers(0, 2, n_rows).astype(np.int8),
        "score": rng.random(n_rows),
        "age": rng.integers(18, 90, n_rows).astype(np.int16),
        "income": np.round(rng.lognormal(10, 1, n_rows), 2),
    })


def _counted(frames):
    yield pd.DataFrame({"n": [sum(len(f) for f in frames)]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    options = parser.parse_args()
    print(machine(), "| load", open("/proc/loadavg").read().split()[:3])
    spark = local_spark("bench_spark_engine", driver_memory="6g")
    tiny = partitioned(spark.range(0, 100, 1, 2))
    tiny.parts.map(len).collect()  # starts the Python workers
    print(f"map(len).collect() round trip, 100 rows in 2 partitions: "
          f"{best_time(lambda: tiny.parts.map(len).collect(), repeat=10) * 1e3:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synthetic(options.rows).to_parquet(folder / "rows.parquet", row_group_size=1_000_000)
        data = spark.read.parquet(str(folder)).repartition(options.partitions).localCheckpoint()
        size = f"{options.rows:,} rows x 7 columns in {options.partitions} partitions"
        count = best_time(data.count, repeat=2)
        cached = best_time(lambda: data.persist().count() and data.unpersist(blocking=True),
                           repeat=2)
        print(f"{size}: count() {count:.2f} s, persist() + count() {cached:.2f} s")
        convert = best_time(lambda: data.mapInPandas(_counted, "n long").collect(), repeat=2)
        print(f"{size}: one pass of Spark's conversion to pandas (mapInPandas) {convert:.2f} s")
        pin = best_time(lambda: spark_partitions(data), repeat=2)
        parts = spark_partitions(data)[0]
        again = best_time(lambda: parts.map(len).collect(), repeat=3)
        print(f"{size}: spark_partitions (pinning) {pin:.2f} s, then a pass over the pinned "
              f"rows (map(len).collect()) {again:.2f} s: {convert / again:.1f}x less a pass")
        jvm_floor(spark, folder / "rows.parquet", options.rows)
    print("load", open("/proc/loadavg").read().split()[:3])
    spark.stop()


def jvm_floor(spark, path: Path, n_rows: int) -> None:
    """Spark SQL's own aggregation of ``bias``'s counts against ``rai_nb.bias`` on pandas."""
    from pyspark.sql import functions as F

    rows = spark.read.parquet(str(path))
    score_bin = F.least(F.floor(F.col("score") * 10), F.lit(9)).alias("bin")
    confusion = lambda: rows.groupBy("region", "group", "y", "pred").count().toPandas()  # noqa: E731
    histograms = lambda: (rows.groupBy("region", "group", score_bin)  # noqa: E731
                          .agg(F.count(F.lit(1)), F.sum("score"), F.sum("y")).toPandas())
    both = lambda: (confusion(), histograms())  # noqa: E731
    spark_seconds = best_time(both, repeat=3)
    frame = pd.read_parquet(path)
    pandas_seconds = best_time(lambda: rai_nb.bias(
        frame, target="y", prediction="pred", score="score", sensitive=["region", "group"]),
        repeat=3)
    print(f"{n_rows:,} rows: Spark SQL groupBy of bias's counts {spark_seconds:.2f} s "
          f"(confusion {best_time(confusion, repeat=2):.2f} s, score histograms "
          f"{best_time(histograms, repeat=2):.2f} s); rai_nb.bias on pandas {pandas_seconds:.2f} s: "
          f"the JVM alone is {spark_seconds / pandas_seconds:.2f}x pandas' whole job")


if __name__ == "__main__":
    main()
