"""Matplotlib figures drawn from results only (never from raw data), as SVG or PNG.

Figures are built with :class:`matplotlib.figure.Figure`, outside pyplot's global state, so
drawing one in a kernel neither shows it twice nor leaks it; only shap's own plots, which draw
on pyplot's current figure, go through :func:`shap_figure`.

Panels show figures as inline SVG (:func:`svg`): transparent, with text, axes and ticks in
``currentColor``, so they take the theme's text colour in JupyterLab's light, dark and
high-contrast themes alike. A fixed text colour cannot do that: no grey reaches 4.5:1 against
both white and JupyterLab Dark's #111 (the best manages 4.35:1). Files that leave the notebook
(the model card's PNGs, the saved beeswarm) use :func:`png`: dark text on an opaque white card,
readable on any page.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ..results._bias import row_label

_BAR, _REFERENCE = "#4c78a8", "#e45756"
#: Placeholder colour of text and axes, replaced by ``currentColor`` in :func:`svg`.
_INK = "#010203"
#: Collections with more points than this are embedded as an image in the SVG (a beeswarm
#: of thousands of dots stays small); axes and text stay vector.
_RASTER_POINTS = 200


def _figure(rows: int, labels=()):
    """A figure tall enough for ``rows`` bars and wide enough for their longest label."""
    from matplotlib.figure import Figure

    longest = max(map(len, labels), default=0)
    width = 6.4 + min(0.07 * max(longest - 20, 0), 6.0)
    return Figure(figsize=(width, 0.6 + 0.3 * max(rows, 1)), layout="constrained")


def _text(labels) -> list[str]:
    """Labels as literal text: a ``$`` would otherwise start matplotlib's mathtext."""
    return [str(label).replace("$", r"\$") for label in labels]


def group_columns(bias) -> list[str]:
    """The ``by_group`` columns the static report shows (label-only ones without predictions)."""
    return list(_groups_section(bias).table.columns)


def chart_metrics(bias) -> tuple[list[str], str | None]:
    """The per-group metrics a chart can show, and the one the report charts (None: none)."""
    section = _groups_section(bias)
    metrics = [c for c in section.table.columns if c != "count"]
    first = section.bars.name if section.bars.name in metrics else next(iter(metrics), None)
    return metrics, first


def _groups_section(bias):
    return next(s for s in bias.sections() if s.title == "Metrics by group")


def metric_figure(bias, metric: str):
    """Horizontal bars of one per-group metric, with bootstrap error bars when present."""
    values = bias.by_group[metric].to_numpy(dtype=np.float64)
    labels = [row_label(g) for g in bias.by_group.index]
    figure = _figure(len(values), labels)
    axes = figure.add_subplot()
    errors = _errors(bias, metric, values)
    bars = axes.barh(_text(labels), values, xerr=errors, color=_BAR, ecolor=_INK, capsize=3)
    for cap in bars.errorbar.lines[1] if bars.errorbar is not None else ():
        cap.set(color=_INK, markerfacecolor=_INK, markeredgecolor=_INK)
    axes.axvline(float(bias.overall[metric]), color=_REFERENCE, linestyle="--", label="all rows")
    axes.set_xlabel(_text([metric.replace("_", " ")])[0])
    axes.invert_yaxis()
    _legend(figure)
    return figure


def _legend(figure) -> None:
    """The legend above the plot, outside the axes, so it never covers a bar."""
    figure.legend(loc="outside upper right", fontsize=8, frameon=False)


def _errors(bias, metric: str, values: np.ndarray):
    """Distances from each estimate to its interval's ends (2 × groups), or None."""
    found = bias.bounds("by_group", bias.by_group)
    if found is None or found[0][metric].isna().all():
        return None
    lower, upper = (side[metric].to_numpy(dtype=np.float64) for side in found)
    return np.nan_to_num(np.vstack([values - lower, upper - values])).clip(min=0)


def importance_figure(importance: pd.Series, top: int = 15):
    """Horizontal bars of mean |SHAP| per feature, largest on top."""
    shown = importance.head(top)
    labels = _text(shown.index)
    figure = _figure(len(shown), labels)
    axes = figure.add_subplot()
    axes.barh(labels, shown.to_numpy(dtype=np.float64), color=_BAR)
    axes.set_xlabel("mean |SHAP value|")
    axes.invert_yaxis()
    return figure


def slices_figure(result):
    """Mean loss of each top slice against the average loss; significant slices in orange."""
    top = result.top
    labels = _text(f"{i + 1}. {s}" for i, s in enumerate(top["slice"]))
    figure = _figure(len(top), labels)
    axes = figure.add_subplot()
    colours = np.where(top["significant"].to_numpy(dtype=bool), "#f58518", "#bab0ac")
    axes.barh(labels, top["mean_loss"].to_numpy(dtype=np.float64), color=colours)
    axes.axvline(result.average_loss, color=_BAR, linestyle="--", label="all rows")
    axes.set_xlabel(_text([f"mean {result.loss} (orange: significant)"])[0])
    axes.invert_yaxis()
    _legend(figure)
    return figure


def binary_dependence_figure(explanation, feature: int):
    """SHAP values of a two-valued feature as a box and jittered strip per value.

    shap's scatter draws such a feature as two solid columns over a grey histogram; a box per
    value shows the spread and the difference between the two.
    """
    data = np.asarray(explanation.data[:, feature], dtype=np.float64)
    values = np.asarray(explanation.values[:, feature], dtype=np.float64)
    levels = np.unique(data[np.isfinite(data)])
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    axes = figure.add_subplot()
    groups = [values[data == level] for level in levels]
    axes.boxplot(groups, positions=np.arange(len(levels)), widths=0.5, showfliers=False,
                 medianprops={"color": _REFERENCE}, boxprops={"color": _INK},
                 whiskerprops={"color": _INK}, capprops={"color": _INK})
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(values))
    position = np.searchsorted(levels, data).astype(np.float64) + jitter
    shown = np.isfinite(data)
    axes.scatter(position[shown], values[shown], s=6, color=_BAR, alpha=0.5, linewidths=0)
    axes.set_xticks(np.arange(len(levels)), _text(format_level(v) for v in levels))
    name = str(explanation.feature_names[feature])
    axes.set_xlabel(_text([name])[0])
    axes.set_ylabel(_text([f"SHAP value for {name}"])[0])
    axes.axhline(0.0, color="#888888", linewidth=0.8)
    return figure


def format_level(value: float) -> str:
    """A feature value as a tick label (0 and 1, not 0.0 and 1.0)."""
    return f"{value:g}"


def is_binary(explanation, feature: int) -> bool:
    """Whether the feature takes at most two distinct values in the explained rows."""
    data = np.asarray(explanation.data[:, feature], dtype=np.float64)
    return len(np.unique(data[np.isfinite(data)])) <= 2


def shap_figure(plot, *args, **kwargs):
    """A shap plot drawn into a fresh pyplot figure, then detached from pyplot's state."""
    import matplotlib.pyplot as plt

    created = plt.figure()
    try:
        plot(*args, show=False, **kwargs)
        figure = plt.gcf()  # the plot may have opened a figure of its own
    finally:
        plt.close(created)
    plt.close(figure)
    return figure


def svg(figure) -> str:
    """The figure as an inline ``<svg>`` element for HTML: transparent, its text, axes and
    ticks in ``currentColor`` (the page's text colour), dense point clouds as an embedded image.

    Text stays text (escaped by matplotlib), so a browser can measure it.
    """
    import matplotlib

    _ink(figure)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", dpi=110, bbox_inches="tight", transparent=True,
                       metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):].replace(_INK, "currentColor")


def _ink(figure) -> None:
    """Text, spines, ticks and black lines to the placeholder ink; large collections rasterised."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    black = {(0.0, 0.0, 0.0, 1.0), (0.2, 0.2, 0.2, 1.0)}  # matplotlib's and shap's text colours
    for artist in figure.findobj(Text):
        artist.set_color(_INK)
    for axes in figure.axes:
        axes.tick_params(colors=_INK, which="both")
        for spine in axes.spines.values():
            spine.set_edgecolor(_INK)
    for line in figure.findobj(Line2D):
        if _rgba(line.get_color()) in black:
            line.set_color(_INK)
    for collection in figure.findobj(Collection):
        if len(collection.get_offsets()) > _RASTER_POINTS:
            collection.set_rasterized(True)


def _rgba(colour) -> tuple:
    from matplotlib.colors import to_rgba

    return tuple(round(c, 2) for c in to_rgba(colour))


def png(figure) -> bytes:
    """The figure as PNG bytes (opaque white background: for files and saved reports)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()
