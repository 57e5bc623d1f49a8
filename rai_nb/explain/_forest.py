"""One array representation of a fitted tree ensemble, loaded from scikit-learn, XGBoost or LightGBM.

Every tree becomes rows of a node table: ``left``/``right`` child (-1 at leaves), ``feature``,
``threshold`` (a row goes left when ``x <= threshold``), ``default_left`` (where a missing value
goes), ``cover`` (training weight reaching the node) and ``value`` (leaf outputs, one column per
model output, already scaled as the ensemble sums them). Loaders are looked up by the model's
class name, so no optional library is imported to recognise a model.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import RaiError


@dataclass(frozen=True)
class Forest:
    """A tree ensemble: ``output = base + Σ_trees value[leaf reached]`` per output column.

    ``node_tree`` gives each node's tree; node ids are global (children index the same arrays).
    ``float32`` says the model compares features as float32 (scikit-learn trees, XGBoost).
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    cover: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    base: np.ndarray
    n_features: int
    float32: bool
    output: str

    @property
    def n_outputs(self) -> int:
        return self.value.shape[1]


def _concat(trees: list[dict], *, base, n_features: int, float32: bool, output: str) -> Forest:
    """Stack per-tree node arrays into one Forest with global node ids."""
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
        roots=offsets.astype(np.int64), base=np.atleast_1d(np.asarray(base, dtype=np.float64)),
        n_features=n_features, float32=float32, output=output)


def _sklearn_tree(tree, scale: float, value_column=None) -> dict:
    value = tree.value[:, :, 0] if value_column is None else tree.value[:, value_column, :]
    if value_column is None and tree.value.shape[2] > 1:  # classifier: class fractions
        value = tree.value[:, 0, :] / tree.value[:, 0, :].sum(axis=1, keepdims=True)
    default = getattr(tree, "missing_go_to_left", None)
    return {"left": tree.children_left, "right": tree.children_right, "feature": tree.feature,
            "threshold": tree.threshold, "cover": tree.weighted_n_node_samples,
            "default_left": np.ones(tree.node_count, bool) if default is None else default,
            "value": np.asarray(value, dtype=np.float64) * scale}


def _single_or_bagged(model) -> Forest:
    estimators = getattr(model, "estimators_", [model])
    scale = 1.0 / len(estimators)
    trees = [_sklearn_tree(e.tree_, scale) for e in estimators]
    is_classifier = hasattr(model, "classes_")
    output = "probability" if is_classifier else "raw"
    return _concat(trees, base=np.zeros(trees[0]["value"].shape[1]),
                   n_features=model.n_features_in_, float32=True, output=output)


def _gradient_boosting(model) -> Forest:
    stages = model.estimators_  # (n_stages, n_outputs)
    per_output = [[_sklearn_tree(stage[k].tree_, model.learning_rate) for stage in stages]
                  for k in range(stages.shape[1])]
    trees = []
    for k, column in enumerate(per_output):  # tree for output k puts its value in column k only
        for tree in column:
            value = np.zeros((len(tree["feature"]), stages.shape[1]))
            value[:, k] = tree["value"][:, 0]
            trees.append({**tree, "value": value})
    base = _gb_baseline(model, stages.shape[1])
    return _concat(trees, base=base, n_features=model.n_features_in_, float32=True,
                   output="raw" if stages.shape[1] == 1 else "log_odds")


def _gb_baseline(model, n_outputs: int) -> np.ndarray:
    """The raw (margin) prediction before any tree, from the fitted init estimator."""
    probe = np.zeros((1, model.n_features_in_))
    if model.init_ == "zero":
        return np.zeros(n_outputs)
    raw = model._raw_predict_init(probe)
    return np.asarray(raw, dtype=np.float64).reshape(-1)


def _hist_gradient_boosting(model) -> Forest:
    trees = []
    n_outputs = len(model._predictors[0])
    for stage in model._predictors:
        for k, predictor in enumerate(stage):
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):
                raise RaiError("TreeSHAP does not support HistGradientBoosting categorical splits")
            leaf = nodes["is_leaf"].astype(bool)
            value = np.zeros((len(nodes), n_outputs))
            value[:, k] = nodes["value"]
            trees.append({"left": np.where(leaf, -1, nodes["left"].astype(np.int64)),
                          "right": np.where(leaf, -1, nodes["right"].astype(np.int64)),
                          "feature": np.where(leaf, -2, nodes["feature_idx"]),
                          "threshold": nodes["num_threshold"], "cover": nodes["count"],
                          "default_left": nodes["missing_go_to_left"].astype(bool),
                          "value": value})
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    return _concat(trees, base=base, n_features=model.n_features_in_, float32=False,
                   output="raw" if n_outputs == 1 else "log_odds")


def _nodes_from_table(table: pd.DataFrame, *, ids, left, right, missing, feature, threshold,
                      cover, leaf_value, is_leaf, n_outputs: int, tree_output) -> list[dict]:
    """Per-tree node dicts from a ``trees_to_dataframe()`` table (XGBoost, LightGBM)."""
    position = pd.Series(np.arange(len(table)), index=table[ids].to_numpy())
    child = lambda column: position.reindex(table[column].to_numpy()).fillna(-1)  # noqa: E731
    start = table.groupby(table.columns[0], sort=False).cumcount().to_numpy()
    offset = np.arange(len(table)) - start
    leaf = is_leaf(table)
    value = np.zeros((len(table), n_outputs))
    value[np.arange(len(table)), tree_output] = np.where(leaf, table[leaf_value], 0.0)
    frame = {
        "left": np.where(leaf, -1, child(left).to_numpy() - offset).astype(np.int64),
        "right": np.where(leaf, -1, child(right).to_numpy() - offset).astype(np.int64),
        "feature": np.where(leaf, -2, feature(table)).astype(np.int64),
        "threshold": np.where(leaf, 0.0, threshold(table)),
        "default_left": np.where(leaf, True, missing(table, child, offset)),
        "cover": table[cover].to_numpy(np.float64), "value": value,
    }
    trees = table[table.columns[0]].to_numpy()
    bounds = np.flatnonzero(np.r_[True, trees[1:] != trees[:-1], True])
    return [{k: v[a:b] for k, v in frame.items()} for a, b in itertools.pairwise(bounds)]


def _xgboost(model) -> Forest:
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    config = json.loads(booster.save_config())
    learner = config["learner"]
    n_outputs = max(1, int(learner["learner_model_param"]["num_class"]))
    table = booster.trees_to_dataframe()
    if table["Category"].notna().any() if "Category" in table else False:
        raise RaiError("TreeSHAP does not support XGBoost categorical splits")
    names = booster.feature_names
    lookup = {name: i for i, name in enumerate(names)} if names else None

    def feature(frame):
        raw = frame["Feature"].where(frame["Feature"] != "Leaf", "f0")
        return raw.map(lookup) if lookup else raw.str[1:].astype(int)

    def missing(frame, child, offset):
        return (child("Missing").to_numpy() == child("Yes").to_numpy())

    # XGBoost goes left when x < split, in float32: that is x <= the float32 just below it.
    below = lambda frame: np.nextafter(frame["Split"].to_numpy(np.float32),  # noqa: E731
                                       np.float32(-np.inf)).astype(np.float64)
    tree_output = (table["Tree"].to_numpy() % n_outputs)
    trees = _nodes_from_table(
        table, ids="ID", left="Yes", right="No", missing=missing, feature=feature,
        threshold=below, cover="Cover", leaf_value="Gain",
        is_leaf=lambda frame: (frame["Feature"] == "Leaf").to_numpy(), n_outputs=n_outputs,
        tree_output=tree_output)
    base = _xgboost_margin_base(learner, n_outputs)
    return _concat(trees, base=base, n_features=booster.num_features(), float32=True,
                   output="raw" if n_outputs == 1 else "log_odds")


def _xgboost_margin_base(learner: dict, n_outputs: int) -> np.ndarray:
    text = learner["learner_model_param"]["base_score"].strip("[]")
    base = np.array([float(v) for v in text.split(",")], dtype=np.float64)
    objective = learner["objective"]["name"]
    if objective in ("binary:logistic", "reg:logistic"):
        base = np.log(base / (1 - base))
    elif objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
        base = np.log(base)
    return np.broadcast_to(base, (n_outputs,)).copy()


def _lightgbm(model) -> Forest:
    booster = model.booster_ if hasattr(model, "booster_") else model
    table = booster.trees_to_dataframe()
    if (table["decision_type"].dropna() != "<=").any():
        raise RaiError("TreeSHAP does not support LightGBM categorical splits")
    n_outputs = max(1, booster.num_model_per_iteration())
    names = booster.feature_name()
    lookup = {name: i for i, name in enumerate(names)}
    table = table.assign(count=table["count"].astype(np.float64))

    def missing(frame, child, offset):
        return (frame["missing_direction"] == "left").to_numpy()

    trees = _nodes_from_table(
        table, ids="node_index", left="left_child", right="right_child", missing=missing,
        feature=lambda f: f["split_feature"].map(lookup).fillna(0).to_numpy(),
        threshold=lambda f: f["threshold"].fillna(0).to_numpy(np.float64), cover="count",
        leaf_value="value", is_leaf=lambda f: f["split_feature"].isna().to_numpy(),
        n_outputs=n_outputs, tree_output=table["tree_index"].to_numpy() % n_outputs)
    return _concat(trees, base=np.zeros(n_outputs), n_features=booster.num_feature(),
                   float32=False, output="raw" if n_outputs == 1 else "log_odds")


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
    "XGBClassifier": _xgboost, "XGBRegressor": _xgboost, "Booster": None,
    "LGBMClassifier": _lightgbm, "LGBMRegressor": _lightgbm,
}


def is_tree_model(model) -> bool:
    """True when :func:`load_forest` can read ``model``."""
    return type(model).__name__ in LOADERS


def load_forest(model) -> Forest:
    """The :class:`Forest` of a fitted tree model; :class:`RaiError` if it is not fitted."""
    name = type(model).__name__
    if name == "Booster":  # both XGBoost and LightGBM call their raw model Booster
        loader = _xgboost if type(model).__module__.startswith("xgboost") else _lightgbm
    else:
        loader = LOADERS.get(name)
    if loader is None:
        raise RaiError(f"TreeSHAP cannot read a {name}; use method='kernel'")
    try:
        return loader(model)
    except (AttributeError, ValueError) as error:
        if "fit" in str(error).lower() or "attribute" in str(error).lower():
            raise RaiError(f"{name} is not fitted: {error}") from None
        raise
