"""The fairness panel of a :class:`rai_nb.BiasResult`, for binary, multiclass and regression."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..render import format_value
from ..results._bias import _label_like
from ..stats.clarify import DESCRIPTIONS
from ..stats.group_metrics import GROUP_METRICS
from . import _html, plots

#: Which way each per-group (or per-class) metric is better; None: neither (values to compare,
#: not to rank). Metrics in ``CLOSEST_TO_ZERO`` are ranked by their absolute value.
DIRECTIONS = {
    "base_rate": None, "selection_rate": None, "accuracy": "higher",
    "balanced_accuracy": "higher", "precision": "higher", "recall": "higher", "f1": "higher",
    "true_positive_rate": "higher", "true_negative_rate": "higher",
    "false_positive_rate": "lower", "false_negative_rate": "lower", "ece": "lower",
    "macro_f1": "higher",
    "mean_target": None, "mean_prediction": None, "mean_error": "lower",
    "mean_absolute_error": "lower", "root_mean_squared_error": "lower", "r2": "higher",
    "prediction_ks": "lower", "prediction_wasserstein": "lower",
}
CLOSEST_TO_ZERO = ("mean_error",)
#: Hover text of each per-group metric column: the first line of its definition.
METRIC_NOTES = {name: (function.__doc__ or "").strip().splitlines()[0].replace("``", "")
                for name, function in GROUP_METRICS.items()}
METRIC_NOTES |= {
    "ece": "Expected calibration error of the scores",
    "macro_f1": "Unweighted mean over the classes of each class's one-vs-rest F1.",
    "mean_target": "Mean of the target.",
    "mean_prediction": "Mean of the predictions.",
    "mean_error": "Mean of prediction − target (best closest to 0: no over- or under-prediction).",
    "mean_absolute_error": "Mean of |prediction − target|.",
    "root_mean_squared_error": "Square root of the mean of (prediction − target)².",
    "r2": "Coefficient of determination within the group, 1 − SSE / SST.",
    "prediction_ks": "Kolmogorov–Smirnov distance of the group's predictions to all rows'.",
    "prediction_wasserstein": "Wasserstein-1 distance of the group's predictions to all rows'.",
}
#: Hover text of the one-vs-rest columns of the multiclass "by class" table.
CLASS_NOTES = {
    "selection_rate": "Share of the group's rows predicted as this class.",
    "true_positive_rate": "Share of the group's rows of this class predicted as it (recall).",
    "false_positive_rate": "Share of the group's rows of other classes predicted as this class.",
    "precision": "Share of the group's rows predicted as this class that are of it.",
}
_LEGEND = ("Green: best group, red: worst group for the metric{among}; orange/blue: "
           "highest/lowest where neither is better. Hover a header for its definition.")


class BiasPanel(widgets.VBox):
    """Per-group metrics (sortable, CIs when present), a metric chart, the per-class tables of a
    multiclass task, the fairness summary and the Clarify table.

    Parameters
    ----------
    result : rai_nb.BiasResult
        The result viewed; never recomputed.
    """

    def __init__(self, result):
        self.result = result
        self.columns = plots.group_columns(result)
        metrics, default = plots.chart_metrics(result)
        self.metric = widgets.Dropdown(options=metrics, value=default, description="chart")
        self.sort = widgets.Dropdown(options=["group", *self.columns], value="group",
                                     description="sort by")
        self.descending = widgets.Checkbox(value=True, description="descending", indent=False)
        self.chart = widgets.HTML()
        self.table = widgets.HTML()
        self.metric.observe(lambda _: self._draw(), names="value")
        for control in (self.sort, self.descending):
            control.observe(lambda _: self._tabulate(), names="value")
        self._draw()
        self._tabulate()
        chart = [self.metric, self.chart] if metrics else []
        super().__init__([
            widgets.HTML(_html.wrap(_html.paragraph(_intro(result), bold=result.title))),
            widgets.HBox([self.sort, self.descending]), self.table, *chart,
            *self._by_class(), *self._disparities(), *self._class_disparities(),
            self._clarify()])

    def sorted_groups(self) -> pd.DataFrame:
        """``by_group`` in the order the table shows (the sort control's choice)."""
        table = self.result.by_group[self.columns]
        if self.sort.value == "group":
            return table
        return table.sort_values(self.sort.value, ascending=not self.descending.value,
                                 kind="stable")

    def _draw(self):
        if self.metric.value is not None:
            self.chart.value = _html.figure(plots.metric_figure(self.result, self.metric.value))

    def _tabulate(self):
        groups = self.sorted_groups()
        styles, titles = _extreme_styles(groups, self.result.large_rows(groups))
        shown = _with_intervals(groups, self.result, "by_group")
        overall = self.result.overall[self.columns].to_frame().T.astype(object)
        overall.index = _label_like(groups.index, "(all rows)")
        self.table.value = _html.wrap(
            _html.table(pd.concat([shown, overall]), notes=METRIC_NOTES, styles=styles,
                        titles=titles),
            _html.paragraph(_LEGEND.format(among=self.result.marked_note())))

    def _by_class(self) -> list:
        """Multiclass: one-vs-rest rates per class and group, groups of a class side by side."""
        by_class = self.result.by_class
        if by_class is None or not self.result.has_predictions:
            return []
        ordered = by_class.iloc[by_class.index.codes[-1].argsort(kind="stable")]
        styles, titles, start = {}, {}, 0
        for _, block in ordered.groupby(level="class", sort=False):
            marked = _extreme_styles(block, self.result.large_rows(block))
            styles |= {(start + i, c): v for (i, c), v in marked[0].items()}
            titles |= {(start + i, c): v for (i, c), v in marked[1].items()}
            start += len(block)
        return [widgets.HTML(_html.wrap(
            "<h4>Metrics by class</h4>",
            _html.paragraph("One-vs-rest rates of each class within each group; best and worst "
                            "group marked within each class."),
            _html.table(_with_intervals(ordered, self.result, "by_class"),
                        notes=CLASS_NOTES, styles=styles, titles=titles)))]

    def _disparities(self) -> list:
        disparities = self.result.disparities
        if not len(disparities):
            return []
        table = disparities.to_frame("value")
        found = self.result.bounds("disparities", table)
        if found is not None:
            table["lower"], table["upper"] = (side["value"] for side in found)
        return [widgets.HTML(_html.wrap(
            "<h4>Fairness summary</h4>", _html.paragraph(self.result.summary_note()),
            _html.table(table)))]

    def _class_disparities(self) -> list:
        table = self.result.class_disparities
        if table is None:
            return []
        return [widgets.HTML(_html.wrap(
            "<h4>Fairness by class</h4>",
            _html.paragraph("Each class one-vs-rest, fairlearn definitions between groups."),
            _html.table(table)))]

    def _clarify(self) -> widgets.HTML:
        clarify = self.result.clarify
        if not len(clarify):
            return widgets.HTML(_html.wrap(
                "<h4>SageMaker Clarify metrics</h4>",
                _html.paragraph("Not computed: Clarify compares a binary outcome. Pass "
                                "label_threshold= for Clarify's metrics of a regression target "
                                "(favourable: target above the threshold).")))
        titles = {}
        found = self.result.bounds("clarify", clarify)
        if found is not None:
            lower, upper = found
            ci = f"{self.result.ci:.0%} interval"
            titles = {(i, m): f"{ci} [{lower[m].iat[i]:.3f}, {upper[m].iat[i]:.3f}]"
                      for i in range(len(clarify)) for m in clarify.columns}
        return widgets.HTML(_html.wrap(
            "<h4>SageMaker Clarify metrics</h4>",
            _html.paragraph(f"{self.result.clarify_note()} Hover a header for its definition, "
                            "a cell for its interval."),
            _html.table(clarify, notes=DESCRIPTIONS, titles=titles)))


def _intro(result) -> str:
    text = f"{result.intro()} {result.task_note()}"
    if result.intervals is not None:
        text += f" Brackets: {result.ci:.0%} bootstrap intervals ({result.n_boot} resamples)."
    return text


def _extreme_styles(table: pd.DataFrame, rows) -> tuple[dict, dict]:
    """Best / worst (or highest / lowest) cell styles of each metric column of ``table``, among
    the ``rows`` (:meth:`rai_nb.BiasResult.large_rows`)."""
    ranked = table.assign(**{c: table[c].abs() for c in CLOSEST_TO_ZERO if c in table})
    return _html.extreme_styles(ranked, {c: DIRECTIONS.get(c) for c in table if c != "count"},
                                rows=rows)


def _with_intervals(table: pd.DataFrame, result, key: str) -> pd.DataFrame:
    """Metric cells as "estimate [lower, upper]" text when ``result`` has intervals of table
    ``key`` (metrics without any, such as ``count``, stay numbers)."""
    found = result.bounds(key, table)
    if found is None:
        return table
    lower, upper = found
    shown = table.astype(object)
    for metric in lower.columns[lower.notna().any()]:
        shown[metric] = [f"{format_value(v)} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                         zip(table[metric], lower[metric], upper[metric])]
    return shown
