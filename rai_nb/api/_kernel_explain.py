"""KernelSHAP of any model with ``predict``/``predict_proba``: coalitions of the user's columns,
masked rows built column by column (dtypes kept), one batched weighted least-squares solve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..explain.kernel import coalitions, solve_shapley
from ._explain_inputs import as_frame, numeric
from ._progress import progress_bar


def _predictor(model):
    if hasattr(model, "predict_proba"):
        return lambda f: np.asarray(model.predict_proba(f), dtype=np.float64)
    if hasattr(model, "predict"):
        return lambda f: np.asarray(model.predict(f), dtype=np.float64).reshape(len(f), -1)
    raise RaiError(f"model {type(model).__name__} has neither predict_proba nor predict")


def _background(frame: pd.DataFrame, background, random_state) -> tuple[pd.DataFrame, np.ndarray]:
    if background is None:
        rows = frame.sample(n=min(50, len(frame)), random_state=random_state)
        return rows.reset_index(drop=True), np.full(len(rows), 1 / len(rows))
    if isinstance(background, (int, np.integer)):
        from sklearn.cluster import KMeans

        matrix = numeric(frame)
        k = min(int(background), len(frame))
        fitted = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(matrix)
        weights = np.bincount(fitted.labels_, minlength=k) / len(frame)
        return pd.DataFrame(fitted.cluster_centers_, columns=frame.columns), weights
    rows = as_frame(background)
    if list(rows.columns) != list(frame.columns):
        raise RaiError("background must have the same columns as X")
    return rows.reset_index(drop=True), np.full(len(rows), 1 / len(rows))


def kernel_shap(model, frame, background, *, nsamples, batch_rows, random_state, progress):
    """KernelSHAP values, base values, data and names of ``model`` on ``frame``'s rows."""
    predict = _predictor(model)
    reference, weights = _background(frame, background, random_state)
    m = frame.shape[1]
    budget = 2 * m + 2048 if nsamples == "auto" else int(nsamples)
    masks, kernel_weights = coalitions(m, budget, np.random.default_rng(random_state))
    base = weights @ _call(predict, reference)
    full = _call(predict, frame)
    per_row = max(1, len(masks) * len(reference))
    step = max(1, batch_rows // per_row)
    averaged = []
    starts = range(0, len(frame), step)
    with progress_bar(total=len(starts), desc="KernelSHAP",
                      enabled=progress and len(frame) > step) as bar:
        for start in starts:
            rows = frame.iloc[start:start + step]
            outputs = _call(predict, _masked(rows, reference, masks))
            outputs = outputs.reshape(len(rows), len(masks), len(reference), -1)
            averaged.append(np.einsum("rcbk,b->rck", outputs, weights))
            bar.update()
    values = solve_shapley(masks, kernel_weights, np.concatenate(averaged), full, base)
    data = frame.to_numpy()
    return values, base, data, list(map(str, frame.columns))


def _call(predict, frame):
    try:
        return predict(frame)
    except Exception as error:  # the model's own failure, e.g. NotFittedError
        raise RaiError(f"the model failed to predict: {type(error).__name__}: {error}") from error


def _masked(rows: pd.DataFrame, reference: pd.DataFrame, masks: np.ndarray) -> pd.DataFrame:
    """Rows × coalitions × background rows: the row's value where the mask is on, else the
    background's — built column by column so every column keeps its dtype."""
    columns = {}
    for j, name in enumerate(rows.columns):
        mine = rows[name].to_numpy()[:, None, None]
        theirs = reference[name].to_numpy()[None, None, :]
        columns[name] = np.where(masks[None, :, j, None], mine, theirs).reshape(-1)
    return pd.DataFrame(columns).astype(rows.dtypes.to_dict())
