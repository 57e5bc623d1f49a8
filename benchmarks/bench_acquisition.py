"""acquisition_plan on Adult with 10 slices (sex × race): wall time with a LogisticRegression
and a HistGradientBoosting, and the allocation's water-filling beside SciPy's SLSQP.

Slice Tuner's curves come from refits on nested subsets of the whole training data (one refit
serves every slice, as the authors' code does), so the plan costs fractions × repeats refits
(13 by default: the full rows once) whatever the number of slices; fitting each slice's curve alone would cost
slices × that (150 here), the ratio printed as the refits saved. The allocation peer is the
same convex program in its smooth epigraph form solved by ``scipy.optimize.minimize`` (SLSQP).

Run: ``.venv/bin/python benchmarks/bench_acquisition.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine, report

import rai_nb
from rai_nb.stats import learning_curves as lc

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship"]
MODELS = {
    "LogisticRegression": make_pipeline(
        make_column_transformer((StandardScaler(), NUMERIC),
                                (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)),
        LogisticRegression(max_iter=1000)),
    "HistGradientBoosting": HistGradientBoostingClassifier(categorical_features="from_dtype",
                                                           max_iter=100, random_state=0),
}


def plan_times(data) -> None:
    for name, model in MODELS.items():
        start = time.perf_counter()
        plan = rai_nb.acquisition_plan(model, data, target="income",
                                       features=NUMERIC + CATEGORICAL, sensitive=["sex", "race"],
                                       budget=5000, n_jobs=2, progress=False)
        seconds = time.perf_counter() - start
        slices = len(plan.table)
        print(f"plan, Adult {len(data):,} rows, {slices} slices, {name:<21} {seconds:6.1f} s "
              f"({plan.n_refits} refits; per-slice curves would need {plan.n_refits * slices}, "
              f"{slices}x)")
        print("  most rows to", plan.summary()["most_rows_to"], "|",
              plan.plan.to_dict())


def slsqp(curves, rows, budget, weight):
    """The convex program's epigraph form: minimise Σ L_s + λ Σ t_s, t_s ≥ L_s/A_s − 1."""
    k = len(rows)
    a, b = np.maximum(curves.a, 0), curves.b
    reference = lc.reference_losses(b * rows ** -a)

    def loss(z):
        return b * (rows + z[:k]) ** -a

    constraints = [{"type": "eq", "fun": lambda z: z[:k].sum() - budget},
                   {"type": "ineq", "fun": lambda z: z[k:] - (loss(z) / reference - 1)}]
    return minimize(lambda z: loss(z).sum() + weight * z[k:].sum(),
                    np.r_[np.full(k, budget / k), np.ones(k)], method="SLSQP",
                    bounds=[(0, None)] * (2 * k), constraints=constraints,
                    options={"ftol": 1e-12, "maxiter": 1000})


def allocation_times() -> None:
    rng = np.random.default_rng(0)
    curves = lc.PowerLaws(a=rng.uniform(0.05, 0.8, 10), b=rng.uniform(0.3, 3, 10),
                          a_se=np.zeros(10), b_se=np.zeros(10))
    rows = rng.uniform(100, 30000, 10)
    ours = best_time(lambda: lc.allocate(curves, rows, 5000, 1.0), repeat=5)
    peer = best_time(lambda: slsqp(curves, rows, 5000, 1.0), repeat=5)
    found = slsqp(curves, rows, 5000, 1.0)
    gap = lc.acquisition_objective(curves, rows, lc.water_fill(curves, rows, 5000, 1.0), 1.0) \
        - found.fun
    report("allocation, 10 slices (objective gap to SLSQP " f"{gap:+.1e})", ours, "SLSQP", peer)


if __name__ == "__main__":
    import os

    print(machine(), f"| load average {os.getloadavg()[0]:.1f} at start")
    plan_times(rai_nb.load_adult())
    allocation_times()
