"""rai_nb: responsible-AI audits in the notebook.

``import rai_nb`` stays light: it imports neither CuPy nor IPython, ipywidgets or matplotlib.
"""

from .api import (
    acquisition_plan,
    audit,
    bias,
    burden,
    clean,
    compare,
    counterfactuals,
    dependence,
    drift,
    explain,
    explain_row,
    flip_test,
    group_attributions,
    mitigate,
    ood_filter,
    slices,
    validate,
    whatif,
    without,
)
from .backend import config, config_context, get_config
from .datasets import load_adult, load_compas
from .errors import RaiError
from .results import (
    AcquisitionPlan,
    AuditResult,
    BiasResult,
    BurdenResult,
    CleaningPlan,
    ComparisonResult,
    CounterfactualResult,
    DependenceResult,
    DriftResult,
    FlipTestResult,
    MitigationResult,
    RemovalResult,
    RowDrift,
    RowExplanation,
    SliceResult,
    ValidationResult,
)

__version__ = "0.1.0"


def __getattr__(name: str):
    """``rai_nb.mitigation``: the mitigators (scikit-learn estimators), imported on first use,
    so ``import rai_nb`` does not load scikit-learn's estimators."""
    if name == "mitigation":
        import importlib

        return importlib.import_module(".mitigation", __name__)
    if name == "OODFilter":  # the estimator behind ood_filter (scikit-learn on first use)
        from .mitigation._ood_filter import OODFilter

        return OODFilter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(shell) -> None:
    """``%load_ext rai_nb``: register the magics (IPython is imported only now)."""
    from .magics import load

    load(shell)


__all__ = ["BiasResult", "DriftResult", "RaiError", "ValidationResult", "bias", "config",
           "config_context", "drift", "get_config", "validate"]
__all__ += ["SliceResult", "slices"]
__all__ += ["load_adult", "load_compas"]
__all__ += ["AuditResult", "audit"]
__all__ += ["FlipTestResult", "explain", "flip_test", "group_attributions"]
__all__ += ["ComparisonResult", "compare"]
__all__ += ["MitigationResult", "mitigate", "mitigation"]
__all__ += ["RowExplanation", "explain_row", "whatif"]
__all__ += ["CleaningPlan", "RemovalResult", "clean", "without"]
__all__ += ["AcquisitionPlan", "acquisition_plan"]
__all__ += ["DependenceResult", "dependence"]
__all__ += ["BurdenResult", "CounterfactualResult", "burden", "counterfactuals"]
__all__ += ["OODFilter", "RowDrift", "ood_filter"]
