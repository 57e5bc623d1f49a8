"""The Dask engine: partitions are ``dask.delayed`` values, run by Dask's own scheduler.

Whatever scheduler is active (threads, processes, a ``distributed`` cluster) runs the tasks;
nothing here shuffles rows, so every scheduler gives the same values.
"""

from __future__ import annotations

from operator import getitem

import pandas as pd

from ._partitions import FAN_IN, Partitions


def is_dask_frame(data) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (checked without importing Dask)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(
        data, "map_partitions") and hasattr(data, "columns")


def dask_partitions(data) -> tuple[DaskPartitions, pd.DataFrame]:
    """The partitions of a Dask DataFrame and its ``_meta`` (no rows, the partitions' dtypes)."""
    return DaskPartitions(data.to_delayed()), data._meta


class DaskPartitions(Partitions):
    """A list of ``dask.delayed`` values; nothing runs before :meth:`collect` or :meth:`persist`."""

    engine = "Dask"

    def __init__(self, values: list):
        self._values = list(values)

    @property
    def n_partitions(self) -> int:
        return len(self._values)

    def map(self, function, *args, each=None) -> DaskPartitions:
        import dask

        task = dask.delayed(function)
        if each is None:
            return DaskPartitions([task(v, *args) for v in self._values])
        return DaskPartitions([task(v, e, *args) for v, e in zip(self._values, each)])

    def subset(self, indices) -> DaskPartitions:
        return DaskPartitions([self._values[i] for i in indices])

    def persist(self) -> DaskPartitions:
        import dask

        return DaskPartitions(dask.persist(*self._values))

    def collect(self) -> list:
        import dask

        return list(dask.compute(self._values)[0])

    def reduce(self, add):
        import dask

        task, values = dask.delayed(add), self._values
        while True:
            values = [task(values[i:i + FAN_IN]) for i in range(0, max(len(values), 1), FAN_IN)]
            if len(values) == 1:
                return dask.compute(values[0])[0]

    def regroup(self, n_buckets: int, function, *args) -> DaskPartitions:
        import dask

        pick = dask.delayed(getitem)
        task = dask.delayed(function)
        return DaskPartitions([task([pick(v, b) for v in self._values], *args)
                               for b in range(n_buckets)])

    def collect_with(self, *others: Partitions) -> list[list]:
        if not all(isinstance(o, DaskPartitions) for o in others):
            return super().collect_with(*others)
        import dask

        return [list(v) for v in dask.compute([self._values, *(o._values for o in others)])[0]]
