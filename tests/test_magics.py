"""The magics, driven through a real IPython InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError
from sklearn.linear_model import LinearRegression, LogisticRegression

import rai_nb

FEATURES = ["age", "priors_count"]


@pytest.fixture(scope="module")
def shell(ipython_shell):
    ip = ipython_shell
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", "two_year_recid"]]
    model = LogisticRegression().fit(compas[FEATURES], compas["two_year_recid"])
    ip.user_ns.update(df=compas, clf=model, train=compas.iloc[:3000], test=compas.iloc[3000:],
                      FEATURES=FEATURES)
    yield ip
    ip.run_line_magic("rai_config", "backend=auto")


def test_audit_binds_the_result(shell):
    shell.run_line_magic("audit", "clf df --target two_year_recid --sensitive race,sex "
                                  "--no-explain --n-boot 20 --out my_audit")
    result = shell.user_ns["_audit"]
    assert result is shell.user_ns["my_audit"] and isinstance(result, rai_nb.AuditResult)
    assert result.bias.sensitive == ("race", "sex") and result.bias.intervals is not None


def test_expressions_resolve_in_the_user_namespace(shell):
    shell.run_line_magic("audit", 'clf "df[df.age > 30]" --target two_year_recid --sensitive sex '
                                  "--no-explain --n-boot 0")
    assert shell.user_ns["_audit"].n_rows == int((shell.user_ns["df"].age > 30).sum())


def test_slices_validate_drift_magics(shell):
    shell.run_line_magic("slices", "clf df --target two_year_recid --by error --min-support 50 "
                                   "--k 3 --max-l 2")
    assert len(shell.user_ns["_slices"].top) <= 3
    shell.run_line_magic("validate", "test --reference train --target two_year_recid "
                                     "--sensitive race")
    assert "drift" in shell.user_ns["_validate"].checks.index
    shell.run_line_magic("drift", "train test --columns age,priors_count")
    assert list(shell.user_ns["_drift"].columns.index) == ["age", "priors_count"]


def test_slices_defaults_are_the_audits(shell):
    """The same data shows the same top slices in %slices and in %audit's slices."""
    shell.run_line_magic("audit", "clf df --target two_year_recid --sensitive race,sex "
                                  "--no-explain --n-boot 0")
    shell.run_line_magic("slices", "clf df --target two_year_recid")
    audited, found = shell.user_ns["_audit"].slices, shell.user_ns["_slices"]
    assert (found.k, found.max_l, found.min_sup) == (audited.k, audited.max_l, audited.min_sup)
    assert found.min_sup == max(30, len(shell.user_ns["df"]) // 100)
    assert found.top["slice"].tolist() == audited.top["slice"].tolist()
    assert found.top["score"].tolist() == audited.top["score"].tolist()


def test_modelcard_cell_merges_yaml_with_the_last_audit(shell, tmp_path):
    shell.run_line_magic("audit", "clf df --target two_year_recid --sensitive race --no-explain "
                                  "--n-boot 0")
    out = tmp_path / "MODEL_CARD.md"
    shell.run_cell_magic("modelcard", f"--out {out}",
                         "name: Recidivism model\nintended_use: |\n  Teaching only.\n")
    card = shell.user_ns["_modelcard"]
    audit = shell.user_ns["_audit"]
    assert card.audit.bias is audit.bias and card.fields["name"] == "Recidivism model"
    assert out.read_text().startswith("# Model card: Recidivism model")
    assert audit.card is card and "Teaching only." in audit.to_html()  # the audit's card too


@pytest.mark.parametrize("magic,line,message", [
    ("audit", "clf nope --target two_year_recid --sensitive race", "'nope' is not defined"),
    ("audit", "clf df --target nope --sensitive race --no-explain", "'nope'.*target"),
    ("audit", "clf df --sensitive race", "--target"),
    ("slices", "clf df train --target two_year_recid", "MODEL DATA or DATA"),
    ("rai_config", "backend=tpu", "backend must be one of"),
])
def test_mistakes_are_one_line_usage_errors(shell, magic, line, message):
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic(magic, line)


def test_errors_name_the_magics_options(shell):
    """The API's keyword hints (positive_label=, loss=, task=) read as the magic's options."""
    df = shell.user_ns["df"]
    shell.user_ns["labelled"] = df.assign(two_year_recid=df["two_year_recid"].map({0: "no",
                                                                                  1: "yes"}))
    shell.user_ns["words"] = LogisticRegression().fit(df[FEATURES],
                                                      shell.user_ns["labelled"]["two_year_recid"])
    shell.user_ns["priors"] = LinearRegression().fit(df[["age"]], df["priors_count"])
    with pytest.raises(UsageError, match="pass --positive-label to say") as caught:
        shell.run_line_magic("audit", "words labelled --target two_year_recid --sensitive race "
                                      "--no-explain --n-boot 0")
    assert "positive_label" not in str(caught.value)
    with pytest.raises(UsageError, match=r"^--by error does not apply .*pass --by squared_error "
                                         r"or absolute_error, or --task if"):
        shell.run_line_magic("slices", "priors df --target priors_count --task regression "
                                       "--by error")
    with pytest.raises(UsageError, match="pass --task regression if it is a quantity or --task "
                                         "multiclass if"):
        shell.run_line_magic("slices", "priors df --target priors_count")


def test_keyword_hints_become_options_of_that_magic():
    from rai_nb.magics import RaiMagics, as_options

    audit, slices = RaiMagics.audit.parser, RaiMagics.slices.parser
    assert as_options("pass explain=False to skip explanations", audit) == \
        "pass --no-explain to skip explanations"
    assert as_options("pass task='regression' or sample_weight=", audit) == \
        "pass --task regression or --sample-weight"
    assert as_options("pass errors=, or target= with model= or prediction=", slices) == \
        "pass --errors, or --target with model= or prediction="  # no such options
    assert as_options("min_sup must be a row count", slices) == "min_sup must be a row count"
    assert as_options("pass min_sup=30", slices) == "pass --min-support 30"
    assert as_options("pass explain=False", slices) == "pass explain=False"


def test_bad_yaml_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="not valid YAML"):
        shell.run_cell_magic("modelcard", "--audit none", "name: [unclosed")


def test_column_completion(shell):
    with provisionalcompleter():
        texts = {c.text for c in shell.Completer.completions("%audit clf df --target ", 23)}
    assert {"two_year_recid", "race"} <= texts


def test_rai_config_changes_backend(shell, capsys):
    shell.run_line_magic("rai_config", "backend=numpy chunk_rows=5000")
    assert rai_nb.get_config().chunk_rows == 5000 and "numpy" in capsys.readouterr().out
    shell.run_line_magic("rai_config", f"chunk_rows={rai_nb.backend.Config().chunk_rows}")


def test_explain_magic_takes_tree_options(shell):
    from sklearn.ensemble import RandomForestClassifier

    df = shell.user_ns["df"]
    shell.user_ns["forest"] = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0) \
        .fit(df[FEATURES], df["two_year_recid"])
    shell.run_line_magic("explain", 'forest "df[FEATURES][:20]" --interactions --out pairs')
    assert shell.user_ns["pairs"].values.shape == (20, 2, 2, 2)
    with pytest.raises(UsageError, match="no exact explainer for object"):
        shell.user_ns["thing"] = object()
        shell.run_line_magic("explain", 'thing "df[FEATURES][:5]"')


def test_magics_take_the_task_and_weights(shell):
    from sklearn.linear_model import Ridge

    compas = shell.user_ns["df"]
    weighted = compas.assign(w=1.0 + (compas["age"] % 3))
    shell.user_ns.update(wdf=weighted, reg=Ridge().fit(compas[["age"]], compas["priors_count"]))
    shell.run_line_magic("audit", "reg wdf --target priors_count --sensitive sex --task "
                                  "regression --sample-weight w --min-group-size 50 --no-explain "
                                  "--n-boot 0")
    audit = shell.user_ns["_audit"]
    assert audit.bias.task == "regression" and audit.bias.weighted
    assert audit.bias.min_group_size == 50 and audit.slices.total_weight == weighted["w"].sum()
    shell.run_line_magic("slices", "reg wdf --target priors_count --task regression "
                                   "--sample-weight w --k 3")
    found = shell.user_ns["_slices"]
    assert found.loss == "squared_error" and found.total_weight == weighted["w"].sum()
    with pytest.raises(UsageError, match="task must be one of"):
        shell.run_line_magic("slices", "reg wdf --target priors_count --task ranking")


def test_namespace_summary_lists_frames_and_fitted_models(shell):
    """What "Insert %audit cell" reads: every DataFrame with its columns and every fitted
    model, in definition order; no classes, unfitted estimators or underscore names."""
    import json

    import dask.dataframe as dd
    import pandas as pd

    from rai_nb.magics import namespace_summary

    df = shell.user_ns["df"]
    extra = {"lazy": dd.from_pandas(df, npartitions=2), "unfitted": LogisticRegression(),
             "LogisticRegression": LogisticRegression, "_hidden": df, "series": df["age"],
             "wide": pd.DataFrame({i: [0] for i in range(250)})}
    shell.user_ns.update(extra)
    try:
        summary = json.loads(json.dumps(namespace_summary()))
    finally:
        for name in extra:
            del shell.user_ns[name]
    frames = {f["name"]: f for f in summary["frames"]}
    expected = [k for k, v in shell.user_ns.items() if isinstance(v, pd.DataFrame)
                and not k.startswith("_") and k not in shell.user_ns_hidden]
    assert [n for n in frames if n not in ("lazy", "wide")] == expected
    assert frames["df"] == {"name": "df", "kind": "pandas", "columns": list(df.columns)}
    assert frames["lazy"]["kind"] == "dask" and frames["lazy"]["columns"] == list(df.columns)
    assert frames["wide"]["columns"] == [str(i) for i in range(200)]
    assert "clf" in summary["models"] and "unfitted" not in summary["models"]
    assert "LogisticRegression" not in summary["models"] and summary["loaded"] is True
    assert namespace_summary({"m": LinearRegression().fit(df[["age"]], df["priors_count"]),
                              "_m": LinearRegression()}) == \
        {"frames": [], "models": ["m"], "loaded": True}


class _Frontend:
    """The outputs a notebook keeps: a display with an id that is updated changes in place."""

    is_publishing = False  # read by the shell's displayhook

    def __init__(self):
        self.outputs: list[dict] = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                **kwargs):
        display_id = (transient or {}).get("display_id")
        if update:
            for output in self.outputs:
                if output["id"] == display_id:
                    output["data"] = data
        else:
            self.outputs.append({"id": display_id, "data": data})

    def clear_output(self, wait=False):
        self.outputs.clear()


@pytest.fixture
def frontend(shell, monkeypatch):
    """The shell's displays recorded as a notebook keeps them, with tqdm's notebook bars."""
    import tqdm.auto
    import tqdm.notebook

    recorder = _Frontend()
    monkeypatch.setattr(shell, "display_pub", recorder)
    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)
    return recorder


def _datas(frontend) -> list[dict]:
    return [o["data"] for o in frontend.outputs]


def test_audit_leaves_one_output(shell, frontend):
    """The progress bar's output becomes the result's: no empty output before it, from the
    magic or from the API call shown in the same cell."""
    from rai_nb.render import REPORT_MIME
    from rai_nb.ui import PANEL_MIME

    shell.run_line_magic("audit", "clf df --target two_year_recid --sensitive race "
                                  "--no-explain --n-boot 0")
    (data,) = _datas(frontend)
    assert {REPORT_MIME, PANEL_MIME, "text/html"} <= set(data)
    assert data[REPORT_MIME]["kind"] == "audit"
    frontend.outputs.clear()
    result = rai_nb.audit(shell.user_ns["clf"], shell.user_ns["df"], target="two_year_recid",
                          sensitive="sex", explain=False, n_boot=0)
    rai_nb.ui.show(result)
    (data,) = _datas(frontend)
    assert data[REPORT_MIME] == result._repr_mimebundle_()[REPORT_MIME]


def test_an_audit_ending_a_cell_leaves_one_output(shell, frontend):
    """A bare ``rai_nb.audit(...)`` as the cell's value fills its own bar's emptied output."""
    from rai_nb.render import REPORT_MIME

    shell.user_ns["rai_nb"] = rai_nb
    outcome = shell.run_cell("rai_nb.audit(clf, df, target='two_year_recid', sensitive='sex', "
                             "explain=False, n_boot=0)", store_history=True)
    outcome.raise_error()
    (data,) = _datas(frontend)
    assert data[REPORT_MIME]["kind"] == "audit" and "text/html" in data


def test_a_failed_audit_leaves_its_output_empty(shell, frontend):
    with pytest.raises(UsageError, match="nope"):
        shell.run_line_magic("audit", "clf df --target two_year_recid --sensitive nope "
                                      "--no-explain --n-boot 0")
    assert _datas(frontend) == [{"text/plain": ""}]
    drift = rai_nb.drift(shell.user_ns["train"], shell.user_ns["test"], columns=["age"])
    rai_nb.ui.show(drift)  # a later show takes no failed bar's output
    assert len(frontend.outputs) == 2


def test_nested_bars_share_one_output_and_it_is_the_cells_only(shell, frontend, monkeypatch):
    from rai_nb._progress import display_output, progress_bar

    with progress_bar(total=1, desc="outer") as outer:
        with progress_bar(total=1, desc="inner") as inner:
            inner.update()
            assert len(frontend.outputs) == 1 and "inner" in str(frontend.outputs[0]["data"])
        assert "outer" in str(frontend.outputs[0]["data"])
        outer.update()
    assert _datas(frontend) == [{"text/plain": ""}]
    monkeypatch.setattr(shell, "execution_count", shell.execution_count + 1)
    display_output({"text/plain": "next"})  # the next cell's result shows below that cell
    assert _datas(frontend) == [{"text/plain": ""}, {"text/plain": "next"}]


def test_mitigate_binds_the_result_and_leaves_one_output(shell, frontend):
    from rai_nb.render import REPORT_MIME

    shell.run_line_magic("mitigate", "clf df --target two_year_recid --sensitive sex "
                                     "--constraint equal_opportunity --tol 0.02 --n-boot 0")
    result = shell.user_ns["_mitigation"]
    assert isinstance(result, rai_nb.MitigationResult) and result.chosen == "tol=0.02"
    assert shell.user_ns["_audit"].mitigation is result
    (data,) = _datas(frontend)
    assert data[REPORT_MIME]["kind"] == "mitigation"
    with pytest.raises(UsageError, match="argument --method: invalid choice: 'nope'"):
        shell.run_line_magic("mitigate", "clf df --target two_year_recid --sensitive sex "
                                         "--method nope")
    with pytest.raises(UsageError, match="reweighing has no tolerance"):
        shell.run_line_magic("mitigate", "clf df --target two_year_recid --sensitive sex "
                                         "--method reweighing --tol 0.1")
