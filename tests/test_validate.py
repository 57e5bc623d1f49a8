"""``rai_nb.validate`` and ``rai_nb.drift`` on Adult and COMPAS with problems injected on purpose."""

from __future__ import annotations

import json
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

import rai_nb
from rai_nb.api._validate import CHECKS, THRESHOLDS
from rai_nb.render import REPORT_MIME

ROWS = 4000
#: Checks that each injected problem below must trip, and that clean data must pass.
INJECTED = ["duplicates", "conflicting_labels", "label_leakage", "group_missingness", "drift",
            "label_drift", "multivariate_drift", "unseen_categories", "out_of_range"]


def sample(frame, n, seed):
    return frame.sample(n=min(n, len(frame)), random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def adult():
    """The whole training split as reference (a subsample would miss rare countries, which then
    rightly count as unseen categories) and a sample of the test split as current data."""
    train, test = (rai_nb.load_adult(split=split).drop(columns="split", errors="ignore")
                   for split in ("train", "test"))
    return train, sample(test, ROWS, 1)


@pytest.fixture(scope="module")
def compas():
    frame = rai_nb.load_compas()
    keep = ["sex", "age", "race", "priors_count", "juv_fel_count", "two_year_recid"]
    frame = frame[[c for c in keep if c in frame.columns]]
    return sample(frame, ROWS, 2)


def run(data, reference=None, **kwargs):
    saved = (data.copy(), None if reference is None else reference.copy())
    result = rai_nb.validate(data, reference=reference, **kwargs)
    pd.testing.assert_frame_equal(data, saved[0])  # inputs are never mutated
    if reference is not None:
        pd.testing.assert_frame_equal(reference, saved[1])
    return result


def severity(result, name):
    return result.checks.loc[name, "severity"]


def test_clean_adult_raises_no_false_alarm(adult):
    ref, cur = adult
    result = run(cur, ref, target="income", sensitive=["sex", "race"])
    assert set(result.checks.index) == set(CHECKS) - {"prediction_drift"}
    for name in INJECTED:
        assert severity(result, name) == "pass", result.checks.loc[name, "message"]
    # relationship (husband / wife) is a genuine proxy for sex: reported, but no failure.
    assert severity(result, "proxies") != "fail"
    assert result.drift is not None and not result.drift.dataset_drift


def test_clean_compas_raises_no_false_alarm(compas):
    ref, cur = compas.iloc[: ROWS // 2], compas.iloc[ROWS // 2:].reset_index(drop=True)
    result = run(cur, ref, target="two_year_recid", sensitive=["race", "sex"],
                 checks=["label_leakage", "proxies", "group_missingness", "drift", "label_drift",
                         "multivariate_drift", "unseen_categories"])
    assert (result.checks["severity"] == "pass").all(), result.checks


def test_duplicated_rows_are_flagged(adult):
    _, cur = adult
    dirty = pd.concat([cur, cur.iloc[:400]], ignore_index=True)
    result = run(dirty, target="income", checks=["duplicates"])
    assert severity(result, "duplicates") == "fail"
    assert result.details["duplicates"]["duplicate_rows"].iloc[0] >= 400


def test_conflicting_labels_are_flagged(adult):
    _, cur = adult
    flipped = cur.iloc[:200].assign(income=1 - cur["income"].iloc[:200])
    result = run(pd.concat([cur, flipped], ignore_index=True), target="income",
                 checks=["conflicting_labels", "duplicates"])
    assert severity(result, "conflicting_labels") == "fail"
    assert severity(result, "duplicates") == "pass"  # the rows differ in their label


@pytest.mark.parametrize("dataset,target", [("adult", "income"), ("compas", "two_year_recid")])
def test_leaked_target_copies_are_flagged(dataset, target, request):
    data = request.getfixturevalue(dataset)
    data = data[1] if isinstance(data, tuple) else data
    rng = np.random.default_rng(0)
    leaky = data.assign(outcome_code=np.where(data[target] == 1, "yes", "no"),
                        outcome_score=data[target] * 10 + rng.normal(0, 0.1, len(data)))
    result = run(leaky, target=target, checks=["label_leakage"])
    assert severity(result, "label_leakage") == "fail"
    assert set(result.checks.loc["label_leakage", "columns"]) == {"outcome_code", "outcome_score"}
    details = result.details["label_leakage"]
    assert details.loc["outcome_score", "auc"] > 0.99
    assert details.loc["outcome_code", "cramers_v"] > 0.95


def test_proxy_for_race_is_flagged_and_ranked_first(compas):
    rng = np.random.default_rng(1)
    codes = {race: f"area-{i}" for i, race in enumerate(sorted(compas["race"].unique()))}
    area = compas["race"].map(codes).where(rng.random(len(compas)) > 0.05, "area-0")
    result = run(compas.assign(area=area), target="two_year_recid", sensitive=["race", "sex"],
                 checks=["proxies"])
    assert severity(result, "proxies") == "fail"
    assert result.checks.loc["proxies", "columns"] == ("area",)
    assert result.details["proxies"].index[0] == ("area", "race")


def test_proxy_for_sex_is_flagged_by_auc(adult):
    _, cur = adult
    rng = np.random.default_rng(2)
    height = np.where(cur["sex"] == "Male", 178.0, 164.0) + rng.normal(0, 2.5, len(cur))
    result = run(cur.assign(height=height), target="income", sensitive="sex", checks=["proxies"])
    assert severity(result, "proxies") == "fail"
    assert result.details["proxies"].loc[("height", "sex"), "auc"] > 0.95


def test_missingness_in_one_group_is_flagged(adult):
    _, cur = adult
    rng = np.random.default_rng(3)
    hide = (cur["sex"] == "Female") & (rng.random(len(cur)) < 0.4)
    dirty = cur.assign(hours_per_week=cur["hours_per_week"].where(~hide))
    result = run(dirty, target="income", sensitive=["sex", "race"],
                 checks=["group_missingness", "missing_values"])
    assert severity(result, "group_missingness") == "fail"
    assert result.checks.loc["group_missingness", "columns"] == ("hours_per_week",)
    row = result.details["group_missingness"].loc["hours_per_week"]
    assert row["most_missing"] == "Female" and row["gap"] == pytest.approx(
        hide[cur["sex"] == "Female"].mean(), abs=1e-12)


def drifted_copy(frame, numeric):
    shifted = frame.copy()
    for name in numeric:
        shifted[name] = shifted[name] + frame[name].std()
    return shifted


def test_drifted_copy_is_flagged(adult):
    ref, cur = adult
    numeric = ["age", "hours_per_week", "education_num"]
    dirty = drifted_copy(cur, numeric).assign(income=(cur["income"] == 0).astype(int))
    result = run(dirty, ref, target="income", sensitive="sex",
                 checks=["drift", "label_drift", "multivariate_drift", "out_of_range"])
    assert severity(result, "drift") in ("warn", "fail")
    assert set(numeric) <= set(result.checks.loc["drift", "columns"])
    assert severity(result, "label_drift") == "warn"
    assert severity(result, "multivariate_drift") == "warn"
    assert severity(result, "out_of_range") != "pass"


def test_drift_of_frames_whose_only_column_is_empty():
    """No test can run on an all-missing column: its method reads "none", nothing drifts."""
    empty = pd.DataFrame({"x": [np.nan] * 50})
    table = rai_nb.drift(empty, empty).columns
    assert table.loc["x", "method"] == "none" and not table.loc["x", "drifted"]


def test_unseen_category_is_flagged(compas):
    ref, cur = compas.iloc[: ROWS // 2], compas.iloc[ROWS // 2:].reset_index(drop=True)
    dirty = cur.assign(race=cur["race"].astype(str).where(cur.index % 10 != 0, "Martian"))
    result = run(dirty, ref, checks=["unseen_categories", "drift"])
    assert severity(result, "unseen_categories") == "fail"
    assert result.details["unseen_categories"].loc["race", "examples"] == ["Martian"]


def test_drift_statistics_equal_scipy_on_real_columns(adult):
    ref, cur = adult
    result = rai_nb.drift(ref, cur, target="income", mmd=False)
    table = result.columns
    for name in ["age", "fnlwgt", "hours_per_week", "capital_gain"]:
        a, b = ref[name].dropna().to_numpy(float), cur[name].dropna().to_numpy(float)
        ks = stats.ks_2samp(a, b)
        assert table.loc[name, "ks"] == pytest.approx(ks.statistic, abs=1e-12)
        assert table.loc[name, "ks_pvalue"] == pytest.approx(ks.pvalue, abs=1e-9)
        assert table.loc[name, "wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b),
                                                               abs=1e-9)
        assert table.loc[name, "method"] == "wasserstein"
    for name in ["education", "race", "sex"]:
        counts = pd.concat([ref[name].value_counts(dropna=False),
                            cur[name].value_counts(dropna=False)], axis=1).fillna(0).T.to_numpy()
        chi2 = stats.chi2_contingency(counts)
        assert table.loc[name, "chi2"] == pytest.approx(chi2.statistic, abs=1e-9)
        assert table.loc[name, "chi2_pvalue"] == pytest.approx(chi2.pvalue, abs=1e-9)
        assert table.loc[name, "jensen_shannon"] == pytest.approx(
            jensenshannon(counts[0], counts[1]), abs=1e-9)
    assert table.loc["income", "role"] == "target"
    assert not result.dataset_drift


def test_infinities_are_values_counted_apart_from_missing(compas):
    """Half of a column turned +inf: KS as scipy (0.5, not the 0.07 of treating inf as missing),
    W1 infinite, out of the finite reference range, and counted as infinite, not missing."""
    ref, cur = compas.iloc[:1500], compas.iloc[1500:3000].reset_index(drop=True)
    dirty = cur.assign(age=cur["age"].astype(float).where(cur.index % 2 == 0, np.inf),
                       priors_count=cur["priors_count"].astype(float).where(cur.index != 7, np.nan))
    dirty.loc[3, "priors_count"] = -np.inf
    result = run(dirty, ref, checks=["drift", "out_of_range", "missing_values", "infinite_values"])
    drift = result.drift.columns
    a, b = ref["age"].to_numpy(float), dirty["age"].to_numpy(float)
    assert drift.loc["age", "ks"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert drift.loc["age", "ks"] > 0.5 and drift.loc["age", "drifted"]
    assert drift.loc["age", "wasserstein"] == np.inf
    assert drift.loc["age", "missing_current"] == 0.0
    out = result.details["out_of_range"]
    assert out.loc["age", "outside_rows"] >= 750 and severity(result, "out_of_range") == "fail"
    missing = result.details["missing_values"]["missing"]
    assert missing["age"] == 0 and missing["priors_count"] == 1
    infinite = result.details["infinite_values"]
    assert infinite.loc["age", ["neg_inf", "pos_inf"]].tolist() == [0, 750]
    assert infinite.loc["priors_count", ["neg_inf", "pos_inf"]].tolist() == [1, 0]
    assert infinite.loc["age", "reference_pos_inf"] == 0
    assert severity(result, "infinite_values") == "fail"
    assert "infinite_values" in result.to_markdown()


cells = st.one_of(st.floats(-20, 20).map(lambda v: round(v, 0)),
                  st.sampled_from([np.nan, np.inf, -np.inf]))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 40), elements=cells),
       hnp.arrays(np.float64, st.integers(2, 40), elements=cells))
def test_inf_and_nan_mixed_are_counted_and_ordered_as_scipy(cur, ref):
    """NaN is missing, ±inf is a value: the counts, the range check and KS agree with NumPy and
    scipy on the non-missing values."""
    cur_frame, ref_frame = pd.DataFrame({"x": cur}), pd.DataFrame({"x": ref})
    result = run(cur_frame, ref_frame, checks=["missing_values", "infinite_values",
                                               "out_of_range", "drift"])
    assert result.details["missing_values"].loc["x", "missing"] == np.isnan(cur).sum()
    infinite = result.details["infinite_values"].loc["x"]
    assert (infinite["neg_inf"], infinite["pos_inf"]) == ((cur == -np.inf).sum(),
                                                          (cur == np.inf).sum())
    assert (infinite["reference_neg_inf"], infinite["reference_pos_inf"]) == (
        (ref == -np.inf).sum(), (ref == np.inf).sum())
    a, b = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if a.size and b.size:
        outside = ((b < a.min()) | (b > a.max())).sum()
        assert result.details["out_of_range"].loc["x", "outside_rows"] == outside
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's note when its exact count overflows
            expected = stats.ks_2samp(a, b).statistic
        assert result.drift.columns.loc["x", "ks"] == pytest.approx(expected, abs=1e-12)


def test_column_chunks_do_not_change_the_result(compas, monkeypatch):
    """Row keys and missing masks built one column at a time give the same checks."""
    ref, cur = compas.iloc[:2000], compas.iloc[2000:].reset_index(drop=True)
    cur = cur.assign(age=cur["age"].where(cur.index % 7 != 0))
    options = dict(target="two_year_recid", sensitive="race", n_permutations=20)
    expected = run(cur, ref, **options)
    monkeypatch.setattr("rai_nb.frame._row_sample.COLUMN_CHUNK", 1)
    got = run(cur, ref, **options)
    pd.testing.assert_frame_equal(got.checks, expected.checks)
    for name, table in expected.details.items():
        if table is not None:
            pd.testing.assert_frame_equal(got.details[name], table)


def test_small_samples_use_tests_and_methods_can_be_chosen(compas):
    ref, cur = compas.iloc[:300], compas.iloc[300:700]
    auto = rai_nb.drift(ref, cur, mmd=False).columns
    assert auto.loc["age", "method"] == "ks" and auto.loc["race", "method"] == "chi2"
    assert auto.loc["age", "p_value"] == auto.loc["age", "ks_pvalue"]
    chosen = rai_nb.drift(ref, cur, mmd=False, numeric_method="psi",
                          thresholds={"drift_psi": 0.0001}).columns
    assert chosen.loc["age", "method"] == "psi" and chosen.loc["age", "drifted"]


@pytest.fixture(scope="module")
def compas_full():
    return rai_nb.load_compas()


def test_amounts_are_not_identifiers_but_indexes_and_codes_are(adult):
    """fnlwgt (a census weight) is 98 % distinct in 1,000 rows yet not id-like; a running index,
    a shuffled split of one and string codes ("c123") are; floats never are."""
    _, cur = adult
    rows = cur.iloc[:1000]
    shuffled = np.random.default_rng(0).permutation(5000)[:1000]
    data = rows.assign(row_id=np.arange(1000), split_id=shuffled,
                       code=[f"c{i}" for i in shuffled], amount=rows["fnlwgt"] * 1.01)
    result = run(data, target="income", checks=["id_like"])
    table = result.details["id_like"]
    assert table.loc["fnlwgt", "distinct_share"] >= THRESHOLDS["id_distinct_share"][0]
    assert table.loc["fnlwgt", "severity"] == "pass"
    assert table.loc["fnlwgt", "skipped"].startswith("integer values cluster")
    assert "amount" not in table.index  # a float column is a measurement
    assert set(result.checks.loc["id_like", "columns"]) == {"row_id", "split_id", "code"}


def test_compas_id_is_an_identifier(compas_full):
    result = run(compas_full, checks=["id_like"])
    assert result.checks.loc["id_like", "columns"] == ("id",)


def test_ordinal_and_zero_inflated_columns_are_not_outliers(compas_full):
    """Adult's education_num (16 levels), capital_gain (over 90 % zeros, fences 0–0) and
    hours_per_week (heaped: 47 % at 40, the median and first quartile), and
    COMPAS's juvenile counts (10 values) and day offsets (fences −1–−1, 1–1) are skipped, with
    the reason in the details; continuous columns keep Tukey's counts."""
    adult = rai_nb.load_adult()
    table = run(adult, target="income", checks=["outliers"]).details["outliers"]
    assert table.loc["education_num", "skipped"].startswith("16 distinct values")
    assert table.loc["capital_gain", "skipped"].startswith("fences collapse to 0–0")
    hours = adult["hours_per_week"]
    assert (hours == 40).mean() > 0.25 and hours.nunique() > 20  # a heap, not an ordinal
    assert table.loc["hours_per_week", "skipped"].startswith("heaped at 40")
    skipped = table[table["skipped"] != ""]
    assert skipped[["iqr_outliers", "iqr_share"]].isna().all().all()
    assert (skipped["severity"] == "pass").all()
    values = adult["fnlwgt"].to_numpy(np.float64)
    q1, q3 = np.percentile(values, [25, 75])
    outside = (values < q1 - 1.5 * (q3 - q1)) | (values > q3 + 1.5 * (q3 - q1))
    assert table.loc["fnlwgt", "iqr_outliers"] == outside.sum()
    compas = run(compas_full, checks=["outliers"])
    table = compas.details["outliers"]
    for name in ("juv_fel_count", "juv_misd_count", "days_b_screening_arrest",
                 "c_days_from_compas"):
        assert table.loc[name, "skipped"], name
    flagged = set(compas.checks.loc["outliers", "columns"])
    assert flagged and not flagged & set(table.index[table["skipped"] != ""])


def test_label_errors_are_indexed_by_the_frames_labels(adult):
    """Rows named by index label (a sampled frame's index runs far past its length), with the
    label shown being the row's own."""
    _, cur = adult
    data = cur.iloc[:1000].set_axis(np.arange(1000) * 7 + 3)
    flipped = data.assign(income=np.where(np.arange(1000) % 9 == 0, 1 - data["income"],
                                          data["income"]))
    details = run(flipped, target="income", checks=["label_errors"]).details["label_errors"]
    assert len(details) > 0 and details.index.isin(flipped.index).all()
    assert details.index.max() > 1000
    np.testing.assert_array_equal(details["label"], flipped.loc[details.index, "income"])


def test_thresholds_and_selection(adult):
    _, cur = adult
    strict = run(cur, target="income", checks="missing_values",
                 thresholds={"missing_share": (0.001, 0.01)})
    assert list(strict.checks.index) == ["missing_values"]
    assert severity(strict, "missing_values") == "fail"
    lax = run(cur, target="income", checks=["missing_values"],
              thresholds={"missing_share": (None, None)})
    assert severity(lax, "missing_values") == "pass"
    assert lax.thresholds["duplicate_share"] == THRESHOLDS["duplicate_share"]


def test_result_renders_everywhere(adult):
    ref, cur = adult
    result = run(cur.assign(leak=cur["income"]), ref.assign(leak=ref["income"]), target="income",
                 sensitive="sex", checks=["label_leakage", "drift", "duplicates"])
    assert list(result.failed.index) == ["label_leakage"] and not result.passed
    bundle = result._repr_mimebundle_()
    assert "label_leakage" in bundle["text/html"] and "<script" not in bundle["text/html"]
    assert "label_leakage" in result.to_markdown()
    json.dumps(bundle[REPORT_MIME])
    assert bundle[REPORT_MIME]["summary"]["failed"] == ["label_leakage"]
    drift_bundle = result.drift._repr_mimebundle_()
    assert drift_bundle[REPORT_MIME]["kind"] == "drift"


@pytest.mark.parametrize("call,match", [
    (lambda df: rai_nb.validate(df, target="nope"), "'nope' given as target"),
    (lambda df: rai_nb.validate(df, sensitive=["sex", "nope"]), "'nope' given as sensitive"),
    (lambda df: rai_nb.validate(df, checks=["vibes"]), "checks must be one of"),
    (lambda df: rai_nb.validate(df, checks=["drift"]), "needs reference="),
    (lambda df: rai_nb.validate(df, checks=["label_leakage"]), "needs target"),
    (lambda df: rai_nb.validate(df, thresholds={"vibes": (1, 2)}), "thresholds key"),
    (lambda df: rai_nb.validate(df, thresholds={"missing_share": 0.1}), r"\(warn, fail\) pair"),
    (lambda df: rai_nb.validate(df.values), "data must be a pandas, Dask or Spark DataFrame"),
    (lambda df: rai_nb.validate(df.iloc[:0]), "data has no rows"),
    (lambda df: rai_nb.validate(df, reference=df.iloc[:0]), "reference has no rows"),
    (lambda df: rai_nb.validate(df.assign(income=df["income"].where(df.index > 0)),
                                target="income"), "target .'income'. has 1 missing"),
    (lambda df: rai_nb.validate(df, n_permutations=0), "n_permutations"),
    (lambda df: rai_nb.validate(df, sample_weight="nope"), "'nope' given as sample_weight"),
    (lambda df: rai_nb.validate(df, sample_weight=np.ones(3)), "sample_weight"),
    (lambda df: rai_nb.validate(df.assign(w=np.nan), sample_weight="w"),
     "sample_weight .'w'. has 4000 missing"),
    (lambda df: rai_nb.validate(df.assign(w=-1.0), sample_weight="w"), "sample_weight .'w'.*negative"),
    (lambda df: rai_nb.validate(df.assign(w=0), sample_weight="w"), "sample_weight .'w'. is zero"),
    (lambda df: rai_nb.validate(df, sample_weight="sex"), "sample_weight .'sex'. must hold numbers"),
    (lambda df: rai_nb.validate(df, sensitive={"sex": 4}), r"sensitive\['sex'\] = 4 bins"),
    (lambda df: rai_nb.validate(df, sensitive={"age": 1}), "2 to 20"),
    (lambda df: rai_nb.drift(df, df, numeric_method="magic"), "numeric_method must be one of"),
    (lambda df: rai_nb.drift(df, df, columns=["age", "nope"]), "'nope' given as columns"),
    (lambda df: rai_nb.drift(df, df.drop(columns="income"), target="income"),
     "'income' given as target"),
])
def test_bad_input_raises_rai_error_naming_it(compas, call, match):
    frame = compas.rename(columns={"two_year_recid": "income"})
    with pytest.raises(rai_nb.RaiError, match=match):
        call(frame)


#: The checks whose per-group counts follow ``sample_weight``.
GROUP_CHECKS = ["representation", "group_imbalance", "group_missingness"]


@pytest.fixture(scope="module")
def adult_sample():
    frame = sample(rai_nb.load_adult(split="test").drop(columns="split"), 3000, 4)
    frame.loc[(frame["sex"] == "Female") & (frame.index % 3 == 0), "hours_per_week"] = np.nan
    return frame


def note(message: str) -> tuple[str, str]:
    """A message and the trailing note in parentheses of how groups were made."""
    stem, found, tail = message.rpartition(" (")
    return (stem, tail) if found and message.endswith(")") else (message, "")


@pytest.mark.parametrize("spec", ["age", {"age": 4}, {"age": [30, 45, 60]}, {"age": 40.0},
                                  {"age": None}, {"age": 6, "sex": None}])
def test_sensitive_groups_equal_bias_groups(adult, spec):
    """Sensitive columns become the groups bias makes: a numeric column of many values
    auto-binned into 4 quantile groups, or as asked (bins, edges, threshold, levels)."""
    _, data = adult
    result = run(data, target="income", sensitive=spec, checks=GROUP_CHECKS)
    fairness = rai_nb.bias(data, target="income", sensitive=spec, prediction="income", n_boot=0)
    counts = result.details["representation"]["count"]
    names = list(spec) if isinstance(spec, dict) else [spec]
    for name in names:
        expected = fairness.by_group["count"] if len(names) == 1 else \
            fairness.by_group["count"].groupby(level=name).sum()
        assert counts.xs(name, level="sensitive").sort_index().to_dict() == expected.to_dict()
    assert ("4 quantile groups" in fairness.binned.get("age", "")) == (spec in ("age", {"age": 4}))
    for name in GROUP_CHECKS:  # the messages say how age was binned, as bias does
        assert note(result.checks.loc[name, "message"])[1] == \
            (f"{fairness.binned['age']})" if fairness.binned else "")


def repeated(frame: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    return frame.loc[frame.index.repeat(weights)].reset_index(drop=True)


def test_integer_weights_equal_repeated_rows(adult_sample):
    """A row of weight w counts as w rows: the weighted per-group checks equal the unweighted
    ones on the frame with every row repeated w times (0 drops it)."""
    rng = np.random.default_rng(7)
    weights = rng.integers(0, 4, len(adult_sample))
    # A group of zero weight stays (0 rows) but has no repeated rows: keep one row of each.
    cells = [adult_sample["sex"], adult_sample["race"], pd.cut(adult_sample["age"], [0, 30, 45, 60, 99])]
    weights[adult_sample.groupby(cells, observed=True).head(1).index] = 1
    options = dict(target="income", sensitive={"sex": None, "race": None, "age": [30, 45, 60]},
                   checks=GROUP_CHECKS)
    got = run(adult_sample.assign(w=weights), sample_weight="w", **options)
    expected = run(repeated(adult_sample, weights), **options)
    for name in GROUP_CHECKS:
        pd.testing.assert_frame_equal(got.details[name], expected.details[name], check_dtype=False)
        assert got.checks.loc[name, "severity"] == expected.checks.loc[name, "severity"]
        (stem, tail), (expected_stem, expected_tail) = (note(r.checks.loc[name, "message"])
                                                        for r in (got, expected))
        assert stem == expected_stem
        assert tail == expected_tail[:-1] + "; counts weighted by 'w')"
    assert got.checks.loc["group_missingness", "severity"] != "pass"
    assert "w" not in got.details["group_missingness"].index


def test_weights_as_an_array_leave_other_checks_unweighted(adult_sample):
    weights = np.random.default_rng(8).integers(1, 4, len(adult_sample))
    options = dict(target="income", sensitive="sex")
    got = run(adult_sample, sample_weight=weights, **options)
    plain = run(adult_sample, **options)
    for name in set(CHECKS) & set(plain.details) - set(GROUP_CHECKS):
        if plain.details[name] is not None:
            pd.testing.assert_frame_equal(got.details[name], plain.details[name])
        assert got.checks.loc[name, "message"] == plain.checks.loc[name, "message"]


def test_weight_column_is_not_a_feature(adult_sample):
    weights = np.random.default_rng(9).uniform(0, 3, len(adult_sample))
    got = run(adult_sample.assign(w=weights), sample_weight="w", target="income", sensitive="sex")
    plain = run(adult_sample, target="income", sensitive="sex")
    for name in ("label_leakage", "proxies", "outliers", "id_like", "group_missingness"):
        assert "w" not in got.details[name].index.get_level_values(0)
    assert got.checks.loc["conflicting_labels", "message"] == \
        plain.checks.loc["conflicting_labels", "message"]


def test_fractional_weights_equal_fairlearn_and_brute_force(adult_sample):
    """Weighted group sizes and label rates against fairlearn's MetricFrame with
    ``sample_params``; weighted missing shares and their gap against a pandas groupby."""
    from fairlearn.metrics import MetricFrame

    data = adult_sample
    weights = np.random.default_rng(10).gamma(0.7, 2.0, len(data))
    weights[:40] = 0.0
    result = run(data, target="income", sensitive="race", sample_weight=weights,
                 checks=GROUP_CHECKS)
    y = data["income"].to_numpy()
    frame = MetricFrame(metrics={"count": lambda t, p, sample_weight: sample_weight.sum(),
                                 "positive_rate": lambda t, p, sample_weight:
                                 np.average(t, weights=sample_weight)},
                        y_true=y, y_pred=y, sensitive_features=data["race"],
                        sample_params={k: {"sample_weight": weights}
                                       for k in ("count", "positive_rate")})
    by_group = frame.by_group
    representation = result.details["representation"].xs("race", level="sensitive")
    np.testing.assert_allclose(representation["count"], by_group.loc[representation.index, "count"],
                               rtol=1e-12)
    np.testing.assert_allclose(representation["share"],
                               by_group.loc[representation.index, "count"] / weights.sum(),
                               rtol=1e-12)
    imbalance = result.details["group_imbalance"].xs("race", level="sensitive")
    np.testing.assert_allclose(imbalance["positive_rate"],
                               by_group.loc[imbalance.index, "positive_rate"], rtol=1e-12)
    big = by_group["count"] >= THRESHOLDS["min_group_size"][0]
    rates = by_group.loc[big, "positive_rate"]
    np.testing.assert_allclose(imbalance["ratio_to_highest"].dropna(),
                               (rates / rates.max()).loc[imbalance["ratio_to_highest"].dropna().index],
                               rtol=1e-12)
    missing = data.drop(columns="race").isna().mul(weights, axis=0).groupby(data["race"]).sum()
    sizes = pd.Series(weights).groupby(data["race"].to_numpy()).sum()
    shares = missing.div(sizes, axis=0)[sizes >= THRESHOLDS["min_group_size"][0]]
    gaps = result.details["group_missingness"]["gap"]
    np.testing.assert_allclose(gaps, (shares.max() - shares.min()).loc[gaps.index], rtol=1e-12,
                               atol=1e-15)
    assert set(gaps.index) == set(data.columns) - {"race"}


def test_weighted_missing_counts_on_every_namespace(xp):
    from rai_nb.backend import to_device
    from rai_nb.checks import quality as kq

    rng = np.random.default_rng(11)
    missing, groups = rng.random((3, 300)) < 0.3, rng.integers(0, 4, 300)
    weights = rng.uniform(0, 2, 300)
    got = kq.missing_by_group(to_device(missing, xp), to_device(groups, xp), n_groups=4,
                              weights=to_device(weights, xp), xp=xp)
    expected = pd.DataFrame(missing.T * weights[:, None]).groupby(groups).sum().to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_audit_magic_and_cli_pass_sample_weight_on(ipython_shell, compas, tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression

    from rai_nb.cli import main

    data = compas.iloc[:1500].assign(w=np.random.default_rng(12).integers(1, 4, 1500))
    options = dict(target="two_year_recid", sensitive="race", sample_weight="w")
    expected = run(data, **options).details["representation"]
    model = LogisticRegression().fit(data[["age", "priors_count"]], data["two_year_recid"])
    audited = rai_nb.audit(model, data, features=["age", "priors_count"], explain=False,
                           n_boot=0, progress=False, **options)
    pd.testing.assert_frame_equal(audited.validation.details["representation"], expected)
    ipython_shell.user_ns["weighted_frame"] = data
    ipython_shell.run_line_magic("validate", "weighted_frame --target two_year_recid "
                                             "--sensitive race --sample-weight w")
    pd.testing.assert_frame_equal(ipython_shell.user_ns["_validate"].details["representation"],
                                  expected)
    data.to_csv(tmp_path / "weighted.csv", index=False)
    assert main(["validate", str(tmp_path / "weighted.csv"), "--target", "two_year_recid",
                 "--sensitive", "race", "--sample-weight", "w", "--out", str(tmp_path / "out"),
                 "--fail-on-severity", "never"]) == 0
    saved = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert "counts weighted by 'w'" in json.dumps(saved)
    assert "counts weighted by 'w'" in capsys.readouterr().out
