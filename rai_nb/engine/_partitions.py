"""The engine protocol: values, one per partition, held where an engine keeps the rows.

Every distributed statistic in rai_nb is a few rounds of the same moves: map a function over
the partitions (each partition is a pandas DataFrame on arrival), keep what it returned where
the partitions live (``persist``), bring small results back (``collect``, ``reduce``) or hand
one bucket of every partition's output to one task (``regroup``: the hash-bucketed counts of
duplicates and samples), or read only some partitions (``subset``). Engines implement these
six; features are written against them alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

#: Partial results a reduction task adds at once: a tree of this fan-in keeps every task small.
FAN_IN = 8


class Partitions(ABC):
    """A lazy sequence of per-partition values.

    Functions given to :meth:`map`, :meth:`reduce` and :meth:`regroup` run where the engine keeps
    the data (a Dask or Spark worker), so they and their arguments must pickle; module-level
    functions and :func:`functools.partial` of them do.
    """

    #: The name users see in messages ("in-memory", "Dask", "Spark").
    engine: str = ""

    @property
    @abstractmethod
    def n_partitions(self) -> int:
        """How many values there are."""

    @abstractmethod
    def map(self, function: Callable, *args, each: Sequence | None = None) -> Partitions:
        """``function(value, *args)`` of each value; with ``each`` (one item per partition),
        ``function(value, each[i], *args)`` for partition ``i``."""

    @abstractmethod
    def subset(self, indices: Sequence[int]) -> Partitions:
        """The values of partitions ``indices`` only, in that order, numbered ``0, 1, …`` anew
        (an item of ``each`` in a later :meth:`map` is for the new numbering)."""

    @abstractmethod
    def persist(self) -> Partitions:
        """The same values, computed once and kept where the engine holds data."""

    @abstractmethod
    def collect(self) -> list:
        """The values, in partition order, on the caller's machine."""

    def reduce(self, add: Callable[[list], object]) -> object:
        """``add`` applied to lists of values (a tree of them): ``add`` must accept its own
        results, as a sum does."""
        return add(self.collect())

    @abstractmethod
    def regroup(self, n_buckets: int, function: Callable, *args) -> Partitions:
        """``n_buckets`` values: bucket ``b`` is ``function([value[b] for value in values],
        *args)``, where every value is a sequence of ``n_buckets`` pieces."""

    def collect_with(self, *others: Partitions) -> list[list]:
        """``[self.collect(), *(o.collect() for o in others)]``, in one pass where the engine
        can share the reading of the partitions."""
        return [self.collect(), *(other.collect() for other in others)]


def tree_reduce(values: list, add: Callable[[list], object]):
    """``add`` over ``values`` in groups of :data:`FAN_IN` until one result remains (eager)."""
    values = list(values)
    while True:
        values = [add(values[i:i + FAN_IN]) for i in range(0, max(len(values), 1), FAN_IN)]
        if len(values) == 1:
            return values[0]
