"""The results of :func:`rai_nb.flip_test`, and the saved view of a :func:`rai_nb.explain`
explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ._base import Result


@dataclass(frozen=True, repr=False)
class FlipTestResult(Result):
    """Clarify's flip test per facet and the counterfactual invariance table.

    Attributes
    ----------
    flip : pandas.DataFrame
        Indexed by (sensitive, facet): ``count`` and ``FT`` (positive: the model favours the
        facet over what its nearest neighbours in the rest receive).
    invariance : pandas.DataFrame
        Indexed by (sensitive, group): share of predictions that change when the group's
        sensitive value is set to each other value.
    """

    kind: ClassVar[str] = "flip_test"

    flip: pd.DataFrame
    invariance: pd.DataFrame

    @property
    def title(self) -> str:
        return "Flip and counterfactual invariance tests"

    def summary(self) -> dict:
        return {"max_abs_FT": float(self.flip["FT"].abs().max()),
                "max_changed_share": float(self.invariance.to_numpy().max())}

    def sections(self) -> list[Section]:
        return [
            Section("Flip test (Clarify FT)", "(n⁺ − n⁻) / n_d against a kNN trained on the rest.",
                    self.flip, bars=self.flip["FT"].rename("FT")),
            Section("Counterfactual invariance",
                    "Share of predictions that change when the sensitive value is swapped.",
                    self.invariance),
        ]


#: Features drawn in the beeswarm (shap groups the rest into one row).
BEESWARM_FEATURES = 12
INTERACTIONS_TEXT = ("Mean |SHAP interaction value| of each pair of features (both halves, "
                     "Φᵢⱼ + Φⱼᵢ), largest first.")
GAP_NOTES = {"gap": "largest minus smallest group mean |SHAP value|: how differently the "
                     "feature drives the model's output across groups"}


@dataclass(frozen=True, repr=False)
class ExplanationResult(Result):
    """The saved view of a ``shap.Explanation``: importance, beeswarm, attributions by group.

    :func:`rai_nb.explain` returns the ``shap.Explanation`` itself, so every shap plot works
    on it; this is what displaying one shows beside the live panel (``%explain``,
    ``rai_nb.ui.show``) and an audit's Explanations part. It holds aggregates and one image,
    never the SHAP matrix, so a notebook that shows it stays small. Build it with :meth:`of`.

    Attributes
    ----------
    importance : pandas.Series
        Mean |SHAP value| per feature, largest first: of the only output, of the positive
        class (the last) of two, the mean over the outputs of more (multiclass).
    rows : int
        Rows explained.
    outputs : int
        Model outputs explained (1, or the classes of a classifier explained per class).
    group_importance : pandas.DataFrame or None
        Mean |SHAP value| per feature (rows) within each sensitive group (columns), with a
        ``gap`` column (:func:`rai_nb.group_attributions`).
    interactions : pandas.DataFrame or None
        The strongest pairs of an interaction explanation: ``feature``, ``with`` and
        ``mean |interaction|``.
    beeswarm : bytes or None
        shap's beeswarm plot of the last output as PNG.
    burden : BurdenResult or None
        Counterfactual burden per group (an audit's, ``audit(burden=True)``): its sections
        follow the explanation's.
    dependence : DependenceResult or None
        Partial dependence and ICE of the top feature by group (an audit's): its sections
        follow the explanation's, before the burden's.
    """

    kind: ClassVar[str] = "explanation"

    importance: pd.Series
    rows: int
    outputs: int = 1
    group_importance: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    beeswarm: bytes | None = field(default=None, compare=False)
    burden: object = field(default=None, compare=False)
    dependence: object = field(default=None, compare=False)

    @classmethod
    def of(cls, explanation, importance: pd.Series | None = None,
           group_importance: pd.DataFrame | None = None, *,
           beeswarm: bytes | None = None, burden=None, dependence=None) -> ExplanationResult:
        """The report of ``explanation`` (its beeswarm is drawn here, once, unless given).

        Parameters
        ----------
        explanation : shap.Explanation
            SHAP values or SHAP interaction values, one output or several.
        importance : pandas.Series, optional
            Mean |SHAP| per feature, largest first; computed from ``explanation`` if not given.
        group_importance : pandas.DataFrame, optional
            Attributions by sensitive group (:func:`rai_nb.group_attributions`).
        beeswarm : bytes, optional
            The PNG of :func:`beeswarm_figure` when the caller has drawn it already.
        burden : BurdenResult, optional
            Burden per group (:func:`rai_nb.burden`) shown after the explanation.
        dependence : DependenceResult, optional
            Partial dependence by group (:func:`rai_nb.dependence`) shown after it too.

        Returns
        -------
        ExplanationResult
        """
        if beeswarm is None:
            from ..ui.plots import png

            beeswarm = png(beeswarm_figure(plottable(explanation)))
        values = np.asarray(shap_values(explanation), dtype=np.float64)
        names = feature_names(explanation, values.shape[1])
        pairs = strongest_pairs(explanation) if is_interaction(explanation) else None
        return cls(importance=mean_importance(values, names) if importance is None else importance,
                   rows=len(values), outputs=values.shape[2] if values.ndim == 3 else 1,
                   group_importance=group_importance, interactions=pairs,
                   beeswarm=beeswarm, burden=burden, dependence=dependence)

    @property
    def title(self) -> str:
        return f"SHAP explanation of {self.rows:,} rows"

    def summary(self) -> dict:
        top = self.importance.index[0] if len(self.importance) else None
        return {"rows": self.rows, "features": len(self.importance), "outputs": self.outputs,
                "top_feature": top}

    def sections(self) -> list[Section]:
        importance = self.importance.rename("mean |SHAP|")
        sections = [Section("Global importance", "Mean |SHAP value| per feature." + self._of(),
                            importance.rename_axis("feature").to_frame(), bars=importance)]
        if self.beeswarm is not None:
            sections.append(Section(
                "Beeswarm", f"One dot per row and feature: its SHAP value{self._last()}, coloured "
                f"by the feature's value (red high, blue low); the {BEESWARM_FEATURES} most "
                "important features.", image=self.beeswarm))
        if self.interactions is not None:
            sections.append(Section("Strongest interactions", INTERACTIONS_TEXT + self._of(),
                                    self.interactions))
        if self.group_importance is not None:
            sections.append(self._by_group())
        return sections + [section for extra in (self.dependence, self.burden)
                           if extra is not None for section in extra.sections()]

    def _of(self) -> str:
        """Which output the numbers describe."""
        if self.outputs == 2:
            return " Of the positive class (the last output)."
        return f" Mean over the {self.outputs} outputs." if self.outputs > 2 else ""

    def _last(self) -> str:
        return f" for the last of the {self.outputs} outputs" if self.outputs > 1 else ""

    def _by_group(self) -> Section:
        """The per-group table; each feature's most affected group is marked."""
        table = self.group_importance.rename_axis(index="feature")
        groups = table.columns.drop("gap", errors="ignore")
        values = table[groups].to_numpy(dtype=np.float64)
        spread = np.nanmax(values, axis=1, initial=-np.inf) > np.nanmin(values, axis=1,
                                                                       initial=np.inf)
        highest = np.where(spread, np.nan_to_num(values, nan=-np.inf).argmax(axis=1), -1)
        marks = {column: set(np.flatnonzero(highest == k).tolist())
                 for k, column in enumerate(groups)}
        return Section("Attribution by group",
                       "Mean |SHAP value| per feature within each sensitive group; marked: the "
                       "group where the feature weighs most.", table, notes=GAP_NOTES,
                       marks={k: v for k, v in marks.items() if v})


def is_interaction(explanation) -> bool:
    """SHAP interaction values carry two feature axes: two more than their base values."""
    return np.ndim(explanation.values) - np.ndim(explanation.base_values) == 2


def shap_values(explanation) -> np.ndarray:
    """The SHAP values, (rows, features[, outputs]): an interaction explanation's rows summed."""
    values = np.asarray(explanation.values)
    return values.sum(axis=2) if is_interaction(explanation) else values


def feature_names(explanation, count: int) -> list:
    """The explanation's feature names, or ``feature 0``, ``feature 1``, … when it has none."""
    names = explanation.feature_names
    return list(names) if names is not None else [f"feature {k}" for k in range(count)]


def _magnitudes(values: np.ndarray, feature_axes: int) -> np.ndarray:
    """|values| with the output axis (after ``feature_axes`` feature axes) reduced as the audit
    does: the positive class (the last output) of two, the mean over more."""
    values = np.abs(np.asarray(values, dtype=np.float64))
    if values.ndim == 2 + feature_axes:
        values = values[..., -1] if values.shape[-1] == 2 else values.mean(axis=-1)
    return values


def mean_importance(values: np.ndarray, names: list) -> pd.Series:
    """Mean |SHAP| per feature of (rows, features[, outputs]) values, largest first."""
    means = _magnitudes(values, 1).mean(axis=0)
    return pd.Series(means, index=names, name="mean |SHAP|").sort_values(ascending=False)


def strongest_pairs(explanation, top: int = 10) -> pd.DataFrame:
    """The ``top`` pairs of features with the largest mean |SHAP interaction value|."""
    strength = 2 * _magnitudes(explanation.values, 2).mean(axis=0)
    names = feature_names(explanation, strength.shape[0])
    i, j = np.triu_indices(len(names), k=1)
    order = np.argsort(-strength[i, j], kind="stable")[:top]
    return pd.DataFrame({"feature": [names[a] for a in i[order]],
                         "with": [names[b] for b in j[order]],
                         "mean |interaction|": strength[i, j][order]})


def plottable(explanation):
    """What shap's plots draw: one output (the last, the positive class), SHAP values (an
    interaction explanation's rows summed) and feature names.

    A new Explanation when anything changes, so the caller's object is left as it was.
    """
    import shap

    if is_interaction(explanation):
        explanation = shap.Explanation(
            values=shap_values(explanation), base_values=explanation.base_values,
            data=explanation.data, display_data=explanation.display_data,
            feature_names=explanation.feature_names)
    if np.ndim(explanation.values) == 3:
        explanation = explanation[..., -1]
    if explanation.feature_names is not None:
        return explanation
    return shap.Explanation(
        values=explanation.values, base_values=explanation.base_values, data=explanation.data,
        display_data=explanation.display_data,
        feature_names=feature_names(explanation, np.shape(explanation.values)[1]))


def beeswarm_figure(explanation):
    """shap's beeswarm plot of a :func:`plottable` explanation, as a matplotlib figure."""
    import shap

    from ..ui.plots import shap_figure

    return shap_figure(shap.plots.beeswarm, explanation, max_display=BEESWARM_FEATURES)

