"""Matplotlib figures drawn from results only (never from raw data), and their PNG bytes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def _figure(height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, height), layout="constrained")


def _labels(index: pd.Index) -> list[str]:
    return [" · ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in index]


def metric_figure(bias, metric: str):
    """Horizontal bars of one per-group metric, with bootstrap error bars when present."""
    values = bias.by_group[metric]
    labels = _labels(values.index)
    figure = _figure(0.5 + 0.3 * len(values))
    axes = figure.add_subplot()
    errors = None
    if bias.intervals is not None and metric in bias.intervals.index.get_level_values("metric"):
        block = bias.intervals.xs(("by_group", metric), level=("table", "metric")).reindex(labels)
        errors = np.vstack([values.to_numpy() - block["lower"].to_numpy(),
                            block["upper"].to_numpy() - values.to_numpy()]).clip(min=0)
    axes.barh(labels, values.to_numpy(), xerr=errors, color="#4c78a8", capsize=3)
    axes.axvline(float(bias.overall[metric]), color="#e45756", linestyle="--", label="all rows")
    axes.set_xlabel(metric.replace("_", " "))
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=8)
    return figure


def importance_figure(importance: pd.Series, top: int = 15):
    """Horizontal bars of mean |SHAP| per feature, largest on top."""
    shown = importance.head(top)
    figure = _figure(0.5 + 0.3 * len(shown))
    axes = figure.add_subplot()
    axes.barh([str(i) for i in shown.index], shown.to_numpy(), color="#4c78a8")
    axes.set_xlabel("mean |SHAP value|")
    axes.invert_yaxis()
    return figure


def slices_figure(result):
    """Mean loss of each top slice against the average loss."""
    top = result.top
    figure = _figure(0.5 + 0.3 * max(len(top), 1))
    axes = figure.add_subplot()
    axes.barh([str(s) for s in top["slice"]], top["mean_loss"].to_numpy(), color="#f58518")
    axes.axvline(result.average_loss, color="#4c78a8", linestyle="--", label="all rows")
    axes.set_xlabel(f"mean {result.loss}")
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=8)
    return figure


def shap_figure(plot, *args, **kwargs):
    """A shap plot drawn into a fresh pyplot figure and detached from pyplot's state."""
    import matplotlib.pyplot as plt

    plt.figure()
    plot(*args, show=False, **kwargs)
    figure = plt.gcf()
    plt.close(figure)
    return figure


def png(figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()
