"""KernelSHAP of any model with ``predict``/``predict_proba``, one (row, background row) pair at a
time: only the features where the two differ are players, masked rows are gathered column by
column from the explained and background rows (dtypes kept), the model sees each distinct
masked row of a pair once, and pairs with the same number of differing features share one
batched weighted least-squares solve (see :mod:`rai_nb.explain.kernel`)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from .._progress import progress_bar
from ..errors import RaiError
from ..explain.kernel import add_pair_values, apply_shapley_map, pair_groups, spread_masks
from ..frame._explain_inputs import as_frame, numeric
from ..frame._model import call_model


def predictor(model):
    """The model as a function of a frame: class probabilities, else predictions, as (rows, outputs)."""
    if hasattr(model, "predict_proba"):
        return lambda f: np.asarray(model.predict_proba(f), dtype=np.float64)
    if hasattr(model, "predict"):
        return lambda f: np.asarray(model.predict(f), dtype=np.float64).reshape(len(f), -1)
    raise RaiError(f"model {type(model).__name__} has neither predict_proba nor predict")


def background_rows(frame: pd.DataFrame, background, random_state) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows KernelSHAP masks with, and their weights: 50 of ``frame`` for ``None``, that
    many k-means centres for an int, else the rows given."""
    if background is None:  # 50 rows chosen by content, so row order does not matter
        from ..frame._sampling import frame_hashes, sample_positions, seed_of

        positions = sample_positions(frame_hashes(frame), 50, seed_of(random_state))
        rows = frame.iloc[positions]
        return rows.reset_index(drop=True), np.full(len(rows), 1 / len(rows))
    if isinstance(background, (int, np.integer)) and not isinstance(background, bool):
        from sklearn.cluster import KMeans

        if background < 1:
            raise RaiError(f"background must be a positive number of k-means centres or rows, "
                           f"got {background!r}")
        matrix = numeric(frame)
        k = min(int(background), len(frame))
        fitted = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(matrix)
        weights = np.bincount(fitted.labels_, minlength=k) / len(frame)
        return pd.DataFrame(fitted.cluster_centers_, columns=frame.columns), weights
    rows = as_frame(background)
    if list(rows.columns) != list(frame.columns):
        raise RaiError("background must have the same columns as X")
    return rows.reset_index(drop=True), np.full(len(rows), 1 / len(rows))


def _options(nsamples, batch_rows, m: int) -> int:
    """The coalition budget per pair, after checking both options."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, Integral) or batch_rows < 1:
        raise RaiError(f"batch_rows must be a positive integer, got {batch_rows!r}")
    if isinstance(nsamples, str) and nsamples == "auto":
        return 2 * m + 2048
    if isinstance(nsamples, bool) or not isinstance(nsamples, Integral) or nsamples < 1:
        raise RaiError(f"nsamples must be 'auto' or a positive integer, got {nsamples!r}")
    return int(nsamples)


def kernel_shap(model, frame, background, *, nsamples, batch_rows, random_state, progress):
    """KernelSHAP values of ``model`` on ``frame``'s rows against a background.

    Parameters
    ----------
    model : object with ``predict_proba`` or ``predict``
        Called on DataFrames with ``frame``'s columns and dtypes.
    frame : pandas.DataFrame
        Rows to explain.
    background : DataFrame, array, int or None
        Reference rows (default: up to 50 rows of ``frame``), or a k-means summary size.
    nsamples : int or "auto"
        Most model calls per (row, background row) pair, ``2 M + 2048`` for "auto"; a row
        costs at most ``nsamples × len(background)`` calls, usually far fewer, and a pair whose
        ``2^d − 2`` inner coalitions fit (``d`` = features where the row and background row
        differ) is exact. ``nsamples ≥ 2^M − 2`` gives exact Shapley values.
    batch_rows : int
        Most synthetic rows per model call.
    random_state : int, Generator or None
        Seed of the background sample and the sampled coalitions.
    progress : bool
        Show a progress bar over the model calls.

    Returns
    -------
    values : numpy.ndarray, shape (rows, M, outputs)
    base : numpy.ndarray, shape (outputs,)
        The background-weighted mean output; ``base + Σ_j values[:, j] = f(x)`` exactly.
    data : numpy.ndarray
        ``frame`` as an array.
    names : list of str
    """
    predict = predictor(model)
    if frame.columns.has_duplicates:
        duplicated = sorted(map(str, set(frame.columns[frame.columns.duplicated()])))
        raise RaiError(f"X has duplicate column names {duplicated}; KernelSHAP masks columns "
                       "by name")
    m = frame.shape[1]
    budget = _options(nsamples, batch_rows, m)
    reference, weights = background_rows(frame, background, random_state)
    reference = _like(reference, frame)
    rng = np.random.default_rng(random_state)
    at_x = call_model(predict, frame)  # (R, K): the full coalitions
    at_b = call_model(predict, reference)  # (B, K): the empty ones
    base = weights @ at_b
    pooled = {name: _pooled(frame[name], reference[name]) for name in frame.columns}
    differ = _differ(pooled, len(frame))
    values = _single_feature_pairs(differ, at_x, at_b, weights)
    with _small_linear_algebra():
        calls = _calls(pair_groups(differ, budget, rng), batch_rows)
    with progress_bar(total=len(calls), desc="KernelSHAP", enabled=progress and len(calls) > 1) \
            as bar:
        for pieces in calls:
            sources = [_sources(group, chunk, len(frame)) for group, chunk in pieces]
            outputs = call_model(predict, _gather(pooled, np.concatenate(sources), frame.dtypes))
            ends = np.cumsum([len(source) for source in sources])[:-1]
            with _small_linear_algebra():
                values = _add_pieces(values, pieces, np.split(outputs, ends), at_x, at_b, weights)
            bar.update()
    return values, base, frame.to_numpy(), list(map(str, frame.columns))


def _add_pieces(values, pieces, outputs, at_x, at_b, weights):
    """Each piece's pairs' values from its model outputs, added to the rows' totals."""
    for (group, chunk), out in zip(pieces, outputs):
        rows, reference_rows = group.rows[chunk], group.background[chunk]
        local = apply_shapley_map(group.solver, out.reshape(len(rows), len(group.masks), -1),
                                  at_x[rows], at_b[reference_rows])
        values = add_pair_values(values, local, rows, group.inverse[chunk],
                                 weights[reference_rows])
    return values


_CONTROLLER = []


def _small_linear_algebra():
    """BLAS on one thread: the solves and products here are small (≤ a few hundred wide), and
    waking BLAS threads costs more than it gains (much more on a busy machine)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _calls(groups, batch_rows: int) -> list[list]:
    """Model calls of at most ``batch_rows`` synthetic rows (or one pair's, if more), each a
    list of (group, slice of its pairs); pieces of several groups share a call."""
    calls, current, size = [], [], 0
    for group in groups:
        step = max(1, batch_rows // len(group.masks))
        for start in range(0, len(group.rows), step):
            chunk = slice(start, min(start + step, len(group.rows)))
            rows = (chunk.stop - chunk.start) * len(group.masks)
            if current and size + rows > batch_rows:
                calls.append(current)
                current, size = [], 0
            current.append((group, chunk))
            size += rows
    return [*calls, current] if current else calls


def _sources(group, chunk: slice, n_rows: int) -> np.ndarray:
    """(pairs · C, M) positions in the pooled columns: the row where the mask is on, else the
    background row (stored after the ``n_rows`` explained rows)."""
    masks = spread_masks(group.masks, group.inverse[chunk])  # (P, C, M)
    mine = group.rows[chunk][:, None, None]
    theirs = n_rows + group.background[chunk][:, None, None]
    return np.where(masks, mine, theirs).reshape(-1, masks.shape[-1])


def _like(reference: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The background with ``frame``'s dtypes, so masked rows keep them."""
    if (reference.dtypes == frame.dtypes).all():
        return reference
    try:
        return reference.astype(frame.dtypes.to_dict())
    except (TypeError, ValueError) as error:
        raise RaiError(f"background cannot take X's column types: {error}") from error


def _pooled(mine: pd.Series, theirs: pd.Series):
    """The explained rows' values of one column followed by the background's, one dtype."""
    if isinstance(mine.dtype, np.dtype):
        return np.concatenate([mine.to_numpy(), theirs.to_numpy()])
    return pd.concat([mine, theirs], ignore_index=True).array


def _differ(pooled: dict, n_rows: int) -> np.ndarray:
    """(R, B, M) bool: row and background row hold different values (missing equals missing)."""
    columns = []
    for values in pooled.values():
        codes, _ = pd.factorize(values)  # missing values share the code −1
        columns.append(codes[:n_rows, None] != codes[None, n_rows:])
    return np.stack(columns, axis=-1)


def _single_feature_pairs(differ, at_x, at_b, weights) -> np.ndarray:
    """Pairs differing in one feature give it ``f(x) − f(b)``, with no model call."""
    one = (differ.sum(axis=-1) == 1)[..., None] & differ  # (R, B, M)
    gap = at_x[:, None, :] - at_b[None, :, :]  # (R, B, K)
    return np.einsum("rbm,rbk,b->rmk", one.astype(np.float64), gap, weights)


def _gather(pooled: dict, source: np.ndarray, dtypes: pd.Series) -> pd.DataFrame:
    """Masked rows: column ``j`` of synthetic row ``i`` is ``pooled[j][source[i, j]]``, in the
    column's own dtype (object columns stay object, not pandas' inferred strings)."""
    return pd.DataFrame({name: pd.Series(pooled[name].take(source[:, j]), dtype=dtypes[name],
                                         copy=False)
                         for j, name in enumerate(dtypes.index)}, columns=dtypes.index)
