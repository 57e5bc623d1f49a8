"""Build the compressed copies of UCI Adult and ProPublica COMPAS shipped in rai_nb/data/.

Run from the repository root: ``python scripts/make_datasets.py [--source ../shared/datasets]``.
The copies keep the raw values (cleaning happens in ``rai_nb.datasets`` when loading), so the
loaders' definitions stay visible in code rather than baked into files.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import pandas as pd

ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
                 "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
                 "hours_per_week", "native_country", "income"]
COMPAS_COLUMNS = ["id", "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count",
                  "juv_other_count", "priors_count", "days_b_screening_arrest", "c_days_from_compas",
                  "c_jail_in", "c_jail_out", "c_charge_degree", "c_charge_desc", "is_recid",
                  "is_violent_recid", "decile_score", "score_text", "v_decile_score", "v_score_text",
                  "two_year_recid"]


def adult(source: Path) -> pd.DataFrame:
    parts = []
    for split, name, skip in (("train", "adult.data", 0), ("test", "adult.test", 1)):
        frame = pd.read_csv(source / "adult" / name, header=None, names=ADULT_COLUMNS,
                            skiprows=skip, skipinitialspace=True, dtype=str)
        parts.append(frame.dropna(how="all").assign(split=split))
    return pd.concat(parts, ignore_index=True)


def compas(source: Path) -> pd.DataFrame:
    frame = pd.read_csv(source / "compas" / "compas-scores-two-years.csv", dtype=str)
    return frame[COMPAS_COLUMNS]


def write(frame: pd.DataFrame, path: Path) -> None:
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as handle:
        handle.write(frame.to_csv(index=False).encode("utf-8"))
    print(f"{path}: {len(frame):,} rows, {path.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=Path("rai_nb/data"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write(adult(args.source), args.out / "adult.csv.gz")
    write(compas(args.source), args.out / "compas.csv.gz")


if __name__ == "__main__":
    main()
