"""Model cards (Mitchell et al., "Model Cards for Model Reporting", FAT* 2019) filled from audits.

The narrative comes from the user (``fields``: YAML in ``%%modelcard``); the numbers come from
an :class:`rai_nb.results.AuditResult`: metrics per group with intervals, disparities,
significant slices, failed data checks and the most influential features.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pandas as pd

from . import render
from .errors import RaiError
from .render import Section
from .results._base import Result

#: Narrative fields a card understands, in the order "Model details" lists the short ones.
DETAIL_FIELDS = {"version": "Version", "date": "Date", "type": "Model type", "owners": "Owners",
                 "license": "Licence", "citation": "Citation", "contact": "Contact"}
NARRATIVE_FIELDS = ("description", "intended_use", "intended_users", "out_of_scope_uses", "factors",
                    "metrics", "training_data", "evaluation_data", "ethical_considerations",
                    "caveats", "recommendations")
#: The per-group metrics a card's table shows, per task.
KEY_METRICS = {
    "binary": ["count", "selection_rate", "accuracy", "true_positive_rate", "false_positive_rate"],
    "multiclass": ["count", "accuracy", "balanced_accuracy", "macro_f1"],
    "regression": ["count", "mean_target", "mean_prediction", "mean_absolute_error",
                   "root_mean_squared_error", "r2"],
}
#: The "Metrics" sentence of a card, per task.
_METRICS_TEXT = {
    "binary": "Per-group selection rate, accuracy, true and false positive rates (fairlearn "
              "definitions), demographic parity and equalized odds differences and ratios, and "
              "SageMaker Clarify's bias metrics for each facet against the rest.",
    "multiclass": "Per-group accuracy, balanced accuracy and macro F1; demographic parity and "
                  "equalized odds differences and ratios of each class one-vs-rest (fairlearn "
                  "definitions) and their worst class; SageMaker Clarify's bias metrics per "
                  "class for each facet against the rest.",
    "regression": "Per-group mean target and prediction, mean absolute error, root mean squared "
                  "error and R²; the gap and ratio of each between groups, bounded group loss "
                  "and statistical parity of the predictions (Kolmogorov–Smirnov and "
                  "Wasserstein distances, Agarwal et al. 2019).",
}
_MISSING = "Not provided."


@dataclass(frozen=True, repr=False)
class ModelCard(Result):
    """A model card: the user's narrative ``fields`` and, when given, an audit's numbers.

    Examples
    --------
    >>> from rai_nb.modelcard import ModelCard
    >>> card = ModelCard({"name": "Income classifier", "intended_use": "Teaching."})
    >>> print(card.to_markdown().splitlines()[0])
    # Model card: Income classifier
    """

    kind: ClassVar[str] = "model_card"

    fields: dict = field(default_factory=dict)
    audit: object = field(default=None, compare=False)
    #: A :class:`rai_nb.results.CleaningPlan` applied to the training data (optional).
    cleaning: object = field(default=None, compare=False)

    def __post_init__(self):
        if not isinstance(self.fields, dict):
            raise RaiError(f"model card fields must be a mapping, got {type(self.fields).__name__}")

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or getattr(self.audit, "model_name", None) or "Model")

    @property
    def title(self) -> str:
        return f"Model card: {self.name}"

    def with_fields(self, **changes) -> ModelCard:
        """A new card with some narrative fields changed."""
        return replace(self, fields={**self.fields, **changes})

    @property
    def details(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the "Model details" list."""
        known = set(DETAIL_FIELDS) | set(NARRATIVE_FIELDS) | {"name"}
        values = {**{"date": _dt.date.today().isoformat()}, **self.fields}
        pairs = [(label, _as_text(values[key])) for key, label in DETAIL_FIELDS.items() if key in values]
        pairs += [(str(key), _as_text(value)) for key, value in self.fields.items() if key not in known]
        return pairs

    def summary(self) -> dict:
        return {"name": self.name, "fields": sorted(map(str, self.fields))}

    def sections(self) -> list[Section]:
        def text(key: str, default: str = _MISSING) -> str:
            return _as_text(self.fields.get(key, default))

        audit = self.audit
        details = "; ".join(f"{label}: {value}" for label, value in self.details)
        sections = [
            Section("Model details", details or _MISSING),
            Section("Description", text("description")),
            Section("Intended use", " ".join(filter(None, [
                text("intended_use"), _labelled("Intended users", self.fields.get("intended_users")),
                _labelled("Out of scope", self.fields.get("out_of_scope_uses"))]))),
            Section("Factors", text("factors", _factors(audit))),
            Section("Metrics", text("metrics", _metrics_text(audit))),
            Section("Evaluation data", text("evaluation_data", _evaluation_text(audit))),
            Section("Training data", text("training_data")),
        ]
        if self.cleaning is not None:
            sections.append(Section("Data cleaning", self.cleaning.card_text(),
                                    self.cleaning.steps[["removed", "share", "rows_left"]]))
        sections += _quantitative(audit)
        sections += [
            Section("Ethical considerations", " ".join(filter(None, [
                text("ethical_considerations", ""), _issues_text(audit)])) or _MISSING),
            Section("Caveats and recommendations", " ".join(filter(None, [
                text("caveats", ""), text("recommendations", "")])) or _MISSING),
        ]
        return sections

    def to_markdown(self, figures: dict | None = None) -> str:
        """The card as GitHub-flavoured markdown (Jinja2 template ``model_card.md.j2``).

        ``figures`` maps a section title to ``[{"path": ..., "alt": ...}]`` images to embed.
        """
        template = _environment().get_template("model_card.md.j2")
        return template.render(card=self, sections=self.sections(),
                               figures=figures or {}).rstrip() + "\n"

    def save(self, path) -> Path:
        """Write the card to ``path``: ``.md`` (figures as PNG files beside it) or ``.html``."""
        path = Path(path)
        if path.suffix.lower() not in (".md", ".html", ".htm"):
            raise RaiError(f"path must end in .md or .html, got {str(path)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".md":
            figures = _save_figures(self.audit, path.parent / f"{path.stem}_files", path.parent)
            path.write_text(self.to_markdown(figures), encoding="utf-8")
        else:
            path.write_text(render.html_document(self.to_html(), self.title), encoding="utf-8")
        return path


def _as_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value).strip()


def _labelled(label: str, value) -> str:
    return f"{label}: {_as_text(value).rstrip('.')}." if value else ""


def _factors(audit) -> str:
    if audit is None:
        return _MISSING
    names = ", ".join(map(str, audit.bias.sensitive))
    return (f"Performance is reported for groups defined by {names} and their intersections "
            f"({len(audit.bias.by_group)} groups).")


def _metrics_text(audit) -> str:
    if audit is None:
        return _MISSING
    bias = audit.bias
    text = _METRICS_TEXT[bias.task]
    if bias.task == "regression" and len(bias.clarify):
        text += (f" SageMaker Clarify's bias metrics with {bias.target} > "
                 f"{bias.label_threshold:g} as the favourable outcome.")
    if bias.intervals is not None:
        text += (f" Intervals are {bias.ci:.0%} bootstrap percentile intervals from "
                 f"{bias.n_boot} resamples.")
    return text


def _evaluation_text(audit) -> str:
    if audit is None:
        return _MISSING
    bias = audit.bias
    text, weighted = f"{audit.n_rows:,} rows", " (weighted)" if bias.weighted else ""
    if bias.task == "regression":
        return text + f"; mean {bias.target}{weighted} {float(bias.overall['mean_target']):.4g}."
    if bias.task == "binary":
        rate = float(bias.overall["base_rate"])
        return text + f"; {rate:.1%}{weighted} have {bias.target} = {bias.positive_label}."
    shares = bias.counts.sum(axis=(0, 2)) / bias.counts.sum()  # counts[group, y, ŷ]
    listed = ", ".join(f"{c} ({share:.1%})" for c, share in zip(bias.classes, shares))
    return text + f"; {bias.target} has {len(bias.classes)} classes{weighted}: {listed}."


def _quantitative(audit) -> list[Section]:
    if audit is None:
        return [Section("Quantitative analyses", "No audit attached.")]
    bias = audit.bias
    sections = [Section("Quantitative analyses", f"Metrics by group. {bias.task_note()}",
                        _with_intervals(bias))]
    if len(bias.disparities):
        sections.append(Section("Disparities", bias.summary_note(),
                                bias.disparities.to_frame("value")))
    if bias.class_disparities is not None:
        sections.append(Section("Disparities by class", "Each class one-vs-rest, fairlearn "
                                "definitions between groups.", bias.class_disparities))
    if audit.slices is not None and len(audit.slices.top):
        top = audit.slices.top
        shown = top[top["significant"]] if top["significant"].any() else top.head(3)
        sections.append(Section("Problem slices", f"Mean {audit.slices.loss} per slice, "
                                f"overall {audit.slices.average_loss:.3f}.",
                                shown.set_index("slice")[["size", "mean_loss", "p_value"]]))
    if audit.importance is not None:
        sections.append(Section("Most influential features", "Mean |SHAP value|.",
                                audit.importance.head(10).to_frame("mean |SHAP|")))
    if audit.mitigation is not None:
        sections.append(_mitigation_section(audit.mitigation))
    return sections


def _mitigation_section(mitigation) -> Section:
    """The mitigation that made the model, its before/after numbers and its chosen candidate
    beside the unmitigated model on the held-out rows."""
    from .results._mitigation import HELD_OUT, UNMITIGATED

    table = mitigation.candidates
    shown = table[table["candidate"].isin([UNMITIGATED, mitigation.chosen])
                  & (table["rows"] == HELD_OUT)]
    columns = ["candidate", "accuracy", mitigation.disparity]
    return Section("Mitigation", mitigation.card_text(), shown[columns].set_index("candidate"))


def _with_intervals(bias) -> pd.DataFrame:
    """The task's key metrics per group, as "estimate [lower, upper]" when intervals exist."""
    table = bias.by_group[[m for m in KEY_METRICS[bias.task] if m in bias.by_group]].copy()
    found = bias.bounds("by_group", table)
    if found is None:
        return table
    lower, upper = found
    for metric in lower.columns[lower.notna().any()]:
        table[metric] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                         zip(table[metric], lower[metric], upper[metric])]
    return table


def _issues_text(audit) -> str:
    if audit is None:
        return ""
    findings = audit.findings()
    bad = findings[findings["severity"] != "pass"]
    if bad.empty:
        return "The audit raised no fairness, slice or data-quality warning."
    return "The audit flagged: " + "; ".join(f"{row.finding} ({row.severity})"
                                           for row in bad.itertuples()) + "."


def _save_figures(audit, folder: Path, base: Path) -> dict:
    """PNG charts of the audit next to the card; section title → image links, relative and
    percent-encoded (a file name cannot close the link or name another scheme)."""
    if audit is None:
        return {}
    from .ui.plots import chart_metrics, importance_figure, metric_figure

    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    metric = chart_metrics(audit.bias)[1]
    if metric is not None:
        figures["Quantitative analyses"] = [(f"{metric}.png",
                                             f"{metric.replace('_', ' ').capitalize()} by group",
                                             metric_figure(audit.bias, metric))]
    if audit.importance is not None:
        figures["Most influential features"] = [("importance.png", "Mean |SHAP| per feature",
                                                 importance_figure(audit.importance))]
    links = {}
    for title, items in figures.items():
        for name, alt, figure in items:
            figure.savefig(folder / name, dpi=110, bbox_inches="tight")
            links.setdefault(title, []).append(
                {"path": quote((folder / name).relative_to(base).as_posix()), "alt": alt})
    return links


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("rai_nb", "templates"),
                             autoescape=False, keep_trailing_newline=True,  # markdown, not HTML:
                             undefined=jinja2.StrictUndefined)          # escaped by the filters
    env.filters.update(md=render.md_escape,
                       para=lambda text: render.md_escape(text, keep_lines=True),
                       table=render.md_table)
    return env
