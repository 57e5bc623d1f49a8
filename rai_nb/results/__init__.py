"""Result objects: plain data that every view (widgets, HTML, markdown, JSON) renders.

One private module per result type; this package only re-exports them.
"""

from ._base import Result
from ._bias import BiasResult

__all__ = ["BiasResult", "Result"]
