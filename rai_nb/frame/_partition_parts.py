"""What each partition computes for the data checks, and how partitions' results add up.

Every function here runs on one pandas partition (on a worker) and returns small arrays:
counts, sums, moments, per-bucket counted hashes, contingency tables, or the few rows asked for.
The kernels are those of the in-memory path (``rai_nb.checks``), so the added-up statistics are
the ones a whole-frame pass gives.
"""

from __future__ import annotations

import numpy as np

from ..checks import drift as kd
from ..checks import ecdf
from ..checks import leakage as kl
from ..checks import quality as kq
from ._bias import encode_weights
from ._partition_tables import Labels
from ._row_sample import _row_hashes
from ._validation_context import finite_or_nan

# --- one pass of counts ---------------------------------------------------------------------

def summary(part, encoder, labels: Labels | None, weight=None) -> dict:
    """Level counts, numeric counts/ranges/moments and, with labels, the per-group counts.

    Moments, ``min`` and ``max`` are of the finite values; ``infinite`` counts −inf and +inf.
    With ``weight`` (a column of frequency weights) the per-group counts are summed weights and
    ``weight`` holds the partition's total weight.
    """
    table = encoder.table(part)
    out = {"levels": [np.bincount(c + 1, minlength=len(lv) + 1)
                      for c, lv in zip(table.codes, table.levels)]}
    finite = np.isfinite(table.numeric)
    n = finite.sum(axis=1)
    filled = np.where(finite, table.numeric, 0.0)
    mean = filled.sum(axis=1) / np.maximum(n, 1)
    m2 = (np.where(finite, filled - mean[:, None], 0.0) ** 2).sum(axis=1)
    out["moments"] = np.stack([n.astype(np.float64), mean, m2])
    out["min"] = np.where(finite, table.numeric, np.inf).min(axis=1, initial=np.inf)
    out["max"] = np.where(finite, table.numeric, -np.inf).max(axis=1, initial=-np.inf)
    out["infinite"] = np.stack([(table.numeric == -np.inf).sum(axis=1),
                                (table.numeric == np.inf).sum(axis=1)]).astype(np.int64)
    if labels is None:
        return out
    missing = np.concatenate([np.isnan(table.numeric), table.codes < 0])
    facets = [labels.codes(part, i) for i in range(len(labels.facets))]
    w = None
    if weight is not None:
        w = encode_weights(weight, part[weight].reset_index(drop=True), require_positive=False)
        out["weight"] = w.sum()
    if labels.target is not None:
        y = labels.target_codes(part)
        out["classes"] = np.bincount(y, minlength=len(labels.target_levels))
    for i, ((_, levels, _), codes) in enumerate(zip(labels.facets, facets)):
        out[f"sizes{i}"] = np.bincount(codes, weights=w, minlength=len(levels))
        out[f"missing{i}"] = kq.missing_by_group(missing, codes, n_groups=len(levels), weights=w)
        if labels.positive_code is not None:
            positive = y == labels.positive_code
            out[f"positives{i}"] = np.bincount(codes, weights=positive if w is None
                                               else np.where(positive, w, 0.0),
                                               minlength=len(levels))
    if len(facets) > 1:
        mixed = np.zeros(len(part), dtype=np.int64)
        for (_, levels, _), codes in zip(labels.facets, facets):
            mixed = mixed * len(levels) + codes
        cells, inverse = np.unique(mixed, return_inverse=True)
        out["cells"] = cells, np.bincount(inverse, weights=w, minlength=len(cells))
    return out


def add_summaries(parts: list[dict]) -> dict:
    """Sum of counts, min of minima, max of maxima, pooled moments, merged cell counts."""
    out = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        if key == "min":
            out[key] = np.min(values, axis=0)
        elif key == "max":
            out[key] = np.max(values, axis=0)
        elif key == "moments":
            out[key] = _pool_moments(values)
        elif key == "cells":
            cells, inverse = np.unique(np.concatenate([c for c, _ in values]), return_inverse=True)
            out[key] = cells, np.bincount(inverse, weights=np.concatenate([n for _, n in values]))
        elif key == "levels":
            out[key] = [np.sum(c, axis=0) for c in zip(*values)]
        else:
            out[key] = np.sum(values, axis=0)
    return out


def _pool_moments(moments) -> np.ndarray:
    """Count, mean and sum of squared deviations of partitions pooled (Chan et al. 1979)."""
    n, mean, m2 = moments[0]
    for other in moments[1:]:
        n_b, mean_b, m2_b = other
        total = n + n_b
        delta = mean_b - mean
        share = np.divide(n_b, total, out=np.zeros_like(total), where=total > 0)
        mean = mean + delta * share
        m2 = m2 + m2_b + delta ** 2 * n * share
        n = total
    return np.stack([n, mean, m2])


# --- distinct rows and values, by hash bucket ------------------------------------------------

def counted_keys(part, encoder, labels: Labels | None, roles, n_buckets: int) -> list[dict]:
    """Per bucket: counted row hashes, (feature hash, label) pairs and numeric value keys."""
    table = encoder.table(part)
    keys = table.row_keys()
    features, rows = _row_hashes(keys, table.names, roles, np)
    out = [{} for _ in range(n_buckets)]
    _bucketed(out, "rows", [rows], n_buckets)
    if labels is not None and labels.target is not None:
        _bucketed(out, "pairs", [features, labels.target_codes(part).astype(np.uint64)],
                  n_buckets)
    for j in range(len(table.numeric_names)):
        values = keys[j][~np.isnan(table.numeric[j])].view(np.uint64)
        _bucketed(out, ("values", j), [values], n_buckets, mix=True)
    return out


def _bucketed(out, name, columns: list, n_buckets: int, mix: bool = False) -> None:
    """Distinct rows of ``columns`` (uint64) with their counts, split by bucket of the first."""
    order = np.lexsort(columns[::-1])
    ordered = np.stack([c[order] for c in columns])
    new = np.ones(ordered.shape[1], dtype=bool)
    new[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    starts = np.flatnonzero(new)
    distinct = ordered[:, starts]
    counts = np.diff(np.append(starts, ordered.shape[1]))
    # Values are mixed first: raw float bits of round numbers share their low bits.
    lead = kq.row_hashes(distinct[:1].view(np.int64)) if mix else distinct[0]
    bucket = (lead % np.uint64(n_buckets)).astype(np.int64)
    by_bucket = np.argsort(bucket, kind="stable")
    cut = np.searchsorted(bucket[by_bucket], np.arange(n_buckets + 1))
    for b in range(n_buckets):
        chosen = by_bucket[cut[b]:cut[b + 1]]
        out[b][name] = distinct[:, chosen].T, counts[chosen]


def bucket_counts(parts: list[dict], n_labels: int, n_numeric: int) -> dict:
    """Duplicates, conflicts and numeric value profiles of one hash bucket over all partitions."""
    def pooled(name):
        rows = np.concatenate([p[name][0] for p in parts])
        return rows, np.concatenate([p[name][1] for p in parts])

    rows, counts = pooled("rows")
    out = {"duplicates": kq.duplicate_rows(rows[:, 0], counts=counts)}
    if "pairs" in parts[0]:
        rows, counts = pooled("pairs")
        out["conflicts"] = kq.conflicting_labels(rows[:, 0], rows[:, 1].astype(np.int64),
                                                 n_labels=n_labels, counts=counts)
    profiles = []
    for j in range(n_numeric):
        rows, counts = pooled(("values", j))
        profiles.append(kq.count_profile(kq.group_ids(rows[:, 0], counts=counts)[1]))
    out["profiles"] = profiles
    return out


# --- counts with known edges and bounds ------------------------------------------------------

def binned(part, encoder, outside: dict, edges: list) -> dict:
    """Values strictly outside each named ``(lows, highs)`` band, and histograms over ``edges``."""
    table = encoder.table(part)
    columns = kq.sorted_columns(table.numeric)
    out = {name: np.array([kq.count_outside(s, lo, hi, np) if s.size and lo == lo else 0
                           for s, lo, hi in zip(columns, lows, highs)], dtype=np.int64)
           for name, (lows, highs) in outside.items()}
    out["hist"] = [None if e is None else kd.sorted_histogram(s, e) for s, e in zip(columns, edges)]
    return out


def add_binned(parts: list[dict]) -> dict:
    out = {k: np.sum([p[k] for p in parts], axis=0) for k in parts[0] if k != "hist"}
    out["hist"] = [None if h[0] is None else np.sum(h, axis=0)
                   for h in zip(*(p["hist"] for p in parts))]
    return out


def ecdf_summaries(part, encoder, edges: list) -> list:
    columns = kq.sorted_columns(encoder.table(part).numeric)
    return [None if e is None else ecdf.bin_summary(s, e) for s, e in zip(columns, edges)]


def add_ecdf_summaries(parts: list) -> list:
    out = list(parts[0])
    for p in parts[1:]:
        out = [None if a is None else a + b for a, b in zip(out, p)]
    return out


def stretch_pieces(part, encoder, stretches: list) -> list:
    columns = kq.sorted_columns(encoder.table(part).numeric)
    return [ecdf.stretch_values(s, st) if st else [] for s, st in zip(columns, stretches)]


def stretch_runs(pieces: list, runs: list) -> list:
    """A partition's pieces (:func:`stretch_pieces`) of each ``(column, first, last)`` run of
    stretches."""
    return [pieces[j][lo:hi] for j, lo, hi in runs]


def finish_column(ref_parts, cur_parts, stretches, sizes) -> list:
    """(KS, area) of each stretch of one column from every partition's values in it."""
    return [ecdf.finish_stretch([p[i] for p in ref_parts], [p[i] for p in cur_parts], s, sizes)
            for i, s in enumerate(stretches)]


# --- association tables and rows ---------------------------------------------------------------

def association(part, rows, encoder, labels: Labels, key, n_labels: int, columns, folds) -> dict:
    """Contingency tables of features with labels, cross-fitting tables, and sampled rows.

    ``columns``: ``(kind, position, edges)`` per feature; ``folds``: the fold seed and the
    column roles that row hashes leave out of the features (None: no AUC); ``rows``: local
    positions whose numeric values and labels to keep.
    """
    table = encoder.table(part)
    half = None if folds is None else \
        kl.cross_fit_halves(_row_hashes(table.row_keys, table.names, folds[1], np)[1], folds[0])
    y = labels.codes(part, key)
    tables, cross, values = [], [], []
    for kind, j, edges in columns:
        if kind == "numeric":
            codes, n_codes = kl.bin_codes(table.numeric[j], edges), edges.size + 2
            values.append(table.numeric[j][rows])
        else:
            codes, n_codes = table.codes[j] + 1, len(table.levels[j]) + 1
            if half is not None:
                cell = half * n_codes + codes
                cross.append(kl.contingency(cell, y, n_a=2 * n_codes, n_b=2))
        tables.append(kl.contingency(codes, y, n_a=n_codes, n_b=n_labels))
    return {"tables": tables, "cross": cross, "values": values, "labels": y[rows]}


def add_associations(parts: list[dict]) -> dict:
    return {"tables": [np.sum(t, axis=0) for t in zip(*(p["tables"] for p in parts))],
            "cross": [np.sum(t, axis=0) for t in zip(*(p["cross"] for p in parts))],
            "values": [np.concatenate(v) for v in zip(*(p["values"] for p in parts))],
            "labels": np.concatenate([p["labels"] for p in parts])}


def take(part, rows, encoder, labels: Labels | None) -> tuple:
    """Numeric values (±inf as missing, see ``_Context.take``), category codes and target codes
    of local rows ``rows``."""
    table = encoder.table(part)
    target = labels.target_codes(part)[rows] if labels is not None and labels.target is not None \
        else np.zeros(len(rows), dtype=np.int64)
    return finite_or_nan(table.numeric[:, rows]), table.codes[:, rows], target
