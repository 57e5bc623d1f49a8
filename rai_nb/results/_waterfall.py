"""The waterfall of one row's SHAP values (:class:`rai_nb.results.RowExplanation`) as SVG.

Drawn as shap draws it: each feature a step from the running total, the largest contribution
on top, from the base value (dotted, labelled below) to f(x) (dashed, labelled above); red steps
raise the output, blue lower it. Written as SVG text rather than through matplotlib: the
what-if editor redraws it on every edit, and a matplotlib figure costs ~0.3 s to lay out and
save where this costs well under a millisecond. Text is escaped and in ``currentColor``, so it
reads in light, dark and high-contrast themes, and stays text a browser can measure.
"""

from __future__ import annotations

import html

import numpy as np

from ..render import label_width, short_label

#: Steps that raise / lower the output (shap's red and blue, darkened to read on white and dark).
UP, DOWN = "#e0314b", "#1f77d0"
_PLOT, _ROW, _BAR, _PAD = 320, 20, 14, 56  # plot width, row pitch, bar height, side room (px)


def waterfall_svg(row) -> str:
    """The waterfall of ``row`` (a RowExplanation) as an inline ``<svg>`` element."""
    steps = row.waterfall()
    labels = [f"{name} = {value}" if value != "" else str(name)
              for name, value in zip(steps.index, steps["value"])]
    ends = steps["f(x) after"].to_numpy(dtype=np.float64)
    values = steps["SHAP"].to_numpy(dtype=np.float64)
    left = label_width(labels) + _PAD
    scale = _scale(np.r_[row.base, ends, ends - values], left)
    height = (len(steps) + 2) * _ROW
    rows = [_step(i, label, end - value, end, value, left, scale)
            for i, (label, end, value) in enumerate(zip(labels, ends, values))]
    top, bottom = _ROW, (len(steps) + 1) * _ROW
    output = f" of {row.output}" if row.output else ""
    middle = left + _PLOT / 2
    marks = (_mark(scale(row.margin), top - 2, bottom, "4 3", f"f(x) = {row.margin:.4g}",
                   top - 6, middle)
             + _mark(scale(row.base), top, bottom + 2, "1 3", f"base{output} = {row.base:.4g}",
                     bottom + 14, middle))
    width = left + _PLOT + _PAD
    title = html.escape(f"SHAP waterfall of row {row.label}", quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-size="11" role="img" aria-label="{title}">'
            f'{marks}{"".join(rows)}</svg>')


def _scale(points: np.ndarray, left: int):
    """x pixel of an output value: the span of every step end (and the base) over the plot."""
    low, high = float(points.min()), float(points.max())
    span = (high - low) or 1.0
    return lambda value: left + _PLOT * (value - low) / span


def _step(i: int, label: str, start: float, end: float, value: float, left: int, x) -> str:
    """One feature's bar from the running total before it to the one after, its label on the
    left and its signed value beside the end it reaches."""
    y = (i + 1) * _ROW + (_ROW - _BAR) / 2
    x0, x1 = sorted((x(start), x(end)))
    up = value >= 0
    text_x, anchor = (x1 + 4, "start") if up else (x0 - 4, "end")
    baseline = y + _BAR - 3
    return (f'<text x="{left - _PAD - 6}" y="{baseline}" text-anchor="end" fill="currentColor">'
            f"<title>{html.escape(label)}</title>{html.escape(short_label(label))}</text>"
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{_BAR}" '
            f'fill="{UP if up else DOWN}"><title>{html.escape(f"{value:+.6g}")}</title></rect>'
            f'<text x="{text_x:.1f}" y="{baseline}" text-anchor="{anchor}" fill="currentColor">'
            f"{value:+.3g}</text>")


def _mark(x: float, y0: float, y1: float, dashes: str, text: str, text_y: float,
          middle: float) -> str:
    """A vertical reference line with its label, which runs inwards from the line (so it never
    leaves the figure)."""
    return (f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y1}" stroke="currentColor" '
            f'stroke-dasharray="{dashes}" opacity="0.7"/>'
            f'<text x="{x:.1f}" y="{text_y}" text-anchor="{"start" if x < middle else "end"}" '
            'fill="currentColor">'
            f"{html.escape(text)}</text>")
