"""rai_nb.validate / rai_nb.drift against per-column scipy loops, and MMD against a naive version.

Run: ``.venv/bin/python benchmarks/bench_validate.py`` (``--quick`` for a short run).
Evidently is not compared: installing it pulls about 60 packages (litestar, uvicorn, plotly,
nltk, statsmodels, cryptography, ...), far beyond what a drift statistic needs.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import cdist, jensenshannon

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine, report

import rai_nb
from rai_nb.checks.mmd import mmd_test

N_NUMERIC, N_CATEGORICAL = 20, 8


def synthetic(n_rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """20 numeric + 8 categorical features, a binary sensitive column and a binary target."""
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(N_NUMERIC):
        values = rng.normal(shift if i < 3 else 0.0, 1.0, n_rows)
        columns[f"x{i}"] = values.round(0) if i % 4 == 0 else values  # some integer-like
    for i in range(N_CATEGORICAL):
        levels = np.array([f"c{i}_{k}" for k in range(5 + 6 * i)])
        columns[f"c{i}"] = levels[rng.integers(0, levels.size, n_rows)]
    columns["sex"] = np.where(rng.random(n_rows) < 0.5, "F", "M")
    score = columns["x1"] + 0.5 * columns["x2"] + rng.normal(0, 1, n_rows)
    columns["y"] = (score > 0.5).astype(np.int64)
    return pd.DataFrame(columns)


def scipy_drift(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    """The per-column loop a user writes with scipy: KS + Wasserstein, χ² + Jensen–Shannon."""
    out = {}
    for name in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[name]):
            a, b = ref[name].to_numpy(), cur[name].to_numpy()
            out[name] = (stats.ks_2samp(a, b).pvalue, stats.wasserstein_distance(a, b))
        else:
            counts = pd.concat([ref[name].value_counts(), cur[name].value_counts()],
                               axis=1).fillna(0).T.to_numpy()
            out[name] = (stats.chi2_contingency(counts).pvalue,
                         jensenshannon(counts[0], counts[1]))
    return out


def naive_mmd(x, y, sigma, n_permutations, seed=0):
    """Full kernel matrix with scipy's cdist, then every permutation's block sums."""
    z = np.vstack([x, y])
    kernel = np.exp(-cdist(z, z, "sqeuclidean") / (2 * sigma**2))
    m, n = len(x), len(y)
    rng = np.random.default_rng(seed)

    def statistic(order):
        kxx = kernel[np.ix_(order[:m], order[:m])]
        kyy = kernel[np.ix_(order[m:], order[m:])]
        kxy = kernel[np.ix_(order[:m], order[m:])]
        return ((kxx.sum() - m) / (m * (m - 1)) + (kyy.sum() - n) / (n * (n - 1))
                - 2 * kxy.mean())

    observed = statistic(np.arange(m + n))
    null = [statistic(rng.permutation(m + n)) for _ in range(n_permutations)]
    return observed, (1 + np.sum(np.array(null) >= observed)) / (1 + n_permutations)


def timed(function):
    """(seconds, peak traced memory in MiB, result): one untraced call for the time, then one
    under tracemalloc (which slows allocation-heavy code) for the memory."""
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def best_of(function, repeats: int = 7):
    """Smallest wall time of ``repeats`` calls (the machine is shared) and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def compare_exact_ks():
    """Exact two-sample KS p-values beside scipy's exact method: speed (best of 7), and relative
    agreement where p is tiny (a tail taken as 1 − P(inside) loses those digits)."""
    from scipy import stats

    from rai_nb.checks.drift import ks_pvalue

    rng = np.random.default_rng(0)
    ks_pvalue(0.5, 10, 12, method="exact")  # loads the compiled kernel (numba) outside the timing
    for n1, n2, shift in ((200, 150, 1.0), (500, 500, 2.5), (9_000, 10_000, 0.03)):
        a, b = rng.normal(size=n1), rng.normal(shift, size=n2)
        peer, expected = best_of(lambda a=a, b=b: stats.ks_2samp(a, b, method="exact"))
        ours, got = best_of(lambda e=expected, n1=n1, n2=n2: ks_pvalue(e.statistic, n1, n2,
                                                                     method="exact"))
        report(f"exact KS p-value, {n1:,} x {n2:,} rows (p = {expected.pvalue:.2g})", ours,
               "scipy exact", peer)
        print(f"  relative difference to scipy: {abs(got - expected.pvalue) / expected.pvalue:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_rows = 100_000 if args.quick else 1_000_000
    mmd_rows, naive_rows = (2_000, 1_000) if args.quick else (20_000, 3_000)
    print(machine())
    compare_exact_ks()
    ref, cur = synthetic(n_rows, 0), synthetic(n_rows, 1, shift=0.2)
    label = f"{n_rows:,} rows x {ref.shape[1]} columns, reference same size"

    seconds, peak, result = timed(lambda: rai_nb.validate(cur, reference=ref, target="y",
                                                          sensitive="sex"))
    print(f"validate (all {len(result.checks)} default checks), {label}: {seconds:.2f} s, "
          f"peak traced memory {peak:,.0f} MiB")
    print(result.checks[["severity", "message"]].to_string())
    ours, ours_peak, _ = timed(lambda: rai_nb.drift(ref, cur, target="y", mmd=False))
    peer, peer_peak, _ = timed(lambda: scipy_drift(ref, cur))
    report(f"per-column drift, {label}", ours, "scipy loop", peer)
    print(f"  peak traced memory: rai_nb {ours_peak:,.0f} MiB, scipy loop {peer_peak:,.0f} MiB")
    report(f"full validate vs scipy drift loop, {label}", seconds, "scipy loop", peer)

    rng = np.random.default_rng(5)
    for rows in (naive_rows, mmd_rows):
        x, y = rng.normal(size=(rows, 20)), rng.normal(0.02, size=(rows, 20))
        ours, ours_peak, test = timed(lambda x=x, y=y: mmd_test(x, y, n_permutations=100,
                                                                 random_state=0))
        line = f"MMD, {rows:,} x {rows:,} rows, 20 dims, 100 permutations"
        if rows == naive_rows:
            sigma = test.bandwidth
            peer, peer_peak, (stat, _) = timed(lambda x=x, y=y, s=sigma: naive_mmd(x, y, s, 100))
            assert abs(stat - test.statistic) < 1e-9
            report(line, ours, "naive cdist", peer)
            print(f"  peak traced memory: rai_nb {ours_peak:,.0f} MiB, naive {peer_peak:,.0f} MiB")
        else:
            print(f"{line}: rai_nb {ours:.2f} s (p = {test.pvalue:.3f}), peak traced memory "
                  f"{ours_peak:,.0f} MiB; the naive version would need a "
                  f"{(2 * rows) ** 2 * 8 / 2**30:.1f} GiB kernel matrix")


if __name__ == "__main__":
    main()
