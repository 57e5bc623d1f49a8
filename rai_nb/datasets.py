"""Real data sets for tutorials, tests and benchmarks, shipped with the package (no network).

Sources and licences are in ``rai_nb/data/README.md``; ``scripts/make_datasets.py`` builds the
compressed copies from the original files.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from .errors import BAD_OPTION, RaiError

_ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship",
                      "race", "sex", "native_country"]
_ADULT_SPLITS = ("all", "train", "test")
_COMPAS_CATEGORICAL = ["sex", "age_cat", "race", "c_charge_degree", "score_text", "v_score_text"]
_COMPAS_DATETIMES = ["c_jail_in", "c_jail_out"]


def _read(name: str) -> pd.DataFrame:
    with (resources.files("rai_nb") / "data" / name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip", na_values=["?"], keep_default_na=True)


def load_adult(*, split: str = "all",
               as_frame: bool = True) -> pd.DataFrame | tuple[np.ndarray, np.ndarray]:
    """UCI Adult (census income), 48,842 people: train 32,561 and test 16,281 rows.

    Becker & Kohavi (1996), UCI Machine Learning Repository, CC BY 4.0. The label ``income`` is
    1 for income above $50K and 0 otherwise (about 24% positive). ``?`` entries are missing
    values; categorical columns have the ``category`` dtype.

    Parameters
    ----------
    split : {"all", "train", "test"}
        The original training file, the test file, or both (a ``split`` column tells which).
    as_frame : bool, default True
        Return one DataFrame; with False, NumPy arrays ``(X, y)`` instead: the 14 features as an
        object array (missing values NaN) and ``income`` as int64.

    Returns
    -------
    pandas.DataFrame or tuple of numpy.ndarray
        A fresh frame (or fresh arrays) at every call.

    Examples
    --------
    >>> from rai_nb.datasets import load_adult
    >>> adult = load_adult(split="test")
    >>> adult.shape, round(float(adult["income"].mean()), 3)
    ((16281, 16), 0.236)
    >>> X, y = load_adult(split="train", as_frame=False)
    >>> X.shape, y.dtype
    ((32561, 14), dtype('int64'))
    """
    if split not in _ADULT_SPLITS:
        raise RaiError(BAD_OPTION.format(argument="split", allowed=_ADULT_SPLITS, value=split))
    frame = _read("adult.csv.gz")
    frame["income"] = frame["income"].str.rstrip(".").eq(">50K").astype(np.int64)
    frame[_ADULT_CATEGORICAL] = frame[_ADULT_CATEGORICAL].astype("category")
    if split != "all":
        frame = frame[frame["split"] == split].reset_index(drop=True)
    if as_frame:
        return frame
    return frame.drop(columns=["income", "split"]).to_numpy(dtype=object), frame["income"].to_numpy()


def load_compas(*, filtered: bool = True) -> pd.DataFrame:
    """ProPublica's COMPAS recidivism data for Broward County, Florida (2013–2014).

    Larson, Mattu, Kirchner & Angwin, "How We Analyzed the COMPAS Recidivism Algorithm",
    ProPublica (2016), file ``compas-scores-two-years.csv`` of their compas-analysis repository.
    The label ``two_year_recid`` is 1 when the person was charged with a new crime within two
    years (about 45% positive); ``decile_score`` and ``score_text`` are COMPAS's own risk scores.
    ``c_jail_in`` and ``c_jail_out`` (datetimes) give the length of stay for the current charge.
    Names, birth dates and case numbers are left out.

    Parameters
    ----------
    filtered : bool, default True
        Apply ProPublica's analysis filter (charge within 30 days of screening, known
        recidivism, no ordinary traffic offences, a score present): 6,172 of 7,214 rows.

    Returns
    -------
    pandas.DataFrame
        A fresh frame at every call.

    Examples
    --------
    >>> from rai_nb.datasets import load_compas
    >>> compas = load_compas()
    >>> len(compas), round(float(compas["two_year_recid"].mean()), 3)
    (6172, 0.455)
    """
    frame = _read("compas.csv.gz")
    if filtered:
        keep = (frame["days_b_screening_arrest"].between(-30, 30)
                & (frame["is_recid"] != -1) & (frame["c_charge_degree"] != "O")
                & frame["score_text"].notna())
        frame = frame[keep].reset_index(drop=True)
    frame[_COMPAS_CATEGORICAL] = frame[_COMPAS_CATEGORICAL].astype("category")
    for column in _COMPAS_DATETIMES:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d %H:%M:%S")
    return frame
