"""Where rows live: one protocol for in-memory, Dask and Spark partitions.

Features that read partitioned frames (``bias``, ``slices``, ``validate``, ``drift``,
``audit``) take a :class:`PartitionedFrame` from :func:`partitioned` and use only the
:class:`Partitions` moves (map, persist, collect, reduce, regroup) and the helpers here; no
feature module imports Dask or PySpark.
"""

from ._distinct import (
    distinct_values,
    level_tuple,
    ordered_levels,
    pooled,
    require_column_names,
    value_counts,
)
from ._frame import PartitionedFrame, in_memory, is_partitioned, partitioned
from ._order import order_statistics
from ._partitions import Partitions
from ._spark import local_spark

__all__ = [
    "PartitionedFrame",
    "Partitions",
    "distinct_values",
    "in_memory",
    "is_partitioned",
    "level_tuple",
    "local_spark",
    "order_statistics",
    "ordered_levels",
    "partitioned",
    "pooled",
    "require_column_names",
    "value_counts",
]
