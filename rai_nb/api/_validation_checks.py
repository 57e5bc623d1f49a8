"""The data checks of ``rai_nb.validate``: schema, quality, labels, proxies, representation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend import to_host
from ..checks import leakage as kl
from ..checks import quality as kq
from ..results import Check
from ._validation_context import _MIN_ID_VALUES, _grade, _graded, _names, _simple


def _missing_columns(ctx) -> Check:
    return _simple("missing_columns", ctx.changes.missing, "fail",
                   "in the reference but not in the data", "every reference column is present")


def _new_columns(ctx) -> Check:
    return _simple("new_columns", ctx.changes.new, "warn", "not in the reference",
                   "no column is new")


def _dtype_changes(ctx) -> Check:
    changes = {**ctx.changes.dtype_changes, **ctx.changes.kind_changes}
    details = pd.DataFrame(
        [(*pair, "kind" if n in ctx.changes.kind_changes else "dtype") for n, pair in changes.items()],
        index=pd.Index(list(changes), name="column"), columns=["reference", "current", "change"])
    severity = "fail" if ctx.changes.kind_changes else "warn"
    return _simple("dtype_changes", tuple(changes), severity,
                   "type differs from the reference (numeric/categorical changes are left out of "
                   "drift)", "every column keeps its type", details)


def _unseen_categories(ctx) -> Check:
    rows = []
    for name, levels, counts in zip(ctx.cur.categorical_names, ctx.cur.levels, ctx.cur_counts):
        known = ctx.changes.n_reference_levels[name]
        unseen = counts[1 + known:]
        shown = [levels[known + i] for i in np.flatnonzero(unseen)[:5]]
        rows.append((int(unseen.sum()), unseen.sum() / ctx.cur.n_rows, shown))
    frame = pd.DataFrame(rows, columns=["unseen_rows", "unseen_share", "examples"],
                         index=pd.Index(ctx.cur.categorical_names, name="column"))
    return _graded("unseen_categories", frame, {"unseen_share": "unseen_share"}, ctx.thresholds,
                   what="has categories never seen in the reference")


def _out_of_range(ctx) -> Check:
    rows = []
    for ref, cur in zip(ctx.ref_sorted, ctx.cur_sorted):
        if ref.shape[0] == 0 or cur.shape[0] == 0:
            rows.append((np.nan, np.nan, 0, 0.0))
            continue
        low, high = float(to_host(ref[0])), float(to_host(ref[-1]))
        outside = kq.count_outside(cur, low, high, ctx.xp)
        rows.append((low, high, outside, outside / cur.shape[0]))
    frame = pd.DataFrame(rows, columns=["reference_min", "reference_max", "outside_rows",
                                       "outside_share"],
                         index=pd.Index(ctx.cur.numeric_names, name="column"))
    return _graded("out_of_range", frame, {"outside_share": "out_of_range_share"}, ctx.thresholds,
                   what="has values outside the reference's range")


# --- quality ----------------------------------------------------------------------------------

def _mixed_types(ctx) -> Check:
    mixed = {n: s.mixed_types for n, s in ctx.cur.schema.items() if s.mixed_types}
    details = pd.DataFrame({"types": [", ".join(t) for t in mixed.values()]},
                           index=pd.Index(list(mixed), name="column"))
    return _simple("mixed_types", tuple(mixed), "warn", "object column mixes Python types",
                   "no object column mixes types", details)


def _missing_counts(ctx) -> np.ndarray:
    numeric = [ctx.cur.n_rows - s.shape[0] for s in ctx.cur_sorted]
    return np.array(numeric + [int(c[0]) for c in ctx.cur_counts], dtype=np.int64)


def _missing_values(ctx) -> Check:
    counts = _missing_counts(ctx)
    frame = pd.DataFrame({"missing": counts, "missing_share": counts / ctx.cur.n_rows},
                         index=pd.Index(ctx.cur.names, name="column"))
    return _graded("missing_values", frame, {"missing_share": "missing_share"}, ctx.thresholds,
                   what="has missing values")


def _group_missingness(ctx) -> Check:
    """Largest gap in a column's missing share between groups of a sensitive column."""
    xp = ctx.xp
    missing = xp.concat([xp.isnan(ctx.device(ctx.cur.numeric)), ctx.device(ctx.cur.codes) < 0])
    min_size = ctx.thresholds["min_group_size"][0] or 1
    sensitive_names = {f.name for f in ctx.sensitive}
    rows = []
    for facet in ctx.sensitive:
        counts = kq.missing_by_group(missing, ctx.device(facet.codes), n_groups=facet.n_levels,
                                     xp=xp)
        sizes = np.bincount(facet.codes, minlength=facet.n_levels)
        big = sizes >= min_size
        rates = counts[big] / sizes[big, None]
        levels = np.asarray(facet.levels, dtype=object)[big]
        if rates.shape[0] < 2:
            continue
        high, low = rates.argmax(axis=0), rates.argmin(axis=0)
        for j, name in enumerate(ctx.cur.names):
            if name in sensitive_names:
                continue
            rows.append((name, facet.name, rates[high[j], j] - rates[low[j], j],
                         levels[high[j]], rates[high[j], j], levels[low[j]], rates[low[j], j]))
    frame = pd.DataFrame(rows, columns=["column", "sensitive", "gap", "most_missing", "its_share",
                                        "least_missing", "their_share"])
    # The worst sensitive column of each data column decides.
    frame = frame.sort_values("gap", ascending=False).drop_duplicates("column")
    return _graded("group_missingness", frame.set_index("column"), {"gap": "group_missing_gap"},
                   ctx.thresholds, what="is missing more often in some sensitive groups")


def _duplicates(ctx) -> Check:
    rows, groups = kq.duplicate_rows(ctx.row_hash, xp=ctx.xp)
    share = rows / ctx.cur.n_rows
    details = pd.DataFrame({"duplicate_rows": [rows], "distinct_duplicated": [groups],
                            "share": [share]}, index=["all columns"])
    return Check("duplicates", _grade("duplicate_share", share, ctx.thresholds), (),
                 f"{rows:,} rows ({share:.2%}) repeat an earlier row", details)


def _conflicting_labels(ctx) -> Check:
    target = ctx.target
    rows, groups = kq.conflicting_labels(ctx.feature_hash, ctx.device(target.codes),
                                         n_labels=len(target.levels), xp=ctx.xp)
    share = rows / ctx.cur.n_rows
    details = pd.DataFrame({"rows": [rows], "feature_groups": [groups], "share": [share]},
                           index=[target.name])
    return Check("conflicting_labels", _grade("conflict_share", share, ctx.thresholds),
                 (target.name,), f"{rows:,} rows ({share:.2%}) share all feature values with a "
                 f"row labelled differently in {target.name}", details)


def _profiles(ctx) -> pd.DataFrame:
    profiles = [kq.value_profile(s, xp=ctx.xp) for s in ctx.cur_sorted]
    profiles += [kq.count_profile(c[1:]) for c in ctx.cur_counts]
    frame = pd.DataFrame([(p.n_values, p.n_distinct, p.top_count / max(p.n_values, 1))
                          for p in profiles], columns=["values", "distinct", "top_share"],
                         index=pd.Index(ctx.cur.names, name="column"))
    return frame[frame["values"] > 0]


def _constant_columns(ctx) -> Check:
    return _graded("constant_columns", _profiles(ctx), {"top_share": "near_constant_share"},
                   ctx.thresholds, what="is constant or nearly so")


def _id_like(ctx) -> Check:
    """Integer and categorical columns whose values are (almost) all distinct."""
    frame = _profiles(ctx)
    kinds = {n: s.dtype for n, s in ctx.cur.schema.items()}
    eligible = [n for n in frame.index if n not in ctx.roles and
                (n in ctx.cur.categorical_names or kinds[n].lower().lstrip("u").startswith("int"))]
    frame = frame.loc[eligible]
    frame = frame.assign(distinct_share=frame["distinct"] / frame["values"])
    frame = frame[frame["values"] >= _MIN_ID_VALUES]
    return _graded("id_like", frame, {"distinct_share": "id_distinct_share"}, ctx.thresholds,
                   what="looks like an identifier (nearly every value distinct)")


def _outliers(ctx) -> Check:
    rows = []
    for name, values in zip(ctx.cur.numeric_names, ctx.cur_sorted):
        n = values.shape[0]
        if n < 2 or name in ctx.roles:
            continue
        found = kq.outliers(values, xp=ctx.xp)
        rows.append((name, found.iqr, found.iqr / n, found.robust_z, found.robust_z / n,
                     found.lower_fence, found.upper_fence))
    frame = pd.DataFrame(rows, columns=["column", "iqr_outliers", "iqr_share", "robust_z_outliers",
                                        "robust_z_share", "lower_fence", "upper_fence"])
    return _graded("outliers", frame.set_index("column"), {"iqr_share": "outlier_share"},
                   ctx.thresholds, what="has many values beyond Tukey's fences (1.5 × IQR)")


# --- labels -----------------------------------------------------------------------------------

def _class_imbalance(ctx) -> Check:
    target = ctx.target
    counts = np.bincount(target.codes, minlength=len(target.levels))
    shares = counts / counts.sum()
    details = pd.DataFrame({"count": counts, "share": shares},
                           index=pd.Index(list(target.levels), name=target.name))
    minority = target.levels[int(shares.argmin())]
    return Check("class_imbalance", _grade("minority_share", shares.min(), ctx.thresholds),
                 (target.name,), f"{target.name}: rarest class {minority!r} is "
                 f"{shares.min():.2%} of rows", details)


def _group_imbalance(ctx) -> Check:
    """Positive-label rate per sensitive group; graded by the smallest ratio between groups."""
    positive = ctx.target.positive_mask()
    min_size = ctx.thresholds["min_group_size"][0] or 1
    frames = []
    for facet in ctx.sensitive:
        size = np.bincount(facet.codes, minlength=facet.n_levels)
        pos = np.bincount(facet.codes, weights=positive, minlength=facet.n_levels)
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


def _association_rows(ctx, labels: np.ndarray, n_labels: int, binary: bool, exclude) -> list:
    """Cramér's V, mutual information and (binary ``labels``) AUC of every feature."""
    xp = ctx.xp
    y = ctx.device(labels)
    rows_sample = ctx.sample(ctx.options["auc_rows"])
    half = ctx.device((np.arange(ctx.cur.n_rows) % 2).astype(np.int64)[ctx.rng.permutation(
        ctx.cur.n_rows)])
    rows = []
    for j in ctx.features(ctx.cur, "numeric"):
        name = ctx.cur.numeric_names[j]
        if name in exclude or ctx.cur_sorted[j].shape[0] == 0:
            continue
        values = ctx.device(ctx.cur.numeric[j])
        codes, n_codes = ctx.bin_codes(j)
        table = kl.contingency(codes, y, n_a=n_codes, n_b=n_labels, xp=xp)
        auc = np.nan
        if binary:
            sub = values if rows_sample is None else xp.take(values, ctx.device(rows_sample))
            suby = y if rows_sample is None else xp.take(y, ctx.device(rows_sample))
            auc = kl.numeric_auc(sub, suby, xp=xp)
        rows.append((name, table, auc))
    for j in ctx.features(ctx.cur, "categorical"):
        name = ctx.cur.categorical_names[j]
        if name in exclude:
            continue
        codes = ctx.device(ctx.cur.codes[j] + 1)
        n_levels = len(ctx.cur.levels[j]) + 1
        table = kl.contingency(codes, y, n_a=n_levels, n_b=n_labels, xp=xp)
        auc = kl.cross_fitted_auc(codes, y, half, n_levels=n_levels, xp=xp) if binary else np.nan
        rows.append((name, table, auc))
    out = []
    for name, table, auc in rows:
        assoc = kl.association(table)
        out.append((name, assoc.cramers_v_corrected, assoc.cramers_v, assoc.mutual_information,
                    auc))
    return out


_ASSOCIATION_COLUMNS = ["cramers_v", "cramers_v_uncorrected", "mutual_information", "auc"]


def _label_leakage(ctx) -> Check:
    target = ctx.target
    rows = _association_rows(ctx, target.codes, len(target.levels), target.binary, exclude=())
    frame = pd.DataFrame(rows, columns=["column", *_ASSOCIATION_COLUMNS]).set_index("column")
    frame = frame.sort_values("cramers_v", ascending=False)
    return _graded("label_leakage", frame,
                   {"auc": "leakage_auc", "cramers_v": "leakage_cramers_v"}, ctx.thresholds,
                   what=f"predicts {target.name} almost perfectly on its own (leakage?)")


def _proxies(ctx) -> Check:
    frames = []
    exclude = {f.name for f in ctx.sensitive}
    for facet in ctx.sensitive:
        binary = facet.n_levels == 2
        rows = _association_rows(ctx, facet.codes, facet.n_levels, binary, exclude)
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
    columns = [*ctx.sensitive] + ([ctx.groups] if len(ctx.sensitive) > 1 else [])
    rows = []
    for col in columns:
        counts = np.bincount(col.codes, minlength=col.n_levels)
        name = " × ".join(map(str, col.name)) if isinstance(col.name, tuple) else col.name
        rows += [(name, " · ".join(map(str, lvl)) if isinstance(lvl, tuple) else lvl, int(c))
                 for lvl, c in zip(col.levels, counts)]
    frame = pd.DataFrame(rows, columns=["sensitive", "group", "count"])
    frame = frame.assign(share=frame["count"] / ctx.cur.n_rows).sort_values("count")
    frame = frame.set_index(["sensitive", "group"])
    smallest = frame["count"].min()
    severity = _grade("min_group_size", smallest, ctx.thresholds)
    small = [f"{s} = {g}" for (s, g), c in frame["count"].items()
             if _grade("min_group_size", c, ctx.thresholds) != "pass"]
    if severity == "pass":
        return Check("representation", "pass", (), f"every group has at least {smallest:,} rows",
                     frame)
    return Check("representation", severity, tuple(f.name for f in ctx.sensitive),
                 f"{_names(small)}: fewer rows than {ctx.thresholds['min_group_size'][0]}", frame)


def _label_errors(ctx) -> Check:
    """Out-of-fold confident learning on a subsample (Northcutt et al. 2021)."""
    target = ctx.target
    rows = ctx.sample(ctx.options["label_error_rows"])
    rows = np.arange(ctx.cur.n_rows) if rows is None else rows
    classes, y = np.unique(target.codes[rows], return_inverse=True)
    counts = np.bincount(y)
    if classes.size < 2 or counts.min() < _FOLDS:
        return Check("label_errors", "pass", (), "too few rows per class to fit out-of-fold models")
    probabilities = _out_of_fold(ctx, rows, y)
    issue, confidence, _ = kl.label_issues(ctx.device(probabilities), ctx.device(y),
                                           n_classes=classes.size, xp=ctx.xp)
    share = issue.mean()
    order = np.argsort(np.where(issue, confidence, np.inf), kind="stable")[:int(issue.sum())]
    details = pd.DataFrame({
        "row": rows[order], "label": [target.levels[c] for c in classes[y[order]]],
        "likely": [target.levels[c] for c in classes[probabilities[order].argmax(axis=1)]],
        "self_confidence": confidence[order]}).set_index("row")
    note = "" if rows.size == ctx.cur.n_rows else f" (a sample of {rows.size:,} rows)"
    return Check("label_errors", _grade("label_error_share", share, ctx.thresholds),
                 (target.name,), f"{target.name}: {share:.1%} of rows{note} have a label the "
                 "out-of-fold model finds very unlikely", details)


_FOLDS = 3


def _out_of_fold(ctx, rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Class probabilities of each row from gradient-boosted trees fitted on the other folds."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    numeric = ctx.cur.numeric[ctx.features(ctx.cur, "numeric")][:, rows]
    cat_pos = ctx.features(ctx.cur, "categorical")
    codes = ctx.cur.codes[cat_pos][:, rows].astype(np.float64)
    codes[codes < 0] = np.nan
    small = np.array([len(ctx.cur.levels[j]) < 255 for j in cat_pos], dtype=bool)
    matrix = np.concatenate([numeric, codes]).T
    mask = np.concatenate([np.zeros(numeric.shape[0], bool), small])
    model = HistGradientBoostingClassifier(max_iter=50, categorical_features=mask,
                                           random_state=0)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=0)
    # A few thousand rows need no thread team; OpenMP spin-waiting on a busy machine costs 10x.
    with threadpool_limits(1, user_api="openmp"):
        return cross_val_predict(model, matrix, y, cv=folds, method="predict_proba")


# --- drift ------------------------------------------------------------------------------------
