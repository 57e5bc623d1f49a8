"""The panel of a ``shap.Explanation``: importance, beeswarm, dependence, group gaps."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..results._explain import (
    GAP_NOTES,
    INTERACTIONS_TEXT,
    ExplanationResult,
    beeswarm_figure,
    plottable,
)
from . import _html, plots


class ExplanationPanel(widgets.VBox):
    """Global importance, beeswarm, a dependence plot per feature, and the per-group gap.

    Parameters
    ----------
    explanation : shap.Explanation
        SHAP values with their data (the plots of a multi-output explanation show its last
        output, the positive class); shap's own plots draw it.
    importance : pandas.Series, optional
        Mean |SHAP| per feature, largest first (``AuditResult.importance``); taken from
        ``explanation`` when not given (see :class:`rai_nb.results.ExplanationResult`).
    group_importance : pandas.DataFrame, optional
        Mean |SHAP| per feature (rows) within each sensitive group (columns), with a ``gap``
        column (:func:`rai_nb.group_attributions`).

    Attributes
    ----------
    report : rai_nb.results.ExplanationResult
        The static report of what the panel shows (:func:`rai_nb.ui.show` saves it beside the
        widget, so the output reads without a kernel); its beeswarm is the panel's.
    """

    def __init__(self, explanation, importance: pd.Series | None = None,
                 group_importance: pd.DataFrame | None = None):
        self.explanation = plottable(explanation)
        # one beeswarm: a PNG on white for the saved report, then theme-coloured SVG here
        beeswarm = beeswarm_figure(self.explanation)
        self.report = ExplanationResult.of(explanation, importance, group_importance,
                                           beeswarm=plots.png(beeswarm))
        self.names = list(self.explanation.feature_names)
        self.importance = self.report.importance
        position = {name: i for i, name in enumerate(self.names)}
        self.feature = widgets.Dropdown(
            options=[(str(name), position[name]) for name in self.importance.index],
            description="feature")
        self.dependence = widgets.HTML()
        self.feature.observe(lambda _: self._depend(), names="value")
        self._depend()
        parts = [widgets.HTML(_html.wrap("<h4>Global importance</h4>")),
                 widgets.HTML(_html.figure(plots.importance_figure(self.importance))),
                 widgets.HTML(_html.wrap("<h4>Beeswarm</h4>")),
                 widgets.HTML(_html.figure(beeswarm)),
                 widgets.HTML(_html.wrap("<h4>Dependence</h4>")), self.feature, self.dependence]
        if self.report.interactions is not None:
            parts.append(widgets.HTML(_html.wrap(
                "<h4>Strongest interactions</h4>", _html.paragraph(INTERACTIONS_TEXT),
                _html.table(self.report.interactions))))
        if group_importance is not None:
            parts.append(widgets.HTML(_gap_table(group_importance)))
        super().__init__(parts)

    def _depend(self):
        """shap's scatter of the chosen feature; a box and strip per value for a 0/1 feature
        (shap draws that as two solid columns over a grey block)."""
        import shap

        feature = self.feature.value
        if plots.is_binary(self.explanation, feature):
            figure = plots.binary_dependence_figure(self.explanation, feature)
        else:
            figure = plots.shap_figure(shap.plots.scatter, self.explanation[:, feature])
        self.dependence.value = _html.figure(figure)


def _gap_table(group_importance: pd.DataFrame) -> str:
    """The per-group table with each feature's most and least affected group marked."""
    groups = group_importance.drop(columns="gap", errors="ignore")
    values = groups.to_numpy(dtype=np.float64)
    filled = np.nan_to_num(values, nan=-np.inf), np.nan_to_num(values, nan=np.inf)
    styles, titles = {}, {}
    for row, (high, low) in enumerate(zip(filled[0].argmax(axis=1), filled[1].argmin(axis=1))):
        for column, style, label in ((high, _html.HIGHEST, "highest"), (low, _html.LOWEST, "lowest")):
            styles[(row, groups.columns[column])] = style
            titles[(row, groups.columns[column])] = f"{label} mean |SHAP| for this feature"
    return _html.wrap(
        "<h4>Attribution by group</h4>",
        _html.paragraph("Mean |SHAP value| per feature within each sensitive group; orange: the "
                        "group where the feature weighs most, blue: least."),
        _html.table(group_importance.rename_axis(index="feature"), notes=GAP_NOTES,
                    styles=styles, titles=titles))
