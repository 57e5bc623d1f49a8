"""Shared helpers for the benchmark scripts: best-of-n wall time and a result line."""

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
