"""The what-if editor: edit one row's features and watch its prediction and waterfall move.

The panel is handed a :class:`rai_nb.api._explain_row.RowExplainer` (the model, its columns and
reference rows, fixed once) and calls it on every edit; it never reads the model itself. The
user's frame is never modified: edits live in one-row copies, exported by :attr:`edited`.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..errors import RaiError
from ..render import format_value
from . import _html

#: Most row labels a slice's row list offers (a dropdown of more is slow to draw).
SLICE_ROWS = 1000
_WIDE = {"description_width": "initial"}


class WhatIfPanel(widgets.VBox):
    """One row of the data, editable feature by feature, with its live prediction and waterfall.

    Parameters
    ----------
    explainer : RowExplainer
        Explains one-row frames (``rai_nb.whatif`` builds it).
    data : pandas.DataFrame
        The rows to pick from; each feature's editor spans its observed values. Never modified.
    row : object
        Index label of the first row shown.
    slices : rai_nb.SliceResult, optional
        Offers each slice's rows to pick from (the slices' columns must be in ``data``).

    Attributes
    ----------
    label : object
        The label of the row being edited.
    original, current : rai_nb.results.RowExplanation
        The explanation of the row as in ``data``, and as edited.
    editors : dict
        Feature name → its widget (a bounded number box, a dropdown of the observed levels, or
        a checkbox).
    latency : float
        Seconds the last update took (explaining the edited row and drawing it).
    """

    def __init__(self, explainer, data: pd.DataFrame, row, *, slices=None):
        self.explainer, self.data, self.slices = explainer, data, slices
        self.features = explainer.frame(data)
        self._edits: dict = {}
        self._loading = False
        # one description width for every editor, so their boxes line up
        longest = min(max(len(str(name)) for name in self.features.columns), 28)
        style = {"description_width": f"{longest + 2}ch"}
        self.editors = {name: editor_for(self.features[name], style)
                        for name in self.features.columns}
        for editor in self.editors.values():
            editor.observe(lambda _: self._update(), names="value")
        self.row_box = widgets.Text(description="row label", continuous_update=False,
                                    style=_WIDE)
        self.row_box.observe(lambda change: self._pick_text(change["new"]), names="value")
        self.status, self.prediction, self.waterfall = (widgets.HTML() for _ in range(3))
        self.compare = widgets.ToggleButton(description="compare to original")
        self.comparison = widgets.HTML()
        self.compare.observe(lambda _: self._show_comparison(), names="value")
        reset = widgets.Button(description="reset row")
        reset.on_click(lambda _: self.reset())
        self.show_row(row)
        editors = widgets.VBox(list(self.editors.values()),
                               layout=widgets.Layout(min_width="18em", max_height="32em",
                                                     overflow="auto"))
        result = widgets.VBox([self.prediction, self.waterfall],
                              layout=widgets.Layout(flex="1 1 24em", min_width="0"))
        super().__init__([widgets.HBox([self.row_box, *self._slice_pickers(), reset,
                                        self.compare], layout=widgets.Layout(flex_flow="row wrap")),
                          self.status,
                          widgets.HBox([editors, result],
                                       layout=widgets.Layout(flex_flow="row wrap")),
                          self.comparison])

    @property
    def report(self):
        """The static report of the row as edited now (saved beside the widget view)."""
        return self.current

    @property
    def edited(self) -> pd.DataFrame:
        """Every row edited so far (its latest values), indexed by label, with the model's
        columns and dtypes; empty when nothing was edited."""
        if not self._edits:
            return self.features.iloc[:0].copy()
        return pd.concat(list(self._edits.values()))

    def show_row(self, label) -> None:
        """Edit the row labelled ``label`` (its earlier edits, if any, come back)."""
        from ..api._explain_row import row_at

        original = row_at(self.features, label)
        self.label, self._original = label, original
        self.original = self.explainer(original, label)
        shown = self._edits.get(label, original)
        self._loading = True
        try:
            for name, editor in self.editors.items():
                editor.value = widget_value(shown[name].iat[0])
            self.row_box.value = str(label)
        finally:
            self._loading = False
        self.status.value = ""
        self._update()

    def reset(self) -> None:
        """Put the row's original values back."""
        self._edits.pop(self.label, None)
        self.show_row(self.label)

    def _pick_text(self, text: str) -> None:
        if self._loading:
            return
        from ..api._explain_row import label_from_text

        try:
            self.show_row(label_from_text(self.features.index, text))
        except RaiError as error:
            self.status.value = _html.wrap(_html.paragraph(str(error), bold="Row not shown:"))

    def _edited_row(self) -> pd.DataFrame:
        """The row with every editor's value, in the model's dtypes."""
        row = self._original.copy()
        for j, (name, editor) in enumerate(self.editors.items()):
            if not same(editor.value, row[name].iat[0]):
                row.iloc[0, j] = editor.value
        return row

    def _update(self) -> None:
        if self._loading:
            return
        start = time.perf_counter()
        row = self._edited_row()
        changed = self._changed(row)
        if changed:
            self._edits[self.label] = row
        else:
            self._edits.pop(self.label, None)
        self.current = self.explainer(row, self.label) if changed else self.original
        self.prediction.value = _html.wrap(_html.paragraph(
            self.current.headline(), bold=_prediction_lead(self.original, self.current, changed)))
        self.waterfall.value = _html.wrap(f'<div class="rai-figure">{self.current.svg()}</div>')
        self._show_comparison()
        self.latency = time.perf_counter() - start

    def _changed(self, row: pd.DataFrame) -> list:
        return [name for name in self.features.columns
                if not same(row[name].iat[0], self._original[name].iat[0])]

    def _show_comparison(self) -> None:
        """Original and edited values and predictions side by side (when the toggle is on)."""
        if not self.compare.value:
            self.comparison.value = ""
            return
        changed = set(self._changed(self._edits.get(self.label, self._original)))
        table = comparison_table(self.original, self.current)
        styles = {(i, "edited"): _html.HIGHEST for i, name in enumerate(table.index)
                  if name in changed}
        self.comparison.value = _html.wrap(
            "<h4>Compared to the original row</h4>",
            _html.paragraph("Edited features are shaded."), _html.table(table, styles=styles),
            '<div style="display:flex;flex-wrap:wrap;gap:1em">'
            f'<div><b>original</b><div class="rai-figure">{self.original.svg()}</div></div>'
            f'<div><b>edited</b><div class="rai-figure">{self.current.svg()}</div></div></div>')

    def _slice_pickers(self) -> list:
        """A slice dropdown and the chosen slice's row labels, when slices were given."""
        if self.slices is None or not len(self.slices.top):
            return []
        chooser = widgets.Dropdown(options=[(f"{i + 1}. {s}", i) for i, s in
                                            enumerate(self.slices.top["slice"])],
                                   value=None, description="slice", style=_WIDE)
        rows = widgets.Dropdown(options=[], description="row", style=_WIDE)

        def fill(change):
            labels = self.data.index[self.slices.mask(change["new"], self.data)][:SLICE_ROWS]
            rows.options = [(format_value(label), label) for label in labels]

        chooser.observe(fill, names="value")
        rows.observe(lambda change: change["new"] is not None and self.show_row(change["new"]),
                     names="value")
        self.slice_chooser, self.slice_rows = chooser, rows
        return [chooser, rows]

    def _ipython_display_(self) -> None:
        """Shown as one output carrying the live editor and the row's static report."""
        from .._progress import display_output
        from . import panel_bundle

        display_output(panel_bundle(self))


def _prediction_lead(original, current, changed: list) -> str:
    if not changed:
        return "Prediction:"
    was = format_value(original.prediction)
    if original.score is not None:
        was += f" (probability {original.score:.4f})"
    return f"Edited (originally {was}):"


def comparison_table(original, current) -> pd.DataFrame:
    """Feature values, SHAP values and the prediction of two explanations of one row."""
    names = list(original.values.index)
    top = pd.DataFrame({"original": [original.prediction, original.score, original.margin],
                        "edited": [current.prediction, current.score, current.margin]},
                       index=["prediction", "probability", "f(x)"], dtype=object)
    if original.score is None:
        top = top.drop(index="probability")
    values = pd.DataFrame({"original": original.data.reindex(names).to_numpy(),
                           "edited": current.data.reindex(names).to_numpy(),
                           "SHAP (original)": original.values.to_numpy(),
                           "SHAP (edited)": current.values.reindex(names).to_numpy()},
                          index=names)
    return pd.concat([top, values]).map(lambda v: "" if v is None else v)


def editor_for(column: pd.Series, style: dict | None = None) -> widgets.Widget:
    """A widget fitted to the column's type and observed range (``style``: the widget's
    description style)."""
    style = style or _WIDE
    name = str(column.name)
    if pd.api.types.is_bool_dtype(column):
        return widgets.Checkbox(description=name, indent=False)
    if pd.api.types.is_numeric_dtype(column):
        low, high = column.min(), column.max()
        if pd.api.types.is_integer_dtype(column):
            return widgets.BoundedIntText(min=int(low), max=int(high), description=name,
                                          style=style)
        step = (float(high) - float(low)) / 100 or 1.0
        return widgets.BoundedFloatText(min=float(low), max=float(high), step=step,
                                        description=name, style=style)
    levels = (column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype)
              else pd.unique(column.dropna()))
    options = sorted(((format_value(level), level) for level in levels), key=lambda o: o[0])
    return widgets.Dropdown(options=options, value=None, description=name, style=style)


def widget_value(value):
    """A cell's value as a widget holds it (NumPy scalars as Python ones; missing as None for
    dropdowns and NaN for numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    return None if value is pd.NA or value is pd.NaT else value


def same(a, b) -> bool:
    """Equal values, missing equal to missing."""
    return bool(pd.isna(a) and pd.isna(b)) if pd.isna(a) or pd.isna(b) else bool(a == b)


__all__ = ["WhatIfPanel", "comparison_table", "editor_for"]
