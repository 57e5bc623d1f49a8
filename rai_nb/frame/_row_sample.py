"""Row samples of a validation's tables that follow a seed and the rows' contents only.

:mod:`rai_nb.frame._sampling` defines the sample; this module runs it on a ``_Context`` (one
table in memory) or a ``_DaskContext`` (hashes counted per partition, sampled per hash bucket,
the chosen rows' positions found per partition), so both pick the same rows.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..backend import to_device, to_host
from ..checks import quality as kq
from . import _sampling as sampling

#: Streams of the sampled steps, so each step draws independently of the others.
(MMD_REFERENCE, MMD_CURRENT, MMD_PERMUTATIONS, LABEL_ERRORS, AUC_ROWS, CROSS_FIT, ROW_NEIGHBOURS,
 ROW_CALIBRATION, ROW_DOMAIN) = range(9)


def step_seed(ctx, stream: int) -> int:
    """The seed of one sampled step: a function of ``random_state`` alone, whatever ran before."""
    return sampling.substream(sampling.seed_of(ctx.rng), stream)


def sample_rows(ctx, table, k: int, stream: int) -> np.ndarray:
    """Positions of the ``k``-row sample of ``table`` (``ctx.cur`` or ``ctx.ref``; every row
    when it has at most ``k``), in canonical order."""
    seed = step_seed(ctx, stream)
    if hasattr(ctx, "cur_table"):
        return _partitioned_sample(ctx, ctx.cur_table if table is ctx.cur else ctx.ref_table, k, seed)
    # The current table's hashes are the duplicates check's, computed once.
    hashes = ctx.row_hash if table is ctx.cur else _hashes(table, ctx.roles, ctx.xp)
    return sampling.sample_positions(to_host(hashes), k, seed)


def in_order(fetch, rows: np.ndarray) -> tuple:
    """``fetch(sorted rows)`` (arrays with rows on the last axis) in the order of ``rows``."""
    order = np.argsort(rows, kind="stable")
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    found = fetch(rows[order])
    return tuple(a[..., back] for a in found) if isinstance(found, tuple) else found[..., back]


def _hashes(table, roles, xp=np):
    """Each row's hash, as ``_Context.row_hash`` (which the pandas current table reuses)."""
    return _row_hashes(table.row_keys, table.names, roles, xp)[1]  # a few columns at a time


def _table_hashes(encoder, roles, part) -> np.ndarray:
    return _hashes(encoder.table(part), roles)


def _partitioned_sample(ctx, table, k: int, seed: int) -> np.ndarray:
    return sampling.partitioned_sample(table.frame.parts,
                                       partial(_table_hashes, table.encoder, ctx.roles),
                                       table.offsets, k, seed)


#: Columns whose cell keys (or missing masks) are built at once: bounds what is held to this
#: many row-length arrays, whatever the width of the table.
COLUMN_CHUNK = 4


def _row_hashes(keys, names, roles, xp):
    """Hashes of each row's features (target and prediction left out) and of the whole row.

    ``keys`` is the ``(columns, rows)`` key matrix, or a function of column positions that
    returns their keys (``EncodedTable.row_keys``), so a large table is hashed a few columns
    at a time: hashing continues from the state of the columns before.
    """
    of = keys if callable(keys) else (lambda positions: keys[positions])

    def chained(positions, state):
        for start in range(0, max(len(positions), 1), COLUMN_CHUNK):
            chunk = to_device(of(positions[start:start + COLUMN_CHUNK]), xp)
            state = kq.row_hashes(chunk, state=state, xp=xp)
        return state

    features = chained([i for i, n in enumerate(names) if n not in roles], None)
    return features, chained([i for i, n in enumerate(names) if n in roles], features)
