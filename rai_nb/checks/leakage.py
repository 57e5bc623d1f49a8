"""How well one column predicts another: contingency associations, single-feature AUC, and
confident-learning scores for likely label errors.

Associations are host math on a contingency table built with one ``bincount``; numeric columns
enter as reference-quantile bin codes (missing values as their own bin, since missingness that
predicts the label is leakage too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import bincount, namespace, to_device, to_host


@dataclass(frozen=True)
class Association:
    """Strength of the dependence between two discrete variables."""

    cramers_v: float
    #: Bias-corrected Cramér's V (Bergsma 2013): near 0 for an ID-like column with many levels.
    cramers_v_corrected: float
    mutual_information: float


def bin_codes(values, edges: np.ndarray, *, xp=None):
    """Bin index of each value in the bins of ``drift.bin_edges``; NaN gets ``len(edges) + 1``."""
    xp = namespace(values, xp=xp)
    missing = xp.isnan(values)
    codes = xp.searchsorted(to_device(edges, xp), xp.where(missing, 0.0, values), side="left")
    return xp.where(missing, edges.size + 1, xp.astype(codes, xp.int64))


def contingency(a_codes, b_codes, *, n_a: int, n_b: int, xp=None) -> np.ndarray:
    """Counts of each pair of codes, shape ``(n_a, n_b)`` (host int64)."""
    xp = namespace(a_codes, b_codes, xp=xp)
    cell = xp.astype(a_codes, xp.int64) * n_b + xp.astype(b_codes, xp.int64)
    return to_host(bincount(cell, minlength=n_a * n_b, xp=xp)).reshape(n_a, n_b)


def association(table: np.ndarray) -> Association:
    """Cramér's V (plain and bias-corrected) and mutual information (nats) of a count table.

    Empty rows and columns are dropped. V = sqrt(χ² / (n · (min(r, c) − 1))); the corrected
    version follows Bergsma (2013), J. Korean Stat. Soc. 42. A table with one row or column
    has no association (0).
    """
    table = np.asarray(table, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    n = table.sum()
    if min(r, c) < 2:
        return Association(0.0, 0.0, 0.0)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    phi2 = float(((table - expected) ** 2 / expected).sum()) / n
    v = np.sqrt(phi2 / (min(r, c) - 1))
    if n > 1:
        phi2_c = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
        r_c, c_c = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
        v_c = np.sqrt(phi2_c / (min(r_c, c_c) - 1)) if min(r_c, c_c) > 1 else 0.0
    else:
        v_c = 0.0
    joint = table / n
    outer = np.outer(joint.sum(axis=1), joint.sum(axis=0))
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / outer[nz])).sum())
    return Association(float(min(v, 1.0)), float(min(v_c, 1.0)), max(mi, 0.0))


def auc_from_counts(positives, negatives) -> float:
    """ROC AUC of a score taking ordered values with these positive and negative counts.

    Ties count one half (the Mann–Whitney U statistic divided by n₊·n₋). NaN without both classes.
    """
    pos = np.asarray(positives, np.float64)
    neg = np.asarray(negatives, np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))


def categorical_auc(fit, evaluate) -> float:
    """Single-feature AUC of a categorical column for a 0/1 label, fitted on other rows.

    ``fit`` and ``evaluate`` are ``[level, y]`` count tables of two disjoint halves of the rows.
    Levels are ordered by their positive rate in ``fit`` (the order that maximises AUC on those
    rows; levels absent there get the overall rate) and the AUC is measured on ``evaluate``.
    Fitting and measuring on different rows keeps an ID-like column from scoring 1.
    """
    fit = np.asarray(fit, dtype=np.float64)
    size = fit.sum(axis=1)
    overall = fit[:, 1].sum() / max(size.sum(), 1.0)
    rate = np.where(size > 0, fit[:, 1] / np.maximum(size, 1.0), overall)
    _, rank = np.unique(rate, return_inverse=True)
    table = np.zeros((rank.max(initial=0) + 1, 2))
    np.add.at(table, rank, np.asarray(evaluate, dtype=np.float64))
    return auc_from_counts(table[:, 1], table[:, 0])


def cross_fit_halves(hashes, seed: int, *, xp=None):
    """The fold (0/1, int64) of each row: a mix of its content hash (uint64) and ``seed``.

    A row's fold follows its contents alone, so shuffled rows, another index or the rows of a
    partition get the folds they get in the whole frame. Copies of a row share a fold, as a
    group does in grouped cross-validation: a copy on the fitting side would hand its level's
    label to the measured side. The halves are balanced over distinct rows, not over rows.
    """
    from .quality import row_hashes

    xp = namespace(hashes, xp=xp)
    seeds = xp.full((1, hashes.shape[0]), seed, dtype=xp.int64)
    return xp.astype(row_hashes(seeds, state=hashes, xp=xp) & xp.asarray(1, dtype=xp.uint64),
                     xp.int64)


def cross_fitted_auc(codes, labels, half, *, n_levels: int, xp=None) -> float:
    """Mean of :func:`categorical_auc` fitted on each half (``half`` is 0/1 per row)."""
    xp = namespace(codes, labels, xp=xp)
    cell = xp.astype(half, xp.int64) * n_levels + xp.astype(codes, xp.int64)
    return cross_fitted_auc_from(
        contingency(cell, labels, n_a=2 * n_levels, n_b=2, xp=xp).reshape(2, n_levels, 2))


def cross_fitted_auc_from(tables) -> float:
    """:func:`cross_fitted_auc` from the ``[half, level, y]`` count tensor of both halves."""
    return (categorical_auc(tables[0], tables[1]) + categorical_auc(tables[1], tables[0])) / 2


def numeric_auc(values, labels, *, xp=None) -> float:
    """AUC of a numeric feature for a 0/1 label, direction-free: ``max(AUC, 1 − AUC)``.

    Missing values (NaN) are dropped. Sorted once; ties share their rank.
    """
    xp = namespace(values, labels, xp=xp)
    keep = ~xp.isnan(values)
    values, labels = values[keep], xp.astype(labels[keep], xp.int64)
    if values.shape[0] == 0:
        return float("nan")
    order = xp.argsort(values)
    values, labels = xp.take(values, order), xp.take(labels, order)
    new = xp.concat([xp.ones(1, dtype=xp.int64),
                     xp.astype(values[1:] != values[:-1], xp.int64)])
    tie_group = xp.cumulative_sum(new) - 1
    n_groups = int(to_host(tie_group[-1])) + 1
    pos = to_host(bincount(tie_group, minlength=n_groups, weights=xp.astype(labels, xp.float64),
                           xp=xp))
    size = to_host(bincount(tie_group, minlength=n_groups, xp=xp))
    auc = auc_from_counts(pos, size - pos)
    return max(auc, 1.0 - auc)


def label_issues(probabilities, labels, *, n_classes: int, xp=None):
    """Likely label errors by confident learning (Northcutt, Jiang and Chuang 2021, JAIR 70).

    ``probabilities`` are out-of-sample predicted class probabilities ``(rows, n_classes)``;
    ``labels`` the given class codes. Class ``j``'s threshold is the mean predicted probability of
    ``j`` over rows labelled ``j``. A row is *confidently* of class ``j`` when its probability of
    ``j`` reaches the threshold (the most probable such class when several do); it is a likely
    label error when that class differs from its given label — the off-diagonal of the
    confident joint.

    Returns
    -------
    (issue mask, self-confidence ``p[row, label]``, thresholds) — host arrays.
    """
    xp = namespace(probabilities, labels, xp=xp)
    labels = xp.astype(labels, xp.int64)
    onehot = xp.astype(labels[:, None] == xp.arange(n_classes)[None, :], xp.float64)
    per_class = to_host(xp.sum(onehot * probabilities, axis=0))
    sizes = to_host(xp.sum(onehot, axis=0))
    thresholds = np.where(sizes > 0, per_class / np.maximum(sizes, 1), np.inf)
    above = probabilities >= to_device(thresholds, xp)[None, :]
    candidate = xp.where(above, probabilities, -1.0)
    confident = xp.argmax(candidate, axis=1)
    has_class = xp.any(above, axis=1)
    issue = has_class & (confident != labels)
    self_conf = xp.sum(onehot * probabilities, axis=1)
    return to_host(issue), to_host(self_conf), thresholds
