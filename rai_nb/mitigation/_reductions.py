"""fairlearn's reductions (ExponentiatedGradient, GridSearch) behind the mitigator interface."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import BAD_OPTION, RaiError
from ._candidates import binary_scores
from ._fitting import check_constraint, encode_labels, weight_parameter
from ._inputs import estimator_input, require_frame, sensitive_groups

METHODS = ("exponentiated_gradient", "grid_search")
#: Our constraint names → fairlearn's constraint classes.
_MOMENTS = {
    "demographic_parity": "DemographicParity",
    "equal_opportunity": "TruePositiveRateParity",
    "equalized_odds": "EqualizedOdds",
    "false_positive_rate_parity": "FalsePositiveRateParity",
}
NO_WEIGHTS = ("fairlearn's reductions take no sample_weight (they set their own weights for "
              "each fit); fit without it, or use Reweighing or FairBatch")


class Reduction(ClassifierMixin, BaseEstimator):
    """fairlearn's ExponentiatedGradient or GridSearch (Agarwal et al., ICML 2018), unchanged,
    with the groups read as every rai_nb mitigator reads them.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Its ``fit`` must take ``sample_weight`` (fairlearn re-weights the rows); for a Pipeline
        the weights go to the last step unless ``options`` sets ``sample_weight_name``.
    method : {"exponentiated_gradient", "grid_search"}
    constraint : {"demographic_parity", "equal_opportunity", "equalized_odds", \
"false_positive_rate_parity"}
        fairlearn's DemographicParity, TruePositiveRateParity, EqualizedOdds or
        FalsePositiveRateParity.
    sensitive : str or list of str, optional
        Column(s) of ``X`` holding the groups (several: their intersections); or pass
        ``sensitive_features=`` to ``fit``. ``X`` reaches the estimator whole.
    positive_label : optional
        The favourable class; default the second of the sorted classes.
    options : dict, optional
        Keyword arguments for fairlearn: those of the constraint class (``difference_bound``,
        ``ratio_bound``, ``ratio_bound_slack``) go to it, the rest to ExponentiatedGradient or
        GridSearch (``eps``, ``max_iter``, ``grid_size``, ...).
    random_state : int, RandomState or None
        Draws of ExponentiatedGradient's randomized ``predict`` (an int makes them repeatable).

    Attributes
    ----------
    estimator_ : the fitted fairlearn ExponentiatedGradient or GridSearch (trained on 0/1 labels,
        1 for the positive class).
    classes_, groups_ : the labels and the groups seen at fit.
    positive_code_ : int, the index of the positive class in ``classes_``.
    candidates_ : pandas.DataFrame
        Accuracy and disparities on the training rows of every predictor fairlearn kept, and for
        exponentiated gradient its final randomized mixture (expected values); ``chosen`` marks
        the predictor ``predict`` uses.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from rai_nb.datasets import load_compas
    >>> compas = load_compas()
    >>> X = compas[["priors_count", "age", "juv_fel_count"]]
    >>> model = Reduction(LogisticRegression(max_iter=1000), constraint="equalized_odds",
    ...                   options={"max_iter": 10}, random_state=0)
    >>> model = model.fit(X, compas["two_year_recid"], sensitive_features=compas["sex"])
    >>> model.candidates_["candidate"].iloc[-1]
    'mixture'
    """

    def __init__(self, estimator, *, method="exponentiated_gradient",
                 constraint="demographic_parity", sensitive=None, positive_label=None,
                 options=None, random_state=None):
        self.estimator = estimator
        self.method = method
        self.constraint = constraint
        self.sensitive = sensitive
        self.positive_label = positive_label
        self.options = options
        self.random_state = random_state

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Run fairlearn's reduction.

        Parameters
        ----------
        X : pandas.DataFrame
        y : array-like, shape (n,), two classes
        sensitive_features : array-like or DataFrame, optional
            The groups, instead of ``X[sensitive]``.
        sample_weight : None
            Must be None: fairlearn's reductions take no row weights.

        Returns
        -------
        self
        """
        if sample_weight is not None:
            raise RaiError(NO_WEIGHTS)
        frame = require_frame(X)
        if self.method not in METHODS:
            raise RaiError(BAD_OPTION.format(argument="method", allowed=METHODS,
                                             value=self.method))
        check_constraint(self.constraint, tuple(_MOMENTS), "Reduction")
        groups = sensitive_groups(frame, self.sensitive, sensitive_features)
        labels = encode_labels(y, len(frame), self.positive_label, method="Reduction")
        reduction = self._reduction()
        reduction.fit(frame, labels.is_positive, sensitive_features=groups.codes)
        self.estimator_, self.classes_, self.groups_ = reduction, labels.classes, groups.levels
        self.positive_code_ = labels.positive
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.candidates_ = self._candidates(frame, labels.is_positive, groups)
        return self

    def predict(self, X, *, sensitive_features=None):
        """Class labels; exponentiated gradient draws them from its mixture (``random_state``).

        ``sensitive_features`` is accepted for the common interface and ignored: fairlearn's
        reductions predict from the features alone.
        """
        rows = self._input(X)
        if self.method == "grid_search":
            positive = self.estimator_.predict(rows)
        else:
            positive = self.estimator_.predict(rows, random_state=self.random_state)
        return self._labels(np.asarray(positive) == 1)

    def predict_proba(self, X, *, sensitive_features=None):
        """Class probabilities, columns in ``classes_`` order: exponentiated gradient's exact
        probability of each prediction, grid search's best predictor's ``predict_proba``."""
        p = self._positive_probability(self._input(X))
        return np.column_stack((1.0 - p, p) if self.positive_code_ else (p, 1.0 - p))

    def _reduction(self):
        from fairlearn import reductions

        options = dict(self.options or {})
        moment = getattr(reductions, _MOMENTS[self.constraint])
        reduction = (reductions.ExponentiatedGradient if self.method == "exponentiated_gradient"
                     else reductions.GridSearch)
        own = {k: options.pop(k) for k in list(options) if k in _keywords(moment)}
        unknown = sorted(set(options) - _keywords(reduction))
        if unknown:
            raise RaiError(f"options {unknown} are neither {moment.__name__}'s nor "
                           f"{reduction.__name__}'s keyword arguments")
        options.setdefault("sample_weight_name", weight_parameter(self.estimator, "Reduction"))
        return reduction(self.estimator, constraints=moment(**own), **options)

    def _candidates(self, frame, y01, groups) -> pd.DataFrame:
        def scores(p):
            return binary_scores(groups.codes, groups.n_levels, y01, p)

        predictors = list(self.estimator_.predictors_)
        if self.method == "grid_search":
            best = self.estimator_.best_idx_
            return pd.DataFrame([{"candidate": f"grid point {i}", "grid_point": i,
                                  "chosen": i == best, **scores(h.predict(frame) == 1)}
                                 for i, h in enumerate(predictors)])
        weights = np.asarray(self.estimator_.weights_)
        rows = [{"candidate": f"predictor {i}", "weight": float(w), "chosen": False,
                 **scores(h.predict(frame) == 1)}
                for i, (h, w) in enumerate(zip(predictors, weights))]
        mixture = {"candidate": "mixture", "weight": 1.0, "chosen": True,
                   **scores(self._positive_probability(frame))}
        return pd.DataFrame([*rows, mixture])

    def _positive_probability(self, rows) -> np.ndarray:
        if self.method == "grid_search":
            return np.asarray(self.estimator_.predict_proba(rows), dtype=np.float64)[:, 1]
        # fairlearn's mixture sums weights that can overshoot 1 by an ulp
        return np.clip(np.asarray(self.estimator_._pmf_predict(rows), dtype=np.float64)[:, 1],
                       0.0, 1.0)

    def _input(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        return estimator_input(self, require_frame(X))

    def _labels(self, positive: np.ndarray) -> np.ndarray:
        code = self.positive_code_
        return np.where(positive, self.classes_[code], self.classes_[1 - code])


def _keywords(cls) -> set:
    return set(inspect.signature(cls.__init__).parameters) - {"self", "estimator", "constraints"}
