"""ipywidgets panels, one per result type. A panel only views its result: it never recomputes."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import pandas as pd

from .. import render
from ..stats.clarify import DESCRIPTIONS
from . import plots

SEVERITY_COLOURS = {"fail": "#f8d7da", "warn": "#fff3cd", "pass": "#d4edda"}


def table_html(table: pd.DataFrame, *, notes: dict | None = None, marks: dict | None = None) -> str:
    """A result table as escaped static HTML (the same renderer as the reports)."""
    return render.to_html("", [render.Section("", table=table, notes=notes or {},
                                              marks=marks or {})])


def _image(figure) -> widgets.Image:
    return widgets.Image(value=plots.png(figure), format="png")


class BiasPanel(widgets.VBox):
    """Per-group metrics (sortable, CIs when present), a metric chart and the Clarify table."""

    def __init__(self, result):
        self.result = result
        metrics = [c for c in result.by_group.columns if c != "count"]
        self.metric = widgets.Dropdown(options=metrics, value=metrics[0] if "selection_rate"
                                       not in metrics else "selection_rate", description="metric")
        self.sort = widgets.Dropdown(options=["group", *result.by_group.columns],
                                     value="group", description="sort by")
        self.chart = widgets.Image(format="png")
        self.table = widgets.HTML()
        clarify = widgets.HTML(table_html(result.clarify, notes=DESCRIPTIONS))
        self.metric.observe(lambda _: self._draw(), names="value")
        self.sort.observe(lambda _: self._tabulate(), names="value")
        self._draw()
        self._tabulate()
        parts = [widgets.HBox([self.metric, self.sort]), self.chart, self.table]
        if len(result.disparities):
            parts.append(widgets.HTML(table_html(result.disparities.to_frame("value"))))
        super().__init__([*parts, widgets.HTML("<b>SageMaker Clarify metrics</b>"), clarify])

    def _draw(self):
        self.chart.value = plots.png(plots.metric_figure(self.result, self.metric.value))

    def _tabulate(self):
        table = self.result.by_group
        if self.sort.value != "group":
            table = table.sort_values(self.sort.value, ascending=False)
        rates = [c for c in table.columns if c != "count"]
        self.table.value = table_html(self._with_intervals(table),
                                      marks=render.extremes(table, rates))

    def _with_intervals(self, table: pd.DataFrame) -> pd.DataFrame:
        intervals = self.result.intervals
        if intervals is None:
            return table
        shown = table.copy().astype(object)
        labels = [" · ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in table.index]
        for metric in table.columns:
            if metric == "count" or metric not in intervals.index.get_level_values("metric"):
                continue
            block = intervals.xs(("by_group", metric), level=("table", "metric")).reindex(labels)
            shown[metric] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                             zip(table[metric], block["lower"], block["upper"])]
        return shown


class SlicesPanel(widgets.VBox):
    """The top-K slices, a chart, and a summary of the rows of the selected slice."""

    def __init__(self, result):
        self.result = result
        top = result.top
        shown = top.drop(columns=["predicates"], errors="ignore")
        self.select = widgets.Dropdown(options=[(str(s), i) for i, s in enumerate(top["slice"])],
                                       description="slice")
        self.summary = widgets.HTML()
        self.select.observe(lambda _: self._summarise(), names="value")
        chart = _image(plots.slices_figure(result)) if len(top) else widgets.HTML("")
        self._summarise()
        super().__init__([widgets.HTML(table_html(shown)), chart, self.select, self.summary])

    def _summarise(self):
        if self.select.value is None or self.result.data is None:
            self.summary.value = ""
            return
        row = self.result.top.iloc[self.select.value]
        rows = self.result.data[self.result.mask(self.select.value)]
        text = (f"<p>{html.escape(str(row['slice']))}: {len(rows):,} rows, mean "
                f"{html.escape(self.result.loss)} {row['mean_loss']:.4f} "
                f"(all rows {self.result.average_loss:.4f})</p>")
        numeric = rows.select_dtypes("number")
        if len(numeric.columns):
            text += table_html(numeric.describe().T[["mean", "50%", "min", "max"]])
        self.summary.value = text


class ValidationPanel(widgets.VBox):
    """Checks grouped by severity, worst first, with their details."""

    def __init__(self, result):
        self.result = result
        sections, titles = [], []
        for severity in ("fail", "warn", "pass"):
            checks = result.checks[result.checks["severity"] == severity]
            if checks.empty:
                continue
            body = table_html(checks.assign(columns=[", ".join(map(str, c))
                                                     for c in checks["columns"]]))
            for name in checks.index:
                if severity != "pass" and name in result.details:
                    body += f"<h5>{html.escape(str(name))}</h5>"
                    body += table_html(result.details[name].head(20))
            sections.append(widgets.HTML(
                f'<div style="background:{SEVERITY_COLOURS[severity]}">{body}</div>'))
            titles.append(f"{severity} ({len(checks)})")
        self.accordion = widgets.Accordion(children=sections, titles=tuple(titles))
        if sections:
            self.accordion.selected_index = 0
        super().__init__([widgets.HTML(f"<b>{html.escape(result.title)}</b>"), self.accordion])


class ExplanationPanel(widgets.VBox):
    """Global importance, beeswarm, a dependence plot per feature, and the group gap."""

    def __init__(self, explanation, importance=None, group_importance=None):
        self.explanation = _single_output(explanation)
        values = np.abs(np.asarray(self.explanation.values)).mean(axis=0)
        names = list(self.explanation.feature_names)
        self.importance = importance if importance is not None else pd.Series(
            values, index=names).sort_values(ascending=False)
        self.feature = widgets.Dropdown(options=list(self.importance.index), description="feature")
        self.dependence = widgets.Image(format="png")
        self.feature.observe(lambda _: self._depend(), names="value")
        self._depend()
        parts = [_image(plots.importance_figure(self.importance)), self._beeswarm(),
                 self.feature, self.dependence]
        if group_importance is not None:
            parts += [widgets.HTML("<b>Mean |SHAP| by group</b>"),
                      widgets.HTML(table_html(group_importance))]
        super().__init__(parts)

    def _beeswarm(self):
        import shap

        return _image(plots.shap_figure(shap.plots.beeswarm, self.explanation))

    def _depend(self):
        import shap

        column = list(self.explanation.feature_names).index(self.feature.value)
        self.dependence.value = plots.png(plots.shap_figure(
            shap.plots.scatter, self.explanation[:, column]))


def _single_output(explanation):
    """The positive-class slice of a multi-output explanation (what shap's plots draw)."""
    return explanation[..., -1] if np.ndim(explanation.values) == 3 else explanation


class ModelCardPanel(widgets.VBox):
    """Live preview of a card, editable narrative fields and "save as" buttons."""

    FIELDS = ("name", "intended_use", "out_of_scope_uses", "training_data",
              "ethical_considerations", "caveats")

    def __init__(self, card):
        self.card = card
        self.preview = widgets.HTML(card.to_html())
        self.inputs = {}
        for name in self.FIELDS:
            kind = widgets.Text if name == "name" else widgets.Textarea
            box = kind(value=str(card.fields.get(name, "")), description=name.replace("_", " "),
                       layout=widgets.Layout(width="95%"))
            box.observe(lambda change, key=name: self._edit(key, change["new"]), names="value")
            self.inputs[name] = box
        self.path = widgets.Text(value="MODEL_CARD.md", description="file")
        self.status = widgets.HTML()
        save_md = widgets.Button(description="Save as .md")
        save_html = widgets.Button(description="Save as .html")
        save_md.on_click(lambda _: self._save(".md"))
        save_html.on_click(lambda _: self._save(".html"))
        self.buttons = (save_md, save_html)
        super().__init__([*self.inputs.values(), widgets.HBox([self.path, save_md, save_html]),
                          self.status, self.preview])

    def _edit(self, key: str, value: str):
        self.card = self.card.with_fields(**{key: value})
        self.preview.value = self.card.to_html()

    def _save(self, suffix: str):
        from pathlib import Path

        path = Path(self.path.value).with_suffix(suffix)
        self.status.value = f"Saved {html.escape(str(self.card.save(path)))}"


class AuditPanel(widgets.Tab):
    """Overview · Fairness · Explanations · Slices · Data checks · Model card."""

    def __init__(self, result):
        self.result = result
        findings = result.findings()
        rows = "".join(
            f'<tr style="background:{SEVERITY_COLOURS[r.severity]}"><td>{html.escape(r.area)}</td>'
            f"<td>{html.escape(r.severity)}</td><td>{html.escape(r.finding)}</td>"
            f"<td>{html.escape(render.format_value(r.value))}</td></tr>"
            for r in findings.itertuples())
        overview = widgets.HTML(f"<b>{html.escape(result.title)}</b><table class='rai-overview'>"
                                f"<tr><th>area</th><th>severity</th><th>finding</th>"
                                f"<th>value</th></tr>{rows}</table>")
        explanation = (ExplanationPanel(result.explanation, result.importance,
                                        result.group_importance)
                       if result.explanation is not None else widgets.HTML("Not computed."))
        tabs = {"Overview": overview, "Fairness": BiasPanel(result.bias),
                "Explanations": explanation,
                "Slices": SlicesPanel(result.slices) if result.slices is not None else
                widgets.HTML("Not computed."),
                "Data checks": ValidationPanel(result.validation) if result.validation
                is not None else widgets.HTML("Not computed."),
                "Model card": ModelCardPanel(result.card) if result.card is not None else
                widgets.HTML("Not computed.")}
        super().__init__(children=list(tabs.values()), titles=tuple(tabs))
