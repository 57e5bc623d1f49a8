"""What ``rai_nb.audit`` needs of a Dask frame: predictions kept beside it, rows sampled as pandas.

The model is called once per partition (``model.predict`` and ``predict_proba`` on that
partition's feature columns) and its outputs are persisted where Dask keeps data; every
later pass (fairness, slices) joins them back to the partition they came from. The rows
explained are the content sample (:func:`sample_rows`) the same frame in memory gives.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, RaiError
from ..frame import _sampling as sampling
from ..frame import column_values
from ._model import predict, prediction_errors

#: Columns added beside the user's; the prefix keeps them apart from any user column.
PREDICTION, SCORE, ERROR = "__rai_nb_prediction", "__rai_nb_score", "__rai_nb_error"


def with_predictions(data, model, features, *, target, positive_label, task):
    """``data`` with the model's prediction, score and error per row (see
    :func:`prediction_errors`), and its number of rows."""
    import dask
    import dask.dataframe as dd

    taken = [c for c in (PREDICTION, SCORE, ERROR) if c in data.columns]
    if taken:
        raise RaiError(f"data has column(s) {taken} that rai_nb.audit reserves for predictions")
    outputs = dask.persist(*[dask.delayed(_predict_partition)(part, model, features, target,
                                                              positive_label, task)
                             for part in data.to_delayed()])
    lengths = dask.compute([dask.delayed(len)(out) for out in outputs])[0]
    if sum(lengths) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    meta = _join(data._meta, _predict_meta(data, model, features, target, positive_label, task))
    parts = [dask.delayed(_join)(part, out) for part, out in zip(data.to_delayed(), outputs)]
    return dd.from_delayed(parts, meta=meta, verify_meta=False), int(sum(lengths)), lengths


def _predict_partition(part, model, features, target, positive_label, task) -> pd.DataFrame:
    if len(part) == 0:
        return pd.DataFrame({PREDICTION: [], SCORE: [], ERROR: []})
    labels, score = predict(model, part[features], positive_label=positive_label)
    _, truth = column_values(part, target, argument="target")
    return pd.DataFrame({PREDICTION: labels,
                         SCORE: np.full(len(labels), np.nan) if score is None else score,
                         ERROR: prediction_errors(truth, labels, task)})


def _predict_meta(data, model, features, target, positive_label, task) -> pd.DataFrame:
    sample = data.head(1, npartitions=-1)
    return _predict_partition(sample, model, features, target, positive_label, task).iloc[:0]


def _join(part: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([part, outputs.set_axis(part.index)], axis=1)


def has_score(data_with_predictions) -> bool:
    """Whether the model gave a positive-class score (binary ``predict_proba``)."""
    return bool(data_with_predictions[SCORE].head(1, npartitions=-1).notna().all())


def sample_rows(data, n: int, *, features, sensitive, random_state,
                lengths=None) -> pd.DataFrame:
    """The ``n`` rows to explain, as pandas: a seeded sample by the rows' contents.

    The contents are what the explanation reads: the model's ``features`` and the
    ``sensitive`` columns. Rows equal in them are interchangeable, so the sample
    (:mod:`rai_nb.frame._sampling`, each copy of a repeated row kept or dropped on its own)
    follows ``random_state`` and the rows, never their order or index. A Dask ``data`` with its
    partitions' ``lengths`` gives the rows the same frame in memory gives, in the same order.
    """
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    columns = list(dict.fromkeys([*features, *(c for c in names if c in data.columns)]))
    seed = sampling.seed_of(random_state)
    if lengths is None:
        return data.iloc[sampling.sample_positions(sampling.frame_hashes(data[columns]), n, seed)]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    positions = sampling.partitioned_sample(data.to_delayed(), partial(_hashes, columns), offsets,
                                            n, seed)
    return _fetch(data, offsets, positions)


def _hashes(columns: list, part: pd.DataFrame) -> np.ndarray:
    return sampling.frame_hashes(part[columns])


def _fetch(data, offsets: np.ndarray, positions: np.ndarray) -> pd.DataFrame:
    """Rows at global ``positions`` of a Dask frame, as pandas in the order of ``positions``."""
    import dask

    ordered = np.sort(positions)
    cut = np.searchsorted(ordered, offsets)
    picks = [dask.delayed(lambda frame, rows: frame.iloc[rows])(part, ordered[a:b] - start)
             for part, a, b, start in zip(data.to_delayed(), cut[:-1], cut[1:], offsets)
             if b > a]
    rows = pd.concat(dask.compute(picks)[0])
    return rows.iloc[np.searchsorted(ordered, positions)]
