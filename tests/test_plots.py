"""Figures of rai_nb.ui.plots: their bars and error bars are the result's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rai_nb

pytest.importorskip("matplotlib")
from rai_nb.ui import plots


@pytest.fixture(scope="module")
def bias_result():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"group": rng.choice(["a", "b", "c"], 600),
                         "y": rng.integers(0, 2, 600), "p": rng.integers(0, 2, 600)})
    return rai_nb.bias(data, target="y", prediction="p", sensitive="group", n_boot=40,
                       random_state=0)


def _bars(figure):
    from matplotlib.container import BarContainer

    (axes,) = figure.axes
    (bars,) = [c for c in axes.containers if isinstance(c, BarContainer)]
    return axes, bars


def _reference(axes) -> float:
    (line,) = [line for line in axes.lines if line.get_label() == "all rows"]
    return line.get_xdata()[0]


def test_metric_bars_and_error_bars_are_the_estimates_and_intervals(bias_result):
    figure = plots.metric_figure(bias_result, "false_positive_rate")
    axes, bars = _bars(figure)
    values = bias_result.by_group["false_positive_rate"]
    np.testing.assert_allclose([b.get_width() for b in bars], values)
    assert [t.get_text() for t in axes.get_yticklabels()] == list(values.index)
    bounds = bias_result.intervals.xs(("by_group", "false_positive_rate"),
                                      level=("table", "metric")).reindex(values.index)
    (segments,) = [c for c in axes.collections if len(c.get_segments()) == len(values)]
    ends = np.array([[s[0][0], s[1][0]] for s in segments.get_segments()])
    np.testing.assert_allclose(ends, bounds[["lower", "upper"]].to_numpy(), atol=1e-12)
    assert _reference(axes) == pytest.approx(bias_result.overall["false_positive_rate"])


def test_metric_bars_without_intervals(bias_result):
    import dataclasses

    bare = dataclasses.replace(bias_result, intervals=None)
    axes, bars = _bars(plots.metric_figure(bare, "selection_rate"))
    assert bars.errorbar is None


def test_importance_bars_keep_order_and_literal_labels():
    importance = pd.Series([3.0, 2.0, 1.0], index=["$\\notacommand$", "a $ b", "<script>"])
    figure = plots.importance_figure(importance)
    axes, bars = _bars(figure)
    np.testing.assert_allclose([b.get_width() for b in bars], importance)
    assert plots.png(figure)[:4] == b"\x89PNG"  # mathtext would fail on the first label
    assert [t.get_text() for t in axes.get_yticklabels()][2] == "<script>"


def test_slice_bars_are_mean_losses_coloured_by_significance():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.choice(list("xyz"), 2000), "b": rng.choice(list("pq"), 2000)})
    data["e"] = ((data["a"] == "x") & (rng.random(2000) < 0.6)).astype(int)
    result = rai_nb.slices(data, errors="e", k=4)
    axes, bars = _bars(plots.slices_figure(result))
    np.testing.assert_allclose([b.get_width() for b in bars], result.top["mean_loss"])
    orange = [b.get_facecolor()[:3] == pytest.approx((0xf5 / 255, 0x85 / 255, 0x18 / 255))
              for b in bars]
    assert orange == list(result.top["significant"])
    assert _reference(axes) == pytest.approx(result.average_loss)
