"""Row-level drift (``rai_nb.drift(..., rows=True)``) of 1M current rows against 100k reference rows.

Run: ``.venv/bin/python benchmarks/bench_row_drift.py`` (``--quick``: 100k current rows).
Figures: the whole call with ``rows=True`` (wall and CPU seconds, and the load average before
it: on a shared machine the wall time measures the neighbours too) and the per-column part alone
(``rows=False``), so the row part is their difference; beside them the nearest-neighbour step
(scikit-learn's brute-force ``NearestNeighbors`` plus our exact recomputation of the chosen
distances) against ``NearestNeighbors`` alone (the same encoded points and reference sample) on
the first 50k current rows, and the distance to every reference row
(exact, all 100k) timed on 5k current rows and scaled to all of them, to show why the default
compares with a sample.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine, report

import rai_nb
from rai_nb.checks import row_drift as kr

N_NUMERIC, LEVELS = 10, (4, 8, 12)
REPEAT = 3


def synthetic(n_rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """10 numeric and 3 categorical columns; ``shift`` moves two numeric means."""
    rng = np.random.default_rng(seed)
    columns = {f"x{i}": rng.normal(shift if i < 2 else 0.0, 1.0, n_rows) for i in range(N_NUMERIC)}
    for i, n_levels in enumerate(LEVELS):
        columns[f"c{i}"] = np.array([f"c{i}_{k}" for k in range(n_levels)])[
            rng.integers(0, n_levels, n_rows)]
    return pd.DataFrame(columns)


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    out = function()
    return time.perf_counter() - start, out


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def neighbour_step(ref: pd.DataFrame, cur: pd.DataFrame, n_queries: int) -> None:
    """Our exact k-NN step against sklearn's brute force alone on the same points."""
    from sklearn.neighbors import NearestNeighbors

    from rai_nb.api._ood_filter import ood_filter

    class Identity:
        feature_names_in_ = np.array(ref.columns)

    scorer = ood_filter(Identity(), ref).scorer_
    numeric, codes = scorer.encode(cur.iloc[:n_queries])
    queries, extra = kr.embed(scorer.space, numeric, codes)
    ours, _ = timed(lambda: kr.nearest(queries, extra, scorer.points, scorer.k))
    peer = NearestNeighbors(n_neighbors=scorer.k, algorithm="brute").fit(scorer.points)
    theirs, _ = timed(lambda: peer.kneighbors(queries))
    report(f"5-NN of {n_queries:,} rows, {scorer.points.shape[0]:,} points", ours,
           "sklearn brute", theirs)
    full, _ = kr.embed(scorer.space, *scorer.encode(ref))
    n_full = 5_000
    exact, _ = timed(lambda: kr.nearest(queries[:n_full], extra[:n_full], full, scorer.k))
    print(f"exact against all {full.shape[0]:,} reference rows: {exact:.1f} s for {n_full:,} "
          f"rows, about {exact * len(cur) / n_full:.0f} s for {len(cur):,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_cur = 100_000 if args.quick else 1_000_000
    ref, cur = synthetic(100_000, 0), synthetic(n_cur, 1, shift=0.3)
    print(machine())
    rai_nb.drift(ref.iloc[:2000], cur.iloc[:2000], rows=True, mmd=False)  # compile numba
    columns = best_time(lambda: rai_nb.drift(ref, cur, mmd=False), repeat=REPEAT)
    runs = []
    for _ in range(REPEAT):
        load, cpu = os.getloadavg()[0], cpu_seconds()
        wall, result = timed(lambda: rai_nb.drift(ref, cur, mmd=False, rows=True))
        runs.append((wall, cpu_seconds() - cpu, load))
        print(f"  run: {wall:.1f} s wall, {runs[-1][1]:.1f} s CPU, load average before "
              f"{load:.1f}")
    whole, cpu, load = min(runs)
    rows = result.rows
    print(f"drift(rows=True), {n_cur:,} × 100k rows, best of {REPEAT}: {whole:.1f} s wall, "
          f"{cpu:.1f} s CPU, load {load:.1f} (per-column part {columns:.1f} s, row part "
          f"{whole - columns:.1f} s); "
          f"domain AUC {rows.domain_auc:.3f}, {rows.beyond_reference:.1%} beyond the "
          f"reference's 99th percentile, {rows.neighbour_rows:,} neighbour rows")
    neighbour_step(ref, cur, 50_000)


if __name__ == "__main__":
    main()
