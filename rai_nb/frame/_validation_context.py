"""The statistics every data check reads, from an in-memory frame (``_Context``), and the
options and roles it is built from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..backend import bincount, choose_namespace, to_device, to_host
from ..checks import drift as kd
from ..checks import leakage as kl
from ..checks import quality as kq
from ..errors import BAD_OPTION, NAN_VALUES, RaiError
from . import _row_sample as rs
from ._bias import encode_weights
from ._bins import encode_cut, facet_specs, resolve_cut
from ._columns import _is_column_key, column_values, combine_columns
from ._row_sample import COLUMN_CHUNK, _row_hashes
from ._tabular import category_codes, encode_tables


class _Target:
    """The target as class codes (quantile bins when it has too many values to be classes).

    ``codes`` is None where the rows live elsewhere (partitions encode their own).
    """

    MAX_CLASSES = 20

    def __init__(self, name, levels: tuple, classes: bool, positive_label, codes=None):
        self.name, self.levels, self.classes, self.codes = name, levels, classes, codes
        self.positive = positive_label if positive_label is not None else levels[-1]
        if self.classes and self.positive not in levels:
            raise RaiError(f"positive_label {positive_label!r} does not occur in target "
                           f"{self.name!r}; values are {list(levels)[:10]}")

    @classmethod
    def of(cls, data: pd.DataFrame, spec, positive_label) -> _Target:
        name, values = column_values(data, spec, argument="target")
        if values.isna().any():
            raise RaiError(NAN_VALUES.format(argument="target", column=name,
                                             count=int(values.isna().sum())))
        codes, levels = category_codes(values, ())
        classes = len(levels) <= cls.MAX_CLASSES
        if not classes:
            numeric = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            edges = np.unique(np.quantile(numeric, np.arange(1, 10) / 10))
            codes, levels = np.searchsorted(edges, numeric), tuple(range(edges.size + 1))
        return cls(name, levels, classes, positive_label, codes)

    @property
    def binary(self) -> bool:
        return self.classes and len(self.levels) == 2

    def positive_mask(self) -> np.ndarray:
        return self.codes == self.levels.index(self.positive)


class _Base:
    """What every context shares: the roles of columns, how sensitive columns became groups
    (``cuts``) and were weighted (``weight``: the weight column's name or None), and the seeded
    content samples of rows."""

    def grouping_note(self) -> str:
        """How the per-group counts were made ("" for plain levels, unweighted)."""
        notes = [cut.describe(facet.name) for facet, cut in zip(self.sensitive, self.cuts)]
        if self.weight is not None:
            notes.append(f"counts weighted by {self.weight!r}")
        return "; ".join(note for note in notes if note)

    def features(self, table, kind: str) -> list[int]:
        """Positions of the non-target, non-prediction columns of one kind in ``table``."""
        names = table.numeric_names if kind == "numeric" else table.categorical_names
        return [i for i, n in enumerate(names) if n not in self.roles]

    def auc_sample(self) -> np.ndarray | None:
        """Sorted positions of the ``auc_rows``-row content sample of the current rows that the
        numeric AUCs read (None: every row)."""
        limit = self.options["auc_rows"]
        if self.cur.n_rows <= limit:
            return None
        return np.sort(rs.sample_rows(self, self.cur, limit, rs.AUC_ROWS))

    def fold_seed(self) -> int:
        """Seed of the cross-fitting folds: a function of ``random_state`` alone."""
        return rs.step_seed(self, rs.CROSS_FIT)


@dataclass(frozen=True)
class _Scan:
    """One unsorted pass over a table's numeric columns: non-missing values, −inf and +inf
    counts (shape ``(2, columns)``), smallest and largest value (NaN when none)."""

    n_values: np.ndarray
    infinite: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _scan(table, xp) -> _Scan:
    rows = []
    for j in range(len(table.numeric_names)):
        x = to_device(table.numeric[j], xp)
        present = ~xp.isnan(x)
        n = _count(present, xp)
        ends = [float(to_host(xp.min(xp.where(present, x, xp.inf)))),
                float(to_host(xp.max(xp.where(present, x, -xp.inf))))] if n else [np.nan] * 2
        rows.append((n, _count(x == -xp.inf, xp), _count(x == xp.inf, xp), *ends))
    n, low_inf, high_inf, low, high = (np.array(c) for c in zip(*rows)) if rows else \
        (np.zeros(0),) * 5
    return _Scan(n.astype(np.int64), np.stack([low_inf, high_inf]).astype(np.int64), low, high)


def _count(mask, xp) -> int:
    return int(to_host(xp.sum(xp.astype(mask, xp.int64))))


@dataclass(frozen=True)
class _Sorted:
    """What the checks read from one numeric column once sorted (see ``_Context._sorted``)."""

    profile: kq.ValueProfile
    outliers: kq.OutlierCounts | None  # None below 2 values
    edges: np.ndarray | None  # decile bin edges of the current values (None when none)
    ref_moments: tuple[float, float]  # mean and std of the finite reference values
    drift: kd.NumericDrift | None  # None without a reference or when a sample is empty


class _Context(_Base):
    """Encoded inputs of one validation, with the expensive intermediate arrays cached.

    The checks read data only through the statistics below (counts, profiles, tables, samples
    of rows); :class:`._partition_context.PartitionedContext` serves the same ones from partitions.
    """

    def __init__(self, data, reference, *, columns=None, roles=None, target=None, sensitive=(),
                 cuts=(), weights=None, weight=None, thresholds, options, random_state):
        self.cur, self.ref, self.changes = encode_tables(data, reference, columns=columns,
                                                          argument="current" if columns else "data")
        self.roles = roles or {}
        self.target = target
        self.sensitive, self.cuts = list(sensitive), list(cuts)
        self.weights, self.weight = weights, weight  # host float64 row weights and their name
        self.thresholds = thresholds
        self.options = options
        self.rng = np.random.default_rng(random_state)
        self.xp = choose_namespace(max(self.cur.n_rows, self.ref.n_rows if self.ref else 0))
        self.cache: dict = {}
        self.index = data.index

    def device(self, array):
        return to_device(array, self.xp)

    # --- statistics the checks read ----------------------------------------------------------

    @cached_property
    def cur_counts(self) -> list[np.ndarray]:
        """Per categorical column: counts of missing (first) and of every vocabulary level."""
        return _level_counts(self.cur, self)

    @cached_property
    def ref_counts(self) -> list[np.ndarray]:
        return _level_counts(self.ref, self)

    @property
    def cur_n_values(self) -> np.ndarray:
        """Non-missing values of each numeric column."""
        return self._scans["cur"].n_values

    @property
    def ref_n_values(self) -> np.ndarray:
        return self._scans["ref"].n_values

    def ref_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest reference value of each numeric column (NaN when none)."""
        return self._scans["ref"].low, self._scans["ref"].high

    def count_outside(self, lows, highs) -> np.ndarray:
        """Current values strictly outside ``[lows[j], highs[j]]`` per numeric column."""
        xp = self.xp
        return np.array([_count((x < lo) | (x > hi), xp) for x, lo, hi in
                         zip(map(self.device, self.cur.numeric), lows, highs)], dtype=np.int64)

    def numeric_profiles(self) -> list:
        return [s.profile for s in self._sorted]

    def outlier_counts(self, j: int):
        return self._sorted[j].outliers

    def group_counts(self, codes: np.ndarray, n_groups: int, mask=None) -> np.ndarray:
        """Rows (int64; with weights their summed weights, float64) per group of host ``codes``,
        of the rows where ``mask`` holds (default every row)."""
        weights = self.weights if mask is None else \
            np.where(mask, 1.0 if self.weights is None else self.weights, 0.0)
        return np.bincount(codes, weights=weights, minlength=n_groups)

    def missing_by_group(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Missing cells per group of sensitive column ``i`` and data column, and group sizes
        (with weights, summed weights).

        The missing masks are built :data:`COLUMN_CHUNK` columns at a time.
        """
        facet, xp = self.sensitive[i], self.xp
        codes, k = self.device(facet.codes), len(self.cur.numeric_names)
        weights = None if self.weights is None else self.device(self.weights)

        def missing(j):
            return xp.isnan(self.device(self.cur.numeric[j])) if j < k else \
                self.device(self.cur.codes[j - k]) < 0

        counts = [np.zeros((facet.n_levels, 0), dtype=np.int64 if weights is None else np.float64)]
        for start in range(0, len(self.cur.names), COLUMN_CHUNK):
            chunk = xp.stack([missing(j) for j in range(start, min(start + COLUMN_CHUNK,
                                                                   len(self.cur.names)))])
            counts.append(kq.missing_by_group(chunk, codes, n_groups=facet.n_levels,
                                              weights=weights, xp=xp))
        return np.concatenate(counts, axis=1), self.group_counts(facet.codes, facet.n_levels)

    def duplicate_stats(self) -> tuple[int, int]:
        return kq.duplicate_rows(self.row_hash, xp=self.xp)

    def conflict_stats(self) -> tuple[int, int]:
        return kq.conflicting_labels(self.feature_hash, self.device(self.target.codes),
                                     n_labels=len(self.target.levels), xp=self.xp)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.target.codes, minlength=len(self.target.levels))

    def facet_positives(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and positive-label rows per group of sensitive column ``i`` (with weights,
        summed weights)."""
        facet = self.sensitive[i]
        return (self.group_counts(facet.codes, facet.n_levels),
                self.group_counts(facet.codes, facet.n_levels, self.target.positive_mask()))

    def representation_counts(self) -> list[tuple]:
        """``(name, levels, counts)`` of each sensitive column and of their intersection (with
        weights, summed weights)."""
        columns = [*self.sensitive] + ([self.groups] if len(self.sensitive) > 1 else [])
        return [(c.name, c.levels, self.group_counts(c.codes, c.n_levels)) for c in columns]

    def labels(self, key):
        """Codes of the target (``key`` "target") or of sensitive column ``key``."""
        return self.target.codes if key == "target" else self.sensitive[key].codes

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Numeric values, category codes and target codes of the current rows ``rows``.

        Infinities come back as missing (NaN): these rows feed models (label errors), which
        cannot fit them.
        """
        return finite_or_nan(self.cur.numeric[:, rows]), self.cur.codes[:, rows], \
            self.target.codes[rows]

    def row_labels(self, rows: np.ndarray) -> np.ndarray:
        """The index labels of the current rows at sorted positions ``rows``."""
        return np.asarray(self.index[rows])

    def numeric_rows(self, table, positions: list[int], rows: np.ndarray) -> np.ndarray:
        """Values of numeric columns ``positions`` at ``rows`` of ``table`` (cur or ref), ±inf
        as missing (these rows feed the MMD test, which standardises them)."""
        return finite_or_nan(table.numeric[np.ix_(positions, rows)])

    def ref_moments(self, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the finite values of reference numeric columns (0 and 1
        when there are none)."""
        moments = np.array([self._sorted[j].ref_moments for j in positions]).reshape(-1, 2)
        return moments[:, 0], moments[:, 1]

    def infinite_counts(self, which: str) -> np.ndarray:
        """−inf and +inf values per numeric column of the current (``"cur"``) or reference
        (``"ref"``) table, shape ``(2, columns)``."""
        return self._scans[which].infinite

    def numeric_drift(self, j: int):
        return self._sorted[j].drift

    def association_tables(self, key, n_labels: int, binary: bool, exclude) -> list[tuple]:
        """``(name, contingency table with the labels, AUC or NaN)`` of every feature."""
        xp = self.xp
        y = self.device(self.labels(key))
        rows_sample = self.auc_sample() if binary else None
        half = kl.cross_fit_halves(self.row_hash, self.fold_seed(), xp=xp)
        rows = []
        for j in self.features(self.cur, "numeric"):
            name = self.cur.numeric_names[j]
            if name in exclude or self.cur_n_values[j] == 0:
                continue
            values = self.device(self.cur.numeric[j])
            codes, n_codes = self.bin_codes(j)
            table = kl.contingency(codes, y, n_a=n_codes, n_b=n_labels, xp=xp)
            auc = np.nan
            if binary:
                sub = values if rows_sample is None else xp.take(values, self.device(rows_sample))
                suby = y if rows_sample is None else xp.take(y, self.device(rows_sample))
                auc = kl.numeric_auc(sub, suby, xp=xp)
            rows.append((name, table, auc))
        for j in self.features(self.cur, "categorical"):
            name = self.cur.categorical_names[j]
            if name in exclude:
                continue
            codes = self.device(self.cur.codes[j] + 1)
            n_levels = len(self.cur.levels[j]) + 1
            table = kl.contingency(codes, y, n_a=n_levels, n_b=n_labels, xp=xp)
            auc = kl.cross_fitted_auc(codes, y, half, n_levels=n_levels, xp=xp) if binary \
                else np.nan
            rows.append((name, table, auc))
        return rows

    # --- cached arrays behind them -----------------------------------------------------------

    @cached_property
    def groups(self):
        return combine_columns(self.sensitive) if self.sensitive else None

    @cached_property
    def _scans(self) -> dict:
        scans = {"cur": _scan(self.cur, self.xp)}
        return scans if self.ref is None else {**scans, "ref": _scan(self.ref, self.xp)}

    @cached_property
    def _sorted(self) -> list[_Sorted]:
        """Every statistic that needs a numeric column sorted, one column at a time.

        Only one column of each table is held sorted at once (never the whole table: at 10M rows
        × 30 columns that alone is 2.4 GB), and each is sorted once for all of them.
        """
        return [self._sorted_column(j) for j in range(len(self.cur.numeric_names))]

    def _sorted_column(self, j: int) -> _Sorted:
        xp, n_bins = self.xp, self.options["n_bins"]
        cur = kq.sorted_columns(self.device(self.cur.numeric[j:j + 1]), xp=xp)[0]
        n = cur.shape[0]
        found = dict(profile=kq.value_profile(cur, xp=xp),
                     outliers=kq.outliers(cur, xp=xp) if n >= 2 else None,
                     edges=kd.bin_edges(cur, n_bins, xp=xp) if n else None,
                     ref_moments=(0.0, 1.0), drift=None)
        if self.ref is not None:
            ref = kq.sorted_columns(self.device(self.ref.numeric[j:j + 1]), xp=xp)[0]
            finite = kd.infinite_ends(ref, xp)[0]
            if finite.shape[0]:
                found["ref_moments"] = (float(to_host(xp.mean(finite))),
                                        float(to_host(xp.std(finite))))
            if n and ref.shape[0]:
                found["drift"] = kd.numeric_drift(ref, cur, n_bins=n_bins, xp=xp)
        return _Sorted(**found)

    @cached_property
    def _hashes(self):
        return _row_hashes(self.cur.row_keys, self.cur.names, self.roles, self.xp)

    @property
    def feature_hash(self):
        """Hash of each row's feature values (target and prediction left out)."""
        return self._hashes[0]

    @property
    def row_hash(self):
        """Hash of each whole row."""
        return self._hashes[1]

    def bin_codes(self, j: int):
        """Decile-bin codes of numeric column ``j`` (missing: own code), and the number of codes.

        Kept as one byte a row (they are a dozen codes), so every column's stay cheap to cache.
        """
        if ("bins", j) not in self.cache:
            xp, edges = self.xp, self._sorted[j].edges
            codes = kl.bin_codes(self.device(self.cur.numeric[j]), edges, xp=xp)
            small = edges.size + 2 <= 256
            self.cache["bins", j] = xp.astype(codes, xp.uint8 if small else xp.int64), \
                edges.size + 2
        return self.cache["bins", j]


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """A copy of host ``values`` with ±inf as NaN."""
    return np.where(np.isinf(values), np.nan, values)


def _level_counts(table, ctx) -> list[np.ndarray]:
    out = []
    for row, levels in zip(table.codes, table.levels):
        shifted = ctx.device(row + 1)
        out.append(to_host(bincount(shifted, minlength=len(levels) + 1, xp=ctx.xp)))
    return out


#: The tests each drift method names, by column kind.
DRIFT_METHODS = {"numeric": ("auto", "ks", "wasserstein", "psi", "jensen_shannon"),
                 "categorical": ("auto", "chi2", "jensen_shannon", "psi")}


def check_options(**given) -> dict:
    """The options every check reads: ``given`` checked, with the defaults of the rest.

    ``given`` holds ``numeric_method``, ``categorical_method`` (one of :data:`DRIFT_METHODS`)
    and the integer sample sizes ``n_permutations``, ``mmd_rows`` and ``label_error_rows``
    (each at least 2); a ``RaiError`` names the first that is not.
    """
    for name in ("n_permutations", "mmd_rows", "label_error_rows"):
        if not isinstance(given[name], (int, np.integer)) or given[name] < 2:
            raise RaiError(f"{name} must be an integer of at least 2, got {given[name]!r}")
    for kind in ("numeric", "categorical"):
        method = given[f"{kind}_method"]
        if method not in DRIFT_METHODS[kind]:
            raise RaiError(BAD_OPTION.format(argument=f"{kind}_method",
                                             allowed=DRIFT_METHODS[kind], value=method))
    return {"n_bins": 10, "auc_rows": 100_000, "mmd": True, **given}


def sensitive_specs(sensitive) -> list[tuple]:
    """``(column, cut)`` pairs of ``sensitive`` (``frame._bins.facet_specs``); none for None or
    an empty list."""
    empty = sensitive is None or (isinstance(sensitive, (list, tuple, dict)) and not sensitive)
    return [] if empty else facet_specs(sensitive)


def pandas_context(data, reference, *, target, sensitive, prediction, positive_label,
                   sample_weight, thresholds, options, random_state) -> _Context:
    """The :class:`_Context` of an in-memory frame: its roles matched by name and its
    ``sensitive`` pairs (:func:`sensitive_specs`) encoded, as ``validate`` reads them."""
    if not isinstance(data, pd.DataFrame):
        raise RaiError(f"data must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(data).__name__}")
    roles, tgt = {}, None
    if target is not None:
        tgt = _Target.of(data, target, positive_label)
        roles[tgt.name] = "target"
    if prediction is not None:
        roles[column_values(data, prediction, argument="prediction")[0]] = "prediction"
    weights = weight = None
    if sample_weight is not None:
        weight, values = column_values(data, sample_weight, argument="sample_weight")
        weights = encode_weights(weight, values)
        if _is_column_key(sample_weight):
            roles[weight] = "sample_weight"
    facets, cuts = [], []
    for spec, cut in sensitive:
        name, values = column_values(data, spec, argument="sensitive")
        cuts.append(resolve_cut(name, cut, values.value_counts, values.dtype))
        facets.append(encode_cut(name, values, cuts[-1], argument="sensitive"))
    return _Context(data, reference, roles=roles, target=tgt, sensitive=facets, cuts=cuts,
                    weights=weights, weight=weight, thresholds=thresholds, options=options,
                    random_state=random_state)
