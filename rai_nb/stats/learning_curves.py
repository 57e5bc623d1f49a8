"""Per-slice learning curves and Slice Tuner's data-acquisition program (host NumPy, no models).

Slice Tuner (Tae & Whang, SIGMOD 2021, "Slice Tuner: A Selective Data Acquisition Framework for
Accurate and Fair Machine Learning Models") models each slice's validation loss as a power law
of its training rows, ``L_s(n) = b_s · n^(−a_s)``, and acquires ``d_s ≥ 0`` new rows per slice,
``Σ_s d_s = B``, minimising

    Σ_s L_s(n_s + d_s) + λ · Σ_s max(0, L_s(n_s + d_s) / A_s − 1),

where ``A_s`` is the mean of the *other* slices' current losses ``L_r(n_r)``, held constant (the
authors' program, as their code states it). Each term is convex in ``d_s``: ``b x^(−a)`` is
convex and decreasing for ``a ≥ 0`` and ``x > 0``, a maximum of convex functions is convex and
a sum of convex functions is convex. The problem is separable with one linear constraint, so
its exact solution is a water-filling: one multiplier ``μ`` at which every slice's marginal gain
``−g_s'(n_s + d_s)`` equals ``μ`` (or ``d_s = 0``), found by bisection. The arrays here are
tiny (slices × points), so everything is NumPy on the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Bisection steps on log μ; the bracket is 2 × 745 wide (float64's exponent range), so this
#: leaves a step far below a row.
_BISECTION_STEPS = 200


@dataclass(frozen=True)
class PowerLaws:
    """Fitted learning curves ``L_s(n) = b_s · n^(−a_s)``, one per slice.

    Attributes
    ----------
    a, b : numpy.ndarray of float64, shape (slices,)
        Exponent and scale of each slice's curve (``a`` as fitted; it may be negative when the
        loss did not fall with more rows).
    a_se, b_se : numpy.ndarray of float64, shape (slices,)
        Their standard errors from the scatter of the points about the fit (repeats included);
        ``b_se`` by the delta method from ``log b``'s.
    """

    a: np.ndarray
    b: np.ndarray
    a_se: np.ndarray
    b_se: np.ndarray

    def loss(self, rows) -> np.ndarray:
        """Each slice's predicted loss at ``rows`` (shape (slices,) or (…, slices))."""
        return self.b * np.asarray(rows, dtype=np.float64) ** (-self.a)


def fit_power_laws(rows: np.ndarray, losses: np.ndarray) -> PowerLaws:
    """Fit ``log L = log b − a · log n`` per slice by weighted least squares.

    Each point is weighted by its rows ``n``: the authors fit with ``σ ∝ n^(−1/2)``, larger
    subsets giving steadier losses. Standard errors are the usual WLS ones, ``s² (XᵀWX)⁻¹`` with
    ``s²`` the weighted residual variance on ``m − 2`` degrees of freedom, so repeats at the same
    size that disagree widen them.

    Parameters
    ----------
    rows : array of float, shape (slices, m)
        Training rows of each slice at each point (> 0).
    losses : array of float, shape (slices, m)
        The slice's validation loss at each point (> 0).

    Returns
    -------
    PowerLaws

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([[100.0, 200.0, 400.0, 800.0]])
    >>> curves = fit_power_laws(n, 3.0 * n ** -0.5)
    >>> np.round([curves.a[0], curves.b[0]], 6).tolist()
    [0.5, 3.0]
    """
    x, y = np.log(np.asarray(rows, dtype=np.float64)), np.log(np.asarray(losses, dtype=np.float64))
    w = np.exp(x)
    total = w.sum(axis=1, keepdims=True)
    x_mean = (w * x).sum(axis=1, keepdims=True) / total
    y_mean = (w * y).sum(axis=1, keepdims=True) / total
    sxx = (w * (x - x_mean) ** 2).sum(axis=1)
    slope = (w * (x - x_mean) * (y - y_mean)).sum(axis=1) / sxx
    intercept = y_mean[:, 0] - slope * x_mean[:, 0]
    residual = y - intercept[:, None] - slope[:, None] * x
    dof = max(x.shape[1] - 2, 1)
    s2 = (w * residual ** 2).sum(axis=1) / dof
    slope_var = s2 / sxx
    intercept_var = s2 / total[:, 0] + x_mean[:, 0] ** 2 * slope_var
    b = np.exp(intercept)
    return PowerLaws(a=-slope, b=b, a_se=np.sqrt(slope_var), b_se=b * np.sqrt(intercept_var))


def reference_losses(current: np.ndarray) -> np.ndarray:
    """``A_s``: the mean of the other slices' losses, for each slice (needs two slices)."""
    current = np.asarray(current, dtype=np.float64)
    return (current.sum() - current) / (len(current) - 1)


def acquisition_objective(curves: PowerLaws, rows: np.ndarray, acquired, fairness_weight: float
                          ) -> np.ndarray:
    """Slice Tuner's objective at ``acquired`` rows (shape (…, slices)): total loss plus
    ``fairness_weight`` × unfairness, ``A_s`` from the current losses at ``rows``."""
    return _slice_terms(curves, rows, acquired, fairness_weight).sum(axis=-1)


def _slice_terms(curves: PowerLaws, rows: np.ndarray, acquired, fairness_weight: float
                 ) -> np.ndarray:
    """Each slice's term of :func:`acquisition_objective` (it is separable), shape (…, slices)."""
    a = np.maximum(curves.a, 0.0)
    reference = reference_losses(curves.b * rows ** -a)
    loss = curves.b * (rows + np.asarray(acquired, dtype=np.float64)) ** -a
    return loss + fairness_weight * np.maximum(0.0, loss / reference - 1.0)


def allocate(curves: PowerLaws, rows: np.ndarray, budget: int, fairness_weight: float
             ) -> np.ndarray:
    """The rows to acquire per slice: Slice Tuner's convex program solved by water-filling,
    then its integer optimum (whole rows that sum to ``budget``).

    Exponents below 0 are taken as 0 (more rows never assumed to hurt), which keeps the program
    convex. When every curve is flat, no allocation beats another and the budget is split evenly.

    Parameters
    ----------
    curves : PowerLaws
        One curve per slice.
    rows : array of float, shape (slices,)
        Each slice's training rows now (> 0).
    budget : int
        New rows to place (≥ 0).
    fairness_weight : float
        λ, the weight of unfairness against total loss (≥ 0).

    Returns
    -------
    numpy.ndarray of int64, shape (slices,)
        Rows to acquire for each slice; they sum to ``budget``.

    Examples
    --------
    >>> import numpy as np
    >>> steep_and_flat = PowerLaws(a=np.array([0.8, 0.05]), b=np.array([5.0, 0.3]),
    ...                            a_se=np.zeros(2), b_se=np.zeros(2))
    >>> allocate(steep_and_flat, np.array([50.0, 5000.0]), 1000, 1.0).tolist()
    [1000, 0]
    """
    rows = np.asarray(rows, dtype=np.float64)
    continuous = water_fill(curves, rows, budget, fairness_weight)
    return _integer_optimum(curves, rows, continuous, budget, fairness_weight)


def _integer_optimum(curves: PowerLaws, rows: np.ndarray, continuous: np.ndarray, budget: int,
                     fairness_weight: float) -> np.ndarray:
    """The whole-row optimum: the continuous optimum's floor, then each row left over to the
    slice whose term it lowers most.

    Exact for a separable convex objective under one budget: an integer optimum lies at or
    above the continuous optimum's floor (Hochbaum 1994, the simple resource allocation
    problem), and from below an optimum the greedy marginal step reaches it. Fewer rows than
    slices are left after the floor, so this is at most ``slices − 1`` steps.
    """
    whole = np.minimum(np.floor(np.maximum(continuous, 0.0)).astype(np.int64), budget)
    while whole.sum() > budget:  # only if the continuous amounts overshoot by rounding
        whole[np.argmax(whole)] -= 1
    for _ in range(int(budget - whole.sum())):
        gain = (_slice_terms(curves, rows, whole, fairness_weight)
                - _slice_terms(curves, rows, whole + 1, fairness_weight))
        whole[np.argmax(gain)] += 1
    return whole


def water_fill(curves: PowerLaws, rows: np.ndarray, budget: float, fairness_weight: float
               ) -> np.ndarray:
    """The exact continuous optimum ``d`` of :func:`acquisition_objective` with ``Σ d = budget``."""
    a = np.maximum(curves.a, 0.0)
    if budget <= 0 or not (a > 0).any():
        return np.full(len(rows), budget / len(rows))
    reference = reference_losses(curves.b * rows ** -a)
    steep = 1.0 + fairness_weight / reference  # the marginal gain's factor while L_s > A_s
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        kink = np.where(a > 0, (curves.b / reference) ** (1.0 / a), 0.0)  # L_s(kink) = A_s
        # log of the largest marginal gain, at d = 0: the bracket's top
        gain0 = np.log(a * curves.b) - (a + 1.0) * np.log(rows) + np.log(steep)
    high = np.max(gain0[a > 0])
    low = high - 2 * 745.0
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if _acquired(middle, a, curves.b, steep, kink, rows).sum() > budget:
            low = middle
        else:
            high = middle
    return _acquired(high, a, curves.b, steep, kink, rows)


def _acquired(log_mu, a, b, steep, kink, rows) -> np.ndarray:
    """Each slice's ``d`` where its marginal gain ``a·b·c·x^(−a−1)`` meets ``μ``: above the kink
    ``c = 1``, below it ``c = 1 + λ/A_s``, at it anything between (the kink itself)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        base = np.log(a * b) - log_mu
        below = np.exp((base + np.log(steep)) / (a + 1.0))
        above = np.exp(base / (a + 1.0))
    x = np.where(below <= kink, below, np.where(above >= kink, above, kink))
    return np.where(a > 0, np.maximum(x - rows, 0.0), 0.0)


def equalized_error_rates(losses: np.ndarray) -> tuple[float, float]:
    """Slice Tuner's unfairness measures of per-slice losses: the average and the largest amount
    by which a slice's loss exceeds the mean of the other slices' (average over the slices that
    exceed it; 0 when none does)."""
    losses = np.asarray(losses, dtype=np.float64)
    excess = losses - reference_losses(losses)
    positive = excess[excess > 0]
    if positive.size == 0:
        return 0.0, 0.0
    return float(positive.mean()), float(positive.max())


def imbalance_ratio(rows: np.ndarray) -> float:
    """Largest over smallest slice size."""
    return float(np.max(rows) / np.min(rows))


def limit_imbalance_change(rows: np.ndarray, acquired: np.ndarray, limit: float) -> np.ndarray:
    """``acquired`` scaled down (by the largest factor on a grid of 1,000 in (0, 1]) so the
    imbalance ratio of the slices' sizes moves by at most ``limit``: the iterative Slice Tuner's
    guard against one round's curves shifting too far (Tae & Whang 2021)."""
    factor = np.linspace(1.0, 0.001, 1000)[:, None]
    sizes = rows + factor * acquired
    change = np.abs(sizes.max(axis=1) / sizes.min(axis=1) - imbalance_ratio(rows))
    allowed = np.flatnonzero(change <= limit)
    chosen = factor[allowed[0], 0] if allowed.size else factor[-1, 0]
    return np.floor(chosen * acquired).astype(np.int64)
