"""Write the sample reports the jest tests render, from real rai_nb results on COMPAS (and on
scikit-learn's wine and diabetes sets for the multiclass and regression reports).

Run from the repository root after a change to the report JSON:
``.venv/bin/python labextension/test/make_fixtures.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rai_nb
from rai_nb import render
from rai_nb.modelcard import ModelCard
from rai_nb.results import ExplanationResult

FIXTURES = Path(__file__).parent / "fixtures"
FEATURES = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]
TARGET = "two_year_recid"
#: User text that must reach the page as text: markup, a script, markdown syntax.
HOSTILE = '<img src=x onerror="window.__rai_nb_xss=1"><script>window.__rai_nb_xss=1</script>*bold*|'


def reports() -> dict[str, dict]:
    """One report per result type, named by file stem."""
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", TARGET]]
    train, test = compas.iloc[:4000], compas.iloc[4000:]
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(train[FEATURES], train[TARGET])
    audit = rai_nb.audit(model, test, target=TARGET, sensitive=["race", "sex"], reference=train,
                         sample=200, n_boot=50, progress=False,
                         card={"name": "Recidivism <demo>", "intended_use": "Teaching only."})
    explanation = ExplanationResult.of(rai_nb.explain(model, test[FEATURES].iloc[:200]))
    return {"bias": audit.bias.to_dict(), "slices": audit.slices.to_dict(),
            "explanation": explanation.to_dict(),
            "validation": audit.validation.to_dict(), "model_card": audit.card.to_dict(),
            "audit": audit.to_dict(), "hostile": hostile_report(),
            "card_markdown": markdown_case(audit.card),
            "hostile_card_markdown": markdown_case(ModelCard({"name": HOSTILE, "intended_use": HOSTILE})),
            **task_reports()}


def task_reports() -> dict[str, dict]:
    """Bias reports of a 3-class model (wine) and of a regression (diabetes), with intervals."""
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    features = ["alcohol", "malic_acid", "ash", "magnesium"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    model.fit(wine[features].iloc[::2], wine["cultivar"].iloc[::2])
    wine = wine.assign(pred=model.predict(wine[features]),
                       site=np.random.default_rng(1).choice(["north", "south", "coast"], len(wine)))
    diabetes = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "progression"})
    features = [c for c in diabetes.columns if c not in ("sex", "progression")]
    ridge = Ridge().fit(diabetes[features].iloc[::2], diabetes["progression"].iloc[::2])
    diabetes = diabetes.assign(pred=ridge.predict(diabetes[features]),
                               sex=diabetes["sex"].map({1.0: "F", 2.0: "M"}))
    common = {"prediction": "pred", "n_boot": 20, "random_state": 0}
    return {"multiclass": rai_nb.bias(wine, target="cultivar", sensitive="site", **common).to_dict(),
            "regression": rai_nb.bias(diabetes, target="progression", sensitive="sex", **common).to_dict()}


def hostile_report() -> dict:
    """A bias report whose group labels, column names and card fields are markup."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({HOSTILE: rng.choice([HOSTILE, "plain"], 200),
                          "y": rng.integers(0, 2, 200), "p": rng.integers(0, 2, 200)})
    return rai_nb.bias(frame, target="y", prediction="p", sensitive=HOSTILE).to_dict()


def format_cases() -> list[list]:
    """``[json value, rai_nb.render.format_value of it]``: the renderer must print the same."""
    values = [0, 1, -1, 1234, -1234567, 2.0, 0.5, 1 / 3, -2 / 3, 0.03125, 0.09375, -0.03125, 0.00125,
              0.123456789, 99999.99996, 1e-9, 123456.5, float("nan"), float("inf"), float("-inf"),
              True, False, "text", "inf text"]
    values += np.random.default_rng(1).normal(scale=100, size=40).tolist()
    values += (np.arange(1, 64, 2) / 32).tolist()  # every exact tie at 4 decimals in [0, 2)
    return [[render.json_value(v), render.format_value(v)] for v in values]


def escape_cases() -> list[list[str]]:
    """``[text, md_escape(text), md_escape(text, keep_lines=True)]``: mdEscape must agree."""
    texts = [HOSTILE, "Due 2026-12-01 (multiclass), AT&T &amp; two_year_recid: -0.25", "C#  ##",
             "[x](javascript:y) ![i](z) a|b `c` ~d~ $5 _e_ \\ é_f", "# h\n> q\n- l\n+ m\n1. o\n"
             "2) p\n    code\n===\n-0.5\n[r]: s", "a\r\nb\u2028c\rd\x0be\x85f", "-=\n--"]
    return [[t, render.md_escape(t), render.md_escape(t, keep_lines=True)] for t in texts]


def markdown_case(card) -> dict:
    """The card's report and Python's markdown of the same sections (level-1 title)."""
    return {"report": card.to_dict(),
            "markdown": render.to_markdown(card.title, card.sections(), level=1)}


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    data = reports()
    data["format_cases"] = format_cases()
    data["escape_cases"] = escape_cases()
    for name, value in data.items():
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=1)
        (FIXTURES / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
