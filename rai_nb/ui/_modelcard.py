"""The panel of a :class:`rai_nb.modelcard.ModelCard`: edit the narrative, preview, save."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from ..errors import RaiError
from ..modelcard import NARRATIVE_FIELDS
from . import _html

#: Short fields edited on one line; the narrative fields get a text area each.
SHORT_FIELDS = ("name", "version", "owners", "license")


class ModelCardPanel(widgets.HBox):
    """Editable narrative fields beside a live preview, and "Save as" .md / .html.

    Each edit makes a new card with :meth:`ModelCard.with_fields` (the card passed in is left
    as it is); :attr:`card` is the edited card.

    Parameters
    ----------
    card : rai_nb.modelcard.ModelCard
        The card viewed.
    """

    def __init__(self, card):
        self.card = card
        # min_width 0 lets the flex items shrink to the panel; the preview scrolls, not clips.
        self.preview = widgets.HTML(card.to_html(), layout=widgets.Layout(
            width="60%", min_width="0", overflow="auto"))
        names = [*SHORT_FIELDS, *NARRATIVE_FIELDS,
                 *(k for k in card.fields
                    if isinstance(k, str) and k not in SHORT_FIELDS + NARRATIVE_FIELDS)]
        self.inputs = {name: self._input(name) for name in names}
        self.path = widgets.Text(value="MODEL_CARD.md", description="file")
        self.status = widgets.HTML()
        self.buttons = (widgets.Button(description="Save as .md", icon="save"),
                        widgets.Button(description="Save as .html", icon="save"))
        for button, suffix in zip(self.buttons, (".md", ".html")):
            button.on_click(lambda _, suffix=suffix: self.save(suffix))
        editor = widgets.VBox([*self.inputs.values(), self.path, widgets.HBox(self.buttons),
                               self.status], layout=widgets.Layout(width="40%", min_width="0"))
        super().__init__([editor, self.preview])

    def _input(self, name: str) -> widgets.Widget:
        kind = widgets.Text if name in SHORT_FIELDS else widgets.Textarea
        box = kind(value=_as_text(self.card.fields.get(name, "")), continuous_update=False,
                   description=str(name).replace("_", " "), layout=widgets.Layout(width="98%"),
                   style={"description_width": "9em"})
        box.observe(lambda change: self._edit(name, change["new"]), names="value")
        return box

    def _edit(self, name: str, value: str):
        self.card = self.card.with_fields(**{name: value})
        self.preview.value = self.card.to_html()

    def save(self, suffix: str) -> Path | None:
        """Write the edited card to the file name given, with ``suffix`` (.md or .html)."""
        try:
            path = self.card.save(Path(self.path.value).with_suffix(suffix))
        except (RaiError, OSError, ValueError) as error:
            self.status.value = _html.wrap(_html.badge("fail", str(error)))
            return None
        self.status.value = _html.wrap(_html.paragraph(f"Saved {path}"))
        return path


def _as_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
