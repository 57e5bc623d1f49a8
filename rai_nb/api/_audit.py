"""``rai_nb.audit``: one call for a model's fairness, explanations, slices and data checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._progress import progress_bar
from ..engine import is_partitioned, partitioned
from ..errors import EMPTY_DATA, RaiError
from ..frame import column_values
from ..frame._model import model_features, predict, prediction_errors
from ..frame._predictions import (
    ERROR,
    PREDICTION,
    SCORE,
    has_score,
    sample_rows,
    with_predictions,
)
from ..frame._task import resolve_task
from ..results import AuditResult
from ._bias import bias
from ._counterfactuals import burden as burden_of
from ._dependence import dependence
from ._explain import explain, group_attributions, uses_kernel
from ._slices import SHARED_SEARCH, default_support, slices
from ._validate import validate

#: Steps of an audit, for the progress bar.
_STEPS = ("predictions", "fairness", "slices", "data checks", "explanations", "model card")


def audit(
    model,
    data: pd.DataFrame,
    *,
    target,
    sensitive,
    reference: pd.DataFrame | None = None,
    positive_label=None,
    task=None,
    sample_weight=None,
    min_group_size: int = 30,
    features=None,
    explain: bool = True,
    sample: int = 500,
    burden: bool = False,
    n_boot: int = 200,
    card: dict | None = None,
    random_state=0,
    progress: bool = True,
) -> AuditResult:
    """Audit ``model`` on ``data``: fairness by group, problem slices, data checks, explanations.

    Parameters
    ----------
    model : fitted estimator
        Anything with ``predict`` (and ``predict_proba`` for scores and calibration). Never
        modified.
    data : pandas.DataFrame, dask.dataframe.DataFrame or pyspark.sql.DataFrame
        Evaluation rows with the features, the target and the sensitive columns. Never modified.
        A Dask or Spark frame is audited partition by partition (see :func:`rai_nb.bias`): the
        model predicts each partition once, and the results equal those of the same rows in
        pandas.
    target : str
        Column of the true labels.
    sensitive : str, list or dict
        Sensitive column(s), as in :func:`rai_nb.bias`.
    reference : pandas.DataFrame, optional
        Training (or earlier) data: adds schema and drift checks.
    positive_label : scalar, optional
        The favourable outcome, when labels are not 0/1.
    task : {"binary", "multiclass", "regression"}, optional
        Default: inferred from the target (see :func:`rai_nb.bias`). Problem slices of a
        regression search the squared error, of a classifier the 0/1 error.
    sample_weight : str, optional
        Column of row weights for the fairness metrics (see :func:`rai_nb.bias`), the slices and
        the data checks' per-group counts (see :func:`rai_nb.validate`).
    min_group_size : int, default 30
        Groups with fewer rows never decide a finding.
    features : list of str, optional
        Columns the model takes; default ``model.feature_names_in_`` when it has them, else
        every column but the target. Problem slices are searched over these and the sensitive
        columns (text columns with more than ``max_groups`` distinct values, IDs, left out).
    explain : bool, default True
        Compute SHAP values on a sample of ``sample`` rows.
    burden : bool, default False
        Also compute the counterfactual burden per sensitive group (:func:`rai_nb.burden`,
        a binary classifier only) on a sample of ``sample`` rows (every row when ``data`` has
        no more); shown with the explanations. Its search runs for every such row the model
        decides against.
    n_boot : int, default 200
        Bootstrap resamples for the fairness metrics' intervals.
    card : dict, optional
        Narrative fields of the model card (name, intended_use, …).
    random_state : int, default 0
        Seed of every sampled step, so an audit is reproducible.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    AuditResult
    """
    from ..modelcard import ModelCard

    lazy = is_partitioned(data)
    if not isinstance(data, pd.DataFrame) and not lazy:
        raise RaiError(f"data must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(data).__name__}")
    if lazy:
        data = partitioned(data)
    if not lazy and len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    if (explain or burden) and (isinstance(sample, bool)
                                or not isinstance(sample, (int, np.integer)) or sample < 1):
        raise RaiError(f"sample (rows explained) must be a positive integer, got {sample!r}; "
                       "pass explain=False to skip explanations")
    if card is not None and not isinstance(card, dict):
        raise RaiError(f"card must be a dict of model-card fields (name, intended_use, …), got "
                       f"{type(card).__name__}")
    features = model_features(model, data, target, features)
    given, task = task, resolve_task(data, target, task, positive_label)
    with progress_bar(total=len(_STEPS), desc="rai_nb audit", enabled=progress) as bar:
        bar.set_postfix_str("predictions")
        if lazy:
            frame, n_rows = with_predictions(data, model, features, target=target,
                                             positive_label=positive_label, task=task)
            labels, score = PREDICTION, SCORE if has_score(frame) else None
            errors, derived = ERROR, [target, PREDICTION, SCORE]
        else:
            frame, n_rows = data, len(data)
            labels, score = predict(model, data[features], positive_label=positive_label)
            errors = prediction_errors(column_values(data, target, argument="target")[1], labels,
                                       task)
            derived = [target]
        bar.update()
        fairness = bias(frame, target=target, sensitive=sensitive, prediction=labels, score=score,
                        positive_label=positive_label, task=given, sample_weight=sample_weight,
                        min_group_size=min_group_size, n_boot=n_boot, random_state=random_state)
        bar.update()
        problem = slices(frame.drop(columns=derived), errors=errors, sample_weight=sample_weight,
                         **SHARED_SEARCH,
                         min_sup=default_support(n_rows, sample_weight is not None),
                         features=_slice_columns(frame, features, sensitive, lazy))
        bar.update()
        checks = validate(data, reference=reference, target=target, sensitive=sensitive,
                          positive_label=positive_label, sample_weight=sample_weight,
                          random_state=random_state)
        bar.update()
        explained = {}
        if explain:
            # KernelSHAP calls the model (coalitions × background) times per row: explain fewer.
            n = min(min(sample, 50) if uses_kernel(model) else sample, n_rows)
            rows = sample_rows(data, n, features=features, sensitive=sensitive,
                               random_state=random_state)
            explained = _explain(model, rows, features, sensitive, min_group_size)
        if burden:
            rows = data if sample >= n_rows and not lazy else sample_rows(
                data, min(sample, n_rows), features=features, sensitive=sensitive,
                random_state=random_state)
            explained["burden"] = burden_of(model, rows, sensitive=sensitive,
                                            positive_label=positive_label, features=features,
                                            random_state=random_state)
        bar.update()
        names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
        result = AuditResult(model_name=type(model).__name__, n_rows=n_rows, bias=fairness,
                             slices=problem, validation=checks,
                             sensitive_inputs=tuple(n for n in names if n in features),
                             **explained)
        result = result.with_card(ModelCard(dict(card or {}), audit=result))
        bar.update()
    return result


def _slice_columns(frame, features: list, sensitive, lazy: bool) -> list:
    """The model's inputs and the sensitive columns: where problem slices are searched. Text
    columns with more distinct values than ``max_groups`` (identifiers) are left out."""
    from ..backend import get_config

    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    columns = list(dict.fromkeys([*features, *(n for n in names if n in frame.columns)]))
    if lazy:
        return columns
    limit = get_config().max_groups
    return [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])
            or frame[c].nunique(dropna=False) <= limit]


def _explain(model, rows, features, sensitive, min_group_size: int) -> dict:
    """SHAP values of the sampled ``rows``, their mean magnitudes, the gaps between groups, and
    the partial dependence (with ICE) of the most important input feature by group."""
    method = "kernel" if uses_kernel(model) else "auto"  # sampled only where nothing is exact
    explanation = explain(model, rows[features], method=method, nsamples=512, progress=False)
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    importance = _importance(explanation)
    top = next((name for name in importance.index if name in features), None)
    curves = None if top is None else dependence(
        model, rows, top, by=names, grid_resolution=20, kind="both", sample=50,
        features=features, min_group_size=min_group_size)
    return {"explanation": explanation, "importance": importance,
            "group_importance": group_attributions(explanation, rows[names]),
            "dependence": curves}


def _importance(explanation) -> pd.Series:
    values = np.abs(np.asarray(explanation.values))
    if values.ndim == 3:  # (rows, features, outputs): the positive class, or every class
        values = values[..., -1] if values.shape[-1] == 2 else values.mean(axis=-1)
    means = values.mean(axis=0)
    return pd.Series(means, index=list(explanation.feature_names), name="mean |SHAP|").sort_values(
        ascending=False)
