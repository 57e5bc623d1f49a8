"""Dask DataFrames: recognising them and collecting what must agree across partitions."""

from __future__ import annotations

import pandas as pd

from ..errors import NAN_VALUES, ONE_FACET, RaiError


def is_dask_frame(data) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (checked without importing Dask)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(
        data, "map_partitions")


def require_column_names(data, **specs) -> None:
    """Dask inputs name their columns; arrays cannot be aligned with partitions."""
    for argument, spec in specs.items():
        names = list(spec) if isinstance(spec, (list, tuple, dict)) else [spec]
        for name in names:
            if name is None:
                continue
            if not isinstance(name, str):
                raise RaiError(f"with a Dask DataFrame, {argument} must name columns, "
                               f"got {type(name).__name__}")
            if name not in data.columns:
                shown = ", ".join(map(repr, list(data.columns)[:20]))
                raise RaiError(f"column {name!r} given as {argument} is not in the data; "
                               f"available: {shown}")


def collect_levels(data, names: list[str], *, argument: str) -> dict[str, tuple]:
    """Sorted distinct values of each column over the whole Dask frame, in one pass."""
    import dask

    uniques = dask.compute(*(data[name].unique() for name in names))
    levels = {}
    for name, values in zip(names, uniques):
        values = pd.Series(values)
        if values.isna().any():
            raise RaiError(NAN_VALUES.format(argument=argument, column=name, count="some"))
        try:
            levels[name] = tuple(sorted(values.tolist()))
        except TypeError:  # mixed types that do not sort
            levels[name] = tuple(values.tolist())
        if argument == "sensitive" and len(levels[name]) < 2:
            raise RaiError(ONE_FACET.format(column=name, value=values.iloc[0]))
    return levels
