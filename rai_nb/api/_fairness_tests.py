"""``rai_nb.flip_test``: does the model treat a person differently for their group alone?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..frame import column_values, encode_categorical
from ..frame._bias import facet_specs
from ..frame._model import predict
from ..frame._sampling import canonical_order, frame_hashes
from ..results import FlipTestResult


def flip_test(model, data: pd.DataFrame, *, sensitive, features=None,
              n_neighbors: int = 5) -> FlipTestResult:
    """Clarify's flip test per facet, and a counterfactual flip of the sensitive attribute.

    *Flip test (FT)* (Das et al., KDD 2021, after Black, Yeom & Fredrikson 2020): a
    k-nearest-neighbour classifier trained on the other rows' predictions predicts each facet
    row from its numeric features; ``FT = (n⁺ − n⁻) / n_d`` where ``n⁺`` rows the model
    accepts but their neighbours would not, ``n⁻`` the reverse (smclarify's definition).

    *Counterfactual invariance*: each row's sensitive value is replaced by every other value of
    that column and fed through the real model; the table gives, per group, the share of
    predictions that change (0 for a column the model does not take as input).

    Parameters
    ----------
    model : fitted model with ``predict``
    data : pandas.DataFrame
        Rows with the model's features and the sensitive columns. Never modified.
    sensitive : str or list of str
        Categorical sensitive columns.
    features : list of str, optional
        The model's input columns (default ``model.feature_names_in_``, else every column).
    n_neighbors : int, default 5
        Neighbours of the kNN (1 when the rest has 9 rows or fewer, as Clarify).

    Notes
    -----
    Nothing is sampled, and the result does not depend on the order of the rows: neighbours at
    equal distance are ranked by the rows' contents (:mod:`rai_nb.frame._sampling`), and
    facets and groups come in sorted order.
    """
    features = list(features if features is not None else
                    getattr(model, "feature_names_in_", data.columns))
    predicted, _ = predict(model, data[features])
    names = [name for name, _ in facet_specs(sensitive)]
    flips = pd.concat([_flip_column(data, name, features, predicted, n_neighbors)
                       for name in names])
    invariance = pd.concat([_invariance(model, data, name, features, predicted)
                            for name in names])
    return FlipTestResult(flip=flips, invariance=invariance)


def _flip_column(data, name, features, predicted, n_neighbors) -> pd.DataFrame:
    from sklearn.neighbors import KNeighborsClassifier

    facet = encode_categorical(*column_values(data, name, argument="sensitive"),
                               argument="sensitive")
    numeric = [c for c in features if c != name and pd.api.types.is_numeric_dtype(data[c])]
    if not numeric:
        raise RaiError("the flip test needs numeric features besides the sensitive column")
    X = data[numeric].to_numpy(dtype=np.float64)
    positive = _positive(predicted)
    order = neighbour_order(X, positive, facet.codes)
    X, positive, codes = X[order], positive[order], facet.codes[order]
    rows = []
    for code, level in enumerate(facet.levels):
        inside = codes == code
        if inside.all():
            continue
        k = n_neighbors if (~inside).sum() > 9 else 1
        knn = KNeighborsClassifier(n_neighbors=k).fit(X[~inside], positive[~inside])
        neighbours = knn.predict(X[inside])
        ours = positive[inside]
        score = ((ours & ~neighbours).sum() - (~ours & neighbours).sum()) / inside.sum()
        rows.append((name, level, int(inside.sum()), float(score)))
    return pd.DataFrame(rows, columns=["sensitive", "facet", "count", "FT"]).set_index(
        ["sensitive", "facet"])


def neighbour_order(X: np.ndarray, positive: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The rows' canonical order (:func:`rai_nb.frame._sampling.canonical_order`) by numeric
    features, prediction and facet code.

    A kNN takes neighbours at equal distance in the order of its training rows; fitted in this
    order, the flip test follows the rows' contents, not their positions."""
    return canonical_order(frame_hashes(pd.DataFrame(
        {"codes": codes, "positive": positive, **dict(enumerate(X.T))})))


def _positive(predicted: np.ndarray) -> np.ndarray:
    classes = np.unique(predicted)
    if len(classes) > 2:
        raise RaiError("the flip test needs a binary classifier")
    return predicted == classes[-1]


def _invariance(model, data, name, features, predicted) -> pd.DataFrame:
    facet = encode_categorical(*column_values(data, name, argument="sensitive"),
                               argument="sensitive")
    levels = list(facet.levels)
    table = pd.DataFrame(0.0, index=pd.MultiIndex.from_product([[name], levels],
                                                               names=["sensitive", "group"]),
                         columns=[f"as {level}" for level in levels])
    if name not in features:
        return table
    inputs = data[features]
    for code, level in enumerate(levels):
        inside = facet.codes == code
        for other in levels:
            if other == level:
                continue
            changed = inputs[inside].copy()
            changed[name] = pd.Series([other] * len(changed), index=changed.index,
                                      dtype=inputs[name].dtype)
            flipped, _ = predict(model, changed)
            table.loc[(name, level), f"as {other}"] = float(np.mean(flipped != predicted[inside]))
    return table
