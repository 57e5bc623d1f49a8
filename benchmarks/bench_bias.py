"""rai_nb.bias against fairlearn's MetricFrame and smclarify, and against the bincount floor.

Run: ``.venv/bin/python benchmarks/bench_bias.py`` (add ``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn.metrics as skm
from fairlearn import metrics as flm

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine, report

import rai_nb

#: The seven metrics both tools compute in the MetricFrame comparison.
SEVEN = {
    "count": flm.count, "selection_rate": flm.selection_rate, "accuracy": skm.accuracy_score,
    "precision": partial(skm.precision_score, zero_division=0),
    "recall": partial(skm.recall_score, zero_division=0),
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
}


def synthetic(n_rows: int, levels: list[int], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"y": rng.integers(0, 2, n_rows), "pred": rng.integers(0, 2, n_rows)})
    for i, n_levels in enumerate(levels):
        frame[f"s{i}"] = np.char.add("g", rng.integers(0, n_levels, n_rows).astype(str))
    return frame


def fairlearn_frame(frame, sensitive):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return flm.MetricFrame(metrics=SEVEN, y_true=frame["y"], y_pred=frame["pred"],
                               sensitive_features=frame[sensitive])


def floor(frame, sensitive):
    """Factorize the sensitive columns and one bincount: the least any exact tool must do."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for name in sensitive:
        column, levels = pd.factorize(frame[name])
        codes = codes * len(levels) + column
    cell = codes * 4 + frame["y"].to_numpy() * 2 + frame["pred"].to_numpy()
    return np.bincount(cell)


def compare_fairlearn(label, frame, sensitive, repeat):
    ours = best_time(lambda: rai_nb.bias(frame, target="y", prediction="pred",
                                         sensitive=sensitive), repeat=repeat)
    theirs = best_time(lambda: fairlearn_frame(frame, sensitive), repeat=1)
    report(f"{label}: bias vs MetricFrame", ours, "fairlearn", theirs)
    bare = best_time(lambda: floor(frame, sensitive), repeat=repeat)
    print(f"{'':<46} factorize+bincount floor {bare * 1e3:.1f} ms -> rai_nb is "
          f"{ours / bare:.2f}x the floor")


def compare_smclarify(frame, sensitive):
    from smclarify.bias import report as smc

    logging.getLogger("smclarify").setLevel(logging.CRITICAL)
    label = smc.LabelColumn("y", frame["y"], [1])
    predicted = smc.LabelColumn("pred", frame["pred"], [1])

    def run_smclarify():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in sensitive:
                facet = smc.FacetColumn(name)
                smc.bias_report(frame, facet, label, smc.StageType.PRE_TRAINING)
                smc.bias_report(frame, facet, label, smc.StageType.POST_TRAINING, predicted,
                                metrics=list(rai_nb.stats.clarify.POSTTRAINING))

    ours = best_time(lambda: rai_nb.bias(frame, target="y", prediction="pred",
                                         sensitive=sensitive), repeat=3)
    theirs = best_time(run_smclarify, repeat=1)
    report(f"Adult {len(frame):,} rows, all facets of {'+'.join(sensitive)}", ours,
           "smclarify", theirs)


def adult_frame():
    adult = rai_nb.load_adult()
    rng = np.random.default_rng(0)
    # A fixed noisy rule stands in for a model: the benchmark measures the audit, not training.
    score = (adult["education_num"] / 16 + rng.normal(0, 0.2, len(adult))) > 0.7
    frame = adult[["sex", "race"]].astype(object)
    return frame.assign(y=adult["income"].to_numpy(), pred=score.astype(np.int64).to_numpy())


def compare_intervals(quick: bool):
    """Bootstrap percentile intervals over many small groups: rai_nb's one-sort interpolation
    beside NumPy's per-cell ``nanpercentile`` on the same replicates, then whole ``bias`` calls."""
    from rai_nb.stats.bias import percentile_interval

    rng = np.random.default_rng(0)
    for cells, reps in ((8_000, 5), (8_000, 200), (100_000, 5)):
        if quick and cells > 8_000:
            continue
        replicates = rng.random((reps, cells))
        replicates[rng.random(replicates.shape) < 0.1] = np.nan
        ours = best_time(lambda r=replicates: percentile_interval(r, 0.95), repeat=1)

        def peer(r=replicates):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanpercentile(r, [2.5, 97.5], axis=0)

        report(f"percentile intervals, {cells:,} cells x {reps} replicates", ours,
               "np.nanpercentile", best_time(peer, repeat=1))
    for groups, reps in ((8_000, 5), (8_000, 200), (100_000, 5)):
        if quick and groups > 8_000:
            continue
        frame = pd.DataFrame({"g": rng.integers(0, groups, groups * 10),
                              "y": rng.integers(0, 2, groups * 10),
                              "p": rng.integers(0, 2, groups * 10)})
        with rai_nb.config_context(max_groups=200_000):
            seconds = best_time(lambda f=frame, b=reps: rai_nb.bias(
                f, target="y", prediction="p", sensitive="g", n_boot=b), repeat=1)
        print(f"bias with intervals, {groups * 10:,} rows, {groups:,} groups, {reps} "
              f"replicates: {seconds:.2f} s")


def count_tensor(frame, sensitive):
    """The (groups, 1, 2, 2) count tensor over the intersections of ``sensitive`` and the
    level of each group in every column (one factorize and one bincount)."""
    codes, levels = [], []
    for name in sensitive:
        column, uniques = pd.factorize(frame[name])
        codes.append(column)
        levels.append(len(uniques))
    group = np.ravel_multi_index(codes, levels)
    present, group = np.unique(group, return_inverse=True)
    cell = group * 4 + frame["y"].to_numpy() * 2 + frame["pred"].to_numpy()
    tensor = np.bincount(cell, minlength=len(present) * 4).reshape(-1, 1, 2, 2)
    return tensor, list(np.unravel_index(present, levels)), levels


def compare_bootstrap(quick: bool, with_fairlearn: bool = False):
    """Bootstrap intervals of every bias statistic from the count tensor, 200 replicates, beside
    one MetricFrame pass (fairlearn has no bootstrap)."""
    from rai_nb.stats.bias import bootstrap_intervals, facet_onehots

    tiny = np.ones((4, 1, 2, 2), dtype=np.int64)
    for onehots in ([None], facet_onehots([np.arange(4) // 2, np.arange(4) % 2], [2, 2])):
        bootstrap_intervals(tiny, onehots, predicted=True, n_boot=5, ci=0.95)  # compile first
    n_rows = 100_000 if quick else 1_000_000
    for levels in ([n_rows // 10], [int(np.sqrt(n_rows / 10))] * 2):
        frame = synthetic(n_rows, levels)
        sensitive = [f"s{i}" for i in range(len(levels))]
        tensor, codes, n_levels = count_tensor(frame, sensitive)
        onehots = facet_onehots(codes, n_levels)
        cpu = time.process_time()
        ours = best_time(lambda t=tensor, h=onehots: bootstrap_intervals(
            t, h, predicted=True, n_boot=200, ci=0.95, random_state=0), repeat=1)
        cpu = time.process_time() - cpu  # on a shared machine, wall time also counts others
        with _kernel_clock() as stages:
            bootstrap_intervals(tensor, onehots, predicted=True, n_boot=200, ci=0.95,
                                random_state=0)
        shape = " x ".join(f"{n:,}" for n in n_levels)
        case = f"intervals, {len(tensor):,} groups ({shape}) x 200 replicates, {n_rows:,} rows"
        whole, whole_cpu = _timed(lambda f=frame, s=sensitive: rai_nb.bias(
            f, target="y", prediction="pred", sensitive=s, n_boot=200))
        print(f"{case}: rai_nb {ours:.2f} s wall, {cpu:.2f} s CPU; whole rai_nb.bias(n_boot=200) "
              f"{whole:.2f} s wall, {whole_cpu:.2f} s CPU on {os.cpu_count()} cores, load "
              f"{os.getloadavg()[0]:.1f}")
        print(f"{'':<46} CPU s per kernel: " + ", ".join(
            f"{name} {seconds:.2f}" for name, seconds in stages.items()))
        if not (quick or with_fairlearn):  # one MetricFrame pass over 100k groups: ~25 minutes
            print(f"{'':<46} (MetricFrame not run: --with-fairlearn)")
            continue
        theirs = best_time(lambda f=frame, s=sensitive: fairlearn_frame(f, s), repeat=1)
        report(f"{case} vs one MetricFrame", ours, "fairlearn", theirs)
        print(f"{'':<46} intervals {ours:.2f} s, MetricFrame {theirs:.1f} s")


@contextlib.contextmanager
def _kernel_clock():
    """CPU seconds spent in each compiled kernel of ``bootstrap_intervals`` while the block
    runs (the kernels are looked up on their module at each call, so wrapping them there
    times every call)."""
    from rai_nb.stats import _bootstrap_cpu as kernels

    names = ("draw_block", "group_intervals", "facet_sums", "clarify_intervals")
    originals = {name: getattr(kernels, name) for name in names}
    seconds = dict.fromkeys(names, 0.0)

    def timed(name):
        def run(*args):
            start = time.process_time()
            try:
                return originals[name](*args)
            finally:
                seconds[name] += time.process_time() - start
        return run

    for name in names:
        setattr(kernels, name, timed(name))
    try:
        yield seconds
    finally:
        for name, kernel in originals.items():
            setattr(kernels, name, kernel)


#: The per-group metrics both tools compute for each task (fairlearn: scikit-learn's functions).
TASK_METRICS = {
    "regression": {"count": flm.count, "mean_absolute_error": skm.mean_absolute_error,
                   "root_mean_squared_error": skm.root_mean_squared_error, "r2": skm.r2_score},
    "multiclass": {"count": flm.count, "accuracy": skm.accuracy_score,
                   "balanced_accuracy": skm.balanced_accuracy_score,
                   "macro_f1": partial(skm.f1_score, average="macro", zero_division=0)},
}


def task_frame(task: str, n_rows: int, n_groups: int, seed: int = 0) -> pd.DataFrame:
    """Synthetic rows of a regression (a noisy linear target) or a 5-class target."""
    rng = np.random.default_rng(seed)
    groups = np.char.add("g", rng.integers(0, n_groups, n_rows).astype(str))
    if task == "regression":
        y = rng.normal(50, 10, n_rows)
        return pd.DataFrame({"y": y, "pred": y + rng.normal(0, 5, n_rows), "s0": groups})
    y = rng.integers(0, 5, n_rows)
    pred = np.where(rng.random(n_rows) < 0.7, y, rng.integers(0, 5, n_rows))
    return pd.DataFrame({"y": y, "pred": pred, "s0": groups})


def compare_tasks(n_rows: int, repeat: int = 3) -> None:
    """Regression and multiclass group metrics beside fairlearn's MetricFrame and the floor."""
    for task, metrics in TASK_METRICS.items():
        for n_groups in (10, 1000):
            frame = task_frame(task, n_rows, n_groups)
            ours = best_time(lambda f=frame, t=task: rai_nb.bias(
                f, target="y", prediction="pred", sensitive="s0", task=t), repeat=repeat)

            def peer(f=frame, m=metrics):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return flm.MetricFrame(metrics=m, y_true=f["y"], y_pred=f["pred"],
                                           sensitive_features=f["s0"])

            report(f"{task}, {n_rows:,} rows, {n_groups} groups vs MetricFrame", ours,
                   "fairlearn", best_time(peer, repeat=1))
            bare = best_time(lambda f=frame: floor(f.assign(y=0, pred=0), ["s0"]), repeat=repeat)
            print(f"{'':<46} factorize+bincount floor {bare * 1e3:.1f} ms -> rai_nb is "
                  f"{ours / bare:.2f}x the floor")


def _timed(run) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU: all threads; wall also counts other users)."""
    with rai_nb.config_context(max_groups=200_000):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k rows instead of 1M")
    parser.add_argument("--only", choices=["bootstrap", "tasks"], help="run one case only")
    parser.add_argument("--with-fairlearn", action="store_true",
                        help="also time MetricFrame at 1M rows x 100k groups (~25 minutes)")
    args = parser.parse_args()
    n_rows = 100_000 if args.quick else 1_000_000
    print(machine())
    if args.only == "bootstrap":
        return compare_bootstrap(args.quick, args.with_fairlearn)
    if args.only == "tasks":
        with rai_nb.config_context(backend="numpy"):
            return compare_tasks(n_rows)
    with rai_nb.config_context(backend="numpy"):
        adult = adult_frame()
        compare_fairlearn(f"Adult {len(adult):,} rows, sex x race", adult, ["sex", "race"], 5)
        compare_smclarify(adult, ["sex", "race"])
        for levels in ([10], [1000], [20, 50]):
            frame = synthetic(n_rows, levels)
            shape = "x".join(map(str, levels))
            compare_fairlearn(f"{n_rows:,} rows, {shape} groups", frame,
                              [f"s{i}" for i in range(len(levels))], 3)
        compare_tasks(n_rows)
        compare_intervals(args.quick)
        compare_bootstrap(args.quick, args.with_fairlearn)
        if rai_nb.backend.gpu_available():
            big = synthetic(10_000_000, [1000])
            cpu = best_time(lambda: rai_nb.bias(big, target="y", prediction="pred",
                                                sensitive="s0"))
            with rai_nb.config_context(backend="cupy"):
                gpu = best_time(lambda: rai_nb.bias(big, target="y", prediction="pred",
                                                    sensitive="s0"))
            report("10M rows, 1000 groups: CuPy vs NumPy", gpu, "numpy", cpu)


if __name__ == "__main__":
    main()
