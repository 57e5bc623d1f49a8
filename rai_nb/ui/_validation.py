"""Panels of :class:`rai_nb.ValidationResult` (checks by severity) and :class:`rai_nb.DriftResult`."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..results._validate import SHOWN_ROWS
from . import _html

_ORDER = ("fail", "warn", "pass")
_DRIFT_COLUMNS = ["role", "kind", "method", "statistic", "threshold", "p_value", "drifted"]


class ValidationPanel(widgets.VBox):
    """Checks grouped by severity, worst first, each with its details table.

    Parameters
    ----------
    result : rai_nb.ValidationResult
        The result viewed; never recomputed.
    """

    def __init__(self, result):
        self.result = result
        sections, titles = [], []
        for severity in _ORDER:
            checks = result.checks[result.checks["severity"] == severity]
            if len(checks):
                sections.append(self._severity(severity, checks))
                titles.append(f"{severity} ({len(checks)})")
        if result.drift is not None:
            sections.append(DriftPanel(result.drift))
            titles.append(f"drift ({len(result.drift.drifted)} of "
                          f"{len(result.drift.columns)} columns)")
        self.accordion = widgets.Accordion(children=sections, titles=tuple(titles))
        self.accordion.add_class(_html.ACCORDION)
        if sections:
            self.accordion.selected_index = 0
        super().__init__([widgets.HTML(_html.wrap(_html.paragraph(
            f"{result.n_rows:,} rows.", bold=result.title))), self.accordion])

    def _severity(self, severity: str, checks) -> widgets.VBox:
        shown = checks.assign(columns=[", ".join(map(str, c)) for c in checks["columns"]])
        colour = f"background:{_html.SEVERITY_COLOURS[severity]}"
        parts = [widgets.HTML(_html.wrap(_html.table(
            shown[["columns", "message"]], row_styles=[colour] * len(shown))))]
        named = [name for name in checks.index if len(self.result.details.get(name, ()))]
        if named:
            details = widgets.Accordion(children=[self._details(n) for n in named],
                                        titles=tuple(f"{n}: details" for n in named))
            details.add_class(_html.ACCORDION)
            parts.append(details)
        return widgets.VBox(parts)

    def _details(self, name: str) -> widgets.HTML:
        detail = self.result.details[name]
        note = (f"First {SHOWN_ROWS} of {len(detail):,} rows." if len(detail) > SHOWN_ROWS
                else f"{len(detail):,} rows.")
        message = self.result.checks.at[name, "message"]
        return widgets.HTML(_html.wrap(_html.paragraph(message), _html.paragraph(note),
                                       _html.table(detail.head(SHOWN_ROWS))))


class DriftPanel(widgets.VBox):
    """Per-column drift (drifted columns highlighted), the multivariate MMD test and, with
    ``rows=True``, the most out-of-distribution rows.

    Parameters
    ----------
    result : rai_nb.DriftResult
        The result viewed; never recomputed.
    """

    def __init__(self, result):
        self.result = result
        columns = result.columns
        shown = columns[[c for c in _DRIFT_COLUMNS if c in columns.columns]]
        rows = [f"background:{_html.SEVERITY_COLOURS['warn']}" if d else ""
                for d in columns["drifted"]]
        parts = [_html.paragraph(result.sections()[0].text, bold=result.title),
                 _html.table(shown, row_styles=rows)]
        if result.mmd is not None:
            parts += ["<h4>Multivariate drift (MMD)</h4>",
                      _html.table(pd.DataFrame([result.mmd], index=["mmd"]))]
        if result.rows is not None:
            section = result.rows.section()
            parts += [f"<h4>{_html.esc(section.title)}</h4>", _html.paragraph(section.text),
                      _html.table(section.table, notes=section.notes)]
        super().__init__([widgets.HTML(_html.wrap(*parts))])

