"""The in-memory engine: partitions are pandas DataFrames (or values) in this process."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from ._partitions import Partitions, tree_reduce


class MemoryPartitions(Partitions):
    """Values held in a list; every step runs at once, in this process."""

    engine = "in-memory"

    def __init__(self, values: list):
        self._values = list(values)

    @property
    def n_partitions(self) -> int:
        return len(self._values)

    def map(self, function, *args, each=None) -> MemoryPartitions:
        if each is None:
            return MemoryPartitions([function(v, *args) for v in self._values])
        return MemoryPartitions([function(v, e, *args) for v, e in zip(self._values, each)])

    def subset(self, indices) -> MemoryPartitions:
        return MemoryPartitions([self._values[i] for i in indices])

    def persist(self) -> MemoryPartitions:
        return self

    def collect(self) -> list:
        return list(self._values)

    def reduce(self, add):
        return tree_reduce(self._values, add)

    def regroup(self, n_buckets: int, function, *args) -> MemoryPartitions:
        return MemoryPartitions([function([v[b] for v in self._values], *args)
                                 for b in range(n_buckets)])


def split_frame(frame: pd.DataFrame, n_partitions: int) -> list[pd.DataFrame]:
    """``frame`` cut into ``n_partitions`` consecutive pieces (row order kept; some may be
    empty when there are fewer rows than pieces)."""
    bounds = np.linspace(0, len(frame), max(1, n_partitions) + 1).round().astype(int)
    return [frame.iloc[a:b] for a, b in pairwise(bounds)]
