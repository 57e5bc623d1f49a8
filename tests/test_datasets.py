"""The bundled data sets load offline with the documented shapes, labels and cleaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rai_nb
from rai_nb.errors import RaiError

ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
                 "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
                 "hours_per_week", "native_country", "income", "split"]


@pytest.fixture(scope="module")
def adult():
    return rai_nb.load_adult()


@pytest.fixture(scope="module")
def compas():
    return rai_nb.load_compas()


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_datetime64_any_dtype(frame[c])]


def test_adult_shape_splits_and_label(adult):
    assert list(adult.columns) == ADULT_COLUMNS
    assert adult["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}
    assert adult["income"].dtype == np.int64 and set(adult["income"].unique()) == {0, 1}
    assert adult["income"].mean() == pytest.approx(0.2393, abs=1e-4)
    assert adult.groupby("split")["income"].mean().to_dict() == pytest.approx(
        {"train": 0.2408, "test": 0.2362}, abs=1e-4)


def test_adult_cleaning(adult):
    text = _text_columns(adult)
    assert not adult[text].isin(["?"]).any().any()
    for column in text:
        values = adult[column].dropna().astype(str)
        assert (values == values.str.strip()).all(), column
    assert adult.isna().sum()[lambda s: s > 0].to_dict() == {
        "workclass": 2_799, "occupation": 2_809, "native_country": 857}
    assert isinstance(adult["sex"].dtype, pd.CategoricalDtype)
    assert set(adult["sex"].cat.categories) == {"Female", "Male"}
    assert adult["age"].dtype == np.int64


@pytest.mark.parametrize(("split", "rows"), [("train", 32_561), ("test", 16_281)])
def test_adult_single_split(split, rows):
    frame = rai_nb.load_adult(split=split)
    assert frame.shape == (rows, 16) and (frame["split"] == split).all()
    assert frame.index.equals(pd.RangeIndex(rows))


def test_adult_as_arrays(adult):
    X, y = rai_nb.load_adult(split="test", as_frame=False)
    test = adult[adult["split"] == "test"]
    assert X.shape == (16_281, 14) and X.dtype == object
    assert y.dtype == np.int64 and np.array_equal(y, test["income"].to_numpy())
    assert pd.isna(X[:, ADULT_COLUMNS.index("occupation")]).sum() == test["occupation"].isna().sum()


def test_compas_propublica_filter(compas):
    assert compas.shape[0] == 6_172 and len(rai_nb.load_compas(filtered=False)) == 7_214
    assert compas["two_year_recid"].dtype == np.int64
    assert set(compas["two_year_recid"].unique()) == {0, 1}
    assert compas["two_year_recid"].mean() == pytest.approx(0.4551, abs=1e-4)
    assert compas["days_b_screening_arrest"].abs().max() <= 30
    assert (compas["c_charge_degree"] != "O").all() and (compas["is_recid"] != -1).all()
    assert compas["score_text"].notna().all()


def test_compas_columns_and_dtypes(compas):
    assert compas.columns.str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert {"name", "first", "last", "dob", "c_case_number"}.isdisjoint(compas.columns)
    assert isinstance(compas["race"].dtype, pd.CategoricalDtype)
    assert not compas[_text_columns(compas)].isin(["?", "N/A"]).any().any()
    assert compas["decile_score"].between(1, 10).all()


def test_compas_matches_propublicas_published_numbers(compas):
    assert compas["race"].value_counts().to_dict() == {
        "African-American": 3_175, "Caucasian": 2_103, "Hispanic": 509, "Other": 343, "Asian": 31,
        "Native American": 11}
    stay = (compas["c_jail_out"].dt.normalize() - compas["c_jail_in"].dt.normalize()).dt.days
    assert stay.corr(compas["decile_score"]) == pytest.approx(0.2073297, abs=1e-7)


def test_each_call_returns_a_fresh_frame():
    for load in (rai_nb.load_adult, rai_nb.load_compas):
        first = load()
        first.loc[0, "age"] = -1
        assert load().loc[0, "age"] != -1
    X, _ = rai_nb.load_adult(as_frame=False)
    X[0, 0] = -1
    assert rai_nb.load_adult(as_frame=False)[0][0, 0] != -1


def test_unknown_split_names_the_argument():
    with pytest.raises(RaiError, match=r"split must be one of .*'validation'"):
        rai_nb.load_adult(split="validation")
