"""rai_nb: responsible-AI audits in the notebook.

``import rai_nb`` stays light: it imports neither CuPy nor IPython, ipywidgets or matplotlib.
"""

from .api import bias, drift, slices, validate
from .backend import config, config_context, get_config
from .datasets import load_adult, load_compas
from .errors import RaiError
from .results import BiasResult, DriftResult, SliceResult, ValidationResult

__version__ = "0.1.0"

__all__ = ["BiasResult", "DriftResult", "RaiError", "ValidationResult", "bias", "config",
           "config_context", "drift", "get_config", "validate"]
__all__ += ["SliceResult", "slices"]
__all__ += ["load_adult", "load_compas"]
