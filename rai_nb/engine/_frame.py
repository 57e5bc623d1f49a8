"""A frame held as pandas partitions by an engine, and how user frames become one."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import RaiError
from ._partitions import Partitions


class PartitionedFrame:
    """Rows held by an engine as pandas partitions, with the frame's columns and dtypes.

    Parameters
    ----------
    parts : Partitions
        One pandas DataFrame per partition, in row order.
    meta : pandas.DataFrame
        No rows; the columns and dtypes every partition has.
    lengths : numpy.ndarray, optional
        Rows per partition, where the engine knows them without a pass.
    """

    def __init__(self, parts: Partitions, meta: pd.DataFrame, lengths: np.ndarray | None = None):
        self.parts = parts
        self.meta = meta
        if lengths is not None:
            self.__dict__["lengths"] = np.asarray(lengths, dtype=np.int64)

    @property
    def engine(self) -> str:
        return self.parts.engine

    @property
    def columns(self) -> pd.Index:
        return self.meta.columns

    @property
    def n_partitions(self) -> int:
        return self.parts.n_partitions

    @cached_property
    def lengths(self) -> np.ndarray:
        """Rows per partition."""
        return np.asarray(self.parts.map(len).collect(), dtype=np.int64)

    @property
    def offsets(self) -> np.ndarray:
        """Global position of each partition's first row (and the row count, last)."""
        return np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    @property
    def n_rows(self) -> int:
        return int(self.lengths.sum())

    def map_frames(self, function, *args, meta: pd.DataFrame, each=None,
                   same_rows: bool = False) -> PartitionedFrame:
        """The frame of ``function(partition, *args)`` (pandas to pandas; ``meta`` its empty
        result). ``same_rows``: ``function`` keeps every row (it adds, drops or changes columns
        only), so lengths known here carry over without a pass."""
        lengths = self.__dict__.get("lengths") if same_rows else None
        return PartitionedFrame(self.parts.map(function, *args, each=each), meta, lengths)

    def select(self, columns: list) -> PartitionedFrame:
        """Only ``columns``, in that order."""
        columns = list(columns)
        return self.map_frames(_select, columns, meta=self.meta[columns], same_rows=True)

    def drop(self, columns: list) -> PartitionedFrame:
        return self.select([c for c in self.columns if c not in set(columns)])

    def persist(self) -> PartitionedFrame:
        return PartitionedFrame(self.parts.persist(), self.meta, self.__dict__.get("lengths"))

    def head(self, n: int = 1) -> pd.DataFrame:
        """The first ``n`` rows, as pandas (fewer when the frame has fewer).

        Only the partitions that hold them are read: those known to (from ``lengths``, where
        the engine gave them), else the first one, then twice as many at each try.
        """
        known = self.__dict__.get("lengths")
        pieces, start, step = [], 0, 1
        while start < self.n_partitions and sum(map(len, pieces)) < n:
            if known is not None:
                needed = n - sum(map(len, pieces))
                stop = start + int(np.searchsorted(np.cumsum(known[start:]), needed)) + 1
            else:
                stop = start + step
            indices = list(range(start, min(stop, self.n_partitions)))
            pieces += self.parts.subset(indices).map(_head, n).collect()
            start, step = indices[-1] + 1, step * 2
        return pd.concat([self.meta, *pieces]).head(n)

    def local_positions(self, positions: np.ndarray) -> list[np.ndarray]:
        """Sorted global ``positions`` split into each partition's own positions."""
        offsets = self.offsets
        cut = np.searchsorted(positions, offsets)
        return [positions[cut[i]:cut[i + 1]] - offsets[i] for i in range(len(offsets) - 1)]

    def take(self, positions: np.ndarray) -> pd.DataFrame:
        """The rows at global ``positions`` as pandas, in the order of ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        ordered = np.sort(positions)
        pieces = self.parts.map(_rows_at, each=self.local_positions(ordered)).collect()
        rows = pd.concat([self.meta, *pieces])
        return rows.iloc[np.searchsorted(ordered, positions)]


def _select(part: pd.DataFrame, columns: list) -> pd.DataFrame:
    return part[columns]


def _head(part: pd.DataFrame, n: int) -> pd.DataFrame:
    return part.head(n)


def _rows_at(part: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return part.iloc[rows]


def is_partitioned(data) -> bool:
    """True for a frame an engine holds: Dask, Spark or an already partitioned frame."""
    from ._dask import is_dask_frame
    from ._spark import is_spark_frame

    return isinstance(data, PartitionedFrame) or is_dask_frame(data) or is_spark_frame(data)


def partitioned(data, argument: str = "data") -> PartitionedFrame:
    """``data`` as a :class:`PartitionedFrame`: a Dask or Spark DataFrame through its engine, a
    pandas one as one in-memory partition (row order kept)."""
    from ._dask import dask_partitions, is_dask_frame
    from ._memory import MemoryPartitions
    from ._spark import is_spark_frame

    if isinstance(data, PartitionedFrame):
        return data
    if is_dask_frame(data):
        return PartitionedFrame(*dask_partitions(data))
    if is_spark_frame(data):
        from ._spark import spark_partitions

        return PartitionedFrame(*spark_partitions(data))
    if isinstance(data, pd.DataFrame):
        return PartitionedFrame(MemoryPartitions([data]), data.iloc[:0])
    raise RaiError(f"{argument} must be a pandas, Dask or Spark DataFrame, got "
                   f"{type(data).__name__}")


def in_memory(frame: pd.DataFrame, n_partitions: int = 1) -> PartitionedFrame:
    """A pandas frame cut into ``n_partitions`` in-memory partitions (row order kept)."""
    from ._memory import MemoryPartitions, split_frame

    pieces = split_frame(frame, n_partitions)
    return PartitionedFrame(MemoryPartitions(pieces), frame.iloc[:0], [len(p) for p in pieces])
