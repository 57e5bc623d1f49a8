"""Row labels and bootstrap bounds as :class:`rai_nb.BiasResult` stores them."""

from __future__ import annotations

import pandas as pd

from ..results._bias import clarify_row_label, row_label


def row_labels(index: pd.Index) -> list[str]:
    """The ``row`` labels of ``BiasResult.intervals`` for a table's index ("a · b" for tuples)."""
    return [row_label(k) for k in index]


def bounds(intervals: pd.DataFrame | None, table: str, rows: list[str]):
    """``(lower, upper)``: frames rows × metric of one table of ``intervals``, or None.

    Rows missing from the intervals (and metrics without one, such as ``count``) are NaN.
    """
    if intervals is None or table not in intervals.index.get_level_values("table"):
        return None
    block = intervals.xs(table, level="table")
    return tuple(block[side].unstack("metric").reindex(rows) for side in ("lower", "upper"))


def clarify_labels(index: pd.Index) -> list[str]:
    """The ``row`` labels of the ``clarify`` intervals (see :func:`clarify_row_label`)."""
    return [clarify_row_label(key) for key in index]
