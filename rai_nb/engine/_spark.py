"""The Spark engine: partitions of a ``pyspark.sql.DataFrame``, read as pandas through Arrow."""

from __future__ import annotations


def is_spark_frame(data) -> bool:
    """True for a ``pyspark.sql.DataFrame`` (checked without importing PySpark)."""
    return type(data).__module__.startswith("pyspark.sql") and hasattr(data, "mapInPandas")
