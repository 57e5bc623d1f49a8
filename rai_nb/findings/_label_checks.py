"""The label, leakage, proxy and representation checks of ``rai_nb.validate``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import leakage as kl
from ..frame import _row_sample as rs
from ..results import Check
from ._grading import _grade, _graded, _names

#: Folds of the out-of-fold model behind ``label_errors``.
_FOLDS = 3


def _class_imbalance(ctx) -> Check:
    target = ctx.target
    counts = ctx.class_counts()
    shares = counts / counts.sum()
    details = pd.DataFrame({"count": counts, "share": shares},
                           index=pd.Index(list(target.levels), name=target.name))
    minority = target.levels[int(shares.argmin())]
    return Check("class_imbalance", _grade("minority_share", shares.min(), ctx.thresholds),
                 (target.name,), f"{target.name}: rarest class {minority!r} is "
                 f"{shares.min():.2%} of rows", details)


def _group_imbalance(ctx) -> Check:
    """Positive-label rate per sensitive group; graded by the smallest ratio between groups."""
    min_size = ctx.thresholds["min_group_size"][0] or 1
    frames = []
    for i, facet in enumerate(ctx.sensitive):
        size, pos = ctx.facet_positives(i)
        rest_rate = (pos.sum() - pos) / np.maximum(size.sum() - size, 1)
        rate = pos / np.maximum(size, 1)
        frame = pd.DataFrame({"sensitive": facet.name, "group": list(facet.levels), "count": size,
                              "CI": (size.sum() - 2 * size) / size.sum(),
                              "positive_rate": rate, "DPL": rest_rate - rate})
        big = frame[frame["count"] >= min_size]
        top = big["positive_rate"].max()
        frame["ratio_to_highest"] = np.where(frame["count"] >= min_size,
                                             frame["positive_rate"] / top if top > 0 else np.nan,
                                             np.nan)
        frames.append(frame)
    frame = pd.concat(frames).set_index(["sensitive", "group"])
    worst = frame["ratio_to_highest"].min()
    severity = _grade("disparate_impact", worst, ctx.thresholds)
    if severity == "pass":
        return Check("group_imbalance", "pass", (), "positive-label rates are within "
                     f"{ctx.thresholds['disparate_impact'][0]:g}× across groups", frame)
    sensitive, group = frame["ratio_to_highest"].idxmin()
    return Check("group_imbalance", severity, (sensitive,),
                 f"{sensitive}: {ctx.target.name} = {ctx.target.positive!r} rate of group "
                 f"{group!r} is {worst:.2f}× the highest group's", frame)


def _association_rows(ctx, key, n_labels: int, binary: bool, exclude) -> list:
    """Cramér's V, mutual information and (binary labels) AUC of every feature with the target
    (``key`` "target") or sensitive column ``key``."""
    out = []
    for name, table, auc in ctx.association_tables(key, n_labels, binary, exclude):
        assoc = kl.association(table)
        out.append((name, assoc.cramers_v_corrected, assoc.cramers_v, assoc.mutual_information,
                    auc))
    return out


_ASSOCIATION_COLUMNS = ["cramers_v", "cramers_v_uncorrected", "mutual_information", "auc"]


def _label_leakage(ctx) -> Check:
    target = ctx.target
    rows = _association_rows(ctx, "target", len(target.levels), target.binary, exclude=())
    frame = pd.DataFrame(rows, columns=["column", *_ASSOCIATION_COLUMNS]).set_index("column")
    frame = frame.sort_values("cramers_v", ascending=False)
    return _graded("label_leakage", frame,
                   {"auc": "leakage_auc", "cramers_v": "leakage_cramers_v"}, ctx.thresholds,
                   what=f"predicts {target.name} almost perfectly on its own (leakage?)")


def _proxies(ctx) -> Check:
    frames = []
    exclude = {f.name for f in ctx.sensitive}
    for i, facet in enumerate(ctx.sensitive):
        binary = facet.n_levels == 2
        rows = _association_rows(ctx, i, facet.n_levels, binary, exclude)
        frames.append(pd.DataFrame(rows, columns=["column", *_ASSOCIATION_COLUMNS])
                      .assign(sensitive=facet.name))
    frame = pd.concat(frames).sort_values("cramers_v", ascending=False)
    frame = frame.set_index(["column", "sensitive"])
    check = _graded("proxies", frame, {"auc": "proxy_auc", "cramers_v": "proxy_cramers_v"},
                    ctx.thresholds, what="")
    if check.severity == "pass":
        return Check("proxies", "pass", (), "no feature is a strong proxy for a sensitive column",
                     check.details)
    pairs = [f"{c} → {s}" for c, s in check.columns]
    return Check("proxies", check.severity, tuple(dict.fromkeys(c for c, _ in check.columns)),
                 f"{_names(pairs)}: feature predicts the sensitive column", check.details)


def _representation(ctx) -> Check:
    rows = []
    for name, levels, counts in ctx.representation_counts():
        name = " × ".join(map(str, name)) if isinstance(name, tuple) else name
        rows += [(name, " · ".join(map(str, lvl)) if isinstance(lvl, tuple) else lvl, c)
                 for lvl, c in zip(levels, counts.tolist())]
    frame = pd.DataFrame(rows, columns=["sensitive", "group", "count"])
    # Of each column's total: the rows, or with sample_weight the summed weights.
    total = frame.groupby("sensitive", sort=False)["count"].transform("sum")
    frame = frame.assign(share=frame["count"] / total).sort_values("count", kind="stable")
    frame = frame.set_index(["sensitive", "group"])
    smallest = frame["count"].min()
    severity = _grade("min_group_size", smallest, ctx.thresholds)
    small = [f"{s} = {g}" for (s, g), c in frame["count"].items()
             if _grade("min_group_size", c, ctx.thresholds) != "pass"]
    if severity == "pass":
        return Check("representation", "pass", (), f"every group has at least {smallest:,.10g} rows",
                     frame)
    return Check("representation", severity, tuple(f.name for f in ctx.sensitive),
                 f"{_names(small)}: fewer rows than {ctx.thresholds['min_group_size'][0]}", frame)


def _label_errors(ctx) -> Check:
    """Out-of-fold confident learning on a sample (Northcutt et al. 2021).

    The sample, its order, the folds and the models follow ``random_state`` and the rows'
    contents only (:mod:`._row_sample`): the flagged rows do not depend on the row order. The
    details are indexed by the flagged rows' index labels in the data."""
    target = ctx.target
    rows = rs.sample_rows(ctx, ctx.cur, ctx.options["label_error_rows"], rs.LABEL_ERRORS)
    numeric, codes, labels = rs.in_order(ctx.take, rows)
    classes, y = np.unique(labels, return_inverse=True)
    counts = np.bincount(y)
    if classes.size < 2 or counts.min() < _FOLDS:
        return Check("label_errors", "pass", (), "too few rows per class to fit out-of-fold models")
    probabilities = _out_of_fold(ctx, numeric, codes, y, seed=rs.step_seed(ctx, rs.LABEL_ERRORS))
    if probabilities is None:
        return Check("label_errors", "pass", (), "no feature column has a value to fit "
                     "out-of-fold models on")
    issue, confidence, _ = kl.label_issues(ctx.device(probabilities), ctx.device(y),
                                           n_classes=classes.size, xp=ctx.xp)
    share = issue.mean()
    order = np.argsort(np.where(issue, confidence, np.inf), kind="stable")[:int(issue.sum())]
    details = pd.DataFrame({
        "row": rs.in_order(ctx.row_labels, rows[order]),
        "label": [target.levels[c] for c in classes[y[order]]],
        "likely": [target.levels[c] for c in classes[probabilities[order].argmax(axis=1)]],
        "self_confidence": confidence[order]}).set_index("row")
    note = "" if rows.size == ctx.cur.n_rows else f" (a sample of {rows.size:,} rows)"
    return Check("label_errors", _grade("label_error_share", share, ctx.thresholds),
                 (target.name,), f"{target.name}: {share:.1%} of rows{note} have a label the "
                 "out-of-fold model finds very unlikely", details)


def _out_of_fold(ctx, numeric: np.ndarray, codes: np.ndarray, y: np.ndarray, *, seed: int):
    """Class probabilities of each row from gradient-boosted trees fitted on the other folds;
    None when no column has a value (an all-missing column carries nothing, and
    HistGradientBoosting cannot bin it)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    numeric = numeric[ctx.features(ctx.cur, "numeric")]
    cat_pos = ctx.features(ctx.cur, "categorical")
    codes = codes[cat_pos].astype(np.float64)
    codes[codes < 0] = np.nan
    small = np.array([len(ctx.cur.levels[j]) < 255 for j in cat_pos], dtype=bool)
    matrix = np.concatenate([numeric, codes]).T
    mask = np.concatenate([np.zeros(numeric.shape[0], bool), small])
    informative = ~np.isnan(matrix).all(axis=0)
    if not informative.any():
        return None
    matrix, mask = matrix[:, informative], mask[informative]
    model = HistGradientBoostingClassifier(max_iter=50, categorical_features=mask,
                                           random_state=seed % 2**32)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=seed % 2**32)
    # A few thousand rows need no thread team; OpenMP spin-waiting on a busy machine costs 10x.
    with threadpool_limits(1, user_api="openmp"):
        return cross_val_predict(model, matrix, y, cv=folds, method="predict_proba")
