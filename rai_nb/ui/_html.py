"""Escaped HTML tables for the panels, with per-cell styles and hover titles.

The static reports (:mod:`rai_nb.render`) mark cells with one class; a live panel also colours
best and worst cells, rows by severity and carries a definition or interval on hover, so it
builds its tables here. Every piece of text goes through :func:`html.escape`.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..render import format_value, plain_index
from .plots import svg

#: Background of a row per severity (traffic light): translucent tints over the theme's own
#: background, so the theme's text colour reads on them in light and dark themes alike.
SEVERITY_COLOURS = {"fail": "rgba(220,53,69,.28)", "warn": "rgba(255,193,7,.32)",
                    "pass": "rgba(40,167,69,.22)"}
#: Solid badge fills with white text: at least 5.3:1 (WCAG AA) whatever the theme.
BADGE_COLOURS = {"fail": "#b02a37", "warn": "#8a5300", "pass": "#1e7b34"}
#: Cell styles of the best, worst, highest and lowest value of a column (tints, as above).
BEST, WORST = "background:rgba(40,167,69,.25)", "background:rgba(220,53,69,.28)"
HIGHEST, LOWEST = "background:rgba(253,126,20,.28)", "background:rgba(13,110,253,.22)"

# JupyterLab's theme variables, with fallbacks that read on a light or dark page elsewhere.
_CSS = (
    ".rai-ui{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;"
    "line-height:1.4;color:var(--jp-content-font-color1,inherit);max-width:100%}"
    # width 0 + min-width 100%: a wide table scrolls here instead of widening the panel.
    ".rai-ui .rai-scroll{width:0;min-width:100%;overflow-x:auto}"
    ".rai-ui table{border-collapse:collapse;margin:.2em 0 .6em}"
    ".rai-ui th,.rai-ui td{border:1px solid var(--jp-border-color2,rgba(128,128,128,.45));"
    "padding:2px 6px;text-align:right;white-space:nowrap}"
    ".rai-ui th{background:var(--jp-layout-color2,rgba(128,128,128,.14));"
    "color:var(--jp-content-font-color1,inherit)}.rai-ui .rai-label{text-align:left}"
    ".rai-ui td.rai-text{text-align:left;white-space:normal}.rai-ui p{margin:.3em 0}"
    ".rai-ui .rai-badge{color:#fff;padding:1px 8px;border-radius:8px;font-weight:600}"
    ".rai-ui svg{max-width:100%;height:auto}"
    # ipywidgets draws closed accordion and tab titles in --jp-ui-font-color2: 4.2-4.4:1.
    ".rai-accordion .jupyter-widget-Collapse-header,.rai-tabs .lm-TabBar-tab"
    "{color:var(--jp-ui-font-color1)}"
)
#: CSS classes of the panels' accordions and tabs (their titles get readable colours above).
ACCORDION, TABS = "rai-accordion", "rai-tabs"


def esc(value) -> str:
    """``value`` formatted as the reports do, then escaped (quotes included)."""
    return html.escape(format_value(value), quote=True)


def wrap(*parts: str) -> str:
    """HTML fragments in one styled block (the value of one ``ipywidgets.HTML``)."""
    return f'<div class="rai-ui"><style>{_CSS}</style>{"".join(parts)}</div>'


def badge(severity: str, text: str) -> str:
    """``text`` (escaped) on the solid badge colour of ``severity``."""
    return (f'<span class="rai-badge" style="background:{BADGE_COLOURS[severity]}">'
            f"{html.escape(text)}</span>")


def figure(figure) -> str:
    """A matplotlib figure as theme-coloured inline SVG (:func:`rai_nb.ui.plots.svg`)."""
    return wrap(f'<div class="rai-figure">{svg(figure)}</div>')


def paragraph(text: str, *, bold: str = "") -> str:
    """An escaped paragraph, optionally led by an escaped bold label."""
    lead = f"<b>{html.escape(bold)}</b> " if bold else ""
    return f"<p>{lead}{html.escape(text)}</p>"


def table(frame: pd.DataFrame, *, notes: dict | None = None, styles: dict | None = None,
          titles: dict | None = None, row_styles: list | None = None) -> str:
    """``frame`` as an escaped HTML table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Values to show (numbers are formatted as in the reports, strings shown as given).
    notes : dict, optional
        Column name → definition, shown when hovering the column header.
    styles, titles : dict, optional
        ``(row position, column name)`` → inline CSS, or → text shown on hover of that cell.
    row_styles : list of str, optional
        Inline CSS per row (e.g. a severity colour).
    """
    notes, styles, titles = notes or {}, styles or {}, titles or {}
    plain = plain_index(frame)
    names = [] if plain else ["" if n is None else format_value(n) for n in frame.index.names]
    head = "".join(f'<th class="rai-label">{html.escape(n)}</th>' for n in names)
    head += "".join(f"<th{_title(notes.get(str(c)))}>{esc(c)}</th>" for c in frame.columns)
    body = [_row(frame, position, key, values, plain, styles, titles,
                 row_styles[position] if row_styles else "")
            for position, (key, values) in enumerate(zip(
                frame.index, frame.itertuples(index=False, name=None)))]
    return (f'<div class="rai-scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _row(frame, position, key, values, plain, styles, titles, row_style) -> str:
    labels = () if plain else key if isinstance(key, tuple) else (key,)
    cells = "".join(f'<td class="rai-label">{esc(v)}</td>' for v in labels)
    for column, value in zip(frame.columns, values):
        style = styles.get((position, column), "")
        attributes = ' class="rai-text"' if isinstance(value, str) else ""
        attributes += f' style="{html.escape(style, quote=True)}"' if style else ""
        attributes += _title(titles.get((position, column)))
        cells += f"<td{attributes}>{esc(value)}</td>"
    style = f' style="{html.escape(row_style, quote=True)}"' if row_style else ""
    return f"<tr{style}>{cells}</tr>"


def _title(text) -> str:
    return f' title="{html.escape(text, quote=True)}"' if text else ""


def extreme_styles(frame: pd.DataFrame, directions: dict, *, rows=None) -> tuple[dict, dict]:
    """Styles and hover titles marking each numeric column's extreme rows, among the ``rows``
    (a boolean mask; all rows when None).

    ``directions`` maps a column to ``"higher"`` (higher is better), ``"lower"`` or ``None``
    (neither: highest and lowest are only told apart, and only among three values or more:
    of two, one is always the highest). Columns absent from it are left alone.
    """
    styles, titles = {}, {}
    for column, direction in directions.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        if rows is not None:
            values = values.where(rows)
        if values.notna().sum() < (2 if direction else 3) or values.max() == values.min():
            continue
        numbers = values.to_numpy(dtype=np.float64)
        high, low = int(np.nanargmax(numbers)), int(np.nanargmin(numbers))
        names = {"higher": ("best", BEST, "worst", WORST), "lower": ("worst", WORST, "best", BEST),
                 None: ("highest", HIGHEST, "lowest", LOWEST)}[direction]
        for position, (label, style) in ((high, names[:2]), (low, names[2:])):
            styles[(position, column)] = style
            titles[(position, column)] = f"{label} {column}"
    return styles, titles
