"""Shared helpers for the benchmark scripts: best-of-n wall time, a result line, a local Spark."""

from __future__ import annotations

import platform
import time

import numpy as np


def best_time(function, *, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    """One line naming the machine the figures come from."""
    import os

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}")


def report(case: str, ours: float, peer_name: str, peer: float) -> None:
    """Print rai_nb's time beside the peer's with the speed-up."""
    print(f"{case:<46} rai_nb {ours * 1e3:>10.1f} ms | {peer_name} {peer * 1e3:>10.1f} ms "
          f"| {peer / ours:>8.1f}x")


def local_spark(app: str, *, driver_memory: str = "6g"):
    """A ``local[2]`` Spark session with the settings of ``tests/conftest.py``'s ``spark``
    fixture (Arrow on, UTC, four shuffle partitions, no UI, quiet logs), its Python workers
    started with this interpreter."""
    import os
    import sys

    from pyspark.sql import SparkSession

    # Spark's Python workers start PYSPARK_PYTHON (default: python3 on PATH, not this venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName(app)
               .config("spark.driver.memory", driver_memory)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=error")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session
