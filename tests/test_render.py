"""Static renderings (rai_nb.render): saved HTML pages, folded tables, intervals in the metric
cells, marks, and the report JSON of tables without an index."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import rai_nb
from rai_nb import render
from rai_nb.render import Section


@pytest.fixture(scope="module")
def bias():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"g": rng.choice(["a", "b", "c", "d"], 800),
                         "y": rng.integers(0, 2, 800), "p": rng.integers(0, 2, 800)})
    return rai_nb.bias(data, target="y", prediction="p", sensitive="g", n_boot=30,
                       random_state=0)


class _Page(HTMLParser):
    """Tags, ids, links and the text of each table cell of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.links, self.cells, self._cell = [], set(), [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.ids |= {attrs["id"]} if "id" in attrs else set()
        if tag == "a":
            self.links.append(attrs["href"])
        if tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cells.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_a_saved_page_is_a_full_document_with_contents(bias):
    fragment = bias.to_html()
    assert not fragment.lstrip().lower().startswith("<!doctype")  # notebook output: a fragment
    page = render.html_document(fragment, 'Audit <of> "x"')
    assert page.startswith("<!doctype html>\n<html")
    assert '<meta charset="utf-8">' in page and "<title>Audit &lt;of&gt; &quot;x&quot;</title>" in page
    parsed = _parse(page)
    headings = re.findall(r"<h[34] id=\"(s\d+)\">", page)
    assert len(headings) == 1 + len(bias.sections())
    assert parsed.links[:len(headings)] == [f"#{h}" for h in headings]  # the contents link them
    assert set(headings) <= parsed.ids


def test_long_tables_show_the_top_rows_and_fold_the_rest():
    table = pd.DataFrame({"value": np.arange(45.0) + 0.5}, index=pd.Index(
        [f"r{i}" for i in range(45)], name="row"))
    page = render.to_html("t", [Section("s", table=table)])
    shown, folded = page.split("<details>")
    assert f"<summary>{45 - render.ROWS_SHOWN} more rows</summary>" in folded
    cells = [c for c in _parse(shown).cells if re.fullmatch(r"r\d+", c)]
    assert cells == [f"r{i}" for i in range(render.ROWS_SHOWN)]
    rest = [c for c in _parse(folded).cells if re.fullmatch(r"r\d+", c)]
    assert rest == [f"r{i}" for i in range(render.ROWS_SHOWN, 45)]
    assert "<details>" not in render.to_html("t", [Section("s", table=table.head(20))])


def test_intervals_sit_in_the_metric_cells(bias):
    """Each group's cell reads "estimate [lower, upper]" with the result's own interval; no
    separate interval table is left."""
    titles = [s.title for s in bias.sections()]
    assert not any("bootstrap intervals" in t for t in titles)
    section = next(s for s in bias.sections() if s.title == "Metrics by group")
    page = _parse(render.to_html(bias.title, [section]))
    markdown = render.md_table(section.table, section.bounds)
    intervals = bias.intervals.xs("by_group", level="table")
    for group in ("a", "c"):
        for metric in ("selection_rate", "false_positive_rate"):
            value = bias.by_group.at[group, metric]
            lower, upper = intervals.loc[(group, metric), ["lower", "upper"]]
            cell = f"{render.format_value(value)} [{lower:.3f}, {upper:.3f}]"
            assert cell in page.cells and f" {cell} |" in markdown
    summary = next(s for s in bias.sections() if s.title == "Fairness summary")
    disparities = bias.intervals.xs(("disparities", "all groups"), level=("table", "row"))
    np.testing.assert_array_equal(summary.bounds[0]["value"], disparities["lower"].reindex(
        summary.table.index))
    json = render.report_dict("bias", "t", {}, [section])["sections"][0]
    lower = np.array(json["bounds"]["lower"], dtype=np.float64)  # null (no interval) → NaN
    np.testing.assert_array_equal(lower, section.bounds[0].to_numpy(dtype=np.float64))


def test_two_groups_are_not_both_marked():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"m": rng.random(3)})
    assert render.extremes(table, ["m"]) == {"m": {int(table["m"].argmin()),
                                                   int(table["m"].argmax())}}
    assert render.extremes(table.head(2), ["m"]) == {}


def test_a_default_index_is_left_out_of_every_rendering():
    table = pd.DataFrame({"finding": ["x", "y"], "value": [1.5, 2.5]})
    markdown = render.md_table(table)
    assert markdown.splitlines()[0] == "| finding | value |"
    assert render.table_to_dict(table) == {"index_names": [], "columns": ["finding", "value"],
                                           "rows": [{"index": [], "values": ["x", 1.5]},
                                                    {"index": [], "values": ["y", 2.5]}]}
    assert _parse(render.to_html("t", [Section("s", table=table)])).cells == [
        "finding", "value", "x", "1.5000", "y", "2.5000"]


def test_bar_labels_fit_their_column():
    labels = ["a", "Female · African-American", "x" * 60]
    svg = render.svg_bars(pd.Series([0.2, 0.5, 0.1], index=labels, name="rate"))
    texts = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"><title>([^<]*)</title>'
                       r"([^<]*)</text>", svg)
    assert [t[1] for t in texts] == labels  # the full label on hover
    assert texts[2][2] == "x" * (render.LABEL_CHARS - 1) + "…"
    right = float(texts[0][0])  # the labels end here; 7 px a character fit before it
    assert all(7 * len(shown) <= right for _, _, shown in texts)
