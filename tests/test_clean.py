"""rai_nb.clean and rai_nb.without: planted duplicates and flipped labels on Adult, removals per
group against counts made here, Reweighing weights, retrains against hand-made ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from sklearn.metrics import accuracy_score
from sklearn.tree import DecisionTreeClassifier

import rai_nb
from rai_nb.backend import to_host
from rai_nb.checks.cleaning import minority_label_mask, repeat_mask
from rai_nb.mitigation import reweighing_weights

TARGET = "income"
#: Share of the planted flipped labels the plan must find (conflicts or label errors); about
#: 0.7 is measured on these rows.
FLIP_RECALL = 0.5
N_DUPLICATES, N_FLIPPED, N_CONFLICTING = 40, 60, 10
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def planted():
    """3,000 Adult rows, 40 exact copies of some of them and 10 copies with the other label
    (new index labels), and 60 labels flipped; the frame, the copies', the flipped rows' and
    the conflicting copies' labels."""
    data = rai_nb.load_adult().drop(columns="split").sample(3000, random_state=1)
    data = data.reset_index(drop=True)
    copies = data.sample(N_DUPLICATES, random_state=2)
    copies.index = 10_000 + np.arange(N_DUPLICATES)
    flipped = data.drop(copies.index.intersection(data.index)).sample(N_FLIPPED,
                                                                        random_state=3).index
    conflicting = data.drop(flipped).sample(N_CONFLICTING, random_state=4)
    conflicting = conflicting.assign(**{TARGET: 1 - conflicting[TARGET]})
    conflicting.index = 20_000 + np.arange(N_CONFLICTING)
    data = pd.concat([data, copies, conflicting])
    data.loc[flipped, TARGET] = 1 - data.loc[flipped, TARGET]
    return data, copies.index, flipped, conflicting.index


@pytest.fixture(scope="module")
def plan(planted):
    data, *_ = planted
    before = data.copy(deep=True)
    result = rai_nb.clean(data, target=TARGET, sensitive=["sex", "race"])
    pd.testing.assert_frame_equal(data, before)
    return result


# --- kernels ----------------------------------------------------------------------------------

def _brute_minority(keys: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rows not carrying their feature group's unique majority label, by pandas."""
    frame = pd.DataFrame({"k": keys, "y": labels})
    own = frame.groupby(["k", "y"])["y"].transform("size")
    top = own.groupby(frame["k"]).transform("max")
    winners = (own == top).groupby([frame["k"], frame["y"]]).any().groupby(level="k").sum()
    return ((own < top) | (frame["k"].map(winners) > 1)).to_numpy()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), min_size=1, max_size=60))
def test_masks_equal_pandas(rows):
    keys, labels = (np.array(c) for c in zip(*rows))
    hashes = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    repeats = pd.Series(hashes).duplicated(keep="first").to_numpy()
    np.testing.assert_array_equal(repeat_mask(hashes), repeats)
    np.testing.assert_array_equal(minority_label_mask(hashes, labels, n_labels=3),
                                  _brute_minority(keys, labels))


def test_masks_on_every_namespace(xp):
    keys = np.array([5, 3, 5, 5, 3, 9, 3], dtype=np.uint64)
    labels = np.array([0, 1, 0, 1, 0, 1, 1])
    repeats = repeat_mask(xp.asarray(keys), xp=xp)
    minority = minority_label_mask(xp.asarray(keys), xp.asarray(labels), n_labels=2, xp=xp)
    assert to_host(repeats).tolist() == [False, False, True, True, True, False, True]
    # key 5: labels 0, 0, 1 (majority 0); key 3: 1, 0, 1 (majority 1); key 9 alone
    assert to_host(minority).tolist() == [False, False, False, True, True, False, False]


# --- the plan ---------------------------------------------------------------------------------

def test_duplicates_are_pandas_duplicated(planted, plan):
    data, copies, *_ = planted
    expected = data.index[data.duplicated(keep="first")]
    assert set(copies) <= set(expected)
    np.testing.assert_array_equal(plan.removed["duplicates"], expected)


def test_conflicts_are_brute_force(planted, plan):
    data, *_ = planted
    rest = data.drop(plan.removed["duplicates"])
    features = rest.drop(columns=TARGET)
    keys = features.groupby(list(features.columns), dropna=False, observed=True).ngroup()
    expected = rest.index[_brute_minority(keys.to_numpy(), rest[TARGET].to_numpy())]
    assert set(planted[3]) <= set(expected)
    np.testing.assert_array_equal(np.sort(plan.removed["conflicting_labels"]), np.sort(expected))


def test_flipped_labels_are_found(planted, plan):
    _, _, flipped, _ = planted
    found = set(plan.removed["conflicting_labels"]) | set(plan.removed["label_errors"])
    recall = len(found & set(flipped)) / len(flipped)
    print(f"flipped-label recall {recall:.2f} ({len(found)} rows flagged)")
    assert recall >= FLIP_RECALL


def test_removals_per_group_are_counts(planted, plan):
    data, *_ = planted
    steps = {**plan.removed, "all steps": np.concatenate(list(plan.removed.values()))}
    for step, labels in steps.items():
        for column in ("sex", "race"):
            table = plan.by_group.loc[(step, column)]
            removed = data.loc[labels, column].value_counts().reindex(table.index, fill_value=0)
            sizes = data[column].value_counts().reindex(table.index)
            np.testing.assert_array_equal(table["removed"], removed)
            np.testing.assert_array_equal(table["rows"], sizes)
            np.testing.assert_allclose(table["share"], removed / sizes)
            np.testing.assert_allclose(table["ratio"] * len(labels) / len(data), removed / sizes)
        both = plan.by_group.loc[(step, "sex × race")]
        pairs = data.loc[labels, "sex"].astype(str) + " · " + data.loc[labels, "race"].astype(str)
        np.testing.assert_array_equal(both["removed"],
                                      pairs.value_counts().reindex(both.index, fill_value=0))
    assert plan.steps["removed"].sum() == plan.n_removed


def test_apply_returns_copy_and_reweighing_weights(planted, plan):
    data, *_ = planted
    before = data.copy(deep=True)
    cleaned, weights = plan.apply()
    removed = np.concatenate(list(plan.removed.values()))
    pd.testing.assert_frame_equal(cleaned, data.drop(removed))
    groups = cleaned["sex"].astype(str) + "|" + cleaned["race"].astype(str)
    np.testing.assert_allclose(weights, reweighing_weights(cleaned[TARGET], groups))
    cleaned.iloc[0, 0] = -1
    pd.testing.assert_frame_equal(data, before)


def test_report_renders(plan):
    bundle = plan._repr_mimebundle_()
    assert "Removals by group" in bundle["text/html"]
    assert plan.to_dict()["summary"]["removed"] == plan.n_removed
    assert "MLClean" in plan.card_text()


def test_retrain_compares_hand_made_fits(planted, plan):
    data, *_ = planted
    test = rai_nb.load_adult().drop(columns="split").iloc[-1500:]
    model = _tree()
    comparison = plan.retrain(model, test=test, features=NUMERIC, n_boot=20)
    assert comparison.labels == ("before cleaning", "after cleaning")
    cleaned, weights = plan.apply()
    hands = {"before cleaning": _tree().fit(data[NUMERIC], data[TARGET]),
             "after cleaning": _tree().fit(cleaned[NUMERIC], cleaned[TARGET],
                                           sample_weight=weights)}
    accuracy = comparison.tables["by_group"].loc["accuracy"]
    overall = accuracy[accuracy.index.get_level_values(-1) == "(all rows)"].iloc[0]
    for label, hand in hands.items():
        expected = accuracy_score(test[TARGET], hand.predict(test[NUMERIC]))
        assert overall[label] == pytest.approx(expected)
    assert not hasattr(model, "tree_")


# --- without ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def split():
    data = rai_nb.load_adult().drop(columns="split").sample(4000, random_state=5)
    return data.iloc[:3000], data.iloc[3000:]


def _tree():
    return DecisionTreeClassifier(max_depth=6, max_features=0.6, random_state=3)


def test_without_equals_hand_made_retrain(split):
    train, test = split
    before = train.copy(deep=True)
    mask = (train["age"] < 30).to_numpy()
    result = rai_nb.without(_tree(), train, rows=mask, target=TARGET, test=test, sensitive="sex",
                            features=NUMERIC, n_boot=20, progress=False)
    hand = _tree().fit(train.loc[~mask, NUMERIC], train.loc[~mask, TARGET])
    np.testing.assert_array_equal(result.models[0].predict(test[NUMERIC]),
                                  hand.predict(test[NUMERIC]))
    row = result.table.iloc[0]
    assert row["rows_removed"] == mask.sum()
    assert row["accuracy_after"] == pytest.approx(accuracy_score(test[TARGET],
                                                                 hand.predict(test[NUMERIC])))
    by_labels = rai_nb.without(_tree(), train, rows=train.index[mask], target=TARGET, test=test,
                               sensitive="sex", features=NUMERIC, n_boot=20, progress=False)
    pd.testing.assert_frame_equal(by_labels.table, result.table)
    pd.testing.assert_frame_equal(train, before)
    assert "With and without the rows" in result.to_html()


def test_leave_one_slice_out(split):
    train, test = split
    base = _tree().fit(train[NUMERIC], train[TARGET])
    errors = (base.predict(train[NUMERIC]) != train[TARGET]).astype(float)
    found = rai_nb.slices(train[["sex", "race", "relationship"]].assign(err=errors),
                          errors="err", k=2, min_sup=100)
    result = rai_nb.without(_tree(), train, rows=found, target=TARGET, test=test,
                            sensitive="sex", features=NUMERIC, n_boot=0, n_jobs=2,
                            progress=False)
    assert list(result.table.index) == list(found.top["slice"])
    for i, (_, row) in enumerate(result.table.iterrows()):
        keep = ~found.mask(i, train)
        hand = _tree().fit(train.loc[keep, NUMERIC], train.loc[keep, TARGET])
        assert row["rows_removed"] == (~keep).sum()
        assert row["accuracy_after"] == pytest.approx(
            accuracy_score(test[TARGET], hand.predict(test[NUMERIC])))


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    ({"data": [1, 2]}, "data must be a pandas DataFrame"),
    ({"target": "nope"}, "'nope' given as target"),
    ({"steps": ["duplicates", "bogus"]}, "steps must be one of"),
    ({"steps": []}, "steps must name"),
    ({"estimator": DecisionTreeClassifier()}, "estimator needs test="),
    ({"target": "fnlwgt", "steps": "label_errors"}, "need a class target; 'fnlwgt'"),
    ({"sensitive": "nope"}, "'nope' given as sensitive"),
])
def test_clean_bad_inputs(split, kwargs, match):
    train, _ = split
    arguments = {"data": train.head(200), "target": TARGET, **kwargs}
    with pytest.raises(rai_nb.RaiError, match=match):
        rai_nb.clean(arguments.pop("data"), **arguments)


@pytest.mark.parametrize(("rows", "match"), [
    (np.ones(3, dtype=bool), "rows has 3 rows but the data has 200"),
    ([-5, -6], "rows has 2 index label"),
    (np.ones(200, dtype=bool), "would remove every training row"),
    ("age", "rows must be a boolean mask"),
])
def test_without_bad_inputs(split, rows, match):
    train, test = split
    with pytest.raises(rai_nb.RaiError, match=match):
        rai_nb.without(_tree(), train.head(200), rows=rows, target=TARGET, test=test,
                       sensitive="sex", features=NUMERIC, progress=False)


def test_without_needs_frames(split):
    train, _ = split
    with pytest.raises(rai_nb.RaiError, match="test must be a pandas DataFrame"):
        rai_nb.without(_tree(), train, rows=[], target=TARGET, test=None, sensitive="sex")


def test_retrain_needs_groups_and_a_test_frame(split):
    train, test = split
    plan = rai_nb.clean(train.head(300), target=TARGET, steps="duplicates")
    assert plan.by_group.empty and plan.apply().sample_weight.tolist() == [1.0] * 300
    with pytest.raises(rai_nb.RaiError, match="retrain needs sensitive columns"):
        plan.retrain(_tree(), test=test, features=NUMERIC)
    with pytest.raises(rai_nb.RaiError, match="test must be a pandas DataFrame"):
        plan.retrain(_tree(), test=test.to_numpy(), sensitive="sex")


def test_clean_magic_and_model_card(ipython_shell):
    toy = pd.DataFrame({"x": [1, 1, 2, 2, 3], "g": list("aabbb"), "y": [0, 0, 1, 0, 1]})
    ipython_shell.user_ns["toy"] = toy
    ipython_shell.run_line_magic("clean", "toy --target y --sensitive g "
                                          "--steps duplicates,conflicting_labels")
    plan = ipython_shell.user_ns["_cleaning"]
    assert {s: v.tolist() for s, v in plan.removed.items()} == {
        "duplicates": [1], "conflicting_labels": [2, 3]}
    ipython_shell.run_cell_magic("modelcard", "--audit none --cleaning last", "name: Toy\n")
    card = ipython_shell.user_ns["_modelcard"].to_markdown()
    assert "## Data cleaning" in card and "conflicting_labels: 2 rows" in card
    with pytest.raises(UsageError, match="steps must be one of"):
        ipython_shell.run_line_magic("clean", "toy --target y --steps bogus")


def test_out_of_distribution_rows_are_removed():
    adult = rai_nb.load_adult().drop(columns="split")
    reference, data = adult.iloc[:2000], adult.iloc[2000:3500].copy()
    far = data.sample(15, random_state=0).index
    data.loc[far, ["age", "hours_per_week", "capital_gain"]] = [150, 99, 99_999]
    plan = rai_nb.clean(data, target=TARGET, reference=reference, steps="out_of_distribution")
    removed = plan.removed["out_of_distribution"]
    assert set(far) <= set(removed)
    print(f"out of distribution: {len(removed)} rows removed, the {len(far)} planted among them")
    assert len(removed) < 0.05 * len(data)
    with pytest.raises(rai_nb.RaiError, match="'out_of_distribution' needs reference="):
        rai_nb.clean(data, target=TARGET, steps=["duplicates", "out_of_distribution"])
    assert list(rai_nb.clean(data, target=TARGET, reference=reference,
                             steps=None).steps.index)[-1] == "out_of_distribution"
