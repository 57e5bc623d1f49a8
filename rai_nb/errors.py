"""The one exception users see, and the message templates that tests match on."""

from __future__ import annotations


class RaiError(ValueError):
    """A problem with what the caller passed in, named in one readable line.

    Subclasses ``ValueError`` so code that already guards against bad values keeps working.
    """


MISSING_COLUMN = "column {column!r} given as {argument} is not in the data; available: {available}"
LENGTH_MISMATCH = "{argument} has {got} rows but the data has {expected}"
NAN_VALUES = "{argument} ({column!r}) has {count} missing or non-finite value(s); drop or fill them first"
ONE_CLASS = "{argument} ({column!r}) has a single class {value!r}; two classes are needed"
UNKNOWN_POSITIVE = "positive_label {value!r} does not occur in {column!r}; values are {values}"
NEED_POSITIVE = (
    "{column!r} has values {values}; pass positive_label= to say which one is the favourable outcome"
)
EMPTY_DATA = "{argument} has no rows"
EMPTY_FACET = "sensitive column {column!r}: facet {facet!r} has no rows"
ONE_FACET = "sensitive column {column!r} has a single value {value!r}; nothing to compare it with"
TOO_MANY_GROUPS = (
    "{argument} column {column!r} has {count} distinct values (limit {limit}); it looks like an ID. "
    "Bin it first or raise rai_nb.config(max_groups=...)"
)
BAD_OPTION = "{argument} must be one of {allowed}, got {value!r}"
BAD_SCORE = "score ({column!r}) must hold probabilities in [0, 1]; found values from {low} to {high}"
