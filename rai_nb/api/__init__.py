"""The public Python API: each function validates, encodes, runs kernels and builds a result.

One private module per function; this package only re-exports them.
"""

from ._acquisition import acquisition_plan
from ._audit import audit
from ._bias import bias
from ._clean import clean
from ._compare import compare
from ._counterfactuals import burden, counterfactuals
from ._dependence import dependence
from ._explain import explain, group_attributions
from ._explain_row import explain_row
from ._fairness_tests import flip_test
from ._mitigate import mitigate
from ._ood_filter import ood_filter
from ._slices import slices
from ._validate import drift, validate
from ._whatif import whatif
from ._without import without

__all__ = ["audit", "bias", "compare", "drift", "explain", "flip_test", "group_attributions", "slices",
           "validate"]
__all__ += ["mitigate"]
__all__ += ["acquisition_plan"]
__all__ += ["clean", "without"]
__all__ += ["explain_row", "whatif"]
__all__ += ["dependence"]
__all__ += ["burden", "counterfactuals"]
__all__ += ["ood_filter"]
