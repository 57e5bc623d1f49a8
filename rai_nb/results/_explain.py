"""The result of :func:`rai_nb.flip_test`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from ..render import Section
from ._base import Result


@dataclass(frozen=True, repr=False)
class FlipTestResult(Result):
    """Clarify's flip test per facet and the counterfactual invariance table.

    Attributes
    ----------
    flip : pandas.DataFrame
        Indexed by (sensitive, facet): ``count`` and ``FT`` (positive: the model favours the
        facet over what its nearest neighbours in the rest receive).
    invariance : pandas.DataFrame
        Indexed by (sensitive, group): share of predictions that change when the group's
        sensitive value is set to each other value.
    """

    kind: ClassVar[str] = "flip_test"

    flip: pd.DataFrame
    invariance: pd.DataFrame

    @property
    def title(self) -> str:
        return "Flip and counterfactual invariance tests"

    def summary(self) -> dict:
        return {"max_abs_FT": float(self.flip["FT"].abs().max()),
                "max_changed_share": float(self.invariance.to_numpy().max())}

    def sections(self) -> list[Section]:
        return [
            Section("Flip test (Clarify FT)", "(n⁺ − n⁻) / n_d against a kNN trained on the rest.",
                    self.flip, bars=self.flip["FT"].rename("FT")),
            Section("Counterfactual invariance",
                    "Share of predictions that change when the sensitive value is swapped.",
                    self.invariance),
        ]
