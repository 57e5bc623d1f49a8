"""Post-processing by per-group thresholds: :class:`ThresholdClassifier`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from ..backend import get_config, row_chunks
from ..errors import BAD_OPTION, NAN_VALUES, ONE_CLASS, UNKNOWN_POSITIVE, RaiError
from ..frame._bias import encode_weights
from ..frame._columns import EncodedColumn, column_values
from ..frame._task import class_codes
from ..stats import group_metrics
from ._candidates import tradeoff_scores
from ._histogram import ScoreHistogram
from ._inputs import chunk_of, estimator_input, require_frame, sensitive_groups, sensitive_levels
from ._roc import best_points, convex_hull, staircase
from ._threshold_lp import binary_program, multiclass_program, solve

#: Constraint → the rates (one-vs-rest for each class when multiclass) equalised across groups.
CONSTRAINTS = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "false_positive_rate_parity": ("false_positive_rate",),
}
OBJECTIVES = ("accuracy", "balanced_accuracy")
#: The tolerances :meth:`ThresholdClassifier.tradeoff` traces by default.
DEFAULT_TOLS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
#: ``max_bins="auto"``: cells per group of the streamed histogram, at least MIN_AUTO_BINS and
#: at most MAX_AUTO_CELLS over all groups.
AUTO_BINS, MIN_AUTO_BINS, MAX_AUTO_CELLS = 4096, 256, 1 << 22
#: Rows spread over the data whose scores place the histogram's bin edges.
SAMPLE_ROWS = 1 << 17
_UNDEFINED = ("group {group!r} has no rows with {what}, so its {rate} is undefined; "
              "merge it with another group or choose another constraint")


class ThresholdClassifier(ClassifierMixin, BaseEstimator):
    """Per-group thresholds on a fitted classifier's scores that satisfy a fairness constraint.

    The optimum is found exactly from sufficient statistics (Hardt, Price & Srebro, "Equality
    of Opportunity in Supervised Learning", NeurIPS 2016). Binary: one sort of the scores gives
    every group's ROC staircase (the weighted true and false positives of "positive when
    score >= t" for each distinct score t); every randomized rule lies in the staircase's convex
    hull; a linear program over mixtures of hull vertices maximises the objective subject to
    every constrained rate of every group lying within ``tol`` of a common level (so the
    largest gap between groups is at most ``tol``). Multiclass: the base model's predicted class
    is relabelled per group by a randomized matrix ``Q[g, i, j]`` (Putzel & Lee, "Blackbox
    Post-Processing for Multiclass Fairness", 2022), the linear program maximising expected
    accuracy subject to the constrained rates of every class, one-vs-rest.

    Parameters
    ----------
    estimator : classifier
        The model whose scores are post-processed: ``predict_proba`` (else
        ``decision_function``) for binary targets, ``predict`` for multiclass.
    constraint : {"demographic_parity", "equal_opportunity", "equalized_odds", \
"false_positive_rate_parity"}
        The rates equalised: selection rate, true positive rate, both true and false positive
        rates, or false positive rate.
    sensitive : str or list of str, optional
        Sensitive column(s) of ``X``; several give intersectional groups. Not needed when
        ``sensitive_features=`` is passed to ``fit`` and ``predict``.
    tol : float, default 0
        Largest allowed gap between groups in each constrained rate.
    objective : {"accuracy", "balanced_accuracy"}
        What the thresholds maximise (weighted by ``sample_weight``).
    randomized : bool, default True
        Randomize between thresholds where the optimum needs it (as fairlearn's
        ThresholdOptimizer). ``False`` gives the best deterministic rule: binary, one threshold
        per group found by an exact search over every combination of one ROC point per group
        (the lower end of the window of allowed rates sweeps every candidate rate and each group
        keeps its best point inside the window; for equalized odds the false positive window's
        lower end sweeps every false positive rate, so the cost is distinct rates × points);
        multiclass, a 0/1 relabelling matrix (mixed-integer program). A deterministic rule
        always exists, as predicting one class for everyone satisfies every constraint, but at
        a small ``tol`` it may be that trivial rule: a larger ``tol`` may be needed for a
        useful one.
    prefit : bool, default True
        Use ``estimator`` as fitted; ``False`` clones and fits it on ``X, y`` first.
    positive_label : optional
        The favourable class of a binary target; default the second of the sorted classes,
        as scikit-learn.
    max_bins : "auto", None or int, default "auto"
        Memory bound of binary fits. ``None``: exact, every score held in memory (the
        statistics come from one sort of the scores, or from a tally of (group, score) cells
        when the scores have few distinct values). An integer: the rows are scored and counted
        in chunks of ``rai_nb.config().chunk_rows`` into a per-group histogram of at most
        ``max_bins`` cells, so memory beyond ``X`` and ``y`` does not grow with rows. The
        histogram is exact while the scores have at most ``max_bins`` distinct values (same
        thresholds as ``None``); beyond, its cells become bins between edges at quantiles of
        the scores of up to 131,072 rows spread over ``X``, and thresholds lie on those edges:
        the optimum is then exact among rules thresholded at the edges, and the constraint
        holds exactly on the fit rows, at a slightly lower accuracy than the exact path.
        ``"auto"``: exact up to ``chunk_rows`` rows, else streamed with 4,096 bins per group
        (fewer when there are more than 1,024 groups, at least 256). Multiclass fits are exact
        either way (confusion counts, summed chunk by chunk when streamed).
    random_state : int, Generator or None
        Seed of the draws of ``predict`` for randomized rules (the same seed, the same draws).

    Attributes
    ----------
    estimator_ : the fitted inner model.
    classes_ : ndarray, the sorted classes of ``y``.
    groups_ : tuple of tuples, the fit-time groups (one entry per sensitive attribute).
    thresholds_ : DataFrame (binary) — per group, each threshold, its mixing probability and
        the group's resulting expected selection, true and false positive rates.
    relabelling_ : DataFrame (multiclass) — per group and base prediction, the probability of
        each final class.

    Examples
    --------
    >>> import rai_nb
    >>> from rai_nb.mitigation import ThresholdClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> data = rai_nb.load_compas()
    >>> X, y = data[["priors_count", "age", "race"]], data["two_year_recid"]
    >>> model = LogisticRegression().fit(X[["priors_count", "age"]], y)
    >>> fair = ThresholdClassifier(model, sensitive="race").fit(X, y)
    >>> bool(fair.tradeoff(tols=[0.0])["demographic_parity_difference"].iloc[0] < 1e-9)
    True
    """

    def __init__(self, estimator, *, constraint="demographic_parity", sensitive=None, tol=0.0,
                 objective="accuracy", randomized=True, prefit=True, positive_label=None,
                 max_bins="auto", random_state=None):
        self.estimator = estimator
        self.constraint = constraint
        self.sensitive = sensitive
        self.tol = tol
        self.objective = objective
        self.randomized = randomized
        self.prefit = prefit
        self.positive_label = positive_label
        self.max_bins = max_bins
        self.random_state = random_state

    def __sklearn_clone__(self):
        """A clone shares a prefit ``estimator`` (never modified here) so that it can be fitted;
        cloning it as scikit-learn does would leave a clone with an unfitted model."""
        if not self.prefit:
            return super().__sklearn_clone__()
        params = self.get_params(deep=False)
        return type(self)(**{name: value if name == "estimator" else clone(value, safe=False)
                             for name, value in params.items()})

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Fit the thresholds on ``X, y`` (and the inner model first when ``prefit=False``).

        Parameters
        ----------
        X : pandas.DataFrame
        y : array-like or Series of labels (strings allowed)
        sensitive_features : array-like, Series or DataFrame, optional
            The groups of the rows, instead of the ``sensitive`` columns of ``X``.
        sample_weight : array-like, optional
            Row weights; a weight of k counts as k copies of the row.

        Returns
        -------
        self
        """
        tol = _check_tol(self.tol)
        _check_option("constraint", self.constraint, tuple(CONSTRAINTS))
        _check_option("objective", self.objective, OBJECTIVES)
        frame = require_frame(X)
        labels = column_values(frame, _series(y), argument="y")[1]
        weights = None if sample_weight is None else column_values(
            frame, _series(sample_weight), argument="sample_weight")[1]
        bins = _bins(self.max_bins, len(frame))
        chunks = [slice(0, len(frame))] if bins is None else list(row_chunks(len(frame)))
        if len(chunks) == 1:
            first = _Rows.encode(frame, labels, weights, self.sensitive, sensitive_features)
            names, levels, classes = first.groups.name, first.groups.levels, first.classes
            rows = [first]
        else:
            names, levels = sensitive_levels(frame, self.sensitive, sensitive_features, chunks)
            classes = _classes(labels, chunks)
            rows = (_Rows.encode(frame.iloc[c], labels.iloc[c], chunk_of(weights, c),
                                 self.sensitive, chunk_of(sensitive_features, c), classes, levels)
                    for c in chunks)
        if len(classes) < 2:
            raise RaiError(ONE_CLASS.format(argument="y", column="y", value=classes[0]))
        self.estimator_ = self._inner_model(frame, labels, sample_weight)
        self.classes_ = np.asarray(classes)
        self.groups_ = levels
        self.sensitive_names_ = names
        if len(classes) == 2:
            self._fit_binary(rows, frame, bins, tol)
        else:
            self._fit_multiclass(rows, tol)
        return self

    def predict_proba(self, X, *, sensitive_features=None) -> np.ndarray:
        """The exact probability of each class (columns in ``classes_`` order) under the rule."""
        frame = require_frame(X)
        group = sensitive_groups(frame, self.sensitive, sensitive_features,
                                 levels=self.groups_).codes
        if len(self.classes_) > 2:
            return self.relabel_[group, self._base_codes(frame)]
        scores = self._positive_scores(frame)
        positive = np.zeros(len(frame))
        for j in range(self.cutoffs_.shape[1]):  # a few thresholds per group, not rows
            positive += self.weights_[group, j] * (scores >= self.cutoffs_[group, j])
        positive = np.clip(positive, 0, 1)
        both = np.stack([1 - positive, positive], axis=1)
        return both if self._positive_code == 1 else both[:, ::-1]

    def predict(self, X, *, sensitive_features=None) -> np.ndarray:
        """A class per row, drawn from :meth:`predict_proba` with ``random_state``."""
        proba = self.predict_proba(X, sensitive_features=sensitive_features)
        draws = np.random.default_rng(self.random_state).random(len(proba))
        chosen = (draws[:, None] >= np.cumsum(proba, axis=1)).sum(axis=1)
        return self.classes_[np.minimum(chosen, len(self.classes_) - 1)]

    def tradeoff(self, tols=DEFAULT_TOLS) -> pd.DataFrame:
        """Accuracy and disparities of the optimum at each tolerance, on the fit rows.

        Re-solves the optimisation on the stored sufficient statistics (hull vertices, ROC
        points or confusion counts); no pass over rows. Values are expected values under the
        randomized rule. Columns: ``candidate``, ``tol``, ``accuracy``, every
        :data:`rai_nb.stats.bias.DISPARITIES` summary (between groups; the worst class
        one-vs-rest when multiclass) and ``false_positive_rate_difference``.
        """
        rows = []
        for tol in map(_check_tol, tols):
            counts = self._expected_counts(tol)
            rows.append({"candidate": f"tol={tol:g}", "tol": tol, **tradeoff_scores(counts)})
        return pd.DataFrame(rows)

    def _inner_model(self, frame, labels, sample_weight):
        if not self.prefit:
            extra = {} if sample_weight is None else {"sample_weight": sample_weight}
            return clone(self.estimator).fit(frame, labels.to_numpy(), **extra)
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(self.estimator)
        except (NotFittedError, TypeError) as error:
            raise RaiError(f"estimator is not a fitted model ({error}); fit it first or pass "
                           "prefit=False") from None
        return self.estimator

    def _fit_binary(self, rows, frame, bins, tol):
        self._positive_code = self._positive_of_classes()
        if bins is None:
            (only,) = rows
            stairs = staircase(self._positive_scores(frame), only.positive(self._positive_code),
                               only.weights, only.groups.codes, len(self.groups_))
        else:
            spread = np.unique(np.linspace(0, len(frame) - 1, min(len(frame), SAMPLE_ROWS)
                                           ).astype(np.int64))
            if self.max_bins == "auto":  # keep the cells within budget when groups are many
                bins = max(MIN_AUTO_BINS, min(bins, MAX_AUTO_CELLS // len(self.groups_)))
            histogram = ScoreHistogram(len(self.groups_), bins,
                                       lambda: self._positive_scores(frame.iloc[spread]))
            for part in rows:
                histogram.add(self._positive_scores(part.frame),
                              part.positive(self._positive_code), part.weights,
                              part.groups.codes)
            stairs = histogram.staircase()
        _require_weight(stairs.pos.sum() + stairs.neg.sum())
        self._require_defined(stairs.pos, stairs.neg)
        self._points = convex_hull(stairs) if self.randomized else stairs
        self._set_thresholds(self._mixing(tol))

    def _fit_multiclass(self, rows, tol):
        n_classes, n_groups = len(self.classes_), len(self.groups_)
        counts = np.zeros(n_groups * n_classes ** 2)
        for part in rows:
            cells = ((part.groups.codes * n_classes + part.codes) * n_classes
                     + self._base_codes(part.frame))
            counts += np.bincount(cells, weights=part.weights, minlength=len(counts))
        self._counts = counts.reshape(n_groups, n_classes, n_classes)
        _require_weight(counts.sum())
        true = self._counts.sum(axis=2)
        self._require_defined(true, self._counts.sum(axis=(1, 2))[:, None] - true)
        self.relabel_ = self._relabelling(tol)
        g, i, j = np.indices(self.relabel_.shape)
        names = self._group_frame(g.ravel())
        self.relabelling_ = names.assign(prediction=self.classes_[i.ravel()],
                                         relabelled=self.classes_[j.ravel()],
                                         probability=self.relabel_.ravel())

    def _require_defined(self, positives, negatives):
        """RaiError when a constrained true or false positive rate has no rows to divide by.

        ``positives``/``negatives``: weight of each group's rows of (not of) the positive class,
        shape (G,), or of each class one-vs-rest, shape (G, K).
        """
        rates = CONSTRAINTS[self.constraint]
        for rate, counts, what in (("true_positive_rate", positives, "label {!r}"),
                                   ("false_positive_rate", negatives, "a label other than {!r}")):
            if rate in rates and (counts <= 0).any():
                group, *label = np.argwhere(counts <= 0)[0]
                label = self.classes_.tolist()[label[0] if label else self._positive_code]
                raise RaiError(_UNDEFINED.format(group=self.groups_[group], rate=rate,
                                                 what=what.format(label)))

    def _mixing(self, tol: float) -> np.ndarray:
        """Weight of each stored ROC point in the optimal rule at ``tol`` (binary)."""
        rates = CONSTRAINTS[self.constraint]
        if self.randomized:
            return solve(*binary_program(self._points, rates, self.objective), tol)
        weight = np.zeros(len(self._points.group))
        weight[best_points(self._points, rates, self.objective, tol)] = 1.0
        return weight

    def _relabelling(self, tol: float) -> np.ndarray:
        program = multiclass_program(self._counts, CONSTRAINTS[self.constraint], self.objective)
        q = solve(*program, tol, integral=not self.randomized).reshape(self._counts.shape)
        return q / q.sum(axis=2, keepdims=True)

    def _expected_counts(self, tol: float) -> np.ndarray:
        """Expected confusion counts ``C[g, y, ŷ]`` of the optimum at ``tol``."""
        if len(self.classes_) > 2:
            return np.einsum("gyi,gij->gyj", self._counts, self._relabelling(tol))
        return self._points.confusion(self._mixing(tol))

    def _set_thresholds(self, mixing: np.ndarray) -> None:
        used = np.flatnonzero(mixing > 1e-12)
        group, cutoff, weight = self._points.group[used], self._points.threshold[used], mixing[used]
        order = np.lexsort((cutoff, group))
        group, cutoff, weight = group[order], cutoff[order], weight[order]
        rank = np.arange(len(group)) - np.searchsorted(group, group)
        shape = (len(self.groups_), int(rank.max()) + 1)
        self.cutoffs_ = np.full(shape, np.inf)
        self.weights_ = np.zeros(shape)
        self.cutoffs_[group, rank] = cutoff
        self.weights_[group, rank] = weight
        counts = self._points.confusion(mixing)
        rates = {name: getattr(group_metrics, name)(counts)[group]
                 for name in ("selection_rate", "true_positive_rate", "false_positive_rate")}
        self.thresholds_ = self._group_frame(group).assign(threshold=cutoff, probability=weight,
                                                           **rates)

    def _group_frame(self, group: np.ndarray) -> pd.DataFrame:
        levels = np.array(self.groups_, dtype=object).reshape(len(self.groups_), -1)
        return pd.DataFrame({name: levels[group, k]
                             for k, name in enumerate(self.sensitive_names_)})

    def _positive_of_classes(self) -> int:
        if self.positive_label is None:
            return 1
        matches = np.flatnonzero(self.classes_ == self.positive_label)
        if not len(matches):
            raise RaiError(UNKNOWN_POSITIVE.format(value=self.positive_label, column="y",
                                                   values=list(map(str, self.classes_))))
        return int(matches[0])

    def _positive_scores(self, frame: pd.DataFrame) -> np.ndarray:
        inputs = estimator_input(self.estimator_, frame)
        positive = self.classes_.tolist()[self._positive_code]
        known = np.asarray(getattr(self.estimator_, "classes_", self.classes_)).tolist()
        if positive not in known:
            raise RaiError(f"the estimator's classes {known} lack the positive label {positive!r}")
        if hasattr(self.estimator_, "predict_proba"):
            scores = np.asarray(self.estimator_.predict_proba(inputs))[:, known.index(positive)]
        else:
            margin = np.asarray(self.estimator_.decision_function(inputs), dtype=np.float64)
            scores = margin if known.index(positive) == 1 else -margin
        scores = np.ascontiguousarray(scores, dtype=np.float64)
        bad = ~np.isfinite(scores)
        if bad.any():
            raise RaiError(NAN_VALUES.format(argument="score", column="the estimator's score",
                                             count=int(bad.sum())))
        return scores

    def _base_codes(self, frame: pd.DataFrame) -> np.ndarray:
        predicted = pd.Series(self.estimator_.predict(estimator_input(self.estimator_, frame)))
        return class_codes("prediction", predicted, tuple(self.classes_),
                           argument="prediction")[0]


@dataclass(frozen=True)
class _Rows:
    """Fit rows (all, or one chunk) encoded: class codes, group codes and weights."""

    frame: pd.DataFrame
    codes: np.ndarray
    classes: tuple
    groups: EncodedColumn
    weights: np.ndarray | None

    @classmethod
    def encode(cls, frame, labels, weights, sensitive, sensitive_features, classes=None,
               levels=None) -> _Rows:
        """Classes and groups are found in these rows unless given (known over all chunks)."""
        groups = sensitive_groups(frame, sensitive, sensitive_features, levels=levels)
        codes, classes = class_codes("y", labels, classes, argument="y")
        return cls(frame, codes, classes, groups, None if weights is None else encode_weights(
            "sample_weight", weights, require_positive=False))

    def positive(self, code: int) -> np.ndarray:
        return (self.codes == code).astype(np.int8)


def _classes(labels: pd.Series, chunks: list[slice]) -> tuple:
    """The classes of ``labels`` (as :func:`class_codes` finds them), found chunk by chunk."""
    missing = sum(int(labels.iloc[c].isna().sum()) for c in chunks)
    if missing:
        raise RaiError(NAN_VALUES.format(argument="y", column="y", count=missing))
    distinct = pd.concat([pd.Series(pd.unique(labels.iloc[c])) for c in chunks])
    return class_codes("y", distinct, None, argument="y")[1]


def _require_weight(total: float) -> None:
    """Weights are checked chunk by chunk, so only the total can say they are all zero."""
    if not total > 0:
        raise RaiError("sample_weight ('sample_weight') is zero on every row")


def _bins(max_bins, n_rows: int) -> int | None:
    """Cells per group of the streamed histogram, or None for the exact in-memory path."""
    if max_bins == "auto":
        return None if n_rows <= get_config().chunk_rows else AUTO_BINS
    if max_bins is None:
        return None
    if isinstance(max_bins, bool) or not isinstance(max_bins, Integral) or max_bins < 2:
        raise RaiError(f"max_bins must be 'auto', None or an integer >= 2, got {max_bins!r}")
    return int(max_bins)


def _series(values) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))


def _check_tol(tol) -> float:
    if isinstance(tol, bool) or not isinstance(tol, Real) or not math.isfinite(tol) or tol < 0:
        raise RaiError(f"tol must be a finite number >= 0, got {tol!r}")
    return float(tol)


def _check_option(argument: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise RaiError(BAD_OPTION.format(argument=argument, allowed=", ".join(allowed),
                                         value=value))
