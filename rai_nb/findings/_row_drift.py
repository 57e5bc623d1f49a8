"""Row-level drift: how far each current row lies from the reference distribution.

Two scores per current row, combined into one:

- ``domain``: a domain classifier's out-of-fold probability that the row is a current row, not a
  reference row. Gradient-boosted trees (HistGradientBoosting, categorical columns native) tell
  the two tables apart; rows fall into :data:`FOLDS` folds by a seeded hash of their contents (so
  copies of a row share a fold), and each fold's rows are scored by a model fitted on rows of the
  other folds only — about :data:`DOMAIN_ROWS` of them, half from each table, weighted so both
  tables count equally (0.5 means "looks like either"). The same folds score the reference rows,
  which gives the classifier two-sample test's AUC (Lopez-Paz and Oquab 2017).
- ``distance``: the distance from the row to its ``k``-th nearest reference row (Sun et al. 2022)
  in the encoded space of :mod:`rai_nb.checks.row_drift` (z-scored numbers, one-hot levels, a
  missing indicator), exact, against the ``neighbour_rows`` reference rows of a seeded content
  sample — every reference row when there are no more. Comparing every current row with every
  reference row costs ``current × reference`` distance evaluations (10¹¹ for 1M × 100k, minutes
  on two cores), so above ``neighbour_rows`` it is the distance to a reference *sample*.

Each score becomes a conformal p-value against the reference (``domain_p``: the share of
reference rows the classifier finds at least as "current", out of fold too; ``distance_p``: the
share of reference rows at least as far from the other reference rows), and ``score`` is
``−log10`` of Fisher's combination of the two (Fisher 1932): a row unusual by either measure
ranks high, one unusual by both higher. The two measures are not independent, so the score
ranks rows; it is not a calibrated p-value. A row is explained by the columns that make up most
of its squared distance to its nearest reference row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backend import to_host
from ..checks import row_drift as kr
from ..errors import RaiError
from ..frame import _row_sample as rs
from ..frame import _sampling as sampling
from ..frame._row_sample import _row_hashes
from ..frame._tabular import category_codes, numeric_values
from ..frame._validation_context import finite_or_nan
from ..results import RowDrift

#: Hash folds of the domain classifier.
FOLDS = 3
#: Rows (both tables together) each fold's domain classifier is fitted on, at most.
DOMAIN_ROWS = 40_000
#: Current rows embedded and compared with the neighbours at once.
CHUNK = 65_536
#: Reference rows whose distances to the others calibrate the reference's own spread.
CALIBRATION_ROWS = 10_000
#: Columns named in each listed row's explanation.
REASONS = 3


@dataclass(frozen=True)
class RowScorer:
    """Distances to the ``k``-th nearest of some reference rows, fitted once on the reference.

    Attributes
    ----------
    space : rai_nb.checks.row_drift.Space
    points : numpy.ndarray
        The neighbour rows in the space, ``(rows, width)``.
    numeric, codes : numpy.ndarray
        The neighbour rows' values and codes (to explain a distance).
    numeric_names, categorical_names : tuple
    levels : tuple of tuple
        Each categorical column's reference levels (codes of new data are made against them).
    k : int
    """

    space: kr.Space
    points: np.ndarray
    numeric: np.ndarray
    codes: np.ndarray
    numeric_names: tuple
    categorical_names: tuple
    levels: tuple
    k: int

    @classmethod
    def fit(cls, numeric, codes, *, names, levels, neighbours: np.ndarray, k: int) -> RowScorer:
        """Fit on reference ``numeric`` (±inf as missing) and ``codes`` (``(columns, rows)``);
        ``neighbours``: the positions of the reference rows compared with."""
        if neighbours.size < 2:
            raise RaiError("reference needs at least 2 rows to score rows against")
        space = kr.fit_space(numeric, codes, [len(v) for v in levels])
        kept_numeric, kept_codes = numeric[:, neighbours], codes[:, neighbours]
        points, _ = kr.embed(space, kept_numeric, kept_codes)
        return cls(space, points, kept_numeric, kept_codes, tuple(names[0]), tuple(names[1]),
                   tuple(levels), k)

    def nearest(self, numeric, codes, *, skip=None):
        """Squared distances to the ``k`` nearest neighbour rows and their positions."""
        found = [kr.nearest(*kr.embed(self.space, numeric[:, s], codes[:, s]), self.points,
                            self.k, skip=None if skip is None else skip[s])
                 for s in _chunks(numeric.shape[1])]
        return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])

    def distances(self, numeric, codes, *, skip=None) -> np.ndarray:
        """Each row's distance to its ``k``-th nearest neighbour row."""
        return np.sqrt(self.nearest(numeric, codes, skip=skip)[0][:, -1])

    def encode(self, frame: pd.DataFrame, argument: str = "X") -> tuple[np.ndarray, np.ndarray]:
        """Values (±inf as missing) and reference codes of ``frame``'s columns, by name."""
        missing = [n for n in self.numeric_names + self.categorical_names if n not in frame]
        if missing:
            raise RaiError(f"{argument} lacks column {missing[0]!r} of the reference")
        numeric = np.empty((len(self.numeric_names), len(frame)))
        for row, name in zip(numeric, self.numeric_names):
            try:
                row[:] = numeric_values(frame[name])
            except (TypeError, ValueError):
                raise RaiError(f"{argument}: column {name!r} is numeric in the reference but "
                               f"holds {frame[name].dtype} values") from None
        codes = np.stack([category_codes(frame[n], v)[0] for n, v in
                          zip(self.categorical_names, self.levels)]) if self.levels else \
            np.empty((0, len(frame)), dtype=np.int64)
        return finite_or_nan(numeric), codes

    def reasons(self, numeric, codes, levels=None) -> list[str]:
        """Per row: the columns making up most of its squared distance to its nearest neighbour
        row, each with its value, the neighbour's, and its share of the distance. ``levels``:
        the vocabularies of ``codes`` (default the reference's; longer ones name unseen levels)."""
        _, chosen = self.nearest(numeric, codes)
        near = chosen[:, 0]
        parts = kr.contributions(self.space, numeric, codes, self.numeric[:, near],
                                 self.codes[:, near])
        names = self.numeric_names + self.categorical_names
        values = [*numeric, *_labels(codes, self.levels if levels is None else levels)]
        others = [*self.numeric[:, near], *_labels(self.codes[:, near], self.levels)]
        total = parts.sum(axis=1, keepdims=True)
        share = np.divide(parts, total, out=np.zeros_like(parts), where=total > 0)
        top = np.argsort(-share, axis=1, kind="stable")[:, :REASONS]
        return ["; ".join(f"{names[j]}: {_shown(values[j][i])} vs {_shown(others[j][i])} "
                          f"({share[i, j]:.0%})" for j in top[i] if share[i, j] > 0) or
                "equal to a reference row" for i in range(parts.shape[0])]


def _chunks(n: int) -> list[slice]:
    return [slice(s, min(s + CHUNK, n)) for s in range(0, max(n, 1), CHUNK)]


def _labels(codes, levels) -> list[list]:
    """Codes as their levels (None where missing or beyond ``levels``)."""
    return [[v[c] if 0 <= c < len(v) else None for c in row] for row, v in zip(codes, levels)]


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else repr(value)


# --- drift(rows=True) ----------------------------------------------------------------------------

def row_drift(ctx, *, neighbours: int, neighbour_rows: int, top_rows: int) -> RowDrift:
    """Score every current row of a drift context (``_Context``) against its reference."""
    if not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
        raise RaiError(f"neighbours must be a positive integer, got {neighbours!r}")
    if not isinstance(neighbour_rows, (int, np.integer)) or neighbour_rows < 2:
        raise RaiError(f"neighbour_rows must be an integer of at least 2, got {neighbour_rows!r}")
    cur, ref = _features(ctx, ctx.cur), _features(ctx, ctx.ref)
    if not cur[0].shape[0] + cur[1].shape[0]:
        raise RaiError("rows=True needs at least one feature column shared by both tables")
    names = _names(ctx)
    levels = [ctx.cur.levels[ctx.cur.categorical_names.index(n)][:ctx.changes.n_reference_levels[n]]
              for n in names[1]]
    ref_hashes = hashes_by_name(ctx.ref, ctx.roles, ctx.xp)
    sample = neighbour_sample(ref_hashes, neighbour_rows, ctx.rng)
    scorer = RowScorer.fit(*ref, names=names, levels=levels, neighbours=sample,
                           k=min(neighbours, sample.size - 1))
    distance = scorer.distances(*cur)
    own = calibration_distances(scorer, *ref, ref_hashes, sample, ctx.rng)
    (domain, ref_domain), auc = _domain(ctx, cur, ref, ref_hashes)
    scores = pd.DataFrame({"domain": domain, "domain_p": kr.tail_shares(ref_domain, domain),
                           "distance": distance, "distance_p": kr.tail_shares(own, distance)},
                          index=ctx.index)
    scores.insert(0, "score", kr.fisher_score(scores["domain_p"].to_numpy(),
                                              scores["distance_p"].to_numpy()))
    top = np.argsort(-scores["score"].to_numpy(), kind="stable")[:top_rows]
    seen = [ctx.cur.levels[j] for j in ctx.features(ctx.cur, "categorical")]
    table = scores.iloc[top].assign(reasons=scorer.reasons(cur[0][:, top], cur[1][:, top], seen))
    return RowDrift(scores=scores, top=table, domain_auc=auc,
                    reference_distance=np.quantile(own, np.linspace(0, 1, 101)),
                    neighbours=scorer.k, neighbour_rows=int(sample.size),
                    n_reference=ctx.ref.n_rows)


def _names(ctx) -> tuple[list, list]:
    return ([ctx.cur.numeric_names[j] for j in ctx.features(ctx.cur, "numeric")],
            [ctx.cur.categorical_names[j] for j in ctx.features(ctx.cur, "categorical")])


def _features(ctx, table) -> tuple[np.ndarray, np.ndarray]:
    return finite_or_nan(table.numeric[ctx.features(table, "numeric")]), \
        table.codes[ctx.features(table, "categorical")]


def neighbour_sample(hashes: np.ndarray, k: int, random_state) -> np.ndarray:
    """Sorted positions of the ``k``-row content sample of reference rows (their ``hashes``)."""
    seed = sampling.substream(sampling.seed_of(random_state), rs.ROW_NEIGHBOURS)
    return np.sort(sampling.sample_positions(hashes, k, seed))


def calibration_distances(scorer: RowScorer, numeric, codes, hashes, neighbours,
                          random_state) -> np.ndarray:
    """Distances of a content sample of :data:`CALIBRATION_ROWS` reference rows (all reference
    values ``numeric``, ``codes`` and ``hashes``) to the scorer's ``neighbours`` (sorted
    reference positions), a row never its own neighbour: what an in-distribution row scores."""
    seed = sampling.substream(sampling.seed_of(random_state), rs.ROW_CALIBRATION)
    rows = np.sort(sampling.sample_positions(hashes, CALIBRATION_ROWS, seed))
    at = np.clip(np.searchsorted(neighbours, rows), 0, neighbours.size - 1)
    return scorer.distances(numeric[:, rows], codes[:, rows],
                            skip=np.where(neighbours[at] == rows, at, -1))


def _domain(ctx, cur, ref, ref_hashes) -> tuple[list, float]:
    """Out-of-fold probabilities of "current" of the current and of the reference rows, and
    their AUC."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: F401  (loads OpenMP
    from threadpoolctl import threadpool_limits  # before threadpool_limits looks for it)

    from ..checks.leakage import numeric_auc

    seed = rs.step_seed(ctx, rs.ROW_DOMAIN)
    hashes = [hashes_by_name(ctx.cur, ctx.roles, ctx.xp), ref_hashes]
    folds = [kr.hash_folds(h, seed, FOLDS) for h in hashes]
    keys = [kr.hash_keys(h, sampling.substream(seed, 1)) for h in hashes]
    # Columns in the order of their names and rows in the order of their keys, so the trees (whose
    # ties follow the order of features and rows) do not depend on either order of the frames.
    names = [str(n) for n in _names(ctx)[0] + _names(ctx)[1]]
    columns = np.argsort(names, kind="stable")
    matrices = [_matrix(*cur)[:, columns], _matrix(*ref)[:, columns]]
    mask = np.array([False] * cur[0].shape[0] + [len(ctx.cur.levels[j]) < 255 for j in
                                                 ctx.features(ctx.cur, "categorical")],
                    dtype=bool)[columns]
    # A column without a value in either table carries nothing (and the trees cannot bin it).
    informative = ~(np.isnan(matrices[0]).all(axis=0) & np.isnan(matrices[1]).all(axis=0))
    if not informative.any():
        return [np.full(m.shape[0], 0.5) for m in matrices], 0.5
    matrices, mask = [m[:, informative] for m in matrices], mask[informative]
    scored = [np.empty(m.shape[0]) for m in matrices]
    # A few thousand rows need no thread team; OpenMP spin-waiting on a busy machine costs 10x.
    small = sum(m.shape[0] for m in matrices) < 50_000
    with threadpool_limits(1 if small else None, user_api="openmp"):
        for fold in range(FOLDS):
            _fold(fold, matrices, folds, keys, mask, seed, scored)
    labels = np.concatenate([np.ones(scored[0].size), np.zeros(scored[1].size)])
    return scored, float(numeric_auc(np.concatenate(scored), labels, xp=np))


def hashes_by_name(table, roles: dict, xp=np) -> np.ndarray:
    """Each row's content hash over its feature columns (not those in ``roles``) in the order of
    their names, so samples and folds do not follow the order of the frame's columns."""
    order = sorted(range(len(table.names)), key=lambda i: str(table.names[i]))
    features, _ = _row_hashes(lambda positions: table.row_keys([order[p] for p in positions]),
                              [table.names[i] for i in order], roles, xp)
    return to_host(features)


def _fold(fold: int, matrices, folds, keys, mask, seed: int, scored) -> None:
    """Fit on about :data:`DOMAIN_ROWS` rows outside ``fold``; score the rows inside it."""
    train = [(f != fold) for f in folds]
    shares = [DOMAIN_ROWS / 2 / max(int(t.sum()), 1) for t in train]
    train = [t & kr.below_share(k, s) for t, k, s in zip(train, keys, shares)]
    train = [np.flatnonzero(t)[np.argsort(k[t], kind="stable")] for t, k in zip(train, keys)]
    model = _fit_domain(matrices, train, mask, seed)
    for out, m, f in zip(scored, matrices, folds):
        if (f == fold).any():
            out[f == fold] = model.predict_proba(m[f == fold])[:, 1]


def _matrix(numeric, codes) -> np.ndarray:
    """Rows × columns for the trees: values, then codes (missing and unseen as NaN)."""
    codes = codes.astype(np.float64)
    codes[codes < 0] = np.nan
    return np.ascontiguousarray(np.concatenate([numeric, codes]).T)


def _fit_domain(matrices, train, mask, seed: int):
    """Trees telling current (``train[0]``: row positions) from reference rows (``train[1]``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.concatenate([m[t] for m, t in zip(matrices, train)])
    counts = [t.size for t in train]
    if min(counts) == 0:
        raise RaiError("rows=True needs rows in both tables outside each fold; "
                       "give more rows")
    y = np.concatenate([np.ones(counts[0]), np.zeros(counts[1])])
    weight = np.concatenate([np.full(counts[0], 0.5 / counts[0]),
                             np.full(counts[1], 0.5 / counts[1])]) * len(y)
    # Small, regularised trees: out-of-fold scores of in-distribution rows stay near 0.5, so a
    # few rows of an unseen combination of levels stand out (measured on the planted test case).
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, l2_regularization=1.0,
                                           categorical_features=mask, early_stopping=False,
                                           random_state=seed % 2**32)
    return model.fit(x, y, sample_weight=weight)
