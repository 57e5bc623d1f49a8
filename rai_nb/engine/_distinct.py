"""What partitions must agree on: the columns named, their distinct values and levels."""

from __future__ import annotations

from functools import partial

import pandas as pd

from ..errors import NAN_VALUES, ONE_FACET, RaiError


def require_column_names(frame, **specs) -> None:
    """Partitioned inputs name their columns: arrays cannot be aligned with partitions."""
    for argument, spec in specs.items():
        names = list(spec) if isinstance(spec, (list, tuple, dict)) else [spec]
        for name in names:
            if name is None:
                continue
            if not isinstance(name, str):
                raise RaiError(f"with a {frame.engine} DataFrame, {argument} must name columns, "
                               f"got {type(name).__name__}")
            if name not in frame.columns:
                shown = ", ".join(map(repr, list(frame.columns)[:20]))
                raise RaiError(f"column {name!r} given as {argument} is not in the data; "
                               f"available: {shown}")


def distinct_values(frame, names: list[str]) -> list[pd.Series]:
    """Distinct values (missing included) of each named column of a partitioned frame.

    Each partition reports its own distinct values and the caller pools them: no shuffle.
    """
    found = frame.parts.map(_distinct_of, list(names)).collect()
    return [pooled([f[i] for f in found]) for i in range(len(names))]


def _distinct_of(part: pd.DataFrame, names: list) -> list[pd.Series]:
    return [pd.Series(part[name].unique(), dtype=part[name].dtype) for name in names]


def value_counts(frame, name: str) -> pd.Series:
    """Rows per non-missing value of one column (``pandas.Series.value_counts``)."""
    return frame.parts.map(partial(_counts_of, name)).reduce(_add_counts)


def _counts_of(name: str, part: pd.DataFrame) -> pd.Series:
    return part[name].value_counts()


def _add_counts(counts: list[pd.Series]) -> pd.Series:
    if not counts:
        return pd.Series(dtype="int64")
    return pd.concat(counts).groupby(level=0, sort=False).sum().sort_values(ascending=False,
                                                                           kind="stable")


def pooled(parts: list) -> pd.Series:
    """Distinct values of per-partition Series of distinct values (a categorical dtype kept)."""
    return pd.Series(pd.concat(parts, ignore_index=True).unique())


def ordered_levels(values: pd.Series) -> tuple:
    """Levels in the in-memory path's order: categories' order, else sorted, else first seen."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.tolist())
        return tuple(c for c in values.cat.categories.tolist() if c in seen)
    try:
        return tuple(sorted(present.tolist()))
    except TypeError:  # mixed types that do not sort
        return tuple(present.tolist())


def level_tuple(name, values, *, argument: str) -> tuple:
    """The levels of a column from its distinct values (:func:`distinct_values`), checked."""
    values = pd.Series(values)
    if values.isna().any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count="some"))
    levels = ordered_levels(values)
    if argument == "sensitive" and len(levels) < 2:
        raise RaiError(ONE_FACET.format(column=name, value=values.iloc[0]))
    return levels
