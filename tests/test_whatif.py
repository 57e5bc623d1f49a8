"""One row's waterfall (explain_row) and the what-if editor, against the models' own outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import rai_nb
from rai_nb import RaiError
from rai_nb.render import REPORT_MIME

xgboost = pytest.importorskip("xgboost")
pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def frame(adult_numeric):
    """Adult's numeric columns plus a string, an integer and a bool column, under a shuffled
    index of labels that are not positions."""
    X, y = adult_numeric
    rng = np.random.default_rng(0)
    X = X.assign(workclass=rng.choice(["private", "state", "self"], len(X)),
                 children=rng.integers(0, 4, len(X)), urban=rng.random(len(X)) < 0.5)
    X.index = rng.permutation(len(X)) * 3 + 7
    return X, (y == ">50K").astype(int) if y.dtype == object else y


@pytest.fixture(scope="module")
def numeric(frame):
    X, y = frame
    return X.drop(columns="workclass").astype({"urban": float}), y


@pytest.fixture(scope="module")
def xgb(numeric):
    X, y = numeric
    return xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)


@pytest.fixture(scope="module")
def pipeline(frame):
    X, y = frame
    encode = make_column_transformer((OneHotEncoder(), ["workclass"]), remainder="passthrough",
                                     verbose_feature_names_out=False)
    return make_pipeline(encode, HistGradientBoostingClassifier(max_iter=20)).fit(X, y)


def _label(X, position: int = 5):
    """A label whose position in X holds another row (so label and position differ)."""
    label = X.index[position]
    assert label in X.index and X.index.get_loc(label) != label
    return label


def test_waterfall_equals_xgboost_pred_contribs(numeric, xgb):
    X, _ = numeric
    label = _label(X)
    row = rai_nb.explain_row(xgb, X, label)
    contribs = xgb.get_booster().predict(xgboost.DMatrix(X.loc[[label]]), pred_contribs=True)[0]
    np.testing.assert_allclose(row.values.to_numpy(), contribs[:-1], rtol=1e-6, atol=1e-6)
    assert row.base == pytest.approx(contribs[-1], abs=1e-6)
    margin = xgb.predict(X.loc[[label]], output_margin=True)[0]
    assert row.margin == pytest.approx(margin, abs=1e-5)
    assert row.prediction == xgb.predict(X.loc[[label]])[0]
    assert row.score == pytest.approx(xgb.predict_proba(X.loc[[label]])[0, 1], abs=1e-6)
    assert list(row.values.index) == list(X.columns)


def test_rows_are_chosen_by_label_not_position(numeric, xgb):
    X, _ = numeric
    label = _label(X, 11)
    by_label = rai_nb.explain_row(xgb, X, label)
    expected = rai_nb.explain(xgb, X.loc[[label]])
    np.testing.assert_allclose(by_label.values.to_numpy(), expected.values[0], atol=1e-12)
    np.testing.assert_array_equal(by_label.data.to_numpy(dtype=float),
                                  X.loc[label].to_numpy(dtype=float))
    at_position = X.iloc[label] if label < len(X) else None
    assert at_position is None or not at_position.equals(X.loc[label])


def test_pipeline_with_string_categories_in_input_columns(frame, pipeline):
    X, _ = frame
    label = _label(X)
    row = rai_nb.explain_row(pipeline, X, label)
    expected = rai_nb.explain(pipeline, X.loc[[label]])
    assert list(row.values.index) == list(X.columns) == list(expected.feature_names)
    np.testing.assert_allclose(row.values.to_numpy(), expected.values[0], atol=1e-12)
    assert row.data["workclass"] == X.loc[label, "workclass"]
    proba = pipeline.predict_proba(X.loc[[label]])[0, 1]
    assert 1 / (1 + np.exp(-row.margin)) == pytest.approx(proba, abs=1e-9)


def test_linear_pipeline_adds_up_to_its_decision_function(frame):
    X, y = frame
    encode = make_column_transformer((OneHotEncoder(), ["workclass"]), remainder=StandardScaler())
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    label = _label(X)
    row = rai_nb.explain_row(model, X, label)
    assert row.margin == pytest.approx(model.decision_function(X.loc[[label]])[0], abs=1e-9)
    reference = rai_nb.explain(model, X.loc[[label]], background=X)
    np.testing.assert_allclose(row.values.to_numpy(), reference.values[0], atol=1e-12)


def test_forest_explains_the_positive_class(numeric):
    X, y = numeric
    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    label = _label(X)
    row = rai_nb.explain_row(model, X, label)
    expected = rai_nb.explain(model, X.loc[[label]])
    np.testing.assert_allclose(row.values.to_numpy(), expected.values[0, :, 1], atol=1e-12)
    assert row.output == "class 1"
    assert row.margin == pytest.approx(model.predict_proba(X.loc[[label]])[0, 1], abs=1e-9)


def test_multiclass_explains_the_predicted_class(numeric):
    X, _ = numeric
    classes = np.digitize(X["age"], [35, 50])  # three classes
    model = HistGradientBoostingClassifier(max_iter=10).fit(X.drop(columns="age"), classes)
    rows = X.drop(columns="age")
    label = _label(rows)
    row = rai_nb.explain_row(model, rows, label)
    predicted = model.predict(rows.loc[[label]])[0]
    k = list(model.classes_).index(predicted)
    expected = rai_nb.explain(model, rows.loc[[label]])
    np.testing.assert_allclose(row.values.to_numpy(), expected.values[0, :, k], atol=1e-12)
    assert row.output == f"class {predicted}" and row.prediction == predicted


def test_kernel_shap_of_any_model_adds_up_to_its_probability(numeric):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = numeric
    X = X[["age", "education_num", "hours_per_week"]]
    model = KNeighborsClassifier(n_neighbors=15).fit(X, y)
    label, background = _label(X), X.iloc[:20]
    with pytest.raises(RaiError, match="method='kernel'"):
        rai_nb.explain_row(model, X, label)
    row = rai_nb.explain_row(model, X, label, method="kernel", background=background)
    expected = rai_nb.explain(model, X.loc[[label]], method="kernel", background=background,
                              progress=False)
    np.testing.assert_allclose(row.values.to_numpy(), expected.values[0, :, 1], atol=1e-12)
    assert row.margin == pytest.approx(model.predict_proba(X.loc[[label]])[0, 1], abs=1e-9)
    assert rai_nb.explain_row(model, X, label, method="kernel").margin == pytest.approx(
        row.margin, abs=1e-9)  # the default background: 50 of the data's rows


def test_waterfall_steps_add_up_and_fold_the_smallest(numeric, xgb):
    X, _ = numeric
    row = rai_nb.explain_row(xgb, X, _label(X))
    steps = row.waterfall(top=4)
    assert list(steps.index[:3]) == list(row.values.abs().sort_values(ascending=False).index[:3])
    assert steps.index[-1] == f"{len(X.columns) - 3} other features"
    assert steps["f(x) after"].iloc[-1] == pytest.approx(row.margin, abs=1e-12)
    assert steps["SHAP"].sum() == pytest.approx(row.values.sum(), abs=1e-12)


def test_renderings(frame, pipeline):
    X, _ = frame
    row = rai_nb.explain_row(pipeline, X, _label(X))
    bundle = row._repr_mimebundle_()
    assert "<svg" in bundle["text/html"] and "<script" not in bundle["text/html"]
    assert 'fill="currentColor"' in row.svg()  # the page's text colour, light or dark
    assert "| workclass |" in bundle["text/markdown"]
    report = json.loads(json.dumps(bundle[REPORT_MIME]))
    assert report["kind"] == "row_explanation"
    assert report["summary"]["margin"] == pytest.approx(row.margin)


def test_hostile_names_and_values_are_escaped():
    from sklearn.tree import DecisionTreeRegressor

    hostile = "<script>alert(1)</script>"
    X = pd.DataFrame({hostile: [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0]}, index=["<i>", "x", "y", "z"])
    model = DecisionTreeRegressor(random_state=0).fit(X, [0.0, 1, 2, 3])
    row = rai_nb.explain_row(model, X, "<i>")
    for text in (row.to_html(), row.svg()):
        assert "<script>" not in text and "<i>" not in text
    assert "&lt;script&gt;" in row.svg()
    editor = rai_nb.whatif(model, X, row="<i>")
    assert "<script>" not in editor.waterfall.value + editor.prediction.value


def test_bad_rows_raise_rai_error(numeric, xgb):
    X, _ = numeric
    with pytest.raises(RaiError, match="row label 'nope' is not in the data's index"):
        rai_nb.explain_row(xgb, X, "nope")
    with pytest.raises(RaiError, match="row label 0 is not"):
        rai_nb.explain_row(xgb, X, 0)  # a position, not a label
    doubled = pd.concat([X.iloc[:3], X.iloc[:1]])
    with pytest.raises(RaiError, match="appears 2 times"):
        rai_nb.explain_row(xgb, doubled, X.index[0])
    with pytest.raises(RaiError, match="data must be a pandas DataFrame"):
        rai_nb.explain_row(xgb, X.to_numpy(), 0)
    with pytest.raises(RaiError, match="row label 'nope'"):
        rai_nb.whatif(xgb, X, row="nope")


def test_editors_fit_each_column(frame, pipeline):
    import ipywidgets as widgets

    X, _ = frame
    editor = rai_nb.whatif(pipeline, X, row=_label(X))
    age, children = editor.editors["age"], editor.editors["children"]
    assert isinstance(age, widgets.BoundedFloatText)
    assert (age.min, age.max) == (X["age"].min(), X["age"].max())
    assert isinstance(children, widgets.BoundedIntText) and children.max == X["children"].max()
    assert isinstance(editor.editors["urban"], widgets.Checkbox)
    levels = editor.editors["workclass"]
    assert isinstance(levels, widgets.Dropdown)
    assert sorted(levels.options) == sorted((v, v) for v in X["workclass"].unique())


def test_editing_predicts_the_edited_row(frame, pipeline):
    X, _ = frame
    before = X.copy()
    label = _label(X)
    editor = rai_nb.whatif(pipeline, X, row=label)
    assert editor.edited.empty
    editor.editors["workclass"].value = "state" if X.loc[label, "workclass"] != "state" else "self"
    editor.editors["age"].value = 61.0
    expected = X.loc[[label]].copy()
    expected["workclass"], expected["age"] = editor.editors["workclass"].value, 61.0
    assert editor.current.score == pytest.approx(pipeline.predict_proba(expected)[0, 1],
                                                 abs=1e-12)
    assert editor.current.prediction == pipeline.predict(expected)[0]
    reference = rai_nb.explain(pipeline, expected)
    np.testing.assert_allclose(editor.current.values.to_numpy(), reference.values[0], atol=1e-12)
    assert f"f(x) = {editor.current.margin:.4g}" in editor.waterfall.value
    pd.testing.assert_frame_equal(editor.edited, expected)
    pd.testing.assert_frame_equal(X, before)  # the user's frame is never modified
    assert editor.latency > 0


def test_compare_reset_and_edited_rows_of_several_rows(frame, pipeline):
    X, _ = frame
    first, second = X.index[3], X.index[8]
    editor = rai_nb.whatif(pipeline, X, row=first)
    editor.editors["hours_per_week"].value = 80.0
    editor.compare.value = True
    assert "Compared to the original row" in editor.comparison.value
    assert editor.comparison.value.count("<svg") == 2
    editor.row_box.value = str(second)  # picked by its label, typed as text
    assert editor.label == second
    editor.editors["capital_gain"].value = 0.0 if X.loc[second, "capital_gain"] else 1000.0
    assert list(editor.edited.index) == [first, second]
    assert editor.edited.loc[first, "hours_per_week"] == 80.0
    editor.reset()
    assert list(editor.edited.index) == [first]
    editor.row_box.value = "no such row"
    assert "is not in the data" in editor.status.value and editor.label == second


def test_rows_from_a_slice(frame, pipeline):
    X, y = frame
    data = X.assign(error=(pipeline.predict(X) != y).astype(float))
    found = rai_nb.slices(data[["workclass", "children", "error"]], errors="error", min_sup=50,
                          k=2)
    editor = rai_nb.whatif(pipeline, data, slices=found)
    editor.slice_chooser.value = 0
    labels = [label for _, label in editor.slice_rows.options]
    assert labels == list(data.index[found.mask(0, data)][:len(labels)])
    editor.slice_rows.value = labels[1]
    assert editor.label == labels[1]


@pytest.fixture(scope="module")
def xgb_editor(numeric, xgb):
    return rai_nb.whatif(xgb, numeric[0])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 1999), age=st.floats(17, 90), gain=st.floats(0, 99_999))
def test_edited_prediction_is_the_models(numeric, xgb, xgb_editor, position, age, gain):
    X, _ = numeric
    label = X.index[position]
    xgb_editor.show_row(label)
    xgb_editor.editors["age"].value, xgb_editor.editors["capital_gain"].value = age, gain
    expected = X.loc[[label]].assign(age=age, capital_gain=gain)
    assert xgb_editor.current.label == label
    assert xgb_editor.current.score == pytest.approx(xgb.predict_proba(expected)[0, 1], abs=1e-6)
    assert xgb_editor.current.margin == pytest.approx(
        xgb.predict(expected, output_margin=True)[0], abs=1e-5)


def test_magics(ipython_shell, frame, pipeline):
    from IPython.core.error import UsageError

    X, _ = frame
    label = _label(X)
    ipython_shell.user_ns.update(model=pipeline, df=X)
    ipython_shell.run_line_magic("explain", f"model df --row {label}")
    shown = ipython_shell.user_ns["_explain"]
    assert isinstance(shown, rai_nb.RowExplanation) and shown.label == label
    ipython_shell.run_line_magic("whatif", f"model df --row {label}")
    assert ipython_shell.user_ns["_whatif"].label == label
    with pytest.raises(UsageError, match="row label 'nope'"):
        ipython_shell.run_line_magic("explain", "model df --row nope")


def test_displayed_editor_carries_its_static_waterfall(ipython_shell, frame, pipeline):
    """%whatif and %explain --row display one output each: the row's static report (the
    waterfall SVG and table, for a saved notebook) with the widget view under rai_nb's own type
    only, so nbconvert, GitHub and VS Code show the report, never a dead widget."""
    from IPython.utils.capture import capture_output

    from rai_nb.ui import PANEL_MIME, WIDGET_MIME

    X, _ = frame
    label = _label(X)
    ipython_shell.user_ns.update(model=pipeline, df=X)
    for line in (("whatif", f"model df --row {label}"), ("explain", f"model df --row {label}")):
        with capture_output() as captured:
            ipython_shell.run_line_magic(*line)
        (output,) = captured.outputs
        assert PANEL_MIME in output.data and WIDGET_MIME not in output.data
        assert f'aria-label="SHAP waterfall of row {label}"' in output.data["text/html"]
        assert output.data[REPORT_MIME]["summary"]["row"] == label
