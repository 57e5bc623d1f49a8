"""The tabbed panel of a :class:`rai_nb.AuditResult`; tabs are built when first selected."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from . import _html
from ._bias import BiasPanel
from ._explanation import ExplanationPanel
from ._modelcard import ModelCardPanel
from ._slices import SlicesPanel
from ._validation import ValidationPanel


def _part(name: str, panel):
    """A tab builder: ``panel`` of the audit's part ``name``, or None when it is absent."""
    def build(result):
        part = getattr(result, name)
        return None if part is None else panel(part)
    return build


def _explanations(result):
    """The explanation's panel, then the reports of the top feature's dependence and of the
    burden when the audit computed them."""
    panel = None if result.explanation is None else ExplanationPanel(
        result.explanation, result.importance, result.group_importance)
    shown = [panel, *(widgets.HTML(part.to_html()) for part in (result.dependence, result.burden)
                      if part is not None)]
    shown = [part for part in shown if part is not None]
    if len(shown) < 2:
        return shown[0] if shown else None
    return widgets.VBox(shown)


def _mitigation(result):
    if result.mitigation is None:
        return None
    return widgets.HTML(result.mitigation.to_html())


#: Tab title → (builder of its panel, what an audit needs for the part when it is absent).
TABS = {
    "Fairness": (_part("bias", BiasPanel), "a sensitive column"),
    "Explanations": (_explanations, "explain=True or burden=True"),
    "Slices": (_part("slices", SlicesPanel), "a model with predict"),
    "Data checks": (_part("validation", ValidationPanel), "the data checks"),
    "Mitigation": (_mitigation, "a mitigation"),
    "Model card": (_part("card", ModelCardPanel), "a model card"),
}


class AuditPanel(widgets.Tab):
    """Overview · Fairness · Explanations · Slices · Data checks · (Mitigation) · Model card.

    The overview is a traffic-light table of :meth:`AuditResult.findings`; every other tab is
    built the first time it is selected (or asked for with :meth:`tab`), so the panel shows at
    once and charts are drawn only for the tabs looked at.

    Parameters
    ----------
    result : rai_nb.AuditResult
        The result viewed; never recomputed.
    """

    def __init__(self, result):
        self.result = result
        self._panels = {}
        # a mitigation is made after an audit: its tab shows only on the audit it made, as in
        # the saved report, whose tabs are the parts present
        shown = [t for t in TABS if t != "Mitigation" or result.mitigation is not None]
        boxes = [widgets.VBox() for _ in shown]
        super().__init__(children=[widgets.HTML(overview_html(result)), *boxes],
                         titles=("Overview", *shown))
        self.add_class(_html.TABS)
        self.observe(self._selected, names="selected_index")

    def tab(self, title: str) -> widgets.Widget:
        """The content of tab ``title``, built now if it was not yet."""
        if title == "Overview":
            return self.children[0]
        if title not in self._panels:
            build, needs = TABS[title]
            panel = build(self.result) or widgets.HTML(_html.wrap(_html.paragraph(
                f"Not part of this audit (needs {needs}).")))
            self.children[self.titles.index(title)].children = (panel,)
            self._panels[title] = panel
        return self._panels[title]

    def build_all(self) -> AuditPanel:
        """Build every tab now (for a saved widget state or a benchmark)."""
        for title in self.titles[1:]:
            self.tab(title)
        return self

    def _selected(self, change):
        if change["new"] is not None:
            self.tab(self.titles[change["new"]])


def overview_html(result) -> str:
    """The findings, worst first, one row coloured by severity each, with their numbers."""
    findings = result.findings()
    counts = findings["severity"].value_counts()
    badges = " ".join(_html.badge(s, f"{int(counts.get(s, 0))} {s}")
                      for s in ("fail", "warn", "pass"))
    table = pd.DataFrame({"": "● " + findings["severity"], "area": findings["area"],
                          "finding": findings["finding"], "value": findings["value"]})
    rows = [f"background:{_html.SEVERITY_COLOURS[s]}" for s in findings["severity"]]
    return _html.wrap(_html.paragraph(result.title, bold="Overview:"), f"<p>{badges}</p>",
                      _html.table(table, row_styles=rows),
                      _html.paragraph("Details in the other tabs."))
