"""``rai_nb.bias`` on Dask: synthetic Parquet data of growing size on a local cluster.

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


def write_parquet(folder: Path, n_rows: int) -> Path:
    """``n_rows`` synthetic rows as Parquet files of ``PART_ROWS`` rows each."""
    target = folder / f"rows_{n_rows}"
    target.mkdir()
    for part, start in enumerate(range(0, n_rows, PART_ROWS)):
        rng = np.random.default_rng(part)
        n = min(PART_ROWS, n_rows - start)
        group = rng.integers(0, 50, n)
        frame = pd.DataFrame({
            "region": pd.Categorical.from_codes(rng.integers(0, 20, n), [f"r{i}" for i in range(20)]),
            "group": pd.Categorical.from_codes(group, [f"g{i}" for i in range(50)]),
            "y": (rng.random(n) < 0.3 + group / 200).astype(np.int8),
            "score": rng.random(n),
        })
        frame["pred"] = (frame["score"] > 0.6).astype(np.int8)
        frame.to_parquet(target / f"part-{part:04d}.parquet", index=False)
    return target


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
    args = parser.parse_args()
    print(machine())
    cluster = None if args.scheduler else LocalCluster(n_workers=2, threads_per_worker=1,
                                                       memory_limit="6GiB",
                                                       dashboard_address=None)
    client = Client(args.scheduler or cluster)
    options = dict(target="y", prediction="pred", score="score", sensitive=["region", "group"])
    with tempfile.TemporaryDirectory() as tmp:
        for n_rows in args.rows:
            folder = write_parquet(Path(tmp), n_rows)
            lazy = dd.read_parquet(str(folder))
            start = time.perf_counter()
            result = rai_nb.bias(lazy, **options)
            seconds = time.perf_counter() - start
            print(f"dask   {n_rows:>11,} rows: {seconds:6.2f} s, {seconds / n_rows * 1e9:6.1f} ns/row, "
                  f"{len(result.by_group)} groups, worker peak {worker_peak_mb(client):,.0f} MiB")
            if n_rows <= 10_000_000:
                frame = pd.read_parquet(folder)
                start = time.perf_counter()
                in_memory = rai_nb.bias(frame, **options)
                seconds = time.perf_counter() - start
                gap = float((in_memory.by_group - result.by_group).abs().max().max())
                print(f"pandas {n_rows:>11,} rows: {seconds:6.2f} s, {seconds / n_rows * 1e9:6.1f} "
                      f"ns/row, largest difference to dask {gap:.1e}")
                del frame
    client.close()
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
