"""Result objects: plain data that every view (widgets, HTML, markdown, JSON) renders.

A result stores aggregates, never raw rows, so notebooks that display one stay small.
"""

from __future__ import annotations

from typing import ClassVar

from .. import render
from ..render import Section


class Result:
    """Base of every result: renders its sections in each output format.

    Subclasses set ``kind`` and implement ``title``, ``summary`` and ``sections``.
    """

    kind: ClassVar[str] = "result"

    @property
    def title(self) -> str:
        raise NotImplementedError

    def summary(self) -> dict:
        """Headline numbers, JSON-safe after :func:`rai_nb.render.json_value`."""
        raise NotImplementedError

    def sections(self) -> list[Section]:
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The report as JSON-safe data (schema in docs/report-schema.md)."""
        return render.report_dict(self.kind, self.title, self.summary(), self.sections())

    def to_json(self) -> str:
        """The report as a JSON string."""
        return render.report_json(self.to_dict())

    def to_html(self) -> str:
        """Static, self-contained, escaped HTML (no scripts)."""
        return render.to_html(self.title, self.sections())

    def to_markdown(self) -> str:
        """The report as GitHub-flavoured markdown."""
        return render.to_markdown(self.title, self.sections())

    def __str__(self) -> str:
        return render.to_text(self.title, self.sections())

    def _ipython_display_(self) -> None:
        """Shown as a cell's value: in the output the audit's finished progress bar emptied,
        so the cell holds one output, not an empty one above the report."""
        from .._progress import display_output

        display_output(self._repr_mimebundle_())

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {
            "text/plain": str(self),
            "text/html": self.to_html(),
            "text/markdown": self.to_markdown(),
            render.REPORT_MIME: self.to_dict(),
        }
