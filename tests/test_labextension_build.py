"""The JupyterLab extension: installed and enabled, its unit tests and lint pass, and its sample
reports still have the layout rai_nb emits.

The jest and lint checks need the checkout's ``labextension/node_modules`` (made by the build
that ``pip install -e .`` runs); they are skipped in an environment installed from a wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rai_nb

EXTENSION = "rai-nb-jupyterlab"
SOURCE = Path(__file__).resolve().parents[1] / "labextension"
FIXTURES = SOURCE / "test" / "fixtures"


def test_extension_is_installed_and_enabled():
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, timeout=120)
    lines = [line for line in (listed.stdout + listed.stderr).splitlines() if EXTENSION in line]
    assert lines, f"{EXTENSION} is not installed; `pip install .` builds and installs it"
    assert "enabled" in lines[0] and "OK" in lines[0] and "(python, rai_nb)" in lines[0]


def _layout(report: dict) -> tuple:
    """Keys of a report and of its sections, tables and bars: what the renderer reads."""
    sections = report["sections"]
    return (sorted(report), sorted({k for s in sections for k in s}),
            sorted({k for s in sections if s["table"] for k in s["table"]}),
            sorted({k for s in sections if s["bars"] for k in s["bars"]}))


@pytest.mark.skipif(not FIXTURES.exists(), reason="needs the source checkout")
def test_sample_reports_have_the_current_layout():
    compas = rai_nb.load_compas().iloc[:500]
    fresh = rai_nb.bias(compas, target="two_year_recid", prediction="is_recid",
                        sensitive=["race", "sex"], n_boot=5).to_dict()
    stored = json.loads((FIXTURES / "bias.json").read_text(encoding="utf-8"))
    assert _layout(stored) == _layout(fresh), (
        "the report JSON layout changed: run `python labextension/test/make_fixtures.py`, "
        "update labextension/src/types.ts and docs/report-schema.md")


def _jlpm(*args: str) -> subprocess.CompletedProcess:
    """Run jlpm (from jupyter-builder, next to this Python) with itself on PATH for nested calls."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    jlpm = shutil.which("jlpm", path=path)
    assert jlpm, "jlpm not found: it comes with jupyterlab (jupyter-builder) from the [test] extra"
    return subprocess.run([jlpm, *args], cwd=SOURCE, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": path})


needs_node_modules = pytest.mark.skipif(
    not (SOURCE / "node_modules").exists(),
    reason="labextension/node_modules missing (made by `pip install -e .` or `jlpm install`)")


@needs_node_modules
def test_jest_unit_tests_pass():
    result = _jlpm("test", "--silent")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@needs_node_modules
def test_typescript_is_linted_and_formatted():
    result = _jlpm("lint:check")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
