"""What the re-weighting mitigators and the remedies that refit share: labels as codes, row
weights, weighted refits, stratified held-out splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.metaestimators import available_if

from ..errors import BAD_OPTION, LENGTH_MISMATCH, UNKNOWN_POSITIVE, RaiError
from ..frame._bias import encode_weights
from ..frame._task import class_codes

NO_SAMPLE_WEIGHT = (
    "estimator {name}.fit takes no sample_weight, which {method} needs; use one that does "
    "(LogisticRegression, SGDClassifier, trees, boosting) or a Pipeline whose last step does"
)
NOT_BINARY = "{method} needs a binary target; y has {count} classes {classes}"


@dataclass(frozen=True)
class Labels:
    """The target as given (``values``, for the inner estimator), its sorted ``classes`` and
    the class code of each row; ``positive`` is the code of the favourable class."""

    values: pd.Series
    classes: np.ndarray
    codes: np.ndarray
    positive: int

    @property
    def is_positive(self) -> np.ndarray:
        return (self.codes == self.positive).astype(np.int8)


def encode_labels(y, n_rows: int, positive_label=None, *, method: str | None = None) -> Labels:
    """``y`` checked and coded; ``method`` set means a binary target is required.

    The positive class is ``positive_label`` when given, else the second of the sorted classes
    (scikit-learn's convention: 1 for 0/1 labels, True for booleans).
    """
    values = y.reset_index(drop=True) if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
    if values.ndim != 1 or len(values) != n_rows:
        raise RaiError(LENGTH_MISMATCH.format(argument="y", got=len(values), expected=n_rows))
    codes, classes = class_codes("y", values, None, argument="y")
    classes = pd.Index(classes).to_numpy()  # the dtype factorize gives: numbers stay numbers
    if len(classes) < 2 or (method is not None and len(classes) != 2):
        raise RaiError(NOT_BINARY.format(method=method or "fitting", count=len(classes),
                                         classes=classes.tolist()[:10]))
    if positive_label is None:
        positive = 1
    else:
        hits = np.flatnonzero(classes == positive_label)
        if len(hits) == 0:
            raise RaiError(UNKNOWN_POSITIVE.format(value=positive_label, column="y",
                                                   values=classes.tolist()[:10]))
        positive = int(hits[0])
    return Labels(values, classes, codes, positive)


def row_weights(sample_weight, n_rows: int) -> np.ndarray:
    """``sample_weight`` as checked float64 (a copy), or ones."""
    if sample_weight is None:
        return np.ones(n_rows)
    values = pd.Series(np.asarray(sample_weight))
    if values.ndim != 1 or len(values) != n_rows:
        raise RaiError(LENGTH_MISMATCH.format(argument="sample_weight", got=len(values),
                                              expected=n_rows))
    return encode_weights("sample_weight", values)


def check_constraint(constraint, supported: tuple, method: str) -> None:
    """RaiError listing the ``supported`` constraints when ``constraint`` is not one."""
    if constraint not in supported:
        raise RaiError(BAD_OPTION.format(argument=f"constraint of {method}", allowed=supported,
                                         value=constraint))


def weight_parameter(estimator, method: str) -> str:
    """The fit keyword that carries row weights: ``sample_weight``, or for a Pipeline
    ``<last step>__sample_weight``; RaiError naming the estimator when it takes none."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import has_fit_parameter

    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        if has_fit_parameter(last, "sample_weight"):
            return f"{name}__sample_weight"
        estimator = last
    elif has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    raise RaiError(NO_SAMPLE_WEIGHT.format(name=type(estimator).__name__, method=method))


def weighted_fit(estimator, X: pd.DataFrame, y: pd.Series, weights: np.ndarray, method: str):
    """A clone of ``estimator`` fitted on ``X``, ``y`` with row ``weights`` (the user's
    estimator is left as it was)."""
    from sklearn.base import clone

    parameter = weight_parameter(estimator, method)
    return clone(estimator).fit(X, y, **{parameter: weights})


def stratified_split(strata: np.ndarray, test_size: float, random_state) -> np.ndarray:
    """Which rows are held out: ``round(test_size × size)`` rows of each stratum, drawn
    uniformly (a random order within each stratum, its first rows taken).

    Parameters
    ----------
    strata : array of int64, shape (n,)
        The stratum code of each row (non-negative).
    test_size : float
        Share of each stratum held out.
    random_state : int, Generator or None

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    order = np.lexsort((np.random.default_rng(random_state).random(len(strata)), strata))
    ordered = strata[order]
    rank = np.arange(len(strata)) - np.searchsorted(ordered, ordered)
    taken = np.round(np.bincount(strata) * test_size)
    held = np.zeros(len(strata), dtype=bool)
    held[order] = rank < taken[ordered]
    return held


def positive_probability(model, X: pd.DataFrame, positive_label) -> np.ndarray:
    """The fitted ``model``'s probability of ``positive_label``: ``predict_proba``, else the
    logistic of ``decision_function``; RaiError when it has neither."""
    column = int(np.flatnonzero(np.asarray(model.classes_) == positive_label)[0])
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=np.float64)[:, column]
    if hasattr(model, "decision_function"):
        margin = np.asarray(model.decision_function(X), dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-margin if column == 1 else margin))
    raise RaiError(f"estimator {type(model).__name__} has neither predict_proba nor "
                   "decision_function; FairBatch needs the loss of each row")


def _inner_has(name: str):
    return lambda self: hasattr(self.estimator, name)


class InnerModelMixin:
    """``predict`` and ``predict_proba`` of a mitigator whose fitted ``estimator_`` is one
    ordinary model (its predictions do not depend on the groups)."""

    def predict(self, X, *, sensitive_features=None):
        """The fitted inner model's class labels for the rows of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows holding the columns the model was fitted on (others are ignored).
        sensitive_features : ignored
            Accepted for the common mitigator interface: the model does not read the groups.

        Returns
        -------
        numpy.ndarray
            Labels among ``classes_``.
        """
        return self.estimator_.predict(self._model_input(X))

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, *, sensitive_features=None):
        """The fitted inner model's class probabilities, columns in ``classes_`` order."""
        return self.estimator_.predict_proba(self._model_input(X))

    def _model_input(self, X) -> pd.DataFrame:
        from sklearn.utils.validation import check_is_fitted

        from ._inputs import estimator_input, require_frame

        check_is_fitted(self)
        return estimator_input(self.estimator_, require_frame(X))
