"""The model card of multiclass and regression audits: each task's metrics, with intervals, in
both the markdown and the HTML card (COMPAS's binary card is in test_audit.py)."""

from __future__ import annotations

import html

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine

from rai_nb.stats.regression import REGRESSION_DISPARITIES

TASKS = [
    ("wine_audit", ["count", "accuracy", "balanced_accuracy", "macro_f1"]),
    ("diabetes_audit", ["count", "mean_target", "mean_prediction", "mean_absolute_error",
                        "root_mean_squared_error", "r2"]),
]


def _expected_rows(bias, metrics) -> list[list[str]]:
    """Each group's cells as the card writes them: count, then "estimate [lower, upper]"."""
    bounds = bias.intervals.xs("by_group", level="table")
    rows = []
    for group, values in bias.by_group[metrics].iterrows():
        cells = [group, f"{int(values['count']):,}"]
        for metric in metrics[1:]:
            low, high = bounds.loc[(group, metric), ["lower", "upper"]]
            cells.append(f"{values[metric]:.3f} [{low:.3f}, {high:.3f}]")
        rows.append(cells)
    return rows


@pytest.mark.parametrize(("audit", "metrics"), TASKS)
def test_card_table_holds_the_task_metrics_with_intervals(request, audit, metrics):
    audit = request.getfixturevalue(audit)
    card = audit.card
    (table,) = [s.table for s in card.sections() if s.title == "Quantitative analyses"]
    assert list(table.columns) == metrics
    markdown, page = card.to_markdown().replace("\\", ""), card.to_html()
    for cells in _expected_rows(audit.bias, metrics):
        assert f"| {' | '.join(cells)} |" in markdown
        assert all(f">{html.escape(cell)}<" in page for cell in cells)
    assert html.escape(audit.bias.task_note()) in page


def test_multiclass_card_names_the_classes_and_their_disparities(wine_audit):
    card, bias = wine_audit.card, wine_audit.bias
    shares = np.bincount(load_wine().target) / len(load_wine().target)
    sentence = ("178 rows; cultivar has 3 classes: "
                + ", ".join(f"{c} ({s:.1%})" for c, s in enumerate(shares)) + ".")
    markdown, page = card.to_markdown().replace("\\", ""), card.to_html()
    assert sentence in markdown and html.escape(sentence) in page
    assert "balanced accuracy and macro F1" in markdown
    (table,) = [s.table for s in card.sections() if s.title == "Disparities by class"]
    assert table.equals(bias.class_disparities)
    assert "positive" not in markdown.split("## Quantitative analyses")[0]


def test_regression_card_gives_the_mean_target_and_regression_disparities(diabetes_audit):
    card, bias = diabetes_audit.card, diabetes_audit.bias
    mean = load_diabetes().target.mean()
    sentence = f"442 rows; mean progression {mean:.4g}."
    markdown, page = card.to_markdown().replace("\\", ""), card.to_html()
    assert sentence in markdown and html.escape(sentence) in page
    assert "R²" in markdown and "Wasserstein" in markdown
    (table,) = [s.table for s in card.sections() if s.title == "Disparities"]
    assert list(table.index) == list(REGRESSION_DISPARITIES)
    np.testing.assert_array_equal(table["value"], bias.disparities)


@pytest.mark.parametrize(("audit", "metric", "alt"), [
    ("wine_audit", "accuracy", "Accuracy by group"),
    ("diabetes_audit", "mean_absolute_error", "Mean absolute error by group")])
def test_saved_card_charts_the_task_metric(request, tmp_path, audit, metric, alt):
    path = request.getfixturevalue(audit).card.save(tmp_path / "CARD.md")
    assert f"![{alt}](CARD_files/{metric}.png)" in path.read_text()
    assert (tmp_path / "CARD_files" / f"{metric}.png").stat().st_size > 1000
