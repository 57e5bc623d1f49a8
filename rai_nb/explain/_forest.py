"""One array representation of a fitted scikit-learn tree ensemble.

Every tree becomes rows of a node table: ``left``/``right`` child (-1 at leaves), ``feature``,
``threshold`` (a row goes left when ``x <= threshold``), ``default_left`` (where a missing value
goes), ``cover`` (training weight reaching the node) and ``value`` (leaf outputs, one column per
model output, already scaled as the ensemble sums them). A categorical split (HistGradientBoosting)
names a row of ``left_categories`` (bitsets of the categories sent left) and of
``known_categories`` (those seen in training; others count as missing). Loaders are looked up by
the model's class name. XGBoost, LightGBM and CatBoost explain themselves (``_native.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RaiError


@dataclass(frozen=True)
class Forest:
    """A tree ensemble: ``output = base + Σ_trees value[leaf reached]`` per output column.

    Node ids are global (children index the same arrays); ``category_set`` is -1 at numeric
    splits. ``float32`` says the model compares features as float32 (scikit-learn's trees).
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    cover: np.ndarray
    value: np.ndarray
    base: np.ndarray
    n_features: int
    float32: bool
    category_set: np.ndarray
    left_categories: np.ndarray
    known_categories: np.ndarray

    @property
    def n_outputs(self) -> int:
        return self.value.shape[1]


def _concat(trees: list[dict], *, base, n_features: int, float32: bool,
            left_categories=None, known_categories=None) -> Forest:
    """Stack per-tree node arrays into one Forest with global node ids."""
    no_sets = np.zeros((0, 8), np.uint32)
    offsets = np.cumsum([0] + [len(t["feature"]) for t in trees[:-1]])
    shift = lambda child, off: np.where(child >= 0, child + off, -1)  # noqa: E731
    return Forest(
        left=np.concatenate([shift(t["left"], o) for t, o in zip(trees, offsets)]),
        right=np.concatenate([shift(t["right"], o) for t, o in zip(trees, offsets)]),
        feature=np.concatenate([t["feature"] for t in trees]).astype(np.int64),
        threshold=np.concatenate([t["threshold"] for t in trees]).astype(np.float64),
        default_left=np.concatenate([t["default_left"] for t in trees]).astype(bool),
        cover=np.concatenate([t["cover"] for t in trees]).astype(np.float64),
        value=np.concatenate([t["value"] for t in trees]).astype(np.float64),
        base=np.atleast_1d(np.asarray(base, dtype=np.float64)),
        n_features=n_features, float32=float32,
        category_set=np.concatenate([t.get("category_set", np.full(len(t["feature"]), -1))
                                     for t in trees]).astype(np.int64),
        left_categories=no_sets if left_categories is None else left_categories,
        known_categories=no_sets if known_categories is None else known_categories)


def _sklearn_tree(tree, scale: float, features=None) -> dict:
    """Node arrays of a fitted ``sklearn.tree._tree.Tree``; ``features`` maps the tree's
    feature indices to the model's columns (bagging on feature subsets)."""
    value = tree.value[:, :, 0]
    if tree.value.shape[2] > 1:  # classifier: class fractions
        value = tree.value[:, 0, :] / tree.value[:, 0, :].sum(axis=1, keepdims=True)
    default = getattr(tree, "missing_go_to_left", None)
    feature = tree.feature if features is None else np.where(
        tree.feature >= 0, np.asarray(features)[np.maximum(tree.feature, 0)], tree.feature)
    return {"left": tree.children_left, "right": tree.children_right, "feature": feature,
            "threshold": tree.threshold, "cover": tree.weighted_n_node_samples,
            "default_left": np.ones(tree.node_count, bool) if default is None else default,
            "value": np.asarray(value, dtype=np.float64) * scale}


def _single_or_bagged(model) -> Forest:
    estimators = getattr(model, "estimators_", [model])
    scale = 1.0 / len(estimators)
    trees = [_sklearn_tree(e.tree_, scale) for e in estimators]
    return _concat(trees, base=np.zeros(trees[0]["value"].shape[1]),
                   n_features=model.n_features_in_, float32=True)


def _isolation_forest(model) -> Forest:
    """Mean isolation depth: each leaf holds its depth plus the expected depth of the
    unresolved samples, c(n) (Liu et al., ICDM 2008), as ``score_samples`` counts it."""
    scale = 1.0 / len(model.estimators_)
    trees = []
    for tree, features, depth, rest in zip(model.estimators_, model.estimators_features_,
                                           model._decision_path_lengths,
                                           model._average_path_length_per_tree):
        node = _sklearn_tree(tree.tree_, scale, features)
        node["value"] = ((depth + rest - 1.0) * scale)[:, None]
        trees.append(node)
    return _concat(trees, base=np.zeros(1), n_features=model.n_features_in_, float32=True)


def _gradient_boosting(model) -> Forest:
    stages = model.estimators_  # (n_stages, n_outputs)
    n_outputs = stages.shape[1]
    trees = []
    for k in range(n_outputs):  # the trees of output k put their value in column k only
        for stage in stages:
            tree = _sklearn_tree(stage[k].tree_, model.learning_rate)
            trees.append({**tree, "value": _in_column(tree["value"][:, 0], k, n_outputs)})
    init_trees, base = _gb_init(model, n_outputs)
    return _concat(trees + init_trees, base=base, n_features=model.n_features_in_,
                   float32=True)


def _in_column(value: np.ndarray, k: int, n_outputs: int) -> np.ndarray:
    out = np.zeros((len(value), n_outputs))
    out[:, k] = value
    return out


#: Dummy initial estimators whose predictions do not depend on the row.
_CONSTANT_STRATEGIES = {"prior", "most_frequent", "constant", "mean", "median", "quantile"}


def _gb_init(model, n_outputs: int) -> tuple[list[dict], np.ndarray]:
    """The raw prediction before the boosting stages: a constant, or the trees of a tree init.

    A regressor's init enters as ``link(init.predict(x))`` (identity for its losses), so a tree
    or forest init adds its own trees; a decision-tree classifier's enters as
    ``link(predict_proba(x))``, a leaf-wise value, so its leaves are mapped through the link.
    Any other init makes the output a non-tree function of ``x``: refused.
    """
    init = model.init_
    if isinstance(init, str) and init == "zero":
        return [], np.zeros(n_outputs)
    name = type(init).__name__
    if name.startswith("Dummy") and getattr(init, "strategy", None) in _CONSTANT_STRATEGIES:
        probe = np.zeros((1, model.n_features_in_))
        return [], np.asarray(model._raw_predict_init(probe), dtype=np.float64).reshape(-1)
    if is_tree_model(init) and not hasattr(model, "classes_") and \
            type(model._loss.link).__name__ == "IdentityLink" and not name.startswith("Hist"):
        forest = LOADERS[name](init)
        return [_tree_dict(forest)], forest.base
    if name in ("DecisionTreeClassifier", "ExtraTreeClassifier"):
        return [_linked_classifier_tree(model, init)], np.zeros(n_outputs)
    raise RaiError(f"{type(model).__name__} starts from init={name}, whose predictions are not "
                   "a tree ensemble, so TreeSHAP cannot explain it exactly; use method='kernel'")


def _tree_dict(forest: Forest) -> dict:
    """A loaded forest as one block of node arrays (its trees stay disconnected)."""
    return {"left": forest.left, "right": forest.right, "feature": forest.feature,
            "threshold": forest.threshold, "default_left": forest.default_left,
            "cover": forest.cover, "value": forest.value}


def _linked_classifier_tree(model, init) -> dict:
    tree = _sklearn_tree(init.tree_, 1.0)
    proba = tree["value"] if model._loss.is_multiclass else tree["value"][:, 1]
    eps = np.finfo(np.float64).eps
    raw = model._loss.link.link(np.clip(proba, eps, 1 - eps))
    return {**tree, "value": np.asarray(raw, dtype=np.float64).reshape(len(proba), -1)}


def _hist_gradient_boosting(model) -> Forest:
    """HistGradientBoosting's trees over the model's own input columns (the preprocessor that
    encodes pandas categories puts them first; node features are mapped back here)."""
    columns = hist_gradient_boosting_columns(model)
    known, _ = model._bin_mapper.make_known_categories_bitsets()
    trees, lefts, knowns = [], [], []
    n_outputs, n_sets = len(model._predictors[0]), 0
    for stage in model._predictors:
        for k, predictor in enumerate(stage):
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            categorical = nodes["is_categorical"].astype(bool) & ~leaf
            category_set = np.where(categorical, n_sets + nodes["bitset_idx"].astype(np.int64), -1)
            n_sets += len(predictor.raw_left_cat_bitsets)
            lefts.append(predictor.raw_left_cat_bitsets)
            knowns.append(_known_sets(model, nodes, categorical, known,
                                      len(predictor.raw_left_cat_bitsets)))
            trees.append({"left": np.where(leaf, -1, nodes["left"].astype(np.int64)),
                          "right": np.where(leaf, -1, nodes["right"].astype(np.int64)),
                          "feature": np.where(leaf, -2, columns[nodes["feature_idx"]]),
                          "threshold": nodes["num_threshold"], "cover": nodes["count"],
                          "default_left": nodes["missing_go_to_left"].astype(bool),
                          "value": _in_column(nodes["value"], k, n_outputs),
                          "category_set": category_set})
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    sets = lambda blocks: np.ascontiguousarray(np.concatenate(blocks).astype(np.uint32))  # noqa: E731
    return _concat(trees, base=base, n_features=model.n_features_in_, float32=False,
                   left_categories=sets(lefts), known_categories=sets(knowns))


def _known_sets(model, nodes, categorical, known, n_sets: int) -> np.ndarray:
    """For each category set of a tree, the categories its split's feature saw in training."""
    _, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    out = np.zeros((n_sets, known.shape[1]), np.uint32)
    out[nodes["bitset_idx"][categorical]] = known[f_idx_map[nodes["feature_idx"][categorical]]]
    return out


def hist_gradient_boosting_columns(model) -> np.ndarray:
    """For each feature HistGradientBoosting's trees read, the model input column it is."""
    if getattr(model, "_preprocessor", None) is None:
        return np.arange(model.n_features_in_)
    categorical = np.asarray(model.is_categorical_, dtype=bool)
    return np.concatenate([np.flatnonzero(categorical), np.flatnonzero(~categorical)])


#: Model class name → loader. Checked by name so optional libraries are never imported here.
LOADERS = {
    "DecisionTreeClassifier": _single_or_bagged, "DecisionTreeRegressor": _single_or_bagged,
    "ExtraTreeClassifier": _single_or_bagged, "ExtraTreeRegressor": _single_or_bagged,
    "RandomForestClassifier": _single_or_bagged, "RandomForestRegressor": _single_or_bagged,
    "ExtraTreesClassifier": _single_or_bagged, "ExtraTreesRegressor": _single_or_bagged,
    "GradientBoostingClassifier": _gradient_boosting,
    "GradientBoostingRegressor": _gradient_boosting,
    "HistGradientBoostingClassifier": _hist_gradient_boosting,
    "HistGradientBoostingRegressor": _hist_gradient_boosting,
    "IsolationForest": _isolation_forest,
}


def _loader(model):
    """The loader of ``model``'s class or of the scikit-learn class it derives from."""
    for cls in type(model).__mro__:
        if cls.__name__ in LOADERS and cls.__module__.startswith("sklearn."):
            return LOADERS[cls.__name__]
    return None


def is_tree_model(model) -> bool:
    """True when :func:`load_forest` can read ``model``."""
    return _loader(model) is not None


def load_forest(model) -> Forest:
    """The :class:`Forest` of a fitted tree model; :class:`RaiError` if it is not fitted."""
    name = type(model).__name__
    loader = _loader(model)
    if loader is None:
        raise RaiError(f"TreeSHAP cannot read a {name}; use method='kernel'")
    try:
        return loader(model)
    except (AttributeError, ValueError) as error:
        if "fit" in str(error).lower() or "attribute" in str(error).lower():
            raise RaiError(f"{name} is not fitted: {error}") from None
        raise
