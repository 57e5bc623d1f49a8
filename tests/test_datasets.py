"""The bundled data sets load offline with the documented shapes, labels and cleaning."""

from __future__ import annotations

import pandas as pd
import pytest

import rai_nb


def test_adult_splits_labels_and_cleaning():
    adult = rai_nb.load_adult()
    assert adult.shape == (48_842, 16)
    assert adult["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}
    assert set(adult["income"].unique()) == {0, 1}
    assert adult["income"].mean() == pytest.approx(0.2393, abs=1e-4)
    assert not adult.isin(["?"]).any().any() and adult["occupation"].isna().sum() == 2_809
    assert len(rai_nb.load_adult(split="test")) == 16_281
    assert isinstance(adult["sex"].dtype, pd.CategoricalDtype)


def test_compas_propublica_filter():
    compas = rai_nb.load_compas()
    assert len(compas) == 6_172 and len(rai_nb.load_compas(filtered=False)) == 7_214
    assert compas["two_year_recid"].mean() == pytest.approx(0.4551, abs=1e-4)
    assert compas["days_b_screening_arrest"].abs().max() <= 30
    assert (compas["c_charge_degree"] != "O").all() and (compas["is_recid"] != -1).all()


def test_each_call_returns_a_fresh_frame():
    first = rai_nb.load_compas()
    first.loc[0, "age"] = -1
    assert rai_nb.load_compas().loc[0, "age"] != -1


def test_unknown_split_names_the_argument():
    with pytest.raises(rai_nb.RaiError, match="split"):
        rai_nb.load_adult(split="validation")
