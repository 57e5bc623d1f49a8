"""Widget panels, inspected through their trait state (no browser)."""

from __future__ import annotations

import html
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import rai_nb
from rai_nb.render import REPORT_MIME

ipywidgets = pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
from rai_nb import ui  # noqa: E402
from rai_nb.ui import panels  # noqa: E402

FEATURES = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def audit():
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", "two_year_recid"]].copy()
    compas["race"] = compas["race"].cat.rename_categories({"Other": EVIL})
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(
        compas[FEATURES], compas["two_year_recid"])
    return rai_nb.audit(model, compas, target="two_year_recid", sensitive=["race"],
                        features=FEATURES, n_boot=30, sample=200, progress=False,
                        card={"name": "COMPAS model"})


def html_values(widget):
    """Every HTML string shown anywhere inside ``widget``."""
    found = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    for child in getattr(widget, "children", ()):
        found += html_values(child)
    return found


def test_audit_panel_has_every_tab_with_real_content(audit):
    panel = ui.panel_for(audit)
    assert panel.titles == ("Overview", "Fairness", "Explanations", "Slices", "Data checks",
                            "Model card")
    overview = panel.children[0].value
    for finding in audit.findings()["finding"]:
        assert html.escape(finding) in overview
    assert isinstance(panel.children[2], panels.ExplanationPanel)


def test_fairness_panel_numbers_sorting_and_chart(audit):
    panel = panels.BiasPanel(audit.bias)
    rate = audit.bias.by_group.loc["Caucasian", "selection_rate"]
    assert f"{rate:.3f} [" in panel.table.value  # value with its bootstrap interval
    first = panel.chart.value
    panel.metric.value = "false_positive_rate"
    assert panel.chart.value != first and panel.chart.value[:4] == b"\x89PNG"
    panel.sort.value = "count"
    table = panel.table.value
    assert table.index("African-American") < table.index("Caucasian")
    assert "title=\"Disparate impact" in "".join(html_values(panel))


def test_slices_panel_summarises_the_selected_slice(audit):
    panel = panels.SlicesPanel(audit.slices)
    if len(audit.slices.top) < 2:
        pytest.skip("fewer than two slices found")
    panel.select.value = 1
    size = int(audit.slices.top.iloc[1]["size"])
    assert f"{size:,} rows" in panel.summary.value


def test_validation_panel_groups_by_severity(audit):
    panel = panels.ValidationPanel(audit.validation)
    counts = audit.validation.checks["severity"].value_counts()
    titles = panel.accordion.titles
    assert titles[0].startswith("fail" if "fail" in counts else "warn")
    assert sum(int(t.split("(")[1].rstrip(")")) for t in titles) == len(audit.validation.checks)


def test_explanation_panel_switches_dependence_feature(audit):
    panel = panels.ExplanationPanel(audit.explanation, audit.importance, audit.group_importance)
    before = panel.dependence.value
    panel.feature.value = panel.feature.options[-1]
    assert panel.dependence.value != before
    assert list(panel.feature.options) == list(audit.importance.index)


def test_model_card_panel_edits_and_saves(audit, tmp_path):
    panel = panels.ModelCardPanel(audit.card)
    panel.inputs["intended_use"].value = "Research on <b>bias</b>"
    assert "Research on &lt;b&gt;bias&lt;/b&gt;" in panel.preview.value
    panel.path.value = str(tmp_path / "card")
    panel.buttons[0].click()
    text = (tmp_path / "card.md").read_text()
    assert "Research on &lt;b&gt;bias&lt;/b&gt;" in text and "Saved" in panel.status.value


def test_every_html_widget_escapes_user_text(audit):
    for widget_html in html_values(ui.panel_for(audit)):
        assert EVIL not in widget_html


def test_show_merges_widget_and_static_bundles(audit, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: shown.append(obj))
    ui.show(audit)
    bundle = shown[0]
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "text/markdown",
            "text/plain", REPORT_MIME} <= set(bundle)


def test_panels_never_recompute(audit, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a panel called the API")

    for name in ("bias", "slices", "validate", "explain", "audit"):
        monkeypatch.setattr(rai_nb.api, name, fail)
    assert ui.panel_for(audit) is not None


def test_import_rai_nb_does_not_load_widgets():
    code = "import sys, rai_nb; print(sorted({'ipywidgets', 'matplotlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_explanation_importance_matches_shap_values(audit):
    values = np.abs(audit.explanation.values)
    values = values[..., -1] if values.ndim == 3 else values
    expected = pd.Series(values.mean(axis=0), index=audit.explanation.feature_names)
    pd.testing.assert_series_equal(audit.importance.sort_index(), expected.sort_index(),
                                   check_names=False)
