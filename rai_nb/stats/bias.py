"""All bias statistics of an audit from one count tensor, and bootstrap intervals for them.

The count tensor ``T[..., g, s, y, ŷ]`` holds rows per intersection group ``g``, stratum ``s`` of
the optional ``group_variable`` (a single stratum without one), true and predicted label. Every
function here is vectorised over the leading ``...`` axes, so the point estimate and all
bootstrap replicates go through the same code.
"""

from __future__ import annotations

import numpy as np

from . import clarify
from .group_metrics import GROUP_METRICS, disparity, metric_table

#: Fairness summaries (fairlearn names) → (per-group metrics they compare, aggregate, kind).
DISPARITIES = {
    "demographic_parity_difference": (("selection_rate",), max, "difference"),
    "demographic_parity_ratio": (("selection_rate",), min, "ratio"),
    "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), max, "difference"),
    "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), min, "ratio"),
    "equal_opportunity_difference": (("true_positive_rate",), max, "difference"),
    "equal_opportunity_ratio": (("true_positive_rate",), min, "ratio"),
}

_RATE_COLUMNS = np.array([name != "count" for name in GROUP_METRICS])
#: The per-group metrics that the disparities compare.
_SPREAD_COLUMNS = np.array(sorted({list(GROUP_METRICS).index(name)
                                   for names, _, _ in DISPARITIES.values() for name in names}))


def facet_onehots(facet_codes_of_group: list[np.ndarray], n_levels: list[int]) -> list:
    """For each sensitive column, a sparse ``(levels, groups)`` 0/1 matrix: group g has level l.

    ``None`` stands for the identity (one sensitive column: its levels are the groups). The
    matrices are SciPy CSC arrays, so ``onehot.indices`` is the level of each group.
    """
    from scipy import sparse

    return [None if len(codes) == levels and np.array_equal(codes, np.arange(levels))
            else sparse.csc_array((np.ones(len(codes)), codes, np.arange(len(codes) + 1)),
                                  shape=(levels, len(codes)))
            for codes, levels in zip(facet_codes_of_group, n_levels)]


def bias_statistics(tensor, onehots: list[np.ndarray], *, predicted: bool,
                    method: str = "between_groups") -> dict[str, np.ndarray]:
    """Per-group metrics, overall metrics, Clarify metrics per facet and fairness summaries.

    Returns arrays keyed ``by_group`` (..., G, M) in :data:`GROUP_METRICS` order, ``overall``
    (..., M), ``clarify`` (..., F, K) over all facets of all columns (columns in order, levels
    in order) and Clarify names in ``clarify_names(...)`` order, and ``disparities``
    (..., D) in :data:`DISPARITIES` order.
    """
    tensor = np.asarray(tensor, dtype=np.float64)
    counts = tensor.sum(axis=-3)
    total = counts.sum(axis=-3)
    by_group, overall = metric_table(counts), metric_table(total)
    # A group absent from a bootstrap replicate has no metrics (it never is in the data itself).
    empty = (counts.sum(axis=(-2, -1)) == 0)[..., None] & _RATE_COLUMNS
    by_group = np.where(empty, np.nan, by_group)
    clarify_values = np.concatenate(
        [_clarify_table(_facet_sums(hot, tensor), tensor, predicted) for hot in onehots], axis=-2)
    summaries = [_summary(by_group, overall, names, agg, kind, method)
                 for names, agg, kind in DISPARITIES.values()]
    return {"by_group": by_group, "overall": overall, "clarify": clarify_values,
            "disparities": np.stack(summaries, axis=-1)}


def _facet_sums(onehot, tensor):
    """Sum ``tensor[..., g, s, y, ŷ]`` over the groups of each facet level (a sparse product)."""
    if onehot is None:
        return tensor
    *lead, groups, strata, _, _ = tensor.shape
    by_group = np.moveaxis(tensor, -4, 0).reshape(groups, -1)
    sums = (onehot @ by_group).reshape(onehot.shape[0], *lead, strata, 2, 2)
    return np.moveaxis(sums, 0, -4)


def clarify_names(predicted: bool, stratified: bool) -> list[str]:
    """Clarify metric names in the column order of ``bias_statistics(...)["clarify"]``.

    The conditional metrics (CDDL, CDDPL) need a ``group_variable``; post-training metrics
    need predictions.
    """
    names = list(clarify.PRETRAINING) + (list(clarify.POSTTRAINING) if predicted else [])
    return [n for n in names if stratified or n not in clarify.CONDITIONAL]


def _clarify_table(facet_strata, tensor, predicted: bool) -> np.ndarray:
    all_strata = tensor.sum(axis=-4)[..., None, :, :, :]
    facet = facet_strata.sum(axis=-3)
    rest = all_strata.sum(axis=-3) - facet
    stratified = tensor.shape[-3] > 1
    values = clarify.pretraining(facet, rest)
    values["CDDL"] = clarify.conditional_demographic_disparity(facet_strata, all_strata,
                                                               predicted=False)
    if predicted:
        values.update(clarify.posttraining(facet, rest))
        values["CDDPL"] = clarify.conditional_demographic_disparity(facet_strata, all_strata,
                                                                    predicted=True)
        whole = all_strata.sum(axis=-3)[..., 0, :, :]
        values["GE"] = np.broadcast_to(clarify.generalized_entropy(whole)[..., None],
                                       facet.shape[:-2])
    table = np.stack([values[name] for name in clarify_names(predicted, stratified)], axis=-1)
    n_facet, n_rest = facet.sum(axis=(-2, -1)), rest.sum(axis=(-2, -1))
    return np.where(((n_facet == 0) | (n_rest == 0))[..., None], np.nan, table)


def _summary(by_group, overall, names, agg, kind, method):
    columns = [list(GROUP_METRICS).index(name) for name in names]
    parts = [disparity(by_group[..., col], overall[..., col], method=method, kind=kind)
             for col in columns]
    if len(parts) == 1:
        return parts[0]
    stacked = np.stack(parts, axis=-1)
    # NaN-ignoring worst case: an undefined ratio (0/0) does not hide the defined one.
    return np.fmax.reduce(stacked, axis=-1) if agg is max else np.fmin.reduce(stacked, axis=-1)


def bootstrap_replicates(tensor, *, n_boot: int, random_state=None) -> np.ndarray:
    """``n_boot`` resamples of the rows behind ``tensor``: the cell counts of each resample.

    Resampling N rows with replacement gives cell counts ~ Multinomial(N, T / N); they are drawn
    as in :func:`bootstrap_intervals` (same ``random_state``, same replicates).
    """
    tensor = np.asarray(tensor, dtype=np.int64)
    _, blocks = _resample(tensor, n_boot, random_state)
    out = np.concatenate([counts.astype(np.int64) for _, counts in blocks], axis=1)
    return out.reshape((n_boot, *tensor.shape))


#: Replicate counts per block of the resampling (32 MB of int32): few large blocks, since each
#: block is a parallel region and, on a shared machine, every region waits for its slowest
#: thread (1,024-group blocks were twice as slow in wall time as 8,192 at 100k groups).
_BLOCK_COUNTS = 1 << 23


def _block_groups(n_boot: int, n_cells: int) -> int:
    return max(64, _BLOCK_COUNTS // (n_boot * n_cells))


def _resample(tensor, n_boot: int, random_state):
    """Replicate counts, drawn one block of groups at a time.

    A multinomial draw is split exactly in two stages: first how many of the N rows fall in each
    (block, cell) pair, then which rows of that pair they are (uniform with replacement,
    counter-based draws of ``_bootstrap_cpu.draw_block``), so only one block's counts exist at
    a time.

    Groups are the first axis of ``tensor``, cells the others. Returns the totals per cell
    ``(n_boot, cells)`` and an iterator of ``(first group, counts (n_boot, groups of the block,
    cells))``; the counts array is reused between blocks.
    """
    from ._bootstrap_cpu import draw_block
    from ._regression_cpu import stream_keys

    cells = np.asarray(tensor, dtype=np.int64)
    groups = cells.shape[0]
    cells = cells.reshape(groups, -1)
    rng = np.random.default_rng(random_state)
    size = _block_groups(n_boot, cells.shape[1])
    starts = np.arange(0, groups, size)
    in_block = np.add.reduceat(cells, starts, axis=0)
    n = int(cells.sum())
    first = rng.multinomial(n, (in_block / max(n, 1)).ravel(), size=n_boot)
    # each replicate's draws are numbered over its (block, cell) pairs in order
    first_draw = (np.cumsum(first, axis=1) - first).reshape(n_boot, *in_block.shape)
    first = first.reshape(n_boot, *in_block.shape)
    keys = stream_keys(np.uint64(rng.integers(0, 2**63)), n_boot)

    def blocks():
        buffer = np.empty((n_boot, min(size, groups), cells.shape[1]), dtype=_count_type(n))
        for k, start in enumerate(starts):
            part = cells[start:start + size]
            # the last block gets its own array, so the kernels always see contiguous counts
            counts = buffer if len(part) == buffer.shape[1] else np.empty_like(buffer[:, :len(part)])
            group_of_row = np.repeat(np.tile(np.arange(len(part), dtype=np.int32),
                                             part.shape[1]), part.T.ravel())
            cell_start = np.concatenate([[0], np.cumsum(in_block[k])])
            draw_block(first[:, k], first_draw[:, k], keys, cell_start, group_of_row, counts)
            yield start, counts

    return first.sum(axis=1), blocks()


def _count_type(n: int):
    return np.int32 if n < 2**31 else np.int64


def bootstrap_intervals(tensor, onehots: list, *, predicted: bool, n_boot: int, ci: float,
                        random_state=None, method: str = "between_groups",
                        large=None) -> dict:
    """Percentile intervals of every array of :func:`bias_statistics` over bootstrap resamples.

    Equal to :func:`percentile_interval` of ``bias_statistics(bootstrap_replicates(tensor,
    ...))`` for the same ``random_state``, but computed a few dozen groups at a time by compiled
    kernels, so no per-replicate table is ever held: 100k groups × 200 replicates in seconds.

    Parameters
    ----------
    tensor : array, shape (G, S, 2, 2)
        Row counts per group, stratum, true and predicted label.
    onehots : list
        :func:`facet_onehots` of the sensitive columns.
    predicted : bool
        Whether ``tensor`` holds predictions (adds the post-training Clarify metrics).
    n_boot : int
        Resamples (at least 1).
    ci : float
        Coverage of the intervals.
    random_state : int, numpy.random.Generator or None
        Seed of the resamples.
    method : {"between_groups", "to_overall"}
        Aggregation of the disparities, as for :func:`bias_statistics`.
    large : bool array, shape (G,), optional
        Groups whose per-replicate extremes are also wanted (the findings compare only groups
        of ``min_group_size`` rows or more).

    Returns
    -------
    dict
        ``(lower, upper)`` arrays keyed as :func:`bias_statistics`' arrays, each of the shape of
        its point estimate; with ``large``, also ``"extremes"``: per replicate the NaN-ignoring
        min and max of the disparities' per-group metrics over the ``large`` groups,
        ``(n_boot, 2, M)`` in :data:`GROUP_METRICS` order (NaN in the other columns and where
        no large group is present).

    Examples
    --------
    >>> tensor = np.array([[[[30, 5], [7, 20]]], [[[3, 1], [0, 2]]]])
    >>> low, high = bootstrap_intervals(tensor, [None], predicted=True, n_boot=50, ci=0.9,
    ...                                 random_state=0)["by_group"]
    >>> low.shape, bool(np.all(low <= high))
    ((2, 12), True)
    """
    from . import _bootstrap_cpu as kernels

    groups, strata = tensor.shape[-4], tensor.shape[-3]
    wanted = large is not None
    totals, blocks = _resample(tensor, n_boot, random_state)
    whole = totals.reshape(n_boot, strata, 2, 2).sum(axis=1)
    tail = (1 - ci) / 2
    selection = (tail, 1 - tail, *_buffer_sizes(n_boot, tail))
    clarify_args = (totals, clarify.generalized_entropy(whole) if predicted else np.zeros(n_boot),
                    predicted, strata > 1, *selection)
    n_clarify = len(clarify_names(predicted, strata > 1))
    by_group = _bounds(groups, len(GROUP_METRICS))
    facets = [_bounds(groups if hot is None else hot.shape[0], n_clarify) for hot in onehots]
    dtype = _count_type(int(totals[0].sum()))
    sums = [None if hot is None else np.zeros((n_boot, hot.shape[0], totals.shape[1]), dtype)
            for hot in onehots]
    spread = np.full((n_boot, 4, len(GROUP_METRICS)), np.nan)
    large = np.zeros(groups, dtype=np.bool_) if large is None else np.asarray(large, np.bool_)
    for start, counts in blocks:
        rows = slice(start, start + counts.shape[1])
        extremes = kernels.group_intervals(counts, _SPREAD_COLUMNS, large[rows], *selection,
                                           by_group[0][rows], by_group[1][rows])
        spread = _spread(spread, extremes)
        for hot, facet, total in zip(onehots, facets, sums):
            if hot is None:
                kernels.clarify_intervals(counts, *clarify_args, facet[0][rows], facet[1][rows])
            else:
                kernels.facet_sums(counts, hot.indices[rows], total)
    for facet, total in zip(facets, sums):
        if total is not None:
            kernels.clarify_intervals(total, *clarify_args, *facet)
    overall = metric_table(whole)
    disparities = np.stack([_summary(spread[:, :2], overall, names, agg, kind, method)
                            for names, agg, kind in DISPARITIES.values()], axis=-1)
    out = {"by_group": by_group, "overall": percentile_interval(overall, ci),
           "clarify": tuple(np.concatenate(part) for part in zip(*facets)),
           "disparities": percentile_interval(disparities, ci)}
    if wanted:
        out["extremes"] = spread[:, 2:]
    return out


def _bounds(rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    return np.empty((rows, columns)), np.empty((rows, columns))


def _spread(spread, extremes):
    """Fold the kernels' per-task extremes into the smallest and largest value of each metric
    per replicate, ``(n_boot, 4, metrics)``: (min, max) over all groups, then over the large
    ones. Every disparity of :func:`_summary` depends on the group values only through the
    first two."""
    least = np.fmin.reduce(extremes[:, :, 0::2], axis=0)
    most = np.fmax.reduce(extremes[:, :, 1::2], axis=0)
    return np.stack([np.fmin(spread[:, 0::2], least), np.fmax(spread[:, 1::2], most)],
                    axis=2).reshape(spread.shape)


def _buffer_sizes(n_boot: int, tail: float) -> tuple[int, int]:
    """How many of the smallest and of the largest replicates the quantiles can reach."""
    last = np.arange(n_boot)  # count - 1 for every possible count of defined replicates
    above_low = np.minimum(np.floor(last * tail).astype(np.int64) + 1, last)
    below_high = np.floor(last * (1 - tail)).astype(np.int64)
    return int(above_low.max()) + 1, int((last - below_high).max()) + 1


def percentile_interval(replicates: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over axis 0, ignoring undefined (NaN, ±inf) replicates.

    NumPy's default (linear) percentile of each cell's defined replicates, for every cell at
    once: one sort along the replicate axis, then interpolation between order statistics (a
    per-cell ``nanpercentile`` loops over cells in Python: minutes at 100k groups).
    """
    tail = (1 - ci) / 2
    finite = np.where(np.isfinite(replicates), replicates, np.nan)
    ordered = np.sort(finite, axis=0)  # NaN last
    count = np.isfinite(finite).sum(axis=0)
    return _order_statistic(ordered, count, tail), _order_statistic(ordered, count, 1 - tail)


def _order_statistic(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """The linear-interpolation ``q`` quantile of the first ``count`` values along axis 0."""
    position = np.maximum(count - 1, 0) * q
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    low = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
    high = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
    fraction = position - below
    with np.errstate(invalid="ignore"):
        value = np.where(fraction >= 0.5, high - (high - low) * (1 - fraction),
                         low + (high - low) * fraction)
    return np.where(count > 0, value, np.nan)
