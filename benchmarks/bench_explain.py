"""rai_nb.explain against shap (TreeExplainer, KernelExplainer) and XGBoost's pred_contribs.

Run: ``.venv/bin/python benchmarks/bench_explain.py`` (``--quick`` for fewer rows).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, machine

import rai_nb


def adult_features():
    adult = rai_nb.load_adult()
    categorical = ["workclass", "education", "marital_status", "occupation", "relationship",
                   "race", "sex", "native_country"]
    X = adult.drop(columns=["income", "split"]).copy()
    X[categorical] = OrdinalEncoder(encoded_missing_value=-1).fit_transform(
        X[categorical].astype(object))
    return X.astype(float), adult["income"].to_numpy()


def rate(label, rows, ours, peer_name, peer_rows, peer):
    ours_rate, peer_rate = rows / ours, peer_rows / peer
    print(f"{label:<44} rai_nb {ours_rate:>9.0f} rows/s | {peer_name} {peer_rate:>9.0f} rows/s "
          f"| {ours_rate / peer_rate:>6.2f}x")


def trees(X, y, rows, shap):
    import xgboost

    models = {
        "RandomForest 100 trees, depth 8": RandomForestClassifier(
            n_estimators=100, max_depth=8, random_state=0, n_jobs=1),
        "GradientBoosting 200 x depth 4": GradientBoostingClassifier(
            n_estimators=200, max_depth=4, random_state=0),
        "XGBoost 200 x depth 6": xgboost.XGBClassifier(n_estimators=200, max_depth=6, n_jobs=1),
    }
    for label, model in models.items():
        model.fit(X, y)
        sample = X.iloc[:rows]
        ours = best_time(lambda: rai_nb.explain(model, sample), repeat=1)
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        peer_rows = min(rows, 500)
        theirs = best_time(lambda: explainer.shap_values(X.iloc[:peer_rows]), repeat=1)
        rate(f"TreeSHAP {label}", rows, ours, "shap", peer_rows, theirs)
        if label.startswith("XGBoost"):
            matrix = xgboost.DMatrix(sample)
            booster = model.get_booster()
            contribs = best_time(lambda: booster.predict(matrix, pred_contribs=True), repeat=1)
            rate("  vs XGBoost pred_contribs", rows, ours, "xgboost", rows, contribs)


def kernels(X, y, rows, shap):
    background = X.iloc[:10]
    models = {
        "GBM": GradientBoostingClassifier(n_estimators=50, random_state=0).fit(X, y),
        "logistic pipeline": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        .fit(X, y),
    }
    for label, model in models.items():
        sample = X.iloc[:rows]
        ours = best_time(lambda: rai_nb.explain(model, sample, background=background,
                                                method="kernel", nsamples=2048,
                                                progress=False), repeat=1)
        # A plain function: shap's KernelExplainer would otherwise overwrite the model's
        # feature_names_in_ (and fail on a Pipeline, where it is read-only).
        proba = lambda rows, model=model: model.predict_proba(  # noqa: E731
            X.iloc[:0]._constructor(rows, columns=X.columns))
        explainer = shap.KernelExplainer(proba, background)
        peer_rows = max(2, rows // 10)
        theirs = best_time(lambda: explainer.shap_values(X.iloc[:peer_rows], nsamples=2048,
                                                         silent=True), repeat=1)
        rate(f"KernelSHAP {label}, 10 background, nsamples 2048", rows, ours, "shap", peer_rows,
             theirs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import shap

    warnings.simplefilter("ignore")
    print(machine())
    X, y = adult_features()
    print(f"UCI Adult: {len(X):,} rows x {X.shape[1]} features")
    with rai_nb.config_context(backend="numpy"):
        trees(X, y, 200 if args.quick else 2000, shap)
        kernels(X, y, 10 if args.quick else 40, shap)


if __name__ == "__main__":
    main()
