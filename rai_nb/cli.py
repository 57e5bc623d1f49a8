"""``rai-nb``: the notebook's audits from the command line, so the same checks gate a CI pipeline.

Examples
--------
::

    rai-nb audit test.csv --model model.joblib --target income --sensitive sex,race --out report/ \\
        --fail-on "demographic_parity_ratio<0.8,equalized_odds_difference>0.1,DI<0.8"
    rai-nb validate test.parquet --reference train.parquet --target income --fail-on-severity fail
    rai-nb drift train.csv test.csv --out drift/
    rai-nb mitigate test.csv --model model.joblib --target income --sensitive sex \\
        --method thresholds --constraint equalized_odds --out mitigation/
"""

from __future__ import annotations

import argparse
import math
import operator
import re
import sys
from pathlib import Path

import pandas as pd

from .errors import RaiError
from .render import html_document, printable
from .results._bias import clarify_row_label

_OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*(\S+)\s*$")


def read_table(path: str) -> pd.DataFrame:
    """A DataFrame from a .csv (UTF-8, else Latin-1) or .parquet file; RaiError naming the
    file when it is missing, a folder, empty or not what its name says."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise RaiError(f"data files must be .csv or .parquet, got {path!r}")
    _existing_file(path)
    try:
        if suffix != ".csv":
            return pd.read_parquet(path)
        try:
            return pd.read_csv(path)
        except UnicodeDecodeError:  # spreadsheets often export Latin-1 (Windows-1252)
            return pd.read_csv(path, encoding="latin-1")
    except pd.errors.EmptyDataError:
        raise RaiError(f"{path!r} is empty: no columns to read") from None
    except (pd.errors.ParserError, ValueError, OSError) as error:
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise RaiError(f"{path!r} is not a readable {kind} file: "
                       f"{_first_line(error)}") from None


def read_model(path: str):
    """A model saved with pickle or joblib (only load files you trust: unpickling runs code)."""
    _existing_file(path)
    import joblib

    try:
        return joblib.load(path)
    except Exception as error:  # any unpickling failure: truncated, not a pickle, wrong class
        raise RaiError(f"{path!r} is not a readable pickle/joblib model file: "
                       f"{type(error).__name__}: {_first_line(error)}") from None


def _existing_file(path: str) -> None:
    if not Path(path).exists():
        raise RaiError(f"no such file: {path!r}")
    if not Path(path).is_file():
        raise RaiError(f"{path!r} is a folder, not a file")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def parse_conditions(text: str | None) -> list[tuple[str, str, float]]:
    """``"DI<0.8, equalized_odds_difference>0.1"`` → [(name, operator, value), …]."""
    if not text:
        return []
    conditions = []
    for part in text.split(","):
        match = _CONDITION.match(part)
        if not match:
            raise RaiError(f"--fail-on: cannot read {part.strip()!r}; write NAME<VALUE or NAME>VALUE")
        try:
            limit = float(match[3])
        except ValueError:
            limit = math.nan
        if not math.isfinite(limit):
            raise RaiError(f"--fail-on: {part.strip()!r} needs a finite number after {match[2]}")
        conditions.append((match[1], match[2], limit))
    return conditions


def crossed(result, conditions) -> list[str]:
    """The conditions an audit's numbers meet (each a failure), as readable lines.

    A name is a fairness disparity (``demographic_parity_ratio``…; those the findings grade
    are taken among groups of ``min_group_size`` rows or more, as the findings take them), a
    Clarify metric checked on every facet (``DI``…), or ``overall.<metric>``.
    """
    bias = result.bias
    failures = []
    for name, op, limit in conditions:
        values = _values_named(bias, name)
        for label, value in values.items():
            if _OPERATORS[op](value, limit):
                failures.append(f"{name}{'' if label is None else f' [{label}]'} = {value:.4g} "
                                f"{op} {limit:g}")
    return failures


def _values_named(bias, name: str) -> dict:
    if bias.decisive is not None and name in bias.decisive.index:  # as the findings grade it
        return {None: float(bias.decisive.loc[name, "value"])}
    if name in bias.disparities.index:
        return {None: float(bias.disparities[name])}
    if name in bias.clarify.columns:
        column = bias.clarify[name].dropna()
        return {clarify_row_label(key): float(x) for key, x in column.items()}
    if name.startswith("overall.") and name[8:] in bias.overall.index:
        return {None: float(bias.overall[name[8:]])}
    known = [*bias.disparities.index, *bias.clarify.columns,
             *(f"overall.{m}" for m in bias.overall.index)]
    raise RaiError(f"--fail-on: unknown metric {name!r}; known: {', '.join(known)}")


def _write(out: str | None, files: dict[str, str]) -> None:
    if not out:
        return
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise RaiError(f"--out {out!r} is a file; give a folder for the reports")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    print("wrote " + ", ".join(str(folder / name) for name in files))


def split_names(value: str | None) -> list[str] | None:
    """``"a, b"`` → ``["a", "b"]``; None stays None."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def parse_scalar(value: str | None):
    """A value typed on a command line: an int or float when it reads as one, else the text."""
    if value is None:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def run_audit(args) -> int:
    from .api import audit

    conditions = parse_conditions(args.fail_on)
    result = audit(read_model(args.model), read_table(args.data), target=args.target,
                   sensitive=split_names(args.sensitive),
                   reference=read_table(args.reference) if args.reference else None,
                   positive_label=parse_scalar(args.positive_label), task=args.task,
                   sample_weight=args.sample_weight, min_group_size=args.min_group_size,
                   explain=not args.no_explain, progress=False)
    print(printable(result.to_markdown() if args.verbose
                    else result.findings().to_string(index=False)))
    files = {"report.html": html_document(result.to_html(), result.title),
             "report.json": result.to_json(), "MODEL_CARD.md": result.card.to_markdown()}
    _write(args.out, files)
    return _verdict(crossed(result, conditions))


def run_mitigate(args) -> int:
    import joblib

    from .api import mitigate

    result = mitigate(read_model(args.model), read_table(args.data), target=args.target,
                      sensitive=split_names(args.sensitive), method=args.method,
                      constraint=args.constraint,
                      test=read_table(args.test) if args.test else None,
                      test_size=args.test_size, tol=args.tol,
                      positive_label=parse_scalar(args.positive_label))
    print(printable(result.to_markdown() if args.verbose else result.card_text()))
    audit = result.audit
    _write(args.out, {"mitigation.html": html_document(result.to_html(), result.title),
                      "mitigation.json": result.to_json(),
                      "MODEL_CARD.md": audit.card.to_markdown()})
    if args.out:
        joblib.dump(result.model, Path(args.out) / "mitigated_model.joblib")
        print(f"wrote {Path(args.out) / 'mitigated_model.joblib'}")
    return 0


def run_validate(args) -> int:
    from .api import validate

    result = validate(read_table(args.data),
                      reference=read_table(args.reference) if args.reference else None,
                      target=args.target, sensitive=split_names(args.sensitive),
                      sample_weight=args.sample_weight)
    print(printable(result.checks.to_string()))
    _write(args.out, {"validation.html": html_document(result.to_html(), result.title),
                      "validation.json": result.to_json()})
    levels = {"fail": ("fail",), "warn": ("fail", "warn"), "never": ()}[args.fail_on_severity]
    bad = result.checks[result.checks["severity"].isin(levels)]
    return _verdict([f"{name}: {row.message}" for name, row in bad.iterrows()])


def run_drift(args) -> int:
    from .api import drift

    result = drift(read_table(args.reference), read_table(args.current),
                   columns=split_names(args.columns), target=args.target)
    print(printable(result.columns.to_string()))
    _write(args.out, {"drift.html": html_document(result.to_html(), result.title),
                      "drift.json": result.to_json()})
    drifted = result.drifted if args.fail_on_drift else []
    return _verdict([f"{name} drifted" for name in drifted])


def _verdict(failures: list[str]) -> int:
    for line in failures:
        print(printable(f"FAILED: {line}"), file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rai-nb", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser("audit", help="audit a saved model on a data file")
    audit.add_argument("data")
    audit.add_argument("--model", required=True, help=".pkl or .joblib file (trusted)")
    audit.add_argument("--target", required=True)
    audit.add_argument("--sensitive", required=True, help="comma-separated columns")
    audit.add_argument("--reference", help="training data file, for drift and schema checks")
    audit.add_argument("--positive-label")
    audit.add_argument("--task", choices=("binary", "multiclass", "regression"),
                       help="default: inferred from the target")
    audit.add_argument("--sample-weight", help="column of row weights")
    audit.add_argument("--min-group-size", type=int, default=30,
                       help="groups with fewer rows never decide a finding (default 30)")
    audit.add_argument("--no-explain", action="store_true")
    audit.add_argument("--out", help="folder for report.html, report.json and MODEL_CARD.md")
    audit.add_argument("--fail-on", help='e.g. "DI<0.8,equalized_odds_difference>0.1"')
    audit.add_argument("--verbose", action="store_true", help="print the whole report")
    audit.set_defaults(run=run_audit)
    _mitigate_parser(commands)
    validate = commands.add_parser("validate", help="data checks of a data file")
    validate.add_argument("data")
    validate.add_argument("--reference")
    validate.add_argument("--target")
    validate.add_argument("--sensitive")
    validate.add_argument("--sample-weight", help="column of row weights for the per-group counts")
    validate.add_argument("--out")
    validate.add_argument("--fail-on-severity", choices=("fail", "warn", "never"), default="fail")
    validate.set_defaults(run=run_validate)
    drift = commands.add_parser("drift", help="drift between two data files")
    drift.add_argument("reference")
    drift.add_argument("current")
    drift.add_argument("--columns")
    drift.add_argument("--target")
    drift.add_argument("--out")
    drift.add_argument("--fail-on-drift", action="store_true")
    drift.set_defaults(run=run_drift)
    return parser


def _mitigate_parser(commands) -> None:
    from .api._mitigate import METHODS
    from .results._mitigation import CONSTRAINT_DISPARITY

    mitigate = commands.add_parser("mitigate", help="mitigate a saved model for a fairness "
                                   "constraint; audit it before and after on held-out rows")
    mitigate.add_argument("data")
    mitigate.add_argument("--model", required=True, help=".pkl or .joblib file (trusted)")
    mitigate.add_argument("--target", required=True)
    mitigate.add_argument("--sensitive", required=True, help="comma-separated columns")
    mitigate.add_argument("--method", choices=tuple(METHODS), default="thresholds")
    mitigate.add_argument("--constraint", choices=tuple(CONSTRAINT_DISPARITY),
                          default="demographic_parity")
    mitigate.add_argument("--test", help="held-out data file (default: --test-size of DATA)")
    mitigate.add_argument("--test-size", type=float, default=0.3)
    mitigate.add_argument("--tol", type=float, default=0.0,
                          help="largest gap allowed between groups (thresholds, reductions)")
    mitigate.add_argument("--positive-label")
    mitigate.add_argument("--out", help="folder for mitigation.html, mitigation.json, "
                          "MODEL_CARD.md and mitigated_model.joblib")
    mitigate.add_argument("--verbose", action="store_true", help="print the whole report")
    mitigate.set_defaults(run=run_mitigate)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rai-nb`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RaiError as error:
        print(printable(f"rai-nb: error: {error}"), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
