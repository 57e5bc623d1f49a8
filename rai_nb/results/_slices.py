"""The result of :func:`rai_nb.slices`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..frame._features import predicate_mask
from ..render import Section
from ._base import Result

_NOTES = {
    "level": "number of predicates",
    "size": "rows in the slice (rows the loss is defined on)",
    "mean_loss": "mean loss in the slice",
    "rest_loss": "mean loss of the other rows",
    "score": "SliceLine score α(ē_S/ē − 1) − (1−α)(n/|S| − 1)",
    "effect_size": "Slice Finder effect size φ against the other rows",
    "p_value": "one-sided Welch t-test: slice loss > rest loss",
    "significant": "rejected after false-discovery control",
}


@dataclass(frozen=True, repr=False)
class SliceResult(Result):
    """The top-K problem slices found by SliceLine, with Slice Finder's significance tests.

    Attributes
    ----------
    top : pandas.DataFrame
        One row per slice, best score first: ``predicates`` (dict ``{column: level}``, a level
        being a value, a ``pandas.Interval`` of a binned numeric column, or None for missing
        values), ``slice`` (readable text), ``level``, ``size``, ``mean_loss``, ``rest_loss``,
        ``score``, ``effect_size``, ``p_value`` and ``significant``.
    loss : str
        What the loss is (``error``, ``log_loss``, ``false_positive_rate`` …).
    evaluated : tuple of int
        Candidate slices whose statistics were computed, per number of predicates.
    """

    kind: ClassVar[str] = "slices"

    top: pd.DataFrame
    loss: str
    n_rows: int
    average_loss: float
    alpha: float
    k: int
    max_l: int
    min_sup: int
    significance: float
    fdr: str
    evaluated: tuple
    data: pd.DataFrame | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"Problem slices by {self.loss}"

    def mask(self, i: int, data: pd.DataFrame | None = None) -> np.ndarray:
        """Boolean rows of slice ``i`` in ``data`` (default: the frame that was searched).

        Examples
        --------
        >>> import pandas as pd, rai_nb
        >>> df = pd.DataFrame({"g": list("aabbbbbbbb"), "e": [1, 1] + [0] * 8})
        >>> result = rai_nb.slices(df, errors="e", min_sup=1, k=1)
        >>> result.mask(0).tolist()
        [True, True, False, False, False, False, False, False, False, False]
        """
        if not isinstance(i, (int, np.integer)) or not -len(self.top) <= i < len(self.top):
            raise RaiError(f"slice index must be an integer below {len(self.top)}, got {i!r}")
        frame = self.data if data is None else data
        if frame is None:
            raise RaiError("pass the data frame to mask(i, data)")
        return predicate_mask(frame, self.top["predicates"].iloc[int(i)])

    def summary(self) -> dict:
        best = self.top["slice"].iloc[0] if len(self.top) else None
        return {"rows": self.n_rows, "average_loss": self.average_loss, "slices": len(self.top),
                "significant": int(self.top["significant"].sum()), "top_slice": best}

    def sections(self) -> list[Section]:
        intro = (f"{self.n_rows:,} rows, mean {self.loss} {self.average_loss:.4g}. SliceLine with "
                 f"alpha={self.alpha}, k={self.k}, max_l={self.max_l}, min_sup={self.min_sup}; "
                 f"significance: one-sided Welch t-test against the other rows, {self.fdr} at "
                 f"{self.significance}.")
        if self.top.empty:
            intro += " No slice scores above 0: none is worse than average enough for its size."
        table = self.top.drop(columns="predicates").set_index("slice")
        bars = table["mean_loss"].rename(f"mean {self.loss}") if len(table) else None
        evaluated = pd.DataFrame({"candidates evaluated": list(self.evaluated)},
                                 index=pd.RangeIndex(1, len(self.evaluated) + 1, name="predicates"))
        return [Section("Top slices", intro, table, notes=dict(_NOTES), bars=bars),
                Section("Search", "Candidate slices whose size and loss were computed, by level.",
                        evaluated)]
