"""Numeric drift statistics of Dask frames: reference-decile histograms and exact KS / W1."""

from __future__ import annotations

from functools import cached_property

from ..checks import drift as kd
from ..checks import ecdf
from . import _dask_validate_parts as parts


class DriftPasses:
    """:class:`rai_nb.checks.drift.NumericDrift` of every numeric column of a ``_DaskContext``."""

    def __init__(self, ctx):
        self.ctx = ctx

    def numeric_drift(self, j: int):
        return self._all[j]

    def _both(self, function, *args):
        """One pass over reference and current partitions; per frame, the partitions' results."""
        from ._dask_validate import _compute

        ctx = self.ctx
        return _compute([ctx._parts(ctx.ref_table, function, *args),
                         ctx._parts(ctx.cur_table, function, *args)])

    @cached_property
    def _all(self) -> dict:
        ctx = self.ctx
        k = len(ctx.cur.numeric_names)
        columns = [j for j in range(k) if ctx.ref_n_values[j] and ctx.cur_n_values[j]]
        if not columns:
            return {}
        edges = [ctx.bin_edges("ref", j) if j in columns else None for j in range(k)]
        ref_hist, cur_hist = (parts.add_binned(p)["hist"] for p in self._both(parts.binned, {},
                                                                               edges))
        ref, cur = ctx._summaries
        ranges = [(min(ref["min"][j], cur["min"][j]), max(ref["max"][j], cur["max"][j]))
                  for j in columns]
        sizes = [(int(ctx.ref_n_values[j]), int(ctx.cur_n_values[j])) for j in columns]
        exact = ecdf.ks_and_wasserstein(self._summarize(columns, k), self._finish(columns, k,
                                                                                   sizes),
                                        ranges, sizes)
        _, spread = ctx.ref_moments(columns)
        return {j: kd.numeric_drift_from(d, w, std, ref_hist[j], cur_hist[j])
                for j, (d, w), std in zip(columns, exact, spread)}

    def _summarize(self, columns, k):
        def summarize(edges):
            full = [None] * k
            for j, e in zip(columns, edges):
                full[j] = e
            ref, cur = (parts.add_ecdf_summaries(p)
                        for p in self._both(parts.ecdf_summaries, full))
            return [(ref[j], cur[j]) if full[j] is not None else None for j in columns]
        return summarize

    def _finish(self, columns, k, sizes):
        from ._dask_validate import _compute, _delayed

        ctx = self.ctx

        def finish(stretches):
            full = [[] for _ in range(k)]
            for j, s in zip(columns, stretches):
                full[j] = s
            ref = ctx._parts(ctx.ref_table, parts.stretch_pieces, full)
            cur = ctx._parts(ctx.cur_table, parts.stretch_pieces, full)
            # Each task finishes a run of stretches holding at most FINISH_VALUES values, so a
            # column whose ECDFs cross everywhere still never sits in one worker whole.
            graph = [[_delayed(parts.finish_column)([p[j][lo:hi] for p in ref],
                                                    [p[j][lo:hi] for p in cur], s[lo:hi], size)
                      for lo, hi in _chunks([st.count for st in s], FINISH_VALUES)]
                     for j, s, size in zip(columns, stretches, sizes)]
            return [[r for chunk in column for r in chunk] for column in _compute(graph)]
        return finish


#: Most values (both samples) one finishing task gathers.
FINISH_VALUES = 4 * ecdf.GATHER_LIMIT


def _chunks(counts: list[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive index ranges of ``counts`` whose sums stay within ``limit`` (one item at least)."""
    out, start, held = [], 0, 0
    for i, count in enumerate(counts):
        if i > start and held + count > limit:
            out.append((start, i))
            start, held = i, 0
        held += count
    if counts:
        out.append((start, len(counts)))
    return out
