"""Partial dependence: rai_nb.dependence beside sklearn.inspection.partial_dependence.

Both compute the brute-force PDP and ICE (``kind="both"``) of ``age`` on UCI Adult (rows drawn
with replacement up to the size asked), for HistGradientBoosting and RandomForest on ordinal
codes and a LogisticRegression in a Pipeline with one-hot encoding on the raw frame. sklearn
calls the model once per grid point on a copy of every row; rai_nb calls it once per chunk of
stacked copies (``chunk_rows``). rai_nb's curves are checked equal to sklearn's (1e-9) on every
case, and rai_nb also draws one curve per sex x race group at no extra model calls.

Run: ``.venv/bin/python benchmarks/bench_dependence.py`` (``--quick`` for 10k rows only).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.inspection import partial_dependence
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine, report

import rai_nb

GRID = 20


def frames():
    """Adult as the raw frame (categories) and as ordinal float codes, and the labels."""
    adult = rai_nb.load_adult()
    raw = adult.drop(columns=["income", "split"])
    raw = raw.assign(**{c: raw[c].astype(float) for c in raw.columns if raw[c].dtype.kind in "iu"})
    categorical = [c for c in raw.columns if isinstance(raw[c].dtype, pd.CategoricalDtype)]
    ordinal = raw.assign(**{c: raw[c].cat.codes.astype(float) for c in categorical})
    return raw, ordinal, categorical, adult["income"].to_numpy()


def models(raw, ordinal, categorical, y) -> dict:
    numeric = [c for c in raw.columns if c not in categorical]
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical),
                                     (StandardScaler(), numeric))
    return {
        "HistGradientBoosting (ordinal)": (HistGradientBoostingClassifier(random_state=0)
                                           .fit(ordinal, y), ordinal),
        "RandomForest 50 trees depth 10 (ordinal)": (RandomForestClassifier(
            n_estimators=50, max_depth=10, random_state=0, n_jobs=2).fit(ordinal, y), ordinal),
        "LogisticRegression pipeline (one-hot)": (make_pipeline(
            encode, LogisticRegression(max_iter=500)).fit(raw, y), raw),
    }


def run(name, model, X, sex_race, n_rows: int) -> None:
    rows = np.random.default_rng(0).integers(0, len(X), n_rows)
    data, groups = X.iloc[rows].reset_index(drop=True), sex_race.iloc[rows].reset_index(drop=True)
    found = {}

    def ours():
        found["ours"] = rai_nb.dependence(model, data.assign(**groups), "age", by=["sex_", "race_"],
                                          features=list(X.columns), grid_resolution=GRID,
                                          kind="both", sample=None)

    def peer():
        found["peer"] = partial_dependence(model, data, ["age"], method="brute", kind="both",
                                           grid_resolution=GRID)

    wall, cpu = interleaved(ours, peer, repeat=4 if n_rows <= 10_000 else 2)
    gap = float(np.abs(found["ours"].average - found["peer"]["average"]).max())
    assert gap < 1e-9, gap
    report(f"{name}, {n_rows:,} rows, wall", *wall[:1], "sklearn", wall[1])
    report(f"{name}, {n_rows:,} rows, CPU", *cpu[:1], "sklearn", cpu[1])


def interleaved(ours, peer, *, repeat: int) -> list[tuple[float, float]]:
    """Best wall and CPU times (seconds) of the two, run alternately (each first in turn) so
    that a shared machine's load hits both: ``[(ours wall, peer wall), (ours CPU, peer CPU)]``."""
    times = {ours: [], peer: []}
    for turn in range(repeat):
        for function in (ours, peer) if turn % 2 == 0 else (peer, ours):
            times[function].append(_timed(function))
    (ours_wall, ours_cpu), (peer_wall, peer_cpu) = (np.min(times[f], axis=0) for f in (ours, peer))
    return [(ours_wall, peer_wall), (ours_cpu, peer_cpu)]


def _timed(function) -> tuple[float, float]:
    """Wall time and this process's CPU time (all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    raw, ordinal, categorical, y = frames()
    sex_race = raw[["sex", "race"]].rename(columns=lambda c: f"{c}_")
    print(machine(), f"| load average {os.getloadavg()[0]:.1f} | grid of {GRID} points, "
          "kind='both'; rai_nb adds sex x race curves")
    for name, (model, X) in models(raw, ordinal, categorical, y).items():
        for n_rows in (10_000,) if args.quick else (10_000, 100_000):
            run(name, model, X, sex_race, n_rows)


if __name__ == "__main__":
    main()
