"""Per-group regression metrics, statistical parity of predictions, and a Poisson bootstrap.

Every metric is host math on per-group sums (:data:`REGRESSION_SUMS`) made in one pass over the
rows; sums of partitions add, so Dask and the bootstrap share the metric code. Statistical parity
for regression compares each group's distribution of predictions with the distribution over all
rows (Agarwal, Dudík & Wu, "Fair Regression", ICML 2019) by the Kolmogorov–Smirnov and
Wasserstein-1 distances, computed exactly in one sweep over the rows (or, for partitions, over
their merged distinct (prediction, group) pairs) sorted by prediction.

The bootstrap is a Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012): row ``r``
gets weight ``Poisson(1)`` in each replicate, drawn from a counter-based hash of
``(seed, replicate, r)``, so partitions of the rows draw the same weights as the whole.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import array_api_compat
import numpy as np

from ..backend import bincount, namespace, row_chunks, to_host
from ..errors import LENGTH_MISMATCH, RaiError
from .group_metrics import disparity

#: Per-group metrics, in the column order of :func:`regression_metrics`.
REGRESSION_METRICS: tuple[str, ...] = (
    "count", "mean_target", "mean_prediction", "mean_error", "mean_absolute_error",
    "root_mean_squared_error", "r2")

#: Per-group sufficient statistics (``w`` weight, ``y`` target, ``p`` prediction, ``e = p − y``,
#: ``c`` the shift): rows (unweighted), Σw, Σw·y, Σw·p, Σw·(y−c), Σw·(y−c)², Σw·e, Σw·|e|, Σw·e².
REGRESSION_SUMS: tuple[str, ...] = (
    "rows", "weight", "target", "prediction", "centred_target", "centred_target_squared",
    "error", "absolute_error", "squared_error")

#: Fairness summaries of regression (name → definition), in :func:`regression_disparities` order.
REGRESSION_DISPARITIES: dict[str, str] = {
    **{f"{name}_{kind}": f"{how} of the per-group {name}"
       for name in REGRESSION_METRICS[1:]
       for kind, how in (("difference", "largest minus smallest"),
                         ("ratio", "smallest divided by largest"))},
    "bounded_group_loss": "largest per-group mean squared error (Agarwal et al. 2019)",
    "statistical_parity_ks": "largest Kolmogorov–Smirnov distance between a group's predictions "
                             "and all predictions",
    "statistical_parity_wasserstein": "largest Wasserstein-1 distance between a group's "
                                      "predictions and all predictions",
}

BAD_CODES = "group_codes must lie in 0..{top} (n_groups={n_groups}); found {low}..{high}"
BAD_COUNT = "{argument} must be a positive integer, got {value!r}"
BAD_SEED = "{argument} must be an integer in 0..2**64-1, got {value!r}"

_METRIC = {name: i for i, name in enumerate(REGRESSION_METRICS)}
_SUM = {name: i for i, name in enumerate(REGRESSION_SUMS)}
_EPS = np.finfo(np.float64).eps


def regression_sums(group_codes, y_true, y_pred, weights=None, *, n_groups: int,
                    shift: float = 0.0, xp=None) -> np.ndarray:
    """Per-group sufficient statistics of a regression, in one pass over the rows.

    Parameters
    ----------
    group_codes : array of int, shape (n,)
        Group of each row, in ``0..n_groups-1``.
    y_true, y_pred : array of float, shape (n,)
        Targets and predictions.
    weights : array of float, shape (n,), optional
        Sample weights (default 1 per row).
    n_groups : int
        Number of groups (the table has a row for every group, observed or not).
    shift : float, default 0.0
        Subtracted from targets before squaring. Pass the overall weighted mean target (the same
        value for every partition) so the variance ``Σw(y−c)² − (Σw(y−c))²/Σw`` does not cancel.
    xp : namespace, optional
        Array namespace of the inputs. NumPy runs one compiled (numba) pass; any other array-API
        namespace (CuPy, array_api_strict) one ``bincount`` per statistic, in row chunks.

    Returns
    -------
    numpy.ndarray of float64, shape (n_groups, len(REGRESSION_SUMS))
        Sums in :data:`REGRESSION_SUMS` order; sums of disjoint row sets add.

    Examples
    --------
    >>> import numpy as np
    >>> sums = regression_sums(np.array([0, 0, 1]), np.array([1.0, 3.0, 2.0]),
    ...                        np.array([2.0, 3.0, 2.0]), n_groups=2, shift=2.0)
    >>> sums[:, :4].tolist()
    [[2.0, 2.0, 4.0, 5.0], [1.0, 1.0, 2.0, 2.0]]
    """
    xp = namespace(group_codes, y_true, y_pred, weights, xp=xp)
    _check_rows(group_codes, y_true=y_true, y_pred=y_pred, weights=weights, n_groups=n_groups,
                xp=xp)
    if not array_api_compat.is_numpy_namespace(xp):
        return _portable_sums(group_codes, y_true, y_pred, weights, n_groups, float(shift), xp)
    from . import _regression_cpu

    out = np.zeros((n_groups, len(REGRESSION_SUMS)))
    _regression_cpu.sums(*_host_rows(group_codes, y_true, y_pred, weights), float(shift), out)
    return out


def _portable_sums(group_codes, y_true, y_pred, weights, n_groups, shift, xp):
    total = np.zeros((len(REGRESSION_SUMS), n_groups))
    for rows in row_chunks(group_codes.shape[0]):
        codes = group_codes[rows]
        y, p = xp.astype(y_true[rows], xp.float64), xp.astype(y_pred[rows], xp.float64)
        w = xp.ones_like(y) if weights is None else xp.astype(weights[rows], xp.float64)
        d, e = y - shift, p - y
        terms = (None, w, w * y, w * p, w * d, w * d * d, w * e, w * xp.abs(e), w * e * e)
        for s, term in enumerate(terms):
            total[s] += to_host(bincount(codes, minlength=n_groups, weights=term, xp=xp))
    return total.T


def _check_rows(group_codes, *, n_groups, xp, **columns):
    _check_count("n_groups", n_groups)
    n = group_codes.shape[0]
    for name, column in columns.items():
        if column is not None and column.shape[0] != n:
            raise RaiError(LENGTH_MISMATCH.format(argument=name, got=column.shape[0], expected=n))
    if n:
        low, high = int(xp.min(group_codes)), int(xp.max(group_codes))
        if low < 0 or high >= n_groups:
            raise RaiError(BAD_CODES.format(top=n_groups - 1, n_groups=n_groups, low=low,
                                            high=high))


def _check_count(argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RaiError(BAD_COUNT.format(argument=argument, value=value))


def _host_rows(group_codes, y_true, y_pred, weights):
    """Host arrays in the dtypes the compiled kernels take, and whether rows are weighted."""
    codes = np.asarray(to_host(group_codes)).astype(np.int64, copy=False)
    y, p = (np.asarray(to_host(a)).astype(np.float64, copy=False) for a in (y_true, y_pred))
    if weights is None:
        return codes, y, p, np.empty(0), False
    return codes, y, p, np.asarray(to_host(weights)).astype(np.float64, copy=False), True


def regression_metrics(sums) -> np.ndarray:
    """Per-group metrics in :data:`REGRESSION_METRICS` order from :func:`regression_sums`.

    ``count`` is the number of rows (fairlearn's ``count``); the others use the weights and equal
    scikit-learn's ``mean_absolute_error``, ``root_mean_squared_error`` and ``r2_score`` with
    ``sample_weight``. ``mean_error`` is prediction minus target. ``r2`` is NaN below two rows
    (as scikit-learn) and follows ``force_finite=True`` for a constant target: 1 for a perfect
    fit, else 0; a target variance within rounding of the sums (``4·rows·ε·Σw(y−c)²``) counts as
    constant. A group without weight (absent from a bootstrap replicate) gets NaN.

    Parameters
    ----------
    sums : array, shape (..., n_groups, len(REGRESSION_SUMS))
        Any leading axes (bootstrap replicates) are kept.

    Returns
    -------
    numpy.ndarray of float64, shape (..., n_groups, len(REGRESSION_METRICS))
    """
    s = np.moveaxis(np.asarray(sums, dtype=np.float64), -1, 0)
    rows, weight = s[_SUM["rows"]], s[_SUM["weight"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        means = s / weight
        variance = s[_SUM["centred_target_squared"]] - s[_SUM["centred_target"]] * means[
            _SUM["centred_target"]]
        constant = variance <= 4 * rows * _EPS * s[_SUM["centred_target_squared"]]
        squared = s[_SUM["squared_error"]]
        r2 = np.where(constant, np.where(squared == 0, 1.0, 0.0), 1 - squared / variance)
    r2 = np.where(rows < 2, np.nan, r2)
    table = np.stack([rows, means[_SUM["target"]], means[_SUM["prediction"]],
                      means[_SUM["error"]], means[_SUM["absolute_error"]],
                      np.sqrt(means[_SUM["squared_error"]]), r2], axis=-1)
    return np.where((weight > 0)[..., None] | (np.arange(len(REGRESSION_METRICS)) == 0), table,
                    np.nan)


@dataclass(frozen=True)
class PredictionDistribution:
    """The exact weighted distribution of predictions in each group.

    One entry per distinct (prediction, group) pair, sorted by prediction then group, with the
    total weight of its rows (the number of rows when unweighted). Merge partitions' with
    :func:`merge_distributions`.
    """

    n_groups: int
    value: np.ndarray
    group: np.ndarray
    weight: np.ndarray


def prediction_distribution(group_codes, y_pred, weights=None, *, n_groups: int,
                            xp=None) -> PredictionDistribution:
    """The distribution of ``y_pred`` in each group: two sorts and one ``bincount``.

    Parameters
    ----------
    group_codes : array of int, shape (n,)
        Group of each row, in ``0..n_groups-1``.
    y_pred : array of float, shape (n,)
    weights : array of float, shape (n,), optional
    n_groups : int

    Returns
    -------
    PredictionDistribution
        Host (NumPy) arrays.
    """
    xp = namespace(group_codes, y_pred, weights, xp=xp)
    _check_rows(group_codes, y_pred=y_pred, weights=weights, n_groups=n_groups, xp=xp)
    order, entry, value, group = _entries(group_codes, xp.astype(y_pred, xp.float64), n_groups,
                                          xp)
    sorted_weights = None if weights is None else xp.take(xp.astype(weights, xp.float64), order)
    weight = bincount(entry, minlength=group.shape[0], weights=sorted_weights, xp=xp)
    return PredictionDistribution(n_groups, to_host(value), to_host(group),
                                  to_host(xp.astype(weight, xp.float64)))


def _entries(group_codes, y_pred, n_groups, xp):
    """Rows in (prediction, group) order, the entry of each sorted row, the entries' pairs.

    One sort by prediction, then, when predictions tie, one sort of the (value rank, group)
    keys (the order of rows within an entry does not matter).
    """
    order = xp.argsort(y_pred, stable=False)
    value = xp.take(y_pred, order)
    rank = _run_ids(value, xp)
    key = rank * n_groups + xp.take(xp.astype(group_codes, xp.int64), order)
    if value.shape[0] and int(rank[-1]) + 1 < value.shape[0]:
        ties = xp.argsort(key, stable=False)
        order, key = xp.take(order, ties), xp.take(key, ties)
    entry = _run_ids(key, xp)
    first = _starts(key, xp)
    return order, entry, value[first], key[first] % n_groups  # ties share their value


def _starts(sorted_values, xp):
    """True where a sorted array's value differs from the one before."""
    head = xp.ones(min(1, sorted_values.shape[0]), dtype=xp.bool)
    return xp.concat([head, sorted_values[1:] != sorted_values[:-1]])


def _run_ids(sorted_values, xp):
    """0, 1, 2, … numbering the runs of equal values of a sorted array."""
    return xp.cumulative_sum(xp.astype(_starts(sorted_values, xp), xp.int64)) - 1


def merge_distributions(parts: list[PredictionDistribution]) -> PredictionDistribution:
    """The distribution of the union of the rows behind ``parts`` (exact; Dask partitions).

    Examples
    --------
    >>> import numpy as np
    >>> codes, pred = np.array([0, 1, 0, 0]), np.array([1.0, 2.0, 1.0, 3.0])
    >>> parts = [prediction_distribution(codes[s], pred[s], n_groups=2)
    ...          for s in (slice(2), slice(2, 4))]
    >>> merge_distributions(parts).weight.tolist()
    [2.0, 1.0, 1.0]
    """
    group, value, weight = (np.concatenate([getattr(part, name) for part in parts])
                            for name in ("group", "value", "weight"))
    return prediction_distribution(group, value, weight, n_groups=parts[0].n_groups)


def prediction_gaps(group_codes, y_pred, weights=None, *, n_groups: int,
                    xp=None) -> tuple[np.ndarray, np.ndarray]:
    """Per group: KS and Wasserstein-1 distance of its predictions to all predictions.

    Equal to ``distribution_gaps(prediction_distribution(...))`` without forming the
    distribution: one sort of the rows by prediction and one compiled sweep.

    Parameters
    ----------
    group_codes : array of int, shape (n,)
        Group of each row, in ``0..n_groups-1``.
    y_pred : array of float, shape (n,)
    weights : array of float, shape (n,), optional
    n_groups : int
    xp : namespace, optional
        Array namespace of the inputs (they are copied to the host).

    Returns
    -------
    ks, wasserstein : numpy.ndarray of float64, shape (n_groups,)
        See :func:`distribution_gaps`.

    Examples
    --------
    >>> import numpy as np
    >>> ks, w1 = prediction_gaps(np.array([0, 0, 1, 1]), np.array([1.0, 2.0, 3.0, 4.0]),
    ...                          n_groups=2)
    >>> ks.tolist(), w1.tolist()
    ([0.5, 0.5], [1.0, 1.0])
    """

    xp = namespace(group_codes, y_pred, weights, xp=xp)
    _check_rows(group_codes, y_pred=y_pred, weights=weights, n_groups=n_groups, xp=xp)
    codes, _, p, w, weighted = _host_rows(group_codes, y_pred, y_pred, weights)
    return _gaps(*_sorted_rows(_value_order(p), p, codes, w, weighted), weighted, n_groups)


def _value_order(values):
    """The rows of float64 ``values`` in ascending order (tied rows in any order)."""
    from . import _regression_cpu

    index_bits = max(1, (len(values) - 1).bit_length())
    packed, keys = np.empty((2, len(values)), np.uint64)  # NumPy's big arrays get huge pages
    _regression_cpu.packed_keys(values, index_bits, packed, keys)
    packed.sort()
    return _regression_cpu.order_from_packed(packed, keys, index_bits)


def _sorted_rows(order, p, codes, w, weighted):
    """Predictions, groups and weights (empty unless ``weighted``) of the rows in ``order``."""
    from . import _regression_cpu

    rows = (np.empty(len(order)), np.empty(len(order), np.int64),
            np.empty(len(order) if weighted else 0))
    _regression_cpu.sorted_rows(order, p, codes, w, weighted, *rows)
    return rows


def distribution_gaps(dist: PredictionDistribution) -> tuple[np.ndarray, np.ndarray]:
    """Per group: KS and Wasserstein-1 distance of its predictions to all predictions.

    With ``F_g`` the (weighted) empirical CDF of group ``g``'s predictions and ``F`` that of all
    rows, ``KS_g = sup_z |F_g(z) − F(z)|`` and ``W_g = ∫ |F_g(z) − F(z)| dz``. ``F_g`` is
    constant between the group's own values and ``F`` is monotone, so one sweep in value order
    settles each such stretch when it ends (a binary search only where the CDFs cross inside
    it): O(n log n) at worst, whatever the number of groups. Groups without weight get NaN.

    Returns
    -------
    ks, wasserstein : numpy.ndarray of float64, shape (n_groups,)
    """
    return _gaps(dist.value, dist.group.astype(np.int64, copy=False), dist.weight, True,
                 dist.n_groups)


def _gaps(value, group, weight, weighted, n_groups):
    from . import _regression_cpu

    ks, w1 = np.empty(n_groups), np.empty(n_groups)
    _regression_cpu.gaps(value, group, weight, weighted, ks, w1,
                         _regression_cpu.gap_work(np.empty((3, len(value))), n_groups))
    return ks, w1


def regression_disparities(by_group, ks=None, wasserstein=None) -> np.ndarray:
    """Fairness summaries in :data:`REGRESSION_DISPARITIES` order, vectorised over ``...``.

    Differences and ratios are fairlearn's ``between_groups`` ones (max − min, min / max,
    ignoring NaN groups); without ``ks`` / ``wasserstein`` their summaries are NaN.

    Parameters
    ----------
    by_group : array, shape (..., n_groups, len(REGRESSION_METRICS))
        :func:`regression_metrics` output.
    ks, wasserstein : array, shape (..., n_groups), optional
        :func:`distribution_gaps` output (or bootstrap replicates of it).

    Returns
    -------
    numpy.ndarray of float64, shape (..., len(REGRESSION_DISPARITIES))
    """
    by_group = np.asarray(by_group, dtype=np.float64)
    missing = np.full(by_group.shape[:-2], np.nan)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # no defined group
        parts = [disparity(by_group[..., _METRIC[name]], missing, method="between_groups",
                           kind=kind)
                 for name in REGRESSION_METRICS[1:] for kind in ("difference", "ratio")]
        mse = by_group[..., _METRIC["root_mean_squared_error"]] ** 2
        parts += [np.nanmax(gap, axis=-1) if gap is not None else missing
                  for gap in (mse, ks, wasserstein)]
    return np.stack(parts, axis=-1)


def poisson_bootstrap(group_codes, y_true, y_pred, weights=None, *, n_groups: int, shift: float,
                      n_boot: int, seed: int, offset: int = 0, gaps: bool = True,
                      ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Sums (and prediction-distribution gaps) of ``n_boot`` Poisson bootstrap replicates.

    Row ``offset + i`` has weight ``k ~ Poisson(1)`` in replicate ``b``, drawn from a hash of
    ``(seed, b, offset + i)``: it counts ``k`` times (``rows`` grows by ``k``, the weighted sums
    by ``k·w``). A partition passed with its global first row as ``offset`` draws the weights
    the whole data draws for its rows, so partitions' replicate sums add up to the whole's.
    Runs compiled on the CPU (device inputs are copied to the host); no ``(n_boot, n)`` array
    is formed.

    Parameters
    ----------
    group_codes, y_true, y_pred, weights, n_groups, shift
        As for :func:`regression_sums`.
    n_boot : int
        Number of replicates.
    seed : int
        Seed in ``0..2**64-1``; the same seed gives the same replicates.
    offset : int, default 0
        Global index of the first row passed.
    gaps : bool, default True
        Also compute each replicate's :func:`distribution_gaps`. They need all rows at once: a
        partition of the data passes ``gaps=False`` (the gaps of a partition are not those of the
        whole) and gets None for both.

    Returns
    -------
    sums : numpy.ndarray, shape (n_boot, n_groups, len(REGRESSION_SUMS))
    ks, wasserstein : numpy.ndarray, shape (n_boot, n_groups), or None without ``gaps``
    """
    from . import _regression_cpu

    xp = namespace(group_codes, y_true, y_pred, weights)
    _check_rows(group_codes, y_true=y_true, y_pred=y_pred, weights=weights, n_groups=n_groups,
                xp=xp)
    _check_count("n_boot", n_boot)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise RaiError(BAD_SEED.format(argument="seed", value=seed))
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
        raise RaiError(f"offset must be a non-negative integer, got {offset!r}")
    codes, y, p, w, weighted = _host_rows(group_codes, y_true, y_pred, weights)
    keys = _regression_cpu.stream_keys(np.uint64(seed), n_boot)
    out = np.zeros((n_groups, len(REGRESSION_SUMS), n_boot))
    _regression_cpu.bootstrap_sums(codes, y, p, w, weighted, float(shift), keys, int(offset),
                                   _blocks(n_boot), out)
    sums = np.ascontiguousarray(out.transpose(2, 0, 1))
    if not gaps:
        return sums, None, None
    return (sums, *_bootstrap_gaps(codes, p, w, weighted, keys, int(offset), n_groups))


def _blocks(n_boot):
    """Blocks of replicates the compiled bootstrap runs in parallel: one per thread."""
    import numba

    return min(n_boot, numba.get_num_threads())


def _bootstrap_gaps(codes, p, w, weighted, keys, offset, n_groups):
    from . import _regression_cpu

    order = _value_order(p)
    rows = _sorted_rows(order, p, codes, w, weighted)
    ks, w1 = np.empty((2, len(keys), n_groups))
    _regression_cpu.bootstrap_gaps(order, *rows, weighted, keys, offset, _blocks(len(keys)), ks,
                                   w1)
    return ks, w1
