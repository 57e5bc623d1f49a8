"""Matplotlib figures drawn from results only (never from raw data), and their PNG bytes.

Figures are built with :class:`matplotlib.figure.Figure`, outside pyplot's global state, so
drawing one in a kernel neither shows it twice nor leaks it; only shap's own plots, which draw
on pyplot's current figure, go through :func:`shap_figure`.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ._intervals import bounds, row_labels

_BAR, _REFERENCE = "#4c78a8", "#e45756"


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
    labels = row_labels(bias.by_group.index)
    figure = _figure(len(values), labels)
    axes = figure.add_subplot()
    errors = _errors(bias, metric, labels, values)
    axes.barh(_text(labels), values, xerr=errors, color=_BAR, capsize=3)
    axes.axvline(float(bias.overall[metric]), color=_REFERENCE, linestyle="--", label="all rows")
    axes.set_xlabel(_text([metric.replace("_", " ")])[0])
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=8)
    return figure


def _errors(bias, metric: str, labels: list[str], values: np.ndarray):
    """Distances from each estimate to its interval's ends (2 × groups), or None."""
    found = bounds(bias.intervals, "by_group", labels)
    if found is None or metric not in found[0].columns:
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
    axes.legend(loc="lower right", fontsize=8)
    return figure


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


def png(figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()
