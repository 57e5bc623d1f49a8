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


def _check_metric_bars(bias, metric: str):
    """Bars are the per-group estimates, error bars their intervals, the line the overall."""
    axes, bars = _bars(plots.metric_figure(bias, metric))
    values = bias.by_group[metric]
    np.testing.assert_allclose([b.get_width() for b in bars], values)
    assert [t.get_text() for t in axes.get_yticklabels()] == list(values.index)
    bounds = bias.intervals.xs(("by_group", metric),
                               level=("table", "metric")).reindex(values.index)
    (segments,) = [c for c in axes.collections if len(c.get_segments()) == len(values)]
    ends = np.array([[s[0][0], s[1][0]] for s in segments.get_segments()])
    np.testing.assert_allclose(ends, bounds[["lower", "upper"]].to_numpy(), rtol=1e-12,
                               atol=1e-12)
    assert _reference(axes) == pytest.approx(bias.overall[metric])


def test_metric_bars_and_error_bars_are_the_estimates_and_intervals(bias_result):
    _check_metric_bars(bias_result, "false_positive_rate")


@pytest.mark.parametrize(("audit", "first"), [("wine_audit", "accuracy"),
                                              ("diabetes_audit", "mean_absolute_error")])
def test_each_task_charts_its_own_metrics(request, audit, first):
    bias = request.getfixturevalue(audit).bias
    metrics, shown = plots.chart_metrics(bias)
    assert shown == first and metrics == list(bias.by_group.columns.drop("count"))
    for metric in metrics:
        _check_metric_bars(bias, metric)


@pytest.mark.parametrize(("target", "expected"), [
    (np.tile([0, 1], 150), (["base_rate"], "base_rate")),
    (np.tile([0, 1, 2], 100), ([], None)),
    (np.linspace(0.0, 1.0, 300), (["mean_target"], "mean_target"))])
def test_label_only_chart_metrics(target, expected):
    data = pd.DataFrame({"g": np.repeat(["a", "b"], 150), "y": target})
    assert plots.chart_metrics(rai_nb.bias(data, target="y", sensitive="g")) == expected


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


def test_svg_takes_the_page_colour_and_escapes_labels(bias_result):
    """Text, ticks and axes are currentColor on a transparent background (so they follow the
    theme); labels stay escaped text."""
    import dataclasses
    import re

    hostile = dataclasses.replace(bias_result, by_group=bias_result.by_group.rename(
        index={"a": "<img src=x onerror=alert(1)>"}))
    svg = plots.svg(plots.metric_figure(hostile, "selection_rate"))
    assert svg.startswith("<svg") and "<img" not in svg and "&lt;img src=x" in svg
    assert "currentColor" in svg and plots._INK not in svg
    fills = set(re.findall(r"fill: ?(#[0-9a-f]{6})", svg)) | set(re.findall(r'fill="(#[0-9a-f]{6})"',
                                                                        svg))
    assert fills <= {plots._BAR, plots._REFERENCE}  # no black text, no white background
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "selection rate" in texts and "all rows" in texts


def test_binary_feature_dependence_is_a_box_per_value():
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(0)
    dummy, amount = rng.integers(0, 2, 300).astype(float), rng.normal(size=300)
    values = np.column_stack([0.4 * dummy - 0.2 + 0.05 * rng.normal(size=300), 0.1 * amount])
    explanation = shap.Explanation(values=values, base_values=np.zeros(300),
                                   data=np.column_stack([dummy, amount]),
                                   feature_names=["is_member", "amount"])
    assert plots.is_binary(explanation, 0) and not plots.is_binary(explanation, 1)
    figure = plots.binary_dependence_figure(explanation, 0)
    (axes,) = figure.axes
    assert [t.get_text() for t in axes.get_xticklabels()] == ["0", "1"]
    medians = [line.get_ydata()[0] for line in axes.lines if line.get_color() == plots._REFERENCE]
    np.testing.assert_allclose(medians, [np.median(values[dummy == v, 0]) for v in (0, 1)])
    (points,) = axes.collections
    np.testing.assert_array_equal(np.round(points.get_offsets()[:, 0]), dummy)  # jitter < 0.5
    np.testing.assert_array_equal(points.get_offsets()[:, 1], values[:, 0])
