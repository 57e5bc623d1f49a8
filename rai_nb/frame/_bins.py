"""Sensitive columns as groups: categorical levels, a threshold, or bins of a numeric column.

``sensitive={"age": 4}`` asks for 4 quantile bins, ``{"age": [25, 40, 60]}`` for bins with
those edges, ``{"age": 40.0}`` for Clarify's two facets ``<= 40`` and ``> 40`` and
``{"age": None}`` for one group per value. A numeric column named without a cut and holding more
than :data:`MAX_CATEGORICAL_NUMBERS` distinct values is binned into :data:`DEFAULT_BINS`
quantile groups (one group per age would leave single-row groups deciding a disparity).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import NAN_VALUES, RaiError
from ._columns import EncodedColumn, encode_categorical, encode_threshold, encode_with_levels

MAX_CATEGORICAL_NUMBERS = 10
DEFAULT_BINS = 4
MAX_BINS = 20


@dataclass(frozen=True)
class Cut:
    """How one sensitive column becomes groups: ``kind`` is ``levels``, ``threshold`` or
    ``edges``; ``value`` the threshold or the bin edges; ``quantiles`` the number of
    quantile bins the edges came from (0 when the user gave them)."""

    kind: str
    value: object = None
    quantiles: int = 0

    def describe(self, name) -> str | None:
        """One sentence for the result, or None for plain levels."""
        if self.kind != "edges":
            return None
        edges = ", ".join(f"{e:g}" for e in self.value)
        how = f"{self.quantiles} quantile groups" if self.quantiles else "bins"
        return f"{name} is binned into {how} at {edges}"


def facet_specs(sensitive) -> list[tuple[object, object]]:
    """Normalise ``sensitive`` (a name, a list of names, or a dict name → cut) to pairs."""
    if isinstance(sensitive, (set, frozenset)):
        raise RaiError("sensitive is a set, whose order is not fixed; pass a list of column "
                       "names")
    if isinstance(sensitive, dict):
        specs = list(sensitive.items())
    elif isinstance(sensitive, (list, tuple, pd.Index)):
        specs = [(name, "auto") for name in sensitive]
    else:
        specs = [(sensitive, "auto")]
    if not specs:
        raise RaiError("sensitive must name at least one column")
    return specs


def resolve_cut(name, cut, value_counts: Callable[[], pd.Series], dtype) -> Cut:
    """The :class:`Cut` of a sensitive column from the user's spec.

    ``value_counts`` returns the column's value counts (called only when bins are needed, so
    a Dask caller computes them only then); ``dtype`` is the column's dtype.
    """
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if cut is None:
        return Cut("levels")
    if isinstance(cut, str) and cut == "auto":
        if not numeric:
            return Cut("levels")
        counts = value_counts()
        if len(counts) <= MAX_CATEGORICAL_NUMBERS:
            return Cut("levels")
        return Cut("edges", quantile_edges(name, counts, DEFAULT_BINS), DEFAULT_BINS)
    if isinstance(cut, bool) or not (isinstance(cut, (int, float, np.number, list, tuple,
                                                      np.ndarray))):
        raise RaiError(f"sensitive[{name!r}] must be a number of bins (int), a threshold "
                       f"(float), a list of bin edges or None; got {cut!r}")
    if not numeric:
        raise RaiError(f"sensitive[{name!r}] = {cut!r} bins or splits a numeric column, but "
                       f"{name!r} holds {dtype} values; pass None to keep its levels")
    if isinstance(cut, (int, np.integer)):
        if not 2 <= cut <= MAX_BINS:
            raise RaiError(f"sensitive[{name!r}] = {cut} asks for {cut} quantile bins (2 to "
                           f"{MAX_BINS}); to split at {cut}, pass {float(cut)!r} (a threshold) "
                           f"or [{cut}] (bin edges)")
        return Cut("edges", quantile_edges(name, value_counts(), int(cut)), int(cut))
    if isinstance(cut, (float, np.floating)):
        if not np.isfinite(cut):
            raise RaiError(f"sensitive[{name!r}]: threshold must be finite, got {cut!r}")
        return Cut("threshold", float(cut))
    edges = np.asarray(cut, dtype=np.float64) if len(cut) else np.empty(0)
    if edges.ndim != 1 or edges.size == 0 or not np.all(np.isfinite(edges)):
        raise RaiError(f"sensitive[{name!r}]: bin edges must be a non-empty list of finite "
                       f"numbers, got {cut!r}")
    return Cut("edges", tuple(np.unique(edges).tolist()))


def quantile_edges(name, counts: pd.Series, n_bins: int) -> tuple[float, ...]:
    """Inner edges of ``n_bins`` quantile bins from a column's value counts.

    The edges are NumPy's default (linear) quantiles of the rows at ``k / n_bins``; repeated
    edges (a zero-inflated column) and an edge at the maximum (an empty last bin) are dropped.
    """
    values = counts.index.to_numpy(dtype=np.float64, na_value=np.nan)
    keep = np.isfinite(values) & (counts.to_numpy() > 0)
    if not keep.any():
        raise RaiError(f"sensitive column {name!r} has no finite values to bin")
    order = np.argsort(values[keep], kind="stable")
    values, weights = values[keep][order], counts.to_numpy()[keep][order]
    ends = np.cumsum(weights)
    position = (ends[-1] - 1) * np.arange(1, n_bins) / n_bins
    below = np.floor(position)
    low = values[np.searchsorted(ends, below, side="right")]
    high = values[np.searchsorted(ends, np.minimum(below + 1, ends[-1] - 1), side="right")]
    edges = np.unique(low + (high - low) * (position - below))
    return tuple(edges[edges < values[-1]].tolist())


def encode_bins(name, values: pd.Series, edges: tuple, *, argument: str) -> EncodedColumn:
    """Codes of a numeric column's bins ``<= e1``, ``(e1, e2]``, …, ``> ek``."""
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(numeric)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(bad.sum())))
    codes = np.searchsorted(np.asarray(edges, dtype=np.float64), numeric, side="left")
    labels = ([f"<= {edges[0]:g}"]
              + [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(edges)]
              + [f"> {edges[-1]:g}"])
    return EncodedColumn(name, codes.astype(np.int64), tuple(labels))


def encode_cut(name, values: pd.Series, cut: Cut, *, levels: tuple | None = None,
               argument: str) -> EncodedColumn:
    """Codes of a sensitive column's groups under ``cut`` (from :func:`resolve_cut`).

    ``levels`` fixes the levels of a column kept as levels (a partition of a larger data set
    shares the whole data set's); bins and thresholds have fixed labels already.
    """
    if cut.kind == "threshold":
        return encode_threshold(name, values, cut.value, argument=argument)
    if cut.kind == "edges":
        return encode_bins(name, values, cut.value, argument=argument)
    if levels is not None:
        return encode_with_levels(name, values, levels, argument=argument)
    return encode_categorical(name, values, argument=argument)
