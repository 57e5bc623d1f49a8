"""The tables of a :class:`BiasResult` from its sufficient statistics, for each task.

Point estimates and bootstrap replicates go through the same statistics functions (they are
vectorised over leading axes), so every interval is of exactly the reported quantity.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..results._bias import clarify_row_label, row_label
from ..stats.bias import (
    DISPARITIES,
    bias_statistics,
    bootstrap_intervals,
    bootstrap_replicates,
    clarify_names,
    facet_onehots,
    percentile_interval,
)
from ..stats.group_metrics import GROUP_METRICS, expected_calibration_error
from ._bias_decisive import decisive_table

#: Replicates per batch of statistics, so (replicates × groups × classes²) stays small.
_BATCH_CELLS = 20_000_000


def bias_tables(counts, *, n_boot: int, ci: float, seed: int, min_group_size: int) -> dict:
    """Keyword arguments of :class:`BiasResult` holding tables: by_group, overall, clarify,
    disparities, by_class, class_disparities, decisive and intervals."""
    build = {"binary": partial(_binary, ci=ci, min_group_size=min_group_size),
             "multiclass": _multiclass, "regression": _regression}[counts.task]
    onehots = facet_onehots(_facet_codes_of_groups(counts), [f.n_levels for f in counts.facets])
    tables, blocks, spread = build(counts, onehots, n_boot, seed)
    tables.setdefault("by_class", None)
    tables.setdefault("class_disparities", None)
    tables["intervals"] = _interval_table(blocks, ci) if n_boot else None
    tables["decisive"] = None if spread is None else decisive_table(
        counts.task, rows=counts.rows, groups=[row_label(g) for g in _group_index(counts)],
        min_group_size=min_group_size, ci=ci, classes=counts.classes, **spread)
    return tables


def _binary(counts, onehots, n_boot, seed, *, ci, min_group_size):
    predicted = counts.predicted
    stats = bias_statistics(counts.tensor, onehots, predicted=predicted)
    groups = _group_index(counts)
    by_group = pd.DataFrame(stats["by_group"], index=groups, columns=list(GROUP_METRICS))
    by_group["count"] = counts.rows
    overall = pd.Series(stats["overall"], index=list(GROUP_METRICS), name="overall")
    overall["count"] = counts.rows.sum()
    tables = {"by_group": by_group, "overall": overall,
              "clarify": _clarify_frame(stats["clarify"], counts, predicted),
              "disparities": _disparity_series(stats["disparities"] if predicted else None)}
    if counts.histograms is not None:
        by_group["ece"] = expected_calibration_error(counts.histograms)
        overall["ece"] = float(expected_calibration_error(counts.histograms.sum(axis=1)))
    spread = {"metrics": list(GROUP_METRICS), "values": stats["by_group"], "replicates": None}
    blocks = []
    if n_boot:
        reps, spread = _binary_replicates(counts, onehots, n_boot, seed, ci, min_group_size,
                                          spread)
        metrics = [m for m in GROUP_METRICS if m != "count"]
        blocks = [_block("by_group", groups, metrics, stats, reps, "by_group", GROUP_METRICS),
                  _clarify_block(tables["clarify"], stats["clarify"], reps["clarify"])]
        if predicted:
            blocks.append(_summary_block(stats["disparities"], reps["disparities"]))
    return tables, blocks, spread if predicted else None


def _binary_replicates(counts, onehots, n_boot, seed, ci, min_group_size, spread):
    """Replicated statistics of a binary task and the findings' replicates.

    Unweighted counts: ``(lower, upper)`` bounds straight from the count tensor
    (:func:`bootstrap_intervals`, the same replicates as :func:`_replicates` draws) and each
    replicate's extremes over the large groups. Weighted: statistics of every replicate.
    """
    if counts.weighted:
        reps = bias_statistics(_replicates(counts, n_boot, seed), onehots,
                               predicted=counts.predicted)
        return reps, {**spread, "replicates": reps["by_group"]}
    bounds = bootstrap_intervals(counts.tensor, onehots, predicted=counts.predicted,
                                 n_boot=n_boot, ci=ci, random_state=seed,
                                 large=counts.rows >= min_group_size)
    return bounds, {**spread, "extremes": bounds.pop("extremes")}


def _multiclass(counts, onehots, n_boot, seed):
    from ..stats import multiclass as mc

    predicted, classes = counts.predicted, list(counts.classes)
    point = _multiclass_statistics(counts.tensor, onehots, predicted)
    groups = _group_index(counts)
    # Without predictions only the counts (and Clarify's label metrics) mean anything.
    metrics = list(mc.MULTICLASS_METRICS) if predicted else []
    by_group = pd.DataFrame(point["by_group"][:, :len(metrics)], index=groups, columns=metrics)
    by_group.insert(0, "count", counts.rows)
    overall = pd.Series([counts.rows.sum(), *point["overall"][:len(metrics)]], name="overall",
                        index=["count", *metrics])
    class_index = pd.MultiIndex.from_tuples(
        [(*_as_tuple(g), c) for g in groups for c in classes],
        names=[*groups.names, "class"])
    by_class = pd.DataFrame(point["by_class"].reshape(-1, len(mc.CLASS_METRICS)),
                            index=class_index, columns=list(mc.CLASS_METRICS))
    clarify = _clarify_frame(point["clarify"], counts, predicted, classes=classes)
    tables = {"by_group": by_group, "overall": overall, "clarify": clarify,
              "by_class": by_class if predicted else None,
              "class_disparities": pd.DataFrame(point["class_disparities"],
                                                index=pd.Index(classes, name="class"),
                                                columns=list(DISPARITIES)) if predicted else None,
              "disparities": _disparity_series(point["disparities"] if predicted else None)}
    blocks, reps = [], None
    if n_boot:
        reps = _batched(lambda t: _multiclass_statistics(t, onehots, predicted),
                        _replicates(counts, n_boot, seed))
        rows = [row_label(g) for g in groups]
        blocks = [_clarify_block(clarify, point["clarify"], reps["clarify"])]
        if predicted:
            blocks += [
                _block("by_group", rows, metrics, point, reps, "by_group"),
                _block("by_class", [f"{r} · {c}" for r in rows for c in classes],
                       list(mc.CLASS_METRICS), point, reps, "by_class"),
                _summary_block(point["disparities"], reps["disparities"]),
                _block("class_disparities", [str(c) for c in classes], list(DISPARITIES),
                       point, reps, "class_disparities")]
    spread = {"metrics": list(GROUP_METRICS), "values": point["class_by_group"],
              "replicates": None if reps is None else reps["class_by_group"]}
    return tables, blocks, spread if predicted else None


def _multiclass_statistics(tensor, onehots, predicted: bool) -> dict:
    """Multiclass tables of ``tensor[..., g, s, y, ŷ]``: per group, per class (one-vs-rest),
    Clarify per class and facet, and disparities per class and at the worst class."""
    from ..stats import multiclass as mc

    by_stratum = np.asarray(tensor, dtype=np.float64)
    per_group = by_stratum.sum(axis=-3)
    binary = bias_statistics(mc.one_vs_rest(by_stratum, group_axes=2), onehots,
                             predicted=predicted)
    # A group absent from a bootstrap replicate has no metrics (it never is in the data itself).
    empty = (per_group.sum(axis=(-2, -1)) == 0)[..., None]
    out = {"by_group": np.where(empty, np.nan, mc.multiclass_metrics(per_group)),
           "overall": mc.multiclass_metrics(per_group.sum(axis=-3)[..., None, :, :])[..., 0, :],
           "by_class": np.where(empty[..., None], np.nan, mc.class_metrics(per_group)),
           "clarify": binary["clarify"]}
    out["class_disparities"] = binary["disparities"]
    out["class_by_group"] = binary["by_group"]  # one-vs-rest rates: what the findings compare
    out["disparities"] = mc.worst_disparities(binary["disparities"])
    return out


def _regression(counts, onehots, n_boot, seed):
    from ..stats import regression as reg

    predicted = counts.predicted
    point = _regression_statistics(counts.sums, counts.gaps, predicted)
    groups = _group_index(counts)
    names = _regression_columns(predicted)
    by_group = pd.DataFrame(point["by_group"], index=groups, columns=names)
    by_group["count"] = counts.rows
    overall = pd.Series(point["overall"], index=names, name="overall")
    overall["count"] = counts.rows.sum()
    clarify = pd.DataFrame()
    binary = None
    if counts.tensor is not None:
        binary = bias_statistics(counts.tensor, onehots, predicted=predicted)
        clarify = _clarify_frame(binary["clarify"], counts, predicted)
    tables = {"by_group": by_group, "overall": overall, "clarify": clarify,
              "disparities": pd.Series(point["disparities"], index=list(reg.REGRESSION_DISPARITIES),
                                       name="disparity") if predicted else
              pd.Series(dtype=np.float64, name="disparity")}
    blocks, reps = [], None
    if n_boot:
        reps = _regression_statistics(counts.replicate_sums, counts.replicate_gaps, predicted)
        rows = [row_label(g) for g in groups]
        metrics = [m for m in names if m != "count"]
        blocks = [_block("by_group", rows, metrics, point, reps, "by_group", names)]
        if predicted:
            blocks.append(_summary_block(point["disparities"], reps["disparities"],
                                         reg.REGRESSION_DISPARITIES))
        if binary is not None:
            replicated = bias_statistics(_replicates(counts, n_boot, seed), onehots,
                                         predicted=predicted)
            blocks.append(_clarify_block(clarify, binary["clarify"], replicated["clarify"]))
    spread = {"metrics": names, "values": point["by_group"],
              "replicates": None if reps is None else reps["by_group"]}
    return tables, blocks, spread if predicted else None


def _regression_columns(predicted: bool) -> list[str]:
    from ..stats.regression import REGRESSION_METRICS

    if not predicted:
        return ["count", "mean_target"]
    return [*REGRESSION_METRICS, "prediction_ks", "prediction_wasserstein"]


def _regression_statistics(sums, gaps, predicted: bool) -> dict:
    """Per-group, overall and disparity arrays of regression ``sums[..., g, :]``; ``gaps`` is
    (ks, wasserstein) per group, or None when not available (no predictions, or replicates
    of a partitioned data set)."""
    from ..stats import regression as reg

    metrics = reg.regression_metrics(sums)
    overall = reg.regression_metrics(sums.sum(axis=-2)[..., None, :])[..., 0, :]
    if not predicted:
        return {"by_group": metrics[..., :2], "overall": overall[..., :2]}
    ks, wasserstein = gaps if gaps is not None else (np.full(metrics.shape[:-1], np.nan),) * 2
    by_group = np.concatenate([metrics, ks[..., None], wasserstein[..., None]], axis=-1)
    nothing = np.zeros((*overall.shape[:-1], 2))  # all rows against themselves
    return {"by_group": by_group, "overall": np.concatenate([overall, nothing], axis=-1),
            "disparities": reg.regression_disparities(metrics, ks, wasserstein)}


def _replicates(counts, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the count tensor.

    Unweighted: multinomial cell counts of N resampled rows. Weighted: N rows resampled from
    the weighted empirical distribution (cell probabilities ∝ weight), each carrying the mean
    weight, so replicates keep the total weight.
    """
    if not counts.weighted:
        return bootstrap_replicates(counts.tensor, n_boot=n_boot, random_state=seed)
    tensor = counts.tensor
    n, total = int(counts.rows.sum()), float(tensor.sum())
    draws = np.random.default_rng(seed).multinomial(n, tensor.ravel() / total, size=n_boot)
    return draws.reshape((n_boot, *tensor.shape)) * (total / n)


def _batched(statistics, replicates) -> dict:
    """``statistics`` of replicates in batches (a dict of arrays, concatenated on axis 0)."""
    size = max(1, _BATCH_CELLS // max(1, replicates[0].size))
    parts = [statistics(replicates[i:i + size]) for i in range(0, len(replicates), size)]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _block(key, rows, metrics, point, reps, source, columns=None):
    """An interval block: ``metrics`` of ``point[source]`` / ``reps[source]`` (whose last axis
    is in ``columns`` order, default ``metrics``). ``reps[source]`` holds every replicate, or
    ``(lower, upper)`` bounds already taken."""
    columns = list(metrics if columns is None else columns)
    take = [columns.index(m) for m in metrics]
    estimate = np.asarray(point[source])[..., take].reshape(len(rows), len(metrics))
    replicated = _replicated(reps[source], lambda a: a[..., take].reshape(-1, len(rows),
                                                                          len(metrics)))
    return key, [row_label(r) for r in rows], metrics, estimate, replicated


def _replicated(reps, shape):
    """``shape`` applied to every replicate, or to each bound of a ``(lower, upper)`` pair
    (then kept as a tuple)."""
    if isinstance(reps, tuple):
        return tuple(shape(np.asarray(bound)[None])[0] for bound in reps)
    return shape(np.asarray(reps))


def _clarify_block(clarify, point, reps):
    rows = [clarify_row_label(key) for key in clarify.index]
    metrics = list(clarify.columns)
    return ("clarify", rows, metrics, np.asarray(point).reshape(len(rows), len(metrics)),
            _replicated(reps, lambda a: a.reshape(-1, len(rows), len(metrics))))


def _summary_block(point, reps, names=DISPARITIES):
    return ("disparities", ["all groups"], list(names), np.asarray(point)[None],
            _replicated(reps, lambda a: a[:, None]))


def _interval_table(blocks, ci: float) -> pd.DataFrame:
    """Long table (table, row, metric) → estimate, lower, upper.

    The index is built from integer codes, each block's labels factorized once: at 100k
    groups a product index per block and a concat of them take a second or more.
    """
    blocks = [block for block in blocks if len(block[1])]
    sizes = [(len(rows), len(metrics)) for _, rows, metrics, _, _ in blocks]
    ends = np.cumsum([r * m for r, m in sizes])
    values = np.empty((3, ends[-1]))  # one (columns, rows) block: pandas takes it uncopied
    for (*_, estimate, replicated), end in zip(blocks, ends):
        low, high = (replicated if isinstance(replicated, tuple)
                     else percentile_interval(replicated, ci))
        for row, part in zip(values, (estimate, low, high)):
            row[end - np.size(part):end] = np.ravel(part)
    tables = _codes([[key] for key, *_ in blocks], [(1, r * m) for r, m in sizes])
    rows = _codes([rows for _, rows, *_ in blocks], [(r, m) for r, m in sizes])
    metrics = _codes([metrics for _, _, metrics, _, _ in blocks], [(m, r) for r, m in sizes],
                     tiled=True)
    index = pd.MultiIndex(levels=[tables[1], rows[1], metrics[1]],
                          codes=[tables[0], rows[0], metrics[0]],
                          names=["table", "row", "metric"], verify_integrity=False)
    return pd.DataFrame(values.T, index=index, columns=["estimate", "lower", "upper"],
                        copy=False)


def _codes(labels_per_block, shapes, tiled=False):
    """Codes and sorted levels of one index level over all blocks: each block's ``labels``
    (``shape[0]`` of them) repeated ``shape[1]`` times in a row (or, ``tiled``, the whole
    list ``shape[1]`` times)."""
    parts = [pd.factorize(np.asarray(labels, dtype=object)) for labels in labels_per_block]
    merged, levels = pd.factorize(np.concatenate([uniques for _, uniques in parts]), sort=True)
    offsets = np.cumsum([0] + [len(uniques) for _, uniques in parts])
    codes = [merged[offset:][codes] for (codes, _), offset in zip(parts, offsets)]
    spread = np.tile if tiled else np.repeat
    return (np.concatenate([spread(c, times) for c, (_, times) in zip(codes, shapes)]),
            levels)


def _clarify_frame(values, counts, predicted: bool, classes=None) -> pd.DataFrame:
    facets = [(f.name, level) for f in counts.facets for level in f.levels]
    names = clarify_names(predicted, stratified=counts.tensor.shape[1] > 1)
    if classes is None:
        index = pd.MultiIndex.from_tuples(facets, names=["sensitive", "facet"])
    else:
        index = pd.MultiIndex.from_tuples([(c, *f) for c in classes for f in facets],
                                          names=["class", "sensitive", "facet"])
    return pd.DataFrame(np.asarray(values).reshape(len(index), len(names)), index=index,
                        columns=names)


def _disparity_series(values) -> pd.Series:
    if values is None:
        return pd.Series(dtype=np.float64, name="disparity")
    return pd.Series(values, index=list(DISPARITIES), name="disparity")


def _facet_codes_of_groups(counts) -> list[np.ndarray]:
    """For each sensitive column, the level code of every intersection group."""
    positions = [{level: i for i, level in enumerate(f.levels)} for f in counts.facets]
    return [np.array([lookup[group[j]] for group in counts.groups.levels], dtype=np.int64)
            for j, lookup in enumerate(positions)]


def _group_index(counts) -> pd.Index:
    names = [f.name for f in counts.facets]
    if len(names) == 1:
        return pd.Index([g[0] for g in counts.groups.levels], name=names[0])
    return pd.MultiIndex.from_tuples(list(counts.groups.levels), names=names)


def _as_tuple(group) -> tuple:
    return group if isinstance(group, tuple) else (group,)
