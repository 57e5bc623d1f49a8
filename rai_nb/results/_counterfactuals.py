"""Results of :func:`rai_nb.counterfactuals` and :func:`rai_nb.burden`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ._base import Result

#: The columns of a counterfactual or nearest-row table the reports show.
SHOWN = ["distance", "changed", "changes"]
_DISTANCE = ("Distance: the sum of each changed numeric feature's change over its median "
             "absolute deviation in the data, plus 1 per changed categorical feature.")
_NOTES = {"distance": "MAD-scaled L1 over numeric features + number of changed categorical ones",
          "changed": "features changed", "changes": "original → counterfactual value"}


@dataclass(frozen=True, repr=False)
class CounterfactualResult(Result):
    """Counterfactuals of each query row, and the nearest real rows with the desired outcome.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per query row (its index label): ``prediction``, ``desired``, ``found``
        (counterfactuals found) and ``closest`` (distance of the closest one, inf if none).
    counterfactuals : pandas.DataFrame
        Index ``(row, rank)``; every feature's counterfactual value, the model's
        ``prediction`` for it, ``distance``, ``changed`` (how many features) and ``changes``
        (text, e.g. ``"age 35 → 41"``). Rank 0 is the closest.
    nearest : pandas.DataFrame
        As ``counterfactuals`` for real rows of ``data`` with the desired outcome and the
        row's immutable values; ``data_row`` is their index label in ``data``.
    features, varied : list
        The model's features; those the search could change.
    stats : dict
        ``generations``, ``model_calls`` and ``candidates_scored`` of the search, and
        ``data_rows_predicted`` for the nearest real rows.
    """

    kind: ClassVar[str] = "counterfactuals"

    rows: pd.DataFrame
    counterfactuals: pd.DataFrame
    nearest: pd.DataFrame
    features: list
    varied: list
    stats: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Counterfactuals of {len(self.rows):,} row(s)"

    @property
    def closest_distance(self) -> np.ndarray:
        """Each query row's distance to its closest counterfactual (inf where none)."""
        return self.rows["closest"].to_numpy(dtype=np.float64)

    def for_row(self, label) -> pd.DataFrame:
        """The counterfactuals of the query row with index ``label``, closest first."""
        return self.counterfactuals.xs(label, level="row")

    def summary(self) -> dict:
        found = self.rows["found"].to_numpy()
        return {"rows": len(self.rows), "rows_with_counterfactuals": int((found > 0).sum()),
                "counterfactuals": int(found.sum()), **self.stats}

    def sections(self) -> list[Section]:
        search = (f"A genetic search over {', '.join(map(str, self.varied))} scored "
                  f"{self.stats.get('candidates_scored', 0):,} candidates in "
                  f"{self.stats.get('model_calls', 0):,} model calls "
                  f"({self.stats.get('generations', 0)} generations). {_DISTANCE}")
        return [Section("Rows", search, self.rows),
                Section("Counterfactuals", "Each row's counterfactuals as changes only, closest "
                        "first; every one has the desired prediction.",
                        self.counterfactuals[SHOWN], notes=_NOTES),
                Section("Nearest real rows of the desired outcome",
                        "Rows of the data the model gives the desired outcome, with the row's "
                        "immutable values, nearest first.",
                        self.nearest[["data_row", *SHOWN]], notes=_NOTES)]


@dataclass(frozen=True, repr=False)
class BurdenResult(Result):
    """Burden per group (CERTIFAI): how far rows decided against must move to be accepted.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``(sensitive, group)``; ``rows`` (decided against), ``found`` (with a
        counterfactual), ``burden`` (their mean distance to it), ``lower`` and ``upper``
        (bootstrap percentile interval).
    favourable : object
        The class counterfactuals reach.
    n_boot : int
    ci : float
    varied : list
        The features the search could change.
    stats : dict
        The search's ``generations``, ``model_calls`` and ``candidates_scored``.
    """

    kind: ClassVar[str] = "burden"

    table: pd.DataFrame
    favourable: object
    n_boot: int
    ci: float
    varied: list
    stats: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Counterfactual burden per group (to reach {self.favourable!r})"

    def summary(self) -> dict:
        burden = self.table["burden"]
        return {"favourable": self.favourable, "groups": len(self.table),
                "largest_burden": float(burden.max()), "smallest_burden": float(burden.min()),
                **self.stats}

    def sections(self) -> list[Section]:
        text = (f"For each group, the mean distance of its rows the model decides against to "
                f"their closest counterfactual reaching {self.favourable!r} (Sharma et al. "
                f"2020), changing {', '.join(map(str, self.varied))}. {_DISTANCE} Brackets: "
                f"{self.ci:.0%} percentile interval of {self.n_boot} bootstrap resamples of "
                "each group's rows; rows without a counterfactual are counted in rows, not "
                "found.")
        shown = self.table[["rows", "found", "burden"]]
        bounds = tuple(pd.DataFrame({"rows": np.nan, "found": np.nan,
                                     "burden": self.table[side]}, index=shown.index)
                       for side in ("lower", "upper"))
        return [Section("Counterfactual burden by group", text, shown,
                        bars=self.table["burden"], bounds=bounds)]
