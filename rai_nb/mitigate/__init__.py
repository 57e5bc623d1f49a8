"""Fairness mitigation: estimators that remedy what an audit finds.

Every mitigator is a scikit-learn-compatible estimator (``fit``, ``predict``, ``get_params``,
picklable) that reads its groups from the frame's ``sensitive`` columns or from
``sensitive_features=``; :func:`rai_nb.mitigate` runs one and re-audits.
"""

import sys
import types

from ._fairbatch import FairBatch
from ._reductions import Reduction
from ._reweighing import Reweighing, reweighing_weights
from ._thresholds import ThresholdClassifier

__all__ = ["FairBatch", "Reduction", "Reweighing", "ThresholdClassifier", "reweighing_weights"]


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`rai_nb.api.mitigate`: ``rai_nb.mitigate(model, data,
    target=..., sensitive=...)`` and ``rai_nb.mitigate.ThresholdClassifier`` both work, in
    whichever order the package and the function are first used."""

    def __call__(self, model, data, **kwargs):
        from ..api import mitigate

        return mitigate(model, data, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
