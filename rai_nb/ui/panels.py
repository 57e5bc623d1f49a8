"""ipywidgets panels, one per result type. A panel only views its result: it never recomputes."""

from __future__ import annotations

import ipywidgets as widgets

from ._audit import AuditPanel
from ._bias import BiasPanel
from ._explanation import ExplanationPanel
from ._modelcard import ModelCardPanel
from ._slices import SlicesPanel
from ._validation import DriftPanel, ValidationPanel


class ReportPanel(widgets.VBox):
    """Any other result: its static report (already escaped) in an HTML widget."""

    def __init__(self, result):
        self.result = result
        super().__init__([widgets.HTML(result.to_html())])


__all__ = ["AuditPanel", "BiasPanel", "DriftPanel", "ExplanationPanel", "ModelCardPanel",
           "ReportPanel", "SlicesPanel", "ValidationPanel"]
