"""``rai_nb.explain``: SHAP values as a ``shap.Explanation`` (tree, linear or kernel), and the
per-group view of them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend import choose_namespace, to_device, to_host
from ..errors import BAD_OPTION, RaiError
from ..explain.linear import linear_shap
from ..explainers._kernel import kernel_shap
from ..explainers._tree import fitted_names, is_tree_model, match_columns, tree_explain
from ..frame._explain_inputs import as_frame, is_number, numeric
from ..frame._pipeline_features import input_columns

METHODS = ("auto", "tree", "linear", "kernel")
#: Final estimators whose ``coef_``/``intercept_`` define the (margin) output exactly.
LINEAR_MODELS = {"LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression",
                 "SGDClassifier", "SGDRegressor", "LinearSVC", "LinearSVR", "RidgeClassifier",
                 "HuberRegressor", "BayesianRidge", "LassoLars", "Lars"}


def explain(model, X, *, background=None, method: str = "auto", interactions: bool = False,
            features: str = "auto", nsamples="auto", batch_rows: int = 200_000, random_state=0,
            progress: bool = True):
    """SHAP values of ``model`` on the rows ``X``, as a ``shap.Explanation``.

    Parameters
    ----------
    model : fitted model or scikit-learn Pipeline
        Tree models get exact path-dependent TreeSHAP: XGBoost, LightGBM and CatBoost through
        their own routines, scikit-learn's trees, forests, (hist) gradient boosting and
        isolation forests through rai_nb's compiled kernel. Linear models get exact linear SHAP
        of their margin. Any other model needs ``method="kernel"`` (sampled KernelSHAP).
    X : pandas.DataFrame or 2-D array
        Rows to explain, with the model's columns (matched by name when the model knows its
        names, in any order). Never modified.
    background : DataFrame, array or int, optional
        Reference rows for linear and kernel SHAP (default: up to 50 rows of ``X``); an int
        asks for a k-means summary of ``X`` with that many weighted centres.
    method : {"auto", "tree", "linear", "kernel"}
        ``"auto"`` picks the exact explainer for the model, and raises :class:`RaiError` when
        there is none rather than silently sampling.
    interactions : bool, default False
        SHAP interaction values (TreeSHAP only): ``values`` of shape (rows, features, features
        [, outputs]), whose sum over the last feature axis gives the SHAP values.
    features : {"auto", "input", "model"}
        For a pipeline: ``"input"`` sums the attributions of the features each of the user's
        columns becomes (one-hot indicators, missing indicators) back onto that column;
        ``"model"`` keeps the final estimator's features; ``"auto"`` is ``"input"`` when every
        feature comes from one column, else ``"model"``.
    nsamples : int or "auto"
        KernelSHAP: mean coalitions (model calls) per (row, background row) pair, ``2 M + 2048``
        by default as in shap; a row costs at most ``nsamples × len(background)`` calls, and a
        pair that differs in few features is enumerated exactly. ``nsamples ≥ 2^M − 2`` gives
        exact Shapley values.
    batch_rows : int
        Largest number of synthetic rows in one model call (KernelSHAP).

    Returns
    -------
    shap.Explanation
        ``values`` of shape (rows, features) or (rows, features, outputs), with
        ``base_values``, ``data`` and ``feature_names``; additive: base + Σ values = the model's
        margin (checked for tree models before returning).

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [0., 1, 2, 3], "b": [1., 0, 1, 0]})
    >>> model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, [0., 1, 2, 3])
    >>> explanation = explain(model, X[["b", "a"]])  # columns matched by name
    >>> explanation.feature_names
    ['a', 'b']
    """
    if method not in METHODS:
        raise RaiError(BAD_OPTION.format(argument="method", allowed=METHODS, value=method))
    if features not in FEATURE_VIEWS:
        raise RaiError(BAD_OPTION.format(argument="features", allowed=FEATURE_VIEWS,
                                         value=features))
    frame = match_columns(model, _named(model, as_frame(X),
                                        positional=not isinstance(X, pd.DataFrame)))
    method = explainer_for(model) if method == "auto" else method
    if interactions and method != "tree":
        raise RaiError(f"interactions=True needs TreeSHAP; method={method!r} has no interaction "
                       "values")
    if method == "kernel":
        values, base, data, names = kernel_shap(model, frame, background, nsamples=nsamples,
                                                batch_rows=batch_rows, random_state=random_state,
                                                progress=progress)
        return _explanation(values, base, data, None, names)
    transformed, names = _preprocessed(model, frame)
    if method == "tree":
        values, base = _tree(model, transformed, interactions)
    else:
        values, base = _linear(model, transformed, frame, background)
    groups = _feature_groups(model, frame, features)
    if groups is not None:
        values = _grouped(values, groups, frame.shape[1], interactions)
        names, transformed = [str(c) for c in frame.columns], frame
    return _explanation(values, base, *_input_data(transformed), names)


def _named(model, frame: pd.DataFrame, *, positional: bool) -> pd.DataFrame:
    """An array's columns take the names the model was fitted with (arrays carry no names, so
    they are read by position, as the model itself reads them)."""
    names = fitted_names(model)
    if not positional or names is None:
        return frame
    if frame.shape[1] != len(names):
        raise RaiError(f"X has {frame.shape[1]} columns but the model was fitted on {len(names)}")
    return frame.set_axis(names, axis=1)


#: How a pipeline's attributions are labelled (see ``explain``).
FEATURE_VIEWS = ("auto", "input", "model")


def explainer_for(model) -> str:
    """The exact explainer ``method="auto"`` uses for ``model``: ``"tree"`` or ``"linear"``.

    Raises RaiError for models with no exact explainer, naming ``method="kernel"``.
    """
    if is_tree_model(_final_step(model)):
        return "tree"
    if _linear_head(model) is not None:
        return "linear"
    raise RaiError(f"rai_nb has no exact explainer for {type(_final_step(model)).__name__}; "
                   "pass method='kernel' for sampled KernelSHAP of its predictions")


def uses_kernel(model) -> bool:
    """True when ``model`` has no exact explainer, so only KernelSHAP can explain it."""
    return not is_tree_model(_final_step(model)) and _linear_head(model) is None


def _final_step(model):
    """The last estimator of a pipeline, or the model itself."""
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _preprocessed(model, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` through every pipeline step but the last, with the output feature names.

    SHAP values of a pipeline are then those of its final estimator on the features it sees.
    """
    if not hasattr(model, "steps"):
        return frame, list(map(str, frame.columns))
    try:
        transformed = model[:-1].transform(frame)
        names = [str(n) for n in model[:-1].get_feature_names_out()]
    except Exception as error:  # the user's preprocessing failed on these rows
        raise RaiError(f"the pipeline's preprocessing failed: {type(error).__name__}: "
                       f"{error}") from error
    if hasattr(transformed, "toarray"):
        transformed = transformed.toarray()
    if not isinstance(transformed, pd.DataFrame):
        # a ColumnTransformer passing a bool column through stacks everything as objects
        transformed = pd.DataFrame(np.asarray(transformed), columns=names).infer_objects()
    return transformed, names


def _feature_groups(model, frame: pd.DataFrame, features: str) -> np.ndarray | None:
    """For a pipeline explained in the user's columns, the input column of each feature."""
    if features == "model" or not hasattr(model, "steps") or len(model.steps) < 2:
        return None
    groups = input_columns(model[:-1], frame.shape[1])
    if groups is None and features == "input":
        raise RaiError("a step of the pipeline mixes several input columns into one feature, so "
                       "attributions cannot be summed back onto the columns; pass "
                       "features='model'")
    return groups


def _grouped(values: np.ndarray, groups: np.ndarray, n_inputs: int,
             interactions: bool) -> np.ndarray:
    """Attributions summed over the features of each input column (both axes of interactions)."""
    onehot = np.zeros((len(groups), n_inputs))
    onehot[np.arange(len(groups)), groups] = 1.0
    if interactions:
        return np.einsum("rijk,ia,jb->rabk", values, onehot, onehot, optimize=True)
    return np.einsum("rik,ia->rak", values, onehot, optimize=True)


def _input_data(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """The values as shap plots take them: numbers (category codes for text) to colour by,
    and, where some column is not numeric, the values themselves to display."""
    if all(is_number(t) for t in frame.dtypes):
        return numeric(frame), None
    coded = {}
    for name in frame.columns:
        column = frame[name]
        if is_number(column.dtype):
            coded[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            codes = pd.Categorical(column).codes.astype(np.float64)
            coded[name] = np.where(codes < 0, np.nan, codes)
    return pd.DataFrame(coded).to_numpy(), frame.to_numpy(dtype=object)


def _tree(model, transformed: pd.DataFrame, interactions: bool):
    return tree_explain(_final_step(model), transformed, interactions=interactions)


def _linear_head(model):
    """The final linear estimator (of a pipeline, too) or None."""
    last = _final_step(model)
    return last if type(last).__name__ in LINEAR_MODELS and hasattr(last, "coef_") else None


def _linear(model, transformed: pd.DataFrame, frame: pd.DataFrame, background):
    """Exact SHAP of the linear head's margin, against the background's mean input."""
    head = _linear_head(model)
    if head is None:
        raise RaiError(f"{type(model).__name__} is not a linear model; use method='kernel'")
    X = numeric(match_columns(head, transformed))
    reference = frame if background is None or isinstance(background, int) else as_frame(
        background)
    mean = numeric(match_columns(head, _preprocessed(model, reference)[0])).mean(axis=0)
    coef = np.atleast_2d(np.asarray(head.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(head.intercept_, dtype=np.float64))
    xp = choose_namespace(len(X))
    values, base = linear_shap(to_device(X, xp), to_device(coef, xp), to_device(intercept, xp),
                               to_device(mean, xp), xp=xp)
    return to_host(values), to_host(base)


def _explanation(values, base, data, display, names):
    """A ``shap.Explanation``; a single output loses its output axis, as in shap."""
    import shap

    values = np.asarray(values, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64).reshape(-1)
    if values.shape[-1] == 1 and values.ndim >= 3:
        values, base = values[..., 0], np.repeat(base[:1], len(values))
    else:
        base = np.tile(base.reshape(1, -1), (len(values), 1))
    return shap.Explanation(values=values, base_values=base, data=np.asarray(data),
                            display_data=display, feature_names=names)


def group_attributions(explanation, groups: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature (rows) within each sensitive group (columns), and the gap.

    ``groups`` holds the sensitive column(s) of the explained rows, in the same order; of a
    two-output explanation the positive class (the last output) is used, of more outputs
    (multiclass) their mean. The ``gap`` column
    is the largest minus the smallest group mean: which features drive the difference.
    """
    values = np.abs(np.asarray(explanation.values))
    if values.ndim == 3:
        values = values[..., -1] if values.shape[-1] == 2 else values.mean(axis=-1)
    if len(groups) != len(values):
        raise RaiError(f"groups has {len(groups)} rows but the explanation has {len(values)}")
    frame = pd.DataFrame(values, columns=list(explanation.feature_names))
    keys = [groups[c].astype(str).to_numpy() for c in groups.columns]
    label = keys[0] if len(keys) == 1 else np.array([" · ".join(k) for k in zip(*keys)])
    table = frame.groupby(label, sort=True).mean().T
    table.columns.name = " · ".join(map(str, groups.columns))
    table["gap"] = table.max(axis=1) - table.min(axis=1)
    return table.sort_values("gap", ascending=False)
