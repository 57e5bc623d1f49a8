"""The result of :func:`rai_nb.bias`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import render
from ..errors import BAD_OPTION, RaiError
from ..render import Section
from ..stats.clarify import DESCRIPTIONS
from ..stats.group_metrics import LABEL_METRICS, disparity
from ._base import Result

_METHODS = ("between_groups", "to_overall")


@dataclass(frozen=True, repr=False)
class BiasResult(Result):
    """Group fairness metrics of one set of labels (and predictions) over sensitive groups.

    Attributes
    ----------
    task : str
        ``binary``, ``multiclass`` or ``regression``; ``task_inferred`` says whether it was
        inferred from the target rather than passed.
    by_group : pandas.DataFrame
        One row per observed group (intersection of the sensitive columns), fairlearn metric
        names as columns: the binary rates; accuracy, balanced accuracy and macro F1
        (multiclass); mean target, prediction, error, MAE, RMSE, R² and the predictions'
        KS / Wasserstein distance to all rows (regression). ``count`` is the number of rows.
    overall : pandas.Series
        The same metrics on all rows.
    by_class : pandas.DataFrame or None
        Multiclass: one-vs-rest selection rate, TPR, FPR and precision per (group, class).
    clarify : pandas.DataFrame
        SageMaker Clarify metrics, indexed by (sensitive column, facet value) — and by class
        first for a multiclass target (one-vs-rest); each facet is compared with all other
        rows. Post-training metrics only when predictions were given; for regression only
        with a ``label_threshold``.
    disparities : pandas.Series
        Binary: demographic parity, equalized odds and equal opportunity differences and
        ratios (fairlearn's definitions, ``between_groups``); multiclass: the same at the
        worst class (each class in ``class_disparities``); regression: the gap and ratio of
        each group metric, bounded group loss and statistical parity (KS, Wasserstein).
    class_disparities : pandas.DataFrame or None
        Multiclass: the binary disparities of each class, one-vs-rest.
    intervals : pandas.DataFrame or None
        Bootstrap percentile intervals (``estimate``, ``lower``, ``upper``) for every value
        above, indexed by (table, row, metric); None when ``n_boot=0``.
    counts : numpy.ndarray or None
        Classification: the (weighted) confusion counts ``[group, y_true, y_pred]`` behind
        every number; None for regression.
    binned : dict
        For each sensitive column that was binned, a sentence with its edges.
    min_group_size : int
        Groups with fewer rows are listed by :meth:`small_groups` and never decide a finding.
    decisive : pandas.DataFrame or None
        What the findings grade: each headline disparity among the groups of at least
        ``min_group_size`` rows (``value``, its bootstrap ``lower``/``upper``), the metric and
        class behind it and the groups at each end with their values and rows.
    """

    kind: ClassVar[str] = "bias"

    target: object
    positive_label: object
    sensitive: tuple
    has_predictions: bool
    counts: np.ndarray | None
    by_group: pd.DataFrame
    overall: pd.Series
    clarify: pd.DataFrame
    disparities: pd.Series
    intervals: pd.DataFrame | None = None
    n_boot: int = 0
    ci: float = 0.95
    task: str = "binary"
    task_inferred: bool = False
    classes: tuple = ()
    by_class: pd.DataFrame | None = None
    class_disparities: pd.DataFrame | None = None
    weighted: bool = False
    min_group_size: int = 30
    label_threshold: float | None = None
    binned: dict = field(default_factory=dict)
    decisive: pd.DataFrame | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows audited."""
        return int(self.by_group["count"].sum())

    def small_groups(self) -> pd.Series:
        """Row counts of the groups below ``min_group_size``: they never decide a finding."""
        counts = self.by_group["count"]
        return counts[counts < self.min_group_size]

    def large_rows(self, table: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``table`` (indexed by group, with or without a ``class`` level)
        is a group of at least ``min_group_size`` rows: only those are marked best or worst,
        as only they decide findings."""
        index = table.index.droplevel("class") if "class" in table.index.names else table.index
        return self.by_group["count"].reindex(index).to_numpy() >= self.min_group_size

    def marked_note(self) -> str:
        """Which groups the extremes are marked among."""
        if self.small_groups().empty:
            return ""
        return f" (among groups of at least {self.min_group_size} rows)"

    @property
    def title(self) -> str:
        names = ", ".join(map(str, self.sensitive))
        if self.task == "binary":
            return f"Bias report: {self.target} = {self.positive_label} by {names}"
        return f"Bias report ({self.task}): {self.target} by {names}"

    def task_note(self) -> str:
        """One sentence: the task, whether it was inferred, weights and binned columns."""
        how = "inferred from the target" if self.task_inferred else "as passed"
        parts = [f"Task: {self.task} ({how}; pass task= to change it)."]
        if self.weighted:
            parts.append("Metrics are weighted by sample_weight; count is rows.")
        parts += [f"{text}." for text in self.binned.values()]
        small = self.small_groups()
        if len(small):
            listed = ", ".join(f"{row_label(g)} ({n} rows)" for g, n in small.head(5).items())
            more = f" and {len(small) - 5} more" if len(small) > 5 else ""
            parts.append(f"{len(small)} group(s) under min_group_size={self.min_group_size} "
                         f"never decide a finding: {listed}{more}.")
        return " ".join(parts)

    def group_min(self) -> pd.Series:
        """Smallest value of each metric over groups."""
        return self.by_group.min()

    def group_max(self) -> pd.Series:
        """Largest value of each metric over groups."""
        return self.by_group.max()

    def difference(self, method: str = "between_groups") -> pd.Series:
        """Largest gap of each metric between groups (or to the overall value), as fairlearn."""
        return self._compare(method, "difference")

    def ratio(self, method: str = "between_groups") -> pd.Series:
        """Smallest ratio of each metric between groups (or to the overall value), as fairlearn."""
        return self._compare(method, "ratio")

    def _compare(self, method: str, kind: str) -> pd.Series:
        if method not in _METHODS:
            raise RaiError(BAD_OPTION.format(argument="method", allowed=_METHODS, value=method))
        values = disparity(self.by_group.to_numpy().T, self.overall.to_numpy(), method=method,
                           kind=kind)
        return pd.Series(values, index=self.by_group.columns, name=kind)

    def summary(self) -> dict:
        return {"rows": self.n_rows, "groups": len(self.by_group), "task": self.task,
                "disparities": self.disparities.to_dict()}

    def sections(self) -> list[Section]:
        shown = self.by_group if self.has_predictions else self.by_group[
            [c for c in self.by_group.columns if c in (*LABEL_METRICS, "mean_target")]]
        overall = self.overall.to_frame().T[shown.columns]
        overall.index = _label_like(shown.index, "(all rows)")
        bar = {"binary": "selection_rate" if self.has_predictions else "base_rate",
               "multiclass": "accuracy" if self.has_predictions else "count",
               "regression": "mean_absolute_error" if self.has_predictions else "mean_target"}
        values = [c for c in shown.columns if c != "count"]
        marks = render.extremes(shown, values, rows=self.large_rows(shown))
        table = pd.concat([shown, overall])
        sections = [Section("Metrics by group", " ".join(filter(None, [
                                self.intro(), self.task_note(), self._brackets(),
                                f"Highest and lowest group{self.marked_note()} in bold."
                                if marks else ""])),
                            table, bars=shown[bar[self.task]], marks=marks,
                            bounds=self.bounds("by_group", table))]
        if self.by_class is not None and self.has_predictions:
            sections.append(Section("Metrics by class", "One-vs-rest rates of each class within "
                                    "each group.", self.by_class,
                                    marks=render.extremes(self.by_class, list(self.by_class),
                                                          rows=self.large_rows(self.by_class)),
                                    bounds=self.bounds("by_class", self.by_class)))
        if len(self.disparities):
            table = self.disparities.to_frame("value")
            sections.append(Section("Fairness summary", self.summary_note(), table,
                                    bounds=self.bounds("disparities", table)))
        if self.class_disparities is not None:
            sections.append(Section("Fairness by class", "Each class one-vs-rest, fairlearn "
                                    "definitions between groups.", self.class_disparities))
        if len(self.clarify):
            sections.append(Section("SageMaker Clarify metrics", self.clarify_note(),
                                    self.clarify, notes=dict(DESCRIPTIONS),
                                    bounds=self.bounds("clarify", self.clarify)))
        return sections

    def _brackets(self) -> str:
        if self.intervals is None:
            return ""
        how = ("Poisson(1) row weights" if self.task == "regression"
               else "multinomial resamples of the count table")
        return f"Brackets: {self.ci:.0%} bootstrap intervals ({self.n_boot} {how})."

    def bounds(self, key: str, table: pd.DataFrame) -> tuple | None:
        """``(lower, upper)``: the interval ends of table ``key`` of :attr:`intervals`
        (``by_group``, ``by_class``, ``disparities`` or ``clarify``) as two frames with the
        index and columns of ``table`` (NaN where a cell has no interval), or None."""
        if self.intervals is None or key not in self.intervals.index.get_level_values("table"):
            return None
        block = self.intervals.xs(key, level="table")
        if key == "disparities":  # one row, "all groups"; the table lists the disparities
            return tuple(block[side].xs("all groups", level="row").reindex(table.index)
                         .to_frame(table.columns[0]) for side in ("lower", "upper"))
        label = clarify_row_label if key == "clarify" else row_label
        rows = [label(k) for k in table.index]
        return tuple(block[side].unstack("metric").reindex(index=rows, columns=table.columns)
                     .set_axis(table.index, axis=0) for side in ("lower", "upper"))

    def intro(self) -> str:
        """One sentence: rows, groups and the outcome or classes audited."""
        text = f"{self.n_rows:,} rows, {len(self.by_group)} groups"
        if self.task == "binary":
            text += f"; positive outcome: {self.target} = {self.positive_label}"
        elif self.task == "multiclass":
            text += f"; {len(self.classes)} classes of {self.target}"
        if not self.has_predictions:
            return text + ". No predictions were given: label-only (pre-training) metrics."
        return text + "."

    def summary_note(self) -> str:
        """How the fairness summary of this task is defined."""
        if self.task == "multiclass":
            return "The worst class of each disparity (one-vs-rest), fairlearn definitions."
        if self.task == "regression":
            return ("Gap (max − min) and ratio (min / max) of each group metric between groups; "
                    "bounded group loss is the largest group mean squared error; statistical "
                    "parity is the largest KS / Wasserstein distance of a group's predictions "
                    "to all rows (Agarwal et al. 2019).")
        return "fairlearn definitions, between groups."

    def clarify_note(self) -> str:
        """How the Clarify table of this task is computed."""
        note = "Each facet compared with all other rows (a − d)."
        if self.task == "multiclass":
            return note + " Per class, one-vs-rest."
        if self.task == "regression":
            return note + f" Favourable outcome: {self.target} > {self.label_threshold:g}."
        return note


def row_label(group) -> str:
    """The label of a group in intervals and findings: ``"Female · Black"`` for tuples."""
    return " · ".join(map(str, group)) if isinstance(group, tuple) else str(group)


def clarify_row_label(key: tuple) -> str:
    """The label of a Clarify row, ``(class,) sensitive, facet``, as the intervals name it:
    ``"sex = F"`` or ``"2 · sex = F"``."""
    *classes, column, facet = key
    return "".join(f"{c} · " for c in classes) + f"{column} = {facet}"


def _label_like(index: pd.Index, label: str) -> pd.Index:
    """A one-row index with the names (and number of levels) of ``index``."""
    if index.nlevels > 1:
        return pd.MultiIndex.from_tuples([(label,) * index.nlevels], names=index.names)
    return pd.Index([label], name=index.name)
