"""The results of :func:`rai_nb.clean` and :func:`rai_nb.without`: which rows to remove, what
that does to each group, and the model retrained without them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, NamedTuple

import numpy as np
import pandas as pd

from ..render import Section
from ._base import Result
from ._comparison import ComparisonResult

#: Step → what it removes, for the report.
STEP_TEXT = {
    "duplicates": "exact copies of an earlier row (every column equal; the first copy is kept)",
    "conflicting_labels": "rows whose feature values all equal another row's labelled "
                          "differently, except those carrying the group's majority label (a "
                          "tie removes the whole group)",
    "label_errors": "rows whose label an out-of-fold model finds very unlikely (confident "
                    "learning, Northcutt et al. 2021)",
    "out_of_distribution": "rows farther from the reference than 99 % of its own rows are "
                           "(distance to the 5th-nearest reference row, row-level drift)",
}
#: A group's share removed at least this many times the data's is marked.
DISPROPORTION = 1.25
_GROUP_NOTES = {
    "rows": "rows of the group before cleaning",
    "removed": "rows of the group the step removes",
    "share": "removed / rows: the share of the group removed",
    "overall_share": "the share of all rows the step removes",
    "ratio": f"share / overall_share; marked at {DISPROPORTION:g} or more (the step removes "
             "this group's rows disproportionately)",
}
_SHOWN_LABELS = 10


class Cleaned(NamedTuple):
    """What :meth:`CleaningPlan.apply` returns: the cleaned rows and their Reweighing weights."""

    data: pd.DataFrame
    sample_weight: np.ndarray


@dataclass(frozen=True, repr=False)
class CleaningPlan(Result):
    """A cleaning plan (MLClean's joint view, Tae et al., DEEM 2019): the rows each step
    removes, what that does to every sensitive group, and weights that keep group × label
    balance after cleaning.

    Steps run in order, each on the rows the steps before it kept, so no row is counted twice.

    Attributes
    ----------
    target : str
        The label column.
    sensitive : tuple of str
        The sensitive columns (empty when none were given).
    n_rows : int
        Rows before cleaning.
    steps : pandas.DataFrame
        One row per step, in order: ``removed`` (rows), ``share`` (of all rows), ``rows_left``
        and ``what`` the step removes.
    removed : dict of str to numpy.ndarray
        The index labels of the rows each step removes.
    by_group : pandas.DataFrame
        Indexed by ``(step, sensitive, group)``, steps then ``all steps``; columns ``rows``,
        ``removed``, ``share``, ``overall_share`` and ``ratio`` (see the report's notes). With
        several sensitive columns their intersection is listed too.
    comparison : ComparisonResult or None
        The audit of a model trained before and after cleaning (:meth:`retrain`, or
        ``clean(estimator=...)``).
    """

    kind: ClassVar[str] = "cleaning"

    target: str
    sensitive: tuple
    n_rows: int
    steps: pd.DataFrame
    removed: dict
    by_group: pd.DataFrame
    comparison: ComparisonResult | None = None
    data: pd.DataFrame | None = field(default=None, compare=False)
    kept: np.ndarray | None = field(default=None, compare=False)
    groups: np.ndarray | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"Cleaning plan for {self.target}"

    @property
    def n_removed(self) -> int:
        """Rows removed by all steps together."""
        return self.n_rows - len(self.kept)

    def apply(self) -> Cleaned:
        """The cleaned rows (a copy; the data given to :func:`rai_nb.clean` is not changed)
        and their Reweighing weights.

        Returns
        -------
        Cleaned
            ``data``: the rows no step removed, in their order; ``sample_weight``: Kamiran &
            Calders' weights (:func:`rai_nb.mitigation.reweighing_weights`) of the kept rows'
            target by sensitive group (their intersection), so that under them every group
            has the label distribution of the whole cleaned data — cleaning that removes
            more of one group's positives does not skew the training labels. All 1 without
            sensitive columns.

        Examples
        --------
        >>> import pandas as pd, rai_nb
        >>> df = pd.DataFrame({"x": [1, 1, 2, 3], "g": list("aabb"), "y": [0, 0, 1, 0]})
        >>> plan = rai_nb.clean(df, target="y", sensitive="g", steps="duplicates")
        >>> cleaned, weights = plan.apply()
        >>> cleaned.index.tolist(), weights.round(3).tolist()
        ([0, 2, 3], [0.667, 0.667, 1.333])
        """
        from ..mitigation import reweighing_weights

        data = self.data.iloc[self.kept].copy()
        weights = reweighing_weights(data[self.target].to_numpy(), self.groups[self.kept])
        return Cleaned(data, weights)

    def retrain(self, estimator, *, test: pd.DataFrame, sensitive=None, features=None,
                positive_label=None, n_boot: int = 200, random_state=0) -> ComparisonResult:
        """Fit clones of ``estimator`` on the rows before and after cleaning (with the
        Reweighing weights) and compare their audits on ``test``.

        See :func:`rai_nb.mitigation._retrain.retrain` for the parameters.

        Returns
        -------
        ComparisonResult
            ``compare(before, after)``, labelled ``("before cleaning", "after cleaning")``.
        """
        from ..mitigation._retrain import retrain

        return retrain(self, estimator, test=test, sensitive=sensitive, features=features,
                       positive_label=positive_label, n_boot=n_boot, random_state=random_state)

    def with_comparison(self, comparison: ComparisonResult) -> CleaningPlan:
        """This plan carrying ``comparison`` (shown in its report)."""
        return replace(self, comparison=comparison)

    def card_text(self) -> str:
        """A paragraph for a model card: what was removed and, when retrained, the change."""
        parts = [f"{r.Index}: {r.removed:,} row{'' if r.removed == 1 else 's'}"
                 for r in self.steps.itertuples()]
        text = (f"Training data cleaned before fitting (MLClean, Tae et al. 2019): "
                f"{'; '.join(parts)} removed of {self.n_rows:,} ({self.n_removed:,} in all); "
                f"the rest reweighed so group × label balance is kept.")
        worst = self._disproportionate()
        if len(worst):
            text += " Removed disproportionately: " + ", ".join(
                f"{s} = {g} ({r:.2g}× the overall share)" for (s, g), r in worst.items()) + "."
        return f"{text} {self.comparison.card_text()}" if self.comparison else text

    def _disproportionate(self) -> pd.Series:
        """Ratio of every group removed at least DISPROPORTION times the data's, all steps."""
        if self.by_group.empty:
            return pd.Series(dtype=float)
        total = self.by_group.xs("all steps", level="step")["ratio"]
        return total[total >= DISPROPORTION]

    def summary(self) -> dict:
        return {"rows": self.n_rows, "removed": self.n_removed,
                **{f"removed_{name}": int(n) for name, n in self.steps["removed"].items()},
                "disproportionate_groups": len(self._disproportionate())}

    def sections(self) -> list[Section]:
        shown = self.steps.assign(examples=[_labels_text(self.removed[s]) for s in self.steps.index])
        text = (f"{self.n_rows:,} rows; the steps run in order, each on the rows the ones "
                f"before kept, and remove {self.n_removed:,} rows in all. apply() returns the "
                "rest with Reweighing weights (Kamiran & Calders 2012) so every sensitive "
                "group keeps the label distribution of the cleaned data (MLClean, Tae et al. "
                "2019).")
        out = [Section("Cleaning plan", text, shown,
                       notes={"examples": "index labels of the first rows removed"})]
        if not self.by_group.empty:
            marks = np.flatnonzero(self.by_group["ratio"].to_numpy() >= DISPROPORTION)
            out.append(Section("Removals by group", "What each step removes of every sensitive "
                               "group, against the share of all rows it removes.",
                               self.by_group, notes=_GROUP_NOTES,
                               marks={"ratio": set(map(int, marks))}))
        if self.comparison is not None:
            compared = self.comparison.sections()
            out += [replace(compared[0], title="Retrained before and after cleaning"),
                    *compared[1:]]
        return out


def _labels_text(labels: np.ndarray) -> str:
    shown = ", ".join(map(str, labels[:_SHOWN_LABELS].tolist()))
    return shown + (f", … ({len(labels):,} in all)" if len(labels) > _SHOWN_LABELS else "")


@dataclass(frozen=True, repr=False)
class RemovalResult(Result):
    """The effect of removing rows from the training data (model disgorgement, Achille et al.
    2023): a clone of the model retrained without them, audited beside one trained on all rows.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per removal (``rows`` given, or each slice of a :class:`SliceResult`: leave one
        slice out), indexed by ``removal``: ``rows_removed``, ``accuracy`` before and after
        and its ``accuracy_change``, then for every disparity its value ``after``, its
        ``change`` and whether the change is beyond noise (the two audits' intervals are
        disjoint), e.g. ``demographic_parity_difference_change``.
    comparisons : tuple of ComparisonResult
        ``compare(all rows, without)`` of each removal, in the table's order.
    model_name : str
    train_rows, test_rows : int
    models : tuple of estimators
        The model retrained without each removal, in the table's order.
    base_model : estimator
        The clone trained on every row.
    """

    kind: ClassVar[str] = "removal"

    table: pd.DataFrame
    comparisons: tuple
    model_name: str
    train_rows: int
    test_rows: int
    models: tuple = field(default=(), compare=False)
    base_model: object = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return f"{self.model_name} retrained without rows"

    @property
    def comparison(self) -> ComparisonResult:
        """The comparison of the first (or only) removal."""
        return self.comparisons[0]

    def summary(self) -> dict:
        first = self.table.iloc[0]
        return {"removals": len(self.table), "train_rows": self.train_rows,
                "test_rows": self.test_rows, "accuracy_before": first["accuracy_before"],
                "largest_accuracy_change": float(self.table["accuracy_change"].abs().max())}

    def sections(self) -> list[Section]:
        text = (f"A clone of {self.model_name} trained on all {self.train_rows:,} training rows "
                f"and one trained without each removal, both audited on the same "
                f"{self.test_rows:,} test rows. A change is beyond noise when the two audits' "
                "bootstrap intervals are disjoint.")
        out = [Section("Removals", text, self.table)]
        if len(self.comparisons) == 1:
            compared = self.comparison.sections()
            out += [replace(compared[0], title="With and without the rows"), *compared[1:]]
        return out
