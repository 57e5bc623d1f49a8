"""Nothing the user passes in is changed, and nothing they wrote reaches HTML unescaped."""

from __future__ import annotations

import hashlib
import html
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier

import rai_nb
from rai_nb import modelcard, render

EVIL = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
FEATURES = ["age", "priors_count", "juv_fel_count"]


def fingerprint(obj) -> str:
    if isinstance(obj, pd.DataFrame):
        payload = pickle.dumps((obj.to_dict("list"), list(obj.columns), list(map(str, obj.dtypes)),
                                list(obj.index)))
    else:
        payload = pickle.dumps(obj)
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture(scope="module")
def world():
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", "two_year_recid"]].copy()
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
        compas[FEATURES], compas["two_year_recid"])
    errors = (model.predict(compas[FEATURES]) != compas["two_year_recid"]).to_numpy(float)
    return {"df": compas, "train": compas.iloc[:3000].copy(), "test": compas.iloc[3000:].copy(),
            "clf": model, "errors": errors}


CALLS = {
    "bias": lambda w: rai_nb.bias(w["df"], target="two_year_recid", sensitive="race",
                                  prediction=w["clf"].predict(w["df"][FEATURES]), n_boot=5),
    "slices": lambda w: rai_nb.slices(w["df"], errors=w["errors"], max_l=2),
    "explain": lambda w: rai_nb.explain(w["clf"], w["df"][FEATURES][:50]),
    "kernel explain": lambda w: rai_nb.explain(w["clf"], w["df"][FEATURES][:3], method="kernel",
                                               nsamples=50, progress=False),
    "validate": lambda w: rai_nb.validate(w["test"], reference=w["train"],
                                          target="two_year_recid", sensitive="race"),
    "drift": lambda w: rai_nb.drift(w["train"], w["test"]),
    "audit": lambda w: rai_nb.audit(w["clf"], w["test"], target="two_year_recid",
                                    sensitive="race", reference=w["train"], features=FEATURES,
                                    sample=50, n_boot=5, progress=False),
    "flip test": lambda w: rai_nb.flip_test(w["clf"], w["df"], sensitive="race",
                                            features=FEATURES),
}


@pytest.mark.parametrize("name", CALLS)
def test_api_calls_mutate_nothing(world, name):
    before = {key: fingerprint(value) for key, value in world.items()}
    CALLS[name](world)
    assert {key: fingerprint(value) for key, value in world.items()} == before


MAGICS = [
    ("audit", "clf test --target two_year_recid --sensitive race --reference train --sample 50 "
              "--n-boot 5"),
    ("slices", "clf df --target two_year_recid --max-l 2"),
    ("explain", "clf df[['age','priors_count','juv_fel_count']][:20]"),
    ("validate", "test --reference train --target two_year_recid"),
    ("drift", "train test"),
]


@pytest.mark.parametrize("magic,line", MAGICS, ids=[m for m, _ in MAGICS])
def test_magics_mutate_nothing(world, magic, line, ipython_shell):
    shell = ipython_shell
    shell.user_ns.update(world)
    before = {key: fingerprint(value) for key, value in world.items()}
    shell.run_line_magic(magic, line)
    assert {key: fingerprint(shell.user_ns[key]) for key in world} == before


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame({
        EVIL: rng.choice([IMG, "| **bold** |", "[link](javascript:x)"], n),
        "y": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n), IMG: rng.normal(size=n),
    })


RENDERED = {
    "bias": lambda f: rai_nb.bias(f, target="y", prediction="pred", sensitive=EVIL, n_boot=5),
    "slices": lambda f: rai_nb.slices(f.drop(columns="pred"), errors=f["pred"].to_numpy(float),
                                      min_sup=5),
    "validate": lambda f: rai_nb.validate(f, reference=f, target="y", sensitive=EVIL),
    "drift": lambda f: rai_nb.drift(f, f.assign(**{IMG: f[IMG] + 1})),
    "model card": lambda f: modelcard.ModelCard({"name": EVIL, "caveats": IMG,
                                                        EVIL: "| cell |"}),
}


@pytest.mark.parametrize("name", RENDERED)
def test_hostile_text_is_escaped_everywhere(hostile, name):
    result = RENDERED[name](hostile)
    page = result.to_html()
    assert "<script" not in page and "<img" not in page
    markdown = result.to_markdown()
    assert "<script" not in markdown and "<img" not in markdown
    assert "](javascript" not in markdown


def test_markdown_line_breaks_and_block_syntax_cannot_reshape_a_report():
    """A carriage return (or U+2028) in a group name cannot split a table row, and narrative
    text cannot become a heading, a code block or a list (rendered with mistune)."""
    mistune = pytest.importorskip("mistune")
    rng = np.random.default_rng(1)
    groups = ["a\rb", "c\u2028d", "e\r\nf", "g"]
    data = pd.DataFrame({"group": rng.choice(groups, 400), "y": rng.integers(0, 2, 400),
                         "pred": rng.integers(0, 2, 400)})
    result = rai_nb.bias(data, target="y", prediction="pred", sensitive="group")
    page = mistune.html(result.to_markdown())
    assert page.count("<tr>") == sum(len(s.table) + 1 for s in result.sections()
                                     if s.table is not None)
    card = modelcard.ModelCard({"name": "card", "caveats": "Heading\n===\n    code\n"
                                       "1. listed\n2) listed"}).to_markdown()
    rendered = mistune.html(card)
    caveats = rendered[rendered.index("Heading"):]
    assert "<h1>" not in caveats and "<pre>" not in caveats and "<ol>" not in caveats


def test_model_card_file_names_cannot_inject_links(tmp_path, world):
    import re

    audit = rai_nb.audit(world["clf"], world["test"], target="two_year_recid", sensitive="race",
                         n_boot=0, sample=20, progress=False)
    path = audit.card.save(tmp_path / "x) [click me](javascript:alert(9)+a.md")
    text = path.read_text(encoding="utf-8")
    targets = re.findall(r"!\[[^\]]*\]\(([^)]*)\)", text)
    assert targets and all(t.startswith("x%29%20%5Bclick%20me%5D%28javascript%3Aalert%289%29")
                           and t.endswith(".png") for t in targets)
    assert "](javascript" not in text
    assert (tmp_path / "x) [click me](javascript:alert(9)+a_files" / "selection_rate.png").exists()


def test_cli_shows_control_characters_from_data_escaped(tmp_path):
    import subprocess
    import sys

    data = pd.DataFrame({"\x1b[31mnote\x1b[0m": [f"id{i}" for i in range(100)],  # id-like
                         "y": [0, 1] * 50, "x": np.arange(100.0)})
    data.to_csv(tmp_path / "data.csv", index=False)
    done = subprocess.run([sys.executable, "-m", "rai_nb.cli", "validate", tmp_path / "data.csv",
                           "--target", "y", "--fail-on-severity", "never"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    assert "\\x1b[31mnote" in done.stdout  # shown, escaped


#: Text with every kind of markdown syntax, HTML and entity, and the prose around them.
_MARKDOWNISH = st.lists(st.sampled_from(
    [*"ab1 _*`~|$[]()!<>&#;-+=.\\:/\"'", "\n", "javascript:", "&amp;", "<img", "1. ", "  "]),
    max_size=20).map("".join)


def _markdown():
    mistune = pytest.importorskip("mistune")
    # escape=False: raw HTML would pass through, so an unescaped tag shows up as one.
    return mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "math"])


def _shown_text(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "&quot;")


@settings(max_examples=400, deadline=None)
@given(_MARKDOWNISH)
def test_escaped_markdown_renders_as_exactly_its_text(text):
    """Rendered by a CommonMark parser, escaped text is one paragraph of the same text: no
    link, emphasis, code, HTML, heading, list or quote, whatever it holds."""
    line = text.replace("\n", " ")
    page = _markdown()(render.md_escape(line)).strip()
    assert page == (f"<p>{_shown_text(line.strip())}</p>" if line.strip() else "")
    lines = _markdown()(render.md_escape(text, keep_lines=True))
    tags = set(re.findall(r"</?(\w+)", lines))
    assert tags <= {"p", "br"}
    assert " ".join(re.sub(r"<[^>]*>", " ", lines).split()) == " ".join(_shown_text(text).split())


def test_markdown_leaves_prose_as_written():
    """Dates, parentheses, ampersands, intraword underscores and negative numbers need no
    escape; only what markdown would read as syntax gets one."""
    prose = "Due 2026-12-01 (multiclass), AT&T's two_year_recid: -0.25 vs 1.5 + 2."
    assert render.md_escape(prose) == prose
    assert render.md_escape("a|b *c* [x](javascript:y) <b>") == (
        "a\\|b \\*c\\* [x]\\(javascript:y) &lt;b>")
