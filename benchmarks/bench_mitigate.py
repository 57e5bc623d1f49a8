"""ThresholdClassifier against fairlearn's ThresholdOptimizer: fit time and peak memory.

Both post-process the same prefit scores (a model whose ``predict_proba`` reads a ``score``
column, so neither pays for a real model's predictions; the real logistic regression's
``predict_proba`` time is printed beside, as the share both would add). Peak memory is the
rise of the process's peak RSS during one fit, in a fresh subprocess per tool and size, with
``chunk_rows=100_000``: ours exact (``max_bins=None``) and streamed (the default
``max_bins="auto"``, which streams beyond ``chunk_rows`` rows), beside fairlearn.

Run: ``.venv/bin/python benchmarks/bench_mitigate.py`` (``--quick`` for 100k rows only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine, report

import rai_nb
from rai_nb.mitigation import ThresholdClassifier

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CASES = ("logistic", "coarse", "30 groups")


class Scores(ClassifierMixin, BaseEstimator):
    """A fitted model whose positive-class probability is the ``score`` column."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = X["score"].to_numpy()
        return np.stack([1 - p, p], axis=1)


def adult_like(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Adult rows drawn with replacement, continuous columns jittered so scores rarely tie;
    ``intersection`` is sex × race × one of three (random) regions: 30 groups, each with both
    labels (fairlearn rejects a group without them)."""
    adult = rai_nb.load_adult()
    rng = np.random.default_rng(seed)
    rows = adult.iloc[rng.integers(0, len(adult), n_rows)].reset_index(drop=True)
    out = rows[NUMERIC].astype(np.float64) + rng.uniform(-0.5, 0.5, (n_rows, len(NUMERIC)))
    region = np.array(["north", "south", "west"])[rng.integers(0, 3, n_rows)]
    out["sex"] = rows["sex"]
    out["intersection"] = pd.Categorical(rows["sex"].astype(str) + "/" + rows["race"].astype(str)
                                         + "/" + region)
    out["income"] = rows["income"].to_numpy()
    return out


def case_frame(case: str, n_rows: int):
    """``(X with score and group columns, y, predict_proba seconds of the real model)``."""
    adult = rai_nb.load_adult()
    data = adult_like(n_rows)
    model = (HistGradientBoostingClassifier(max_iter=10, max_depth=2, random_state=0)
             if case == "coarse" else LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs' iteration limit at the defaults
        model.fit(adult[NUMERIC], adult["income"])
    start = time.perf_counter()
    score = model.predict_proba(data[NUMERIC])[:, 1]
    proba_seconds = time.perf_counter() - start
    group = data["intersection"] if case == "30 groups" else data["sex"]
    X = pd.DataFrame({"score": score, "group": group})
    return X, data["income"].to_numpy(), proba_seconds


def fit_ours(X, y, constraint, max_bins="auto"):
    return ThresholdClassifier(Scores().fit(X, y), constraint=constraint, sensitive="group",
                               max_bins=max_bins).fit(X, y)


def fit_fairlearn(X, y, constraint):
    from fairlearn.postprocessing import ThresholdOptimizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ThresholdOptimizer(estimator=Scores().fit(X, y), constraints=constraint,
                                  prefit=True, predict_method="predict_proba").fit(
            X[["score"]], y, sensitive_features=X["group"])


def peak_rise_mb(tool: str, case: str, n_rows: int, constraint: str) -> float:
    """Rise of peak RSS during one fit, measured in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--memory", tool, case, str(n_rows),
                          constraint], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


#: Memory tools: ours exact (every score in memory), ours streamed in 100k-row chunks
#: (max_bins="auto" streams beyond chunk_rows rows), fairlearn.
TOOLS = {"rai_nb exact": lambda X, y, c: fit_ours(X, y, c, max_bins=None),
         "rai_nb streamed": fit_ours, "fairlearn": fit_fairlearn}


def memory_child(tool: str, case: str, n_rows: int, constraint: str) -> None:
    X, y, _ = case_frame(case, n_rows)
    fit = TOOLS[tool]
    rai_nb.config(chunk_rows=1_000)  # imports and compiling (both histogram modes) first
    fit(X.iloc[:5000], y[:5000], "demographic_parity")
    rai_nb.config(chunk_rows=100_000)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    before = _rss_kb("VmRSS")
    fit(X, y, constraint)
    print(json.dumps({"peak_mb": (_rss_kb("VmHWM") - before) / 1024}))


def timing(sizes, repeat):
    for case in CASES:
        for n_rows in sizes:
            X, y, proba_seconds = case_frame(case, n_rows)
            for constraint in ("demographic_parity", "equalized_odds"):
                fit_ours(X, y, constraint)  # compile (or load the compiled kernels) first
                ours = best_time(lambda: fit_ours(X, y, constraint), repeat=repeat)
                theirs = best_time(lambda: fit_fairlearn(X, y, constraint), repeat=1)
                label = f"{case} {n_rows:,} rows, {constraint}"
                report(label, ours, "fairlearn", theirs)
            n_groups = X["group"].nunique()
            print(f"{'':<46} {n_groups} groups, {X['score'].nunique():,} distinct scores; "
                  f"the real model's predict_proba: {proba_seconds * 1e3:.1f} ms")


def ours_only(n_rows, repeat):
    for case in CASES:
        X, y, _ = case_frame(case, n_rows)
        for constraint in ("demographic_parity", "equalized_odds"):
            ours = best_time(lambda: fit_ours(X, y, constraint), repeat=repeat)
            label = f"{case} {n_rows:,} rows, {constraint}"
            print(f"{label:<46} rai_nb {ours * 1e3:>10.1f} ms (streamed in 1M-row chunks) | "
                  "fairlearn not run")


def memory(sizes):
    for n_rows in sizes:
        line = [f"logistic {n_rows:,} rows, demographic_parity peak rise:"]
        for tool in TOOLS:
            if tool == "fairlearn" and n_rows > 1_000_000:
                line.append("fairlearn not run")
                continue
            mb = peak_rise_mb(tool, "logistic", n_rows, "demographic_parity")
            line.append(f"{tool} {mb:,.0f} MB ({mb * 2**20 / n_rows:.0f} B/row)")
        print(" | ".join(line))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory", nargs=4, metavar=("TOOL", "CASE", "ROWS", "CONSTRAINT"))
    args = parser.parse_args()
    if args.memory:
        tool, case, n_rows, constraint = args.memory
        memory_child(tool, case, int(n_rows), constraint)
        return
    print(machine())
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    timing(sizes, repeat=3)
    if not args.quick:
        ours_only(3_000_000, repeat=2)
    memory(sizes if args.quick else [100_000, 1_000_000, 3_000_000])


if __name__ == "__main__":
    main()
