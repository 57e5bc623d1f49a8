"""Views of results: ipywidgets panels for a live kernel, with static fallbacks.

``show(result)`` displays one output whose bundle carries both the widget view and the
result's own static renderings (HTML, markdown, report JSON), so a notebook saved and opened
without a widget frontend still shows the report. In JupyterLab the rai-nb-jupyterlab extension
renders that output: the live panel while the kernel that made it runs, the report (from the
JSON) after a restart, in a notebook reopened later or untrusted; elsewhere (GitHub, nbconvert,
VS Code) the ``text/html`` copy shows, since the widget view travels under rai_nb's own type.
``import rai_nb`` never imports this package (it loads ipywidgets and matplotlib).
"""

from __future__ import annotations

from ..errors import RaiError
from ..results import Result
from . import panels

#: Result type name → panel class: looked up by name, so no optional library (shap) is
#: imported for an isinstance check.
PANELS = {
    "AuditResult": panels.AuditPanel, "BiasResult": panels.BiasPanel,
    "SliceResult": panels.SlicesPanel, "ValidationResult": panels.ValidationPanel,
    "DriftResult": panels.DriftPanel, "Explanation": panels.ExplanationPanel,
    "ModelCard": panels.ModelCardPanel,
}

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Where a bundle carries its panel's widget view. Under the standard type, nbconvert (with saved
#: widget state), VS Code and any frontend without rai_nb's extension would draw the widget —
#: dead once the kernel stops — instead of the static report; rai_nb's JupyterLab renderer reads
#: it here and hands it to the widget renderer while the kernel lives.
PANEL_MIME = "application/vnd.rai-nb.widget-view+json"


def panel_for(result):
    """The ipywidgets panel viewing ``result``.

    Parameters
    ----------
    result : rai_nb result or shap.Explanation
        Any result of the API; results without a panel of their own (e.g. the flip test) get
        their static report in an HTML widget.

    Returns
    -------
    ipywidgets.Widget

    Raises
    ------
    RaiError
        When ``result`` is not something rai_nb can show.
    """
    panel = PANELS.get(type(result).__name__)
    if panel is not None:
        return panel(result)
    if isinstance(result, Result):
        return panels.ReportPanel(result)
    raise RaiError(f"no panel shows a {type(result).__name__}; pass a rai_nb result or a "
                   "shap.Explanation")


def bundle(result) -> dict:
    """One mime bundle: the panel's widget view (under :data:`PANEL_MIME`) and the result's own
    static renderings.

    A shap.Explanation has no renderings of its own: its panel's ``report`` (an
    :class:`rai_nb.results.ExplanationResult`) gives them.
    """
    panel = panel_for(result)
    return panel_bundle(panel, getattr(panel, "report", result))


def panel_bundle(panel, report=None) -> dict:
    """``panel``'s widget view (under :data:`PANEL_MIME`) with the static renderings of
    ``report`` (default: ``panel.report``), as :func:`bundle` shows a result."""
    data = dict((panel.report if report is None else report)._repr_mimebundle_())
    data[PANEL_MIME] = panel._repr_mimebundle_()[WIDGET_MIME]
    return data


def show(result) -> None:
    """Display ``result`` in the notebook as one output (see :func:`bundle`).

    When a progress bar of this cell has finished (the audit's own), the result takes that
    bar's emptied output, so the cell holds the result alone.
    """
    from .._progress import display_output

    display_output(bundle(result))


__all__ = ["PANELS", "PANEL_MIME", "bundle", "panel_bundle", "panel_for", "show"]
