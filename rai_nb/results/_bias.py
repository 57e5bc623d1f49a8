"""The result of :func:`rai_nb.bias`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import render
from ..errors import BAD_OPTION, RaiError
from ..render import Section
from ..stats.clarify import DESCRIPTIONS
from ..stats.group_metrics import LABEL_METRICS, disparity
from ._base import Result

_METHODS = ("between_groups", "to_overall")


@dataclass(frozen=True, repr=False)
class BiasResult(Result):
    """Group fairness metrics of one set of labels (and predictions) over sensitive groups.

    Attributes
    ----------
    by_group : pandas.DataFrame
        One row per observed group (intersection of the sensitive columns), fairlearn metric
        names as columns.
    overall : pandas.Series
        The same metrics on all rows.
    clarify : pandas.DataFrame
        SageMaker Clarify metrics, indexed by (sensitive column, facet value); each facet is
        compared with all other rows. Post-training metrics only when predictions were given.
    disparities : pandas.Series
        Demographic parity, equalized odds and equal opportunity differences and ratios
        (fairlearn's definitions, ``between_groups``).
    intervals : pandas.DataFrame or None
        Bootstrap percentile intervals (``estimate``, ``lower``, ``upper``) for every value
        above, indexed by (table, row, metric); None when ``n_boot=0``.
    counts : numpy.ndarray
        Confusion counts ``[group, y_true, y_pred]`` behind every number.
    """

    kind: ClassVar[str] = "bias"

    target: object
    positive_label: object
    sensitive: tuple
    has_predictions: bool
    counts: np.ndarray
    by_group: pd.DataFrame
    overall: pd.Series
    clarify: pd.DataFrame
    disparities: pd.Series
    intervals: pd.DataFrame | None = None
    n_boot: int = 0
    ci: float = 0.95

    @property
    def title(self) -> str:
        names = ", ".join(map(str, self.sensitive))
        return f"Bias report: {self.target} = {self.positive_label} by {names}"

    def group_min(self) -> pd.Series:
        """Smallest value of each metric over groups."""
        return self.by_group.min()

    def group_max(self) -> pd.Series:
        """Largest value of each metric over groups."""
        return self.by_group.max()

    def difference(self, method: str = "between_groups") -> pd.Series:
        """Largest gap of each metric between groups (or to the overall value), as fairlearn."""
        return self._compare(method, "difference")

    def ratio(self, method: str = "between_groups") -> pd.Series:
        """Smallest ratio of each metric between groups (or to the overall value), as fairlearn."""
        return self._compare(method, "ratio")

    def _compare(self, method: str, kind: str) -> pd.Series:
        if method not in _METHODS:
            raise RaiError(BAD_OPTION.format(argument="method", allowed=_METHODS, value=method))
        values = disparity(self.by_group.to_numpy().T, self.overall.to_numpy(), method=method,
                           kind=kind)
        return pd.Series(values, index=self.by_group.columns, name=kind)

    def summary(self) -> dict:
        return {"rows": int(self.counts.sum()), "groups": len(self.by_group),
                "disparities": self.disparities.to_dict()}

    def sections(self) -> list[Section]:
        n_rows = int(self.counts.sum())
        intro = (f"{n_rows:,} rows, {len(self.by_group)} groups; positive outcome: "
                 f"{self.target} = {self.positive_label}.")
        if not self.has_predictions:
            intro += " No predictions were given: label-only (pre-training) metrics."
        shown = self.by_group if self.has_predictions else self.by_group[list(LABEL_METRICS)]
        overall = self.overall.to_frame().T[shown.columns]
        overall.index = _label_like(shown.index, "(all rows)")
        rate = "selection_rate" if self.has_predictions else "base_rate"
        rates = [c for c in shown.columns if c != "count"]
        sections = [Section("Metrics by group", intro + " Highest and lowest group in bold.",
                            pd.concat([shown, overall]), bars=shown[rate],
                            marks=render.extremes(shown, rates))]
        if self.has_predictions:
            sections.append(Section("Fairness summary", "fairlearn definitions, between groups.",
                                    self.disparities.to_frame("value")))
        sections.append(Section("SageMaker Clarify metrics",
                                "Each facet compared with all other rows (a − d).",
                                self.clarify, notes=dict(DESCRIPTIONS)))
        if self.intervals is not None:
            sections.append(Section(
                f"{self.ci:.0%} bootstrap intervals",
                f"{self.n_boot} multinomial resamples of the count table.", self.intervals))
        return sections


def _label_like(index: pd.Index, label: str) -> pd.Index:
    """A one-row index with the names (and number of levels) of ``index``."""
    if index.nlevels > 1:
        return pd.MultiIndex.from_tuples([(label,) * index.nlevels], names=index.names)
    return pd.Index([label], name=index.name)
