"""Turns user data (pandas frames, Series, arrays) into encoded arrays for the kernels.

The only layer that touches user DataFrames. It validates, raises :class:`rai_nb.RaiError`
naming the column or argument, copies what it needs and never mutates the caller's objects.
"""

from ._bias import BiasInputs, encode_bias_inputs
from ._columns import EncodedColumn, column_values, encode_categorical, encode_threshold
from ._features import SliceFeatures, describe_predicate, encode_loss, encode_slice_features, predicate_mask
from ._tabular import EncodedTable, encode_tables

__all__ = [
    "BiasInputs",
    "EncodedColumn",
    "EncodedTable",
    "SliceFeatures",
    "column_values",
    "describe_predicate",
    "encode_bias_inputs",
    "encode_categorical",
    "encode_loss",
    "encode_slice_features",
    "encode_tables",
    "encode_threshold",
    "predicate_mask",
]
