"""rai_nb: responsible-AI audits in the notebook.

``import rai_nb`` stays light: it imports neither CuPy nor IPython, ipywidgets or matplotlib.
"""

from .api import bias
from .backend import config, config_context, get_config
from .errors import RaiError
from .results import BiasResult

__version__ = "0.1.0"

__all__ = ["BiasResult", "RaiError", "bias", "config", "config_context", "get_config"]
