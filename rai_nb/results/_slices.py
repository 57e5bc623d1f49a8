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
}
#: How each false-discovery rule is named, and what its ``level_used`` is.
FDR_NAMES = {"alpha_investing": "α-investing", "benjamini_hochberg": "Benjamini–Hochberg"}
_LEVEL_NOTES = {
    "alpha_investing": "level this slice was tested at: α-wealth W/(1 + W) at its turn in score "
                       "order (Foster & Stine 2008); – once the wealth is spent (not tested)",
    "benjamini_hochberg": "Benjamini–Hochberg step-up cutoff q·k/m (k slices rejected of m)",
}
#: Notes that change when rows carry sample weights.
_WEIGHTED_NOTES = {
    "size": "total sample weight of the slice's rows (rows the loss is defined on)",
    "rows": "rows in the slice, unweighted",
    "mean_loss": "weighted mean loss in the slice",
    "rest_loss": "weighted mean loss of the other rows",
    "score": "SliceLine score α(ē_S/ē − 1) − (1−α)(n/|S| − 1), sizes in weight",
    "p_value": "one-sided Welch t-test (frequency weights, n = Σw): slice loss > rest loss",
}


@dataclass(frozen=True, repr=False)
class SliceResult(Result):
    """The top-K problem slices found by SliceLine, with Slice Finder's significance tests.

    Attributes
    ----------
    top : pandas.DataFrame
        One row per slice, best score first: ``predicates`` (dict ``{column: level}``, a level
        being a value, a ``pandas.Interval`` of a binned numeric column, or None for missing
        values), ``slice`` (readable text), ``level``, ``size`` (rows, or their total weight
        with sample weights), ``rows``, ``mean_loss``, ``rest_loss``, ``score``,
        ``effect_size``, ``p_value``, ``level_used`` (the level the p-value was tested at) and
        ``significant`` (``p_value <= level_used``).
    loss : str
        What the loss is (``error``, ``log_loss``, ``false_positive_rate`` …).
    evaluated : tuple of int
        Candidate slices whose statistics were computed, per number of predicates.
    total_weight : float or None
        Total sample weight of the rows searched; None when rows are unweighted.
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
    total_weight: float | None = None
    data: pd.DataFrame | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"Problem slices by {self.loss}"

    @property
    def correction(self) -> str:
        """The false-discovery control and its level, e.g. ``"α-investing at 0.05"``."""
        return f"{FDR_NAMES[self.fdr]} at {self.significance:g}"

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
        weight = {} if self.total_weight is None else {"total_weight": self.total_weight}
        return {"rows": self.n_rows, **weight, "average_loss": self.average_loss,
                "slices": len(self.top), "significant": int(self.top["significant"].sum()),
                "top_slice": best}

    def sections(self) -> list[Section]:
        weighted = self.total_weight is not None
        rows = f"{self.n_rows:,} rows" + (f" of total weight {self.total_weight:,.6g}" if weighted
                                           else "")
        mean = "weighted mean" if weighted else "mean"
        intro = (f"{rows}, {mean} {self.loss} {self.average_loss:.4g}. SliceLine with "
                 f"alpha={self.alpha}, k={self.k}, max_l={self.max_l}, min_sup={self.min_sup}; "
                 f"significance: one-sided Welch t-test against the other rows, "
                 f"{self.correction}: significant when p_value ≤ level_used.")
        if self.top.empty:
            intro += " No slice scores above 0: none is worse than average enough for its size."
        hidden = ["predicates"] if weighted else ["predicates", "rows"]  # rows == size unweighted
        table = self.top.drop(columns=hidden).set_index("slice")
        bars = table["mean_loss"].rename(f"mean {self.loss}") if len(table) else None
        evaluated = pd.DataFrame({"candidates evaluated": list(self.evaluated)},
                                 index=pd.RangeIndex(1, len(self.evaluated) + 1, name="predicates"))
        notes = {**_NOTES, **(_WEIGHTED_NOTES if weighted else {}),
                 "level_used": _LEVEL_NOTES[self.fdr],
                 "significant": f"p_value ≤ level_used ({self.correction})"}
        return [Section("Top slices", intro, table, notes=notes, bars=bars),
                Section("Search", "Candidate slices whose size and loss were computed, by level.",
                        evaluated)]
