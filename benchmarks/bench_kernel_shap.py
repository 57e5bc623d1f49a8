"""rai_nb KernelSHAP beside shap's KernelExplainer at equal error against exact Shapley values.

UCI Adult (14 features, categoricals ordinal-encoded), 10 background rows. Exact Shapley values
of the background-mean value function come from this script's own exhaustive enumeration of all
2^14 coalitions (163,840 model rows per explained row), so only a few rows are scored. For each
model the script prints rows/s, model rows per explained row and the mean absolute error of
shap at ``nsamples=2048`` and of rai_nb on a ladder of budgets, then the speed ratio at the
smallest rai_nb budget whose error is no worse than shap's.

Run: ``.venv/bin/python benchmarks/bench_kernel_shap.py`` (``--quick`` for fewer rows).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine

import rai_nb

BUDGETS = (64, 96, 128, 192, 256, 384, 512, 1024, 2048)
SHAP_NSAMPLES = 2048


def adult_features():
    """Adult's 14 features as floats (categoricals ordinal-encoded, missing as −1) and labels."""
    adult = rai_nb.load_adult()
    categorical = ["workclass", "education", "marital_status", "occupation", "relationship",
                   "race", "sex", "native_country"]
    X = adult.drop(columns=["income", "split"]).copy()
    X[categorical] = OrdinalEncoder(encoded_missing_value=-1).fit_transform(
        X[categorical].astype(object))
    return X.astype(float), adult["income"].to_numpy()


class Counted:
    """``predict_proba`` on arrays or frames with the model's column names; counts model rows."""

    def __init__(self, model, columns):
        self.model, self.columns, self.rows = model, columns, 0

    def predict_proba(self, rows):
        self.rows += len(rows)
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=self.columns)
        return self.model.predict_proba(frame)


def exact_shapley(model, rows: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Shapley values (rows, M, K) of ``v(S) = mean_b f(x_S, b_¬S)`` over all 2^M coalitions."""
    from math import factorial

    m = rows.shape[1]
    codes = np.arange(2**m)
    bits = (codes[:, None] >> np.arange(m)) & 1  # coalition code → membership
    size = bits.sum(axis=1)
    weight = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) if s < m else 0.0
                       for s in range(m + 1)])
    out = []
    for x in rows:  # one explained row at a time: 2^M × background model rows each
        synthetic = np.where(bits[:, None, :].astype(bool), x, background[None, :, :])
        value = model.predict_proba(synthetic.reshape(-1, m)).reshape(2**m, len(background), -1)
        value = value.mean(axis=1)
        phi = []
        for i in range(m):  # φ_i = Σ_{S ∌ i} |S|! (M−|S|−1)! / M! · (v(S ∪ i) − v(S))
            without = codes[bits[:, i] == 0]
            gain = value[without | (1 << i)] - value[without]
            phi.append((weight[size[without]][:, None] * gain).sum(axis=0))
        out.append(np.stack(phi))
    return np.stack(out)


def shap_run(shap, counted, rows, background, seeds):
    """shap's values per seed, its best wall time and its model rows per explained row."""
    explainer = shap.KernelExplainer(counted.predict_proba, background)
    runs, times = [], []
    counted.rows = 0
    for seed in seeds:
        np.random.seed(seed)  # noqa: NPY002 (KernelExplainer draws from the global generator)
        holder = {}
        times.append(best_time(lambda: holder.update(values=np.asarray(explainer.shap_values(
            rows, nsamples=SHAP_NSAMPLES, silent=True))), repeat=1))
        runs.append(holder["values"])
    return runs, min(times), counted.rows / len(seeds) / len(rows)


def ours_run(counted, scored, timed, background, nsamples, seeds):
    """rai_nb's values per seed on the scored rows; rows/s and model rows/row on the timed."""
    def run(rows, seed=0):
        return rai_nb.explain(counted, rows, background=background, method="kernel",
                              nsamples=nsamples, random_state=seed, progress=False).values

    runs = [run(scored, seed) for seed in seeds]
    counted.rows = 0
    run(timed)
    calls = counted.rows / len(timed)
    return runs, len(timed) / best_time(lambda: run(timed), repeat=3), calls


def compare(label, model, X, scored, timed, background, shap, seeds):
    counted = Counted(model, X.columns)
    exact = exact_shapley(counted, scored.to_numpy(), background.to_numpy())
    runs, seconds, calls = shap_run(shap, counted, scored, background, seeds)
    shap_error = np.mean([np.abs(values - exact).mean() for values in runs])
    shap_rate = len(scored) / seconds
    print(f"\n{label}")
    print(f"  {'explainer':<26} {'rows/s':>9} {'model rows/row':>15} {'mean |err|':>11}")
    print(f"  {f'shap nsamples={SHAP_NSAMPLES}':<26} {shap_rate:>9.1f} {calls:>15,.0f} "
          f"{shap_error:>11.2e}")
    results = []
    for nsamples in BUDGETS:
        runs, rate, calls = ours_run(counted, scored, timed, background, nsamples, seeds)
        error = np.mean([np.abs(values - exact).mean() for values in runs])
        results.append((nsamples, rate, error, calls))
        print(f"  {f'rai_nb nsamples={nsamples}':<26} {rate:>9.1f} {calls:>15,.0f} {error:>11.2e}")
    same = next(r for r in results if r[0] == SHAP_NSAMPLES)
    print(f"  same nsamples={SHAP_NSAMPLES}: {same[1] / shap_rate:.1f}x shap's rows/s, error "
          f"{same[2]:.1e} vs {shap_error:.1e}")
    fit = [r for r in results if r[2] <= shap_error]
    if fit:
        nsamples, rate, error, calls = fit[0]
        print(f"  EQUAL ERROR: rai_nb nsamples={nsamples} (error {error:.1e} <= {shap_error:.1e}, "
              f"{calls:,.0f} model rows/row) is {rate / shap_rate:.1f}x shap's rows/s")
    else:
        print("  EQUAL ERROR: no rai_nb budget reached shap's error")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None, help="explained (and scored) rows")
    args = parser.parse_args()
    import shap

    warnings.simplefilter("ignore")
    print(machine())
    X, y = adult_features()
    n_rows = args.rows or (4 if args.quick else 10)
    seeds = range(1 if args.quick else 3)
    background, scored = X.iloc[:10], X.iloc[100:100 + n_rows]
    timed = X.iloc[1000:1000 + (10 if args.quick else 40)]
    print(f"UCI Adult: {len(X):,} rows x {X.shape[1]} features (models fitted on all rows); "
          f"background {len(background)} rows; {len(scored)} rows scored against exact Shapley "
          f"values ({2**X.shape[1]:,} coalitions x {len(background)} background rows each); "
          f"errors are means over {len(seeds)} seed(s); rai_nb timed on {len(timed)} rows, shap "
          f"on the {len(scored)} scored rows (best of its seeds)")
    models = {
        "GradientBoosting 50 trees": GradientBoostingClassifier(n_estimators=50, random_state=0),
        "logistic pipeline (StandardScaler + LogisticRegression)": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=500)),
        "RandomForest 50 trees, depth 8": RandomForestClassifier(
            n_estimators=50, max_depth=8, random_state=0, n_jobs=1),
    }
    with rai_nb.config_context(backend="numpy"):
        for label, model in models.items():
            compare(label, model.fit(X, y), X, scored, timed, background, shap, seeds)


if __name__ == "__main__":
    main()
