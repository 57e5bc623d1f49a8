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


def numeric(frame: pd.DataFrame) -> np.ndarray:
    bad = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                            or pd.api.types.is_bool_dtype(frame[c]))]
    if bad:
        raise RaiError(f"column {bad[0]!r} of X is not numeric; tree and linear SHAP need the "
                       "model's numeric inputs (encode categories first, or use method='kernel')")
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)
