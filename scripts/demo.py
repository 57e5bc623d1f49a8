"""The README's first command: run the Adult audit tutorial headless and keep what it writes.

Executes ``tutorials/01_audit_adult.ipynb`` in a fresh kernel (trains a model on UCI Adult,
runs ``%audit`` and ``%%modelcard``), writing ``audit.html``, ``MODEL_CARD.md`` (with its
figures) and the executed notebook under ``--out``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TUTORIAL = Path(__file__).resolve().parent.parent / "tutorials" / "01_audit_adult.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="out", help="folder for the audit files")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["RAI_NB_OUT"] = str(out)
    os.environ.setdefault("MPLBACKEND", "Agg")
    book = nbformat.read(TUTORIAL, as_version=4)
    print(f"Running {TUTORIAL.name} (train a model on UCI Adult, audit it, write its model card)…")
    NotebookClient(book, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(TUTORIAL.parent)}}).execute()
    nbformat.write(book, out / TUTORIAL.name)
    findings = next(o for c in book.cells if c.cell_type == "code" and "findings()" in c.source
                    for o in c.outputs if "data" in o)
    print(findings["data"]["text/plain"])
    for name in ("audit.html", "MODEL_CARD.md", TUTORIAL.name):
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
