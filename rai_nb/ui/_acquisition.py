"""The learning curves of an acquisition plan: observed points with error bars and the fitted
power law per slice, on log-log axes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import plots

#: matplotlib's tab10: ten slices, ten distinct colours (they repeat after).
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")


def curves_figure(table: pd.DataFrame, points: pd.DataFrame, loss: str):
    """Each slice's observed mean loss (± one standard deviation over repeats) against its
    training rows, its fitted curve ``b·n^(−a)`` out to the rows after the plan, and the
    predicted loss after the plan as a hollow marker."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for i, row in enumerate(table.itertuples(index=False)):
        colour = _COLOURS[i % len(_COLOURS)]
        mine = points[points["slice"] == row.slice]
        axes.errorbar(mine["rows"], mine["loss"], yerr=mine["loss_sd"], fmt="o", color=colour,
                      markersize=4, capsize=2, label=plots._text([row.slice])[0])
        end = row.rows + row.acquire
        grid = np.geomspace(mine["rows"].min(), max(end, row.rows), 50)
        axes.plot(grid, row.b * grid ** -row.a, color=colour, linewidth=1.2)
        if row.acquire > 0:
            axes.plot([end], [row.predicted_loss], marker="o", markerfacecolor="none",
                      color=colour, markersize=7)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("training rows of the slice")
    axes.set_ylabel(plots._text([f"validation {loss.replace('_', ' ')}"])[0])
    plots._legend(figure)
    return figure
