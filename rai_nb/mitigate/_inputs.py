"""What every mitigator reads: the groups of its rows and the frame its inner model takes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..frame._columns import (
    EncodedColumn,
    column_values,
    combine_columns,
    encode_categorical,
    encode_with_levels,
)


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
    if levels is None:
        return combine_columns([encode_categorical(name, values, argument="sensitive")
                                for name, values in parts])
    names = tuple(name for name, _ in parts)
    keys = pd.Series(list(zip(*(values.to_numpy() for _, values in parts))), dtype=object)
    return encode_with_levels(names, keys, levels, argument="sensitive")


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
