"""``rai_nb.explain_row``: one row, chosen by its index label, explained as a waterfall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import RaiError
from ..explainers._kernel import background_rows, predictor
from ..explainers._tree import additivity_gaps
from ..frame._model import call_model, model_features, predict
from ..results._row import RowExplanation
from ._explain import explain, explainer_for

UNKNOWN_ROW = "row label {label!r} is not in the data's index (it holds {shown})"
REPEATED_ROW = "row label {label!r} appears {count} times in the data's index; pick a unique label"
NOT_A_FRAME = "data must be a pandas DataFrame (rows are chosen by index label), got {kind}"
#: Largest |base + Σφ − f(x)| relative to 1 + |f(x)| + Σ|φ| for linear and kernel SHAP.
_TOLERANCE = 1e-6


def explain_row(model, data: pd.DataFrame, label, *, method: str = "auto", background=None,
                features: str = "auto") -> RowExplanation:
    """SHAP values of the row of ``data`` whose index label is ``label``, as a waterfall.

    Parameters
    ----------
    model : fitted model or scikit-learn Pipeline
        Any model :func:`rai_nb.explain` explains.
    data : pandas.DataFrame
        Rows with the model's columns (other columns, such as the target, are ignored when the
        model knows its column names). Never modified.
    label : object
        The row's index label (not its position).
    method, features : str
        As in :func:`rai_nb.explain`.
    background : DataFrame, optional
        Reference rows for linear and kernel SHAP; default: ``data`` (linear) or 50 of its
        rows (kernel). Tree SHAP needs none.

    Returns
    -------
    rai_nb.results.RowExplanation
        Checked additive: base + Σ SHAP = the model's own output for the row.

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = pd.DataFrame({"a": [0., 1, 2, 3], "b": [1., 0, 1, 0]}, index=[10, 20, 30, 40])
    >>> model = DecisionTreeRegressor(random_state=0).fit(X, [0., 1, 2, 3])
    >>> row = rai_nb.explain_row(model, X, 30)
    >>> round(row.margin, 6), row.prediction
    (2.0, 2.0)
    """
    explainer = RowExplainer.of(model, data, method=method, background=background,
                                features=features)
    return explainer(row_at(explainer.frame(data), label), label)


def row_at(data: pd.DataFrame, label) -> pd.DataFrame:
    """The one row of ``data`` labelled ``label``, as a one-row frame; RaiError naming it."""
    if not isinstance(data, pd.DataFrame):
        raise RaiError(NOT_A_FRAME.format(kind=type(data).__name__))
    try:
        found = data.index.get_loc(label)
    except (KeyError, TypeError, pd.errors.InvalidIndexError):
        shown = ", ".join(map(repr, data.index[:5].tolist())) + (", …" if len(data) > 5 else "")
        raise RaiError(UNKNOWN_ROW.format(label=label, shown=shown or "no rows")) from None
    if not isinstance(found, (int, np.integer)):
        count = int(np.count_nonzero(found)) if isinstance(found, np.ndarray) else len(
            range(len(data))[found])
        raise RaiError(REPEATED_ROW.format(label=label, count=count))
    return data.iloc[[found]]


def label_from_text(index: pd.Index, text: str):
    """The index label written as ``text`` (as a magic or a text box receives it)."""
    matches = np.flatnonzero(index.astype(str) == text.strip())
    if len(matches) == 0:
        shown = ", ".join(map(repr, index[:5].tolist())) + (", …" if len(index) > 5 else "")
        raise RaiError(UNKNOWN_ROW.format(label=text, shown=shown or "no rows"))
    return index[matches[0]]


@dataclass(frozen=True)
class RowExplainer:
    """Explains single rows of one model against fixed reference rows (the what-if editor
    calls it on every edit, so the background is chosen once)."""

    model: object
    columns: list
    method: str
    background: pd.DataFrame | None
    features: str
    #: The loaded thread pools (threadpoolctl), found once: finding them costs a few ms.
    threads: object

    @classmethod
    def of(cls, model, data: pd.DataFrame, *, method="auto", background=None,
           features="auto") -> RowExplainer:
        if not isinstance(data, pd.DataFrame):
            raise RaiError(NOT_A_FRAME.format(kind=type(data).__name__))
        columns = model_features(model, data, None)
        chosen = explainer_for(model) if method == "auto" else method
        if background is None and chosen == "linear":
            background = data[columns]
        elif background is None and chosen == "kernel":
            background = background_rows(data[columns], None, 0)[0]
        from threadpoolctl import ThreadpoolController

        return cls(model, columns, method, background, features, ThreadpoolController())

    def frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data``'s columns that the model takes."""
        return data[self.columns]

    def __call__(self, row: pd.DataFrame, label) -> RowExplanation:
        """The explanation of the one-row frame ``row`` (the model's columns), as ``label``."""
        # one row gives OpenMP threads nothing to share: on a busy machine waking them costs
        # tens of ms per tree call (HistGradientBoosting), more than predicting the row
        with self.threads.limit(limits=1, user_api="openmp"):
            return self._explain(row, label)

    def _explain(self, row: pd.DataFrame, label) -> RowExplanation:
        explanation = explain(self.model, row, background=self.background, method=self.method,
                              features=self.features, progress=False)
        prediction, score = predict(self.model, row)
        values, base = np.asarray(explanation.values)[0], np.asarray(explanation.base_values)[0]
        output, name = self._output(values, prediction[0])
        if output is not None:
            values, base = values[:, output], np.reshape(base, -1)[output]
        self._check(values, float(base), row, output, label)
        shown = explanation.display_data if explanation.display_data is not None else (
            explanation.data)
        names = list(map(str, explanation.feature_names))
        return RowExplanation(label=label, values=pd.Series(values, index=names),
                              data=pd.Series(np.asarray(shown, dtype=object)[0], index=names),
                              base=float(base), prediction=_scalar(prediction[0]),
                              score=None if score is None else float(score[0]), output=name)

    def _output(self, values: np.ndarray, prediction) -> tuple[int | None, str]:
        """Which output of a multi-output explanation is shown, and its name: the positive
        class (the last) of two, the predicted class of more."""
        if values.ndim == 1:
            return None, ""
        classes = list(getattr(self.model, "classes_", range(values.shape[1])))
        if values.shape[1] == 2 or prediction not in classes:
            k = values.shape[1] - 1
        else:
            k = classes.index(prediction)
        return k, f"class {_scalar(classes[k]) if k < len(classes) else k}"

    def _check(self, values, base: float, row, output, label) -> None:
        """RaiError unless base + Σφ is the model's own output (tree SHAP checked it already)."""
        method = explainer_for(self.model) if self.method == "auto" else self.method
        if method == "tree":
            return
        own = self._own_output(row, method)
        own = float(own[0, 0 if output is None else output])
        gap = additivity_gaps(values.reshape(1, -1, 1), np.array([[base]]), np.array([[own]]))
        if not gap.max() <= _TOLERANCE:
            raise RaiError(f"the SHAP values of row {label!r} do not add up to the model's "
                           f"output: base {base:.6g} + Σ SHAP {values.sum():.6g} ≠ {own:.6g}")

    def _own_output(self, row: pd.DataFrame, method: str) -> np.ndarray:
        """The model output the explainer explains: the linear margin, or what KernelSHAP calls."""
        if method == "kernel":
            return predictor(self.model)(row)
        function = getattr(self.model, "decision_function", None) or self.model.predict
        return np.asarray(call_model(function, row), dtype=np.float64).reshape(1, -1)


def _scalar(value):
    """A NumPy scalar as the Python value it holds (for JSON and display)."""
    return value.item() if isinstance(value, np.generic) else value
