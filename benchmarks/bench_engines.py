"""``bias``, ``slices``, ``validate`` and ``drift`` on pandas, Dask and Spark: the same Parquet files.

Run: ``.venv/bin/python benchmarks/bench_engines.py [--rows 10000000 50000000]
[--engines pandas dask spark]``. Every engine reads the same synthetic Parquet files; the script
prints each engine's time per row (flat when the work scales linearly), its ratio to pandas on
the same rows, the largest difference between its numbers and pandas', and the peak resident
memory during each job (pandas: this process, data included; Dask: its worker processes
together; Spark ``local[2]``: the JVM and its Python workers together). Dask runs on a
``LocalCluster`` of 2 processes × 1 thread, Spark on ``local[2]``; pass
``--scheduler tcp://host:8786`` to use an existing Dask cluster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb

PART_ROWS = 2_000_000


def write_parquet(folder: Path, n_rows: int, seed: int = 0) -> Path:
    """``n_rows`` synthetic rows as Parquet files of ``PART_ROWS`` rows each."""
    target = folder / f"rows_{n_rows}_{seed}"
    target.mkdir()
    for part, start in enumerate(range(0, n_rows, PART_ROWS)):
        rng = np.random.default_rng([seed, part])
        n = min(PART_ROWS, n_rows - start)
        group = rng.integers(0, 50, n)
        frame = pd.DataFrame({
            "region": pd.Categorical.from_codes(rng.integers(0, 20, n), [f"r{i}" for i in range(20)]),
            "group": pd.Categorical.from_codes(group, [f"g{i}" for i in range(50)]),
            "y": (rng.random(n) < 0.3 + group / 200).astype(np.int8),
            "score": rng.random(n),
            "age": rng.integers(18, 90, n).astype(np.int16),
            "income": np.round(rng.lognormal(10, 1, n), 2),
        })
        # Wrong on 10% of rows, and on 60% in one planted slice for the slice search to find.
        planted = (frame["region"].cat.codes < 5).to_numpy() & (frame["age"] >= 70).to_numpy()
        flip = rng.random(n) < np.where(planted, 0.6, 0.1)
        frame["pred"] = np.where(flip, 1 - frame["y"], frame["y"]).astype(np.int8)
        frame.to_parquet(target / f"part-{part:04d}.parquet", index=False)
    return target


class PeakMemory:
    """Peak resident memory (MiB) of a set of processes, sampled every 0.2 s in a thread."""

    def __init__(self, processes):
        self.processes, self.peak, self._stop = processes, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, sum(_rss(p) for p in self.processes()) / 2**20)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _rss(process) -> float:
    try:
        return process.memory_info().rss
    except Exception:  # the process ended between listing and reading
        return 0.0


def spark_processes():
    """The JVM this process started for ``local[2]`` and its children (the Python workers of
    pandas UDFs)."""
    import psutil

    jvms = [p for p in psutil.Process().children() if p.name().startswith("java")]

    def listed():
        return [process for jvm in jvms for process in (jvm, *_children(jvm))]
    return listed


def _children(process) -> list:
    try:
        return process.children(recursive=True)
    except Exception:  # the process ended between listing and reading
        return []


def this_process():
    import psutil

    return [psutil.Process()]


def dask_processes(client):
    import psutil

    pids = list(client.run(lambda: __import__("os").getpid()).values())

    def listed():
        return [psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]
    return listed


def run_jobs(engine, n_rows, frames, jobs, expected, processes, read=0.0) -> None:
    """Time each job on ``frames`` (the engine's inputs); against pandas' results when given.

    Dask and Spark read the Parquet files inside every job; pandas reads them beforehand, in
    ``read`` seconds, so each ratio is printed against pandas' job alone and against pandas'
    read plus job.
    """
    for name, (run, table) in jobs.items():
        with PeakMemory(processes) as memory:
            start = time.perf_counter()
            result = run(frames)
            seconds = time.perf_counter() - start
        line = (f"{name:8} {engine:6} {n_rows:>11,} rows: {seconds:7.2f} s, "
                f"{seconds / n_rows * 1e9:6.1f} ns/row")
        if engine == "pandas":
            expected[name] = (seconds, read, table(result))
            line += f" (+ {read:.2f} s reading the files)"
        elif name in expected:
            local, local_read, numbers = expected[name]
            gap = largest_difference(numbers, table(result))
            line += (f", {seconds / local:.2f}× pandas ({seconds / (local + local_read):.2f}× "
                     f"pandas' read + job), largest difference {gap:.1e}")
        line += f", {'process' if engine == 'pandas' else 'worker'} peak {memory.peak:,.0f} MiB"
        print(line, flush=True)


def spark_dtype_results(frames, jobs) -> dict:
    """Each job's numbers from pandas on the dtypes Spark gives the same files (categories as
    strings), untimed: a sampled check (``label_errors``) draws by the rows' codes, which
    follow a categorical column's order and a string column's sorted order, so its rows
    differ between the two dtypes on any engine."""
    def strings(frame):
        if frame is None:
            return None
        return frame.astype({c: object for c in frame.select_dtypes("category").columns})
    converted = tuple(strings(f) for f in frames)
    return {name: table(run(converted)) for name, (run, table) in jobs.items()}


def largest_difference(expected, got) -> float:
    """The largest absolute gap between the numbers of two results' tables (a table or a dict
    of them), rows matched by label where the labels are unique: Spark sorts string levels,
    where pandas keeps a categorical column's order."""
    if isinstance(expected, dict):
        return max((largest_difference(expected[k], got[k]) for k in expected
                    if expected[k] is not None), default=0.0)
    if expected.index.is_unique and set(expected.index) == set(got.index):
        got = got.reindex(expected.index)
    numbers = expected.select_dtypes("number").columns
    gaps = np.abs(expected[numbers].to_numpy(float) - got[numbers].to_numpy(float))
    return float(np.nanmax(gaps, initial=0.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--engines", nargs="+", default=["pandas", "dask", "spark"])
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    parser.add_argument("--pandas-rows", type=int, default=10_000_000,
                        help="run the pandas path up to this many rows")
    parser.add_argument("--validate-rows", type=int, default=10_000_000,
                        help="run validate and drift (reference and current of this size) up to here")
    args = parser.parse_args()
    print(machine())
    jobs = {
        "bias": (lambda f: rai_nb.bias(f[0], target="y", prediction="pred", score="score",
                                       sensitive=["region", "group"]),
                 lambda result: result.by_group),
        "slices": (lambda f: rai_nb.slices(f[0], target="y", prediction="pred", max_l=2,
                                           features=["region", "group", "age", "income"]),
                   lambda result: result.top[["size", "mean_loss", "score", "p_value"]]),
    }
    reference_jobs = {
        "validate": (lambda f: rai_nb.validate(f[0], reference=f[1], target="y",
                                               sensitive="group"),
                     lambda result: result.details),
        "drift": (lambda f: rai_nb.drift(f[1], f[0]),
                  lambda result: result.columns.select_dtypes("number")),
    }
    readers, processes, closers = {}, {}, []
    if "dask" in args.engines:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        cluster = None if args.scheduler else LocalCluster(n_workers=2, threads_per_worker=1,
                                                           memory_limit="6GiB",
                                                           dashboard_address=":0")
        client = Client(args.scheduler or cluster)
        readers["dask"] = lambda folder: dd.read_parquet(str(folder))
        processes["dask"] = dask_processes(client)
        closers += [client.close] + ([cluster.close] if cluster is not None else [])
    if "spark" in args.engines:
        spark = rai_nb.engine.local_spark("bench_engines", driver_memory="6g")
        # Starts the JVM's Python workers and loads rai_nb in them, as Dask's cluster is started
        # before the clock runs.
        rai_nb.engine.partitioned(spark.range(0, 100, 1, 2)).parts.map(len).collect()
        readers["spark"] = lambda folder: spark.read.parquet(str(folder))
        processes["spark"] = spark_processes()
        closers.append(spark.stop)
    readers["pandas"] = lambda folder: pd.read_parquet(folder)
    processes["pandas"] = this_process
    order = [e for e in ("pandas", "dask", "spark") if e in args.engines]
    with tempfile.TemporaryDirectory() as tmp:
        for n_rows in args.rows:
            folder = write_parquet(Path(tmp), n_rows)
            with_reference = n_rows <= args.validate_rows
            ref_folder = write_parquet(Path(tmp), n_rows, seed=1) if with_reference else None
            expected: dict = {}
            as_spark: dict = {}
            for engine in order:
                if engine == "pandas" and n_rows > args.pandas_rows:
                    continue
                start = time.perf_counter()
                current = readers[engine](folder)
                read = time.perf_counter() - start
                reference = readers[engine](ref_folder) if with_reference else None
                read_both = time.perf_counter() - start
                frames = (current, reference)
                against = expected
                if engine == "spark" and as_spark:
                    against = {name: (*expected[name][:2], as_spark[name]) for name in as_spark}
                run_jobs(engine, n_rows, frames, jobs, against, processes[engine], read)
                if with_reference:
                    run_jobs(engine, n_rows, frames, reference_jobs, against, processes[engine],
                             read_both)
                if engine == "pandas" and "spark" in order:
                    asked = {**jobs, **(reference_jobs if with_reference else {})}
                    as_spark = spark_dtype_results(frames, asked)
                del current, reference, frames
    for close in closers:
        close()


if __name__ == "__main__":
    main()
