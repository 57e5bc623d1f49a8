"""``rai_nb.acquisition_plan``: how many new rows to acquire per slice (Slice Tuner).

Learning curves follow Tae & Whang (SIGMOD 2021) as the authors' code builds them
(``SliceTuner.train_on_subsets``): models are refitted on growing subsets of the *whole*
training data, and each slice's point is its own rows in the subset against its validation
loss, so one refit serves every slice and the other slices stay at the same share. Here the
subsets are nested and stratified by slice membership × label, so every subset holds the same
fraction of every slice (and of each class), and each size is repeated ``n_repeats`` times.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import BAD_OPTION, MISSING_COLUMN, RaiError
from ..frame._columns import codes_among, column_values, require_frame
from ..frame._model import model_features, prediction_errors
from ..frame._task import resolve_task
from ..results._acquisition import AcquisitionPlan, curves_png
from ..stats import learning_curves as lc

FRACTIONS = (0.1, 0.2, 0.4, 0.7, 1.0)
LOSSES = ("log_loss", "error", "squared")
#: Share of ``data`` held out for the validation losses when ``validation`` is not given.
VALIDATION_SHARE = 0.25
#: Rows a slice needs in the smallest subset, and among the validation rows.
MIN_FIT_ROWS, MIN_VALIDATION_ROWS = 5, 5
#: Rounds of the iterative variant at most (the last one places whatever budget is left).
MAX_ROUNDS = 8
TOO_FEW_ROWS = ("slice(s) {names} have too few rows to fit a learning curve: each needs "
                "{fit} rows in the smallest subset (fraction {fraction:g}) and {validation} "
                "validation rows; merge them, drop them or raise the smallest fraction")
MASKS_ONLY_DATA = ("slices given as boolean masks describe data's rows only; for {argument} "
                   "give slices as a column name, a SliceResult or sensitive=")


@dataclass(frozen=True)
class _Slices:
    """Named slices, and how to find their rows in any frame with the right columns."""

    names: tuple
    masks: np.ndarray | None = None  # (slices, rows of data), when given as masks
    columns: tuple = ()  # columns whose value combinations name the slices
    levels: tuple = ()
    predicates: tuple = ()  # one dict per slice (a SliceResult's)

    def members(self, frame: pd.DataFrame, argument: str) -> np.ndarray:
        """(slices, rows) booleans: which of ``frame``'s rows each slice holds."""
        if self.masks is not None:
            raise RaiError(MASKS_ONLY_DATA.format(argument=argument))
        if self.predicates:
            from ..frame._features import predicate_mask

            return np.stack([predicate_mask(frame, p) for p in self.predicates])
        parts = [column_values(frame, c, argument="slices")[1].to_numpy() for c in self.columns]
        keys = pd.Series(list(zip(*parts)), dtype=object)
        codes = codes_among(keys, self.levels)
        return codes[None, :] == np.arange(len(self.levels))[:, None]


def acquisition_plan(
    estimator,
    data: pd.DataFrame,
    *,
    target,
    budget: int,
    slices=None,
    sensitive=None,
    fairness_weight: float = 1.0,
    loss: str | None = None,
    fractions=FRACTIONS,
    n_repeats: int = 3,
    validation: pd.DataFrame | None = None,
    iterative: bool = False,
    pool: pd.DataFrame | None = None,
    features=None,
    n_jobs: int | None = None,
    random_state=0,
    progress: bool = True,
) -> AcquisitionPlan:
    """How many new rows to acquire per slice for the most accurate and fair model (Slice Tuner).

    Clones of ``estimator`` are refitted on nested subsets of the training rows; each slice's
    validation loss against its rows in the subset is fitted as a power law
    ``L_s(n) = b_s · n^(−a_s)``, and ``budget`` new rows are placed across the slices by Slice
    Tuner's convex program (Tae & Whang, SIGMOD 2021): minimise
    ``Σ_s L_s(n_s + d_s) + λ Σ_s max(0, L_s(n_s + d_s) / A_s − 1)`` with ``Σ d_s = budget``,
    ``A_s`` the mean of the other slices' current losses (see :mod:`rai_nb.stats.learning_curves`).

    Parameters
    ----------
    estimator : estimator
        A scikit-learn compatible model (fitted or not); only clones of it are fitted.
    data : pandas.DataFrame
        The training rows with the features and the target. Never modified.
    target : str
        Column of the true labels (or values, for a regression).
    budget : int
        New rows to acquire in all (≥ 0).
    slices : SliceResult, str, list or dict of boolean arrays, optional
        The slices: a :class:`~rai_nb.SliceResult`'s top slices, a column whose values name
        them, or boolean masks over ``data``'s rows (a dict names them). Slices may overlap.
    sensitive : str or list of str, optional
        Instead of ``slices``: the (intersectional) groups of these columns are the slices.
    fairness_weight : float, default 1
        λ, the weight of unfairness against the total loss; 0 minimises the loss alone.
    loss : {"log_loss", "error", "squared"}, optional
        Per-row validation loss; default ``log_loss`` for a classifier with ``predict_proba``,
        else ``error``, and ``squared`` for a regression.
    fractions : sequence of float, default (0.1, 0.2, 0.4, 0.7, 1.0)
        Sizes of the nested subsets, as fractions of the training rows.
    n_repeats : int, default 3
        Subsets drawn at each size; their spread gives the curves' uncertainty.
    validation : pandas.DataFrame, optional
        Rows the losses are measured on; default a stratified quarter of ``data`` held out
        (the curves are then fitted on the other three quarters).
    iterative : bool, default False
        Acquire in rounds from ``pool``, refitting the curves between rounds and limiting how
        far one round moves the slices' imbalance ratio (the limit doubles each round), as in
        Slice Tuner's iterative algorithm.
    pool : pandas.DataFrame, optional
        Candidate rows to acquire from, with the features and the target (``iterative`` only).
    features : list of str, optional
        Columns the model takes; default ``estimator.feature_names_in_``, else every column
        but the target.
    n_jobs : int, optional
        Refits run in parallel through joblib (None: one at a time, -1: every core).
    random_state : int or None, default 0
        Seed of the split and the subsets.
    progress : bool, default True
        Show a progress bar over the refits.

    Returns
    -------
    AcquisitionPlan
        The rows to acquire per slice (``.plan``), each slice's curve, current and predicted
        losses (``.table``), the observed points (``.points``) and, for ``iterative``, the
        rounds.

    Raises
    ------
    RaiError
        For a negative budget, an unknown slice column or loss, a slice with too few rows to
        fit a curve, fewer than two slices, or masks where rows of another frame are needed.

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> data = rai_nb.load_compas()
    >>> plan = rai_nb.acquisition_plan(LogisticRegression(), data, target="two_year_recid",
    ...                                features=["priors_count", "age"], sensitive="sex",
    ...                                budget=500, n_repeats=2, progress=False)
    >>> int(plan.plan.sum())
    500
    """
    _check_options(data, budget, fairness_weight, fractions, n_repeats, iterative, pool)
    task = resolve_task(data, target)
    loss = _resolve_loss(loss, task, estimator)
    features = model_features(estimator, data, target, features)
    spec, masks = _slices(data, slices, sensitive)
    train, held, train_masks = _split(data, masks, target, task, validation, random_state)
    held_masks = masks[:, held] if validation is None else spec.members(validation, "validation")
    validation = data[held] if validation is None else validation
    _check_rows(spec.names, train_masks, held_masks, min(fractions))
    fit = _Refits(estimator, features, target, task, loss, tuple(sorted(fractions)), n_repeats,
                  validation, held_masks, n_jobs, progress)
    rng = np.random.default_rng(random_state)
    if iterative:
        return _iterative(fit, spec, train, train_masks, pool, budget, fairness_weight, rng)
    rows, points, curves = fit.curves(train, train_masks, rng)
    plan = lc.allocate(curves, rows, budget, fairness_weight)
    return _result(fit, spec, rows, points, curves, plan, budget, fairness_weight, None)


def _check_options(data, budget, fairness_weight, fractions, n_repeats, iterative, pool):
    require_frame(data, "data")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget < 0:
        raise RaiError(f"budget must be a whole number of rows >= 0, got {budget!r}")
    if isinstance(fairness_weight, bool) or not isinstance(fairness_weight, numbers.Real) \
            or not 0 <= fairness_weight < np.inf:
        raise RaiError(f"fairness_weight must be a finite number >= 0, got {fairness_weight!r}")
    values = np.asarray(fractions, dtype=object).ravel()
    if len(set(values.tolist())) < 2 or not all(
            isinstance(f, numbers.Real) and not isinstance(f, bool) and 0 < f <= 1 for f in values):
        raise RaiError(f"fractions must be two or more distinct numbers in (0, 1], got "
                       f"{fractions!r}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise RaiError(f"n_repeats must be a whole number >= 1, got {n_repeats!r}")
    if iterative and not isinstance(pool, pd.DataFrame):
        raise RaiError("iterative=True acquires from pool=: pass a DataFrame of candidate rows")
    if pool is not None and not iterative:
        raise RaiError("pool= is read by iterative=True only; the one-shot plan needs no pool")


def _resolve_loss(loss, task: str, estimator) -> str:
    allowed = ("squared",) if task == "regression" else ("log_loss", "error")
    if loss is None:
        return allowed[0] if hasattr(estimator, "predict_proba") else allowed[-1]
    if loss not in allowed:
        raise RaiError(BAD_OPTION.format(argument=f"loss for a {task} target",
                                         allowed=", ".join(allowed), value=loss))
    return loss


def _slices(data, slices, sensitive) -> tuple[_Slices, np.ndarray]:
    """The slices' definition and their rows of ``data`` (slices × rows)."""
    from ..results import SliceResult

    if (slices is None) == (sensitive is None):
        raise RaiError("pass exactly one of slices= and sensitive=")
    if isinstance(slices, SliceResult):
        spec = _Slices(names=tuple(slices.top["slice"]), predicates=tuple(slices.top["predicates"]))
    elif sensitive is not None or isinstance(slices, (str, tuple)):
        spec = _grouped(data, sensitive if sensitive is not None else slices,
                        "sensitive" if sensitive is not None else "slices")
    else:
        spec = _given_masks(data, slices)
    masks = spec.masks if spec.masks is not None else spec.members(data, "data")
    if len(spec.names) < 2:
        raise RaiError(f"slices: Slice Tuner compares slices, so it needs two or more; got "
                       f"{len(spec.names)}")
    return spec, masks


def _grouped(data, columns, argument: str) -> _Slices:
    """Slices named by the value combinations of ``columns`` in ``data``."""
    names = (columns,) if isinstance(columns, str) else tuple(columns)
    for name in names:
        if name not in data.columns:
            raise RaiError(MISSING_COLUMN.format(column=name, argument=argument,
                                                 available=", ".join(map(repr, data.columns[:20]))))
    from ..mitigation._inputs import sensitive_groups
    from ..results._bias import row_label

    groups = sensitive_groups(data, list(names))
    return _Slices(names=tuple(row_label(g if len(g) > 1 else g[0]) for g in groups.levels),
                   columns=names, levels=groups.levels)


def _given_masks(data, slices) -> _Slices:
    items = list(slices.items()) if isinstance(slices, dict) else \
        [(f"slice {i + 1}", m) for i, m in enumerate(slices)]
    masks = []
    for name, mask in items:
        array = np.asarray(mask)
        if array.dtype != bool or array.shape != (len(data),):
            raise RaiError(f"slices: {name!r} must be a boolean array with one value per row of "
                           f"data ({len(data)}), got {array.dtype} of shape {array.shape}")
        masks.append(array)
    return _Slices(names=tuple(str(n) for n, _ in items), masks=np.stack(masks) if masks else
                   np.zeros((0, len(data)), dtype=bool))


def _strata(masks: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """A code per row for its slice membership pattern × label."""
    pattern = np.unique(masks.T, axis=0, return_inverse=True)[1].ravel()
    if labels is None:
        return pattern
    codes = pd.factorize(labels)[0]
    return pattern * (codes.max() + 1) + codes


def _labels(frame, target, task):
    return None if task == "regression" else frame[target].to_numpy()


def _split(data, masks, target, task, validation, random_state):
    """Training rows, held-out positions (None when ``validation`` is given) and the slices'
    training rows."""
    if validation is not None:
        if not isinstance(validation, pd.DataFrame) or len(validation) == 0:
            raise RaiError("validation must be a non-empty pandas DataFrame")
        return data, None, masks
    from ..mitigation._fitting import stratified_split

    held = stratified_split(_strata(masks, _labels(data, target, task)), VALIDATION_SHARE,
                            random_state)
    return data[~held], held, masks[:, ~held]


def _check_rows(names, train_masks, held_masks, smallest: float) -> None:
    fit_rows = np.round(train_masks.sum(axis=1) * smallest)
    short = (fit_rows < MIN_FIT_ROWS) | (held_masks.sum(axis=1) < MIN_VALIDATION_ROWS)
    if short.any():
        raise RaiError(TOO_FEW_ROWS.format(names=[names[i] for i in np.flatnonzero(short)][:5],
                                           fit=MIN_FIT_ROWS, fraction=smallest,
                                           validation=MIN_VALIDATION_ROWS))


@dataclass(frozen=True)
class _Refits:
    """Everything a learning-curve refit needs beside its training rows."""

    estimator: object
    features: list
    target: object
    task: str
    loss: str
    fractions: tuple
    n_repeats: int
    validation: pd.DataFrame
    held_masks: np.ndarray
    n_jobs: int | None
    progress: bool

    @property
    def n_refits(self) -> int:
        """Refits per set of curves: every fraction of every repeat, the full training rows
        (fraction 1, the same rows in every repeat) once."""
        full = self.fractions[-1] >= 1
        return len(self.fractions) * self.n_repeats - full * (self.n_repeats - 1)

    def curves(self, train, masks, rng, desc: str = "learning curves"):
        """Each slice's rows now, its points (slices × refits of rows and losses) and curves."""
        from joblib import Parallel, delayed

        from .._progress import progress_bar

        subsets = _nested_subsets(_strata(masks, _labels(train, self.target, self.task)),
                                  self.fractions, self.n_repeats, rng)
        fitted = [i for i, f in enumerate(self.fractions * self.n_repeats)
                  if f < 1 or i < len(self.fractions)]  # the full rows once
        jobs = (delayed(_refit_losses)(self, train.iloc[subsets[i]]) for i in fitted)
        found = {}
        with progress_bar(total=len(fitted), desc=desc, enabled=self.progress) as bar:
            for i, result in zip(fitted, Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)):
                found[i] = result
                bar.update(1)
        full = len(self.fractions) - 1
        losses = np.stack([found.get(i, found.get(full)) for i in range(len(subsets))], axis=1)
        rows = np.stack([masks[:, subset].sum(axis=1) for subset in subsets], axis=1)
        floor = 0.5 / self.held_masks.sum(axis=1, keepdims=True)  # half a validation error
        curves = lc.fit_power_laws(rows, np.maximum(losses, floor))
        return masks.sum(axis=1).astype(np.float64), (rows, losses), curves


def _nested_subsets(strata, fractions, n_repeats, rng) -> list:
    """Row positions of each subset, repeat by repeat and growing within a repeat: a random
    order within each stratum, its first ``round(fraction × size)`` rows taken."""
    sizes = np.bincount(strata)
    subsets = []
    for _ in range(n_repeats):
        order = np.lexsort((rng.random(len(strata)), strata))
        ordered = strata[order]
        rank = np.arange(len(strata)) - np.searchsorted(ordered, ordered)
        subsets += [np.sort(order[rank < np.round(f * sizes)[ordered]]) for f in fractions]
    return subsets


def _refit_losses(fit: _Refits, rows: pd.DataFrame) -> np.ndarray:
    """Mean validation loss per slice of a clone of the estimator fitted on ``rows``."""
    from sklearn.base import clone

    try:
        model = clone(fit.estimator).fit(rows[fit.features], rows[fit.target])
    except Exception as error:  # the user's estimator failed on a subset
        raise RaiError(f"refitting {type(fit.estimator).__name__} on {len(rows)} rows failed: "
                       f"{type(error).__name__}: {error}") from error
    inputs, truth = fit.validation[fit.features], fit.validation[fit.target]
    if fit.loss == "log_loss":
        from ..frame._slice_losses import _log_loss

        per_row = _log_loss(model, inputs, fit.target, truth.to_numpy())
    else:
        per_row = prediction_errors(truth, np.asarray(model.predict(inputs)), fit.task)
    weights = fit.held_masks.astype(np.float64)
    return weights @ per_row / weights.sum(axis=1)


def _iterative(fit, spec, train, masks, pool, budget, fairness_weight, rng):
    """Slice Tuner's iterative algorithm: plan for the budget left, move the imbalance ratio by
    at most ``limit`` (doubling each round), acquire from ``pool``, refit the curves."""
    pool_masks = spec.members(pool, "pool")
    taken = np.zeros(pool.shape[0], dtype=bool)
    rows, points, curves = fit.curves(train, masks, rng)
    first = (rows, points, curves)
    left, limit, rounds = budget, 1.0, []
    for number in range(1, MAX_ROUNDS + 1):
        if left <= 0:
            break
        wanted = lc.allocate(curves, rows, left, fairness_weight)
        if number < MAX_ROUNDS:
            wanted = lc.limit_imbalance_change(rows, wanted, limit)
        new = _draw(pool_masks & ~taken, wanted, rng)
        if not new.any():
            break
        taken |= new
        left -= int(new.sum())
        train = pd.concat([train, pool[new]])
        masks = np.concatenate([masks, pool_masks[:, new]], axis=1)
        rounds.append({"round": number, "imbalance_limit": limit, "rows": int(new.sum()),
                       **dict(zip(spec.names, pool_masks[:, new].sum(axis=1).tolist()))})
        rows, points, curves = fit.curves(train, masks, rng, desc=f"learning curves, round {number}")
        limit *= 2
    acquired = rows - first[0]
    return _result(fit, spec, *first, acquired.astype(np.int64), budget, fairness_weight,
                   pd.DataFrame(rounds), after=(rows, points, curves))


def _draw(available: np.ndarray, wanted: np.ndarray, rng) -> np.ndarray:
    """Pool rows to take: for each slice its first ``wanted`` available rows in one random order
    (a row of several slices counts for each)."""
    order = rng.permutation(available.shape[1])
    ordered = available[:, order]
    rank = np.cumsum(ordered, axis=1) - 1
    take = np.zeros(available.shape[1], dtype=bool)
    take[order] = (ordered & (rank < wanted[:, None])).any(axis=0)
    return take


def _result(fit, spec, rows, points, curves, plan, budget, fairness_weight, rounds, after=None):
    table = _slice_table(spec.names, rows, points, curves, plan, fairness_weight, fit, after)
    observed = _points_table(spec.names, points, fit)
    return AcquisitionPlan(
        estimator_name=type(fit.estimator).__name__, loss=fit.loss, budget=int(budget),
        fairness_weight=float(fairness_weight), table=table, points=observed,
        fractions=fit.fractions, n_repeats=fit.n_repeats, validation_rows=len(fit.validation),
        n_refits=fit.n_refits * (1 if rounds is None else len(rounds) + 1), rounds=rounds,
        curves=curves_png(table, observed, fit.loss))


def _slice_table(names, rows, points, curves, plan, fairness_weight, fit, after) -> pd.DataFrame:
    """One row per slice: sizes, the curve, the losses now and predicted after the plan."""
    full = points[0] == points[0].max(axis=1, keepdims=True)
    observed = (points[1] * full).sum(axis=1) / full.sum(axis=1)
    predicted = curves.loss(rows + plan)
    table = pd.DataFrame({
        "slice": list(names), "rows": rows.astype(np.int64),
        "validation_rows": fit.held_masks.sum(axis=1), "loss": observed,
        "a": curves.a, "a_se": curves.a_se, "b": curves.b, "b_se": curves.b_se,
        "fitted_loss": curves.loss(rows), "acquire": plan, "predicted_loss": predicted})
    if after is not None:
        done = after[1][0] == after[1][0].max(axis=1, keepdims=True)
        table["loss_after"] = (after[1][1] * done).sum(axis=1) / done.sum(axis=1)
    return table


def _points_table(names, points, fit) -> pd.DataFrame:
    """The observed learning-curve points: mean and spread over repeats at each fraction."""
    rows, losses = points
    shape = (len(names), fit.n_repeats, len(fit.fractions))
    return pd.DataFrame({
        "slice": np.repeat(list(names), len(fit.fractions)),
        "fraction": np.tile(fit.fractions, len(names)),
        "rows": rows.reshape(shape).mean(axis=1).ravel(),
        "loss": losses.reshape(shape).mean(axis=1).ravel(),
        "loss_sd": losses.reshape(shape).std(axis=1, ddof=1 if fit.n_repeats > 1 else 0).ravel(),
    })
