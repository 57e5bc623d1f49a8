"""How data checks are graded: default thresholds, pass/warn/fail, and the check records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import BAD_OPTION, RaiError
from ..results import Check

#: Default thresholds ``(warn, fail)``; see :func:`validate` for what each measures and why.
THRESHOLDS = {
    "missing_share": (0.05, 0.5),
    "infinite_share": (0.0, 0.01),
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
    "drift_missing_share": 0.05,  # smallest change of a column's missing share that is drift
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
