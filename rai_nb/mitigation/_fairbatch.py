"""FairBatch (Roh, Lee, Whang & Suh, ICLR 2021): adaptive group × label weights between updates."""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state

from ..errors import RaiError
from ._candidates import binary_scores
from ._fitting import (
    InnerModelMixin,
    check_constraint,
    encode_labels,
    positive_probability,
    row_weights,
    weight_parameter,
    weighted_fit,
)
from ._inputs import require_frame, sensitive_groups
from ._reweighing import label_counts

CONSTRAINTS = ("equal_opportunity", "equalized_odds", "demographic_parity")
#: Probabilities are clipped this far from 0 and 1 before taking logs.
_EPS = 1e-15


class FairBatch(InnerModelMixin, ClassifierMixin, BaseEstimator):
    """Train with sampling ratios λ per group × label that FairBatch moves toward fairness.

    Roh et al., "FairBatch: Batch Selection for Model Fairness", ICLR 2021. λ[g, y] is the share
    of group ``g`` among the rows of label ``y`` (it starts at the data's share). After each
    model update the mean loss of every cell is measured and ``alpha`` of share moves to the
    worst-off group:

    - ``equal_opportunity``: among the positives, from the group with the lowest mean log-loss
      to the group with the highest;
    - ``equalized_odds``: the same within the label (positive or negative) whose loss gap
      between groups is larger;
    - ``demographic_parity``: the loss of predicting the positive class, summed over a cell and
      divided by its group's size, ranks the groups within the label whose gap is larger;
      among the positives share moves to the group with the highest such loss (the least
      selected), among the negatives away from it.

    With two groups this is the update of λ by ±``alpha`` of the authors' code (a tie leaves λ
    as it is); with more groups the share moves between the two extreme groups of the label.
    The updated ratios become row weights ``λ[g, y] / λ₀[g, y]`` (times ``sample_weight``),
    which keep each label's total.

    An estimator with ``partial_fit`` taking ``sample_weight`` (SGDClassifier) is updated by
    one epoch of weighted minibatches per round, in an order drawn from ``random_state``.
    Any other estimator is refitted from scratch on the re-weighted rows each round: FairBatch
    between refits rather than between batches.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Its ``fit`` (or ``partial_fit``) must take ``sample_weight``; a Pipeline's last step
        takes it as ``<step>__sample_weight``. Losses come from ``predict_proba``, else from
        the logistic of ``decision_function``.
    constraint : {"equal_opportunity", "equalized_odds", "demographic_parity"}
    sensitive : str or list of str, optional
        Column(s) of ``X`` holding the groups; or pass ``sensitive_features=`` to ``fit``.
        ``X`` reaches the estimator whole.
    n_rounds : int, default 20
        Number of λ updates; the model is updated ``n_rounds + 1`` times and the last one kept.
    alpha : float, default 0.005
        Share moved per round (the paper's step size).
    batch_size : int, optional
        Minibatch size on the ``partial_fit`` path; default one batch of all rows.
    positive_label : optional
        The favourable class; default the second of the sorted classes.
    random_state : int, RandomState or None
        Order of the rows on the ``partial_fit`` path.

    Attributes
    ----------
    estimator_ : the model after the last round.
    classes_, groups_ : the labels and the groups seen at fit.
    lambdas_ : numpy.ndarray, shape (n_rounds + 1, n_groups, 2)
        λ used in each round (last axis: negative, positive label).
    candidates_ : pandas.DataFrame
        One row per round: its λ, and the accuracy and disparities of that round's model on the
        training rows (weighted by ``sample_weight`` only). Round 0 is the unmitigated model.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from rai_nb.datasets import load_compas
    >>> compas = load_compas()
    >>> X = compas[["priors_count", "age", "juv_fel_count"]]
    >>> model = FairBatch(LogisticRegression(max_iter=1000), n_rounds=5)
    >>> model = model.fit(X, compas["two_year_recid"], sensitive_features=compas["sex"])
    >>> model.candidates_["round"].tolist()
    [0, 1, 2, 3, 4, 5]
    """

    def __init__(self, estimator, *, constraint="equal_opportunity", sensitive=None,
                 n_rounds=20, alpha=0.005, batch_size=None, positive_label=None,
                 random_state=None):
        self.estimator = estimator
        self.constraint = constraint
        self.sensitive = sensitive
        self.n_rounds = n_rounds
        self.alpha = alpha
        self.batch_size = batch_size
        self.positive_label = positive_label
        self.random_state = random_state

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Run the rounds and keep the last model.

        Parameters
        ----------
        X : pandas.DataFrame
        y : array-like, shape (n,), two classes
        sensitive_features : array-like or DataFrame, optional
            The groups, instead of ``X[sensitive]``.
        sample_weight : array-like, shape (n,), optional
            Base weights, multiplied into FairBatch's.

        Returns
        -------
        self
        """
        frame = require_frame(X)
        check_constraint(self.constraint, CONSTRAINTS, "FairBatch")
        self._check_knobs()
        groups = sensitive_groups(frame, self.sensitive, sensitive_features)
        labels = encode_labels(y, len(frame), self.positive_label, method="FairBatch")
        base = row_weights(sample_weight, len(frame))
        y01 = labels.is_positive
        start = _shares(label_counts(groups.codes, groups.n_levels, y01, 2, base))
        update = self._updater(frame, labels, check_random_state(self.random_state))
        shares, model, rows = start, None, []
        for round_ in range(self.n_rounds + 1):
            ratio = np.divide(shares, start, out=np.zeros_like(start), where=start > 0)
            model = update(model, base * ratio[groups.codes, y01])
            positive = labels.classes[labels.positive]
            rows.append((shares, binary_scores(groups.codes, groups.n_levels, y01,
                                               model.predict(frame) == positive, base)))
            if round_ < self.n_rounds:
                p = positive_probability(model, frame, positive)
                losses = _cell_losses(self.constraint, p, y01, groups, base)
                shares = _step(self.constraint, shares, losses, start > 0, self.alpha)
        self.estimator_, self.classes_, self.groups_ = model, labels.classes, groups.levels
        self.lambdas_ = np.stack([s for s, _ in rows])
        self.candidates_ = _candidates(rows, groups.levels, labels, self.constraint)
        return self

    def _check_knobs(self) -> None:
        if not isinstance(self.n_rounds, numbers.Integral) or self.n_rounds < 0:
            raise RaiError(f"n_rounds must be a whole number >= 0, got {self.n_rounds!r}")
        if not isinstance(self.alpha, numbers.Real) or not 0 < self.alpha <= 1:
            raise RaiError(f"alpha must be a number in (0, 1], got {self.alpha!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, numbers.Integral)
                                            or self.batch_size < 1):
            raise RaiError(f"batch_size must be None or a whole number >= 1, "
                           f"got {self.batch_size!r}")

    def _updater(self, frame: pd.DataFrame, labels, rng):
        """``update(model, weights) -> model``: one weighted epoch or one weighted refit."""
        if not _takes_weighted_partial_fit(self.estimator):
            weight_parameter(self.estimator, "FairBatch")  # fail before the first fit
            return lambda _, weights: weighted_fit(self.estimator, frame, labels.values,
                                                   weights, "FairBatch")
        size = len(frame) if self.batch_size is None else self.batch_size

        def epoch(model, weights):
            model = clone(self.estimator) if model is None else model
            order = rng.permutation(len(frame))
            for rows in np.array_split(order, max(1, -(-len(frame) // size))):
                model.partial_fit(frame.iloc[rows], labels.values.iloc[rows],
                                  classes=labels.classes, sample_weight=weights[rows])
            return model
        return epoch


def _takes_weighted_partial_fit(estimator) -> bool:
    method = getattr(estimator, "partial_fit", None)
    return method is not None and "sample_weight" in inspect.signature(method).parameters


def _shares(counts: np.ndarray) -> np.ndarray:
    """λ[g, y]: each group's share of the weight of label ``y``."""
    return counts / counts.sum(axis=0)


def _cell_losses(constraint: str, p: np.ndarray, y01: np.ndarray, groups, weights) -> np.ndarray:
    """Loss per group and label, ``(G, 2)``, NaN for an empty cell: the mean log-loss of the
    cell, or for demographic parity the cell's summed loss of the positive class over its
    group's weight."""
    p = np.clip(p, _EPS, 1 - _EPS)
    if constraint == "demographic_parity":
        loss = -np.log(p)
    else:
        loss = -np.log(np.where(y01 == 1, p, 1 - p))
    total = label_counts(groups.codes, groups.n_levels, y01, 2, weights * loss)
    size = label_counts(groups.codes, groups.n_levels, y01, 2, weights)
    if constraint == "demographic_parity":
        size = np.where(size > 0, size.sum(axis=1, keepdims=True), 0)
    return np.divide(total, size, out=np.full_like(total, np.nan), where=size > 0)


def _step(constraint: str, shares: np.ndarray, losses: np.ndarray, present: np.ndarray,
          alpha: float) -> np.ndarray:
    """λ after one FairBatch update (see :class:`FairBatch`); ``present`` marks non-empty cells."""
    label = 1
    if constraint != "equal_opportunity":
        label = int(np.argmax(np.nanmax(losses, axis=0) - np.nanmin(losses, axis=0)))
    column = losses[:, label]
    worst, best = int(np.nanargmax(column)), int(np.nanargmin(column))
    if constraint == "demographic_parity" and label == 0:
        worst, best = best, worst  # fewer negatives for the least selected group
    shares = shares.copy()
    _move(shares[:, label], present[:, label], best, worst, alpha)
    return shares


def _move(share: np.ndarray, present: np.ndarray, source: int, target: int, alpha: float) -> None:
    """Move up to ``alpha`` of ``share`` (in place) from ``source`` to ``target``."""
    if source == target or not (present[source] and present[target]):
        return
    amount = min(alpha, share[source])
    share[source] -= amount
    share[target] += amount


def _candidates(rows: list, levels: tuple, labels, constraint: str) -> pd.DataFrame:
    """One row per round: its scores, then λ of the cells the constraint moves."""
    names_of = {1: labels.classes[labels.positive], 0: labels.classes[1 - labels.positive]}
    moved = (1,) if constraint == "equal_opportunity" else (0, 1)
    names = {(g, y): f"lambda[{'/'.join(map(str, level))} | {names_of[y]}]"
             for g, level in enumerate(levels) for y in moved}
    records = [{"candidate": f"round {r}", "round": r, **scores,
                **{name: float(shares[g, y]) for (g, y), name in names.items()}}
               for r, (shares, scores) in enumerate(rows)]
    return pd.DataFrame(records)
