"""``rai_nb.counterfactuals`` and ``rai_nb.burden``: the smallest changes that flip a decision."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import BAD_OPTION, EMPTY_DATA, RaiError
from ..explain import counterfactual as cf
from ..frame import column_values, encode_categorical
from ..frame._bins import facet_specs
from ..frame._counterfactual import FeatureCodec, feature_codec, search_space
from ..frame._model import call_model, model_features
from ..results._counterfactuals import BurdenResult, CounterfactualResult
from ..stats.burden import bootstrap_group_means, group_means
from ._bias import bootstrap_seed

#: Candidate rows of a search's first (largest) model call, about: query rows are searched in
#: blocks of as many as that allows.
BLOCK_ROWS = 1 << 16

#: Query rows × data rows of distances held at once for the nearest real rows.
DISTANCE_CELLS = 1 << 22


@dataclass(frozen=True)
class Goal:
    """What the counterfactuals must get: a class index per query row, or a value interval."""

    classes: np.ndarray | None
    wanted: np.ndarray | None
    interval: tuple | None

    def rows(self, part: slice) -> Goal:
        wanted = None if self.wanted is None else self.wanted[part]
        return Goal(self.classes, wanted, self.interval)

    def labels(self) -> np.ndarray:
        """The desired outcome of each query row, as shown."""
        if self.interval is not None:
            return np.full(1, f"[{self.interval[0]:g}, {self.interval[1]:g}]", dtype=object)
        return self.classes[self.wanted]

    def met(self, predictions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Whether ``predictions`` (from ``model.predict``) of query rows ``rows`` are desired."""
        if self.interval is not None:
            values = predictions.astype(np.float64)
            return (values >= self.interval[0]) & (values <= self.interval[1])
        return predictions == self.classes[self.wanted[rows]]


class Evaluator:
    """Scores candidates with the model, one call per batch (each distinct candidate once);
    counts calls and rows scored."""

    def __init__(self, model, codec: FeatureCodec, goal: Goal):
        self.model, self.codec, self.goal = model, codec, goal
        self.calls = self.rows = 0

    def bind(self, goal: Goal):
        """``evaluate(candidates (rows, c, features), mask=None) -> (valid, loss)`` for query
        rows of ``goal``: validity and the hinge distance to the desired outcome. Only the
        candidates ``mask`` holds are scored (the rest: invalid, loss inf); none, no call."""
        def evaluate(candidates, mask=None):
            m, c, p = candidates.shape
            row, column = np.nonzero(np.ones((m, c), dtype=bool) if mask is None else mask)
            valid, loss = np.zeros((m, c), dtype=bool), np.full((m, c), np.inf)
            if len(row):
                values = candidates[row, column]
                first, inverse = cf.distinct_rows(values)
                self.calls, self.rows = self.calls + 1, self.rows + len(first)
                valid[row, column], loss[row, column] = self._score(
                    self.codec.decode(values[first]), inverse, goal, row)
            return valid, loss
        return evaluate

    def _score(self, frame, inverse, goal: Goal, row):
        """Validity and loss of the candidates whose distinct rows ``frame`` holds (candidate
        ``i`` is row ``inverse[i]``)."""
        if goal.interval is not None:
            value = np.asarray(call_model(self.model.predict, frame),
                               dtype=np.float64).ravel()[inverse]
            loss = np.maximum(np.maximum(goal.interval[0] - value, value - goal.interval[1]), 0)
            return loss == 0, loss
        wanted = goal.wanted[row]
        if not hasattr(self.model, "predict_proba"):
            labels = np.asarray(call_model(self.model.predict, frame)).ravel()[inverse]
            valid = labels == goal.classes[wanted]
            return valid, (~valid).astype(np.float64)
        proba = np.asarray(call_model(self.model.predict_proba, frame), dtype=np.float64)[inverse]
        rows = np.arange(len(proba))
        mine = proba[rows, wanted]
        proba[rows, wanted] = -np.inf
        best_other = proba.max(axis=1)
        return mine > best_other, np.maximum(best_other - mine, 0)


def counterfactuals(model, rows, *, data=None, desired="opposite", features_to_vary="all",
                    immutable=None, sensitive=None, ranges=None, k: int = 5,
                    proximity_weight: float = 0.5, sparsity_weight: float = 0.1,
                    diversity_weight: float = 1.0, population: int = 30, generations: int = 4,
                    n_nearest: int | None = None, features=None,
                    random_state=0) -> CounterfactualResult:
    """Diverse, sparse counterfactuals of each row, and the nearest real rows of the outcome.

    DiCE's objective (Mothilal, Sharma & Tan, FAT* 2020): valid (the model gives the desired
    outcome), close (MAD-scaled L1 over numeric features, 0/1 per categorical one), sparse
    (few features changed) and diverse (greedy determinantal-point-process style spread).
    The search is batched over all rows, one model call a round
    (:func:`rai_nb.explain.counterfactual.genetic_search`): the first scores every
    single-feature change (numeric features stepped towards each bound, every allowed level)
    and a random population; each later one scores a generation's children together with the
    refinement of the best candidates found so far (DiCE's post-hoc sparsity, each changed
    feature reset to the row, and a multisection pulling numeric changes back to the
    boundary). It stops once breeding has stopped (``generations``, or each row has ``k``
    valid candidates and the best stop improving) and the best are settled, at most two
    rounds later. The nearest real rows come from each row's nearest data rows, predicted
    nearest first in the call that confirms the counterfactuals with ``model.predict``.

    Parameters
    ----------
    model : fitted model with ``predict`` (and ``predict_proba`` for classifiers)
        A pipeline is fine: it is given frames of the original columns.
    rows : pandas.DataFrame
        The rows to explain (a Series is one row). Never modified.
    data : pandas.DataFrame, optional
        The frame that gives ranges, MAD scales, levels and the real neighbours (default
        ``rows``).
    desired : "opposite", a class label, or (low, high)
        The outcome wanted: the other class of a binary classifier, a class, or a predicted
        value interval of a regression model.
    features_to_vary : "all" or list of str
        The features that may change.
    immutable : list of str, optional
        Features that never change (default: the ``sensitive`` ones).
    sensitive : str or list of str, optional
        Sensitive columns; immutable unless ``immutable`` says otherwise.
    ranges : dict, optional
        Feature → ``(low, high)`` or a list of allowed levels. A feature a counterfactual
        changes takes a value in its range (default: the values seen in ``data``); a range
        does not force a change.
    k : int, default 5
        Counterfactuals per row.
    proximity_weight, sparsity_weight, diversity_weight : float
        DiCE's weights of distance, of the number of changed features and of diversity.
    population, generations : int
        Candidates per row per generation, and the most generations (the first included).
    n_nearest : int, optional
        Nearest real rows per row (default ``k``; 0: none, which saves predicting rows of
        ``data``: at least those nearer than the ``k``-th nearest of the desired outcome).
    features : list of str, optional
        The model's input columns (default ``model.feature_names_in_``, else every column).
    random_state : int or numpy.random.Generator, default 0

    Returns
    -------
    CounterfactualResult

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> df = rai_nb.load_compas()[["age", "priors_count", "two_year_recid"]]
    >>> clf = LogisticRegression().fit(df[["age", "priors_count"]], df["two_year_recid"])
    >>> result = rai_nb.counterfactuals(clf, df.head(3), data=df, k=2)
    >>> result.counterfactuals.columns[:3].tolist()
    ['age', 'priors_count', 'prediction']
    """
    rows, data = _frames(rows, data)
    features = model_features(model, rows, None, features)
    codec = feature_codec(data, rows, features)
    space, pool = _space(codec, data, features, features_to_vary,
                         _immutable(immutable, sensitive), ranges)
    origin = codec.encode(rows, argument="rows")
    predicted = np.asarray(call_model(model.predict, rows[features])).ravel()
    goal = _goal(model, desired, predicted)
    evaluator = Evaluator(model, codec, goal)
    search = Search(_count(k, "k"), cf.Weights(proximity_weight, sparsity_weight,
                                                  diversity_weight),
                    _count(population, "population"), _count(generations, "generations"),
                    np.random.default_rng(bootstrap_seed(random_state)))
    found, ok, generations_run = search.run(origin, space, evaluator, goal)
    n_nearest = k if n_nearest is None else _count(n_nearest, "n_nearest", least=0)
    labels, confirmed, nearest, predicted_data = _confirmed_and_nearest(
        model, codec, goal, found, pool, origin, space, n_nearest)
    stats = {"generations": generations_run, "model_calls": evaluator.calls,
             "candidates_scored": evaluator.rows, "data_rows_predicted": predicted_data}
    tables = _Tables(codec, space, origin, rows.index)
    return CounterfactualResult(
        rows=tables.rows(predicted, goal.labels(), ok & confirmed, found),
        counterfactuals=tables.found(found, ok & confirmed, labels),
        nearest=tables.nearest(data, nearest, pool),
        features=list(features), varied=[f for f, m in zip(features, space.mutable) if m],
        stats=stats)


@dataclass
class Search:
    """The batched search (genetic, refining as it goes), then the final ``k`` diverse ones."""

    k: int
    weights: cf.Weights
    population: int
    generations: int
    rng: np.random.Generator

    def run(self, origin, space, evaluator: Evaluator, goal: Goal):
        """Counterfactuals ``(rows, k, features)``, which are real ``(rows, k)`` and the most
        generations any block of rows ran."""
        step = max(1, BLOCK_ROWS // cf.first_batch(space, self.population))
        parts = [self._block(origin[s], space, evaluator.bind(goal.rows(s)))
                 for s in (slice(i, i + step) for i in range(0, len(origin), step))]
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                max(p[2] for p in parts))

    def _block(self, origin, space, evaluate):
        archive, generations = cf.genetic_search(
            origin, space, evaluate, k=self.k, population=self.population,
            generations=self.generations, weights=self.weights, rng=self.rng)
        final, real = _gather(archive.candidates, cf.select_diverse(
            archive.candidates, archive.valid, origin, space, self.weights, self.k), origin)
        return final, real, generations


def _gather(candidates, index, origin):
    """Candidates at ``index`` (−1: none, filled with the origin) and which are real."""
    real = index >= 0
    picked = np.take_along_axis(candidates, np.maximum(index, 0)[..., None], axis=1)
    return np.where(real[..., None], picked, origin[:, None, :]), real


def _confirmed_and_nearest(model, codec, goal: Goal, found, pool, origin, space, k: int):
    """The model's predictions of the counterfactuals and whether they are the desired outcome,
    and the positions in ``data`` (encoded: ``pool``) of each row's ``k`` nearest real rows with
    the desired outcome and the row's immutable values (−1: none), and how many data rows were
    predicted. The first round of :class:`_Nearest` shares the counterfactuals'
    ``model.predict`` call."""
    m, n_found, p = found.shape
    nearest = _Nearest(pool, origin, space, goal, k)
    ask = nearest.ask()
    predicted = _predict(model, codec, np.concatenate([found.reshape(-1, p), pool[ask]]))
    labels = predicted[:m * n_found]
    confirmed = goal.met(labels, None if goal.wanted is None else np.repeat(np.arange(m), n_found))
    nearest.tell(ask, predicted[m * n_found:])
    while len(ask := nearest.ask()):
        nearest.tell(ask, _predict(model, codec, pool[ask]))
    return (labels.reshape(m, n_found), confirmed.reshape(m, n_found), nearest.index,
            int(nearest.scored.sum()))


class _Nearest:
    """Each row's ``k`` nearest data rows of the desired outcome and of its immutable values,
    found by predicting data rows nearest first, in rounds: first each row's ``32 k`` nearest,
    then, for rows with fewer than ``k`` of the desired outcome among those, 2 to 4 times as
    many (as many more as their share of the outcome so far says they need). Exact: a row's
    nearest rows of the desired outcome are the first of that outcome among its nearest rows,
    and each round predicts only rows not predicted before.

    ``ask()`` gives the data positions to predict next (none: done), ``tell`` their labels;
    ``index`` holds the answer ``(rows, k)``, −1 where fewer rows qualify.
    """

    def __init__(self, pool, origin, space, goal: Goal, k: int):
        self.pool, self.origin, self.space, self.goal, self.k = pool, origin, space, goal, k
        # all rows' distances kept for the later rounds when they fit, else computed each round
        small = 0 < k and len(origin) * len(pool) <= DISTANCE_CELLS
        self.distances = cf.allowed_distances(origin, pool, _allowed(origin, pool, space),
                                              space) if small else None
        self.width = np.full(len(origin), min(32 * k, len(pool)))
        self.todo = np.arange(len(origin) if k > 0 else 0)
        self.known = np.empty(len(pool), dtype=object)
        self.scored = np.zeros(len(pool), dtype=bool)
        self.index = np.full((len(origin), k), -1, dtype=np.int64)

    def ask(self) -> np.ndarray:
        if len(self.todo) == 0:
            return np.empty(0, dtype=np.int64)
        width = self.width[self.todo]
        self.prefix = (_nearest_allowed(self.origin[self.todo], self.pool, self.space,
                                        int(width.max())) if self.distances is None
                       else cf.nearest_of(self.distances[self.todo], int(width.max())))
        self.inside = (self.prefix >= 0) & (np.arange(self.prefix.shape[1]) < width[:, None])
        new = np.unique(self.prefix[self.inside])
        return new[~self.scored[new]]

    def tell(self, asked, labels) -> None:
        if len(self.todo) == 0:
            return
        self.known[asked], self.scored[asked] = labels, True
        row, rank = np.nonzero(self.inside)
        met = np.zeros(self.prefix.shape, dtype=bool)
        met[row, rank] = self.goal.met(self.known[self.prefix[row, rank]],
                                       None if self.goal.wanted is None else self.todo[row])
        order = np.argsort(~met, axis=1, kind="stable")[:, :self.k]
        self.index[self.todo] = np.where(np.take_along_axis(met, order, axis=1),
                                         np.take_along_axis(self.prefix, order, axis=1), -1)
        hits, width = met.sum(axis=1), self.width[self.todo]
        more = np.take_along_axis(self.prefix, width[:, None] - 1, axis=1)[:, 0] >= 0
        short = (hits < self.k) & more & (width < len(self.pool))
        grow = np.clip(1.5 * self.k / np.maximum(hits, 0.5), 2, 4)
        self.width[self.todo] = np.minimum(np.ceil(width * grow), len(self.pool)).astype(np.int64)
        self.todo = self.todo[short]


def _predict(model, codec, values) -> np.ndarray:
    """``model.predict`` of encoded rows, each distinct one predicted once."""
    first, inverse = cf.distinct_rows(values)
    return np.asarray(call_model(model.predict, codec.decode(values[first]))).ravel()[inverse]


@dataclass(frozen=True)
class _Tables:
    """The result's tables from the search's arrays."""

    codec: FeatureCodec
    space: cf.SearchSpace
    origin: np.ndarray
    labels: pd.Index

    def rows(self, predicted, desired, ok, found) -> pd.DataFrame:
        gap = cf.distance(found, self.origin[:, None, :], self.space)
        closest = np.where(ok, gap, np.inf).min(axis=1)
        return pd.DataFrame({"prediction": predicted,
                             "desired": np.broadcast_to(desired, len(predicted)),
                             "found": ok.sum(axis=1), "closest": closest},
                            index=self.labels.rename("row"))

    def found(self, found, ok, labels) -> pd.DataFrame:
        """Valid counterfactuals, closest first within each row."""
        gap = np.where(ok, cf.distance(found, self.origin[:, None, :], self.space), np.inf)
        order = np.argsort(gap, axis=1, kind="stable")
        row, rank = np.nonzero(np.take_along_axis(ok, order, axis=1))
        column = order[row, rank]
        table = self._table(row, rank, found[row, column])
        table.insert(len(self.codec.features), "prediction", labels[row, column])
        return table

    def nearest(self, data, index, pool) -> pd.DataFrame:
        row, rank = np.nonzero(index >= 0)
        table = self._table(row, rank, pool[index[row, rank]])
        table.insert(0, "data_row", data.index[index[row, rank]])
        return table

    def _table(self, row, rank, values) -> pd.DataFrame:
        frame = self.codec.decode(values)
        frame["distance"] = cf.distance(values, self.origin[row], self.space)
        frame["changed"] = cf.changed(values, self.origin[row])
        frame["changes"] = self.codec.changes(self.origin[row], values)
        frame.index = pd.MultiIndex.from_arrays([self.labels[row], rank], names=["row", "rank"])
        return frame


def _nearest_allowed(origin, pool, space, k):
    """Positions in ``pool`` of each row's ``k`` nearest rows with the row's immutable
    values, nearest first (−1: fewer)."""
    if k == 0:
        return np.empty((len(origin), 0), dtype=np.int64)
    return cf.nearest_rows(origin, pool, lambda part: _allowed(origin[part], pool, space),
                           space, k, block=DISTANCE_CELLS)


def _allowed(origin, pool, space) -> np.ndarray:
    """Whether each pool row has each origin's immutable values, ``(origins, pool)``."""
    fixed = ~space.mutable
    return (pool[None, :, fixed] == origin[:, None, fixed]).all(axis=-1)


def _frames(rows, data):
    if isinstance(rows, pd.Series):
        rows = rows.to_frame().T.infer_objects()
    if not isinstance(rows, pd.DataFrame):
        raise RaiError(f"rows must be a pandas DataFrame, got {type(rows).__name__}")
    if len(rows) == 0:
        raise RaiError(EMPTY_DATA.format(argument="rows"))
    data = rows if data is None else data
    if not isinstance(data, pd.DataFrame):
        raise RaiError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return rows, data


def _immutable(immutable, sensitive) -> list:
    if immutable is not None:
        return _names(immutable, "immutable")
    return [] if sensitive is None else [name for name, _ in facet_specs(sensitive)]


def _names(value, argument: str) -> list:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple, pd.Index)):
        raise RaiError(f"{argument} must be a column name or a list of them, got {value!r}")
    return list(names)


def _space(codec, data, features, features_to_vary, immutable, ranges):
    vary = features if features_to_vary == "all" else _names(features_to_vary,
                                                              "features_to_vary")
    if ranges is not None and not isinstance(ranges, dict):
        raise RaiError(f"ranges must be a dict of column → (low, high) or levels, got {ranges!r}")
    for argument, names in (("features_to_vary", vary), ("ranges", list(ranges or {}))):
        unknown = [n for n in names if n not in features]
        if unknown:
            raise RaiError(f"{argument} names {unknown[:5]}, not among the model's features "
                           f"{features[:20]}")
    mutable = np.array([f in vary and f not in immutable for f in features])
    if not mutable.any():
        raise RaiError("features_to_vary leaves no feature to change once the immutable ones "
                       f"{immutable} are fixed")
    values = codec.encode(data, argument="data")
    return search_space(codec, values, mutable=mutable, ranges=ranges or {}), values


def _goal(model, desired, predicted) -> Goal:
    classes = getattr(model, "classes_", None)
    if classes is None:
        return Goal(None, None, _interval(desired))
    classes = np.asarray(classes)
    if isinstance(desired, str) and desired == "opposite":
        if len(classes) != 2:
            raise RaiError(f"desired='opposite' needs a binary classifier; this one has "
                           f"{len(classes)} classes: pass desired=<one of {classes.tolist()}>")
        return Goal(classes, (predicted == classes[0]).astype(np.int64), None)
    hits = np.flatnonzero(classes == desired)
    if len(hits) == 0:
        raise RaiError(BAD_OPTION.format(argument="desired",
                                         allowed=["opposite", *classes.tolist()], value=desired))
    return Goal(classes, np.full(len(predicted), hits[0]), None)


def _interval(desired) -> tuple:
    try:
        low, high = (float(v) for v in desired)
    except (TypeError, ValueError):
        raise RaiError(f"desired must be (low, high) for a regression model, got {desired!r}") \
            from None
    if not low <= high:
        raise RaiError(f"desired must have low <= high, got {desired!r}")
    return low, high


def _count(value, argument: str, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        kind = "a positive" if least == 1 else "a non-negative"
        raise RaiError(f"{argument} must be {kind} integer, got {value!r}")
    return int(value)


def burden(model, data, *, sensitive, positive_label=None, features_to_vary="all",
           immutable=None, ranges=None, n_boot: int = 200, ci: float = 0.95,
           proximity_weight: float = 0.5, sparsity_weight: float = 0.0, population: int = 100,
           generations: int = 30, features=None, random_state=0) -> BurdenResult:
    """Burden per group (Sharma, Henderson & Ghosh, CERTIFAI, AIES 2020).

    For every group of each sensitive column: the mean distance (as in
    :func:`counterfactuals`) from its rows the model decides against to their closest
    counterfactual with the favourable outcome, with a percentile interval from a row
    bootstrap stratified by group. A larger burden means the group must change more to be
    accepted. Rows whose search found no counterfactual are counted, not averaged. The search
    runs for every row decided against (``population`` candidates each per generation): on a
    large frame, pass a sample of it.

    Parameters
    ----------
    model : fitted binary classifier
    data : pandas.DataFrame
        Rows with the model's features and the sensitive columns. Never modified.
    sensitive : str or list of str
        Sensitive columns (immutable unless ``immutable`` says otherwise).
    positive_label : optional
        The favourable class (default: the model's last class, 1 for 0/1 labels).
    features_to_vary, immutable, ranges, proximity_weight, sparsity_weight, population, \
generations, features, random_state
        As in :func:`counterfactuals` (one counterfactual per row, so no diversity; by
        default the closest by distance alone, CERTIFAI's burden, so no sparsity term).
    n_boot : int, default 200
        Bootstrap resamples.
    ci : float, default 0.95
        Interval coverage.

    Returns
    -------
    BurdenResult

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.linear_model import LogisticRegression
    >>> df = rai_nb.load_compas().head(300)
    >>> clf = LogisticRegression().fit(df[["age", "priors_count"]], df["two_year_recid"] == 0)
    >>> rai_nb.burden(clf, df, sensitive="race", n_boot=50).table.columns.tolist()
    ['rows', 'found', 'burden', 'lower', 'upper']
    """
    features = model_features(model, data, None, features)
    classes = np.asarray(getattr(model, "classes_", []))
    if len(classes) != 2:
        raise RaiError("burden needs a binary classifier (model.classes_ with two classes)")
    favourable = classes[-1] if positive_label is None else positive_label
    if favourable not in classes:
        raise RaiError(BAD_OPTION.format(argument="positive_label", allowed=classes.tolist(),
                                         value=favourable))
    if not 0 < ci < 1:
        raise RaiError(f"ci must be between 0 and 1, got {ci!r}")
    predicted = np.asarray(call_model(model.predict, data[features])).ravel()
    against = predicted != favourable
    names = [name for name, _ in facet_specs(sensitive)]
    groups = [encode_categorical(*column_values(data, name, argument="sensitive"),
                                 argument="sensitive") for name in names]
    if not against.any():
        raise RaiError(f"the model decides every row of data as {favourable!r}; no burden")
    result = counterfactuals(
        model, data[against], data=data, desired=favourable, features_to_vary=features_to_vary,
        immutable=immutable, sensitive=names, ranges=ranges, k=1,
        proximity_weight=proximity_weight, sparsity_weight=sparsity_weight,
        diversity_weight=0.0, population=population, generations=generations, n_nearest=0,
        features=features, random_state=random_state)
    distance = result.closest_distance
    seed = bootstrap_seed(random_state)
    table = pd.concat([_burden_table(g, g.codes[against], distance, n_boot, ci, seed)
                       for g in groups])
    return BurdenResult(table=table, favourable=favourable, n_boot=n_boot, ci=ci,
                        varied=result.varied, stats=result.stats)


def _burden_table(group, codes, distance, n_boot, ci, seed) -> pd.DataFrame:
    found = np.isfinite(distance)
    n = group.n_levels
    means = group_means(distance[found], codes[found], n)
    lower, upper = bootstrap_group_means(distance[found], codes[found], n, n_boot=n_boot, ci=ci,
                                         seed=seed)
    index = pd.MultiIndex.from_product([[group.name], list(group.levels)],
                                       names=["sensitive", "group"])
    return pd.DataFrame({"rows": np.bincount(codes, minlength=n),
                         "found": np.bincount(codes[found], minlength=n),
                         "burden": means, "lower": lower, "upper": upper}, index=index)
