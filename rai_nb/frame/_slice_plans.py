"""Slice features of a partitioned frame: levels agreed over every partition, then codes.

The levels are those :func:`rai_nb.frame.encode_slice_features` gives the same rows in memory:
categorical values in the same order, the same quantile edges (exact order statistics, not
an engine's approximate quantiles), the same dominant values and only the levels some row holds.
A first pass summarises each partition; numeric columns with many values then take a pass to
count the candidates for dominant values, the passes of :func:`order_statistics` for their
edges and a pass to collect the observed intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backend import get_config
from ..engine import order_statistics, ordered_levels, pooled, require_column_names
from ..errors import NAN_VALUES, TOO_MANY_GROUPS, RaiError
from ._columns import EncodedColumn, codes_among
from ._features import (
    MISSING,
    check_edges,
    cut_keys,
    feature_options,
    levels_of_keys,
    outside_edges,
    quantile_bounds,
    quantile_ranks,
)


@dataclass(frozen=True)
class FeaturePlan:
    """How one column's values become codes: among known ``levels``, or by intervals.

    ``bounds``/``points``/``keys`` describe intervals as in :func:`cut_keys` (``keys`` are
    the observed keys, one per level); for a categorical column they are None.
    """

    name: str
    levels: tuple
    has_missing: bool
    bounds: np.ndarray | None = None
    points: np.ndarray | None = None
    keys: np.ndarray | None = None

    def column(self) -> EncodedColumn:
        levels = (*self.levels, MISSING) if self.has_missing else self.levels
        return EncodedColumn(self.name, np.zeros(0, dtype=np.int64), levels)

    def codes(self, values: pd.Series) -> np.ndarray:
        missing = values.isna().to_numpy()
        present = values[~missing]
        if self.keys is None:
            known = codes_among(present, self.levels)
        else:
            x = present.to_numpy(dtype=np.float64)
            known = np.searchsorted(self.keys, cut_keys(x, self.bounds, self.points))
        codes = np.full(len(values), len(self.levels), dtype=np.int32)
        codes[~missing] = known
        return codes


def partitioned_slice_features(data, features, *, bins=None,
                               n_bins: int = 10) -> list[FeaturePlan]:
    """One :class:`FeaturePlan` per feature column of the partitioned frame ``data``.

    Arguments as :func:`rai_nb.frame.encode_slice_features`; see the module docstring.
    """
    names, bins = feature_options(features, bins, n_bins)
    require_column_names(data, features=names)
    specs = {name: _spec(name, data.meta[name].dtype, bins.get(name, n_bins)) for name in names}
    summaries = data.parts.map(_summarise, specs).collect()
    plans, to_cut = {}, {}
    for name, spec in specs.items():
        parts = [summary[name] for summary in summaries]
        has_missing = any(p["missing"] for p in parts)
        if spec is None:
            plans[name] = FeaturePlan(name, _categorical_levels(name, parts), has_missing)
            continue
        _check_finite(name, spec, parts)
        if isinstance(spec, int) and all(p["distinct"] is not None for p in parts):
            distinct = pd.unique(np.concatenate([p["distinct"] for p in parts]))
            if len(distinct) <= spec:
                plans[name] = FeaturePlan(name, tuple(np.sort(distinct).tolist()), has_missing)
                continue
        to_cut[name] = (spec, has_missing, parts)
    bounds = _bounds(data, to_cut)
    keys = _observed_keys(data, bounds) if bounds else {}
    for name, (_, has_missing, _) in to_cut.items():
        edges, points = bounds[name]
        plans[name] = FeaturePlan(name, levels_of_keys(keys[name], edges, points), has_missing,
                                  edges, points, keys[name])
    return [plans[name] for name in names]


def encode_partition(part: pd.DataFrame, plans: list[FeaturePlan]) -> np.ndarray:
    """Codes of one partition's rows, shape (rows, features), int32."""
    if not plans:
        return np.zeros((len(part), 0), dtype=np.int32)
    return np.stack([plan.codes(part[plan.name]) for plan in plans], axis=1)


def _spec(name, dtype, spec):
    """None for a categorical column, else the number of quantile bins or the checked edges."""
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if spec is None or not numeric:
        return None
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return int(spec)
    return check_edges(name, spec)


def _summarise(part: pd.DataFrame, specs: dict) -> dict:
    """Per column: missing rows, distinct values (few only), dominant candidates, bad values."""
    out = {}
    for name, spec in specs.items():
        values = part[name]
        missing = values.isna().to_numpy()
        summary = {"missing": bool(missing.any())}
        if spec is None:
            summary["values"] = pd.Series(values[~missing].unique(), dtype=values.dtype)
        else:
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)[~missing]
            summary["n"], summary["bad"] = len(x), int((~np.isfinite(x)).sum())
            if isinstance(spec, int):
                distinct, counts = np.unique(x, return_counts=True)
                # A value over 1/spec of all rows is over 1/spec of some partition's rows.
                summary["candidates"] = distinct[counts * spec > len(x)]
                summary["distinct"] = values[~missing].unique() if len(distinct) <= spec else None
            else:
                summary["outside"] = int(((x < spec[0]) | (x > spec[-1])).sum())
        out[name] = summary
    return out


def _categorical_levels(name, parts) -> tuple:
    levels = ordered_levels(pooled([p["values"] for p in parts]))
    limit = get_config().max_groups
    if len(levels) > limit:
        raise RaiError(TOO_MANY_GROUPS.format(argument="features", column=name, count=len(levels),
                                              limit=limit))
    return levels


def _check_finite(name, spec, parts) -> None:
    """Infinite values, and values outside user-given edges, raise as they do in memory."""
    bad = sum(p["bad"] for p in parts)
    if bad:
        raise RaiError(NAN_VALUES.format(argument="features", column=name, count=bad))
    outside = sum(p.get("outside", 0) for p in parts)
    if outside:
        raise RaiError(outside_edges(name, outside, spec))


def _bounds(data, to_cut: dict) -> dict:
    """``{column: (bounds, points)}``: the interval bounds and isolated values of each column."""
    quantile = {name: spec for name, (spec, _, _) in to_cut.items() if isinstance(spec, int)}
    out = {name: (spec, np.zeros(0)) for name, (spec, _, _) in to_cut.items()
           if name not in quantile}
    if not quantile:
        return out
    candidates = {name: np.unique(np.concatenate([p["candidates"] for p in to_cut[name][2]]))
                  for name in quantile}
    counts = data.parts.map(_count_values, candidates).collect()
    ranks, dominant = {}, {}
    for name, spec in quantile.items():
        total = np.sum([c[name] for c in counts], axis=0)
        n_present = sum(p["n"] for p in to_cut[name][2])
        dominant[name] = candidates[name][total * spec > n_present]
        n_rest = n_present - int(total[total * spec > n_present].sum())
        ranks[name] = quantile_ranks(n_rest, spec, len(dominant[name]))
    edges = order_statistics(data.parts.map(_without, dominant), ranks)
    out.update({name: (quantile_bounds(edges[name], dominant[name]), dominant[name])
                for name in quantile})
    return out


def _count_values(part: pd.DataFrame, candidates: dict) -> dict:
    """How many rows of the partition hold each candidate value, per column."""
    out = {}
    for name, values in candidates.items():
        distinct, counts = np.unique(_present(part[name]), return_counts=True)
        at = np.minimum(np.searchsorted(distinct, values), max(len(distinct) - 1, 0))
        found = distinct[at] == values if len(distinct) else np.zeros(len(values), dtype=bool)
        out[name] = np.where(found, counts[at] if len(distinct) else 0, 0)
    return out


def _without(part: pd.DataFrame, dominant: dict) -> pd.DataFrame:
    """The columns as float64 with their dominant values set missing."""
    out = {}
    for name, values in dominant.items():
        x = part[name].to_numpy(dtype=np.float64, na_value=np.nan)
        out[name] = np.where(np.isin(x, values), np.nan, x)
    return pd.DataFrame(out, index=part.index)


def _observed_keys(data, bounds: dict) -> dict:
    found = data.parts.map(_keys_of, bounds).collect()
    return {name: np.unique(np.concatenate([f[name] for f in found])) for name in bounds}


def _keys_of(part: pd.DataFrame, bounds: dict) -> dict:
    return {name: np.unique(cut_keys(_present(part[name]), *bounds[name])) for name in bounds}


def _present(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return x[~np.isnan(x)]
