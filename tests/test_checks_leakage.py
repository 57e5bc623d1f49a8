"""Kernels fed with statistics reduced over pieces (as Dask partitions are) equal the row path."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rai_nb.checks import leakage as kl
from rai_nb.checks import quality as kq


def _counted(keys: np.ndarray, n_pieces: int):
    """Per piece unique key rows with their counts, concatenated (what the partitions send)."""
    parts = [np.unique(piece, axis=0, return_counts=True) for piece in
             np.array_split(keys, n_pieces) if len(piece)]
    return np.concatenate([u for u, _ in parts]), np.concatenate([c for _, c in parts])


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 80), st.just(2)),
                  elements=st.integers(0, 3)), st.integers(1, 5))
def test_duplicates_and_conflicts_from_counted_pieces(rows, n_pieces):
    features, labels = rows[:, 0].astype(np.uint64), rows[:, 1]
    hashes, counts = _counted_hashes(rows, n_pieces)
    assert kq.duplicate_rows(hashes, counts=counts) == \
        kq.duplicate_rows(kq.row_hashes(rows.T))
    pairs, counts = _counted(np.stack([features.astype(np.int64), labels], axis=1), n_pieces)
    got = kq.conflicting_labels(pairs[:, 0].astype(np.uint64), pairs[:, 1], n_labels=4,
                                counts=counts)
    assert got == kq.conflicting_labels(features, labels, n_labels=4)


def _counted_hashes(rows, n_pieces):
    hashes, counts = _counted(kq.row_hashes(rows.T)[:, None].view(np.int64), n_pieces)
    return hashes[:, 0].view(np.uint64), counts


@settings(max_examples=100, deadline=None)
@given(st.data(), st.integers(2, 60))
def test_cross_fitted_auc_from_summed_tables(data, n):
    codes = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 4)))
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    half = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    tables = sum(kl.contingency(h * 5 + c, y, n_a=10, n_b=2) for h, c, y in
                 zip(*(np.array_split(v, 3) for v in (half, codes, labels))))
    expected = kl.cross_fitted_auc(codes, labels, half, n_levels=5)
    got = kl.cross_fitted_auc_from(tables.reshape(2, 5, 2))
    assert got == expected or (np.isnan(got) and np.isnan(expected))


def test_cross_fit_halves_follow_row_contents():
    """Each row's fold is a function of its hash and the seed: balanced over distinct rows, the
    same for a row wherever it sits (pieces, shuffles), shared by copies, new for a new seed."""
    hashes = kq.row_hashes(np.arange(20_000)[None, :])
    whole = kl.cross_fit_halves(hashes, 7)
    assert whole.dtype == np.int64 and set(np.unique(whole)) == {0, 1}
    assert abs(whole.mean() - 0.5) < 0.02
    pieces = np.concatenate([kl.cross_fit_halves(hashes[a:b], 7)
                             for a, b in ((0, 3), (3, 9000), (9000, 20_000))])
    np.testing.assert_array_equal(pieces, whole)
    order = np.random.default_rng(0).permutation(hashes.size)
    np.testing.assert_array_equal(kl.cross_fit_halves(hashes[order], 7), whole[order])
    copies = np.repeat(hashes[:100], 5)
    np.testing.assert_array_equal(kl.cross_fit_halves(copies, 7), np.repeat(whole[:100], 5))
    assert (kl.cross_fit_halves(hashes, 8) != whole).mean() > 0.4


def test_cross_fit_halves_on_every_namespace(xp):
    from rai_nb.backend import to_device, to_host

    hashes = kq.row_hashes(np.arange(500)[None, :])
    got = kl.cross_fit_halves(to_device(hashes, xp), 3, xp=xp)
    np.testing.assert_array_equal(to_host(got), kl.cross_fit_halves(hashes, 3))
