"""The result of :func:`rai_nb.dependence`: partial dependence and ICE curves by group."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ._base import Result
from ._bias import row_label

ALL_ROWS = "all rows"
_WHAT = {"average": "The partial dependence (PDP)", "individual": "ICE curves",
         "both": "The partial dependence (PDP) and ICE curves"}


@dataclass(frozen=True, repr=False, eq=False)
class DependenceResult(Result):
    """How a model's output moves with one feature (or a pair), averaged over all rows and
    over each group's rows, with ICE curves of a row sample.

    Attributes
    ----------
    plot : {"average", "individual", "both"}
        What the figure draws (``kind`` of :func:`rai_nb.dependence`).
    features : tuple of str
        The feature, or the pair of a two-way PDP.
    grid : tuple of numpy.ndarray
        The grid values of each feature (scikit-learn's ``grid_values``).
    outputs : tuple
        The label of each output: the class of a classifier's probability or score (its
        positive class when binary), ``"prediction"`` for ``predict``.
    response : str
        The model method called: ``predict_proba``, ``decision_function`` or ``predict``.
    average : numpy.ndarray of shape (outputs, *grid)
        The PDP over all rows: scikit-learn's ``average``.
    by : tuple
        The sensitive columns; empty without groups.
    groups : tuple of tuple
        Each group's levels, one per ``by`` column (observed combinations only).
    group_average : numpy.ndarray of shape (groups, outputs, *grid)
        The PDP over each group's rows (NaN for a group of zero weight).
    group_rows, group_weight : numpy.ndarray of shape (groups,)
        Rows in each group and their total weight.
    ice : numpy.ndarray of shape (rows kept, outputs, *grid)
        ICE curves of the sampled rows (none for ``kind="average"``).
    ice_rows : list
        Index labels of those rows; ``ice_groups`` their group codes.
    centered : bool
        Every curve is minus its value at the first grid point.
    min_group_size : int
        Groups with fewer rows are drawn dashed and listed by :meth:`small_groups`.
    lower, upper : numpy.ndarray of shape (curves, outputs, *grid) or None
        The percentile band of every curve (:attr:`labels` order: all rows, then each group)
        over ``n_boot`` Poisson bootstrap replicates of the rows at coverage ``ci``; None
        without a bootstrap.
    """

    kind: ClassVar[str] = "dependence"

    plot: str
    features: tuple
    grid: tuple
    outputs: tuple
    response: str
    average: np.ndarray
    centered: bool
    n_rows: int
    by: tuple
    groups: tuple
    group_average: np.ndarray
    group_rows: np.ndarray
    group_weight: np.ndarray
    ice: np.ndarray
    ice_rows: list
    ice_groups: np.ndarray
    min_group_size: int = 30
    model_name: str = "model"
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    n_boot: int = 0
    ci: float = 0.95

    @property
    def title(self) -> str:
        return f"Partial dependence of {self.model_name} on {' × '.join(map(str, self.features))}"

    @property
    def labels(self) -> list[str]:
        """The curves' names: ``all rows``, then each group (``Female · Black``)."""
        return [ALL_ROWS, *(row_label(g) for g in self.groups)]

    def _output(self, output) -> int:
        if output is None:
            return 0
        if output not in self.outputs:
            from ..errors import RaiError

            raise RaiError(f"output {output!r} is not one of {list(self.outputs)}")
        return self.outputs.index(output)

    def to_frame(self, output=None) -> pd.DataFrame:
        """The curves of one output (default the first): one row per grid point (indexed by
        the feature values), one column per curve (:attr:`labels`)."""
        o = self._output(output)
        curves = np.concatenate([self.average[None, o], self.group_average[:, o]])
        index = pd.MultiIndex.from_product(self.grid, names=list(self.features))
        if len(self.features) == 1:
            index = index.get_level_values(0)
        return pd.DataFrame(curves.reshape(len(curves), -1).T, index=index, columns=self.labels)

    def band(self, output=None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The lower and upper bounds of every curve of one output, framed as :meth:`to_frame`
        (None without a bootstrap)."""
        if self.lower is None:
            return None
        o, frame = self._output(output), self.to_frame(output)
        return tuple(pd.DataFrame(side[:, o].reshape(len(side), -1).T, index=frame.index,
                                  columns=frame.columns) for side in (self.lower, self.upper))

    def ice_frame(self, output=None) -> pd.DataFrame:
        """The ICE curves of one output: one row per sampled row (its index label), one column
        per grid value."""
        values = self.ice[:, self._output(output)].reshape(len(self.ice), -1)
        return pd.DataFrame(values, index=pd.Index(self.ice_rows), columns=self.to_frame().index)

    def group_table(self) -> pd.DataFrame:
        """Rows and weight of each group, and whether it is small."""
        index = pd.MultiIndex.from_tuples(list(self.groups), names=list(self.by))
        return pd.DataFrame({"rows": self.group_rows, "weight": self.group_weight,
                             "small": self.group_rows < self.min_group_size}, index=index)

    def small_groups(self) -> pd.Series:
        """Row counts of the groups below ``min_group_size`` (drawn, but dashed)."""
        rows = pd.Series(self.group_rows, index=self.labels[1:], name="rows", dtype=np.int64)
        return rows[rows < self.min_group_size]

    def max_group_gap(self, output=None) -> float:
        """The largest distance, at any grid point, between the curves of two groups of at
        least ``min_group_size`` rows (NaN with fewer than two such groups)."""
        large = self.group_average[self.group_rows >= self.min_group_size, self._output(output)]
        if len(large) < 2:
            return float("nan")
        flat = large.reshape(len(large), -1)
        return float(np.nanmax(flat.max(axis=0) - flat.min(axis=0)))

    def summary(self) -> dict:
        average = self.average[0]
        return {"features": list(self.features), "rows": self.n_rows,
                "grid_points": int(average.size), "response": self.response,
                "outputs": list(self.outputs), "centered": self.centered,
                "groups": len(self.groups), "small_groups": len(self.small_groups()),
                "pdp_range": float(np.nanmax(average) - np.nanmin(average)),
                "max_group_gap": self.max_group_gap()}

    def sections(self) -> list[Section]:
        # one figure, first: SVG in the page's colours in HTML, the PNG for JSON and files
        sections = [replace(self._curve_section(o), image=self.png, svg=self.svg)
                    if o == 0 else self._curve_section(o) for o in range(len(self.outputs))]
        if self.groups:
            small = set(np.flatnonzero(self.group_rows < self.min_group_size).tolist())
            sections.append(Section("Partial dependence by group", self._groups_text(),
                                    self.group_table(), marks={"rows": small}))
        return sections

    def _curve_section(self, o: int) -> Section:
        title = "Partial dependence"
        if len(self.outputs) > 1 or self.response != "predict":
            title += f": {self.response} of {self.outputs[o]}"
        table = self.to_frame(self.outputs[o])
        if len(self.features) == 2:  # the all-rows surface as a grid; every curve in to_frame()
            table = table[ALL_ROWS].unstack(1)
        return Section(title, self._text(), table, bounds=self.band(self.outputs[o]))

    def _text(self) -> str:
        centred = (" Centred: every curve is minus its value at the first grid point."
                   if self.centered else "")
        ice = (f" ICE: {len(self.ice):,} rows drawn as thin lines." if len(self.ice) else "")
        band = (f" Bands and brackets: {self.ci:.0%} percentile intervals over {self.n_boot} "
                "Poisson bootstrap replicates of the rows." if self.n_boot else "")
        pair = (" The table is the all-rows surface (rows: first feature); each group's "
                "surface is in the figure and to_frame()." if len(self.features) == 2 else "")
        groups = ", for all rows and per group" if self.groups else ""
        rug = "" if len(self.features) == 2 else " The grid's points are ticked on the x axis."
        return (f"{_WHAT[self.plot]} of the model's {self.response} over {self.n_rows:,} "
                f"rows{groups}.{rug}{ice}{centred}{band}{pair}")

    def _groups_text(self) -> str:
        small = self.small_groups()
        note = (f" {len(small)} group(s) under min_group_size={self.min_group_size} rows "
                "are drawn dashed (rows in bold)." if len(small) else "")
        gap = self.max_group_gap()
        gap_text = ("" if np.isnan(gap) else f" Largest gap between the curves of two groups "
                    f"of at least {self.min_group_size} rows: {gap:.4f}.")
        return f"One curve per group of {', '.join(map(str, self.by))}.{gap_text}{note}"

    @cached_property
    def png(self) -> bytes:
        """The figure as PNG, for saved reports (drawn once)."""
        from ..ui._dependence import dependence_figure
        from ..ui.plots import png

        return png(dependence_figure(self))

    @cached_property
    def svg(self) -> str:
        """The figure as theme-aware inline SVG, text and axes in the page's colour (drawn
        once; the HTML's)."""
        from ..ui._dependence import dependence_chart

        return dependence_chart(self)

