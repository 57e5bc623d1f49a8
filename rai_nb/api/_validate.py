"""``rai_nb.validate`` and ``rai_nb.drift``: the data checks to run before a model is trusted.

Each check reads the encoded tables (and cached sorted columns) of one :class:`_Context` and
returns a :class:`rai_nb.results.Check`. Thresholds are ``(warn, fail)`` pairs; a value of 0
never warns, ``None`` switches a level off. Lower-is-worse quantities are listed in ``_LOWER``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..backend import bincount, choose_namespace, to_device, to_host
from ..checks import drift as kd
from ..checks import leakage as kl
from ..checks import quality as kq
from ..checks.mmd import mmd_test
from ..errors import BAD_OPTION, NAN_VALUES, RaiError
from ..frame import column_values, encode_categorical, encode_tables
from ..frame._columns import combine_columns
from ..frame._tabular import category_codes
from ..results import Check, DriftResult, ValidationResult

#: Default thresholds ``(warn, fail)``; see :func:`validate` for what each measures and why.
THRESHOLDS = {
    "missing_share": (0.05, 0.5),
    "group_missing_gap": (0.1, 0.25),
    "duplicate_share": (0.01, 0.05),
    "conflict_share": (0.01, 0.05),
    "near_constant_share": (0.99, None),
    "id_distinct_share": (0.95, None),
    "outlier_share": (0.05, None),
    "minority_share": (0.05, 0.01),
    "disparate_impact": (0.8, None),
    "leakage_auc": (0.95, 0.99),
    "leakage_cramers_v": (0.8, 0.95),
    "label_error_share": (0.1, 0.3),
    "proxy_cramers_v": (0.5, 0.8),
    "proxy_auc": (0.8, 0.95),
    "min_group_size": (30, None),
    "unseen_share": (0.0, 0.01),
    "out_of_range_share": (0.01, 0.1),
    "drift_pvalue": 0.05,
    "drift_distance": 0.1,
    "drift_psi": 0.2,
    "drift_small_rows": 1000,
    "drift_share": 0.5,
    "mmd_pvalue": 0.05,
}
_LOWER = {"minority_share", "disparate_impact", "min_group_size"}
_DRIFT_METHODS = {"numeric": ("auto", "ks", "wasserstein", "psi", "jensen_shannon"),
                  "categorical": ("auto", "chi2", "jensen_shannon", "psi")}
_MIN_ID_VALUES = 20


def _thresholds(overrides) -> dict:
    chosen = dict(THRESHOLDS)
    for name, value in (overrides or {}).items():
        if name not in THRESHOLDS:
            raise RaiError(BAD_OPTION.format(argument="thresholds key", allowed=sorted(THRESHOLDS),
                                             value=name))
        if isinstance(THRESHOLDS[name], tuple) != isinstance(value, tuple):
            raise RaiError(f"thresholds[{name!r}] must be a "
                           f"{'(warn, fail) pair' if isinstance(THRESHOLDS[name], tuple) else 'number'}"
                           f", got {value!r}")
        chosen[name] = value
    return chosen


def _grade(name: str, value: float, thresholds: dict) -> str:
    """pass/warn/fail of ``value`` against ``thresholds[name]``."""
    if value is None or np.isnan(value):
        return "pass"
    lower = name in _LOWER
    severity = "pass"
    for level, limit in zip(("warn", "fail"), thresholds[name]):
        if limit is None:
            continue
        hit = value < limit if lower else (value > 0 and value >= limit)
        if hit:
            severity = level
    return severity


def _worst(severities) -> str:
    order = {"pass": 0, "warn": 1, "fail": 2}
    return max(severities, key=order.__getitem__, default="pass")


def _names(columns) -> str:
    shown = ", ".join(map(str, list(columns)[:5]))
    return shown + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")


def _graded(name, frame: pd.DataFrame, value_column: str, thresholds, *, key=None, what: str):
    """A check graded column by column: the worst column decides, the message names the bad ones."""
    key = key or value_column
    grades = frame[value_column].map(lambda v: _grade(key, v, thresholds))
    frame = frame.assign(severity=grades)
    bad = tuple(frame.index[grades != "pass"])
    if not bad:
        return Check(name, "pass", (), f"no column {what}", frame)
    return Check(name, _worst(grades), bad, f"{_names(bad)}: {what}", frame)


class _Target:
    """The target as class codes (quantile bins when it has too many values to be classes)."""

    MAX_CLASSES = 20

    def __init__(self, data: pd.DataFrame, spec, positive_label):
        self.name, values = column_values(data, spec, argument="target")
        if values.isna().any():
            raise RaiError(NAN_VALUES.format(argument="target", column=self.name,
                                             count=int(values.isna().sum())))
        codes, levels = category_codes(values, ())
        self.classes = len(levels) <= self.MAX_CLASSES
        if not self.classes:
            numeric = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            edges = np.unique(np.quantile(numeric, np.arange(1, 10) / 10))
            codes, levels = np.searchsorted(edges, numeric), tuple(range(edges.size + 1))
        self.codes, self.levels = codes, levels
        self.positive = positive_label if positive_label is not None else levels[-1]
        if self.classes and self.positive not in levels:
            raise RaiError(f"positive_label {positive_label!r} does not occur in target "
                           f"{self.name!r}; values are {list(levels)[:10]}")

    @property
    def binary(self) -> bool:
        return self.classes and len(self.levels) == 2

    def positive_mask(self) -> np.ndarray:
        return self.codes == self.levels.index(self.positive)


class _Context:
    """Encoded inputs of one validation, with the expensive intermediate arrays cached."""

    def __init__(self, data, reference, *, columns=None, roles=None, target=None, sensitive=(),
                 thresholds, options, random_state):
        self.cur, self.ref, self.changes = encode_tables(data, reference, columns=columns,
                                                          argument="current" if columns else "data")
        self.roles = roles or {}
        self.target = target
        self.sensitive = list(sensitive)
        self.thresholds = thresholds
        self.options = options
        self.rng = np.random.default_rng(random_state)
        self.xp = choose_namespace(max(self.cur.n_rows, self.ref.n_rows if self.ref else 0))
        self.cache: dict = {}

    def device(self, array):
        return to_device(array, self.xp)

    def features(self, table, kind: str) -> list[int]:
        """Positions of the non-target, non-prediction columns of one kind in ``table``."""
        names = table.numeric_names if kind == "numeric" else table.categorical_names
        return [i for i, n in enumerate(names) if n not in self.roles]

    @cached_property
    def groups(self):
        return combine_columns(self.sensitive) if self.sensitive else None

    @cached_property
    def cur_sorted(self) -> list:
        return kq.sorted_columns(self.device(self.cur.numeric), xp=self.xp)

    @cached_property
    def ref_sorted(self) -> list:
        return kq.sorted_columns(self.device(self.ref.numeric), xp=self.xp)

    @cached_property
    def cur_counts(self) -> list[np.ndarray]:
        """Per categorical column: counts of missing (first) and of every vocabulary level."""
        return _level_counts(self.cur, self)

    @cached_property
    def ref_counts(self) -> list[np.ndarray]:
        return _level_counts(self.ref, self)

    @cached_property
    def _keys(self) -> np.ndarray:
        return self.cur.row_keys()

    @cached_property
    def feature_hash(self):
        """Hash of each row's feature values (target and prediction left out)."""
        keep = [i for i, n in enumerate(self.cur.names) if n not in self.roles]
        return kq.row_hashes(self.device(self._keys[keep]), xp=self.xp)

    @cached_property
    def row_hash(self):
        """Hash of each whole row."""
        roles = [i for i, n in enumerate(self.cur.names) if n in self.roles]
        return kq.row_hashes(self.device(self._keys[roles]), state=self.feature_hash, xp=self.xp)

    def bin_codes(self, j: int):
        """Decile-bin codes of numeric column ``j`` (missing: own code), and the number of codes."""
        if ("bins", j) not in self.cache:
            edges = kd.bin_edges(self.cur_sorted[j], self.options["n_bins"], xp=self.xp)
            codes = kl.bin_codes(self.device(self.cur.numeric[j]), edges, xp=self.xp)
            self.cache["bins", j] = codes, edges.size + 2
        return self.cache["bins", j]

    def sample(self, limit: int) -> np.ndarray | None:
        """Sorted row positions of a random subsample of at most ``limit`` rows (None = all)."""
        if self.cur.n_rows <= limit:
            return None
        return np.sort(self.rng.choice(self.cur.n_rows, limit, replace=False))


def _level_counts(table, ctx) -> list[np.ndarray]:
    out = []
    for row, levels in zip(table.codes, table.levels):
        shifted = ctx.device(row + 1)
        out.append(to_host(bincount(shifted, minlength=len(levels) + 1, xp=ctx.xp)))
    return out


def _graded(name, frame: pd.DataFrame, rules: dict, thresholds, *, what: str) -> Check:
    """A check graded row by row: the worst row decides, the message names the bad rows.

    ``rules`` maps a column of ``frame`` to the threshold that grades it.
    """
    grades = pd.Series("pass", index=frame.index)
    for column, key in rules.items():
        graded = frame[column].map(lambda v, key=key: _grade(key, v, thresholds))
        grades = pd.Series([_worst(pair) for pair in zip(grades, graded)], index=frame.index)
    frame = frame.assign(severity=grades)
    bad = tuple(frame.index[grades != "pass"])
    if not bad:
        return Check(name, "pass", (), f"no column {what}", frame)
    return Check(name, _worst(grades), bad, f"{_names(bad)}: {what}", frame)


def _simple(name, bad: tuple, severity: str, problem: str, fine: str, details=None) -> Check:
    if not bad:
        return Check(name, "pass", (), fine, details)
    return Check(name, severity, tuple(bad), f"{_names(bad)}: {problem}", details)


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

_DRIFT_COLUMNS = ["role", "kind", "method", "statistic", "threshold", "p_value", "drifted", "ks",
                  "ks_pvalue", "wasserstein", "wasserstein_norm", "chi2", "chi2_pvalue",
                  "jensen_shannon", "psi", "missing_reference", "missing_current"]


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
        ref, cur = ctx.ref_sorted[j], ctx.cur_sorted[j]
        row = {"kind": "numeric", "missing_reference": 1 - ref.shape[0] / ctx.ref.n_rows,
               "missing_current": 1 - cur.shape[0] / ctx.cur.n_rows}
        if ref.shape[0] and cur.shape[0]:
            stats = kd.numeric_drift(ref, cur, n_bins=ctx.options["n_bins"], xp=ctx.xp)
            method = ctx.options["numeric_method"]
            method = ("ks" if ref.shape[0] <= small else "wasserstein") if method == "auto" \
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
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=_DRIFT_COLUMNS)
    frame["role"] = [ctx.roles.get(n, "feature") for n in frame.index]
    frame["method"] = frame["method"].fillna("none")
    frame["drifted"] = frame["drifted"].astype("boolean").fillna(False).astype(bool)
    frame.index.name = "column"
    return frame


def _mmd(ctx) -> dict | None:
    """MMD test on the numeric features, standardised by the reference, on row subsamples."""
    positions = ctx.features(ctx.cur, "numeric")
    if not ctx.options["mmd"] or not positions or min(ctx.ref.n_rows, ctx.cur.n_rows) < 2:
        return None
    xp = ctx.xp
    centre = np.array([float(to_host(xp.mean(ctx.ref_sorted[j]))) if ctx.ref_sorted[j].shape[0]
                       else 0.0 for j in positions])
    spread = np.array([float(to_host(xp.std(ctx.ref_sorted[j]))) if ctx.ref_sorted[j].shape[0]
                       else 1.0 for j in positions])
    spread[~(spread > 0)] = 1.0
    limit = ctx.options["mmd_rows"]

    def standardised(table):
        rows = np.arange(table.n_rows) if table.n_rows <= limit else \
            np.sort(ctx.rng.choice(table.n_rows, limit, replace=False))
        values = (table.numeric[positions][:, rows] - centre[:, None]) / spread[:, None]
        return ctx.device(np.ascontiguousarray(np.nan_to_num(values, nan=0.0).T))

    test = mmd_test(standardised(ctx.ref), standardised(ctx.cur),
                    n_permutations=ctx.options["n_permutations"], random_state=ctx.rng, xp=xp)
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


# --- public functions -------------------------------------------------------------------------

#: Check name → (function, what it needs).
CHECKS = {
    "missing_columns": (_missing_columns, {"reference"}),
    "new_columns": (_new_columns, {"reference"}),
    "dtype_changes": (_dtype_changes, {"reference"}),
    "unseen_categories": (_unseen_categories, {"reference"}),
    "out_of_range": (_out_of_range, {"reference"}),
    "mixed_types": (_mixed_types, set()),
    "missing_values": (_missing_values, set()),
    "group_missingness": (_group_missingness, {"sensitive"}),
    "duplicates": (_duplicates, set()),
    "conflicting_labels": (_conflicting_labels, {"target"}),
    "constant_columns": (_constant_columns, set()),
    "id_like": (_id_like, set()),
    "outliers": (_outliers, set()),
    "class_imbalance": (_class_imbalance, {"classes"}),
    "group_imbalance": (_group_imbalance, {"binary", "sensitive"}),
    "label_leakage": (_label_leakage, {"target"}),
    "label_errors": (_label_errors, {"classes"}),
    "proxies": (_proxies, {"sensitive"}),
    "representation": (_representation, {"sensitive"}),
    "drift": (_drift_check, {"reference"}),
    "label_drift": (_role_drift("label_drift", "target"), {"reference", "target"}),
    "prediction_drift": (_role_drift("prediction_drift", "prediction"),
                         {"reference", "prediction"}),
    "multivariate_drift": (_multivariate_drift, {"reference"}),
}


def _options(**given) -> dict:
    for name in ("n_permutations", "mmd_rows", "label_error_rows"):
        if not isinstance(given[name], (int, np.integer)) or given[name] < 2:
            raise RaiError(f"{name} must be an integer of at least 2, got {given[name]!r}")
    for kind in ("numeric", "categorical"):
        method = given[f"{kind}_method"]
        if method not in _DRIFT_METHODS[kind]:
            raise RaiError(BAD_OPTION.format(argument=f"{kind}_method",
                                             allowed=_DRIFT_METHODS[kind], value=method))
    return {"n_bins": 10, "auc_rows": 100_000, "mmd": True, **given}


def _selected(checks, available: set) -> list[str]:
    if checks is None:
        return [n for n, (_, needs) in CHECKS.items() if needs <= available]
    names = [checks] if isinstance(checks, str) else list(checks)
    for name in names:
        if name not in CHECKS:
            raise RaiError(BAD_OPTION.format(argument="checks", allowed=list(CHECKS), value=name))
        missing = CHECKS[name][1] - available
        if missing:
            need = {"classes": "target", "binary": "a binary target"}
            raise RaiError(f"check {name!r} needs "
                           f"{', '.join(sorted(need.get(m, m + '=') for m in missing))}")
    return names


def validate(
    data: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    target=None,
    sensitive=None,
    prediction=None,
    positive_label=None,
    checks=None,
    thresholds: dict | None = None,
    numeric_method: str = "auto",
    categorical_method: str = "auto",
    n_permutations: int = 100,
    mmd_rows: int = 1000,
    label_error_rows: int = 5000,
    random_state=0,
) -> ValidationResult:
    """Run the data checks: schema, quality, labels, proxies, representation and drift.

    Parameters
    ----------
    data : pandas.DataFrame
        The data to check. Never modified.
    reference : pandas.DataFrame, optional
        Earlier (training) data: enables the schema-against-reference and drift checks.
    target : str, optional
        Label column: enables conflicting labels, class imbalance, leakage, label errors and
        label drift.
    sensitive : str or list of str, optional
        Sensitive columns: enables per-group missingness and imbalance, proxies, representation.
    prediction : str, optional
        Prediction column (treated like the target: not a feature; prediction drift).
    positive_label : optional
        Favourable class of a binary target (default: the last in sorted order, e.g. 1).
    checks : str or list of str, optional
        Names of the checks to run (default: every check the arguments allow); see ``CHECKS``.
    thresholds : dict, optional
        Overrides of :data:`THRESHOLDS`, ``(warn, fail)`` pairs, ``None`` to switch a level off.
    numeric_method, categorical_method : str
        Per-column drift decision; ``auto`` follows Evidently (see :func:`drift`).
    n_permutations, mmd_rows : int
        Permutations and rows per sample of the multivariate MMD test.
    label_error_rows : int
        Rows sampled for the out-of-fold model behind ``label_errors``.
    random_state : int or numpy.random.Generator
        Seed of every subsample and permutation.

    Returns
    -------
    ValidationResult

    Notes
    -----
    Default thresholds (warn, fail) and why:

    - ``missing_share`` 5 % / 50 % of a column's cells; ``group_missing_gap`` 0.05 / 0.2
      difference in missing share between sensitive groups of at least ``min_group_size`` rows
      — missingness that depends on the group biases any imputation or row dropping.
    - ``duplicate_share`` and ``conflict_share`` 1 % / 5 % of rows (a few duplicates occur
      naturally in census-like data, e.g. 24 of Adult's 32,561 rows).
    - ``near_constant_share`` 0.99 top-value share; ``id_distinct_share`` 0.95 distinct values
      in an integer or categorical column of at least 20 values; ``outlier_share`` 5 % of values
      beyond Tukey's 1.5 × IQR fences (the modified z-score > 3.5 of Iglewicz and Hoaglin is
      reported beside it). These only warn.
    - ``minority_share`` below 5 % / 1 % of rows; ``disparate_impact`` a group's positive-label
      rate below 0.8 × the highest group's (the four-fifths rule); Clarify's CI and DPL per group
      are in the details.
    - ``leakage_auc`` 0.95 / 0.99 single-feature AUC, ``leakage_cramers_v`` 0.8 / 0.95
      bias-corrected Cramér's V (Bergsma 2013) with the target; numeric features enter V as
      10 quantile bins. Categorical AUC orders levels on one half of the rows and scores the
      other (cross-fitted), so identifiers do not look like leaks.
    - ``label_error_share`` 10 % / 30 % of rows flagged by confident learning (Northcutt et
      al. 2021) with 3-fold out-of-fold gradient-boosted trees on ``label_error_rows`` rows.
    - ``proxy_cramers_v`` 0.5 / 0.8 (0.5 is a "strong" association by Cohen's convention) and
      ``proxy_auc`` 0.8 / 0.95 of a feature predicting a binary sensitive column.
    - ``min_group_size`` 30 rows per sensitive group or intersection (warn only).
    - ``unseen_share`` any / 1 % of rows with a category the reference never had;
      ``out_of_range_share`` 1 % / 10 % of values outside the reference's range.
    - Drift: as Evidently's defaults — with at most ``drift_small_rows`` = 1000 reference rows,
      KS (numeric) or χ² (categorical) p < ``drift_pvalue`` = 0.05; above, Wasserstein distance
      divided by the reference standard deviation, or Jensen–Shannon distance, ≥
      ``drift_distance`` = 0.1 (tests on large samples flag negligible shifts). The ``drift``
      check warns when a feature drifted and fails when ≥ ``drift_share`` = 50 % did.
      ``multivariate_drift`` warns when the MMD permutation p < ``mmd_pvalue`` = 0.05.

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> df = pd.DataFrame({"x": [1, 2, 3, 3], "y": [0, 1, 0, 0]})
    >>> result = rai_nb.validate(df, target="y", checks=["duplicates", "class_imbalance"])
    >>> result.checks["severity"].tolist()
    ['fail', 'pass']
    """
    thresholds = _thresholds(thresholds)
    options = _options(numeric_method=numeric_method, categorical_method=categorical_method,
                       n_permutations=n_permutations, mmd_rows=mmd_rows,
                       label_error_rows=label_error_rows)
    if not isinstance(data, pd.DataFrame):
        raise RaiError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    roles, tgt = {}, None
    if target is not None:
        tgt = _Target(data, target, positive_label)
        roles[tgt.name] = "target"
    if prediction is not None:
        roles[column_values(data, prediction, argument="prediction")[0]] = "prediction"
    names = [sensitive] if isinstance(sensitive, (str, int)) else list(sensitive or [])
    facets = [encode_categorical(*column_values(data, s, argument="sensitive"),
                                 argument="sensitive") for s in names]
    ctx = _Context(data, reference, roles=roles, target=tgt, sensitive=facets,
                   thresholds=thresholds, options=options, random_state=random_state)
    available = {"reference"} if reference is not None else set()
    available |= {"sensitive"} if facets else set()
    available |= {"prediction"} if prediction is not None else set()
    if tgt is not None:
        available |= {"target"} | ({"classes"} if tgt.classes else set()) | \
            ({"binary"} if tgt.binary else set())
    results = [CHECKS[name][0](ctx) for name in _selected(checks, available)]
    return ValidationResult.from_checks(
        results, drift=ctx.cache.get("drift"), thresholds=thresholds, n_rows=ctx.cur.n_rows)


def drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns=None,
    target=None,
    prediction=None,
    thresholds: dict | None = None,
    numeric_method: str = "auto",
    categorical_method: str = "auto",
    mmd: bool = True,
    n_permutations: int = 100,
    mmd_rows: int = 1000,
    random_state=0,
) -> DriftResult:
    """Per-column and multivariate drift between ``reference`` and ``current``.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        The two samples (never modified). Columns are compared by name.
    columns : list, optional
        Columns to compare (default: all columns of both).
    target, prediction : str, optional
        Label and prediction columns: reported with role ``target``/``prediction`` (label and
        prediction drift) and left out of the multivariate test.
    thresholds : dict, optional
        Overrides of the ``drift_*`` and ``mmd_pvalue`` entries of :data:`THRESHOLDS`.
    numeric_method : {"auto", "ks", "wasserstein", "psi", "jensen_shannon"}
    categorical_method : {"auto", "chi2", "jensen_shannon", "psi"}
        The statistic that decides ``drifted``. ``auto`` follows Evidently: with at most 1000
        reference rows a test (KS p < 0.05, χ² p < 0.05), otherwise a distance (Wasserstein /
        reference std ≥ 0.1, Jensen–Shannon distance ≥ 0.1). PSI uses 0.2, the usual
        "significant shift" level (Siddiqi 2006). Every statistic is computed and reported.
    mmd : bool
        Run the MMD permutation test (Gretton et al. 2012) on the numeric features.
    n_permutations, mmd_rows : int
        Permutations, and rows sampled from each data set, for MMD.
    random_state : int or numpy.random.Generator

    Returns
    -------
    DriftResult

    Notes
    -----
    KS, Wasserstein-1 and χ² (with Yates' correction for two categories) equal
    ``scipy.stats.ks_2samp``, ``wasserstein_distance`` and ``chi2_contingency`` on the
    non-missing values; missing categorical values count as a category of their own. PSI and
    Jensen–Shannon of numeric columns use 10 bins at the reference's deciles.

    Examples
    --------
    >>> import numpy as np, pandas as pd, rai_nb
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, size=500)})
    >>> rai_nb.drift(ref, cur, mmd=False).drifted
    ['x']
    """
    thresholds = _thresholds(thresholds)
    options = _options(numeric_method=numeric_method, categorical_method=categorical_method,
                       n_permutations=n_permutations, mmd_rows=mmd_rows, label_error_rows=2)
    options["mmd"] = bool(mmd)
    if not isinstance(reference, pd.DataFrame):
        raise RaiError(f"reference must be a pandas DataFrame, got {type(reference).__name__}")
    if not isinstance(current, pd.DataFrame):
        raise RaiError(f"current must be a pandas DataFrame, got {type(current).__name__}")
    if columns is None and not set(reference.columns) & set(current.columns):
        raise RaiError("reference and current share no column; name the columns to compare")
    roles = {}
    for spec, role in ((target, "target"), (prediction, "prediction")):
        if spec is not None:
            name = column_values(reference, spec, argument=role)[0]
            roles[column_values(current, name, argument=role)[0]] = role
    ctx = _Context(current, reference, columns=columns, roles=roles, thresholds=thresholds,
                   options=options, random_state=random_state)
    return _drift_result(ctx)
