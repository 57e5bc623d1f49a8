"""Views of results: ipywidgets panels for a live kernel, with static fallbacks.

``show(result)`` displays one output whose bundle carries both the widget view and the
result's own static renderings (HTML, markdown, report JSON), so a notebook saved and opened
without a widget frontend still shows the report.
"""

from __future__ import annotations

from . import panels

#: Result type name → panel class (looked up by name: no isinstance on optional types).
PANELS = {
    "AuditResult": panels.AuditPanel, "BiasResult": panels.BiasPanel,
    "SliceResult": panels.SlicesPanel, "ValidationResult": panels.ValidationPanel,
    "Explanation": panels.ExplanationPanel, "ModelCard": panels.ModelCardPanel,
}


def panel_for(result):
    """The panel viewing ``result``, or None for result types without one."""
    panel = PANELS.get(type(result).__name__)
    return None if panel is None else panel(result)


def show(result) -> None:
    """Display ``result``: its widget panel merged with its static renderings."""
    from IPython.display import display

    bundle = dict(result._repr_mimebundle_()) if hasattr(result, "_repr_mimebundle_") else {
        "text/plain": repr(result)}
    panel = panel_for(result)
    if panel is not None:
        view = panel._repr_mimebundle_()
        bundle.update({k: v for k, v in view.items() if k != "text/plain"})
    display(bundle, raw=True)
