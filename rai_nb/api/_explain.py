"""``rai_nb.explain``: SHAP values as a ``shap.Explanation`` (tree, linear or kernel), and the
per-group view of them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend import choose_namespace, to_device, to_host
from ..errors import BAD_OPTION, RaiError
from ..explain._forest import is_tree_model, load_forest
from ..explain.linear import linear_shap
from ..explain.treeshap import tree_shap
from ._explain_inputs import as_frame, numeric
from ._kernel_explain import kernel_shap

METHODS = ("auto", "tree", "linear", "kernel")
#: Final estimators whose ``coef_``/``intercept_`` define the (margin) output exactly.
LINEAR_MODELS = {"LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression",
                 "SGDClassifier", "SGDRegressor", "LinearSVC", "LinearSVR", "RidgeClassifier",
                 "HuberRegressor", "BayesianRidge", "LassoLars", "Lars"}


def explain(model, X, *, background=None, method: str = "auto", nsamples="auto",
            batch_rows: int = 200_000, random_state=0, progress: bool = True):
    """SHAP values of ``model`` on the rows ``X``, as a ``shap.Explanation``.

    Parameters
    ----------
    model : fitted model
        Tree ensembles (scikit-learn, XGBoost, LightGBM) get exact path-dependent TreeSHAP;
        linear models (or pipelines ending in one) exact linear SHAP of their margin; anything
        with ``predict``/``predict_proba`` gets KernelSHAP.
    X : pandas.DataFrame or 2-D array
        Rows to explain. Never modified.
    background : DataFrame, array or int, optional
        Reference rows for linear and kernel SHAP (default: up to 50 rows of ``X``); an int
        asks for a k-means summary of ``X`` with that many weighted centres.
    method : {"auto", "tree", "linear", "kernel"}
    nsamples : int or "auto"
        KernelSHAP coalitions per row (``2 M + 2048`` by default, as shap); with
        ``nsamples ≥ 2^M − 2`` every coalition is used and the values are exact.
    batch_rows : int
        Largest number of synthetic rows in one model call (KernelSHAP).

    Returns
    -------
    shap.Explanation
        ``values`` of shape (rows, features) or (rows, features, outputs), with
        ``base_values``, ``data`` and ``feature_names``; additive: base + Σ values = output.
    """
    if method not in METHODS:
        raise RaiError(BAD_OPTION.format(argument="method", allowed=METHODS, value=method))
    frame = as_frame(X)
    if method == "auto":
        method = ("tree" if is_tree_model(_final_step(model)) else
                  "linear" if _linear_head(model) else "kernel")
    if method == "tree":
        values, base, data, names = _tree(model, frame)
    elif method == "linear":
        values, base, data, names = _linear(model, frame, background)
    else:
        values, base, data, names = kernel_shap(model, frame, background, nsamples=nsamples,
                                                batch_rows=batch_rows, random_state=random_state,
                                                progress=progress)
    return _explanation(values, base, data, names)


def uses_kernel(model) -> bool:
    """True when ``method="auto"`` falls back to KernelSHAP for ``model``."""
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
    return pd.DataFrame(np.asarray(transformed), columns=names), names


def _tree(model, frame):
    frame, names = _preprocessed(model, frame)
    forest = load_forest(_final_step(model))
    if frame.shape[1] != forest.n_features:
        raise RaiError(f"X has {frame.shape[1]} columns but the model was fitted on "
                       f"{forest.n_features}")
    X = numeric(frame)
    xp = choose_namespace(len(X))
    values, base = tree_shap(forest, to_device(X, xp), xp=xp)
    return values, base, X, names


def _linear_head(model):
    """The final linear estimator (of a pipeline, too) or None."""
    last = _final_step(model)
    return last if type(last).__name__ in LINEAR_MODELS and hasattr(last, "coef_") else None


def _linear(model, frame, background):
    head = _linear_head(model)
    if head is None:
        raise RaiError(f"{type(model).__name__} is not a linear model; use method='kernel'")
    transformed, names = _preprocessed(model, frame)
    X = numeric(transformed)
    if X.shape[1] != np.atleast_2d(head.coef_).shape[1]:
        raise RaiError(f"X gives {X.shape[1]} model inputs but the model was fitted on "
                       f"{np.atleast_2d(head.coef_).shape[1]} features")
    reference = frame if background is None or isinstance(background, int) else as_frame(
        background)
    mean = numeric(_preprocessed(model, reference)[0]).mean(axis=0)
    coef = np.atleast_2d(np.asarray(head.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(head.intercept_, dtype=np.float64))
    xp = choose_namespace(len(X))
    values, base = linear_shap(to_device(X, xp), to_device(coef, xp), to_device(intercept, xp),
                               to_device(mean, xp), xp=xp)
    return to_host(values), to_host(base), X, [str(n) for n in names]


def _explanation(values, base, data, names):
    import shap

    values = np.asarray(values, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    if values.ndim == 3 and values.shape[-1] == 1:
        values, base = values[..., 0], np.repeat(base.reshape(-1)[:1], len(values))
    else:
        base = np.tile(base.reshape(1, -1), (len(values), 1))
    return shap.Explanation(values=values, base_values=base, data=np.asarray(data),
                            feature_names=names)


def group_attributions(explanation, groups: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature (rows) within each sensitive group (columns), and the gap.

    ``groups`` holds the sensitive column(s) of the explained rows, in the same order; for a
    multi-output explanation the last output (the positive class) is used. The ``gap`` column
    is the largest minus the smallest group mean: which features drive the difference.
    """
    values = np.abs(np.asarray(explanation.values))
    if values.ndim == 3:
        values = values[..., -1]
    if len(groups) != len(values):
        raise RaiError(f"groups has {len(groups)} rows but the explanation has {len(values)}")
    frame = pd.DataFrame(values, columns=list(explanation.feature_names))
    keys = [groups[c].astype(str).to_numpy() for c in groups.columns]
    label = keys[0] if len(keys) == 1 else np.array([" · ".join(k) for k in zip(*keys)])
    table = frame.groupby(label, sort=True).mean().T
    table.columns.name = " · ".join(map(str, groups.columns))
    table["gap"] = table.max(axis=1) - table.min(axis=1)
    return table.sort_values("gap", ascending=False)
