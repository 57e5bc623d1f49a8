"""The estimator behind :func:`rai_nb.ood_filter` (scikit-learn is imported with this module)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from ..errors import BAD_OPTION, RaiError
from ..findings._row_drift import RowScorer, calibration_distances, hashes_by_name, neighbour_sample
from ..frame._tabular import encode_tables
from ..frame._validation_context import finite_or_nan

ACTIONS = ("abstain", "flag")


class OODFilter(BaseEstimator):
    """A model that abstains on, or flags, rows far from its reference data.

    A row's score is its distance to the ``neighbours``-th nearest reference row in the encoded
    space of :func:`rai_nb.drift` with ``rows=True`` (z-scored numbers, one-hot levels, missing
    indicators; exact against ``neighbour_rows`` reference rows, a seeded content sample when
    the reference has more). A row is out of distribution when its score exceeds
    ``threshold_``: ``threshold`` when given, else the ``quantile`` of the reference rows' own
    scores (each row not its own neighbour), so about ``1 − quantile`` of in-distribution rows
    are caught.

    Parameters
    ----------
    estimator : estimator
        The model. With ``prefit=True`` it is used as fitted (and shared, not copied, by
        :func:`sklearn.base.clone`); otherwise :meth:`fit` fits a clone on ``X, y``.
    quantile : float, default 0.99
    threshold : float, optional
        A distance to use instead of the calibrated quantile.
    action : {"abstain", "flag"}
        ``abstain``: :meth:`predict` and :meth:`predict_proba` return a
        :class:`numpy.ma.MaskedArray` whose out-of-distribution rows are masked (the data
        under the mask hold the model's answer). ``flag``: they return the model's plain
        arrays and set ``ood_`` (bool per row of the last call).
    neighbours, neighbour_rows : int
        As in :func:`rai_nb.drift`.
    prefit : bool, default False
    random_state : int, default 0
        Seed of the reference samples (neighbours, calibration).

    Attributes
    ----------
    estimator_ : the fitted model
    scorer_ : RowScorer
    threshold_ : float
    reference_scores_ : numpy.ndarray
        Percentiles 0 … 100 of the reference rows' own scores.
    ood_ : numpy.ndarray
        With ``action="flag"``, which rows of the last prediction were out of distribution.

    Examples
    --------
    >>> import numpy as np, pandas as pd, rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    >>> model = LogisticRegression().fit(X, X["x"] > 0)
    >>> guarded = rai_nb.ood_filter(model, X)
    >>> far = pd.DataFrame({"x": [0.1, 40.0], "z": [0.0, 0.0]})
    >>> guarded.predict(far).mask.tolist()
    [False, True]
    """

    def __init__(self, estimator, *, quantile: float = 0.99, threshold: float | None = None,
                 action: str = "abstain", neighbours: int = 5, neighbour_rows: int = 2_000,
                 prefit: bool = False, random_state: int = 0):
        self.estimator = estimator
        self.quantile = quantile
        self.threshold = threshold
        self.action = action
        self.neighbours = neighbours
        self.neighbour_rows = neighbour_rows
        self.prefit = prefit
        self.random_state = random_state

    def __sklearn_clone__(self):
        if not self.prefit:
            return super().__sklearn_clone__()
        return type(self)(**self.get_params(deep=False))  # the fitted model itself, not a copy

    def fit(self, X, y=None, **fit_params) -> OODFilter:
        """Fit the scorer on reference rows ``X`` (and, unless ``prefit``, a clone of the
        model on ``X, y``)."""
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise RaiError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        if self.prefit:
            self.estimator_ = self.estimator
        elif y is None:
            raise RaiError("y is needed to fit the model; for a fitted one use prefit=True "
                           "(rai_nb.ood_filter(model, reference))")
        else:
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.scorer_, own = _fit_scorer(X, _columns(self.estimator_, X), self.neighbours,
                                        self.neighbour_rows, self.random_state)
        self.reference_scores_ = np.quantile(own, np.linspace(0, 1, 101))
        self.threshold_ = float(np.quantile(own, self.quantile) if self.threshold is None
                                else self.threshold)
        return self

    def _check_params(self) -> None:
        if self.action not in ACTIONS:
            raise RaiError(BAD_OPTION.format(argument="action", allowed=list(ACTIONS),
                                             value=self.action))
        if not 0 < self.quantile <= 1:
            raise RaiError(f"quantile must be in (0, 1], got {self.quantile!r}")

    def ood_score(self, X) -> np.ndarray:
        """Each row's distance to its ``neighbours``-th nearest reference row."""
        if not isinstance(X, pd.DataFrame):
            raise RaiError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        return self.scorer_.distances(*self.scorer_.encode(X))

    def is_ood(self, X) -> np.ndarray:
        """True where a row's score exceeds ``threshold_``."""
        return self.ood_score(X) > self.threshold_

    def predict(self, X):
        """The model's predictions, masked (``abstain``) or flagged in ``ood_`` (``flag``)."""
        return self._guarded(self.estimator_.predict(X), X)

    def predict_proba(self, X):
        """The model's class probabilities, out-of-distribution rows masked or flagged."""
        return self._guarded(self.estimator_.predict_proba(X), X)

    def _guarded(self, answer, X):
        ood = self.is_ood(X)
        if self.action == "flag":
            self.ood_ = ood
            return answer
        answer = np.asarray(answer)
        mask = np.broadcast_to(ood.reshape(-1, *[1] * (answer.ndim - 1)), answer.shape)
        return np.ma.MaskedArray(answer, mask=mask.copy())

    @property
    def classes_(self):
        return self.estimator_.classes_


def _columns(model, X: pd.DataFrame) -> list:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return list(X.columns)
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise RaiError(f"reference lacks column {missing[0]!r} the model was fitted on")
    return list(names)


def _fit_scorer(X, columns, neighbours: int, neighbour_rows: int, random_state):
    """The scorer of reference ``X`` and the distances of a calibration sample of its rows."""
    if not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
        raise RaiError(f"neighbours must be a positive integer, got {neighbours!r}")
    table = encode_tables(X, columns=columns, argument="reference")[0]
    hashes = hashes_by_name(table, {})
    chosen = neighbour_sample(hashes, neighbour_rows, random_state)
    numeric = finite_or_nan(table.numeric)
    scorer = RowScorer.fit(numeric, table.codes, names=(table.numeric_names,
                                                        table.categorical_names),
                           levels=table.levels, neighbours=chosen,
                           k=min(neighbours, chosen.size - 1))
    return scorer, calibration_distances(scorer, numeric, table.codes, hashes, chosen,
                                         random_state)
