"""Static renderings of results: escaped HTML, markdown, plain text and report JSON.

A result describes itself as a list of :class:`Section` objects; the functions here turn any
such list into each output format, so every result type renders the same way and escaping
lives in one place.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: MIME type of the JSON report rendered by the JupyterLab extension.
REPORT_MIME = "application/vnd.rai-nb.report+json"
#: Version of the report JSON layout (documented in docs/report-schema.md).
REPORT_VERSION = 1


@dataclass(frozen=True)
class Section:
    """One titled block of a report: a paragraph, a table, a bar chart, or several.

    ``notes`` maps table column names to a one-line definition (shown on hover in HTML);
    ``bars`` is a Series of values drawn as an inline SVG bar chart, one bar per index label;
    ``marks`` maps a table column to the row positions whose cells are emphasised (e.g. the
    best and worst group); ``image`` is a PNG shown below the text in HTML and in the report
    JSON (as a data URI), left out of markdown and plain text to keep them small; ``bounds``
    is ``(lower, upper)``, two frames with the table's index and columns holding interval ends
    (NaN where a cell has none), shown beside the estimates; ``svg`` is an inline ``<svg>``
    figure in the page's colours (:func:`rai_nb.ui.plots.svg`), shown in HTML only, in place
    of ``image`` when a section has both.
    """

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    bars: pd.Series | None = None
    marks: dict = field(default_factory=dict)
    bounds: tuple | None = None
    image: bytes | None = None
    svg: str | None = None


def format_value(value) -> str:
    """Numbers with 4 significant decimals, everything else as ``str``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4f}"
    if isinstance(value, tuple):
        return " · ".join(map(str, value))
    return str(value)


def json_value(value):
    """A JSON-safe copy: NaN → null, ±inf → "inf"/"-inf", NumPy scalars → Python."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_value(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def table_to_dict(table: pd.DataFrame) -> dict:
    """``{"index_names", "columns", "rows": [{"index": [...], "values": [...]}]}``; a default
    0..n-1 index is left out (no index names, empty row indexes)."""
    plain = plain_index(table)
    index_names = [] if plain else [json_value(n) for n in table.index.names]
    rows = []
    for key, values in zip(table.index, table.itertuples(index=False, name=None)):
        index = [] if plain else list(key) if isinstance(key, tuple) else [key]
        rows.append({"index": json_value(index), "values": json_value(list(values))})
    return {"index_names": index_names, "columns": json_value(list(table.columns)), "rows": rows}


def png_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI (for ``<img src>``; base64 needs no escaping)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def report_dict(kind: str, title: str, summary: dict, sections: list[Section]) -> dict:
    """The report JSON every result emits (see docs/report-schema.md)."""
    return {
        "rai_nb_report": REPORT_VERSION,
        "kind": kind,
        "title": title,
        "summary": json_value(summary),
        "sections": [
            {"title": s.title, "text": s.text, "notes": dict(s.notes),
             "marks": {str(k): sorted(map(int, v)) for k, v in s.marks.items()},
             "table": None if s.table is None else table_to_dict(s.table),
             "bounds": None if s.bounds is None else {
                 side: json_value(frame.to_numpy(dtype=np.float64))
                 for side, frame in zip(("lower", "upper"), s.bounds)},
             "bars": None if s.bars is None else {
                 "label": json_value(s.bars.name),
                 "labels": [format_value(k) for k in s.bars.index],
                 "values": json_value(s.bars.to_numpy(dtype=np.float64))},
             "image": None if s.image is None else png_uri(s.image)}
            for s in sections
        ],
    }


#: Rows of a table shown before the rest are folded into a ``<details>`` block.
ROWS_SHOWN = 20
#: Longest bar label drawn in full; longer ones end in an ellipsis (the full label on hover).
LABEL_CHARS = 28

# Colours inherit the page's text colour; fills and borders are JupyterLab theme variables with
# translucent greys as fallbacks, so light and dark pages (nbconvert, VS Code, GitHub) both read.
_CSS = (
    ".rai-nb{font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;max-width:100%}"
    ".rai-nb h3{margin:.6em 0 .3em}.rai-nb h4{margin:.8em 0 .2em}"
    ".rai-nb .rai-scroll{width:0;min-width:100%;overflow-x:auto}"
    ".rai-nb table{border-collapse:collapse;margin:.2em 0 .6em}"
    ".rai-nb th,.rai-nb td{border:1px solid var(--jp-border-color2,rgba(128,128,128,.45));"
    "padding:2px 6px;text-align:right}"
    ".rai-nb td.rai-mark{font-weight:bold}.rai-nb td.rai-text{text-align:left}"
    ".rai-nb th{background:var(--jp-layout-color2,rgba(128,128,128,.14))}"
    ".rai-nb td.rai-label,.rai-nb th.rai-label{text-align:left}"
    ".rai-nb summary{cursor:pointer}.rai-nb svg text{fill:currentColor}"
)
#: The page of a saved report: the reader's light or dark scheme, a readable measure.
_PAGE_CSS = (
    ":root{color-scheme:light dark}"
    "body{margin:1.5em auto;max-width:70em;padding:0 1em;font-family:system-ui,sans-serif}"
    "nav.rai-toc{font-size:13px}nav.rai-toc ul{margin:.2em 0;padding-left:1.4em}"
)


def to_html(title: str, sections: list[Section]) -> str:
    """Self-contained static HTML (no scripts); every piece of text is escaped.

    A fragment for a notebook output; :func:`html_document` makes a page of it. Tables longer
    than :data:`ROWS_SHOWN` rows show their top rows and fold the rest into ``<details>``.
    """
    parts = [f'<div class="rai-nb"><style>{_CSS}</style><h3>{html.escape(title)}</h3>']
    for section in sections:
        parts.append(f"<h4>{html.escape(section.title)}</h4>")
        if section.text:
            parts.append(f"<p>{html.escape(section.text)}</p>")
        if section.svg is not None:  # the page's colours; the PNG is for JSON and files
            parts.append(f'<div class="rai-figure">{section.svg}</div>')
        elif section.image is not None:
            parts.append(f'<img src="{png_uri(section.image)}" alt="{html.escape(section.title)}" '
                         'style="max-width:100%">')
        if section.bars is not None:
            parts.append(svg_bars(section.bars))
        if section.table is not None:
            parts.append(_html_table(section.table, section.notes, section.marks,
                                     section.bounds))
    parts.append("</div>")
    return "".join(parts)


_HEADING = re.compile(r"<(h[34])>(.*?)</\1>")


def html_document(fragment: str, title: str) -> str:
    """A full HTML page (doctype, charset, title, CSS, a table of contents) around ``fragment``.

    Parameters
    ----------
    fragment : str
        One or more outputs of :func:`to_html` (their headings are escaped text, so the table
        of contents is read from them).
    title : str
        The page title (raw text; escaped here).

    Returns
    -------
    str
        The page, for writing to an ``.html`` file.
    """
    entries = []

    def anchor(match):
        entries.append((match.group(1), match.group(2), f"s{len(entries) + 1}"))
        return f'<{match.group(1)} id="{entries[-1][2]}">{match.group(2)}</{match.group(1)}>'

    body = _HEADING.sub(anchor, fragment)
    return ('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
            f"<body>\n{_contents(entries)}\n{body}\n</body>\n</html>\n")


def _contents(entries: list[tuple[str, str, str]]) -> str:
    """A nested list of links: one item per report (h3), its sections (h4) below it."""
    items, open_item = [], False
    for level, text, target in entries:
        link = f'<a href="#{target}">{text}</a>'
        if level == "h3":
            items.append(("</ul></li>" if open_item else "") + f"<li>{link}<ul>")
            open_item = True
        else:
            items.append(f"<li>{link}</li>")
    closing = "</ul></li>" if open_item else ""
    return f'<nav class="rai-toc"><b>Contents</b><ul>{"".join(items)}{closing}</ul></nav>'


def svg_bars(values: pd.Series, *, plot_width: int = 240, bar: int = 16) -> str:
    """A horizontal bar chart as inline SVG (no scripts); labels are escaped.

    The label column is as wide as the longest label (cut at :data:`LABEL_CHARS` characters),
    so no label runs off the left edge; text takes the page's colour.
    """
    numbers = np.nan_to_num(values.to_numpy(dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = min(0.0, numbers.min(initial=0.0)), max(0.0, numbers.max(initial=0.0))
    span = (high - low) or 1.0
    labels = [format_value(label) for label in values.index]
    label_w = label_width(labels)
    zero = label_w + plot_width * (0 - low) / span
    rows = []
    for i, (label, value, shown) in enumerate(zip(labels, numbers, values)):
        y = i * (bar + 4)
        x0 = label_w + plot_width * (min(value, 0) - low) / span
        w = plot_width * abs(value) / span
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar - 4}" text-anchor="end">'
            f"<title>{html.escape(label)}</title>{html.escape(short_label(label))}</text>"
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="#4c78a8"/>'
            f'<text x="{label_w + plot_width + 6}" y="{y + bar - 4}">'
            f"{html.escape(format_value(shown))}</text>")
    height = len(values) * (bar + 4)
    width = label_w + plot_width + 70
    title = html.escape(format_value(values.name)) if values.name is not None else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-size="11" role="img" aria-label="{title}">'
            f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="0" y2="{height}" stroke="#888"/>'
            f'{"".join(rows)}</svg>')


def short_label(label: str) -> str:
    """``label`` cut to :data:`LABEL_CHARS` characters with an ellipsis."""
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def label_width(labels: list[str]) -> int:
    """Pixels for the bar labels at 11 px: 7 px a character (wider than the mean of a sans
    font's letters, so no label is clipped), plus a margin."""
    return 12 + 7 * min(max(map(len, labels), default=0), LABEL_CHARS)


_MARKED = '<td class="rai-mark">'
_TEXT = '<td class="rai-text">'


def extremes(table: pd.DataFrame, columns, *, rows=None) -> dict:
    """Row positions of the smallest and largest value of each numeric column (for ``marks``),
    among the ``rows`` (a boolean mask; all rows when None).

    Only with three or more values: with two, every cell would be one extreme or the other.
    """
    marks = {}
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        if rows is not None:
            values = np.where(rows, values, np.nan)
        if np.isfinite(values).sum() > 2 and np.nanmax(values) > np.nanmin(values):
            marks[column] = {int(np.nanargmin(values)), int(np.nanargmax(values))}
    return marks


def plain_index(table: pd.DataFrame) -> bool:
    """Whether the index is pandas' default 0..n-1, which carries no information."""
    return isinstance(table.index, pd.RangeIndex) and table.index.name is None


def with_bounds(table: pd.DataFrame, bounds: tuple | None) -> list[list[str]]:
    """Each cell's text: the value as :func:`format_value` writes it, then its interval
    ``[lower, upper]`` where ``bounds`` has both ends."""
    cells = [[format_value(v) for v in row] for row in table.itertuples(index=False, name=None)]
    if bounds is None:
        return cells
    lower, upper = (side.to_numpy(dtype=np.float64) for side in bounds)
    for i, j in zip(*np.nonzero(np.isfinite(lower) & np.isfinite(upper))):
        cells[i][j] += f" [{lower[i, j]:.3f}, {upper[i, j]:.3f}]"
    return cells


def _html_table(table: pd.DataFrame, notes: dict[str, str], marks: dict | None = None,
                bounds: tuple | None = None) -> str:
    """The top :data:`ROWS_SHOWN` rows, and the others in a ``<details>`` block below them."""
    plain = plain_index(table)
    names = [] if plain else [format_value(n) if n is not None else "" for n in table.index.names]
    head = "".join(f'<th class="rai-label">{html.escape(n)}</th>' for n in names)
    head += "".join(
        f'<th title="{html.escape(notes.get(str(c), ""), quote=True)}">{html.escape(format_value(c))}</th>'
        for c in table.columns)
    body = []
    marks = marks or {}
    rows = zip(table.index, table.itertuples(index=False, name=None), with_bounds(table, bounds))
    for row, (key, values, texts) in enumerate(rows):
        labels = () if plain else key if isinstance(key, tuple) else (key,)
        cells = "".join(f'<td class="rai-label">{html.escape(format_value(v))}</td>' for v in labels)
        cells += "".join(
            (_MARKED if row in marks.get(column, ()) else _TEXT if isinstance(v, str) else "<td>")
            + f"{html.escape(text)}</td>" for column, v, text in zip(table.columns, values, texts))
        body.append(f"<tr>{cells}</tr>")
    shown = _table_block(head, body[:ROWS_SHOWN])
    if len(body) <= ROWS_SHOWN:
        return shown
    rest = len(body) - ROWS_SHOWN
    return (f"{shown}<details><summary>{rest:,} more row{'s' * (rest > 1)}</summary>"
            f"{_table_block(head, body[ROWS_SHOWN:])}</details>")


def _table_block(head: str, rows: list[str]) -> str:
    return (f'<div class="rai-scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


#: Every character a markdown renderer may take as a line break (CR, LS, PS, VT, FF, NEL).
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
#: Inline syntax, escaped wherever it stands: backslash, code, emphasis (``_`` only at a word's
#: edge: GFM never reads an intraword ``_`` as emphasis), strikethrough, table pipes, math.
#: ASCII classes throughout, so labextension/src/markdown.ts escapes exactly the same.
_INLINE = re.compile(r"[\\`*~|$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: An entity (``&amp;``) or raw HTML (``<``): the only places where ``&`` and ``<`` matter.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
#: A link or image needs ``](``; escaping its parenthesis keeps brackets as plain text.
_LINK = re.compile(r"\]\(")
#: A heading's closing ``#`` run, which markdown would drop.
_CLOSING_HASHES = re.compile(r"(#+)[ \t]*$")
#: Line starts that open a block: a heading, quote, setext underline, link definition
#: (``[x]: url``), a list item or rule (``-`` or ``+``, unless a number's sign: ``-0.5``),
#: or an ordered list item (``1.``, ``1)``).
_BLOCK_START = re.compile(r"^([#>=\[]|[-+](?![0-9.]))", re.MULTILINE)
_ORDERED = re.compile(r"^([0-9]+)([.)])(?=[ \t]|$)", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def md_escape(text, *, keep_lines: bool = False) -> str:
    """Escape the markdown syntax and raw HTML in user-controlled text, and nothing else.

    Inline syntax (code, emphasis, pipes, links, HTML, entities, ``$`` math) is escaped
    everywhere; dates, parentheses and ``&`` in prose are left as they are. Every kind of line
    break becomes a newline; line breaks become spaces (table cells, headings) unless
    ``keep_lines`` (paragraphs). Lines lose their indentation (a code block) and a line start
    that would open a block (``#``, ``>``, ``- ``, ``===``, ``1.``) is escaped.
    """
    text = _LINE_BREAKS.sub("\n", str(text))
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;")
    text = _LINK.sub(r"]\\(", _INLINE.sub(lambda m: "\\" + m.group(), text))
    if not keep_lines:
        text = _CLOSING_HASHES.sub(lambda m: "\\#" * len(m.group(1)), text.replace("\n", " "))
    text = _BLOCK_START.sub(r"\\\1", _INDENT.sub("", text))
    return _ORDERED.sub(r"\1\\\2", text)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (ANSI escapes, carriage returns) shown as ``\\xNN``,
    so data cannot move the cursor or recolour a terminal or CI log."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def to_markdown(title: str, sections: list[Section], *, level: int = 2) -> str:
    """GitHub-flavoured markdown with escaped text and pipe tables."""
    hashes = "#" * level
    lines = [f"{hashes} {md_escape(title)}", ""]
    for section in sections:
        lines += [f"{hashes}# {md_escape(section.title)}", ""]
        if section.text:
            lines += [md_escape(section.text), ""]
        if section.table is not None:
            lines += [md_table(section.table, section.bounds), ""]
    return "\n".join(lines).rstrip() + "\n"


def md_table(table: pd.DataFrame, bounds: tuple | None = None) -> str:
    """``table`` as a GFM pipe table (cells escaped, intervals beside their estimates as in
    :func:`with_bounds`; a default 0..n-1 index left out)."""
    plain = plain_index(table)
    names = [] if plain else [format_value(n) if n is not None else "" for n in table.index.names]
    header = [md_escape(n) for n in names] + [md_escape(format_value(c)) for c in table.columns]
    align = [":--"] * len(names) + ["--:"] * len(table.columns)
    rows = []
    for key, texts in zip(table.index, with_bounds(table, bounds)):
        labels = () if plain else key if isinstance(key, tuple) else (key,)
        cells = [md_escape(v) for v in (*map(format_value, labels), *texts)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |", *rows])


def to_text(title: str, sections: list[Section]) -> str:
    """Plain text for terminals and ``repr``."""
    lines = [title, "=" * len(title)]
    for section in sections:
        lines += ["", section.title, "-" * len(section.title)]
        if section.text:
            lines.append(section.text)
        if section.table is not None:
            table = section.table
            shown = pd.DataFrame(with_bounds(table, section.bounds), index=table.index,
                                 columns=table.columns) if len(table) else table
            lines.append(shown.to_string())
    return "\n".join(lines)


def report_json(report: dict) -> str:
    """Serialise a report dict (already JSON-safe) compactly."""
    return json.dumps(report, ensure_ascii=False, allow_nan=False)
