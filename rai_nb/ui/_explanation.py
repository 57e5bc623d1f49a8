"""The panel of a ``shap.Explanation``: importance, beeswarm, dependence, group gaps."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd

from . import _html, plots

_GAP_NOTES = {"gap": "largest minus smallest group mean |SHAP value|: how differently the "
                     "feature drives the model's output across groups"}


class ExplanationPanel(widgets.VBox):
    """Global importance, beeswarm, a dependence plot per feature, and the per-group gap.

    Parameters
    ----------
    explanation : shap.Explanation
        SHAP values with their data (a multi-output explanation shows its last output, the
        positive class); shap's own plots draw it.
    importance : pandas.Series, optional
        Mean |SHAP| per feature, largest first (``AuditResult.importance``); taken from
        ``explanation`` when not given.
    group_importance : pandas.DataFrame, optional
        Mean |SHAP| per feature (rows) within each sensitive group (columns), with a ``gap``
        column (:func:`rai_nb.group_attributions`).
    """

    def __init__(self, explanation, importance: pd.Series | None = None,
                 group_importance: pd.DataFrame | None = None):
        pairs = _strongest_pairs(explanation) if is_interaction(explanation) else None
        self.explanation = _plottable(explanation)
        self.names = list(self.explanation.feature_names)
        self.importance = importance if importance is not None else _importance(
            self.explanation, self.names)
        position = {name: i for i, name in enumerate(self.names)}
        self.feature = widgets.Dropdown(
            options=[(str(name), position[name]) for name in self.importance.index],
            description="feature")
        self.dependence = widgets.Image(format="png")
        self.feature.observe(lambda _: self._depend(), names="value")
        self._depend()
        parts = [widgets.HTML(_html.wrap("<h4>Global importance</h4>")),
                 _image(plots.importance_figure(self.importance)),
                 widgets.HTML(_html.wrap("<h4>Beeswarm</h4>")), self._beeswarm(),
                 widgets.HTML(_html.wrap("<h4>Dependence</h4>")), self.feature, self.dependence]
        if pairs is not None:
            parts.append(widgets.HTML(_html.wrap(
                "<h4>Strongest interactions</h4>",
                _html.paragraph("Mean |SHAP interaction value| of each pair of features (both "
                                "halves, Φᵢⱼ + Φⱼᵢ), largest first."),
                _html.table(pairs))))
        if group_importance is not None:
            parts.append(widgets.HTML(_gap_table(group_importance)))
        super().__init__(parts)

    def _beeswarm(self) -> widgets.Image:
        import shap

        return _image(plots.shap_figure(shap.plots.beeswarm, self.explanation, max_display=12))

    def _depend(self):
        import shap

        self.dependence.value = plots.png(plots.shap_figure(
            shap.plots.scatter, self.explanation[:, self.feature.value]))


def _image(figure) -> widgets.Image:
    return widgets.Image(value=plots.png(figure), format="png")


def is_interaction(explanation) -> bool:
    """SHAP interaction values carry two feature axes: two more than their base values."""
    return np.ndim(explanation.values) - np.ndim(explanation.base_values) == 2


def _strongest_pairs(explanation, top: int = 10) -> pd.DataFrame:
    values = np.abs(np.asarray(explanation.values, dtype=np.float64))
    if values.ndim == 4:
        values = values[..., -1]
    strength = 2 * values.mean(axis=0)
    names = _names(explanation, strength.shape[0])
    i, j = np.triu_indices(len(names), k=1)
    order = np.argsort(-strength[i, j], kind="stable")[:top]
    return pd.DataFrame({"feature": [names[a] for a in i[order]],
                         "with": [names[b] for b in j[order]],
                         "mean |interaction|": strength[i, j][order]})


def _names(explanation, count: int) -> list:
    names = explanation.feature_names
    return list(names) if names is not None else [f"feature {k}" for k in range(count)]


def _plottable(explanation):
    """What shap's plots draw: one output (the last, the positive class), SHAP values (an
    interaction explanation's rows summed) and feature names.

    A new Explanation when anything changes, so the caller's object is left as it was.
    """
    import shap

    if is_interaction(explanation):
        explanation = shap.Explanation(
            values=np.asarray(explanation.values).sum(axis=2),
            base_values=explanation.base_values, data=explanation.data,
            display_data=explanation.display_data, feature_names=explanation.feature_names)
    if np.ndim(explanation.values) == 3:
        explanation = explanation[..., -1]
    if explanation.feature_names is not None:
        return explanation
    return shap.Explanation(
        values=explanation.values, base_values=explanation.base_values, data=explanation.data,
        display_data=explanation.display_data,
        feature_names=_names(explanation, np.shape(explanation.values)[1]))


def _importance(explanation, names: list) -> pd.Series:
    """Mean |SHAP| per feature, largest first (for an Explanation given without it)."""
    values = np.abs(np.asarray(explanation.values, dtype=np.float64)).mean(axis=0)
    return pd.Series(values, index=names, name="mean |SHAP|").sort_values(ascending=False)


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
        _html.table(group_importance.rename_axis(index="feature"), notes=_GAP_NOTES,
                    styles=styles, titles=titles))
