"""Exact deciles of one float64 column through ``order_statistics``, beside ``np.partition``.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_order_statistics.py [--rows 10000000]
[--partitions 8] [--engines memory,dask,spark]``. The column is ``--rows`` standard normal
values in ``--partitions`` partitions on the in-memory engine, Dask (threads scheduler) and
Spark ``local[2]`` (the session settings of the tests' ``spark`` fixture). The peer is
``np.partition`` of the whole column in memory at the same ranks. Each line gives the wall
time (best of ``--repeat``; Spark once), its ratio to the peer's, and the passes over the
partitions (each ``persist``, ``collect`` or ``reduce`` is one), with the values checked
against ``np.sort``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine

from rai_nb.engine import Partitions, in_memory, local_spark, order_statistics, partitioned


class Counted(Partitions):
    """``parts`` with every pass over them (persist, collect, reduce) counted in ``passes``."""

    def __init__(self, parts: Partitions, passes: list):
        self._parts, self.passes, self.engine = parts, passes, parts.engine

    @property
    def n_partitions(self) -> int:
        return self._parts.n_partitions

    def map(self, function, *args, each=None):
        return Counted(self._parts.map(function, *args, each=each), self.passes)

    def subset(self, indices):
        return Counted(self._parts.subset(indices), self.passes)

    def persist(self):
        self.passes.append("persist")
        return Counted(self._parts.persist(), self.passes)

    def collect(self):
        self.passes.append("collect")
        return self._parts.collect()

    def reduce(self, add):
        self.passes.append("reduce")
        return self._parts.reduce(add)

    def regroup(self, n_buckets, function, *args):
        raise NotImplementedError("order_statistics does not regroup")


def engine_frames(frame: pd.DataFrame, n_partitions: int, engines: list):
    """``(name, PartitionedFrame, repeat)`` for each engine asked for, built lazily."""
    if "memory" in engines:
        yield f"in-memory, {n_partitions} partitions", in_memory(frame, n_partitions), None
    if "dask" in engines:
        import dask.dataframe as dd

        yield (f"Dask threads, {n_partitions} partitions",
               partitioned(dd.from_pandas(frame, npartitions=n_partitions)), None)
    if "spark" in engines:
        spark = local_spark("bench_order_statistics")
        native = spark.createDataFrame(frame).repartition(n_partitions)
        yield f"Spark local[2], {n_partitions} partitions", partitioned(native), 1
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="memory,dask,spark")
    options = parser.parse_args()
    print(machine(), "| load", open("/proc/loadavg").read().split()[:3])
    x = np.random.default_rng(0).normal(size=options.rows)
    ranks = (np.arange(1, 10) * options.rows) // 10
    expected = np.sort(x)[ranks]
    peer = best_time(lambda: np.partition(x, ranks)[ranks], repeat=options.repeat)
    print(f"deciles of {options.rows:,} float64 rows; peer np.partition of the whole column "
          f"in memory: {peer:.3f} s")
    import dask

    with dask.config.set(scheduler="threads"):
        for name, parts, repeat in engine_frames(pd.DataFrame({"x": x}), options.partitions,
                                                 options.engines.split(",")):
            passes, times = [], []
            for _ in range(repeat or options.repeat):
                passes.clear()
                start = time.perf_counter()
                found = order_statistics(Counted(parts.parts, passes), {"x": ranks})["x"]
                times.append(time.perf_counter() - start)
                np.testing.assert_array_equal(found, expected)
            print(f"{name:<30} {min(times):7.2f} s | {min(times) / peer:6.1f}x np.partition | "
                  f"{len(passes)} passes ({', '.join(passes)})")
    print("load", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
