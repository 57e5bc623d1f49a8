"""The ``rai-nb`` command line, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

import rai_nb
from rai_nb.cli import parse_conditions

FEATURES = ["age", "priors_count"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    compas = rai_nb.load_compas()[[*FEATURES, "race", "sex", "two_year_recid"]]
    model = LogisticRegression().fit(compas[FEATURES], compas["two_year_recid"])
    joblib.dump(model, folder / "model.joblib")
    compas.to_csv(folder / "test.csv", index=False)
    compas.iloc[:3000].to_parquet(folder / "train.parquet")
    return folder


def rai_nb_cli(*args):
    return subprocess.run([sys.executable, "-m", "rai_nb.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_audit_writes_reports_and_gates_on_thresholds(files):
    base = ["audit", files / "test.csv", "--model", files / "model.joblib", "--target",
            "two_year_recid", "--sensitive", "race,sex", "--no-explain", "--out", files / "out"]
    passing = rai_nb_cli(*base, "--fail-on", "demographic_parity_ratio>1")
    assert passing.returncode == 0, passing.stderr
    report = json.loads((files / "out" / "report.json").read_text())
    assert report["kind"] == "audit" and (files / "out" / "MODEL_CARD.md").exists()
    assert "<table>" in (files / "out" / "report.html").read_text()
    failing = rai_nb_cli(*base, "--fail-on", "DI<0.99,equalized_odds_difference>0.01")
    assert failing.returncode == 1
    assert "FAILED: equalized_odds_difference" in failing.stderr
    assert "FAILED: DI [race = " in failing.stderr


def test_validate_and_drift_commands(files):
    validate = rai_nb_cli("validate", files / "test.csv", "--reference", files / "train.parquet",
                          "--target", "two_year_recid", "--fail-on-severity", "never")
    assert validate.returncode == 0 and "duplicates" in validate.stdout
    drift = rai_nb_cli("drift", files / "train.parquet", files / "test.csv", "--columns",
                       "age,priors_count", "--out", files / "drift")
    assert drift.returncode == 0 and (files / "drift" / "drift.json").exists()


def test_user_errors_exit_2_with_one_line(files):
    missing = rai_nb_cli("audit", files / "nope.csv", "--model", files / "model.joblib",
                         "--target", "y", "--sensitive", "race")
    assert missing.returncode == 2 and missing.stderr.strip().startswith("rai-nb: error: no such")
    unknown = rai_nb_cli("audit", files / "test.csv", "--model", files / "model.joblib",
                         "--target", "two_year_recid", "--sensitive", "race", "--no-explain",
                         "--fail-on", "XYZ<1")
    assert unknown.returncode == 2 and "unknown metric 'XYZ'" in unknown.stderr


def test_condition_parser_rejects_garbage():
    assert parse_conditions("DI < 0.8, overall.accuracy>=0.7") == [
        ("DI", "<", 0.8), ("overall.accuracy", ">=", 0.7)]
    with pytest.raises(rai_nb.RaiError, match="cannot read"):
        parse_conditions("DI is low")


def test_validate_a_file_with_an_empty_column(files):
    empty = files / "empty_column.csv"
    rai_nb.load_compas()[[*FEATURES, "two_year_recid"]].assign(notes="").to_csv(empty, index=False)
    done = rai_nb_cli("validate", empty, "--target", "two_year_recid", "--fail-on-severity",
                      "never")
    assert done.returncode == 0, done.stderr
    assert "notes" in done.stdout


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "empty.csv").write_text("")
    (folder / "corrupt.csv").write_text('a,b\n1,"x\n')
    (folder / "fake.parquet").write_text("a,b\n1,2\n")
    (folder / "model.pkl").write_text("not a pickle")
    (folder / "folder.csv").mkdir()
    (folder / "report.txt").write_text("")
    (folder / "latin.csv").write_bytes("café,y\n1,0\n2,1\n3,0\n4,1\n".encode("latin-1"))
    joblib.dump(LogisticRegression(), folder / "whole.joblib")
    (folder / "truncated.joblib").write_bytes((folder / "whole.joblib").read_bytes()[:40])
    return folder


BAD_CALLS = {
    "empty CSV": (["validate", "empty.csv"], "is empty"),
    "corrupt CSV": (["validate", "corrupt.csv"], "not a readable CSV file"),
    "CSV named .parquet": (["validate", "fake.parquet"], "not a readable Parquet file"),
    "a folder": (["validate", "folder.csv"], "is a folder"),
    "model not a pickle": (["audit", "latin.csv", "--model", "model.pkl", "--target", "y",
                            "--sensitive", "y"], "not a readable pickle/joblib model file"),
    "truncated joblib": (["audit", "latin.csv", "--model", "truncated.joblib", "--target", "y",
                          "--sensitive", "y"], "not a readable pickle/joblib model file"),
    "out is a file": (["validate", "latin.csv", "--out", "report.txt"], "is a file"),
    "garbage threshold": (["audit", "latin.csv", "--model", "whole.joblib", "--target", "y",
                           "--sensitive", "y", "--fail-on", "DI<.5.5"], "finite number"),
}


@pytest.mark.parametrize("case", BAD_CALLS, ids=list(BAD_CALLS))
def test_bad_files_end_in_one_line_and_exit_2(bad_files, case):
    args, message = BAD_CALLS[case]
    done = subprocess.run([sys.executable, "-m", "rai_nb.cli", *args], cwd=bad_files,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and message in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_latin_1_csv_is_read(bad_files):
    done = subprocess.run([sys.executable, "-m", "rai_nb.cli", "validate", "latin.csv",
                           "--fail-on-severity", "never"], cwd=bad_files, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def test_fail_on_gates_a_regression_metric(tmp_path):
    from sklearn.linear_model import Ridge

    adult = rai_nb.load_adult(split="test").head(3000)[["age", "education_num", "sex",
                                                         "hours_per_week"]]
    model = Ridge().fit(adult[["age", "education_num"]], adult["hours_per_week"])
    joblib.dump(model, tmp_path / "ridge.joblib")
    adult.to_csv(tmp_path / "hours.csv", index=False)
    base = ["audit", tmp_path / "hours.csv", "--model", tmp_path / "ridge.joblib", "--target",
            "hours_per_week", "--sensitive", "sex", "--no-explain", "--task", "regression"]
    failing = rai_nb_cli(*base, "--fail-on", "mean_absolute_error_difference>0.01")
    assert failing.returncode == 1, failing.stderr
    assert "FAILED: mean_absolute_error_difference" in failing.stderr
    assert rai_nb_cli(*base, "--fail-on", "statistical_parity_ks>1").returncode == 0


def test_mitigate_writes_the_report_the_card_and_the_model(files):
    out = files / "mitigation"
    done = rai_nb_cli("mitigate", files / "test.csv", "--model", files / "model.joblib",
                      "--target", "two_year_recid", "--sensitive", "sex", "--method",
                      "reweighing", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "Reweighing" in done.stdout
    report = json.loads((out / "mitigation.json").read_text(encoding="utf-8"))
    assert report["kind"] == "mitigation" and report["summary"]["method"] == "reweighing"
    assert "## Mitigation" in (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    model = joblib.load(out / "mitigated_model.joblib")
    assert len(model.predict(rai_nb.load_compas().head(5))) == 5
    bad = rai_nb_cli("mitigate", files / "test.csv", "--model", files / "model.joblib",
                     "--target", "two_year_recid", "--sensitive", "sex", "--constraint", "x")
    assert bad.returncode == 2 and "--constraint" in bad.stderr
