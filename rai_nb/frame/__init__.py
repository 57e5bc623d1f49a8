"""Turns user data (pandas frames, Series, arrays) into encoded arrays for the kernels.

The only layer that touches user DataFrames. It validates, raises :class:`rai_nb.RaiError`
naming the column or argument, copies what it needs and never mutates the caller's objects.
"""

from ._bias import BiasInputs, encode_bias_inputs
from ._columns import EncodedColumn, column_values, encode_categorical, encode_threshold

__all__ = [
    "BiasInputs",
    "EncodedColumn",
    "column_values",
    "encode_bias_inputs",
    "encode_categorical",
    "encode_threshold",
]
