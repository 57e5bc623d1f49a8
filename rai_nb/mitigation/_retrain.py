"""Retrain-and-compare for a cleaning plan: the model fitted before and after, audited alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.base import clone

from ..errors import RaiError
from ..frame._columns import require_frame
from ..frame._model import model_features
from ._fitting import weighted_fit

if TYPE_CHECKING:
    import pandas as pd

    from ..results._comparison import ComparisonResult


def retrain(plan, estimator, *, test: pd.DataFrame, sensitive=None,
            features=None, positive_label=None, n_boot: int = 200,
            random_state=0) -> ComparisonResult:
    """Audit clones of ``estimator`` fitted before and after ``plan`` on the same ``test`` rows.

    Parameters
    ----------
    plan : rai_nb.results.CleaningPlan
    estimator : estimator
        Any classifier whose ``fit`` takes ``sample_weight`` (fitted or not; never modified).
        The clone before cleaning is fitted on every row unweighted, the one after on the
        cleaned rows with :meth:`CleaningPlan.apply`'s weights.
    test : pandas.DataFrame
        Held-out rows with the target and the sensitive columns.
    sensitive : str or list of str, optional
        Sensitive columns of the audits (default: the plan's).
    features : list of str, optional
        Columns the model takes; default ``estimator.feature_names_in_``, else every column
        of the data but the target.
    positive_label : optional
        The favourable class (default: the last in sorted order).
    n_boot : int, default 200
        Bootstrap resamples of the audits' intervals.
    random_state : int, default 0
        Seed of the audits' bootstrap.

    Returns
    -------
    ComparisonResult
        Labelled ``("before cleaning", "after cleaning")``.
    """
    from ..api._audit import audit  # a remedy re-audits through the entry points
    from ..api._compare import compare

    require_frame(test, "test")
    sensitive = list(plan.sensitive) if sensitive is None else sensitive
    if not len(sensitive):
        raise RaiError("retrain needs sensitive columns to audit by: pass sensitive= here or "
                       "to clean")
    features = model_features(estimator, plan.data, plan.target, features)
    cleaned, weights = plan.apply()
    before = clone(estimator).fit(plan.data[features], plan.data[plan.target])
    after = weighted_fit(estimator, cleaned[features], cleaned[plan.target].to_numpy(), weights,
                         "clean")
    kwargs = dict(target=plan.target, sensitive=sensitive, features=features,
                  positive_label=positive_label, explain=False, n_boot=n_boot,
                  random_state=random_state, progress=False)
    return compare(audit(before, test, **kwargs), audit(after, test, **kwargs),
                   labels=("before cleaning", "after cleaning"))
