"""``rai_nb.clean``: a cleaning plan from ``validate``'s findings, with what it removes per group."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks.cleaning import minority_label_mask, repeat_mask
from ..errors import BAD_OPTION, RaiError
from ..findings._grading import _thresholds
from ..findings._label_checks import _label_errors
from ..frame._columns import require_frame
from ..frame._validation_context import check_options, pandas_context, sensitive_specs
from ..mitigation._retrain import retrain
from ..results._cleaning import STEP_TEXT, CleaningPlan

#: Every step, in the order the default runs them (``out_of_distribution`` only with a reference).
STEPS = ("duplicates", "conflicting_labels", "label_errors", "out_of_distribution")
#: Steps that read the target's classes.
_CLASS_STEPS = {"conflicting_labels", "label_errors"}
NEED_CLASSES = ("steps {steps} need a class target; {target!r} has more than "
                "{limit} distinct values")


def clean(
    data: pd.DataFrame,
    *,
    target,
    sensitive=None,
    reference: pd.DataFrame | None = None,
    estimator=None,
    test: pd.DataFrame | None = None,
    steps=None,
    features=None,
    positive_label=None,
    label_error_rows: int | None = None,
    n_boot: int = 200,
    random_state=0,
) -> CleaningPlan:
    """Plan the cleaning of training data: the rows each step removes, per sensitive group.

    MLClean (Tae et al., "Data Cleaning for Accurate, Fair, and Robust Models", DEEM 2019)
    cleans and reweighs together, so that cleaning does not quietly unbalance one group. The
    steps reuse :func:`rai_nb.validate`'s checks: the row hashes behind ``duplicates`` and
    ``conflicting_labels`` and the out-of-fold model behind ``label_errors``. They run in the
    order given, each on the rows the steps before it kept.

    Parameters
    ----------
    data : pandas.DataFrame
        Training rows with the target (and sensitive columns). Never modified.
    target : str
        The label column (classes for ``conflicting_labels`` and ``label_errors``).
    sensitive : str, list or dict, optional
        Sensitive columns, grouped as in :func:`rai_nb.validate` (numeric ones binned): the
        removals are reported per group and :meth:`CleaningPlan.apply` reweighs their
        intersection.
    reference : pandas.DataFrame, optional
        Reference data (e.g. the rows the model will serve, or trusted earlier data) for the
        ``out_of_distribution`` step.
    estimator : estimator, optional
        When given with ``test``, clones are fitted before and after cleaning and compared
        (:meth:`CleaningPlan.retrain`); the plan carries the comparison.
    test : pandas.DataFrame, optional
        Held-out rows for that comparison.
    steps : str or sequence of str, optional
        The steps, in order: ``duplicates`` (exact copies of an earlier row), ``conflicting_labels``
        (the minority labels of rows whose features are all equal), ``label_errors`` (confident
        learning on 3-fold out-of-fold gradient-boosted trees), ``out_of_distribution`` (rows
        farther from ``reference`` than 99 % of its own rows are, by
        ``rai_nb.drift(reference, rows, rows=True)``'s nearest-neighbour distance — the rule
        of :func:`rai_nb.ood_filter`). Default: all four, the last only with ``reference``.
    features, positive_label, n_boot :
        Passed to :meth:`CleaningPlan.retrain` when ``estimator`` is given.
    label_error_rows : int, optional
        Rows the label-error model is fitted on (a seeded content sample; default every row).
    random_state : int, default 0
        Seed of the label-error sample, folds and model, and of the audits' bootstrap.

    Returns
    -------
    CleaningPlan

    Raises
    ------
    RaiError
        For a frame that is not a DataFrame or is empty, an unknown step, a missing column,
        class steps on a numeric target, or ``estimator`` without ``test``.

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> df = pd.DataFrame({"x": [1, 1, 2, 2, 3], "g": list("aabbb"), "y": [0, 0, 1, 0, 1]})
    >>> plan = rai_nb.clean(df, target="y", sensitive="g",
    ...                     steps=["duplicates", "conflicting_labels"])
    >>> {step: labels.tolist() for step, labels in plan.removed.items()}
    {'duplicates': [1], 'conflicting_labels': [2, 3]}
    """
    require_frame(data, "data")
    names = _steps(steps, reference)
    if estimator is not None and test is None:
        raise RaiError("estimator needs test=: the held-out rows to audit both models on")

    def context(rows: pd.DataFrame):
        n = max(len(rows), 2) if label_error_rows is None else label_error_rows
        # A fresh RangeIndex: label_errors reports positions, whatever the user's index.
        return pandas_context(
            rows.reset_index(drop=True), reference, target=target,
            sensitive=sensitive_specs(sensitive), prediction=None, positive_label=None,
            sample_weight=None, thresholds=_thresholds(None), random_state=random_state,
            options=check_options(numeric_method="auto", categorical_method="auto",
                                  n_permutations=2, mmd_rows=2, label_error_rows=n))

    full = context(data)
    _check_classes(full.target, names)
    kept, removed = np.arange(len(data)), {}
    for name in names:
        ctx = full if len(kept) == len(data) else context(data.iloc[kept])
        drop = _REMOVES[name](ctx, rows=data.iloc[kept], reference=reference,
                              random_state=random_state)
        removed[name], kept = kept[drop], kept[~drop]
    plan = _plan(data, full, names, removed, kept)
    if estimator is None:
        return plan
    return plan.with_comparison(retrain(plan, estimator, test=test, features=features,
                                        positive_label=positive_label, n_boot=n_boot,
                                        random_state=random_state))


def _steps(steps, reference) -> tuple:
    if steps is None:
        return STEPS if reference is not None else STEPS[:-1]
    names = (steps,) if isinstance(steps, str) else tuple(steps)
    if not names:
        raise RaiError("steps must name at least one step")
    for name in names:
        if name not in STEPS:
            raise RaiError(BAD_OPTION.format(argument="steps", allowed=", ".join(STEPS),
                                             value=name))
    if len(set(names)) < len(names):
        raise RaiError(f"steps must not repeat a step, got {list(names)}")
    if "out_of_distribution" in names and reference is None:
        raise RaiError("step 'out_of_distribution' needs reference=: the data rows are scored "
                       "against it")
    if reference is not None:
        require_frame(reference, "reference")
    return names


def _check_classes(target, names: tuple) -> None:
    needing = [n for n in names if n in _CLASS_STEPS]
    if needing and not target.classes:
        raise RaiError(NEED_CLASSES.format(steps=needing, target=target.name,
                                           limit=target.MAX_CLASSES))


def _duplicate_rows(ctx, **_) -> np.ndarray:
    from ..backend import to_host

    return to_host(repeat_mask(ctx.row_hash, xp=ctx.xp))


def _conflicting_rows(ctx, **_) -> np.ndarray:
    from ..backend import to_host

    return to_host(minority_label_mask(ctx.feature_hash, ctx.device(ctx.target.codes),
                                       n_labels=len(ctx.target.levels), xp=ctx.xp))


def _label_error_rows(ctx, **_) -> np.ndarray:
    flagged = _label_errors(ctx).details
    drop = np.zeros(ctx.cur.n_rows, dtype=bool)
    if flagged is not None:
        drop[flagged.index.to_numpy(dtype=np.int64)] = True
    return drop


def _distant_rows(ctx, *, rows: pd.DataFrame, reference: pd.DataFrame,
                  random_state) -> np.ndarray:
    """Rows farther from ``reference`` than 99 % of its own rows are (``ood_filter``'s rule)."""
    from ._validate import drift

    shared = [c for c in rows.columns if c != ctx.target.name and c in reference.columns]
    found = drift(reference, rows.reset_index(drop=True), columns=shared, rows=True, mmd=False,
                  random_state=random_state).rows
    return found.scores["distance"].to_numpy() > found.reference_distance[99]


#: Step → the boolean rows of the context (the rows kept so far) it removes.
_REMOVES = {"duplicates": _duplicate_rows, "conflicting_labels": _conflicting_rows,
            "label_errors": _label_error_rows, "out_of_distribution": _distant_rows}


def _plan(data: pd.DataFrame, full, names: tuple, removed: dict, kept: np.ndarray) -> CleaningPlan:
    n = len(data)
    counts = np.array([len(removed[s]) for s in names])
    steps = pd.DataFrame({"removed": counts, "share": counts / n,
                          "rows_left": n - np.cumsum(counts),
                          "what": [STEP_TEXT[s] for s in names]},
                         index=pd.Index(list(names), name="step"))
    groups = full.groups.codes if full.sensitive else np.zeros(n, dtype=np.int64)
    return CleaningPlan(
        target=full.target.name, sensitive=tuple(f.name for f in full.sensitive), n_rows=n,
        steps=steps, removed={s: np.asarray(data.index[removed[s]]) for s in names},
        by_group=_by_group(full, names, removed), data=data, kept=kept, groups=groups)


def _by_group(full, names: tuple, removed: dict) -> pd.DataFrame:
    """Rows removed per step (and by all steps) of each group of each sensitive column and,
    with several, of their intersection."""
    columns = [*full.sensitive] + ([full.groups] if len(full.sensitive) > 1 else [])
    parts = {**{s: removed[s] for s in names},
             "all steps": np.concatenate([removed[s] for s in names])}
    frames = []
    for step, rows in parts.items():
        for column in columns:
            name = column.name if isinstance(column.name, str) else " × ".join(column.name)
            levels = [" · ".join(map(str, lv)) if isinstance(lv, tuple) else lv
                      for lv in column.levels]
            size = np.bincount(column.codes, minlength=len(levels))
            cut = np.bincount(column.codes[rows], minlength=len(levels))
            overall = len(rows) / len(column.codes)
            frames.append(pd.DataFrame({
                "step": step, "sensitive": name, "group": levels, "rows": size, "removed": cut,
                "share": cut / np.maximum(size, 1), "overall_share": overall}))
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    ratio = table["share"] / table["overall_share"].where(table["overall_share"] > 0)
    keys = ["step", "sensitive", "group"]
    # Levels in order of appearance: the index stays in step order and is lexsorted, so
    # ``by_group.loc[(step, column)]`` works without pandas' PerformanceWarning.
    index = pd.MultiIndex.from_arrays(
        [pd.Categorical(table[k], categories=pd.unique(table[k])) for k in keys], names=keys)
    return table.drop(columns=keys).assign(ratio=ratio.to_numpy()).set_index(index)
