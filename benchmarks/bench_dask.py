"""``bias``, ``slices``, ``validate`` and ``drift`` on Dask: synthetic Parquet data of growing size.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--rows 10000000 50000000]``. Prints time per
row (flat when the work scales linearly), the pandas path on the largest size that fits, and the
peak memory of each worker process. The same code runs on a multi-node cluster: pass the
scheduler's address with ``--scheduler tcp://host:8786``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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


def compare(name, n_rows, run, table, lazy, frame, client) -> None:
    """Time ``run`` on the Dask input, and on the pandas one when given; print both."""
    start = time.perf_counter()
    result = run(lazy)
    seconds = time.perf_counter() - start
    print(f"{name:8} dask   {n_rows:>11,} rows: {seconds:6.2f} s, {seconds / n_rows * 1e9:6.1f} ns/row, "
          f"worker peak {worker_peak_mb(client):,.0f} MiB", flush=True)
    if frame is None:
        return
    start = time.perf_counter()
    in_memory = run(frame)
    local = time.perf_counter() - start
    expected, got = (np.asarray(table(r), dtype=float) for r in (in_memory, result))
    gap = float(np.nanmax(np.abs(expected - got), initial=0.0))
    print(f"{name:8} pandas {n_rows:>11,} rows: {local:6.2f} s, {local / n_rows * 1e9:6.1f} ns/row "
          f"(dask/pandas {seconds / local:.2f}×), largest difference {gap:.1e}", flush=True)


def worker_peak_mb(client) -> float:
    import resource

    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return max(peaks.values())


def main():
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    parser.add_argument("--pandas-rows", type=int, default=10_000_000,
                        help="also run the pandas path up to this many rows")
    parser.add_argument("--validate-rows", type=int, default=10_000_000,
                        help="run validate and drift (reference and current of this size) up to here")
    args = parser.parse_args()
    print(machine())
    cluster = None if args.scheduler else LocalCluster(n_workers=2, threads_per_worker=1,
                                                       memory_limit="6GiB",
                                                       dashboard_address=":0")
    client = Client(args.scheduler or cluster)
    reference_jobs = {
        "validate": (lambda pair: rai_nb.validate(pair[0], reference=pair[1], target="y",
                                                  sensitive="group"),
                     lambda result: np.concatenate([t.select_dtypes("number").to_numpy(float).ravel()
                                                    for t in result.details.values() if t is not None])),
        "drift": (lambda pair: rai_nb.drift(pair[1], pair[0]),
                  lambda result: result.columns.select_dtypes("number")),
    }
    jobs = {
        "bias": (lambda frame: rai_nb.bias(frame, target="y", prediction="pred", score="score",
                                           sensitive=["region", "group"]),
                 lambda result: result.by_group),
        "slices": (lambda frame: rai_nb.slices(frame, target="y", prediction="pred", max_l=2,
                                               features=["region", "group", "age", "income"]),
                   lambda result: result.top[["size", "mean_loss", "score", "p_value"]]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n_rows in args.rows:
            folder = write_parquet(Path(tmp), n_rows)
            lazy = dd.read_parquet(str(folder))
            frame = pd.read_parquet(folder) if n_rows <= args.pandas_rows else None
            for name, (run, table) in jobs.items():
                compare(name, n_rows, run, table, lazy, frame, client)
            if n_rows <= args.validate_rows:
                # validate and drift read a reference too: the same rows with other seeds.
                ref_folder = write_parquet(Path(tmp), n_rows, seed=1)
                reference = dd.read_parquet(str(ref_folder))
                ref_frame = pd.read_parquet(ref_folder) if frame is not None else None
                for name, (run, table) in reference_jobs.items():
                    compare(name, n_rows, run, table, (lazy, reference),
                            None if frame is None else (frame, ref_frame), client)
                del ref_frame
            del frame
    client.close()
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
