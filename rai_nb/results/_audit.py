"""The result of :func:`rai_nb.audit`: every part of an audit and the findings that stand out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import render
from ..render import Section
from ._base import Result
from ._bias import BiasResult
from ._explain import ExplanationResult
from ._slices import SliceResult
from ._validate import ValidationResult

#: Limits behind the overview's traffic lights: (warn at, fail at), larger is worse unless noted.
FINDING_LIMITS = {
    # The four-fifths rule of the US EEOC Uniform Guidelines (29 CFR 1607.4 D): lower is worse.
    "demographic_parity_ratio": (0.8, 0.6),
    "equalized_odds_difference": (0.1, 0.2),
    "equal_opportunity_difference": (0.1, 0.2),
    # Regression: a tenth of the rows' predictions shifted between a group and all rows, and
    # the four-fifths rule applied to the groups' mean absolute errors.
    "statistical_parity_ks": (0.1, 0.2),
    "mean_absolute_error_ratio": (0.8, 0.6),
}
_LOWER_IS_WORSE = {"demographic_parity_ratio", "mean_absolute_error_ratio"}
SEVERITY_ORDER = {"fail": 0, "warn": 1, "pass": 2}


class Findings(pd.DataFrame):
    """The findings table; displayed (text and notebook HTML) with whole finding texts, which
    pandas would otherwise cut at 50 characters. Derived frames are plain DataFrames."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()


@dataclass(frozen=True, repr=False)
class AuditResult(Result):
    """A model's fairness, explanations, problem slices and data checks on one data set.

    Attributes
    ----------
    bias : BiasResult
        Group metrics, Clarify metrics and disparities of the model's predictions.
    slices : SliceResult or None
        Where the model errs most (0/1 error), with significance.
    validation : ValidationResult or None
        Data checks, with drift against the reference when one was given.
    importance : pandas.Series or None
        Mean absolute SHAP value per feature, largest first.
    group_importance : pandas.DataFrame or None
        Mean absolute SHAP value per feature (rows) for each sensitive group (columns).
    explanation : shap.Explanation or None
        The SHAP values behind ``importance`` (for shap's plots; the report holds
        :attr:`explanation_report` instead).
    card : ModelCard or None
        The model card filled from this audit.
    sensitive_inputs : tuple
        Sensitive columns that the model takes as inputs (each is a finding).
    mitigation : MitigationResult or None
        The mitigation that made the audited model (:attr:`MitigationResult.audit`): a part
        of the report and a section of the model card.
    burden : BurdenResult or None
        Counterfactual burden per sensitive group (``audit(burden=True)``), shown with the
        explanations (a part of its own when there are none).
    dependence : DependenceResult or None
        Partial dependence and ICE of the most important input feature, by sensitive group,
        on the explained rows; shown with the explanations.
    """

    kind: ClassVar[str] = "audit"

    model_name: str
    n_rows: int
    bias: BiasResult
    slices: SliceResult | None = None
    validation: ValidationResult | None = None
    importance: pd.Series | None = None
    group_importance: pd.DataFrame | None = None
    explanation: object = field(default=None, compare=False)
    card: object = field(default=None, compare=False)
    sensitive_inputs: tuple = ()
    mitigation: object = field(default=None, compare=False)
    burden: object = field(default=None, compare=False)
    dependence: object = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"Audit of {self.model_name} on {self.n_rows:,} rows"

    @cached_property
    def explanation_report(self) -> ExplanationResult | None:
        """The Explanations part: importance, the beeswarm (drawn once, on first use), the
        attributions by group, the top feature's dependence and the burden when computed; None
        without an explanation."""
        if self.explanation is None:
            return None
        return ExplanationResult.of(self.explanation, self.importance, self.group_importance,
                                    burden=self.burden, dependence=self.dependence)

    def with_card(self, card) -> AuditResult:
        """This audit carrying ``card`` (e.g. one with the user's narrative)."""
        from dataclasses import replace

        return replace(self, card=card)

    def with_mitigation(self, mitigation) -> AuditResult:
        """This audit carrying the ``mitigation`` that made its model; its card (when it has
        one) then records the mitigation too."""
        from dataclasses import replace

        audit = replace(self, mitigation=mitigation)
        return audit if self.card is None else audit.with_card(replace(self.card, audit=audit))

    def parts(self) -> list[Result]:
        """The component results that are present, in tab order."""
        burden = self.burden if self.explanation is None else None
        return [part for part in (self.bias, self.explanation_report, burden, self.slices,
                                  self.validation, self.mitigation) if part is not None]

    def findings(self, *, keys: bool = False) -> pd.DataFrame:
        """One row per headline finding: ``area``, ``severity``, ``finding`` and ``value``.

        A :class:`Findings` frame: a DataFrame whose display never cuts the finding texts.
        With ``keys``, two more columns name what each finding is about, so the findings of
        two audits can be matched without reading their texts (:func:`rai_nb.compare`):
        ``rule`` (the disparity, data check or other rule) and ``group`` (the class of a
        disparity, the column(s) of a data check or sensitive input, the top feature; empty
        when none: a slice finding is one finding whichever slice is on top).
        """
        rows = [("fairness", "pass", self.bias.task_note(), float("nan"), "task", "")]
        if self.bias.decisive is not None:
            rows += [(*_disparity_finding(name, row, self.bias), name,
                      "" if row["class"] is None else str(row["class"]))
                     for name, row in self.bias.decisive.iterrows()]
        rows += [("fairness", "warn", f"sensitive column {name!r} is a model input: the model "
                  "can use it directly", float("nan"), "sensitive_input", str(name))
                 for name in self.sensitive_inputs]
        if self.slices is not None:
            rows.append(_slice_finding(self.slices))
        if self.validation is not None:
            checks = self.validation.checks
            rows += [("data", severity, f"{name}: {message}", float("nan"), name,
                      ", ".join(map(str, columns)))
                     for name, severity, message, columns in zip(
                         checks.index, checks["severity"], checks["message"], checks["columns"])
                     if severity != "pass"]
        if self.importance is not None and len(self.importance):
            top = self.importance.index[0]
            rows.append(("explanations", "pass", f"most influential feature: {top}",
                         float(self.importance.iloc[0]), "top_feature", str(top)))
        table = pd.DataFrame(rows, columns=["area", "severity", "finding", "value", "rule",
                                            "group"])
        order = table["severity"].map(SEVERITY_ORDER)
        table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
        return Findings(table if keys else table.drop(columns=["rule", "group"]))

    def summary(self) -> dict:
        findings = self.findings()
        return {"rows": self.n_rows, "model": self.model_name,
                "fail": int((findings["severity"] == "fail").sum()),
                "warn": int((findings["severity"] == "warn").sum())}

    def sections(self) -> list[Section]:
        return [Section("Overview", "Findings, worst first.", self.findings())]

    def to_dict(self) -> dict:
        """The overview report, with each part's own report under ``parts``."""
        report = super().to_dict()
        report["parts"] = [part.to_dict() for part in self.parts()]
        if self.card is not None:
            report["parts"].append(self.card.to_dict())
        return report

    def to_html(self) -> str:
        return "".join([super().to_html(), *(part.to_html() for part in self._shown_parts())])

    def to_markdown(self) -> str:
        return "\n".join([super().to_markdown(), *(p.to_markdown() for p in self._shown_parts())])

    def __str__(self) -> str:
        return "\n\n".join([super().__str__(), *(str(part) for part in self._shown_parts())])

    def _shown_parts(self) -> list:
        return self.parts() + ([self.card] if self.card is not None else [])


def _disparity_finding(name: str, row: pd.Series, bias: BiasResult) -> tuple:
    """A fairness finding graded on its value and its interval: a value inside the limits
    whose interval reaches past the warn limit is a warn, not a pass."""
    warn, fail = FINDING_LIMITS[name]
    lower_is_worse = name in _LOWER_IS_WORSE
    beyond = (lambda v, limit: v < limit) if lower_is_worse else (lambda v, limit: v > limit)
    value = row["value"]
    worst_end = row["lower"] if lower_is_worse else row["upper"]
    if np.isnan(value):
        severity = "warn"
    elif beyond(value, fail):
        severity = "fail"
    elif beyond(value, warn) or (np.isfinite(worst_end) and beyond(worst_end, warn)):
        severity = "warn"
    else:
        severity = "pass"
    side = "below" if lower_is_worse else "above"
    limits = f"warn {side} {warn:g}, fail {side} {fail:g}"
    return ("fairness", severity, f"{_finding_text(name, row, bias)}; {limits}", float(value))


def _finding_text(name: str, row: pd.Series, bias: BiasResult) -> str:
    title = name.replace("_", " ") + ("" if row["class"] is None else f" (class {row['class']})")
    if np.isnan(row["value"]):
        return (f"{title}: no two groups have {bias.min_group_size} rows or more "
                "(min_group_size), so it is not graded")
    text = f"{title} = {render.format_value(row['value'])}"
    if np.isfinite(row["lower"]):
        text += (f" ({bias.ci:.0%} interval {render.format_value(row['lower'])} to "
                 f"{render.format_value(row['upper'])})")
    metric = row["metric"].replace("_", " ")
    high = f"{render.format_value(row['high_value'])} for {row['high_group']} " \
           f"({row['high_rows']:,} rows)"
    if row["high_group"] == row["low_group"]:
        text += f": {metric} {high} against all rows"
    else:
        text += (f": {metric} {render.format_value(row['low_value'])} for {row['low_group']} "
                 f"({row['low_rows']:,} rows) vs {high}")
    small = len(bias.small_groups())
    if small:
        text += f"; {small} group(s) under {bias.min_group_size} rows left out"
    return text


def _slice_finding(result: SliceResult) -> tuple:
    significant = result.top[result.top["significant"]] if len(result.top) else result.top
    if significant.empty:
        return ("slices", "pass", "no slice errs significantly more than the rest", float("nan"),
                "significant_slices", "")
    worst = significant.iloc[0]
    text = (f"{len(significant)} significant slice(s); top: {worst['slice']} "
            f"({int(worst['rows']):,} rows, mean {result.loss} {worst['mean_loss']:.3f} "
            f"vs {result.average_loss:.3f})")
    return ("slices", "warn", text, float(worst["mean_loss"]), "significant_slices", "")
