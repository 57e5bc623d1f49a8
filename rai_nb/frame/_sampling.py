"""Row samples and row orders that depend on a seed and on the rows' contents, never on positions.

Every sampled step (the MMD test's rows, the rows and folds of the out-of-fold label-error
model, the numeric leakage and proxy AUCs' rows, the flip test's neighbour ties, the rows an
audit explains) reads rows in the order this module gives, so shuffling the rows or relabelling
the index leaves its result unchanged.

Each row has a 64-bit hash of its contents. Copy ``j`` of a content ``h`` (``j = 0 … c − 1``
for a content found ``c`` times) gets the key ``mix(h, j, seed)``: every row has its own
uniform key, so identical rows are kept or dropped independently, in proportion to their
number, not all together. The sample of ``k`` rows is the ``k`` smallest keys (bottom-k,
Cohen and Kaplan 2007), ties broken by content; its order, by key, is the canonical order in
which seeded permutations and folds are drawn. Which copies of a content stand for it is
immaterial, as they are equal; the first ones in position order are reported.

A content's copies need its total count, so keys are computed from counted hashes. Counts from
several partitions add, and the union of bottom-k samples of disjoint sets of hashes has the
overall bottom-k among its own ``k`` smallest: a partitioned frame (Dask) counts hashes per
partition, samples per hash bucket, merges the buckets' samples and fetches the rows, and gets
the rows the one-partition (pandas) path gets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks.quality import row_hashes


def seed_of(random_state) -> int:
    """A non-negative 63-bit seed of ``random_state`` (int, SeedSequence, Generator or None).

    A Generator gives the seed it was created from and is not advanced, so the same
    ``random_state`` always gives the same samples; None draws fresh entropy.
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    sequence = getattr(rng.bit_generator, "seed_seq", None)
    if sequence is None:  # a bit generator restored from a state has no seed sequence
        return int(rng.integers(2**63))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def substream(seed: int, stream: int) -> int:
    """An independent seed for the ``stream``-th sampled step under ``seed``."""
    mixed = row_hashes(np.array([[seed], [stream]], dtype=np.int64))
    return int(mixed[0] >> np.uint64(1))


def frame_hashes(frame: pd.DataFrame) -> np.ndarray:
    """uint64 hash of each row's values (index and column names left out).

    pandas cannot hash cells holding lists, dicts or arrays: a column with such cells is hashed
    by each cell's ``repr`` (a Python call per cell, paid only by such columns). Rows whose
    cells print alike count as one content, which holds for lists and dicts of scalars, not for
    a ``repr`` that abbreviates (large arrays) or follows insertion order (dicts).
    """
    try:
        return _hashed(frame)
    except (TypeError, ValueError):  # unhashable cells (TypeError; ValueError for sequences)
        return _hashed(pd.DataFrame({i: _hashable(frame.iloc[:, i])
                                     for i in range(frame.shape[1])}, index=frame.index))


def _hashed(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64)


def _hashable(column: pd.Series) -> pd.Series:
    try:
        pd.util.hash_pandas_object(column, index=False)
    except (TypeError, ValueError):
        return column.map(repr)
    return column


def count_hashes(hashes: np.ndarray, n_buckets: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Distinct hashes and their counts, split into ``n_buckets`` buckets by hash."""
    distinct, counts = np.unique(np.asarray(hashes, dtype=np.uint64), return_counts=True)
    if n_buckets == 1:
        return [(distinct, counts)]
    bucket = distinct % np.uint64(n_buckets)
    return [(distinct[bucket == b], counts[bucket == b]) for b in range(n_buckets)]


def bottom_k(counted: list[tuple[np.ndarray, np.ndarray]], k: int,
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and hashes, in key order, of the ``k`` smallest copy keys of the counted hashes.

    ``counted`` holds every count of the hashes it names (pieces of one bucket from all
    partitions); the counts of a hash add up.
    """
    if len(counted) == 1:  # one partition: its hashes are distinct already
        distinct, totals = counted[0]
    else:
        distinct, inverse = np.unique(np.concatenate([h for h, _ in counted]),
                                      return_inverse=True)
        totals = np.bincount(inverse, weights=np.concatenate([c for _, c in counted]),
                             minlength=distinct.size).astype(np.int64)
    copy_of = np.repeat(distinct, totals)
    copy = np.arange(copy_of.size) - np.repeat(np.cumsum(totals) - totals, totals)
    keys = row_hashes(np.stack([copy_of.view(np.int64), copy,
                                np.full(copy.size, seed, dtype=np.int64)]))
    if keys.size > k:
        candidates = np.flatnonzero(keys <= np.partition(keys, k - 1)[k - 1])
    else:
        candidates = np.arange(keys.size)
    order = candidates[np.lexsort((copy[candidates], copy_of[candidates], keys[candidates]))]
    return keys[order[:k]], copy_of[order[:k]]


def merge(samples: list[tuple[np.ndarray, np.ndarray]], k: int) -> np.ndarray:
    """Hashes, in key order, of the overall bottom-k from bottom-k samples of disjoint buckets."""
    keys = np.concatenate([s[0] for s in samples])
    hashes = np.concatenate([s[1] for s in samples])
    # Equal (key, hash) pairs are copies of one content, so any order between them is the same.
    return hashes[np.lexsort((hashes, keys))[:k]]


def first_copies(hashes: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Sorted positions of the first ``m`` rows of each hash found ``m`` times in ``chosen``."""
    wanted, wanted_counts = np.unique(chosen, return_counts=True)
    if wanted.size == 0:
        return np.zeros(0, dtype=np.int64)
    slot = np.minimum(np.searchsorted(wanted, hashes), wanted.size - 1)
    rows = np.flatnonzero(wanted[slot] == hashes)
    rows = rows[np.argsort(hashes[rows], kind="stable")]
    rank = _rank_in_runs(hashes[rows])
    return np.sort(rows[rank < wanted_counts[slot[rows]]])


def arrange(chosen: np.ndarray, positions: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """``positions`` (sorted, of rows with ``hashes``, holding at least the first ``m`` copies of
    each hash found ``m`` times in ``chosen``) cut to those first copies, in the order of
    ``chosen``."""
    wanted, wanted_counts = np.unique(chosen, return_counts=True)
    by_hash = np.argsort(hashes, kind="stable")
    keep = _rank_in_runs(hashes[by_hash]) < wanted_counts[np.searchsorted(wanted,
                                                                          hashes[by_hash])]
    out = np.empty(chosen.size, dtype=np.int64)
    out[np.argsort(chosen, kind="stable")] = positions[by_hash[keep]]
    return out


def _rank_in_runs(sorted_values: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal values of a sorted array."""
    n = sorted_values.size
    start = np.ones(n, dtype=bool)
    start[1:] = sorted_values[1:] != sorted_values[:-1]
    run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - run_start


def sample_positions(hashes: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Positions of the ``k``-row sample (every row when ``k`` ≥ rows), in canonical order."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    chosen = merge([bottom_k(count_hashes(hashes), k, seed)], k)
    positions = first_copies(hashes, chosen)
    return arrange(chosen, positions, hashes[positions])


def partitioned_sample(parts, hashes_of, offsets, k: int, seed: int) -> np.ndarray:
    """:func:`sample_positions` of a frame held in partitions, without moving its rows.

    ``parts`` are the partitions (:class:`rai_nb.engine.Partitions`), ``hashes_of(part)`` a
    partition's row hashes and ``offsets`` each partition's first position. Hashes are counted
    per partition and sampled per hash bucket; each partition then finds its copies of the
    chosen hashes.
    """
    n_buckets = max(1, parts.n_partitions)
    samples = parts.map(_counted, hashes_of, n_buckets).regroup(n_buckets, bottom_k, k, seed)
    chosen = merge(samples.collect(), k)
    found = parts.map(_copies, hashes_of, chosen).collect()
    positions = np.concatenate([rows + start for (rows, _), start in zip(found, offsets)])
    return arrange(chosen, positions, np.concatenate([h for _, h in found]))


def _counted(part, hashes_of, n_buckets: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return count_hashes(hashes_of(part), n_buckets)


def _copies(part, hashes_of, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hashes = hashes_of(part)
    rows = first_copies(hashes, chosen)
    return rows, hashes[rows]


def canonical_order(hashes: np.ndarray, seed: int = 0) -> np.ndarray:
    """Every row's position, in canonical order: a permutation that follows the rows' contents."""
    return sample_positions(hashes, len(hashes), seed)
