"""Numeric drift statistics of partitioned frames: reference-decile histograms and exact KS / W1."""

from __future__ import annotations

from functools import cached_property

from ..checks import drift as kd
from ..checks import ecdf
from . import _partition_parts as parts


class DriftPasses:
    """:class:`rai_nb.checks.drift.NumericDrift` of every numeric column of a
    ``PartitionedContext``."""

    def __init__(self, ctx):
        self.ctx = ctx

    def numeric_drift(self, j: int):
        return self._all[j]

    def _both(self, function, *args):
        """One pass over reference and current partitions; per frame, the partitions' results."""
        ctx = self.ctx
        return ctx._parts(ctx.ref_table, function, *args).collect_with(
            ctx._parts(ctx.cur_table, function, *args))

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
        ctx = self.ctx

        def finish(stretches):
            full = [[] for _ in range(k)]
            for j, s in zip(columns, stretches):
                full[j] = s
            ref = ctx._parts(ctx.ref_table, parts.stretch_pieces, full).persist()
            cur = ctx._parts(ctx.cur_table, parts.stretch_pieces, full).persist()
            # Stretches are finished a batch at a time, each batch holding at most FINISH_VALUES
            # values, so a column whose ECDFs cross everywhere never sits anywhere whole.
            runs = [(j, lo, hi) for j, s in zip(columns, stretches)
                    for lo, hi in _chunks([st.count for st in s], FINISH_VALUES)]
            counts = [sum(st.count for st in full[j][lo:hi]) for j, lo, hi in runs]
            found = {}
            for first, last in _chunks(counts, FINISH_VALUES):
                batch = runs[first:last]
                ref_pieces, cur_pieces = ref.map(parts.stretch_runs, batch).collect_with(
                    cur.map(parts.stretch_runs, batch))
                for i, (j, lo, hi) in enumerate(batch):
                    found[j, lo] = parts.finish_column([p[i] for p in ref_pieces],
                                                       [p[i] for p in cur_pieces],
                                                       full[j][lo:hi], sizes[columns.index(j)])
            return [[r for (jj, lo, _) in runs if jj == j for r in found[jj, lo]]
                    for j in columns]
        return finish


#: Most values (both samples) one finishing step gathers.
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
