"""The accuracy–fairness trade-off of mitigation candidates: the Pareto front and its chart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import render
from ..errors import BAD_OPTION, MISSING_COLUMN, RaiError
from . import plots

_BETTER = ("higher", "lower")
#: Metric name endings that are better when larger (accuracy-like scores and ratios).
_HIGHER_IS_BETTER = ("accuracy", "f1", "_ratio", "precision", "recall", "auc")
_FRONT, _OTHER, _CHOSEN = "#4c78a8", "#9d9d9d", "#e45756"


def better(name: str) -> str:
    """``"higher"`` for accuracy-like metrics and ratios, ``"lower"`` for differences, gaps
    and losses."""
    return "higher" if str(name).endswith(_HIGHER_IS_BETTER) else "lower"


def pareto_front(candidates: pd.DataFrame, x: str, y: str = "accuracy", *,
                 x_better: str | None = None, y_better: str | None = None) -> pd.Series:
    """Which candidates no other candidate beats on both ``x`` and ``y``.

    Parameters
    ----------
    candidates : pandas.DataFrame
        One row per candidate (e.g. ``ThresholdClassifier.candidates_``).
    x, y : str
        Columns to trade off, e.g. a disparity and ``"accuracy"``.
    x_better, y_better : {"higher", "lower"}, optional
        Which direction is better; default from the name (:func:`better`: ratios and
        accuracy-like scores higher, differences and losses lower).

    Returns
    -------
    pandas.Series of bool
        Indexed like ``candidates``: True where no candidate is at least as good on both
        columns and better on one. Candidates with equal values are all on the front; a
        candidate with a missing value is never on it and beats none.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"accuracy": [0.80, 0.78, 0.75, 0.79],
    ...                       "equalized_odds_difference": [0.20, 0.05, 0.10, 0.15]})
    >>> pareto_front(table, "equalized_odds_difference").tolist()
    [True, True, False, True]
    """
    values = [_oriented(candidates, column, direction)
              for column, direction in ((x, x_better), (y, y_better))]
    return pd.Series(_front(*values), index=candidates.index, name="pareto")


def _oriented(candidates: pd.DataFrame, column: str, direction: str | None) -> np.ndarray:
    """The column as floats where lower is better (negated when higher is)."""
    if column not in candidates.columns:
        raise RaiError(MISSING_COLUMN.format(column=column, argument="a trade-off axis",
                                             available=list(candidates.columns)))
    direction = better(column) if direction is None else direction
    if direction not in _BETTER:
        raise RaiError(BAD_OPTION.format(argument=f"{column}'s better", allowed=_BETTER,
                                         value=direction))
    values = pd.to_numeric(candidates[column], errors="coerce").to_numpy(dtype=np.float64)
    return -values if direction == "higher" else values


def _front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-dominated points when both coordinates are minimised.

    Sorted by x, then y: a point is on the front when it has the least y among the points of
    its x and a y below every point of a smaller x.
    """
    on = np.zeros(len(x), dtype=bool)
    known = np.flatnonzero(~(np.isnan(x) | np.isnan(y)))
    order = known[np.lexsort((y[known], x[known]))]
    xs, ys = x[order], y[order]
    new_x = np.ones(len(xs), dtype=bool)
    new_x[1:] = xs[1:] != xs[:-1]
    start = np.flatnonzero(new_x)[np.cumsum(new_x) - 1]  # where each point's run of x begins
    best_before = np.r_[np.inf, np.minimum.accumulate(ys)][start]
    on[order] = (ys == ys[start]) & (ys < best_before)
    return on


def pareto_figure(candidates: pd.DataFrame, x: str, y: str = "accuracy", *,
                  chosen=None, label: str = "candidate", x_better: str | None = None,
                  y_better: str | None = None):
    """The trade-off as a matplotlib figure: every candidate, the Pareto front joined in
    order, and the chosen candidate ringed and named (see :func:`pareto_chart`)."""
    from matplotlib.figure import Figure

    front = pareto_front(candidates, x, y, x_better=x_better, y_better=y_better).to_numpy()
    xs, ys = (pd.to_numeric(candidates[c], errors="coerce").to_numpy(dtype=np.float64)
              for c in (x, y))
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.add_subplot()
    axes.scatter(xs[~front], ys[~front], s=18, color=_OTHER, label="dominated candidate")
    path = np.flatnonzero(front)[np.argsort(xs[front], kind="stable")]
    axes.plot(xs[path], ys[path], "o-", color=_FRONT, markersize=5, label="Pareto front")
    if chosen is not None:
        pick = _chosen(candidates, label, chosen)
        name = plots._text([f"chosen: {render.short_label(str(chosen))}"])[0]
        axes.scatter(xs[pick], ys[pick], s=110, facecolors="none", edgecolors=_CHOSEN,
                     linewidths=2, label=name, zorder=3)
    axes.set_xlabel(plots._text([_axis_label(x, x_better)])[0])
    axes.set_ylabel(plots._text([_axis_label(y, y_better)])[0])
    plots._legend(figure)
    return figure


def _chosen(candidates: pd.DataFrame, label: str, chosen) -> np.ndarray:
    """Positions of the chosen candidate (by its ``label`` column, else its index label)."""
    names = candidates[label] if label in candidates.columns else candidates.index.to_series()
    pick = np.flatnonzero((names == chosen).to_numpy())
    if not len(pick):
        raise RaiError(f"chosen candidate {chosen!r} is not in the candidates' {label!r}; "
                       f"candidates are {names.head(10).tolist()}")
    return pick


def _axis_label(column: str, direction: str | None) -> str:
    direction = better(column) if direction is None else direction
    return f"{column.replace('_', ' ')} ({direction} is better)"


def pareto_chart(candidates: pd.DataFrame, x: str, y: str = "accuracy", *, chosen=None,
                 label: str = "candidate", x_better: str | None = None,
                 y_better: str | None = None) -> str:
    """The accuracy–fairness trade-off of mitigation candidates as inline SVG.

    Parameters
    ----------
    candidates : pandas.DataFrame
        One row per candidate with a ``label`` column naming it (``candidate`` in
        ``candidates_`` of the mitigators) and the columns ``x`` and ``y``.
    x : str
        The disparity column, e.g. ``"equalized_odds_difference"``.
    y : str, default "accuracy"
        The performance column.
    chosen : optional
        The ``label`` of the candidate to highlight (ringed, named in the legend).
    label : str, default "candidate"
        The column naming candidates (the index when the frame has no such column).
    x_better, y_better : {"higher", "lower"}, optional
        As in :func:`pareto_front`.

    Returns
    -------
    str
        An ``<svg>`` element: transparent, its text and axes in the page's colour (light and
        dark themes alike, as :func:`rai_nb.ui.plots.svg`); dominated candidates grey, the
        front blue and joined in order, the chosen one ringed.

    Raises
    ------
    RaiError
        When a column is missing, a direction is not ``higher`` or ``lower``, or ``chosen``
        names no candidate.
    """
    return plots.svg(pareto_figure(candidates, x, y, chosen=chosen, label=label,
                                   x_better=x_better, y_better=y_better))
