"""Fairness mitigation: estimators that remedy what an audit finds.

Every mitigator is a scikit-learn-compatible estimator (``fit``, ``predict``, ``get_params``,
picklable) that reads its groups from the frame's ``sensitive`` columns or from
``sensitive_features=``; :func:`rai_nb.mitigate` runs one and re-audits.
"""

from ._fairbatch import FairBatch
from ._reductions import Reduction
from ._reweighing import Reweighing, reweighing_weights
from ._thresholds import ThresholdClassifier

__all__ = ["FairBatch", "Reduction", "Reweighing", "ThresholdClassifier", "reweighing_weights"]

