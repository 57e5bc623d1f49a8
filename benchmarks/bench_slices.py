"""rai_nb.slices against the ``sliceline`` package: time and peak memory, same binned inputs.

Each tool runs in its own subprocess: peak memory is the process's maximum resident set
size (``getrusage``, imports and data included), and the search's own peak allocation is
measured by ``tracemalloc`` in a second run (skipped for runs over 60 s). Both tools get the
same integer-coded features; rai_nb's time is the whole ``rai_nb.slices`` call (encoding,
search and significance tests), sliceline's the ``fit``. Both are warmed up on a tiny input
first (sliceline compiles with numba).

Run: ``.venv/bin/python benchmarks/bench_slices.py``. The peer runs that need far more than
6 GB (sliceline on all of Adult at max_l=3 takes about 15 GB, on 1M rows 18 GB or more) run
only with ``--large-peers``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

#: name → (data, max_l, whether sliceline runs without --large-peers)
CASES = {
    "adult max_l=2": ("adult", 2, True),
    "adult 10k rows max_l=3": ("adult10k", 3, True),
    "adult max_l=3": ("adult", 3, False),
    "synthetic 100k x 10 max_l=2": ("synthetic100k", 2, True),
    "synthetic 1M x 10 max_l=2": ("synthetic1m", 2, False),
    "synthetic 1M x 10 max_l=3": ("synthetic1m", 3, False),
}
PARAMS = dict(alpha=0.95, k=10, min_sup=32)


def adult(n_rows: int | None = None):
    """Adult features (fnlwgt dropped) and the 0/1 errors of a depth-6 tree."""
    from sklearn.tree import DecisionTreeClassifier

    from rai_nb.datasets import load_adult

    frame = load_adult()
    frame = frame.drop(columns=[c for c in frame.columns if "fnlwgt" in str(c)])
    features = frame.drop(columns="income")
    onehot = pd.get_dummies(features, dummy_na=True).astype(np.float64).fillna(-1)
    tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(onehot, frame["income"])
    errors = (tree.predict(onehot) != frame["income"].to_numpy()).astype(np.float64)
    features = features.iloc[:n_rows].reset_index(drop=True)
    return features, errors[:n_rows], None


def synthetic(n_rows: int, seed: int = 0):
    """10 categorical columns of 5-20 levels and errors with two planted slices."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(5, 21, 10)
    features = pd.DataFrame({f"c{j}": rng.integers(0, d, n_rows) for j, d in enumerate(levels)})
    bad = ((features["c0"] == 1) & (features["c3"] == 2)) | (features["c5"] == 0)
    errors = np.where(bad, rng.random(n_rows) < 0.5, rng.random(n_rows) < 0.1).astype(np.float64)
    return features, errors, {c: None for c in features.columns}


def load(name: str):
    if name.startswith("adult"):
        return adult(10_000 if name == "adult10k" else None)
    return synthetic(100_000 if name == "synthetic100k" else 1_000_000)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(tool: str, data: str, max_l: int, limit_gb: float) -> None:
    """Run one tool on one case in this process and print a JSON line."""
    if limit_gb > 0:  # a run that would exceed it fails with MemoryError instead of swapping
        cap = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import rai_nb
    from rai_nb.frame import encode_slice_features

    features, errors, bins = load(data)
    codes = encode_slice_features(features, list(features.columns), bins=bins).codes
    if tool == "sliceline":
        from sliceline.slicefinder import Slicefinder

        Slicefinder(verbose=False, max_l=2, **PARAMS).fit(codes[:200], errors[:200])
        run = lambda: Slicefinder(verbose=False, max_l=max_l, **PARAMS).fit(codes, errors)  # noqa: E731
        scores = lambda fit: [s["slice_score"] for s in fit.top_slices_statistics_]  # noqa: E731
    else:
        rai_nb.slices(features.iloc[:200], errors=errors[:200], bins=bins, max_l=2, **PARAMS)
        run = lambda: rai_nb.slices(features, errors=errors, bins=bins, max_l=max_l, **PARAMS)  # noqa: E731
        scores = lambda result: result.top["score"].tolist()  # noqa: E731
    start = time.perf_counter()
    fitted = run()
    seconds = time.perf_counter() - start
    traced = None
    if seconds < 60:  # a second run under tracemalloc: the search's own peak allocation
        tracemalloc.start()
        run()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "traced_mb": traced,
                      "rows": len(features), "scores": scores(fitted)}))


def measure(tool: str, data: str, max_l: int, args) -> dict:
    limit = 0 if args.large_peers else args.memory_limit
    command = [sys.executable, __file__, "--worker", tool, data, str(max_l), str(limit)]
    timeout = args.timeout
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"failed": f"over {timeout:.0f} s"}
    if done.returncode:
        return {"failed": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(run: dict) -> str:
    traced = "   -" if run["traced_mb"] is None else f"{run['traced_mb']:4.0f}"
    return f"RSS {run['peak_mb']:6.0f} MB, search {traced} MB"


def show(case: str, ours: dict, peer: dict | None) -> None:
    line = f"{case:<28} rows {ours['rows']:>9,} | rai_nb {ours['seconds']:7.2f} s {memory(ours)}"
    if peer is None:
        line += " | sliceline not run (needs --large-peers)"
    elif "failed" in peer:
        line += f" | sliceline failed: {peer['failed']}"
    else:
        same = np.allclose(ours["scores"], peer["scores"], rtol=1e-9)
        line += (f" | sliceline {peer['seconds']:7.2f} s {memory(peer)} | "
                 f"{peer['seconds'] / ours['seconds']:6.1f}x, same top-K: {'yes' if same else 'NO'}")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-peers", action="store_true",
                        help="also run sliceline where it needs well over 6 GB (or fails)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per run")
    parser.add_argument("--memory-limit", type=float, default=6.0,
                        help="GiB of address space per run without --large-peers (0: none)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), float(args.worker[3]))
        return
    print(machine())
    print(f"SliceLine alpha={PARAMS['alpha']}, k={PARAMS['k']}, min_sup={PARAMS['min_sup']}; "
          "RSS = peak resident memory of the process (imports and data included), "
          "search = tracemalloc peak of a second run (skipped for runs over 60 s)")
    for case, (data, max_l, peer_default) in CASES.items():
        ours = measure("rai_nb", data, max_l, args)
        if "failed" in ours:
            print(f"{case:<30} rai_nb failed: {ours['failed']}", flush=True)
            continue
        run_peer = peer_default or args.large_peers
        show(case, ours, measure("sliceline", data, max_l, args) if run_peer else None)


if __name__ == "__main__":
    main()
