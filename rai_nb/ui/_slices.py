"""The panel of a :class:`rai_nb.SliceResult`: top slices, a chart, the selected slice's rows."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..results._slices import _NOTES
from . import _html, plots

#: Values listed per categorical column in a slice's summary.
TOP_VALUES = 3


class SlicesPanel(widgets.VBox):
    """The top-K slices, a chart, and a summary of the rows of the selected slice.

    Parameters
    ----------
    result : rai_nb.SliceResult
        The result viewed; the row summary reads the rows it kept (``result.data``).
    """

    def __init__(self, result):
        self.result = result
        top = result.top
        self.select = widgets.Dropdown(
            options=[(f"{i + 1}. {s}", i) for i, s in enumerate(top["slice"])],
            description="slice", layout=widgets.Layout(width="95%"))
        self.summary = widgets.HTML()
        self.select.observe(lambda _: self._summarise(), names="value")
        self._summarise()
        chart = widgets.HTML(_html.figure(plots.slices_figure(result)) if len(top) else "")
        super().__init__([widgets.HTML(self._table()), chart, self.select, self.summary])

    def _table(self) -> str:
        top = self.result.top.drop(columns="predicates").set_index("slice")
        rows = [_html.HIGHEST if s else "" for s in top["significant"]]
        return _html.wrap(_html.paragraph(self.result.sections()[0].text, bold=self.result.title),
                          _html.table(top, notes=_NOTES, row_styles=rows),
                          _html.paragraph("Orange rows are significant. Choose a slice below to "
                                          "summarise its rows."))

    def _summarise(self):
        if self.select.value is None:
            self.summary.value = ""
            return
        i = self.select.value
        parts = [_html.paragraph(_describe(self.result, i), bold=str(self.result.top["slice"].iat[i]))]
        data = self.result.data
        if data is None:
            parts.append(_html.paragraph("The searched rows were not kept: no row summary."))
        else:
            rows = data[self.result.mask(i)]
            parts += [_html.paragraph(f"{len(rows):,} rows match the slice's predicates.")]
            parts += _row_summary(rows, data)
        self.summary.value = _html.wrap(*parts)


def _describe(result, i: int) -> str:
    row = result.top.iloc[i]
    verdict = "significant" if row["significant"] else "not significant"
    weight = "" if result.total_weight is None else f" (weight {row['size']:,.4g})"
    return (f"{int(row['rows']):,} rows{weight}, mean {result.loss} {row['mean_loss']:.4f} against "
            f"{row['rest_loss']:.4f} in the other rows ({result.average_loss:.4f} overall); "
            f"effect size {row['effect_size']:.3f}, p = {row['p_value']:.3g} ({verdict}).")


def _row_summary(rows: pd.DataFrame, data: pd.DataFrame) -> list[str]:
    """Describe numeric columns and list the commonest values of the others, beside all rows."""
    parts = []
    numeric = data.select_dtypes("number").columns
    if len(numeric) and len(rows):
        table = rows[numeric].describe().T[["mean", "std", "min", "50%", "max"]]
        table.insert(1, "mean (all rows)", data[numeric].mean())
        parts += ["<h4>Numeric columns</h4>", _html.table(table)]
    others = [c for c in data.columns if c not in numeric]
    if others and len(rows):
        parts += ["<h4>Commonest values</h4>",
                  _html.table(pd.concat([_value_counts(rows[c], data[c]) for c in others]))]
    return parts


def _value_counts(slice_values: pd.Series, all_values: pd.Series) -> pd.DataFrame:
    counts = slice_values.value_counts(dropna=False).head(TOP_VALUES)
    share = all_values.value_counts(normalize=True, dropna=False).reindex(counts.index)
    index = pd.MultiIndex.from_arrays([[slice_values.name] * len(counts), counts.index.astype(object)],
                                      names=["column", "value"])
    return pd.DataFrame({"rows": counts.to_numpy(), "share": counts.to_numpy() / len(slice_values),
                         "share (all rows)": share.to_numpy()}, index=index)
