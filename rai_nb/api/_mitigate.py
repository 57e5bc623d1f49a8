"""``rai_nb.mitigate``: fit a fairness mitigation, trace its trade-off, audit before and after."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..errors import BAD_OPTION, RaiError
from ..frame._columns import require_frame
from ..frame._model import model_features
from ..results._mitigation import (
    CONSTRAINT_DISPARITY,
    FIT_ROWS,
    HELD_OUT,
    UNMITIGATED,
    MitigationResult,
    pareto_charts,
)
from ._audit import audit
from ._compare import compare

#: Method → (mitigator class in rai_nb.mitigation, the constraints it supports, whether it takes
#: ``tol``).
METHODS = {
    "thresholds": ("ThresholdClassifier", tuple(CONSTRAINT_DISPARITY), True),
    "reweighing": ("Reweighing", ("demographic_parity",), False),
    "fairbatch": ("FairBatch", ("equal_opportunity", "equalized_odds", "demographic_parity"),
                  False),
    "exponentiated_gradient": ("Reduction", tuple(CONSTRAINT_DISPARITY), True),
    "grid_search": ("Reduction", tuple(CONSTRAINT_DISPARITY), True),
}
#: Constructor arguments mitigate sets itself (``options`` may not).
_SET_HERE = {"estimator", "sensitive", "constraint", "positive_label", "random_state", "tol",
             "method", "prefit"}
#: The tolerances a thresholds trade-off traces (beside the one asked for).
TOLS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
NO_TOL = ("tol applies to thresholds and the reductions; {method} has no tolerance, so leave "
          "tol at 0")
BAD_OPTIONS = "options {unknown} are not arguments of {name}; it takes {known}"


def mitigate(
    model,
    data: pd.DataFrame,
    *,
    target,
    sensitive,
    method: str = "thresholds",
    constraint: str = "demographic_parity",
    test: pd.DataFrame | None = None,
    test_size: float = 0.3,
    tol: float = 0.0,
    positive_label=None,
    features=None,
    explain: bool = False,
    random_state=0,
    n_boot: int = 200,
    options: dict | None = None,
) -> MitigationResult:
    """Mitigate ``model`` for a fairness constraint and audit it before and after.

    Parameters
    ----------
    model : estimator
        For ``method="thresholds"`` a fitted classifier, whose scores are post-processed;
        for the other methods any classifier whose ``fit`` takes ``sample_weight`` (fitted
        or not): clones of it are refitted. Never modified.
    data : pandas.DataFrame
        Rows with the features, the target and the sensitive columns. Never modified.
    target : str
        Column of the true labels.
    sensitive : str or list of str
        Sensitive column(s); several give intersectional groups.
    method : {"thresholds", "reweighing", "fairbatch", "exponentiated_gradient", \
"grid_search"}
        Post-processing by per-group thresholds (:class:`rai_nb.mitigation.ThresholdClassifier`),
        pre-processing by Reweighing or FairBatch, or fairlearn's reductions
        (:class:`rai_nb.mitigation.Reduction`).
    constraint : {"demographic_parity", "equal_opportunity", "equalized_odds", \
"false_positive_rate_parity"}
        The rates equalised across groups; each method supports some (an unsupported one
        raises :class:`RaiError` listing them).
    test : pandas.DataFrame, optional
        Held-out rows for the audits and the trade-off; default: ``test_size`` of ``data``
        split off, stratified by group × label. The mitigation is fitted on the other rows
        (on all of ``data`` when ``test`` is given).
    test_size : float, default 0.3
        Share of ``data`` held out when ``test`` is not given.
    tol : float, default 0
        Largest gap allowed between groups in the constraint's rates: the thresholds' ``tol``,
        the reductions' ``difference_bound``. Reweighing and FairBatch have none.
    positive_label : optional
        The favourable class; default the second of the sorted classes (1 for 0/1 labels).
    features : list of str, optional
        Columns the model takes; default ``model.feature_names_in_``, else every column but
        the target. The refitting methods fit on these; groups are read from ``sensitive``.
    explain : bool, default False
        Explain both audited models with SHAP (slower).
    random_state : int or None, default 0
        Seed of the split, of randomized predictions and of the audits' bootstrap.
    n_boot : int, default 200
        Bootstrap resamples of the audits' intervals.
    options : dict, optional
        Further arguments of the mitigator: ``objective``, ``randomized`` (thresholds);
        ``n_rounds``, ``alpha``, ``batch_size`` (FairBatch); for the reductions fairlearn's
        own keywords (``eps``, ``max_iter``, ``grid_size``, ...).

    Returns
    -------
    MitigationResult
        The mitigated model (``.model``), the audits ``before`` and ``after`` on the same
        held-out rows, their ``comparison``, and every candidate's accuracy and disparities
        on the held-out rows (``.candidates``) with a Pareto chart. For the refitting methods
        ``before`` is the same estimator refitted on the same rows without mitigation, so the
        comparison isolates the mitigation; for thresholds it is ``model`` as given. The
        thresholds' mitigated model reads the sensitive columns when it predicts.

    Raises
    ------
    RaiError
        For an unknown method, a constraint the method does not support, bad ``options``,
        ``test_size`` or ``tol``, and whatever the mitigator refuses.

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> data = rai_nb.load_compas()
    >>> features = ["priors_count", "age", "juv_fel_count"]
    >>> model = LogisticRegression(max_iter=1000).fit(data[features], data["two_year_recid"])
    >>> result = rai_nb.mitigate(model, data, target="two_year_recid", sensitive="sex",
    ...                          n_boot=0)
    >>> result.candidates["demographic_parity_difference"].iloc[1] < 0.01
    np.True_
    """
    names = _sensitive_names(sensitive)
    _check_choices(method, constraint, tol)
    fit, held_out = _rows(data, test, target, names, test_size, random_state)
    features = model_features(model, data, target, features)
    labels = fit[target]
    mitigator = _mitigator(model, method, constraint, names, tol, positive_label,
                           random_state, options)
    refit = method != "thresholds"
    if refit:
        from sklearn.base import clone

        before_model = clone(model).fit(fit[features], labels)
        mitigator.fit(fit[features], labels, sensitive_features=fit[names])
        after_features = features
    else:
        before_model = model
        after_features = [*features, *(n for n in names if n not in features)]
        mitigator.fit(fit[after_features], labels)
    kwargs = dict(target=target, sensitive=names, positive_label=positive_label,
                  explain=explain, n_boot=n_boot, random_state=random_state, progress=False)
    before = audit(before_model, held_out, features=features, **kwargs)
    after = audit(mitigator, held_out, features=after_features, **kwargs)
    candidates = _candidates(method, mitigator, before_model, fit, held_out, target, names,
                             features, after_features, tol, positive_label)
    chosen = candidates.loc[candidates["chosen"], "candidate"].iloc[0]
    return MitigationResult(
        method=method, constraint=constraint, tol=float(tol), before=before, after=after,
        comparison=compare(before, after), candidates=candidates, chosen=chosen,
        fit_rows=len(fit), refit=refit, model=mitigator,
        **pareto_charts(candidates, CONSTRAINT_DISPARITY[constraint], chosen))


def _sensitive_names(sensitive) -> list:
    names = [sensitive] if isinstance(sensitive, str) else sensitive
    if not isinstance(names, (list, tuple)) or not names \
            or not all(isinstance(n, str) for n in names):
        raise RaiError(f"sensitive must be a column name or a list of them, got {sensitive!r}")
    return list(names)


def _check_choices(method, constraint, tol) -> None:
    if method not in METHODS:
        raise RaiError(BAD_OPTION.format(argument="method", allowed=", ".join(METHODS),
                                         value=method))
    _, supported, takes_tol = METHODS[method]
    if constraint not in supported:
        raise RaiError(BAD_OPTION.format(argument=f"constraint of method {method!r}",
                                         allowed=", ".join(supported), value=constraint))
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 <= tol < np.inf:
        raise RaiError(f"tol must be a finite number >= 0, got {tol!r}")
    if tol and not takes_tol:
        raise RaiError(NO_TOL.format(method=method))


def _rows(data, test, target, names, test_size, random_state) -> tuple:
    """The fit rows and the held-out rows (``test``, else a stratified split of ``data``)."""
    for argument, frame in (("data", data), ("test", test)):
        if frame is None:
            continue
        require_frame(frame, argument)
    if test is not None:
        return data, test
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) \
            or not 0 < test_size < 1:
        raise RaiError(f"test_size must be a number between 0 and 1, got {test_size!r}")
    from ..mitigation._fitting import stratified_split

    held = stratified_split(_strata(data, target, names), test_size, random_state)
    if held.all() or not held.any():
        raise RaiError(f"test_size={test_size:g} of {len(data):,} rows leaves no "
                       f"{'fit' if held.all() else 'held-out'} rows; pass test= or more data")
    return data[~held], data[held]


def _strata(data: pd.DataFrame, target, names: list) -> np.ndarray:
    """A code per group × label of every row."""
    from ..frame._columns import column_values
    from ..mitigation._fitting import encode_labels
    from ..mitigation._inputs import sensitive_groups

    groups = sensitive_groups(data, names)
    labels = encode_labels(column_values(data, target, argument="target")[1], len(data))
    return groups.codes * len(labels.classes) + labels.codes


def _mitigator(model, method, constraint, names, tol, positive_label, random_state, options):
    """The unfitted mitigator of ``method`` with ``options`` checked against its arguments."""
    from .. import mitigation

    cls = getattr(mitigation, METHODS[method][0])
    known = set(_parameters(cls)) - _SET_HERE
    if options is not None and not isinstance(options, dict):
        raise RaiError(f"options must be a dict, got {type(options).__name__}")
    options = dict(options or {})
    kwargs = {"constraint": constraint, "random_state": random_state}
    if method == "thresholds":
        kwargs.update(tol=float(tol), sensitive=names)
    elif method == "reweighing":
        kwargs = {}
    elif cls is mitigation.Reduction:
        fairlearn = {k: options.pop(k) for k in list(options) if k not in known}
        if not {"difference_bound", "ratio_bound"} & set(fairlearn):
            fairlearn["difference_bound"] = float(tol)
        kwargs.update(method=method, options=fairlearn)
    unknown = sorted(set(options) - known)
    if unknown:
        raise RaiError(BAD_OPTIONS.format(unknown=unknown, name=cls.__name__,
                                          known=sorted(known)))
    return cls(model, positive_label=positive_label, **kwargs, **options)


def _parameters(cls) -> list:
    import inspect

    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def _candidates(method, mitigator, before_model, fit, held_out, target, names, features,
                after_features, tol, positive_label) -> pd.DataFrame:
    """Every candidate's accuracy and disparities on the held-out rows (the unmitigated model
    first), then any training-time rows of the method."""
    from ..mitigation._candidates import TRADEOFF_COLUMNS

    score = _scorer(held_out, target, names, mitigator.classes_, positive_label)
    rows = [{"candidate": UNMITIGATED, "rows": HELD_OUT, "chosen": False,
             **score(_onehot(before_model.predict(held_out[features]), mitigator.classes_))}]
    if method == "thresholds":
        rows += _threshold_rows(mitigator, fit, held_out, target, after_features, tol, score)
    elif method in ("exponentiated_gradient", "grid_search"):
        rows += _reduction_rows(mitigator, held_out[features], score)
    else:
        rows.append({"candidate": method, "rows": HELD_OUT, "chosen": True,
                     **score(_onehot(mitigator.predict(held_out[features]),
                                     mitigator.classes_))})
    table = pd.DataFrame(rows)
    if method == "fairbatch":
        training = mitigator.candidates_.drop(columns=[c for c in mitigator.candidates_
                                                       if c.startswith("lambda[")])
        table = pd.concat([table, training.assign(rows=FIT_ROWS, chosen=False)],
                          ignore_index=True)
    scores = ["accuracy", *TRADEOFF_COLUMNS]
    knobs = [c for c in table.columns if c not in ("candidate", "rows", "chosen", *scores)]
    return table[["candidate", "rows", "chosen", *knobs, *scores]]


def _threshold_rows(mitigator, fit, held_out, target, after_features, tol, score) -> list:
    """One candidate per tolerance: the thresholds re-fitted at each on the fit rows."""
    from sklearn.base import clone

    rows = []
    for value in sorted({*TOLS, float(tol)}):
        model = mitigator if value == tol else clone(mitigator).set_params(tol=value).fit(
            fit[after_features], fit[target])
        rows.append({"candidate": f"tol={value:g}", "rows": HELD_OUT, "chosen": value == tol,
                     "tol": value, **score(model.predict_proba(held_out[after_features]))})
    return rows


def _reduction_rows(mitigator, inputs: pd.DataFrame, score) -> list:
    """Grid search: every grid point; exponentiated gradient: every predictor and the
    randomized mixture (exact expected values)."""
    fitted = mitigator.estimator_
    classes, positive = mitigator.classes_, mitigator.positive_code_

    def labels(predictor):
        return classes[np.where(np.asarray(predictor.predict(inputs)) == 1, positive,
                                1 - positive)]

    if mitigator.method == "grid_search":
        return [{"candidate": f"grid point {i}", "rows": HELD_OUT, "chosen": i == fitted.best_idx_,
                 "grid_point": i, **score(_onehot(labels(h), classes))}
                for i, h in enumerate(fitted.predictors_)]
    rows = [{"candidate": f"predictor {i}", "rows": HELD_OUT, "chosen": False,
             "weight": float(w), **score(_onehot(labels(h), classes))}
            for i, (h, w) in enumerate(zip(fitted.predictors_, fitted.weights_))]
    return [*rows, {"candidate": "mixture", "rows": HELD_OUT, "chosen": True, "weight": 1.0,
                    **score(mitigator.predict_proba(inputs))}]


def _onehot(labels, classes: np.ndarray) -> np.ndarray:
    """Predicted labels as a 0/1 probability matrix over ``classes``."""
    codes = pd.Index(classes).get_indexer(np.asarray(labels))
    return (codes[:, None] == np.arange(len(classes))).astype(np.float64)


def _scorer(held_out: pd.DataFrame, target, names: list, classes: np.ndarray, positive_label):
    """``score(proba) -> dict``: accuracy and every disparity of a candidate's class
    probabilities (rows of ``held_out``, columns in ``classes`` order), from the expected
    confusion counts of the held-out groups."""
    from ..frame._columns import column_values
    from ..mitigation._candidates import tradeoff_scores
    from ..mitigation._inputs import sensitive_groups

    groups = sensitive_groups(held_out, names)
    truth = column_values(held_out, target, argument="target")[1]
    y = pd.Index(classes).get_indexer(truth.to_numpy())
    if (y < 0).any():
        raise RaiError(f"the held-out rows have {target} values never seen in the fit rows: "
                       f"{sorted(map(str, set(truth[y < 0])))[:5]}")
    order = np.arange(len(classes))
    if len(classes) == 2:  # the positive class second, as the count tensor's binary layout
        positive = 1 if positive_label is None else int(np.flatnonzero(classes == positive_label)[0])
        order, y = np.array([1 - positive, positive]), (y == positive).astype(np.int64)
    k = len(classes)
    cells = ((groups.codes * k + y) * k)[:, None] + np.arange(k)

    def score(proba: np.ndarray) -> dict:
        counts = np.bincount(cells.ravel(), weights=np.asarray(proba)[:, order].ravel(),
                             minlength=groups.n_levels * k * k)
        return tradeoff_scores(counts.reshape(groups.n_levels, k, k))
    return score
