"""Drift checks of ``rai_nb.validate`` and the table behind ``rai_nb.drift``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import drift as kd
from ..checks.mmd import mmd_test
from ..frame import _row_sample as rs
from ..results import Check, DriftResult
from ._grading import _simple

_DRIFT_COLUMNS = ["role", "kind", "method", "statistic", "threshold", "p_value", "drifted", "ks",
                  "ks_pvalue", "wasserstein", "wasserstein_norm", "chi2", "chi2_pvalue",
                  "jensen_shannon", "psi", "missing_reference", "missing_current",
                  "missing_pvalue"]


def _decide(method: str, stats, thresholds) -> tuple[float, float, float, bool]:
    """(statistic, p-value, threshold, drifted) of the deciding method."""
    if method in ("ks", "chi2"):
        p = stats.ks_pvalue if method == "ks" else stats.chi2_pvalue
        stat = stats.ks if method == "ks" else stats.chi2
        return stat, p, thresholds["drift_pvalue"], p < thresholds["drift_pvalue"]
    key = "drift_psi" if method == "psi" else "drift_distance"
    stat = {"wasserstein": getattr(stats, "wasserstein_norm", np.nan), "psi": stats.psi,
            "jensen_shannon": stats.jensen_shannon}[method]
    return stat, np.nan, thresholds[key], stat >= thresholds[key]


def _drift_table(ctx) -> pd.DataFrame:
    small = ctx.thresholds["drift_small_rows"]
    rows = {}
    for j, name in enumerate(ctx.cur.numeric_names):
        n_ref, n_cur = ctx.ref_n_values[j], ctx.cur_n_values[j]
        row = {"kind": "numeric", "missing_reference": 1 - n_ref / ctx.ref.n_rows,
               "missing_current": 1 - n_cur / ctx.cur.n_rows}
        if n_ref and n_cur:
            stats = ctx.numeric_drift(j)
            method = ctx.options["numeric_method"]
            method = ("ks" if n_ref <= small else "wasserstein") if method == "auto" \
                else method
            row.update(vars(stats), method=method,
                       **dict(zip(["statistic", "p_value", "threshold", "drifted"],
                                  _decide(method, stats, ctx.thresholds))))
        rows[name] = row
    for name, ref, cur in zip(ctx.cur.categorical_names, ctx.ref_counts, ctx.cur_counts):
        stats = kd.categorical_drift(ref, cur)
        method = ctx.options["categorical_method"]
        method = ("chi2" if ctx.ref.n_rows <= small else "jensen_shannon") if method == "auto" \
            else method
        rows[name] = {**vars(stats), "kind": "categorical", "method": method,
                      "missing_reference": ref[0] / ctx.ref.n_rows,
                      "missing_current": cur[0] / ctx.cur.n_rows,
                      **dict(zip(["statistic", "p_value", "threshold", "drifted"],
                                 _decide(method, stats, ctx.thresholds)))}
    for row in rows.values():
        _missingness(row, ctx.ref.n_rows, ctx.cur.n_rows, ctx.thresholds)
    rows.update(_schema_rows(ctx.changes))
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=_DRIFT_COLUMNS)
    frame["role"] = [ctx.roles.get(n, "feature") for n in frame.index]
    frame["method"] = frame["method"].astype(object).fillna("none")  # all-NaN when no test ran
    frame["drifted"] = frame["drifted"].astype("boolean").fillna(False).astype(bool)
    frame.index.name = "column"
    return frame


def _missingness(row: dict, n_ref: int, n_cur: int, thresholds: dict) -> None:
    """A jump in a column's missing share is drift too: at least ``drift_missing_share`` and
    significant (χ² on missing × table, 2 × 2). It decides where the values' own test did not
    drift or could not run (a column now empty)."""
    alpha = thresholds["drift_pvalue"]
    missing = np.round([row["missing_reference"] * n_ref, row["missing_current"] * n_cur])
    present = np.array([n_ref, n_cur]) - missing
    _, p, _ = kd.chi2_homogeneity([missing[0], present[0]], [missing[1], present[1]])
    row["missing_pvalue"] = p
    jump = row["missing_current"] - row["missing_reference"]
    if p < alpha and abs(jump) >= thresholds["drift_missing_share"] and not row.get("drifted"):
        row.update(method="missingness", statistic=jump, p_value=p, threshold=alpha,
                   drifted=True)


def _schema_rows(changes) -> dict:
    """A column whose kind changed (numbers became text…) or that vanished has drifted."""
    rows = {name: {"kind": f"{before} → {after}", "method": "kind_change", "drifted": True}
            for name, (before, after) in changes.kind_changes.items()}
    rows.update({name: {"kind": "missing", "method": "vanished", "drifted": True,
                        "missing_current": 1.0} for name in changes.missing})
    return rows


def _mmd(ctx) -> dict | None:
    """MMD test on the numeric features, standardised by the reference, on row samples.

    Both samples and the permutations follow ``random_state`` and the rows' contents only
    (:mod:`._row_sample`), so the p-value does not depend on the order of the rows."""
    positions = ctx.features(ctx.cur, "numeric")
    if not ctx.options["mmd"] or not positions or min(ctx.ref.n_rows, ctx.cur.n_rows) < 2:
        return None
    centre, spread = ctx.ref_moments(positions)
    spread[~(spread > 0)] = 1.0
    limit = ctx.options["mmd_rows"]

    def standardised(table, stream):
        rows = rs.sample_rows(ctx, table, limit, stream)
        values = rs.in_order(lambda r: ctx.numeric_rows(table, positions, r), rows)
        values = (values - centre[:, None]) / spread[:, None]
        return ctx.device(np.ascontiguousarray(np.nan_to_num(values, nan=0.0).T))

    test = mmd_test(standardised(ctx.ref, rs.MMD_REFERENCE),
                    standardised(ctx.cur, rs.MMD_CURRENT),
                    n_permutations=ctx.options["n_permutations"],
                    random_state=rs.step_seed(ctx, rs.MMD_PERMUTATIONS), xp=ctx.xp)
    return {"statistic": test.statistic, "p_value": test.pvalue, "bandwidth": test.bandwidth,
            "n_permutations": test.n_permutations, "columns": len(positions),
            "drifted": test.pvalue < ctx.thresholds["mmd_pvalue"]}


def _drift_result(ctx) -> DriftResult:
    if "drift" not in ctx.cache:
        ctx.cache["drift"] = DriftResult(columns=_drift_table(ctx), mmd=_mmd(ctx),
                                         drift_share=ctx.thresholds["drift_share"],
                                         n_reference=ctx.ref.n_rows, n_current=ctx.cur.n_rows)
    return ctx.cache["drift"]


def _drift_check(ctx) -> Check:
    result = _drift_result(ctx)
    features = result.columns[result.columns["role"] == "feature"]
    drifted = tuple(features.index[features["drifted"]])
    share = len(drifted) / max(len(features), 1)
    severity = "fail" if result.dataset_drift else ("warn" if drifted else "pass")
    return _simple("drift", drifted, severity, f"drifted ({share:.0%} of features)",
                   "no feature drifted", features)


def _role_drift(name: str, role: str):
    def check(ctx) -> Check:
        table = _drift_result(ctx).columns
        rows = table[table["role"] == role]
        return _simple(name, tuple(rows.index[rows["drifted"]]), "warn",
                       f"{role} distribution drifted", f"the {role} did not drift", rows)
    return check


def _multivariate_drift(ctx) -> Check:
    mmd = _drift_result(ctx).mmd
    if mmd is None:
        return Check("multivariate_drift", "pass", (), "no numeric feature to compare")
    details = pd.DataFrame([mmd], index=["mmd"])
    if not mmd["drifted"]:
        return Check("multivariate_drift", "pass", (), f"MMD permutation test p = "
                     f"{mmd['p_value']:.3g} over {mmd['columns']} numeric features", details)
    return Check("multivariate_drift", "warn", (), f"numeric features drifted jointly (MMD² = "
                 f"{mmd['statistic']:.3g}, permutation p = {mmd['p_value']:.3g})", details)
