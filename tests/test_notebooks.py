"""The tutorials run top to bottom in a real kernel, and their saved outputs stay useful."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rai_nb.render import REPORT_MIME

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
        widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.data]
        assert all(REPORT_MIME in o.data for o in widgets)
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
