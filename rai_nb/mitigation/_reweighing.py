"""Reweighing (Kamiran & Calders 2012): row weights that make label and group independent."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import LENGTH_MISMATCH, RaiError
from ..stats.counts import confusion_counts
from ._candidates import binary_scores, class_scores
from ._fitting import InnerModelMixin, encode_labels, row_weights, weighted_fit
from ._inputs import require_frame, sensitive_groups


def reweighing_weights(y, groups, *, sample_weight=None) -> np.ndarray:
    """Kamiran & Calders' weight of every row: ``W(g, y) = P(g) P(y) / P(g, y)``.

    Kamiran & Calders, "Data preprocessing techniques for classification without
    discrimination", Knowledge and Information Systems 33 (2012), section 4.2. The
    probabilities are shares of the (weighted) counts of each group × label cell, so under the
    new weights every group has the same label distribution as the whole data.

    Parameters
    ----------
    y : array-like, shape (n,)
        Labels (any number of classes).
    groups : array-like, shape (n,)
        Group of each row (e.g. the codes of :func:`rai_nb.mitigation._inputs.sensitive_groups`).
    sample_weight : array-like, shape (n,), optional
        Base weights: the probabilities are shares of weight, and each row's result is its base
        weight times ``W``.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)

    Examples
    --------
    >>> reweighing_weights([1, 1, 0, 0], ["a", "a", "a", "b"]).tolist()
    [0.75, 0.75, 1.5, 0.5]
    """
    y_codes, n_classes = _codes(y, "y")
    group_codes, n_groups = _codes(groups, "groups")
    if len(group_codes) != len(y_codes):
        raise RaiError(LENGTH_MISMATCH.format(argument="groups", got=len(group_codes),
                                              expected=len(y_codes)))
    base = row_weights(sample_weight, len(y_codes))
    cells = cell_weights(label_counts(group_codes, n_groups, y_codes, n_classes, base))
    return base * cells[group_codes, y_codes]


def label_counts(group_codes, n_groups: int, y_codes, n_classes: int, weights) -> np.ndarray:
    """Weight of rows per group and label, shape ``(n_groups, n_classes)``."""
    return confusion_counts(group_codes, y_codes, n_groups=n_groups, n_classes=n_classes,
                            weights=weights)[..., 0]


def cell_weights(counts: np.ndarray) -> np.ndarray:
    """``n_g · n_y / (n · n_gy)`` per cell of a ``(groups, labels)`` count table (0 for an
    empty cell: no row carries it)."""
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    return np.divide(expected, counts, out=np.zeros_like(expected), where=counts > 0)


def _codes(values, argument: str) -> tuple[np.ndarray, int]:
    array = np.asarray(values)
    if array.ndim != 1 or pd.isna(array).any():
        raise RaiError(f"{argument} must be one label per row, without missing values")
    codes, levels = pd.factorize(array, sort=True)
    return codes.astype(np.int64), len(levels)


class Reweighing(InnerModelMixin, ClassifierMixin, BaseEstimator):
    """Fit a clone of ``estimator`` on Kamiran–Calders weights (:func:`reweighing_weights`).

    Each group × label cell is weighted so that, under the weights, the label is independent of
    the group: the weighted positive rate is the same in every group (demographic parity of the
    training labels). The model then learns from data without that dependence.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Any estimator whose ``fit`` takes ``sample_weight``. For a
        :class:`~sklearn.pipeline.Pipeline` the weights go to its last step
        (``<step>__sample_weight``), which must take them.
    sensitive : str or list of str, optional
        Column(s) of ``X`` holding the groups (several: their intersections); or pass
        ``sensitive_features=`` to ``fit``. ``X`` reaches the estimator whole, sensitive columns
        included; leave them out with a ColumnTransformer when the model must not read them.
    positive_label : optional
        The favourable class, for the disparities in ``candidates_``; default the second of
        the sorted classes. Multiclass targets are reweighed per class as well.

    Attributes
    ----------
    estimator_ : the fitted clone.
    classes_ : numpy.ndarray, the sorted labels.
    groups_ : tuple, the groups seen at fit (a tuple of values per group).
    cell_weights_ : pandas.DataFrame, ``W`` per group (rows) and class (columns).
    candidates_ : pandas.DataFrame, one row: accuracy and disparities of the fitted model on the
        training rows (weighted by ``sample_weight`` only). For a multiclass target each
        disparity is that of the worst class, one-vs-rest.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from rai_nb.datasets import load_compas
    >>> compas = load_compas()
    >>> X = compas[["priors_count", "age", "juv_fel_count"]]
    >>> model = Reweighing(LogisticRegression(max_iter=1000))
    >>> model = model.fit(X, compas["two_year_recid"], sensitive_features=compas["race"])
    >>> list(model.candidates_.columns[:2])
    ['candidate', 'accuracy']
    """

    def __init__(self, estimator, *, sensitive=None, positive_label=None):
        self.estimator = estimator
        self.sensitive = sensitive
        self.positive_label = positive_label

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Fit the clone on the reweighed rows.

        Parameters
        ----------
        X : pandas.DataFrame
        y : array-like, shape (n,)
        sensitive_features : array-like or DataFrame, optional
            The groups, instead of ``X[sensitive]``.
        sample_weight : array-like, shape (n,), optional
            Base weights, multiplied into the reweighing weights.

        Returns
        -------
        self
        """
        frame = require_frame(X)
        groups = sensitive_groups(frame, self.sensitive, sensitive_features)
        labels = encode_labels(y, len(frame), self.positive_label)
        base = row_weights(sample_weight, len(frame))
        cells = cell_weights(label_counts(groups.codes, groups.n_levels, labels.codes,
                                          len(labels.classes), base))
        weights = base * cells[groups.codes, labels.codes]
        self.estimator_ = weighted_fit(self.estimator, frame, labels.values, weights, "Reweighing")
        self.classes_, self.groups_ = labels.classes, groups.levels
        index = pd.MultiIndex.from_tuples(groups.levels, names=list(groups.name))
        self.cell_weights_ = pd.DataFrame(cells, index=index, columns=labels.classes)
        scores = _training_scores(self.estimator_.predict(frame), labels, groups, base)
        self.candidates_ = pd.DataFrame([{"candidate": "reweighing", **scores}])
        return self


def _training_scores(predicted, labels, groups, weights) -> dict[str, float]:
    """:mod:`._candidates` scores of an inner model's labels on the training rows."""
    codes = pd.Index(labels.classes).get_indexer(np.asarray(predicted))
    if len(labels.classes) == 2:
        return binary_scores(groups.codes, groups.n_levels, labels.is_positive,
                             codes == labels.positive, weights)
    return class_scores(groups.codes, groups.n_levels, labels.codes, codes,
                        len(labels.classes), weights)
