"""Result objects: plain data that every view (widgets, HTML, markdown, JSON) renders.

One private module per result type; this package only re-exports them.
"""

from ._acquisition import AcquisitionPlan
from ._audit import AuditResult
from ._base import Result
from ._bias import BiasResult
from ._cleaning import Cleaned, CleaningPlan, RemovalResult
from ._comparison import ComparisonResult
from ._counterfactuals import BurdenResult, CounterfactualResult
from ._dependence import DependenceResult
from ._explain import ExplanationResult, FlipTestResult
from ._mitigation import MitigationResult
from ._row import RowExplanation
from ._slices import SliceResult
from ._validate import Check, DriftResult, RowDrift, ValidationResult

__all__ = ["AuditResult", "BiasResult", "Check", "ComparisonResult", "DriftResult",
           "ExplanationResult", "FlipTestResult", "MitigationResult", "Result", "SliceResult",
           "ValidationResult"]
__all__ += ["AcquisitionPlan"]
__all__ += ["Cleaned", "CleaningPlan", "RemovalResult"]
__all__ += ["RowExplanation"]
__all__ += ["DependenceResult"]
__all__ += ["BurdenResult", "CounterfactualResult"]
__all__ += ["RowDrift"]
