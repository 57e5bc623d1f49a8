"""What every mitigator reads: the groups of its rows and the frame its inner model takes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import LENGTH_MISMATCH, RaiError
from ..frame._columns import EncodedColumn, column_values, combine_columns, encode_categorical


def sensitive_groups(X, sensitive, sensitive_features=None, *, levels: tuple | None = None
                     ) -> EncodedColumn:
    """The intersection group of each row of ``X``, as codes and the level of each code.

    Parameters
    ----------
    X : pandas.DataFrame
        The rows; ``sensitive`` names columns of it.
    sensitive : str or list of str or None
        Sensitive column name(s) of ``X``; several give intersectional groups.
    sensitive_features : array-like, Series or DataFrame, optional
        The groups given beside ``X`` (one value per row, or one column per attribute); used
        instead of ``sensitive`` when given.
    levels : tuple, optional
        The groups seen at fit time (tuples, one entry per attribute). Rows are coded among them
        and a group never seen raises :class:`RaiError`.

    Returns
    -------
    EncodedColumn
        ``codes`` (int64, one per row) and ``levels`` (a tuple per group, one entry per attribute).
    """
    frame = require_frame(X)
    parts = _sensitive_parts(frame, sensitive, sensitive_features)
    found = combine_columns([encode_categorical(name, values, argument="sensitive")
                             for name, values in parts])
    if levels is None:
        return found
    # Code the few distinct groups among the known ones, not every row's tuple.
    position = {level: code for code, level in enumerate(levels)}
    among = np.array([position.get(level, -1) for level in found.levels], dtype=np.int64)
    if (among < 0).any():
        unknown = found.levels[int(np.argmax(among < 0))]
        raise RaiError(f"sensitive ({found.name!r}) has value {unknown!r} outside its known "
                       "levels")
    return EncodedColumn(found.name, among[found.codes], tuple(levels))


def sensitive_levels(X, sensitive, sensitive_features, chunks) -> tuple[tuple, tuple]:
    """``name`` and ``levels`` of ``sensitive_groups(X, ...)``, found chunk by chunk
    (``chunks``: slices of rows) so that no per-row array of the whole of ``X`` is held."""
    frame = require_frame(X)
    if sensitive_features is not None and len(sensitive_features) != len(frame):
        raise RaiError(LENGTH_MISMATCH.format(argument="sensitive_features",
                                              got=len(sensitive_features), expected=len(frame)))
    seen: dict = {}
    for rows in chunks:
        part = frame.iloc[rows]
        found = sensitive_groups(part, sensitive, chunk_of(sensitive_features, rows))
        seen.update(dict.fromkeys(found.levels))
    dtypes = [values.dtype for _, values in _sensitive_parts(
        part, sensitive, chunk_of(sensitive_features, rows))]
    # The order depends only on which values occur and their dtypes: encode the distinct ones.
    distinct = pd.DataFrame({k: pd.Series([level[k] for level in seen], dtype=dtype)
                             for k, dtype in enumerate(dtypes)})
    return found.name, sensitive_groups(distinct, list(range(len(dtypes)))).levels


def chunk_of(values, rows: slice):
    """Rows ``rows`` of a per-row argument (Series, DataFrame, array-like or None)."""
    if values is None:
        return None
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.iloc[rows]
    return np.asarray(values)[rows]


def estimator_input(estimator, X: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``X`` a fitted ``estimator`` takes (its ``feature_names_in_``), else ``X``."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return X
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise RaiError(f"X lacks column(s) {missing[:5]} that the estimator was fitted on")
    return X[list(names)]


def require_frame(X) -> pd.DataFrame:
    """``X`` as given when it is a DataFrame; a RaiError otherwise (columns are read by name)."""
    if not isinstance(X, pd.DataFrame):
        raise RaiError(f"X must be a pandas DataFrame (columns are matched by name); "
                       f"got {type(X).__name__}")
    if len(X) == 0:
        raise RaiError("X has no rows")
    return X


def _sensitive_parts(frame: pd.DataFrame, sensitive, sensitive_features) -> list:
    if sensitive_features is not None:
        given = sensitive_features
        if isinstance(given, pd.DataFrame):
            return [column_values(frame, given[c], argument="sensitive_features") for c in given]
        array = np.asarray(given, dtype=object)
        if array.ndim == 2:
            return [column_values(frame, array[:, j], argument="sensitive_features")
                    for j in range(array.shape[1])]
        return [column_values(frame, given, argument="sensitive_features")]
    if sensitive is None:
        raise RaiError("give sensitive= (column names of X) or sensitive_features= (the groups)")
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if not names:
        raise RaiError("sensitive names no column; give at least one")
    return [column_values(frame, name, argument="sensitive") for name in names]
