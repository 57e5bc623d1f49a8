"""rai_nb.counterfactuals beside dice-ml's "random" and "genetic" methods on Adult.

A HistGradientBoosting pipeline (ordinal-encoded categories) on the bundled Adult data; the
same query rows (the model's predictions flip: 0 → 1 and 1 → 0), k counterfactuals each, every
tool free to change every feature but sex and race. Printed per tool: wall time, validity (the
share of the k × rows asked for that were returned and have the desired prediction by
``model.predict``), sparsity (mean features changed per counterfactual) and proximity (mean
MAD-scaled L1 over numeric features plus changed categorical ones, as rai_nb's distance).
rai_nb runs three times: as called by default (with the nearest real rows, which predicts the
rows of Adult nearer to each query row than its k-th nearest of the desired outcome), with
``n_nearest=0`` (counterfactuals only, as dice-ml computes), and with ``n_nearest=0`` and a
larger search ("50 x 15": population 50, at most 15 generations) for what more search buys.
Each rai_nb run also prints its model calls, candidate rows scored and data rows predicted.
Threads are limited to one (OpenMP thread contention on the shared machine distorts both); the
load average is printed before and after. ``--repeat n`` times every tool ``n`` times and keeps
the fastest.

Run: ``.venv/bin/python benchmarks/bench_counterfactuals.py [--rows 20] [--k 5]
[--methods random,genetic] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb
from rai_nb.explain.counterfactual import mad_scales

TARGET, FIXED = "income", ["sex", "race"]


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def adult():
    data = rai_nb.load_adult().dropna().drop(columns=["split", "fnlwgt"])
    categorical = list(data.select_dtypes("category").columns)
    data[categorical] = data[categorical].astype(str)  # dice-ml reads categories as strings
    X = data.drop(columns=TARGET)
    encoder = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
        remainder="passthrough")
    mask = [True] * len(categorical) + [False] * (X.shape[1] - len(categorical))
    model = make_pipeline(encoder, HistGradientBoostingClassifier(
        categorical_features=mask, max_iter=100, early_stopping=False, random_state=0))
    return model.fit(X, data[TARGET]), data, categorical


def scores(model, query, found, row_of, X, categorical, k):
    """Validity, sparsity and proximity of counterfactuals ``found`` (one frame, the query
    row of each in ``row_of``)."""
    if len(found) == 0:
        return 0.0, np.nan, np.nan
    origin = query.iloc[row_of].reset_index(drop=True)
    found = found[list(X.columns)].reset_index(drop=True)
    desired = 1 - model.predict(origin)
    valid = model.predict(found.astype(X.dtypes.to_dict())) == desired
    numeric = [c for c in X.columns if c not in categorical]
    scale = mad_scales(X[numeric].to_numpy(dtype=np.float64))
    gap = np.abs(found[numeric].to_numpy(dtype=np.float64) - origin[numeric].to_numpy(
        dtype=np.float64))
    moved = (gap > 1e-9).sum(1) + (found[categorical].to_numpy() != origin[categorical]
                                   .to_numpy()).sum(1)
    proximity = (gap / scale).sum(1) + (found[categorical].to_numpy()
                                         != origin[categorical].to_numpy()).sum(1)
    return valid.sum() / (k * len(query)), moved[valid].mean(), proximity[valid].mean()


def fastest(function, repeat: int):
    """The smallest wall time of ``repeat`` calls and the last call's value."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def ours(model, query, data, k, repeat=1, **options):
    X = data.drop(columns=TARGET)
    took, result = fastest(lambda: rai_nb.counterfactuals(model, query, data=X, sensitive=FIXED,
                                                          k=k, **options), repeat)
    found = result.counterfactuals
    row_of = query.index.get_indexer(found.index.get_level_values("row"))
    stats = result.stats
    print(f"  rai_nb {options or 'defaults'}: {stats['model_calls']} search calls, "
          f"{stats['candidates_scored']:,} candidates, {stats['data_rows_predicted']:,} data rows "
          "predicted")
    return took, found, row_of


def dice(model, query, data, k, method, categorical, repeat=1):
    import dice_ml

    X = data.drop(columns=TARGET)
    continuous = [c for c in X.columns if c not in categorical]
    explainer = dice_ml.Dice(dice_ml.Data(dataframe=data, continuous_features=continuous,
                                          outcome_name=TARGET),
                             dice_ml.Model(model=model, backend="sklearn"), method=method)
    vary = [c for c in X.columns if c not in FIXED]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        took, result = fastest(lambda: explainer.generate_counterfactuals(
            query, total_CFs=k, desired_class="opposite", features_to_vary=vary,
            verbose=False), repeat)
    frames = [(i, e.final_cfs_df) for i, e in enumerate(result.cf_examples_list)
              if e.final_cfs_df is not None]
    found = pd.concat([f for _, f in frames], ignore_index=True) if frames else pd.DataFrame()
    row_of = np.concatenate([np.full(len(f), i) for i, f in frames]) if frames else []
    return took, found, np.asarray(row_of, dtype=np.int64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--methods", default="random,genetic")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(machine(), "| threads: 1 | load average", load())
    with threadpool_limits(1):
        model, data, categorical = adult()
        X = data.drop(columns=TARGET)
        query = X.sample(args.rows, random_state=1)
        ours(model, query.head(2), data, args.k)  # warm-up: imports, first calls
        runs = {"rai_nb": ours(model, query, data, args.k, args.repeat),
                "rai_nb, no nearest": ours(model, query, data, args.k, args.repeat,
                                           n_nearest=0),
                "rai_nb, 50 x 15": ours(model, query, data, args.k, args.repeat, n_nearest=0,
                                        population=50, generations=15)}
        for method in args.methods.split(","):
            runs[f"dice-ml {method}"] = dice(model, query, data, args.k, method, categorical,
                                             args.repeat)
    print("load average", load())
    base, alone = runs["rai_nb"][0], runs["rai_nb, no nearest"][0]
    print(f"{args.rows} rows x k={args.k} on Adult ({len(X):,} rows, HistGradientBoosting)")
    print(f"{'tool':<20}{'time s':>9}{'/ rai_nb':>10}{'/ no nearest':>14}{'validity':>10}"
          f"{'sparsity':>10}{'proximity':>11}")
    for name, (took, found, row_of) in runs.items():
        validity, sparsity, proximity = scores(model, query, found, row_of, X, categorical,
                                               args.k)
        print(f"{name:<20}{took:>9.2f}{took / base:>9.1f}x{took / alone:>13.1f}x"
              f"{validity:>10.3f}{sparsity:>10.2f}{proximity:>11.2f}")


if __name__ == "__main__":
    main()
