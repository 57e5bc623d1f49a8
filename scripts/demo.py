"""The README's first command: audit a model trained on UCI Adult and write the report.

Trains a gradient-boosted classifier on Adult's training split, predicts the test split, runs
``rai_nb.bias`` by sex and race (with bootstrap intervals) and writes the report as HTML,
markdown and JSON under ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

import rai_nb

FEATURES = ["age", "workclass", "education_num", "marital_status", "occupation", "relationship",
            "capital_gain", "capital_loss", "hours_per_week"]


def train(train_frame):
    categorical = [c for c in FEATURES if train_frame[c].dtype.kind not in "iuf"]
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                        encoded_missing_value=-1), categorical),
        remainder="passthrough")
    model = make_pipeline(encode, HistGradientBoostingClassifier(random_state=0))
    return model.fit(train_frame[FEATURES], train_frame["income"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="out", help="folder for the report files")
    args = parser.parse_args()
    model = train(rai_nb.load_adult(split="train"))
    test = rai_nb.load_adult(split="test")
    test["score"] = model.predict_proba(test[FEATURES])[:, 1]
    result = rai_nb.bias(test, target="income", score="score", sensitive=["sex", "race"],
                         n_boot=500, random_state=0)
    print(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = {"bias_report.html": result.to_html(), "bias_report.md": result.to_markdown(),
               "bias_report.json": result.to_json()}
    for name, text in written.items():
        (out / name).write_text(text, encoding="utf-8")
    print("\nWrote " + ", ".join(str(out / name) for name in written))


if __name__ == "__main__":
    main()
