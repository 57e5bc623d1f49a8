"""The fairness panel of a :class:`rai_nb.BiasResult`."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..render import format_value
from ..results._bias import _label_like
from ..stats.clarify import DESCRIPTIONS
from ..stats.group_metrics import GROUP_METRICS, LABEL_METRICS
from . import _html, plots
from ._intervals import bounds, row_labels

#: Which way each per-group metric is better; None: neither (rates to compare, not to rank).
DIRECTIONS = {
    "base_rate": None, "selection_rate": None, "accuracy": "higher",
    "balanced_accuracy": "higher", "precision": "higher", "recall": "higher", "f1": "higher",
    "true_positive_rate": "higher", "true_negative_rate": "higher",
    "false_positive_rate": "lower", "false_negative_rate": "lower", "ece": "lower",
}
#: Hover text of each per-group metric column: the first line of its definition.
METRIC_NOTES = {name: (function.__doc__ or "").strip().splitlines()[0].replace("``", "")
                for name, function in GROUP_METRICS.items()}
METRIC_NOTES["ece"] = "Expected calibration error of the scores"
_LEGEND = ("Green: best group, red: worst group for the metric; orange/blue: highest/lowest "
           "where neither is better. Hover a header for its definition.")


class BiasPanel(widgets.VBox):
    """Per-group metrics (sortable, CIs when present), a metric chart and the Clarify table.

    Parameters
    ----------
    result : rai_nb.BiasResult
        The result viewed; never recomputed.
    """

    def __init__(self, result):
        self.result = result
        columns = list(result.by_group.columns if result.has_predictions else LABEL_METRICS)
        self.columns = columns
        metrics = [c for c in columns if c != "count"]
        default = "selection_rate" if "selection_rate" in metrics else metrics[0]
        self.metric = widgets.Dropdown(options=metrics, value=default, description="chart")
        self.sort = widgets.Dropdown(options=["group", *columns], value="group",
                                     description="sort by")
        self.descending = widgets.Checkbox(value=True, description="descending", indent=False)
        self.chart = widgets.Image(format="png")
        self.table = widgets.HTML()
        self.metric.observe(lambda _: self._draw(), names="value")
        for control in (self.sort, self.descending):
            control.observe(lambda _: self._tabulate(), names="value")
        self._draw()
        self._tabulate()
        super().__init__([
            widgets.HTML(_html.wrap(_html.paragraph(_intro(result), bold=result.title))),
            widgets.HBox([self.sort, self.descending]), self.table,
            self.metric, self.chart, *self._disparities(), self._clarify()])

    def sorted_groups(self) -> pd.DataFrame:
        """``by_group`` in the order the table shows (the sort control's choice)."""
        table = self.result.by_group[self.columns]
        if self.sort.value == "group":
            return table
        return table.sort_values(self.sort.value, ascending=not self.descending.value,
                                 kind="stable")

    def _draw(self):
        self.chart.value = plots.png(plots.metric_figure(self.result, self.metric.value))

    def _tabulate(self):
        groups = self.sorted_groups()
        styles, titles = _html.extreme_styles(
            groups, {c: DIRECTIONS.get(c) for c in groups.columns if c != "count"})
        shown = _with_intervals(groups, self.result.intervals)
        overall = self.result.overall[self.columns].to_frame().T.astype(object)
        overall.index = _label_like(groups.index, "(all rows)")
        self.table.value = _html.wrap(
            _html.table(pd.concat([shown, overall]), notes=METRIC_NOTES, styles=styles,
                        titles=titles),
            _html.paragraph(_LEGEND))

    def _disparities(self) -> list:
        disparities = self.result.disparities
        if not len(disparities):
            return []
        table = disparities.to_frame("value")
        found = bounds(self.result.intervals, "disparities", ["all groups"])
        if found is not None:
            table["lower"], table["upper"] = (side.iloc[0].reindex(table.index) for side in found)
        return [widgets.HTML(_html.wrap(
            "<h4>Fairness summary</h4>",
            _html.paragraph("fairlearn definitions, largest gap or smallest ratio between groups."),
            _html.table(table)))]

    def _clarify(self) -> widgets.HTML:
        clarify = self.result.clarify
        titles = {}
        found = bounds(self.result.intervals, "clarify",
                       [f"{c} = {v}" for c, v in clarify.index])
        if found is not None:
            lower, upper = (side.reindex(columns=clarify.columns) for side in found)
            ci = f"{self.result.ci:.0%} interval"
            titles = {(i, m): f"{ci} [{lower[m].iat[i]:.3f}, {upper[m].iat[i]:.3f}]"
                      for i in range(len(clarify)) for m in clarify.columns}
        return widgets.HTML(_html.wrap(
            "<h4>SageMaker Clarify metrics</h4>",
            _html.paragraph("Each facet compared with all other rows (a − d). Hover a header "
                            "for its definition, a cell for its interval."),
            _html.table(clarify, notes=DESCRIPTIONS, titles=titles)))


def _intro(result) -> str:
    text = f"{int(result.counts.sum()):,} rows, {len(result.by_group)} groups."
    if result.intervals is not None:
        text += (f" Brackets: {result.ci:.0%} bootstrap intervals ({result.n_boot} resamples "
                 "of the count table).")
    if not result.has_predictions:
        text += " No predictions were given: label-only metrics."
    return text


def _with_intervals(groups: pd.DataFrame, intervals) -> pd.DataFrame:
    """Metric cells as "estimate [lower, upper]" text when intervals exist."""
    found = bounds(intervals, "by_group", row_labels(groups.index))
    if found is None:
        return groups
    lower, upper = found
    shown = groups.astype(object)
    for metric in groups.columns.intersection(lower.columns):
        shown[metric] = [f"{format_value(v)} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                         zip(groups[metric], lower[metric], upper[metric])]
    return shown

