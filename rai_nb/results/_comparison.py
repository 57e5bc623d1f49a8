"""The result of :func:`rai_nb.compare`: two audits side by side."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import render
from ..render import Section
from ._audit import SEVERITY_ORDER, AuditResult
from ._base import Result

#: Section of a bias report → key of :attr:`ComparisonResult.tables`, in report order.
TABLES = {"Fairness summary": "disparities", "Metrics by group": "by_group",
          "Metrics by class": "by_class", "Fairness by class": "class_disparities",
          "SageMaker Clarify metrics": "clarify"}
_NOTES = {"disparities": "As each bias report's fairness summary: between all groups, the "
                         "small ones too."}
_GRADED = ("Graded disparities", "Each headline disparity among the groups of at least "
           "min_group_size rows: what the findings grade.")
#: The verdict on each compared value.
NO_VALUE, NO_CHANGE, NO_INTERVAL = "no value", "no change", "no interval"
WITHIN, BEYOND = "change within noise", "change beyond noise"
_NOISE_NOTE = (
    "Brackets: each audit's own bootstrap interval. Change is {b} − {a}; 'change within noise' "
    "when the two intervals overlap (overlap does not prove the values equal), 'change beyond "
    "noise' (in bold) when they are disjoint.")
_STATUS_ORDER = {"appeared": 0, "cleared": 1, "stayed": 2}


@dataclass(frozen=True, repr=False)
class ComparisonResult(Result):
    """Two audits of one target and sensitive columns (e.g. a model before and after
    mitigation), metric by metric, with the findings that appeared, cleared or stayed.

    Attributes
    ----------
    labels : tuple of str
        The names of the two audits (``("before", "after")`` by default), in the column names
        of every table.
    models : tuple of str
        The model name of each audit.
    rows : tuple of int
        The rows each audit covers.
    same_group_rows : bool
        Whether every group has the same number of rows in both (the audits may then cover the
        same rows; with False they certainly do not).
    tables : dict of str to pandas.DataFrame
        ``by_group`` (with the ``(all rows)`` row), ``disparities`` and, where both audits
        have them, ``graded`` (the disparities the findings grade, ``BiasResult.decisive``),
        ``by_class``, ``class_disparities`` and ``clarify``: one row per
        (metric, row of the bias table) with, for each label, the value and its interval ends
        (``<label>``, ``<label>_lower``, ``<label>_upper``), then ``change`` (second minus
        first) and ``verdict``: ``change within noise`` (the intervals overlap), ``change
        beyond noise`` (they are disjoint), ``no change``, ``no interval``, ``no value`` or
        ``only in <label>``.
    findings : pandas.DataFrame
        The warn and fail findings of either audit, matched by ``rule`` and ``group`` (see
        :meth:`AuditResult.findings`): ``status`` (appeared, cleared or stayed), ``area``,
        ``rule``, ``group``, each audit's ``severity`` and ``value``, and the ``finding`` text
        (the second audit's, the first's for a cleared one).
    fairness_only : bool
        True when bias results were compared: the findings are then the graded disparities.
    """

    kind: ClassVar[str] = "comparison"

    labels: tuple
    models: tuple
    rows: tuple
    same_group_rows: bool
    target: object
    positive_label: object
    task: str
    sensitive: tuple
    tables: dict
    findings: pd.DataFrame
    ci: tuple = (0.95, 0.95)
    fairness_only: bool = False

    @classmethod
    def of(cls, a: AuditResult, b: AuditResult, labels: tuple, *,
           fairness_only: bool = False) -> ComparisonResult:
        """Compare two audits already checked to share target, task and sensitive columns."""
        tables = compare_tables(a.bias, b.bias, labels)
        counts = [audit.bias.by_group["count"] for audit in (a, b)]
        same = counts[0].index.equals(counts[1].index) and counts[0].equals(counts[1])
        return cls(labels=tuple(labels), models=(a.model_name, b.model_name),
                   rows=(a.n_rows, b.n_rows), same_group_rows=bool(same),
                   target=a.bias.target, positive_label=a.bias.positive_label, task=a.bias.task,
                   sensitive=a.bias.sensitive, tables=tables,
                   findings=compare_findings(a, b, labels), ci=(a.bias.ci, b.bias.ci),
                   fairness_only=fairness_only)

    @property
    def title(self) -> str:
        return f"Comparison: {self._named(0)} vs {self._named(1)}"

    def _named(self, side: int) -> str:
        """``before (LogisticRegression)``; the label alone when it is the model's name."""
        label, model = self.labels[side], self.models[side]
        return label if label == model else f"{label} ({model})"

    @property
    def by_group(self) -> pd.DataFrame:
        """The group metrics compared (``tables["by_group"]``)."""
        return self.tables["by_group"]

    @property
    def disparities(self) -> pd.DataFrame | None:
        """The fairness summary compared (``tables["disparities"]``; None when the reports
        have none)."""
        return self.tables.get("disparities")

    def status(self, status: str) -> pd.DataFrame:
        """The findings that ``appeared``, ``cleared`` or ``stayed``."""
        return self.findings[self.findings["status"] == status]

    def rows_note(self) -> str:
        """Whether the two audits can cover the same rows."""
        first, second = self.rows
        if self.same_group_rows:
            return (f"Both audits cover {first:,} rows with the same rows in every group (they "
                    "should be the same held-out rows).")
        return (f"The audits cover different rows ({first:,} and {second:,}, or the same number "
                "split differently over the groups): each change mixes the models' difference "
                "with the data's.")

    def card_text(self) -> str:
        """A paragraph for a model card: rows, each headline disparity before and after, and
        the findings that appeared and cleared."""
        parts = [f"Compared {self._named(0)} with {self._named(1)} on {self.target}. "
                 f"{self.rows_note()}"]
        changes = [_change_text(name, row, self.labels)
                   for name, row in self._headline().iterrows()]
        if changes:
            parts.append("; ".join(changes) + ".")
        for status in ("appeared", "cleared"):
            found = self.status(status)
            listed = ", ".join(_finding_name(rule, group)
                               for rule, group in zip(found["rule"], found["group"]))
            parts.append(f"Findings {status}: {listed or 'none'}.")
        return " ".join(parts)

    def _headline(self) -> pd.DataFrame:
        """Overall accuracy (or mean absolute error) and the graded disparities (else those
        of the fairness summary), one row each."""
        overall = self.by_group.xs("(all rows)", level=1, drop_level=False)
        metric = "mean_absolute_error" if self.task == "regression" else "accuracy"
        shown = overall[overall.index.get_level_values("metric") == metric]
        disparities = self.tables.get("graded", self.tables.get("disparities"))
        return pd.concat([shown.droplevel(list(range(1, shown.index.nlevels))), disparities])

    def summary(self) -> dict:
        first, second = self.labels
        headline = self._headline()
        return {"labels": list(self.labels), "models": list(self.models),
                "rows": list(self.rows), "same_group_rows": self.same_group_rows,
                "headline": {name: {first: row[first], second: row[second],
                                    "change": row["change"], "verdict": row["verdict"]}
                             for name, row in headline.iterrows()},
                **{status: int((self.findings["status"] == status).sum())
                   for status in _STATUS_ORDER}}

    def sections(self) -> list[Section]:
        first, second = self.labels
        intervals = any(table[f"{label}_lower"].notna().any()
                        for table in self.tables.values() for label in self.labels)
        note = " ".join(filter(None, [self.rows_note(), self._ci_note(), _NOISE_NOTE.format(
            a=first, b=second) if intervals else "No intervals (n_boot=0): no verdict on noise."]))
        titles = {"graded": _GRADED,
                  **{key: (title, _NOTES.get(key, "")) for title, key in TABLES.items()}}
        tables = [self._table_section(*titles[key], key) for key in titles if key in self.tables]
        tables[0] = replace(tables[0], text=f"{note} {tables[0].text}".strip())
        return [Section("Summary", self.card_text()), tables[0],
                Section("Findings", self._findings_note(),
                        self.findings if len(self.findings) else None), *tables[1:]]

    def _findings_note(self) -> str:
        counts = ", ".join(f"{len(self.status(s))} {s}" for s in _STATUS_ORDER)
        scope = "Graded disparities only (bias results were compared). " \
            if self.fairness_only else ""
        return (f"{scope}Warn and fail findings of either audit, matched by rule and group: "
                f"{counts}.")

    def _ci_note(self) -> str:
        if self.ci[0] == self.ci[1]:
            return ""
        return (f"The intervals differ in level ({self.ci[0]:.0%} and {self.ci[1]:.0%}), so "
                "their overlap is a rough guide only.")

    def _table_section(self, title: str, text: str, key: str) -> Section:
        """A compared table: both values with their intervals, the change and the verdict."""
        first, second = self.labels
        long = self.tables[key]
        shown = long[[first, second, "change", "verdict"]]
        bounds = tuple(pd.DataFrame({first: long[f"{first}_{side}"],
                                     second: long[f"{second}_{side}"],
                                     "change": np.nan, "verdict": np.nan}, index=long.index)
                       for side in ("lower", "upper"))
        beyond = np.flatnonzero(long["verdict"].to_numpy() == BEYOND)
        return Section(title, text, shown, bounds=bounds,
                       marks={"change": set(map(int, beyond))} if len(beyond) else {})


def compare_tables(a, b, labels: tuple) -> dict:
    """Each table the two bias reports both show, compared (see ``ComparisonResult.tables``)."""
    sections = [{s.title: s for s in bias.sections() if s.table is not None} for bias in (a, b)]
    tables = {key: compare_values(_long(sections[0][title]), _long(sections[1][title]), labels)
              for title, key in TABLES.items() if title in sections[0] and title in sections[1]}
    if a.decisive is not None and b.decisive is not None:
        graded = [bias.decisive[["value", "lower", "upper"]].rename_axis("metric")
                  for bias in (a, b)]
        tables = {"graded": compare_values(*graded, labels), **tables}
    return tables


def _long(section: Section) -> pd.DataFrame:
    """A report table as one row per (metric, table row): ``value``, ``lower``, ``upper``."""
    table = section.table.drop(columns="count", errors="ignore")
    sides = dict(zip(("value", "lower", "upper"), (table, *(section.bounds or ()))))
    if table.columns.tolist() == ["value"]:  # the fairness summary: one row per disparity
        return pd.DataFrame({name: frame["value"] for name, frame in sides.items()},
                            columns=["value", "lower", "upper"]).rename_axis("metric").astype(
                                np.float64)
    frames = {name: pd.concat({m: frame[m] for m in table.columns}, names=["metric"])
              for name, frame in sides.items()}
    return pd.DataFrame(frames, columns=["value", "lower", "upper"]).astype(np.float64)


def compare_values(a: pd.DataFrame, b: pd.DataFrame, labels: tuple) -> pd.DataFrame:
    """Two long tables (``value``, ``lower``, ``upper``) side by side with the change and the
    verdict; rows of either are kept, the first's first."""
    index = a.index.union(b.index, sort=False)
    present = index.isin(a.index), index.isin(b.index)
    a, b = a.reindex(index), b.reindex(index)
    first, second = labels
    table = pd.concat([a.add_prefix(f"{first}_"), b.add_prefix(f"{second}_")], axis=1)
    table = table.rename(columns={f"{first}_value": first, f"{second}_value": second})
    table["change"] = b["value"] - a["value"]
    table["verdict"] = _verdicts(a, b, present, labels)
    return table


def _verdicts(a: pd.DataFrame, b: pd.DataFrame, present: tuple, labels: tuple) -> np.ndarray:
    """The verdict on each row (see ``ComparisonResult.tables``)."""
    values = [side["value"].to_numpy(dtype=np.float64) for side in (a, b)]
    ends = [side[["lower", "upper"]].to_numpy(dtype=np.float64) for side in (a, b)]
    both = np.isfinite(ends[0]).all(axis=1) & np.isfinite(ends[1]).all(axis=1)
    overlap = np.maximum(ends[0][:, 0], ends[1][:, 0]) <= np.minimum(ends[0][:, 1], ends[1][:, 1])
    return np.select(
        [~present[1], ~present[0], np.isnan(values[0]) | np.isnan(values[1]),
         values[0] == values[1], ~both, overlap],
        [f"only in {labels[0]}", f"only in {labels[1]}", NO_VALUE, NO_CHANGE, NO_INTERVAL,
         WITHIN], BEYOND)


def compare_findings(a: AuditResult, b: AuditResult, labels: tuple) -> pd.DataFrame:
    """The warn and fail findings of either audit matched by ``rule`` and ``group``."""
    key = ["rule", "group"]
    found = [audit.findings(keys=True) for audit in (a, b)]
    found = [f.loc[f["severity"] != "pass", ["area", *key, "severity", "value", "finding"]]
             for f in found]
    merged = found[0].merge(found[1], on=key, how="outer", suffixes=("_a", "_b"),
                            indicator=True, sort=False)
    status = merged["_merge"].map({"left_only": "cleared", "right_only": "appeared",
                                   "both": "stayed"}).astype(str)
    first, second = labels
    table = pd.DataFrame({
        "status": status, "area": merged["area_b"].fillna(merged["area_a"]),
        "rule": merged["rule"], "group": merged["group"],
        f"{first} severity": merged["severity_a"].fillna("pass"),
        f"{second} severity": merged["severity_b"].fillna("pass"),
        f"{first} value": merged["value_a"].astype(np.float64),
        f"{second} value": merged["value_b"].astype(np.float64),
        "finding": merged["finding_b"].fillna(merged["finding_a"])})
    worst = np.minimum(*(table[f"{label} severity"].map(SEVERITY_ORDER) for label in labels))
    order = np.lexsort((worst, table["status"].map(_STATUS_ORDER)))
    return table.iloc[order].reset_index(drop=True)


def _change_text(name: str, row: pd.Series, labels: tuple) -> str:
    """``equalized odds difference 0.4130 [0.260, 0.712] → 0.2754 [0.209, 0.673] (−0.1377,
    change within noise)``."""
    def value(label):
        text = render.format_value(row[label])
        ends = row[f"{label}_lower"], row[f"{label}_upper"]
        return text + (f" [{ends[0]:.3f}, {ends[1]:.3f}]" if np.isfinite(ends).all() else "")

    change = row["change"]
    signed = ("+" if change > 0 else "") + render.format_value(change)
    return (f"{name.replace('_', ' ')} {value(labels[0])} → {value(labels[1])} "
            f"({signed}, {row['verdict']})")


def _finding_name(rule: str, group: str) -> str:
    return rule.replace("_", " ") + (f" ({group})" if group else "")
