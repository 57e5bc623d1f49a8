"""The tutorials run top to bottom in a real kernel, and their saved outputs stay useful."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rai_nb.render import REPORT_MIME

#: The panel's widget view travels under rai_nb's type, never the standard one (see rai_nb.ui).
PANEL_VIEW, STANDARD_VIEW = ("application/vnd.rai-nb.widget-view+json",
                             "application/vnd.jupyter.widget-view+json")
WIDGET_VIEWS = {PANEL_VIEW, STANDARD_VIEW}
TUTORIALS = sorted((Path(__file__).parent.parent / "tutorials").glob("*.ipynb"))


def execute(path: Path, out: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("RAI_NB_OUT", str(out))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return book


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_without_errors(path, tmp_path, monkeypatch):
    book = execute(path, tmp_path, monkeypatch)
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    if path.stem.startswith("01"):
        outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "display_data"]
        audit = [o for o in outputs if REPORT_MIME in o.data]
        assert audit and "text/html" in audit[0].data
        # Progress bars leave no widget (dead once the kernel stops) and no text behind.
        widgets = [o for o in outputs if set(o.data) & WIDGET_VIEWS]
        assert all(REPORT_MIME in o.data and STANDARD_VIEW not in o.data for o in widgets)
        assert not [o for o in outputs if "rai_nb audit" in str(o.data.get("text/plain", ""))]
        assert json.loads(json.dumps(audit[0].data[REPORT_MIME]))["kind"] == "audit"
        assert len(nbformat.writes(book)) < 1_000_000 + len(nbformat.writes(
            nbformat.read(path, as_version=4)))
        assert (tmp_path / "MODEL_CARD.md").read_text().startswith("# Model card: Adult")
        assert (tmp_path / "audit.html").stat().st_size > 10_000


def test_tutorials_are_committed_without_outputs():
    for path in TUTORIALS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), path.name


EXPLAIN_CELLS = [
    "import rai_nb\n"
    "from sklearn.ensemble import HistGradientBoostingClassifier\n"
    "%load_ext rai_nb\n"
    "compas = rai_nb.load_compas()\n"
    "features = ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count']\n"
    "model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(\n"
    "    compas[features], compas['two_year_recid'])",
    "%explain model compas[features][:300]",
    "rai_nb.ui.show(_explain)",
]


def test_saved_explain_output_reads_without_a_kernel(tmp_path, monkeypatch):
    """``%explain`` saved as JupyterLab saves it (no widget state), reopened and converted with
    nbconvert: the static report shows, not a widget error or the array's repr."""
    from nbconvert import HTMLExporter

    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in EXPLAIN_CELLS])
    NotebookClient(book, timeout=600, kernel_name="python3", store_widget_state=False).execute()
    saved = tmp_path / "explain.ipynb"
    nbformat.write(book, saved)
    reopened = nbformat.read(saved, as_version=4)
    outputs = [o for cell in reopened.cells[1:] for o in cell.outputs]
    assert [o.output_type for o in outputs] == ["display_data", "display_data"]
    for output in outputs:
        assert {"text/html", "text/markdown", "text/plain", REPORT_MIME} <= set(output.data)
        assert output.data[REPORT_MIME]["kind"] == "explanation"
        assert len(json.dumps(output.data[REPORT_MIME])) < 120_000  # aggregates and one PNG
    page, _ = HTMLExporter().from_notebook_node(reopened)
    for title in ("Global importance", "Beeswarm"):
        assert page.count(f"<h4>{title}</h4>") == 2
    assert page.count('<td class="rai-label">priors_count</td>') == 2
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 2
    assert "Error displaying widget" not in page and "array([" not in page
    assert "application/vnd.jupyter.widget-view+json" not in page
    assert saved.stat().st_size < 400_000


AUDIT_CELLS = [
    "import rai_nb\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "%load_ext rai_nb\n"
    "compas = rai_nb.load_compas()\n"
    "model = LogisticRegression().fit(compas[['age', 'priors_count']], compas['two_year_recid'])",
    "%audit model compas --target two_year_recid --sensitive race --no-explain --n-boot 0",
    "result = rai_nb.audit(model, compas, target='two_year_recid', sensitive='sex', "
    "explain=False, n_boot=0)\n"
    "rai_nb.ui.show(result)",
    "rai_nb.audit(model, compas, target='two_year_recid', sensitive='sex', explain=False, "
    "n_boot=0)",
]
AUDIT_SECTIONS = ("Audit of LogisticRegression", "Bias report", "Problem slices",
                  "Data validation", "Model card")


def test_an_audit_cell_holds_its_result_alone():
    """In a real kernel the progress bar's output becomes the result's, so the saved cell has
    one display_data, the report, and no empty output before it; nbconvert of the notebook
    with its widget state (nbclient stores it) shows the static report, not the widget."""
    from nbconvert import HTMLExporter

    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in AUDIT_CELLS])
    NotebookClient(book, timeout=120, kernel_name="python3").execute()
    for cell in book.cells[1:]:
        (output,) = cell.outputs
        assert output.output_type == "display_data"
        assert {REPORT_MIME, "text/html"} <= set(output.data)
        assert output.data[REPORT_MIME]["kind"] == "audit"
    assert [PANEL_VIEW in c.outputs[0].data for c in book.cells[1:]] == [True, True, False]
    assert "application/vnd.jupyter.widget-state+json" in book.metadata["widgets"]
    page, _ = HTMLExporter().from_notebook_node(book)
    for title in AUDIT_SECTIONS:
        assert page.count(f"<h3>{title}") == 3, title
    assert f'<script type="{STANDARD_VIEW}">' not in page and PANEL_VIEW not in page


MAGIC_CELLS = [
    "import rai_nb\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "%load_ext rai_nb\n"
    "compas = rai_nb.load_compas()\n"
    "train, test = compas.iloc[:4000], compas.iloc[4000:]\n"
    "features = ['age', 'priors_count', 'juv_fel_count']\n"
    "model = LogisticRegression().fit(train[features], train['two_year_recid'])",
    "%audit model test --target two_year_recid --sensitive race --no-explain --n-boot 0",
    "%slices model test --target two_year_recid",
    "%explain model test[features][:200]",
    "%validate test --reference train --target two_year_recid --sensitive race",
    "%drift train test --columns age,priors_count",
    "%%modelcard\nname: COMPAS recidivism (test)\nintended_use: Testing saved outputs.",
]


def test_every_magic_converts_to_its_static_report():
    """Each magic's output, executed with its widget state saved (as nbclient and JupyterLab's
    "save widget state" do) and converted with nbconvert: every section of its report shows,
    and no widget view."""
    from nbconvert import HTMLExporter

    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in MAGIC_CELLS])
    NotebookClient(book, timeout=300, kernel_name="python3").execute()
    assert "widgets" in book.metadata
    page, _ = HTMLExporter().from_notebook_node(book)
    assert f'<script type="{STANDARD_VIEW}">' not in page and PANEL_VIEW not in page
    kinds = []
    for cell in book.cells[1:]:
        (output,) = cell.outputs
        report = output.data[REPORT_MIME]
        kinds.append(report["kind"])
        for section in report["sections"]:
            assert html.escape(section["title"], quote=False) in page, (report["kind"], section)
    assert kinds == ["audit", "slices", "explanation", "validation", "drift", "model_card"]
