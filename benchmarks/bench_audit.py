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

from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

import rai_nb

FEATURES = ["age", "workclass", "education_num", "marital_status", "occupation", "relationship",
            "capital_gain", "capital_loss", "hours_per_week"]


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
    from rai_nb.ui import panel_for

    for sample, state in ((500, "cold: first call, imports shap and matplotlib"),
                          (500, "warm"), (2000, "warm")):
        start = time.perf_counter()
        result = rai_nb.audit(model, frame, target="income", sensitive=["sex", "race"],
                              features=FEATURES, sample=sample, progress=False)
        computed = time.perf_counter()
        panel = panel_for(result)  # what %audit displays: the Overview tab and the static bundle
        result._repr_mimebundle_()
        shown = time.perf_counter()
        panel.build_all()  # every other tab, built when first selected
        built = time.perf_counter()
        print(f"%audit RandomForest 100 x depth 8, Adult test {len(frame):,} rows, SHAP on "
              f"{sample} rows ({state}): audit {computed - start:.2f} s, displayed "
              f"{shown - start:.2f} s, every tab built {built - start:.2f} s")
        assert len(panel.children) == 6


if __name__ == "__main__":
    main()
