"""Multiclass kernels against fairlearn, scikit-learn and smclarify, on real data and random cases."""

from __future__ import annotations

import logging
import warnings
from functools import partial
from typing import NamedTuple

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb.errors import RaiError
from rai_nb.stats.bias import DISPARITIES, bias_statistics, bootstrap_replicates, clarify_names
from rai_nb.stats.counts import confusion_counts
from rai_nb.stats.multiclass import (
    CLASS_METRICS,
    MULTICLASS_METRICS,
    class_disparities,
    class_metrics,
    multiclass_metrics,
    one_vs_rest,
    worst_classes,
    worst_disparities,
)
from tests.test_api_bias import NUMERIC, assert_matches_report

#: Independent references, in MULTICLASS_METRICS order.
MULTICLASS_REFERENCES = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "macro_f1": partial(skm.f1_score, average="macro", zero_division=0),
}
#: One-vs-rest references on labels binarised as y == k, ŷ == k, in CLASS_METRICS order.
CLASS_REFERENCES = {
    "selection_rate": partial(flm.selection_rate, pos_label=1),
    "true_positive_rate": partial(flm.true_positive_rate, pos_label=1),
    "false_positive_rate": partial(flm.false_positive_rate, pos_label=1),
    "precision": partial(skm.precision_score, pos_label=1, zero_division=0),
}


class Case(NamedTuple):
    """Class codes, group codes (of sorted group labels) and weights of one data set."""

    y: np.ndarray
    pred: np.ndarray
    groups: np.ndarray
    group_labels: np.ndarray
    n_classes: int
    weights: np.ndarray

    def counts(self, weighted=False):
        return confusion_counts(self.groups, self.y, self.pred, n_groups=len(self.group_labels),
                                n_classes=self.n_classes, weights=self.weights if weighted else None)

    def sensitive(self):
        return self.group_labels[self.groups]


def fitted_case(features, target, sensitive, seed):
    """A logistic model fitted on half the rows predicts all; labels become codes."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(features[::2], target[::2])
    classes = np.unique(target)
    group_labels, groups = np.unique(sensitive, return_inverse=True)
    weights = np.random.default_rng(seed).uniform(0.2, 3.0, len(target))
    return Case(np.searchsorted(classes, target), np.searchsorted(classes, model.predict(features)),
                groups, group_labels, len(classes), weights)


def bundled_case(loader, seed):
    features, target = loader(return_X_y=True)
    sensitive = np.random.default_rng(seed).choice(["a", "b"], len(target))
    # A group of four rows of classes 0 and 1 only: class 2 is absent from it.
    sensitive[np.r_[np.flatnonzero(target == 0)[:3], np.flatnonzero(target == 1)[:1]]] = "c"
    return fitted_case(features, target, sensitive, seed)


@pytest.fixture(scope="module")
def adult_sample():
    return rai_nb.load_adult(split="test").sample(3000, random_state=0).reset_index(drop=True)


def adult_case(frame, target, features):
    return fitted_case(frame[features].to_numpy(float), target, frame["sex"].to_numpy(str), 3)


@pytest.fixture(scope="module")
def cases(adult_sample):
    return {"iris": bundled_case(load_iris, 0), "wine": bundled_case(load_wine, 1),
            "adult_race": adult_case(adult_sample, adult_sample["race"].to_numpy(str), NUMERIC),
            # education bins (4 classes), not predicted from education_num itself
            "adult_education": adult_case(adult_sample,
                                          np.digitize(adult_sample["education_num"], [9, 10, 13]),
                                          [c for c in NUMERIC if c != "education_num"])}


CASES = ["iris", "wine", "adult_race", "adult_education"]


def reference_frame(metrics, y, pred, case, weighted):
    params = {name: {"sample_weight": case.weights} for name in metrics} if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns on classes absent from a group; values stand
        frame = flm.MetricFrame(metrics=metrics, y_true=y, y_pred=pred,
                                sensitive_features=case.sensitive(), sample_params=params)
    return frame.by_group.to_numpy(float)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_multiclass_metrics_equal_fairlearn(cases, name, weighted):
    case = cases[name]
    expected = reference_frame(MULTICLASS_REFERENCES, case.y, case.pred, case, weighted)
    got = multiclass_metrics(case.counts(weighted))
    assert list(MULTICLASS_REFERENCES) == list(MULTICLASS_METRICS)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_class_metrics_equal_fairlearn(cases, name, weighted):
    case = cases[name]
    got = class_metrics(case.counts(weighted))
    assert got.shape == (len(case.group_labels), case.n_classes, len(CLASS_METRICS))
    assert list(CLASS_REFERENCES) == list(CLASS_METRICS)
    for k in range(case.n_classes):
        expected = reference_frame(CLASS_REFERENCES, case.y == k, case.pred == k, case, weighted)
        np.testing.assert_allclose(got[:, k], expected, rtol=0, atol=1e-12, err_msg=f"class {k}")


def fairlearn_disparities(case, weighted, method):
    """fairlearn's summaries per class on labels binarised as y == k, ŷ == k: shape (K, D)."""
    weights = case.weights if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 ratios of a class nobody predicts are NaN
        return np.array([[getattr(flm, summary)(case.y == k, case.pred == k, method=method,
                                                sensitive_features=case.sensitive(),
                                                sample_weight=weights)
                          for summary in DISPARITIES] for k in range(case.n_classes)], dtype=float)


@pytest.mark.parametrize("name,weighted,method", [
    ("iris", False, "between_groups"), ("wine", True, "between_groups"),
    ("adult_race", False, "between_groups"), ("adult_race", True, "to_overall"),
    ("adult_education", True, "between_groups")])
def test_class_disparities_equal_fairlearn(cases, name, weighted, method):
    case = cases[name]
    expected = fairlearn_disparities(case, weighted, method)
    got = class_disparities(case.counts(weighted), method=method)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        worst = np.where(_is_difference(), np.nanmax(expected, axis=0),
                         np.nanmin(expected, axis=0))
    np.testing.assert_allclose(worst_disparities(got), worst, rtol=0, atol=1e-12)


def _is_difference():
    return np.array([kind == "difference" for _, _, kind in DISPARITIES.values()])


@pytest.fixture
def smclarify_bias_report():
    """smclarify's report for label (and predicted label) value ``label_value``, called as
    ``tests/test_api_bias.py`` calls it for label 1."""
    report = pytest.importorskip("smclarify.bias.report")
    logging.getLogger("smclarify").setLevel(logging.CRITICAL)  # it logs every refused metric

    def run(frame, facet, target, label_value, *, prediction=None, group_variable=None):
        stage = report.StageType.POST_TRAINING if prediction else report.StageType.PRE_TRAINING
        label = report.LabelColumn(target, frame[target], [label_value])
        predicted = (report.LabelColumn(prediction, frame[prediction], [label_value])
                     if prediction else None)
        metrics = ["all"] if prediction is None else list(rai_nb.stats.clarify.POSTTRAINING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # smclarify uses pandas APIs deprecated upstream
            return report.bias_report(frame, report.FacetColumn(facet), label, stage, predicted,
                                      metrics=metrics, group_variable=group_variable)
    return run


@pytest.mark.parametrize("stratified", [False, True])
def test_clarify_per_class_equals_smclarify(cases, adult_sample, smclarify_bias_report, stratified):
    """bias_statistics on each class's one-vs-rest tensor equals smclarify for that label value."""
    case = cases["adult_education"]
    strata_labels, strata = np.unique(adult_sample["relationship"].to_numpy(str), return_inverse=True)
    n_strata = len(strata_labels) if stratified else 1
    cells = case.groups * n_strata + (strata if stratified else 0)
    counts = confusion_counts(cells, case.y, case.pred, n_groups=len(case.group_labels) * n_strata,
                              n_classes=case.n_classes)
    counts = counts.reshape(len(case.group_labels), n_strata, case.n_classes, case.n_classes)
    table = bias_statistics(one_vs_rest(counts, group_axes=2), [None], predicted=True)["clarify"]
    frame = pd.DataFrame({"sex": case.sensitive(), "y": case.y, "pred": case.pred,
                          "relationship": strata_labels[strata]}).astype(
        {"sex": object, "relationship": object})
    names = clarify_names(predicted=True, stratified=stratified)
    strata_column = frame["relationship"] if stratified else None
    for k in range(case.n_classes):
        per_class = pd.DataFrame(table[k], index=case.group_labels.astype(str), columns=names)
        for prediction in (None, "pred"):
            if prediction and not np.any(case.pred == k):
                with pytest.raises(ValueError, match="No Label values are present in the predicted"):
                    smclarify_bias_report(frame, "sex", "y", k, prediction=prediction)
                continue
            assert_matches_report(per_class, smclarify_bias_report(
                frame, "sex", "y", k, prediction=prediction, group_variable=strata_column))


def brute_force_one_vs_rest(cells, y, pred, n_cells, n_classes):
    expected = np.zeros((n_classes, n_cells, 2, 2))
    for k in range(n_classes):
        np.add.at(expected[k], (cells, (y == k).astype(int), (pred == k).astype(int)), 1)
    return expected


def test_one_vs_rest_with_strata_and_replicates_equals_brute_force(cases):
    case = cases["adult_education"]
    strata = np.random.default_rng(5).integers(0, 3, len(case.y))
    n_groups = len(case.group_labels)
    cells = case.groups * 3 + strata
    counts = confusion_counts(cells, case.y, case.pred, n_groups=n_groups * 3,
                              n_classes=case.n_classes)
    expected = brute_force_one_vs_rest(cells, case.y, case.pred, n_groups * 3, case.n_classes)
    got = one_vs_rest(counts.reshape(n_groups, 3, case.n_classes, case.n_classes), group_axes=2)
    assert np.array_equal(got, expected.reshape(case.n_classes, n_groups, 3, 2, 2))
    replicates = bootstrap_replicates(counts, n_boot=4, random_state=0)
    assert one_vs_rest(replicates).shape == (4, case.n_classes, n_groups * 3, 2, 2)
    for function in (multiclass_metrics, class_metrics, class_disparities, one_vs_rest):
        stacked = function(replicates)
        for b in range(4):
            np.testing.assert_array_equal(stacked[b], function(replicates[b]), err_msg=str(function))


def test_non_square_counts_raise():
    with pytest.raises(RaiError, match="counts must have shape"):
        multiclass_metrics(np.zeros((3, 4, 5)))
    with pytest.raises(RaiError, match="counts must have shape"):
        one_vs_rest(np.zeros((4, 4)))


@st.composite
def small_cases(draw):
    """1-30 rows in up to 4 groups and 2-5 classes; the last class is sometimes never predicted,
    groups may hold one row and miss classes."""
    n_classes = draw(st.integers(2, 5))
    n = draw(st.integers(1, 30))
    n_groups = draw(st.integers(1, 4))
    never = draw(st.booleans())
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    pred = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1 - never)))
    groups = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    weights = draw(hnp.arrays(np.float64, n, elements=st.floats(0.1, 10)))
    return y, pred, groups, n_groups, n_classes, weights


@settings(max_examples=40, deadline=None)
@given(small_cases())
def test_weighted_one_vs_rest_is_zero_exactly_where_no_row_is(case):
    """Exact zeros keep zero denominators zero (a residue of 1e-17 would turn 0/0 into a rate)."""
    y, pred, groups, n_groups, n_classes, weights = case
    counts = confusion_counts(groups, y, pred, n_groups=n_groups, n_classes=n_classes,
                              weights=weights)
    expected = np.zeros((n_classes, n_groups, 2, 2))
    for k in range(n_classes):
        np.add.at(expected[k], (groups, (y == k).astype(int), (pred == k).astype(int)), weights)
    got = one_vs_rest(counts)
    assert np.array_equal(got == 0, expected == 0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def sklearn_group_metrics(y, pred, weights, n_classes):
    """Per-group reference: multiclass metrics, then each class's binarised metrics."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overall = [f(y, pred, sample_weight=weights) for f in MULTICLASS_REFERENCES.values()]
        by_class = [[f(y == k, pred == k, sample_weight=weights) for f in CLASS_REFERENCES.values()]
                    for k in range(n_classes)]
    return np.array(overall), np.array(by_class)


@settings(max_examples=40, deadline=None)
@given(small_cases(), st.booleans())
def test_small_groups_equal_sklearn(case, weighted):
    y, pred, groups, n_groups, n_classes, weights = case
    weights = weights if weighted else None
    counts = confusion_counts(groups, y, pred, n_groups=n_groups, n_classes=n_classes,
                              weights=weights)
    got, by_class = multiclass_metrics(counts), class_metrics(counts)
    for g in np.unique(groups):
        rows = groups == g
        expected, expected_by_class = sklearn_group_metrics(
            y[rows], pred[rows], None if weights is None else weights[rows], n_classes)
        np.testing.assert_allclose(got[g], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(by_class[g], expected_by_class, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(small_cases(), st.data())
def test_relabelling_permutes_classes_and_shuffling_changes_nothing(case, data):
    y, pred, groups, n_groups, n_classes, weights = case
    perm = np.array(data.draw(st.permutations(range(n_classes))))
    order = data.draw(st.permutations(range(len(y))))

    def statistics(y_, pred_, groups_, weights_):
        counts = confusion_counts(groups_, y_, pred_, n_groups=n_groups, n_classes=n_classes,
                                  weights=weights_)
        return multiclass_metrics(counts), class_metrics(counts), class_disparities(counts)

    overall, by_class, disparities = statistics(y, pred, groups, weights)
    relabelled = statistics(perm[y], perm[pred], groups, weights)
    np.testing.assert_allclose(relabelled[0], overall, rtol=0, atol=1e-12)
    np.testing.assert_allclose(relabelled[1][:, perm], by_class, rtol=0, atol=1e-12)
    np.testing.assert_allclose(relabelled[2][perm], disparities, rtol=0, atol=1e-12)
    np.testing.assert_allclose(worst_disparities(relabelled[2]), worst_disparities(disparities),
                               rtol=0, atol=1e-12)
    for got, expected in zip(statistics(y[order], pred[order], groups[order], weights[order]),
                             (overall, by_class, disparities)):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6),
                                        st.just(len(DISPARITIES))),
                  elements=st.one_of(st.floats(0, 1), st.just(np.nan))))
def test_worst_class_equals_brute_force(per_class):
    worst, which = worst_disparities(per_class), worst_classes(per_class)
    for index in np.ndindex(*worst.shape):
        b, d = index
        column = per_class[b, :, d]
        if np.isnan(column).all():
            assert np.isnan(worst[index]) and which[index] == -1
            continue
        expected = np.nanmax(column) if _is_difference()[d] else np.nanmin(column)
        assert worst[index] == expected and column[which[index]] == expected
        assert which[index] == np.flatnonzero(column == expected)[0]
