"""``rai_nb.validate`` and ``rai_nb.drift``: the data checks to run before a model is trusted.

Each check reads the encoded tables (and cached sorted columns) of one
:class:`rai_nb.frame._validation_context._Context` and returns a
:class:`rai_nb.results.Check`. The checks are built in ``rai_nb.findings``: schema and quality
in ``_validation_checks``, label/proxy/representation in ``_label_checks``, drift in
``_drift_checks``. Thresholds are ``(warn, fail)`` pairs; a value of 0 never warns, ``None``
switches a level off. Lower-is-worse quantities are listed in ``_validation_context._LOWER``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import wraps

import pandas as pd

from ..engine import is_partitioned
from ..errors import BAD_OPTION, RaiError
from ..findings._drift_checks import _drift_check, _drift_result, _multivariate_drift, _role_drift
from ..findings._grading import THRESHOLDS, _thresholds
from ..findings._label_checks import (
    _class_imbalance,
    _group_imbalance,
    _label_errors,
    _label_leakage,
    _proxies,
    _representation,
)
from ..findings._validation_checks import (
    _conflicting_labels,
    _constant_columns,
    _dtype_changes,
    _duplicates,
    _group_missingness,
    _id_like,
    _infinite_values,
    _missing_columns,
    _missing_values,
    _mixed_types,
    _new_columns,
    _out_of_range,
    _outliers,
    _unseen_categories,
)
from ..frame import column_values
from ..frame._validation_context import _Context, check_options, pandas_context, sensitive_specs
from ..results import Check, DriftResult, ValidationResult

__all__ = ["CHECKS", "THRESHOLDS", "drift", "validate"]



def _grouped(check):
    """``check``, its message saying how the sensitive columns became groups and were weighted."""
    @wraps(check)
    def noted(ctx) -> Check:
        found, note = check(ctx), ctx.grouping_note()
        return replace(found, message=f"{found.message} ({note})") if note else found
    return noted


#: Check name → (function, what it needs).
CHECKS = {
    "missing_columns": (_missing_columns, {"reference"}),
    "new_columns": (_new_columns, {"reference"}),
    "dtype_changes": (_dtype_changes, {"reference"}),
    "unseen_categories": (_unseen_categories, {"reference"}),
    "out_of_range": (_out_of_range, {"reference"}),
    "mixed_types": (_mixed_types, set()),
    "missing_values": (_missing_values, set()),
    "infinite_values": (_infinite_values, set()),
    "group_missingness": (_grouped(_group_missingness), {"sensitive"}),
    "duplicates": (_duplicates, set()),
    "conflicting_labels": (_conflicting_labels, {"target"}),
    "constant_columns": (_constant_columns, set()),
    "id_like": (_id_like, set()),
    "outliers": (_outliers, set()),
    "class_imbalance": (_class_imbalance, {"classes"}),
    "group_imbalance": (_grouped(_group_imbalance), {"binary", "sensitive"}),
    "label_leakage": (_label_leakage, {"target"}),
    "label_errors": (_label_errors, {"classes"}),
    "proxies": (_proxies, {"sensitive"}),
    "representation": (_grouped(_representation), {"sensitive"}),
    "drift": (_drift_check, {"reference"}),
    "label_drift": (_role_drift("label_drift", "target"), {"reference", "target"}),
    "prediction_drift": (_role_drift("prediction_drift", "prediction"),
                         {"reference", "prediction"}),
    "multivariate_drift": (_multivariate_drift, {"reference"}),
}


def _selected(checks, available: set) -> list[str]:
    if checks is None:
        return [n for n, (_, needs) in CHECKS.items() if needs <= available]
    names = [checks] if isinstance(checks, str) else list(checks)
    for name in names:
        if name not in CHECKS:
            raise RaiError(BAD_OPTION.format(argument="checks", allowed=list(CHECKS), value=name))
        missing = CHECKS[name][1] - available
        if missing:
            need = {"classes": "target", "binary": "a binary target"}
            raise RaiError(f"check {name!r} needs "
                           f"{', '.join(sorted(need.get(m, m + '=') for m in missing))}")
    return names


def validate(
    data: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    target=None,
    sensitive=None,
    prediction=None,
    positive_label=None,
    sample_weight=None,
    checks=None,
    thresholds: dict | None = None,
    numeric_method: str = "auto",
    categorical_method: str = "auto",
    n_permutations: int = 100,
    mmd_rows: int = 1000,
    label_error_rows: int = 5000,
    random_state=0,
) -> ValidationResult:
    """Run the data checks: schema, quality, labels, proxies, representation and drift.

    Parameters
    ----------
    data : pandas.DataFrame, dask.dataframe.DataFrame or pyspark.sql.DataFrame
        The data to check. Never modified.
    reference : pandas.DataFrame, dask.dataframe.DataFrame or pyspark.sql.DataFrame, optional
        Earlier (training) data: enables the schema-against-reference and drift checks.
    target : str, optional
        Label column: enables conflicting labels, class imbalance, leakage, label errors and
        label drift.
    sensitive : str, list or dict, optional
        Sensitive columns: enables per-group missingness and imbalance, proxies, representation.
        Grouped as in :func:`rai_nb.bias`: a dict maps a column to a number of quantile bins
        (``{"age": 4}``), bin edges (``[25, 40, 60]``), a threshold (``40.0``: ``<= 40`` and
        ``> 40``) or None (one group per value); a numeric column named alone with more than 10
        distinct values becomes 4 quantile groups (quantiles of the rows, unweighted, as in bias).
        The checks' messages say where a column was binned.
    prediction : str, optional
        Prediction column (treated like the target: not a feature; prediction drift).
    positive_label : optional
        Favourable class of a binary target (default: the last in sorted order, e.g. 1).
    sample_weight : str or array-like, optional
        Frequency weights (a column name, or one non-negative number per row): a row counts as
        ``w`` rows in the per-group counts — the group sizes and shares of ``representation``,
        the label rates of ``group_imbalance`` and the missing shares of ``group_missingness``
        (as fairlearn's ``MetricFrame`` with ``sample_params``), ``min_group_size`` comparing
        summed weights. Every other check (schema, missing values, duplicates, conflicts,
        outliers, leakage, proxies, label errors, class imbalance, drift) counts rows
        unweighted. The weight column is not checked as a feature.
    checks : str or list of str, optional
        Names of the checks to run (default: every check the arguments allow); see ``CHECKS``.
    thresholds : dict, optional
        Overrides of :data:`THRESHOLDS`, ``(warn, fail)`` pairs, ``None`` to switch a level off.
    numeric_method, categorical_method : str
        Per-column drift decision; ``auto`` follows Evidently (see :func:`drift`).
    n_permutations, mmd_rows : int
        Permutations and rows per sample of the multivariate MMD test.
    label_error_rows : int
        Rows sampled for the out-of-fold model behind ``label_errors``.
    random_state : int or numpy.random.Generator, default 0
        Seed of every sample and permutation (the MMD samples, the label-error sample and its
        folds, the numeric-AUC sample and the cross-fitting halves); a Generator gives the seed
        it was made from. The rows sampled follow the seed
        and the rows' contents, so no result depends on the order of the rows or the index.

    Returns
    -------
    ValidationResult

    Notes
    -----
    Default thresholds (warn, fail) and why:

    - ``missing_share`` 5 % / 50 % of a column's cells (NaN, None, NaT); ``group_missing_gap``
      0.05 / 0.2 difference in missing share between sensitive groups of at least
      ``min_group_size`` rows — missingness that depends on the group biases any imputation or
      row dropping.
    - ``infinite_share`` any / 1 % of a numeric column's cells ±inf (most estimators refuse
      them). Infinities are values elsewhere: ordered beyond every finite value in drift (KS as
      ``scipy.stats.ks_2samp``; Wasserstein-1 is infinite when the shares of an infinity differ)
      and outside a finite reference range in ``out_of_range``.
    - ``duplicate_share`` and ``conflict_share`` 1 % / 5 % of rows (a few duplicates occur
      naturally in census-like data, e.g. 24 of Adult's 32,561 rows).
    - ``near_constant_share`` 0.99 top-value share; ``id_distinct_share`` 0.95 distinct values
      in a categorical column, or in an integer column whose quartiles lie within 10 % of its
      range of an even spread (sequential or random ids; a nearly distinct amount such as
      Adult's ``fnlwgt`` clusters and is not an identifier), of at least 20 values;
      ``outlier_share`` 5 % of values beyond Tukey's 1.5 × IQR fences (the modified z-score >
      3.5 of Iglewicz and Hoaglin is reported beside it), not applied to columns of at most 20
      distinct values (ordinal or codes) or whose fences collapse to one value (zero-inflated);
      the details' ``skipped`` column says why. These only warn.
    - ``minority_share`` below 5 % / 1 % of rows; ``disparate_impact`` a group's positive-label
      rate below 0.8 × the highest group's (the four-fifths rule); Clarify's CI and DPL per group
      are in the details.
    - ``leakage_auc`` 0.95 / 0.99 single-feature AUC, ``leakage_cramers_v`` 0.8 / 0.95
      bias-corrected Cramér's V (Bergsma 2013) with the target; numeric features enter V as
      10 quantile bins. Categorical AUC orders levels on one half of the rows and scores the
      other (cross-fitted), so identifiers do not look like leaks; the halves are a seeded hash
      of each row's contents, so copies of a row stay on one side.
    - ``label_error_share`` 10 % / 30 % of rows flagged by confident learning (Northcutt et
      al. 2021) with 3-fold out-of-fold gradient-boosted trees on ``label_error_rows`` rows.
    - ``proxy_cramers_v`` 0.5 / 0.8 (0.5 is a "strong" association by Cohen's convention) and
      ``proxy_auc`` 0.8 / 0.95 of a feature predicting a binary sensitive column.
    - ``min_group_size`` 30 rows per sensitive group or intersection (warn only); with
      ``sample_weight``, a summed weight of 30.
    - ``unseen_share`` any / 1 % of rows with a category the reference never had;
      ``out_of_range_share`` 1 % / 10 % of values outside the reference's range.
    - Drift: as Evidently's defaults — with at most ``drift_small_rows`` = 1000 reference rows,
      KS (numeric) or χ² (categorical) p < ``drift_pvalue`` = 0.05; above, Wasserstein distance
      divided by the reference standard deviation, or Jensen–Shannon distance, ≥
      ``drift_distance`` = 0.1 (tests on large samples flag negligible shifts). A column's
      missing share that moves by ≥ ``drift_missing_share`` = 5 points (χ² p < ``drift_pvalue``),
      a column whose kind changed (numbers to text) and a vanished column have drifted too.
      The ``drift`` check warns when a feature drifted and fails when ≥ ``drift_share`` = 50 %
      did.
      ``multivariate_drift`` warns when the MMD permutation p < ``mmd_pvalue`` = 0.05.

    Dask and Spark: either frame may be a ``dask.dataframe.DataFrame`` or a
    ``pyspark.sql.DataFrame`` (a pandas one beside it is fine); the target, sensitive and
    prediction columns must then be given by name. Every statistic is computed exactly from
    per-partition counts, moments, hashes and exact order statistics added up by the engine
    (:mod:`rai_nb.engine`), and the checks finish them with the pandas path's
    code. The subsampled parts — numeric AUCs above 100,000 rows, the ``label_error_rows`` rows
    behind ``label_errors`` (its message names the sample), the ``mmd_rows`` rows per data set
    of the MMD test — pick the rows the pandas path picks (by seeded hashes of the rows'
    contents, counted per partition), so the result equals
    ``validate(data.compute(), ...)`` (``data.toPandas()``) up to the last bits of pooled means and standard
    deviations (and of fractional weights summed per partition). Weights are checked per
    partition: a non-finite or negative weight's error counts that partition's rows.

    Examples
    --------
    >>> import pandas as pd, rai_nb
    >>> df = pd.DataFrame({"x": [1, 2, 3, 3], "y": [0, 1, 0, 0]})
    >>> result = rai_nb.validate(df, target="y", checks=["duplicates", "class_imbalance"])
    >>> result.checks["severity"].tolist()
    ['fail', 'pass']
    >>> groups = pd.DataFrame({"g": ["a", "a", "b"], "w": [1.0, 2.0, 0.5]})
    >>> weighted = rai_nb.validate(groups, sensitive="g", sample_weight="w",
    ...                            checks="representation")
    >>> weighted.details["representation"]["count"].tolist()
    [0.5, 3.0]
    """
    thresholds = _thresholds(thresholds)
    options = check_options(numeric_method=numeric_method,
                            categorical_method=categorical_method,
                            n_permutations=n_permutations, mmd_rows=mmd_rows,
                            label_error_rows=label_error_rows)
    if is_partitioned(data) or is_partitioned(reference):
        from ..frame._partition_context import partitioned_context

        ctx = partitioned_context(data, reference, target=target,
                                  sensitive=sensitive_specs(sensitive),
                                  prediction=prediction, positive_label=positive_label,
                                  sample_weight=sample_weight, thresholds=thresholds,
                                  options=options, random_state=random_state)
    else:
        ctx = pandas_context(data, reference, target=target,
                             sensitive=sensitive_specs(sensitive),
                             prediction=prediction, positive_label=positive_label,
                             sample_weight=sample_weight, thresholds=thresholds,
                             options=options, random_state=random_state)
    tgt = ctx.target
    available = {"reference"} if reference is not None else set()
    available |= {"sensitive"} if ctx.sensitive else set()
    available |= {"prediction"} if prediction is not None else set()
    if tgt is not None:
        available |= {"target"} | ({"classes"} if tgt.classes else set()) | \
            ({"binary"} if tgt.binary else set())
    results = [CHECKS[name][0](ctx) for name in _selected(checks, available)]
    return ValidationResult.from_checks(
        results, drift=ctx.cache.get("drift"), thresholds=thresholds, n_rows=ctx.cur.n_rows)


def drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns=None,
    target=None,
    prediction=None,
    thresholds: dict | None = None,
    numeric_method: str = "auto",
    categorical_method: str = "auto",
    mmd: bool = True,
    n_permutations: int = 100,
    mmd_rows: int = 1000,
    random_state=0,
    rows: bool = False,
    neighbours: int = 5,
    neighbour_rows: int = 2_000,
    top_rows: int = 20,
) -> DriftResult:
    """Per-column and multivariate drift between ``reference`` and ``current``, and per row.

    Parameters
    ----------
    reference, current : pandas.DataFrame, dask.dataframe.DataFrame or pyspark.sql.DataFrame
        The two samples (never modified). Columns are compared by name.
    columns : list, optional
        Columns to compare (default: all columns of both).
    target, prediction : str, optional
        Label and prediction columns: reported with role ``target``/``prediction`` (label and
        prediction drift) and left out of the multivariate test.
    thresholds : dict, optional
        Overrides of the ``drift_*`` and ``mmd_pvalue`` entries of :data:`THRESHOLDS`.
    numeric_method : {"auto", "ks", "wasserstein", "psi", "jensen_shannon"}
    categorical_method : {"auto", "chi2", "jensen_shannon", "psi"}
        The statistic that decides ``drifted``. ``auto`` follows Evidently: with at most 1000
        reference rows a test (KS p < 0.05, χ² p < 0.05), otherwise a distance (Wasserstein /
        reference std ≥ 0.1, Jensen–Shannon distance ≥ 0.1). PSI uses 0.2, the usual
        "significant shift" level (Siddiqi 2006). Every statistic is computed and reported.
    mmd : bool
        Run the MMD permutation test (Gretton et al. 2012) on the numeric features.
    n_permutations, mmd_rows : int
        Permutations, and rows sampled from each data set, for MMD.
    random_state : int or numpy.random.Generator, default 0
        Seed of the MMD samples and permutations; with the rows' contents it decides which
        rows are drawn, so the result does not depend on the order of the rows or the index.
    rows : bool, default False
        Also score every current row's distance from the reference distribution
        (:class:`rai_nb.results.RowDrift` in ``result.rows``): a domain classifier's
        out-of-fold probability and the distance to the ``neighbours``-th nearest reference
        row, each as a conformal p-value against the reference rows, combined by Fisher's
        method; the ``top_rows`` highest are listed with the columns that make them so (see
        :mod:`rai_nb.findings._row_drift`). Pandas frames only.
    neighbours : int, default 5
        ``k`` of the nearest-neighbour distance.
    neighbour_rows : int, default 2000
        Reference rows each current row is compared with: every reference row up to this
        many, else a seeded content sample of this many (the distance is then exact to that
        sample, not to the whole reference: 1M × 100k exact comparisons take minutes).
    top_rows : int, default 20
        Rows listed in the report.

    Returns
    -------
    DriftResult

    Notes
    -----
    KS, Wasserstein-1 and χ² (with Yates' correction for two categories) equal
    ``scipy.stats.ks_2samp``, ``wasserstein_distance`` and ``chi2_contingency`` on the
    non-missing values; missing categorical values count as a category of their own. PSI and
    Jensen–Shannon of numeric columns use 10 bins at the reference's deciles. MMD compares
    ``mmd_rows`` rows sampled from each data set.

    With a Dask or Spark frame (either argument) KS and Wasserstein-1 stay exact without sorting the
    columns: per-partition counts in bins of a pooled grid settle most bins, and only the values
    of bins where the ECDF gap may change sign or reach the maximum are gathered
    (:mod:`rai_nb.checks.ecdf`); deciles come from exact order statistics. The MMD sample takes
    the same rows as the pandas path, so the result equals ``drift(reference.compute(),
    current.compute())`` up to the last bits of pooled means and standard deviations.

    Examples
    --------
    >>> import numpy as np, pandas as pd, rai_nb
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, size=500)})
    >>> rai_nb.drift(ref, cur, mmd=False).drifted
    ['x']
    """
    thresholds = _thresholds(thresholds)
    options = check_options(numeric_method=numeric_method,
                            categorical_method=categorical_method,
                            n_permutations=n_permutations, mmd_rows=mmd_rows, label_error_rows=2)
    options["mmd"] = bool(mmd)
    lazy = is_partitioned(reference) or is_partitioned(current)
    if rows and lazy:
        raise RaiError("rows=True needs pandas frames; pass a sample of the Dask or Spark frame "
                       "as pandas (.compute(), .toPandas())")
    if lazy:
        from ..frame._partition_context import partitioned_drift_context

        ctx = partitioned_drift_context(reference, current, columns=columns, target=target,
                                        prediction=prediction, thresholds=thresholds,
                                        options=options, random_state=random_state)
        return _drift_result(ctx)
    if not isinstance(reference, pd.DataFrame):
        raise RaiError(f"reference must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(reference).__name__}")
    if not isinstance(current, pd.DataFrame):
        raise RaiError(f"current must be a pandas, Dask or Spark DataFrame, got "
                       f"{type(current).__name__}")
    if columns is None and not set(reference.columns) & set(current.columns):
        raise RaiError("reference and current share no column; name the columns to compare")
    roles = {}
    for spec, role in ((target, "target"), (prediction, "prediction")):
        if spec is not None:
            name = column_values(reference, spec, argument=role)[0]
            roles[column_values(current, name, argument=role)[0]] = role
    ctx = _Context(current, reference, columns=columns, roles=roles, thresholds=thresholds,
                   options=options, random_state=random_state)
    if not rows:
        return _drift_result(ctx)
    from ..findings._row_drift import row_drift

    return replace(_drift_result(ctx), rows=row_drift(
        ctx, neighbours=neighbours, neighbour_rows=neighbour_rows, top_rows=top_rows))
