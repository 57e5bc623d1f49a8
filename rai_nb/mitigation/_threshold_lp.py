"""The linear programs of threshold post-processing, binary and multiclass.

Both have the same shape: variables ``x ≥ 0`` in blocks that each sum to one (a group's mixing
weights over its ROC hull vertices; a row of a group's relabelling matrix), an objective linear
in ``x``, and constrained rates ``R x`` in families (one family per rate and class) whose
members must all lie in ``[lo_f, lo_f + tol]`` for a free common ``lo_f``. HiGHS solves it
(``scipy.optimize.milp``; integral ``x`` for the deterministic multiclass rule).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..errors import RaiError
from ._roc import Staircase


def solve(gain, block, rates, family, tol: float, *, integral: bool = False) -> np.ndarray:
    """Maximise ``gain @ x`` subject to the block sums and the rate families within ``tol``.

    Parameters
    ----------
    gain : ndarray (V,)
    block : ndarray of int (V,)
        The block of each variable; each block's variables sum to one.
    rates : sparse matrix (R, V)
        Constrained rates, one per row.
    family : ndarray of int (R,)
        Rows of one family share their common lower end.
    tol : float
    integral : bool
        Restrict ``x`` to 0/1 (a deterministic rule).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_vars, n_rows = len(gain), rates.shape[0]
    n_families = int(family.max()) + 1 if n_rows else 0
    ends = sparse.csr_array((np.ones(n_rows), (np.arange(n_rows), family)),
                            shape=(n_rows, n_families))
    upper = sparse.hstack([rates, -ends])
    lower = sparse.hstack([-rates, ends])
    sums = sparse.csr_array((np.ones(n_vars), (block, np.arange(n_vars))),
                            shape=(int(block.max()) + 1, n_vars + n_families))
    constraints = [LinearConstraint(sums, 1, 1)]
    if n_rows:
        constraints.append(LinearConstraint(sparse.vstack([upper, lower]).tocsr(), -np.inf,
                                            np.r_[np.full(n_rows, tol), np.zeros(n_rows)]))
    integrality = np.r_[np.full(n_vars, int(integral)), np.zeros(n_families)]
    result = milp(np.r_[-np.asarray(gain), np.zeros(n_families)], constraints=constraints,
                  integrality=integrality, bounds=Bounds(0, 1))
    if result.x is None:
        raise RaiError(f"the threshold optimisation failed: {result.message}")
    return np.clip(result.x[:n_vars], 0, 1)


def binary_program(hull: Staircase, rate_names: tuple[str, ...], objective: str):
    """``gain, block, rates, family`` of the binary LP over the hull vertices (Hardt et al.)."""
    n_groups, n_vars = len(hull.pos), len(hull.group)
    rows = np.concatenate([k * n_groups + hull.group for k in range(len(rate_names))])
    values = np.concatenate([hull.rate(name) for name in rate_names])
    columns = np.tile(np.arange(n_vars), len(rate_names))
    rates = sparse.csr_array((values, (rows, columns)),
                             shape=(n_groups * len(rate_names), n_vars))
    family = np.repeat(np.arange(len(rate_names)), n_groups)
    return hull.gain(objective), hull.group, rates, family


def multiclass_program(counts: np.ndarray, rate_names: tuple[str, ...], objective: str):
    """``gain, block, rates, family`` of the multiclass LP over relabelling matrices.

    Variable ``Q[g, i, j]`` is the probability that a row of group g whose base prediction is
    class i is relabelled j; ``counts[g, y, i]`` are the base model's weighted confusion
    counts, so the expected counts are ``E[g, y, j] = Σ_i counts[g, y, i] Q[g, i, j]`` and
    every rate of class j one-vs-rest is linear in ``Q`` (Putzel & Lee, "Blackbox
    Post-Processing for Multiclass Fairness", 2022, which generalises Hardt et al.).
    """
    n_groups, n_classes, _ = counts.shape
    size = counts.sum(axis=(1, 2))
    true = counts.sum(axis=2)  # rows of each true class
    predicted = counts.sum(axis=1)  # rows of each base prediction
    g, i, j = np.indices((n_groups, n_classes, n_classes))  # variable (g, i, j)
    hit = counts[g, j, i]  # rows of true class j whose base prediction is i
    coefficient = {
        "selection_rate": lambda: predicted[g, i] / size[g],
        "true_positive_rate": lambda: hit / true[g, j],
        "false_positive_rate": lambda: (predicted[g, i] - hit) / (size[g] - true[g, j]),
    }
    rows = [((k * n_groups + g) * n_classes + j).ravel() for k in range(len(rate_names))]
    values = [coefficient[name]().ravel() for name in rate_names]
    n_vars = counts.size
    rates = sparse.csr_array((np.concatenate(values),
                              (np.concatenate(rows), np.tile(np.arange(n_vars), len(rate_names)))),
                             shape=(len(rate_names) * n_groups * n_classes, n_vars))
    family = np.repeat(np.arange(len(rate_names)), n_groups * n_classes).reshape(
        len(rate_names), n_groups, n_classes)
    family = (family * n_classes + np.arange(n_classes)).ravel()
    # Q[g, i, j] is right on the rows of true class j: counts[g, j, i] of them.
    if objective == "accuracy":
        gain = hit / size.sum()
    else:
        gain = hit / (n_classes * true.sum(axis=0)[j])
    return gain.ravel(), (g * n_classes + i).ravel(), rates, family
