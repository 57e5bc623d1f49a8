"""How long ``%audit`` takes, from the call to a built panel with every tab, on UCI Adult.

Run: ``.venv/bin/python benchmarks/bench_audit.py``. No peer computes the same audit in one
call; the per-part peers are in bench_bias.py, bench_slices.py, bench_explain.py and
bench_validate.py.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb

FEATURES = ["age", "workclass", "education_num", "marital_status", "occupation", "relationship",
            "capital_gain", "capital_loss", "hours_per_week"]


def timed_audit(label, model, frame, features, runs):
    """Print the audit's time to computed, displayed (Overview + static bundle) and all tabs."""
    from rai_nb.ui import panel_for

    for sample, state in runs:
        start = time.perf_counter()
        result = rai_nb.audit(model, frame, target="income", sensitive=["sex", "race"],
                              features=features, sample=sample, progress=False)
        computed = time.perf_counter()
        panel = panel_for(result)  # what %audit displays: the Overview tab and the static bundle
        result._repr_mimebundle_()
        shown = time.perf_counter()
        panel.build_all()  # every other tab, built when first selected
        built = time.perf_counter()
        print(f"%audit {label}, Adult test {len(frame):,} rows, SHAP on {sample} rows "
              f"({state}): audit {computed - start:.2f} s, displayed {shown - start:.2f} s, "
              f"every tab built {built - start:.2f} s", flush=True)
        assert len(panel.children) == 6


def main():
    warnings.simplefilter("ignore")
    print(machine())
    train = rai_nb.load_adult(split="train").drop(columns="split")
    test = rai_nb.load_adult(split="test").drop(columns="split")
    categorical = [c for c in FEATURES if str(train[c].dtype) == "category"]
    train_x = train[FEATURES].assign(**{c: train[c].cat.codes for c in categorical})
    test_x = test[FEATURES].assign(**{c: test[c].cat.codes for c in categorical})
    model = RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=1, random_state=0)
    model.fit(train_x, train["income"])
    frame = test_x.assign(income=test["income"], sex=test["sex"], race=test["race"])
    timed_audit("RandomForest 100 x depth 8", model, frame, FEATURES,
                ((500, "cold: first call, imports shap and matplotlib"), (500, "warm"),
                 (2000, "warm")))
    # The default HistGradientBoosting in a one-hot pipeline, explained in the user's columns.
    columns = [c for c in train.columns if c != "income"]
    text = [c for c in columns if str(train[c].dtype) in ("category", "object")]
    pipe = make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), text),
        remainder="passthrough"),
        HistGradientBoostingClassifier(random_state=0)).fit(train[columns], train["income"])
    timed_audit(f"HistGradientBoosting default, one-hot pipeline "
                f"({len(pipe[:-1].get_feature_names_out())} features)", pipe, test, columns,
                ((500, "warm"), (2000, "warm")))


if __name__ == "__main__":
    main()
