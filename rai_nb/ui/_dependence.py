"""Figures of a :class:`~rai_nb.results.DependenceResult`: PDP lines per group over thin ICE
lines and the grid's rug; a two-way PDP as one heatmap per curve. Drawn from the result only."""

from __future__ import annotations

import numpy as np

from . import plots

#: Group colours (the all-rows curve is in the theme's text colour).
PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6",
           "#9d755d", "#eeca3b", "#bab0ac")
#: Heatmaps beyond this many curves (all rows first) are left out of a two-way figure.
MAX_SURFACES = 9
_PANEL = (5.2, 3.6)


def dependence_figure(result):
    """The result's figure: curves for one feature, heatmaps for a pair."""
    return _surfaces(result) if len(result.features) == 2 else _curves(result)


def dependence_chart(result) -> str:
    """The figure as theme-aware inline SVG (see :func:`rai_nb.ui.plots.svg`)."""
    return plots.svg(dependence_figure(result))


def _grid_figure(rows: int, columns: int, legend: float = 0.0):
    """A figure of rows x columns panels, ``legend`` inches wider for a legend at the right."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_PANEL[0] * columns + legend, _PANEL[1] * rows), layout="constrained")
    return figure, figure.subplots(rows, columns, squeeze=False)


def _positions(axis: np.ndarray) -> tuple[np.ndarray, bool]:
    """x positions of grid values: the values when numeric, else 0..n-1 (then True)."""
    if axis.dtype.kind in "iuf":
        return axis.astype(np.float64), False
    return np.arange(len(axis), dtype=np.float64), True


def _curves(result):
    n_outputs = len(result.outputs)
    columns = min(n_outputs, 3)
    longest = max(map(len, result.labels), default=0)
    figure, grid = _grid_figure(-(-n_outputs // columns), columns, 1.2 + 0.07 * min(longest, 60))
    x, categorical = _positions(result.grid[0])
    for o, axes in enumerate(grid.flat):
        if o >= n_outputs:
            axes.set_visible(False)
            continue
        _draw_ice(axes, result, o, x)
        handles = _draw_pdp(axes, result, o, x, categorical)
        _rug_and_labels(axes, result, o, x, categorical)
    figure.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    return figure


def _draw_ice(axes, result, o: int, x: np.ndarray) -> None:
    """ICE curves as one collection of thin lines, coloured by group."""
    if result.plot == "average" or not len(result.ice):
        return
    from matplotlib.collections import LineCollection

    lines = np.stack([np.broadcast_to(x, result.ice[:, o].shape), result.ice[:, o]], axis=-1)
    colours = (np.asarray(PALETTE)[result.ice_groups % len(PALETTE)] if result.groups
               else "#9d9d9d")
    axes.add_collection(LineCollection(lines, colors=colours, linewidths=0.5, alpha=0.35))
    axes.autoscale_view()


def _draw_pdp(axes, result, o: int, x: np.ndarray, categorical: bool) -> list:
    """The all-rows PDP (theme ink, thick) and one line per group (dashed when small); the
    legend's handles. ICE-only figures draw no PDP but keep the group colours' legend."""
    from matplotlib.lines import Line2D

    marker = "o" if categorical else None
    styles = [(plots._INK, "-", 2.4, f"{result.labels[0]} ({result.n_rows:,})")]
    for g, label in enumerate(result.labels[1:]):
        small = result.group_rows[g] < result.min_group_size
        styles.append((PALETTE[g % len(PALETTE)], "--" if small else "-", 1.5,
                       f"{label} ({result.group_rows[g]:,}{', small' if small else ''})"))
    curves = np.concatenate([result.average[None, o], result.group_average[:, o]])
    handles = []
    for curve, (colour, style, width, label) in zip(curves, styles):
        handle = Line2D([], [], color=colour, linestyle=style, linewidth=width, marker=marker,
                        markersize=4, label=plots._text([label])[0])
        if result.plot != "individual":
            axes.plot(x, curve, color=colour, linestyle=style, linewidth=width, marker=marker,
                      markersize=4)
        handles.append(handle)
    _draw_bands(axes, result, o, x, [colour for colour, *_ in styles])
    return handles if result.plot != "individual" else handles[1:]


def _draw_bands(axes, result, o: int, x: np.ndarray, colours: list) -> None:
    """Each curve's bootstrap band, translucent in its colour."""
    if result.lower is None or result.plot == "individual":
        return
    for low, high, colour in zip(result.lower[:, o], result.upper[:, o], colours):
        axes.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)


def _rug_and_labels(axes, result, o: int, x: np.ndarray, categorical: bool) -> None:
    """The grid points ticked along the x axis; axis labels; category names as ticks."""
    axes.plot(x, np.zeros_like(x), "|", transform=axes.get_xaxis_transform(), color=plots._INK,
              markersize=7, clip_on=False)
    if categorical:
        labels = plots._text(result.grid[0])
        turn = {"rotation": 40, "ha": "right"} if len(labels) * max(map(len, labels)) > 60 else {}
        axes.set_xticks(x, labels, **turn)
    name = result.features[0]
    prefix = "centred " if result.centered else ""
    axes.set_xlabel(plots._text([name])[0])
    axes.set_ylabel(plots._text([f"{prefix}{_output_label(result, o)}"])[0])


def _output_label(result, o: int) -> str:
    if result.response == "predict":
        return "prediction"
    return f"{result.response} of {result.outputs[o]}"


def _tick(value) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def _surfaces(result):
    """One heatmap per curve (all rows, then each group) and output, one colour scale per
    output."""
    curves = result.labels[:MAX_SURFACES]
    figure, grid = _grid_figure(len(result.outputs), len(curves))
    for o, row in enumerate(grid):
        values = np.concatenate([result.average[None, o], result.group_average[:, o]])
        low, high = np.nanmin(values), np.nanmax(values)
        for c, axes in enumerate(row):
            image = axes.imshow(values[c].T, origin="lower", aspect="auto", vmin=low, vmax=high,
                                cmap="viridis", interpolation="nearest")
            _surface_axes(axes, result, curves[c], c)
        figure.colorbar(image, ax=list(row), label=plots._text([_output_label(result, o)])[0])
    return figure


def _surface_axes(axes, result, label: str, c: int) -> None:
    """Ticks at a few grid values of each feature; the curve's name (small groups marked)."""
    for axis, values, name in ((axes.xaxis, result.grid[0], result.features[0]),
                               (axes.yaxis, result.grid[1], result.features[1])):
        shown = len(values) if values.dtype.kind not in "iuf" and len(values) <= 20 else 6
        ticks = np.unique(np.linspace(0, len(values) - 1, min(len(values), shown)).round()
                          .astype(int))
        axis.set_ticks(ticks, plots._text(map(_tick, values[ticks])))
        axis.set_label_text(plots._text([name])[0])
    small = c > 0 and result.group_rows[c - 1] < result.min_group_size
    axes.set_title(plots._text([label + (" (small)" if small else "")])[0], fontsize=9)
