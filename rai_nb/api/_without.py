"""``rai_nb.without``: what a model would be without some of its training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import LENGTH_MISMATCH, RaiError
from ..frame._columns import require_frame
from ..results import SliceResult
from ..results._cleaning import RemovalResult

#: The label of a removal given as a mask or index labels.
GIVEN = "rows given"
LABELS = ("all rows", "without")
UNKNOWN_LABELS = "rows has {count} index label(s) not in train, e.g. {examples}"
ALL_ROWS = "rows {name!r} would remove every training row; nothing is left to fit"


def without(
    estimator,
    train: pd.DataFrame,
    *,
    rows,
    target,
    test: pd.DataFrame,
    sensitive,
    features=None,
    positive_label=None,
    n_boot: int = 200,
    random_state=0,
    n_jobs: int | None = None,
    progress: bool = True,
) -> RemovalResult:
    """Retrain a clone of ``estimator`` without some training rows and compare the audits.

    The question of model disgorgement (Achille et al., "AI Model Disgorgement", 2023): what
    would the model be had it never seen these rows? Here it is answered exactly, by
    retraining: a clone fitted on every row of ``train`` and one fitted without the rows are
    audited on the same ``test`` rows and compared with :func:`rai_nb.compare` (accuracy and
    every fairness metric per group, with bootstrap intervals).

    Parameters
    ----------
    estimator : estimator
        Fitted or not; never modified. Clones keep its parameters, ``random_state`` included,
        so a retrain is reproducible.
    train : pandas.DataFrame
        The training rows with the features and the target. Never modified.
    rows : array-like of bool, index labels, or SliceResult
        The rows to leave out: a boolean mask over ``train``'s rows, labels of ``train``'s
        index, or a :class:`SliceResult` — then each of its slices is left out in turn
        (leave one slice out: one retrain per slice, its rows matched in ``train`` by the
        slice's predicates).
    target : str
        The label column.
    test : pandas.DataFrame
        Held-out rows the models are audited on.
    sensitive : str or list of str
        Sensitive columns of the audits.
    features : list of str, optional
        Columns the model takes; default ``estimator.feature_names_in_``, else every column
        of ``train`` but the target.
    positive_label : optional
        The favourable class.
    n_boot : int, default 200
        Bootstrap resamples of the audits' intervals.
    random_state : int, default 0
        Seed of the audits' bootstrap.
    n_jobs : int, optional
        Retrains run in parallel (joblib; None: one at a time, -1: every core).
    progress : bool, default True
        Show a progress bar over the retrains.

    Returns
    -------
    RemovalResult
        ``table``: one row per removal (accuracy and every disparity, after and changed, and
        whether beyond noise); ``comparisons``: each full comparison; ``models``: the models
        retrained without each removal, ``base_model``: the one on all rows.

    Raises
    ------
    RaiError
        For frames that are not DataFrames or are empty, a mask of the wrong length, labels
        not in ``train``'s index, or a removal that leaves no row.

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> data = rai_nb.load_compas()
    >>> train, test = data.iloc[:4000], data.iloc[4000:]
    >>> features = ["priors_count", "age", "juv_fel_count"]
    >>> result = rai_nb.without(DecisionTreeClassifier(max_depth=3, random_state=0), train,
    ...                         rows=train["age"] < 25, target="two_year_recid", test=test,
    ...                         sensitive="race", features=features, n_boot=0,
    ...                         progress=False)
    >>> int(result.table["rows_removed"].iloc[0]) == int((train["age"] < 25).sum())
    True
    """
    from sklearn.base import clone

    from ..frame._model import model_features

    for argument, frame in (("train", train), ("test", test)):
        require_frame(frame, argument)
    removals = _removals(rows, train)
    features = model_features(estimator, train, target, features)
    audit_kwargs = dict(target=target, sensitive=sensitive, features=features,
                        positive_label=positive_label, explain=False, n_boot=n_boot,
                        random_state=random_state, progress=False)
    fit = (features, target, test, audit_kwargs)
    base_model, before = _fit_and_audit(clone(estimator), train, *fit)
    fitted = _retrain_all(estimator, train, removals, fit, n_jobs, progress)
    from ._compare import compare

    comparisons = tuple(compare(before, after, labels=LABELS) for _, after in fitted)
    table = pd.DataFrame([_row(name, int(mask.sum()), comparison)
                          for (name, mask), comparison in zip(removals, comparisons)])
    return RemovalResult(table=table.set_index("removal"), comparisons=comparisons,
                         model_name=before.model_name, train_rows=len(train),
                         test_rows=len(test), models=tuple(m for m, _ in fitted),
                         base_model=base_model)


def _removals(rows, train: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """``(name, boolean mask over train)`` of each removal."""
    if isinstance(rows, SliceResult):
        if rows.top.empty:
            raise RaiError("rows is a SliceResult with no slice to leave out")
        removals = [(text, rows.mask(i, train)) for i, text in enumerate(rows.top["slice"])]
    else:
        removals = [(GIVEN, _mask(rows, train))]
    for name, mask in removals:
        if mask.all():
            raise RaiError(ALL_ROWS.format(name=name))
    return removals


def _mask(rows, train: pd.DataFrame) -> np.ndarray:
    if rows is None or isinstance(rows, (str, bytes)):
        raise RaiError(f"rows must be a boolean mask, index labels or a SliceResult, got {rows!r}")
    values = np.asarray(rows)
    if values.dtype == bool:
        if values.shape != (len(train),):
            raise RaiError(LENGTH_MISMATCH.format(argument="rows", got=values.size,
                                                  expected=len(train)))
        return values.copy()
    labels = pd.Index(values.reshape(-1))
    unknown = labels[~labels.isin(train.index)]
    if len(unknown):
        raise RaiError(UNKNOWN_LABELS.format(count=len(unknown), examples=list(unknown[:3])))
    return train.index.isin(labels)


def _fit_and_audit(model, rows: pd.DataFrame, features, target, test, audit_kwargs):
    from ._audit import audit

    model.fit(rows[features], rows[target])
    return model, audit(model, test, **audit_kwargs)


def _retrain_all(estimator, train, removals, fit, n_jobs, progress) -> list[tuple]:
    """``(model, audit)`` of a clone fitted without each removal, in order."""
    from joblib import Parallel, delayed
    from sklearn.base import clone

    from .._progress import progress_bar

    jobs = (delayed(_fit_and_audit)(clone(estimator), train[~mask], *fit)
            for _, mask in removals)
    out = []
    with progress_bar(total=len(removals), desc="retraining", enabled=progress) as bar:
        for done in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            out.append(done)
            bar.update(1)
    return out


def _row(name: str, removed: int, comparison) -> dict:
    """One line of the removals table from a comparison of ``all rows`` and ``without``."""
    before, after = LABELS
    accuracy = comparison.tables["by_group"].loc["accuracy"]
    overall = accuracy[[key[-1] == "(all rows)" if isinstance(key, tuple) else
                        key == "(all rows)" for key in accuracy.index]].iloc[0]
    row = {"removal": name, "rows_removed": removed, "accuracy_before": overall[before],
           "accuracy_after": overall[after], "accuracy_change": overall["change"]}
    for metric, values in comparison.tables["disparities"].iterrows():
        row[f"{metric}_after"] = values[after]
        row[f"{metric}_change"] = values["change"]
        row[f"{metric}_beyond_noise"] = values["verdict"] == "change beyond noise"
    return row
