"""The rows to explain, as a DataFrame and as the float matrix tree and linear SHAP read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, RaiError


def as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise RaiError(f"X must be 2-D (rows × features), got shape {array.shape}")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if len(frame) == 0:
        raise RaiError(EMPTY_DATA.format(argument="X"))
    return frame


def is_number(dtype) -> bool:
    """Numbers and booleans: what models read as floats."""
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def numeric(frame: pd.DataFrame) -> np.ndarray:
    """The frame as a float matrix (NaN for missing); RaiError naming a non-numeric column."""
    bad = [c for c, dtype in frame.dtypes.items() if not is_number(dtype)]
    if bad:
        raise RaiError(f"column {bad[0]!r} of X is not numeric; tree and linear SHAP need the "
                       "model's numeric inputs (encode categories first, or use method='kernel')")
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)
