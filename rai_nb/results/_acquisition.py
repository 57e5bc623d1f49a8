"""The result of :func:`rai_nb.acquisition_plan`: rows to acquire per slice, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ..stats.learning_curves import equalized_error_rates
from ._base import Result

_NOTES = {
    "rows": "training rows of the slice the curve was fitted on",
    "validation_rows": "validation rows of the slice its losses are measured on",
    "loss": "observed validation loss with every training row (mean over repeats)",
    "fitted_loss": "the fitted curve b·n^(−a) at the slice's rows now",
    "acquire": "new rows to acquire for the slice",
    "predicted_loss": "the fitted curve at the slice's rows after acquiring",
    "loss_after": "observed validation loss after the last round (iterative)",
    "a": "exponent of the power law L(n) = b·n^(−a) (log-log weighted least squares)",
    "a_se": "standard error of a (from the points' scatter, repeats included)",
    "b": "scale of the power law",
    "b_se": "standard error of b (delta method)",
    "fraction": "share of the training rows in the nested subset",
    "loss_sd": "standard deviation of the loss over the repeats",
}
_PLAN_TEXT = (
    "Slice Tuner (Tae & Whang, SIGMOD 2021): {budget:,} new rows placed across {slices} slices "
    "to minimise the sum of the slices' predicted {loss} plus λ = {weight:g} × unfairness, "
    "Σ max(0, L_s / A_s − 1) with A_s the mean of the other slices' losses now (a convex "
    "program, solved exactly by water-filling). Predicted average equalized error rate "
    "{eer_now:.4g} now, {eer_after:.4g} after; total loss {total_now:.4g} → {total_after:.4g}.")
_CURVES_TEXT = (
    "{refits} refits of {estimator} on nested subsets of the training rows (fractions "
    "{fractions}, {repeats} repeat(s) each, stratified by slice × label), losses on "
    "{validation:,} validation rows. Points: mean ± one standard deviation over repeats; "
    "lines: the fitted power law; hollow markers: the predicted loss after the plan.")


@dataclass(frozen=True, repr=False)
class AcquisitionPlan(Result):
    """Rows to acquire per slice, from per-slice learning curves (Slice Tuner).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per slice: ``slice``, ``rows``, ``validation_rows``, ``loss`` (observed now),
        ``a``, ``a_se``, ``b``, ``b_se`` (the curve ``b·n^(−a)`` and standard errors),
        ``fitted_loss``, ``acquire`` (the plan), ``predicted_loss`` (after the plan) and, for
        the iterative variant, ``loss_after`` (observed after the last round).
    points : pandas.DataFrame
        The observed curve points: ``slice``, ``fraction``, ``rows``, ``loss`` (mean over
        repeats), ``loss_sd``.
    loss : str
        The per-row validation loss (``log_loss``, ``error`` or ``squared``).
    budget : int
    fairness_weight : float
    fractions : tuple of float
    n_repeats : int
    validation_rows : int
    n_refits : int
        Clones of the estimator fitted in all.
    rounds : pandas.DataFrame or None
        Iterative variant: one row per round (its imbalance limit, rows acquired, per slice).
    curves : bytes or None
        The learning-curve chart as PNG.
    """

    kind: ClassVar[str] = "acquisition"

    estimator_name: str
    loss: str
    budget: int
    fairness_weight: float
    table: pd.DataFrame
    points: pd.DataFrame
    fractions: tuple
    n_repeats: int
    validation_rows: int
    n_refits: int
    rounds: pd.DataFrame | None = None
    curves: bytes | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"Acquisition plan for {self.estimator_name}: {self.budget:,} new rows"

    @property
    def plan(self) -> pd.Series:
        """Rows to acquire, indexed by slice."""
        return self.table.set_index("slice")["acquire"]

    def figure(self):
        """The learning curves as a matplotlib figure (:func:`rai_nb.ui.plots.svg` makes it
        theme-aware SVG)."""
        from ..ui._acquisition import curves_figure

        return curves_figure(self.table, self.points, self.loss)

    def _figures(self) -> dict:
        now = equalized_error_rates(self.table["fitted_loss"])[0]
        after = equalized_error_rates(self.table["predicted_loss"])[0]
        return {"eer_now": now, "eer_after": after,
                "total_now": float(self.table["fitted_loss"].sum()),
                "total_after": float(self.table["predicted_loss"].sum())}

    def summary(self) -> dict:
        most = self.table.loc[self.table["acquire"].idxmax(), "slice"]
        return {"budget": self.budget, "slices": len(self.table), "loss": self.loss,
                "fairness_weight": self.fairness_weight, "most_rows_to": most,
                "n_refits": self.n_refits, **self._figures()}

    def sections(self) -> list[Section]:
        text = _PLAN_TEXT.format(budget=self.budget, slices=len(self.table),
                                 loss=self.loss.replace("_", " "), weight=self.fairness_weight,
                                 **self._figures())
        if self.rounds is not None:
            text += (f" Acquired iteratively from the pool in {len(self.rounds)} round(s); "
                     "acquire is what was taken.")
        table = self.table.set_index("slice")
        plan = Section("Plan", text, table, notes=_NOTES, bars=table["acquire"],
                       marks={"acquire": {int(np.argmax(table["acquire"].to_numpy()))}})
        curves = Section("Learning curves", _CURVES_TEXT.format(
            refits=self.n_refits, estimator=self.estimator_name,
            fractions=", ".join(f"{f:g}" for f in self.fractions), repeats=self.n_repeats,
            validation=self.validation_rows), self.points, notes=_NOTES, image=self.curves)
        if self.rounds is None:
            return [plan, curves]
        return [plan, curves, Section("Rounds", "Rows taken from the pool in each round, and "
                                      "the limit on the change of the slices' imbalance ratio "
                                      "(largest / smallest size).", self.rounds)]


def curves_png(table: pd.DataFrame, points: pd.DataFrame, loss: str) -> bytes:
    """The learning-curve chart as PNG (drawn once, when the result is built)."""
    from ..ui._acquisition import curves_figure
    from ..ui.plots import png

    return png(curves_figure(table, points, loss))
