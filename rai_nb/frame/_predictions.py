"""What ``rai_nb.audit`` needs of a partitioned frame: predictions beside it, rows sampled as pandas.

The model is called once per partition (``model.predict`` and ``predict_proba`` on that
partition's feature columns, a pandas UDF on Spark) and the outputs are joined to the partition
and persisted where the engine keeps data; every later pass (fairness, slices) reads them there.
The rows explained are the content sample (:func:`sample_rows`) the same frame in memory gives.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..errors import EMPTY_DATA, RaiError
from . import _sampling as sampling
from ._columns import column_values
from ._model import predict, prediction_errors

#: Columns added beside the user's; the prefix keeps them apart from any user column.
PREDICTION, SCORE, ERROR = "__rai_nb_prediction", "__rai_nb_score", "__rai_nb_error"


def with_predictions(data, model, features, *, target, positive_label, task):
    """The partitioned frame ``data`` with the model's prediction, score and error per row (see
    :func:`prediction_errors`), persisted, and its number of rows."""
    taken = [c for c in (PREDICTION, SCORE, ERROR) if c in data.columns]
    if taken:
        raise RaiError(f"data has column(s) {taken} that rai_nb.audit reserves for predictions")
    arguments = (model, list(features), target, positive_label, task)
    meta = _with_outputs(data.head(1), *arguments).iloc[:0]
    frame = data.map_frames(_with_outputs, *arguments, meta=meta, same_rows=True).persist()
    if frame.n_rows == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    return frame, frame.n_rows


def _with_outputs(part: pd.DataFrame, model, features, target, positive_label,
                  task) -> pd.DataFrame:
    if len(part) == 0:
        outputs = pd.DataFrame({PREDICTION: [], SCORE: [], ERROR: []}, index=part.index)
    else:
        labels, score = predict(model, part[features], positive_label=positive_label)
        _, truth = column_values(part, target, argument="target")
        outputs = pd.DataFrame({PREDICTION: labels,
                                SCORE: np.full(len(labels), np.nan) if score is None else score,
                                ERROR: prediction_errors(truth, labels, task)}, index=part.index)
    return pd.concat([part, outputs], axis=1)


def has_score(data_with_predictions) -> bool:
    """Whether the model gave a positive-class score (binary ``predict_proba``)."""
    return bool(data_with_predictions.head(1)[SCORE].notna().all())


def sample_rows(data, n: int, *, features, sensitive, random_state) -> pd.DataFrame:
    """The ``n`` rows to explain, as pandas: a seeded sample by the rows' contents.

    The contents are what the explanation reads: the model's ``features`` and the
    ``sensitive`` columns. Rows equal in them are interchangeable, so the sample
    (:mod:`rai_nb.frame._sampling`, each copy of a repeated row kept or dropped on its own)
    follows ``random_state`` and the rows, never their order or index. A partitioned ``data``
    gives the rows the same frame in memory gives, in the same order.
    """
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    columns = list(dict.fromkeys([*features, *(c for c in names if c in data.columns)]))
    seed = sampling.seed_of(random_state)
    if isinstance(data, pd.DataFrame):
        return data.iloc[sampling.sample_positions(sampling.frame_hashes(data[columns]), n, seed)]
    positions = sampling.partitioned_sample(data.parts, partial(_hashes, columns), data.offsets,
                                            n, seed)
    return data.take(positions)


def _hashes(columns: list, part: pd.DataFrame) -> np.ndarray:
    return sampling.frame_hashes(part[columns])
