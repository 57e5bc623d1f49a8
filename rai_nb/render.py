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
    JSON (as a data URI), left out of markdown and plain text to keep them small.
    """

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    bars: pd.Series | None = None
    marks: dict = field(default_factory=dict)
    image: bytes | None = None


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
    """``{"index_names", "columns", "rows": [{"index": [...], "values": [...]}]}``."""
    index_names = [json_value(n) for n in table.index.names]
    rows = []
    for key, values in zip(table.index, table.itertuples(index=False, name=None)):
        index = list(key) if isinstance(key, tuple) else [key]
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
             "bars": None if s.bars is None else {
                 "label": json_value(s.bars.name),
                 "labels": [format_value(k) for k in s.bars.index],
                 "values": json_value(s.bars.to_numpy(dtype=np.float64))},
             "image": None if s.image is None else png_uri(s.image)}
            for s in sections
        ],
    }


_CSS = (
    ".rai-nb{font-family:system-ui,sans-serif;font-size:13px;line-height:1.4}"
    ".rai-nb h3{margin:.6em 0 .3em}.rai-nb h4{margin:.8em 0 .2em}"
    ".rai-nb table{border-collapse:collapse;margin:.2em 0 .6em}"
    ".rai-nb th,.rai-nb td{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    ".rai-nb td.rai-mark{font-weight:bold;color:#b00020}.rai-nb td.rai-text{text-align:left}"
    ".rai-nb th{background:#f3f3f3}.rai-nb td.rai-label,.rai-nb th.rai-label{text-align:left}"
)


def to_html(title: str, sections: list[Section]) -> str:
    """Self-contained static HTML (no scripts); every piece of text is escaped."""
    parts = [f'<div class="rai-nb"><style>{_CSS}</style><h3>{html.escape(title)}</h3>']
    for section in sections:
        parts.append(f"<h4>{html.escape(section.title)}</h4>")
        if section.text:
            parts.append(f"<p>{html.escape(section.text)}</p>")
        if section.image is not None:
            parts.append(f'<img src="{png_uri(section.image)}" alt="{html.escape(section.title)}" '
                         'style="max-width:100%">')
        if section.bars is not None:
            parts.append(svg_bars(section.bars))
        if section.table is not None:
            parts.append(_html_table(section.table, section.notes, section.marks))
    parts.append("</div>")
    return "".join(parts)


def svg_bars(values: pd.Series, *, width: int = 420, bar: int = 16) -> str:
    """A horizontal bar chart as inline SVG (no scripts); labels are escaped."""
    numbers = np.nan_to_num(values.to_numpy(dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = min(0.0, numbers.min(initial=0.0)), max(0.0, numbers.max(initial=0.0))
    span = (high - low) or 1.0
    label_w, plot_w = 160, width - 220
    zero = label_w + plot_w * (0 - low) / span
    rows = []
    for i, (label, value, shown) in enumerate(zip(values.index, numbers, values)):
        y = i * (bar + 4)
        x0 = label_w + plot_w * (min(value, 0) - low) / span
        w = plot_w * abs(value) / span
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar - 4}" text-anchor="end">'
            f"{html.escape(format_value(label))}</text>"
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="#4c78a8"/>'
            f'<text x="{label_w + plot_w + 6}" y="{y + bar - 4}">{html.escape(format_value(shown))}</text>')
    height = len(values) * (bar + 4)
    title = html.escape(format_value(values.name)) if values.name is not None else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-size="11" role="img" aria-label="{title}">'
            f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="0" y2="{height}" stroke="#888"/>'
            f'{"".join(rows)}</svg>')


_MARKED = '<td class="rai-mark">'
_TEXT = '<td class="rai-text">'


def extremes(table: pd.DataFrame, columns) -> dict:
    """Row positions of the smallest and largest value of each numeric column (for ``marks``)."""
    marks = {}
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(values).sum() > 1 and np.nanmax(values) > np.nanmin(values):
            marks[column] = {int(np.nanargmin(values)), int(np.nanargmax(values))}
    return marks


def _html_table(table: pd.DataFrame, notes: dict[str, str], marks: dict | None = None) -> str:
    # A default 0..n-1 index carries no information: leave it out of the page.
    plain = isinstance(table.index, pd.RangeIndex) and table.index.name is None
    names = [] if plain else [format_value(n) if n is not None else "" for n in table.index.names]
    head = "".join(f'<th class="rai-label">{html.escape(n)}</th>' for n in names)
    head += "".join(
        f'<th title="{html.escape(notes.get(str(c), ""), quote=True)}">{html.escape(format_value(c))}</th>'
        for c in table.columns)
    body = []
    marks = marks or {}
    for row, (key, values) in enumerate(zip(table.index, table.itertuples(index=False, name=None))):
        labels = () if plain else key if isinstance(key, tuple) else (key,)
        cells = "".join(f'<td class="rai-label">{html.escape(format_value(v))}</td>' for v in labels)
        cells += "".join(
            (_MARKED if row in marks.get(column, ()) else _TEXT if isinstance(v, str) else "<td>")
            + f"{html.escape(format_value(v))}</td>" for column, v in zip(table.columns, values))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~])")
#: Every character a markdown renderer may take as a line break (CR, LS, PS, VT, FF, NEL).
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
#: Line starts that open a block once inline syntax is escaped: indentation (code blocks),
#: a setext heading underline (===) and an ordered list item (1. or 1)).
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_SETEXT = re.compile(r"^=", re.MULTILINE)
_ORDERED = re.compile(r"^(\d+)([.)])", re.MULTILINE)


def md_escape(text, *, keep_lines: bool = False) -> str:
    """Escape markdown syntax and raw HTML in user-controlled text.

    Every kind of line break becomes a newline; line breaks become spaces (table cells,
    headings) unless ``keep_lines`` (paragraphs), where lines lose their indentation and a
    line start that would open a block (``===``, ``1.``) is escaped.
    """
    text = _LINE_BREAKS.sub("\n", html.escape(str(text), quote=False))
    if not keep_lines:
        return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))
    text = _MD_SPECIAL.sub(r"\\\1", _INDENT.sub("", text))
    return _ORDERED.sub(r"\1\\\2", _SETEXT.sub(r"\\=", text))


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
            lines += [md_table(section.table), ""]
    return "\n".join(lines).rstrip() + "\n"


def md_table(table: pd.DataFrame) -> str:
    names = [format_value(n) if n is not None else "" for n in table.index.names]
    header = [md_escape(n) for n in names] + [md_escape(format_value(c)) for c in table.columns]
    align = [":--"] * len(names) + ["--:"] * len(table.columns)
    rows = []
    for key, values in zip(table.index, table.itertuples(index=False, name=None)):
        labels = key if isinstance(key, tuple) else (key,)
        cells = [md_escape(format_value(v)) for v in (*labels, *values)]
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
            shown = section.table.map(format_value) if len(section.table) else section.table
            lines.append(shown.to_string())
    return "\n".join(lines)


def report_json(report: dict) -> str:
    """Serialise a report dict (already JSON-safe) compactly."""
    return json.dumps(report, ensure_ascii=False, allow_nan=False)
