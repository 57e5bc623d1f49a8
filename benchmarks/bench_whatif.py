"""What-if editor: seconds from a widget edit to the new prediction and waterfall, warm kernel.

UCI Adult with its categorical columns as pandas categories; a HistGradientBoosting model
(native categories) and an XGBoost model (``enable_categorical``), 100 trees each. One editor
per model; after a warm-up edit, each timed edit sets ``age`` to a new value, which runs the
editor's whole update (edited row, prediction and probability, exact TreeSHAP with its
additivity check, waterfall SVG, HTML) — everything but the widget sync to the browser. The
peer is what a user would write by hand for the same answer: ``shap.TreeExplainer`` on the
edited row, ``predict_proba``, and shap's waterfall plot saved as SVG.

Wall times depend on what else the machine runs; the CPU column is the process's own time
for the update (one thread), i.e. its latency on an idle core. The ratio is of wall medians.

Run: ``.venv/bin/python benchmarks/bench_whatif.py`` (``--edits N``, default 30).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb


def adult():
    frame = rai_nb.load_adult()
    y = (frame["income"].astype(str).str.contains(">")).to_numpy(dtype=int)
    X = frame.drop(columns=["income", "split"])
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return X.astype({c: "category" for c in categorical}), y


def models(X, y) -> dict:
    import xgboost

    return {
        "HistGradientBoosting (100 trees)": HistGradientBoostingClassifier(
            max_iter=100, categorical_features="from_dtype", random_state=0).fit(X, y),
        "XGBoost (100 trees, categories)": xgboost.XGBClassifier(
            n_estimators=100, enable_categorical=True, tree_method="hist").fit(X, y),
    }


def edit_latencies(editor, ages) -> tuple[list[float], list[float]]:
    """Wall seconds of each edit's full update (as the editor measures it), and the CPU seconds
    the process spent on it: the update runs on one thread, so its CPU time is its wall time on
    an idle core, whatever else the machine is running."""
    walls, cpus = [], []
    for age in ages:
        start = time.process_time()
        editor.editors["age"].value = float(age)
        cpus.append(time.process_time() - start)
        walls.append(editor.latency)
    return walls, cpus


def peer_latencies(model, row, ages) -> list[float]:
    """shap by hand: explainer call, probability and waterfall figure per edit."""
    import matplotlib.pyplot as plt
    import shap

    explainer = shap.TreeExplainer(model)
    latencies = []
    for age in ages:
        start = time.perf_counter()
        edited = row.assign(age=float(age))
        values = explainer(edited)
        model.predict_proba(edited)
        shap.plots.waterfall(values[0], show=False)
        plt.gcf().savefig(io.StringIO(), format="svg")
        plt.close("all")
        latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    X, y = adult()
    rng = np.random.default_rng(0)
    ages = rng.integers(17, 90, args.edits + 1)
    label = X.index[123]
    print(machine(), f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':<34} {'edit wall (median / p90 / max)':>31} | {'CPU (median)':>12} | "
          f"{'shap by hand (median)':>21} | ratio")
    for name, model in models(X, y).items():
        editor = rai_nb.whatif(model, X, row=label)
        editor.editors["age"].value = float(ages[0])  # warm-up: first calls compile and cache
        ours, cpu = edit_latencies(editor, ages[1:])
        try:
            peer = statistics.median(peer_latencies(model, X.loc[[label]], ages[1:]))
        except Exception as error:  # shap cannot explain this model
            print(f"  shap failed on {name}: {type(error).__name__}: {error}")
            peer = float("nan")
        median = statistics.median(ours)
        p90 = float(np.quantile(ours, 0.9))
        print(f"{name:<34} {median * 1e3:>10.1f} / {p90 * 1e3:>6.1f} / {max(ours) * 1e3:>6.1f} ms"
              f" | {statistics.median(cpu) * 1e3:>9.1f} ms | {peer * 1e3:>18.1f} ms | "
              f"{peer / median:>5.1f}x")


if __name__ == "__main__":
    main()
