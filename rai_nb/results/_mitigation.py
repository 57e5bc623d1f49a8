"""The result of :func:`rai_nb.mitigate`: a mitigated model, its trade-off and the audits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ._audit import AuditResult
from ._base import Result
from ._comparison import ComparisonResult

#: Constraint → the disparity it bounds (the trade-off chart's x axis).
CONSTRAINT_DISPARITY = {
    "demographic_parity": "demographic_parity_difference",
    "equal_opportunity": "equal_opportunity_difference",
    "equalized_odds": "equalized_odds_difference",
    "false_positive_rate_parity": "false_positive_rate_difference",
}
#: Method → what it does, for the report.
METHOD_TEXT = {
    "thresholds": "Per-group thresholds on the model's scores (post-processing, Hardt et al. "
                  "2016; randomized where the constraint needs it)",
    "reweighing": "Reweighing (Kamiran & Calders 2012): a clone of the model refitted on row "
                  "weights that make label and group independent",
    "fairbatch": "FairBatch (Roh et al. 2021): a clone of the model refitted on group × label "
                 "weights adapted between rounds",
    "exponentiated_gradient": "fairlearn's ExponentiatedGradient (Agarwal et al. 2018): a "
                              "randomized mixture of refitted clones of the model",
    "grid_search": "fairlearn's GridSearch (Agarwal et al. 2018): the best of clones of the "
                   "model refitted on a grid of Lagrange multipliers",
}
HELD_OUT, FIT_ROWS = "held-out", "fit rows"
#: The candidate that is the model without mitigation.
UNMITIGATED = "unmitigated"
_TRADEOFF_NOTE = (
    "Every candidate the method produced, scored on the {rows} held-out rows (expected values "
    "under randomized rules; disparities between all groups, the small ones too); the chosen "
    "one is marked.{fit} The chart shows accuracy against {disparity}: the Pareto front joined "
    "in order, the chosen candidate ringed.")


@dataclass(frozen=True, repr=False)
class MitigationResult(Result):
    """A mitigated model, the accuracy–fairness trade-off of its candidates, and audits of the
    model before and after on the same held-out rows.

    Attributes
    ----------
    model : estimator
        The mitigated model (scikit-learn compatible; predicts from the same frame as the
        original, sensitive columns included for ``thresholds``).
    method, constraint : str
        As given to :func:`rai_nb.mitigate`.
    tol : float
        The largest gap allowed in the constraint's rates (thresholds and reductions).
    before, after : AuditResult
        Audits of the model without and with mitigation on the same held-out rows.
    comparison : ComparisonResult
        ``compare(before, after)``.
    candidates : pandas.DataFrame
        One row per candidate: ``candidate``, ``rows`` (``held-out``, or ``fit rows`` for
        training-time scores), ``chosen``, the method's knob (``tol``, ``round``,
        ``grid_point``, ``weight``), ``accuracy`` and every disparity. The ``unmitigated``
        row is the model before mitigation.
    chosen : str
        The candidate the mitigated model is.
    fit_rows : int
        Rows the mitigation was fitted on.
    refit : bool
        True when the method refits the model: ``before`` is then a clone of the model
        refitted on the same fit rows without mitigation, so the comparison isolates the
        mitigation; False for post-processing (``before`` is the model as given).
    pareto : bytes or None
        The trade-off chart as PNG (the report JSON's, for files and the saved report).
    pareto_svg : str or None
        The same chart as inline SVG in the page's colours (the HTML's, light and dark).
    """

    kind: ClassVar[str] = "mitigation"

    method: str
    constraint: str
    tol: float
    before: AuditResult
    after: AuditResult
    comparison: ComparisonResult
    candidates: pd.DataFrame
    chosen: str
    fit_rows: int
    refit: bool
    model: object = field(default=None, compare=False)
    pareto: bytes | None = field(default=None, compare=False)
    pareto_svg: str | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return (f"Mitigation of {self.before.model_name}: {self.method.replace('_', ' ')} "
                f"for {self.constraint.replace('_', ' ')}")

    @property
    def disparity(self) -> str:
        """The disparity the constraint bounds, e.g. ``demographic_parity_difference``."""
        return CONSTRAINT_DISPARITY[self.constraint]

    @property
    def audit(self) -> AuditResult:
        """The audit of the mitigated model carrying this mitigation (its Mitigation tab and
        its model card's Mitigation section)."""
        return self.after.with_mitigation(self)

    def method_text(self) -> str:
        """What was done, on which rows, and what ``before`` is."""
        tol = f" with tol = {self.tol:g}" if self.method != "reweighing" else ""
        before = ("a clone of the model refitted on the same rows without mitigation, so the "
                  "comparison isolates the mitigation" if self.refit
                  else "the model as given")
        return (f"{METHOD_TEXT[self.method]}, for {self.constraint.replace('_', ' ')}{tol}; "
                f"fitted on {self.fit_rows:,} rows, audited before and after on the same "
                f"{self.after.n_rows:,} held-out rows. Before is {before}; chosen candidate: "
                f"{self.chosen}.")

    def card_text(self) -> str:
        """A paragraph for a model card: the mitigation and its before/after numbers."""
        return f"{self.method_text()} {self.comparison.card_text()}"

    def _row(self, name: str) -> pd.Series:
        held_out = self.candidates[self.candidates["rows"] == HELD_OUT]
        return held_out[held_out["candidate"] == name].iloc[0]

    def summary(self) -> dict:
        before, after = self._row(UNMITIGATED), self._row(self.chosen)
        return {"method": self.method, "constraint": self.constraint, "chosen": self.chosen,
                "fit_rows": self.fit_rows, "held_out_rows": self.after.n_rows,
                "accuracy_before": before["accuracy"], "accuracy_after": after["accuracy"],
                f"{self.disparity}_before": before[self.disparity],
                f"{self.disparity}_after": after[self.disparity]}

    def sections(self) -> list[Section]:
        fit = (" Rows marked 'fit rows' are the method's own training-time scores (the model "
               "of each round is not kept)." if (self.candidates["rows"] == FIT_ROWS).any()
               else "")
        note = _TRADEOFF_NOTE.format(rows=f"{self.after.n_rows:,}", fit=fit,
                                     disparity=self.disparity.replace("_", " "))
        chosen = np.flatnonzero(self.candidates["chosen"].to_numpy(dtype=bool))
        tradeoff = Section("Trade-off", note, self.candidates,
                           marks={"candidate": set(map(int, chosen))}, image=self.pareto,
                           svg=self.pareto_svg)
        compared = self.comparison.sections()
        return [Section("Mitigation", self.method_text()), tradeoff,
                replace(compared[0], title="Before and after"), *compared[1:]]


def pareto_charts(candidates: pd.DataFrame, disparity: str, chosen: str) -> dict:
    """The held-out candidates' accuracy against ``disparity``, drawn once when the result is
    built (matplotlib loads only then): ``pareto`` (PNG) and ``pareto_svg`` (theme-coloured)."""
    from ..ui._pareto import pareto_figure
    from ..ui.plots import png, svg

    figure = pareto_figure(candidates[candidates["rows"] == HELD_OUT], disparity, chosen=chosen)
    return {"pareto": png(figure), "pareto_svg": svg(figure)}  # svg recolours: PNG first

