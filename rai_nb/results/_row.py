"""The result of :func:`rai_nb.explain_row`: one row's SHAP values as a waterfall."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section, format_value
from ._base import Result
from ._waterfall import waterfall_svg

#: Features drawn one by one in a waterfall; the rest are summed into one step.
WATERFALL_FEATURES = 12
_NOTES = {
    "value": "the row's value of the feature",
    "SHAP": "the feature's contribution to f(x), in the explained output's units",
    "f(x) after": "base value plus the contributions down to this feature",
}


@dataclass(frozen=True, repr=False)
class RowExplanation(Result):
    """Why the model gives one row its output: base value + each feature's SHAP value = f(x).

    Attributes
    ----------
    label : object
        The row's index label in the explained frame.
    values : pandas.Series
        SHAP value per feature (the user's columns for a pipeline explained in them), in the
        model's feature order.
    data : pandas.Series
        The row's value of each feature, same index.
    base : float
        The base value (expected output over the reference rows).
    prediction : object
        ``model.predict`` of the row.
    score : float or None
        The probability of the positive class (binary classifiers), else None.
    output : str
        Which output the values explain (``"class 1"``; empty for a single-output model).

    Notes
    -----
    The values are in the output the explainer works in: the raw margin (log-odds) of boosted
    trees and linear classifiers, probabilities for forests and KernelSHAP, the prediction of a
    regressor. The static HTML draws the waterfall as SVG in the page's text colour (so a saved
    ``.html`` file reads on its own); the report JSON and markdown carry its table.
    """

    kind: ClassVar[str] = "row_explanation"

    label: object
    values: pd.Series
    data: pd.Series
    base: float
    prediction: object
    score: float | None = None
    output: str = ""

    @property
    def margin(self) -> float:
        """f(x): the base value plus every SHAP value."""
        return float(self.base + self.values.sum())

    @property
    def title(self) -> str:
        return f"Explanation of row {self.label}"

    def summary(self) -> dict:
        top = self.values.abs().idxmax() if len(self.values) else None
        return {"row": self.label, "prediction": self.prediction, "score": self.score,
                "base": self.base, "margin": self.margin, "top_feature": top}

    def waterfall(self, top: int = WATERFALL_FEATURES) -> pd.DataFrame:
        """The waterfall's steps, largest |SHAP| first: ``value``, ``SHAP``, ``f(x) after``.

        Past ``top`` features the rest are one step, ``"N other features"`` (value empty).
        """
        order = np.argsort(-self.values.abs().to_numpy(), kind="stable")
        shown, rest = order[:top - 1] if len(order) > top else order, order[top - 1:]
        steps = pd.DataFrame({"value": self.data.iloc[shown].map(format_value).to_numpy(),
                              "SHAP": self.values.iloc[shown].to_numpy(dtype=np.float64)},
                             index=pd.Index(self.values.index[shown].map(str), name="feature"))
        if len(order) > top:
            steps.loc[f"{len(rest)} other features"] = ["", float(self.values.iloc[rest].sum())]
        steps["f(x) after"] = self.base + steps["SHAP"].cumsum()
        return steps

    def svg(self) -> str:
        """The waterfall as inline SVG in the page's text colour (light and dark themes)."""
        return waterfall_svg(self)

    def headline(self) -> str:
        """The prediction and how the SHAP values reach it, in one sentence."""
        score = "" if self.score is None else f" (probability {self.score:.4f})"
        output = f" of {self.output}" if self.output else ""
        return (f"Predicted {format_value(self.prediction)}{score}. Base value{output} "
                f"{self.base:.4f} + Σ SHAP {self.values.sum():+.4f} = f(x) {self.margin:.4f}.")

    def sections(self) -> list[Section]:
        return [Section("Waterfall", self.headline() + " Largest contributions first.",
                        self.waterfall(), notes=_NOTES, svg=self.svg())]
