"""TreeSHAP: rai_nb.explain beside shap.TreeExplainer on a zoo of tree models, in one run.

Every model is fitted with its library's defaults (or the named setting) on UCI Adult in two
encodings: one-hot (pandas dummies, 100+ features) and ordinal (14 features). Speeds are rows
per second on the same rows; rai_nb's values are checked against shap's on those rows. XGBoost,
LightGBM and CatBoost are explained by their own libraries in both tools, so there the figure
shows what rai_nb adds around the call (building the input, the additivity check). KernelSHAP
is in bench_kernel_shap.py.

Run: ``.venv/bin/python benchmarks/bench_explain.py`` (``--quick`` for fewer rows and models).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb

#: Seconds a peer may take on one case; its rows are cut so that it stays near this.
PEER_BUDGET = 20.0


def encodings():
    adult = rai_nb.load_adult()
    y = adult["income"].to_numpy()
    X = adult.drop(columns=["income", "split"])
    categorical = [c for c in X.columns if str(X[c].dtype) in ("category", "object")]
    ordinal = X.assign(**{c: X[c].astype("category").cat.codes for c in categorical})
    one_hot = pd.get_dummies(X, columns=categorical, dtype=float)
    return {"one-hot": one_hot.astype(float), "ordinal": ordinal.astype(float)}, y


def models(quick: bool) -> dict:
    import catboost
    import lightgbm
    import xgboost

    zoo = {
        "RandomForest default (100 trees, full depth)": lambda: RandomForestClassifier(
            random_state=0, n_jobs=2),
        "RandomForest 100 trees, depth 12": lambda: RandomForestClassifier(
            max_depth=12, random_state=0, n_jobs=2),
        "ExtraTrees default": lambda: ExtraTreesClassifier(random_state=0, n_jobs=2),
        "HistGradientBoosting default": lambda: HistGradientBoostingClassifier(random_state=0),
        "GradientBoosting default (100 x depth 3)": lambda: GradientBoostingClassifier(
            random_state=0),
        "XGBoost depth 8": lambda: xgboost.XGBClassifier(max_depth=8, n_jobs=2),
        "LightGBM 255 leaves": lambda: lightgbm.LGBMClassifier(num_leaves=255, verbose=-1,
                                                               n_jobs=2),
        "CatBoost default (1000 x depth 6)": lambda: catboost.CatBoostClassifier(
            verbose=0, thread_count=2, allow_writing_files=False),
    }
    if quick:
        keep = ("RandomForest 100 trees, depth 12", "HistGradientBoosting default",
                "XGBoost depth 8")
        zoo = {k: v for k, v in zoo.items() if k in keep}
    return zoo


def shap_explainer(model):
    import shap

    return shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")


def timed(function):
    start = time.perf_counter()
    out = function()
    return out, time.perf_counter() - start


def peer_rows(function, rows: int) -> int:
    """Rows the peer can explain within PEER_BUDGET, from a 10-row probe."""
    _, probe = timed(lambda: function(10))
    return int(max(10, min(rows, 10 * PEER_BUDGET / max(probe, 1e-9))))


def compare(label, model, X, rows, interactions=False):
    sample = X.iloc[:rows]
    rai_nb.explain(model, sample.iloc[:5], interactions=interactions)  # compile / warm caches
    ours, ours_time = timed(lambda: rai_nb.explain(model, sample, interactions=interactions))
    explainer = shap_explainer(model)
    method = explainer.shap_interaction_values if interactions else explainer.shap_values
    n_peer = peer_rows(lambda n: method(sample.iloc[:n]), rows)
    theirs, peer_time = timed(lambda: method(sample.iloc[:n_peer]))
    theirs = np.asarray(theirs)
    values = np.asarray(ours.values)[:n_peer]
    if theirs.shape != values.shape:
        theirs = np.moveaxis(theirs, 0, -1) if theirs.ndim == values.ndim else theirs.reshape(
            values.shape)
    gap = np.abs(values - theirs).max()
    ours_rate, peer_rate = rows / ours_time, n_peer / peer_time
    print(f"{label:<58} rai_nb {ours_rate:>8.0f} rows/s ({rows} rows) | shap {peer_rate:>8.0f} "
          f"rows/s ({n_peer} rows) | {ours_rate / peer_rate:>6.2f}x | max |diff| {gap:.1e}",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import numba

    print(machine(), f"numba threads {numba.get_num_threads()}")
    data, y = encodings()
    rows = 100 if args.quick else 500
    for name, make in models(args.quick).items():
        # Fully grown forests have ~10^6 paths: fewer rows keep the run short.
        n = rows // 5 if name.startswith(("RandomForest default", "ExtraTrees")) else rows
        for encoding, X in data.items():
            model = make().fit(X, y)
            label = f"{name}, {encoding} ({X.shape[1]} features)"
            compare(label, model, X, n)
            if not name.startswith(("XGBoost", "LightGBM", "CatBoost", "RandomForest default",
                                    "ExtraTrees")):
                compare(f"  interactions, {encoding}", model, X, max(20, rows // 10),
                        interactions=True)


if __name__ == "__main__":
    main()
