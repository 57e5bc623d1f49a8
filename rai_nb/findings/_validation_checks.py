"""The schema and data-quality checks of ``rai_nb.validate``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..checks import quality as kq
from ..results import Check
from ._grading import _grade, _graded, _simple

#: Fewest non-missing values for a column to be judged identifier-like.
_MIN_ID_VALUES = 20

# --- schema -----------------------------------------------------------------------------------

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
    lows, highs = ctx.ref_range()
    empty = (ctx.ref_n_values == 0) | (ctx.cur_n_values == 0)
    outside = ctx.count_outside(np.where(empty, 0.0, lows), np.where(empty, 0.0, highs))
    rows = [(np.nan, np.nan, 0, 0.0) if gone else (lo, hi, int(out), out / n)
            for gone, lo, hi, out, n in zip(empty, lows, highs, outside, ctx.cur_n_values)]
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
    numeric = [ctx.cur.n_rows - n for n in ctx.cur_n_values]
    return np.array(numeric + [int(c[0]) for c in ctx.cur_counts], dtype=np.int64)


def _missing_values(ctx) -> Check:
    counts = _missing_counts(ctx)
    frame = pd.DataFrame({"missing": counts, "missing_share": counts / ctx.cur.n_rows},
                         index=pd.Index(ctx.cur.names, name="column"))
    return _graded("missing_values", frame, {"missing_share": "missing_share"}, ctx.thresholds,
                   what="has missing values")


def _infinite_values(ctx) -> Check:
    """−inf and +inf per numeric column, of the current data and of the reference when given."""
    low, high = ctx.infinite_counts("cur")
    frame = pd.DataFrame({"neg_inf": low, "pos_inf": high,
                          "infinite_share": (low + high) / ctx.cur.n_rows},
                         index=pd.Index(ctx.cur.numeric_names, name="column"))
    if ctx.ref is not None:
        ref_low, ref_high = ctx.infinite_counts("ref")
        frame = frame.assign(reference_neg_inf=ref_low, reference_pos_inf=ref_high)
    return _graded("infinite_values", frame, {"infinite_share": "infinite_share"},
                   ctx.thresholds, what="has infinite values")


def _group_missingness(ctx) -> Check:
    """Largest gap in a column's missing share between groups of a sensitive column (shares
    of the rows' weights with ``sample_weight``; the weight column itself is left out)."""
    min_size = ctx.thresholds["min_group_size"][0] or 1
    sensitive_names = {f.name for f in ctx.sensitive} | {ctx.weight}
    rows = []
    for i, facet in enumerate(ctx.sensitive):
        counts, sizes = ctx.missing_by_group(i)
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
    rows, groups = ctx.duplicate_stats()
    share = rows / ctx.cur.n_rows
    details = pd.DataFrame({"duplicate_rows": [rows], "distinct_duplicated": [groups],
                            "share": [share]}, index=["all columns"])
    return Check("duplicates", _grade("duplicate_share", share, ctx.thresholds), (),
                 f"{rows:,} rows ({share:.2%}) repeat an earlier row", details)


def _conflicting_labels(ctx) -> Check:
    target = ctx.target
    rows, groups = ctx.conflict_stats()
    share = rows / ctx.cur.n_rows
    details = pd.DataFrame({"rows": [rows], "feature_groups": [groups], "share": [share]},
                           index=[target.name])
    return Check("conflicting_labels", _grade("conflict_share", share, ctx.thresholds),
                 (target.name,), f"{rows:,} rows ({share:.2%}) share all feature values with a "
                 f"row labelled differently in {target.name}", details)


def _profiles(ctx) -> pd.DataFrame:
    profiles = ctx.numeric_profiles()
    profiles += [kq.count_profile(c[1:]) for c in ctx.cur_counts]
    frame = pd.DataFrame([(p.n_values, p.n_distinct, p.top_count / max(p.n_values, 1))
                          for p in profiles], columns=["values", "distinct", "top_share"],
                         index=pd.Index(ctx.cur.names, name="column"))
    return frame[frame["values"] > 0]


def _constant_columns(ctx) -> Check:
    return _graded("constant_columns", _profiles(ctx), {"top_share": "near_constant_share"},
                   ctx.thresholds, what="is constant or nearly so")


def _id_like(ctx) -> Check:
    """String and integer columns whose values are (almost) all distinct and carry no order.

    An integer column counts only when its values also spread evenly over their range
    (:func:`checks.quality.spread_offset`), as sequentially issued or random ids do; nearly
    distinct integers that cluster are amounts (a credit amount, a census weight). Floats are
    measurements, never identifiers.
    """
    frame = _profiles(ctx)
    kinds = {n: s.dtype for n, s in ctx.cur.schema.items()}
    integers = {n: j for j, n in enumerate(ctx.cur.numeric_names)
                if kinds[n].lower().lstrip("u").startswith("int")}
    eligible = [n for n in frame.index if n not in ctx.roles and
                (n in ctx.cur.categorical_names or n in integers)]
    frame = frame.loc[eligible]
    frame = frame[frame["values"] >= _MIN_ID_VALUES]
    offsets = [_spread_offset(ctx, integers[n]) if n in integers else np.nan for n in frame.index]
    skipped = ["" if not offset > kq.MAX_ID_SPREAD_OFFSET else
               f"integer values cluster (quartiles {offset:.0%} of the range from an even "
               f"spread, over {kq.MAX_ID_SPREAD_OFFSET:.0%}): an amount or count, not an identifier"
               for offset in offsets]
    frame = frame.assign(distinct_share=frame["distinct"] / frame["values"],
                         spread_offset=offsets, skipped=skipped)
    return _graded_unless_skipped("id_like", frame, "distinct_share", "id_distinct_share", ctx,
                                  what="looks like an identifier (nearly every value distinct)")


def _spread_offset(ctx, j: int) -> float:
    found = ctx.outlier_counts(j)
    return kq.spread_offset(found.low, found.quartiles, found.high)


def _outliers(ctx) -> Check:
    """Values beyond Tukey's fences, except in ordinal/low-cardinality columns and heaped ones
    (:func:`checks.quality.outlier_skip` says why, in column ``skipped``)."""
    profiles = dict(zip(ctx.cur.numeric_names, ctx.numeric_profiles()))
    rows = []
    for j, (name, n) in enumerate(zip(ctx.cur.numeric_names, ctx.cur_n_values)):
        if n < 2 or name in ctx.roles:
            continue
        found = ctx.outlier_counts(j)
        skip = kq.outlier_skip(profiles[name].n_distinct, found.quartiles)
        counts = (np.nan,) * 4 if skip else (found.iqr, found.iqr / n, found.robust_z,
                                             found.robust_z / n)
        rows.append((name, *counts, found.lower_fence, found.upper_fence, skip))
    frame = pd.DataFrame(rows, columns=["column", "iqr_outliers", "iqr_share", "robust_z_outliers",
                                        "robust_z_share", "lower_fence", "upper_fence", "skipped"])
    return _graded_unless_skipped("outliers", frame.set_index("column"), "iqr_share",
                                  "outlier_share", ctx,
                                  what="has many values beyond Tukey's fences (1.5 × IQR)")


def _graded_unless_skipped(name, frame: pd.DataFrame, column: str, key: str, ctx, *,
                           what: str) -> Check:
    """``_graded`` on ``frame[column]``, the rows with a ``skipped`` reason always passing."""
    graded = frame.assign(_graded=frame[column].where(frame["skipped"] == ""))
    check = _graded(name, graded, {"_graded": key}, ctx.thresholds, what=what)
    return replace(check, details=check.details.drop(columns="_graded"))
