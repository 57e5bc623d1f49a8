"""What every data check shares: thresholds and grading, and the encoded data (``_Context``)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..backend import bincount, choose_namespace, to_device, to_host
from ..checks import drift as kd
from ..checks import leakage as kl
from ..checks import quality as kq
from ..errors import BAD_OPTION, NAN_VALUES, RaiError
from ..frame import column_values, encode_tables
from ..frame._columns import combine_columns
from ..frame._tabular import category_codes
from ..results import Check

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
