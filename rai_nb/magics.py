"""IPython magics: thin parsers over the Python API.

``%load_ext rai_nb`` registers ``%audit``, ``%mitigate``, ``%acquire``, ``%clean``, ``%slices``, ``%explain``,
``%whatif``, ``%dependence``, ``%validate``, ``%drift``, ``%%modelcard`` and ``%rai_config``.
Each resolves its arguments in
the notebook's namespace (names or expressions such as ``df[df.age > 30]`` — quote expressions
that contain spaces), calls the API function of the same name, displays the result and binds it
to ``_<magic>`` (``_mitigation`` for ``%mitigate``, ``_acquisition`` for ``%acquire``,
``_cleaning`` for ``%clean``; and to ``--out NAME`` when given). A user mistake prints one
line, never a traceback.
"""

from __future__ import annotations

import functools
import re
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import api
from .api._dependence import KINDS as DEPENDENCE_KINDS
from .api._dependence import RESPONSES as DEPENDENCE_RESPONSES
from .api._mitigate import METHODS as MITIGATION_METHODS
from .api._slices import SHARED_SEARCH, default_support
from .backend import config
from .cli import parse_scalar, split_names
from .errors import RaiError
from .results._mitigation import CONSTRAINT_DISPARITY


def _support(text: str):
    value = float(text)
    return int(value) if value >= 1 else value


#: API keywords whose magic option has another name.
_RENAMED = {"loss": "by", "min_sup": "min_support"}
#: Keyword hints that are a flag of the magics.
_FLAGS = {"explain=False": "--no-explain", "interactions=True": "--interactions"}
#: A keyword hint in an API message: ``name=``, ``name='value'`` or ``name=value``.
_KEYWORD = re.compile(r"\b([a-z_]+)=('[^']*'|\"[^\"]*\"|[\w.]*)")


def _user_errors_as_usage(method):
    """Turn RaiError (and unknown names) into IPython's one-line UsageError, its keyword hints
    written as the magic's options."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (RaiError, NameError) as error:
            parser = getattr(wrapper, "parser", None)
            message = str(error) if parser is None else as_options(str(error), parser)
            raise UsageError(message) from None

    return wrapper


def as_options(message: str, parser) -> str:
    """``message`` with the keyword hints of the Python API (``pass task='regression'``)
    written as the options of the magic that ``parser`` reads (``pass --task regression``);
    keywords the magic has no option for stay as they are."""
    options = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}

    def option(match):
        key, value = match.groups()
        flag = _FLAGS.get(match.group(0))
        if flag is not None and flag in options.values():
            return flag
        name = options.get(_RENAMED.get(key, key))
        if name is None:
            return match.group(0)
        value = value.strip("'\"")
        return f"{name} {value}" if value else name

    return _KEYWORD.sub(option, message)


@magics_class
class RaiMagics(Magics):
    """The rai_nb magics; registered by ``%load_ext rai_nb``."""

    def _value(self, expression: str | None):
        """Evaluate a name or expression in the user's namespace."""
        if expression is None:
            return None
        if len(expression) > 1 and expression[0] == expression[-1] and expression[0] in "'\"":
            expression = expression[1:-1]  # a quoted expression such as "df[df.age > 30]"
        try:
            return self.shell.ev(expression)
        except NameError:
            raise NameError(f"{expression!r} is not defined in the notebook") from None
        except SyntaxError as error:
            raise UsageError(f"cannot read {expression!r}: {error.msg}") from None

    def _publish(self, name: str, result, out: str | None):
        from .ui import show

        self.shell.user_ns[f"_{name}"] = result
        if out:
            self.shell.user_ns[out] = result
        show(result)

    @magic_arguments()
    @argument("model", help="fitted model in the notebook")
    @argument("data", help="DataFrame (or expression) with features, target and sensitive columns")
    @argument("--target", required=True, help="column of true labels")
    @argument("--sensitive", required=True, help="comma-separated sensitive columns")
    @argument("--reference", help="training DataFrame for drift and schema checks")
    @argument("--positive-label", help="favourable outcome when labels are not 0/1")
    @argument("--task", help="binary, multiclass or regression (default: inferred)")
    @argument("--sample-weight", help="column of row weights")
    @argument("--min-group-size", type=int, default=30,
              help="groups with fewer rows never decide a finding (default 30)")
    @argument("--no-explain", action="store_true", help="skip SHAP explanations")
    @argument("--sample", type=int, default=500, help="rows explained with SHAP (default 500)")
    @argument("--burden", action="store_true",
              help="also the counterfactual burden per sensitive group, on the sampled rows")
    @argument("--n-boot", type=int, default=200, help="bootstrap resamples for intervals")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def audit(self, line: str):
        """Audit a model: fairness, explanations, slices, data checks and a model card."""
        args = parse_argstring(self.audit, line)
        result = api.audit(
            self._value(args.model), self._value(args.data), target=args.target,
            sensitive=split_names(args.sensitive), reference=self._value(args.reference),
            positive_label=parse_scalar(args.positive_label), task=args.task,
            sample_weight=args.sample_weight, min_group_size=args.min_group_size,
            explain=not args.no_explain, sample=args.sample, burden=args.burden,
            n_boot=args.n_boot)
        self._publish("audit", result, args.out)

    @magic_arguments()
    @argument("model", help="model in the notebook: fitted for thresholds; refitted (cloned) "
              "by the other methods")
    @argument("data", help="DataFrame (or expression) with features, target and sensitive columns")
    @argument("--target", required=True, help="column of true labels")
    @argument("--sensitive", required=True, help="comma-separated sensitive columns")
    @argument("--method", default="thresholds", choices=tuple(MITIGATION_METHODS),
              help="thresholds (post-processing), reweighing, fairbatch, "
              "exponentiated_gradient or grid_search (default thresholds)")
    @argument("--constraint", default="demographic_parity", choices=tuple(CONSTRAINT_DISPARITY),
              help="the rates equalised across groups (default demographic_parity)")
    @argument("--test", help="held-out DataFrame (default: --test-size of DATA split off)")
    @argument("--test-size", type=float, default=0.3,
              help="share of DATA held out when --test is not given (default 0.3)")
    @argument("--tol", type=float, default=0.0,
              help="largest gap allowed between groups (thresholds and reductions; default 0)")
    @argument("--positive-label", help="favourable outcome when labels are not 0/1")
    @argument("--n-boot", type=int, default=200, help="bootstrap resamples for intervals")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def mitigate(self, line: str):
        """Mitigate a model for a fairness constraint; audit it before and after on held-out rows.

        Binds ``_mitigation`` and rebinds ``_audit`` to the audit of the mitigated model, which
        carries the mitigation (its Mitigation tab; ``%%modelcard`` records it).
        """
        args = parse_argstring(self.mitigate, line)
        result = api.mitigate(
            self._value(args.model), self._value(args.data), target=args.target,
            sensitive=split_names(args.sensitive), method=args.method,
            constraint=args.constraint, test=self._value(args.test), test_size=args.test_size,
            tol=args.tol, positive_label=parse_scalar(args.positive_label), n_boot=args.n_boot)
        self.shell.user_ns["_audit"] = result.audit
        self._publish("mitigation", result, args.out)

    @magic_arguments()
    @argument("model", help="estimator in the notebook (fitted or not; clones are refitted)")
    @argument("data", help="training DataFrame (or expression) with features and target")
    @argument("--target", required=True, help="column of true labels")
    @argument("--budget", type=int, required=True, help="new rows to acquire in all")
    @argument("--slices", help="column naming the slices, or a SliceResult such as _slices")
    @argument("--sensitive", help="comma-separated columns whose groups are the slices")
    @argument("--fairness-weight", type=float, default=1.0,
              help="weight of unfairness against total loss (default 1)")
    @argument("--loss", help="log_loss, error or squared (default: by task)")
    @argument("--n-repeats", type=int, default=3, help="subsets drawn per size (default 3)")
    @argument("--validation", help="DataFrame the losses are measured on (default: a quarter "
              "of DATA held out)")
    @argument("--features", help="comma-separated columns the model takes (default: its "
              "feature_names_in_, else every column but the target)")
    @argument("--n-jobs", type=int, help="parallel refits (joblib; -1: every core)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def acquire(self, line: str):
        """Plan how many new rows to acquire per slice from per-slice learning curves (Slice
        Tuner). Binds ``_acquisition``."""
        args = parse_argstring(self.acquire, line)
        data = self._value(args.data)
        slices = args.slices
        if slices is not None and slices not in getattr(data, "columns", ()):
            try:
                slices = self._value(slices)
            except NameError:
                pass  # neither a column nor a name: the API says the column is missing
        result = api.acquisition_plan(
            self._value(args.model), data, target=args.target, budget=args.budget,
            slices=slices, sensitive=split_names(args.sensitive),
            fairness_weight=args.fairness_weight, loss=args.loss, n_repeats=args.n_repeats,
            validation=self._value(args.validation), n_jobs=args.n_jobs,
            features=split_names(args.features))
        self._publish("acquisition", result, args.out)

    @magic_arguments()
    @argument("data", help="training DataFrame (or expression) with features and target")
    @argument("--target", required=True, help="column of true labels")
    @argument("--sensitive", help="comma-separated sensitive columns (removals per group)")
    @argument("--steps", help="comma-separated steps in order (default: duplicates, "
              "conflicting_labels, label_errors, and out_of_distribution with --reference)")
    @argument("--reference", help="DataFrame the out_of_distribution step scores rows against")
    @argument("--model", help="estimator to retrain before and after cleaning (with --test)")
    @argument("--test", help="held-out DataFrame the retrained models are audited on")
    @argument("--n-boot", type=int, default=200, help="bootstrap resamples for intervals")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def clean(self, line: str):
        """Plan the cleaning of training data: the rows each step removes, per sensitive group;
        with --model and --test, retrain and compare. Binds ``_cleaning``."""
        args = parse_argstring(self.clean, line)
        result = api.clean(
            self._value(args.data), target=args.target, sensitive=split_names(args.sensitive),
            reference=self._value(args.reference), estimator=self._value(args.model),
            test=self._value(args.test), steps=split_names(args.steps), n_boot=args.n_boot)
        self._publish("cleaning", result, args.out)

    @magic_arguments()
    @argument("objects", nargs="+", help="MODEL DATA, or DATA alone with --errors")
    @argument("--target", help="column of true labels (with a model)")
    @argument("--errors", help="column of per-row losses (without a model)")
    @argument("--by", help="loss: error, log_loss, false_positive_rate, false_negative_rate, "
              "selection_rate, squared_error or absolute_error (default: squared_error for a "
              "regression, else error)")
    @argument("--task", help="binary, multiclass or regression (default: inferred)")
    @argument("--sample-weight", help="column of row weights")
    @argument("--min-support", type=_support,
              help="smallest slice size: a row count, or a fraction of the rows below 1 "
              "(default: as %%audit, 1%% of the rows and at least 30)")
    @argument("--k", type=int, default=SHARED_SEARCH["k"],
              help=f"number of slices (default {SHARED_SEARCH['k']}, as %%audit)")
    @argument("--max-l", type=int, default=SHARED_SEARCH["max_l"],
              help=f"most predicates per slice (default {SHARED_SEARCH['max_l']}, as %%audit)")
    @argument("--positive-label", help="favourable outcome for fairness losses")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def slices(self, line: str):
        """Find the slices of the data where the model fails most."""
        args = parse_argstring(self.slices, line)
        model, data = self._model_and_data(args.objects)
        support = args.min_support
        if support is None and hasattr(data, "columns"):
            support = default_support(len(data), args.sample_weight is not None)
        result = api.slices(data, model=model, target=args.target, errors=args.errors,
                            loss=args.by, task=args.task, sample_weight=args.sample_weight,
                            min_sup=support, k=args.k, max_l=args.max_l,
                            positive_label=parse_scalar(args.positive_label))
        self._publish("slices", result, args.out)

    @magic_arguments()
    @argument("model", help="fitted model in the notebook")
    @argument("data", help="rows to explain")
    @argument("--background", help="background rows (KernelSHAP, linear SHAP)")
    @argument("--method", default="auto", help="auto (exact: tree or linear), tree, linear or "
              "kernel (sampled, for any model)")
    @argument("--interactions", action="store_true", help="SHAP interaction values (TreeSHAP)")
    @argument("--features", default="auto", help="pipelines: input (the data's columns), model "
              "(the final estimator's features) or auto")
    @argument("--row", help="index label of one row: its waterfall (a RowExplanation)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def explain(self, line: str):
        """SHAP values of a model on some rows, as a shap.Explanation; with ``--row``, one
        row's waterfall."""
        args = parse_argstring(self.explain, line)
        model, data = self._value(args.model), self._value(args.data)
        options = {"background": self._value(args.background), "method": args.method,
                   "features": args.features}
        if args.row is not None:
            if args.interactions:
                raise RaiError("--interactions explains many rows; leave it out with --row")
            result = api.explain_row(model, data, _row_label(data, args.row), **options)
        else:
            result = api.explain(model, data, interactions=args.interactions, **options)
        self._publish("explain", result, args.out)

    @magic_arguments()
    @argument("model", help="fitted model in the notebook")
    @argument("data", help="DataFrame whose rows can be picked and edited")
    @argument("--row", help="index label of the row shown first (default: the first row)")
    @argument("--slices", help="a SliceResult whose slices' rows can be picked")
    @argument("--background", help="background rows (KernelSHAP, linear SHAP)")
    @argument("--method", default="auto", help="auto (exact: tree or linear), tree, linear or "
              "kernel")
    @argument("--out", help="also bind the editor to this name")
    @line_magic
    @_user_errors_as_usage
    def whatif(self, line: str):
        """Edit one row's features and watch its prediction and SHAP waterfall; binds the
        editor to ``_whatif`` (``_whatif.edited``: the edited rows)."""
        from IPython.display import display

        args = parse_argstring(self.whatif, line)
        data = self._value(args.data)
        row = None if args.row is None else _row_label(data, args.row)
        editor = api.whatif(self._value(args.model), data, row,
                            slices=self._value(args.slices),
                            background=self._value(args.background), method=args.method)
        self.shell.user_ns["_whatif"] = editor
        if args.out:
            self.shell.user_ns[args.out] = editor
        display(editor)

    @magic_arguments()
    @argument("model", help="fitted model in the notebook")
    @argument("data", help="DataFrame of the rows to average over")
    @argument("--feature", required=True,
              help="feature to vary, or two comma-separated ones for a two-way PDP")
    @argument("--by", help="comma-separated sensitive columns: one curve per group")
    @argument("--kind", default="average", choices=DEPENDENCE_KINDS,
              help="average (PDP), individual (ICE) or both")
    @argument("--centered", action="store_true", help="start every curve at 0")
    @argument("--grid-resolution", type=int, default=100, help="numeric grid points (default 100)")
    @argument("--sample", type=int, default=100, help="rows whose ICE curves are kept (default 100)")
    @argument("--sample-weight", help="column of row weights")
    @argument("--response", default="auto", choices=DEPENDENCE_RESPONSES, help="model output")
    @argument("--target-class", help="class whose output is shown (classifiers)")
    @argument("--features", help="comma-separated columns the model takes")
    @argument("--min-group-size", type=int, default=30,
              help="groups with fewer rows are drawn dashed (default 30)")
    @argument("--n-boot", type=int, default=0,
              help="bootstrap replicates for a band around each curve (default 0: none)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def dependence(self, line: str):
        """Partial dependence and ICE of a model on a feature (or a pair), per group."""
        args = parse_argstring(self.dependence, line)
        names = split_names(args.feature)
        result = api.dependence(
            self._value(args.model), self._value(args.data),
            names[0] if len(names) == 1 else tuple(names), by=split_names(args.by),
            kind=args.kind, centered=args.centered, grid_resolution=args.grid_resolution,
            sample=args.sample, sample_weight=args.sample_weight, response=args.response,
            target_class=parse_scalar(args.target_class), features=split_names(args.features),
            min_group_size=args.min_group_size, n_boot=args.n_boot)
        self._publish("dependence", result, args.out)

    @magic_arguments()
    @argument("model", help="fitted model in the notebook")
    @argument("rows", help="DataFrame (or expression) of the rows to explain")
    @argument("--data", help="DataFrame giving ranges, levels and real neighbours (default ROWS)")
    @argument("--desired", default="opposite",
              help="opposite (binary), a class label, or LOW,HIGH for a regression")
    @argument("--k", type=int, default=5, help="counterfactuals per row (default 5)")
    @argument("--features-to-vary", help="comma-separated features that may change (default all)")
    @argument("--immutable", help="comma-separated features never changed (default --sensitive)")
    @argument("--sensitive", help="comma-separated sensitive columns (immutable)")
    @argument("--random-state", type=int, default=0, help="seed of the search (default 0)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def counterfactuals(self, line: str):
        """Diverse, sparse counterfactuals of rows and the nearest real rows that flip."""
        args = parse_argstring(self.counterfactuals, line)
        desired = [parse_scalar(v) for v in split_names(args.desired)]
        result = api.counterfactuals(
            self._value(args.model), self._value(args.rows), data=self._value(args.data),
            desired=tuple(desired) if len(desired) == 2 else parse_scalar(args.desired),
            k=args.k, features_to_vary=split_names(args.features_to_vary) or "all",
            immutable=split_names(args.immutable), sensitive=split_names(args.sensitive),
            random_state=args.random_state)
        self._publish("counterfactuals", result, args.out)

    @magic_arguments()
    @argument("data", help="DataFrame to check")
    @argument("--reference", help="reference DataFrame (training data)")
    @argument("--target", help="column of labels")
    @argument("--sensitive", help="comma-separated sensitive columns")
    @argument("--sample-weight", help="column of row weights for the per-group counts")
    @argument("--checks", help="comma-separated check names (default: all)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def validate(self, line: str):
        """Data checks: schema, quality, labels, leakage, proxies, representation, drift."""
        args = parse_argstring(self.validate, line)
        result = api.validate(self._value(args.data), reference=self._value(args.reference),
                              target=args.target, sensitive=split_names(args.sensitive),
                              sample_weight=args.sample_weight, checks=split_names(args.checks))
        self._publish("validate", result, args.out)

    @magic_arguments()
    @argument("reference", help="reference DataFrame")
    @argument("current", help="current DataFrame")
    @argument("--columns", help="comma-separated columns (default: shared columns)")
    @argument("--target", help="label column (adds label drift)")
    @argument("--out", help="also bind the result to this name")
    @line_magic
    @_user_errors_as_usage
    def drift(self, line: str):
        """Per-column and multivariate drift between two DataFrames."""
        args = parse_argstring(self.drift, line)
        result = api.drift(self._value(args.reference), self._value(args.current),
                           columns=split_names(args.columns), target=args.target)
        self._publish("drift", result, args.out)

    @magic_arguments()
    @argument("model", nargs="?", help="model whose audit fills the card (optional)")
    @argument("--audit", default="last", help="name of an audit result; 'last' is _audit")
    @argument("--cleaning", help="name of a cleaning plan applied to the training data; "
              "'last' is _cleaning")
    @argument("--out", help="write the card to this .md or .html file")
    @cell_magic
    @_user_errors_as_usage
    def modelcard(self, line: str, cell: str):
        """A model card from the cell's YAML narrative and an audit's numbers.

        With an audit, ``_audit`` is rebound to that audit carrying this card, so its HTML,
        report and saved files show the same narrative as the card.
        """
        import yaml

        from .modelcard import ModelCard

        args = parse_argstring(self.modelcard, line)
        try:
            fields = yaml.safe_load(cell) or {}
        except yaml.YAMLError as error:
            raise RaiError(f"the cell is not valid YAML: {error}") from None
        audit = self._value("_audit" if args.audit == "last" else args.audit) \
            if args.audit != "none" else None
        cleaning = None if args.cleaning is None else self._value(
            "_cleaning" if args.cleaning == "last" else args.cleaning)
        card = ModelCard(fields, audit=audit, cleaning=cleaning)
        if args.out:
            card.save(args.out)
        if audit is not None:
            self.shell.user_ns["_audit"] = audit.with_card(card)
        self._publish("modelcard", card, None)

    @line_magic
    @_user_errors_as_usage
    def rai_config(self, line: str):
        """Show or change settings: ``%rai_config backend=cupy chunk_rows=500000``."""
        changes = {}
        for word in shlex.split(line):
            key, sep, value = word.partition("=")
            if not sep:
                raise RaiError(f"write settings as key=value, got {word!r}")
            changes[key] = int(value) if value.isdigit() else value
        print(config(**changes))

    def _model_and_data(self, objects: list[str]):
        if len(objects) > 2:
            raise RaiError(f"expected MODEL DATA or DATA, got {len(objects)} names")
        values = [self._value(o) for o in objects]
        return (None, values[0]) if len(values) == 1 else tuple(values)


def _row_label(data, text: str):
    """The index label of ``data`` written as ``text`` (``--row 17``, ``--row "a b"``)."""
    from .api._explain_row import NOT_A_FRAME, label_from_text

    if not hasattr(data, "index"):
        raise RaiError(NOT_A_FRAME.format(kind=type(data).__name__))
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return label_from_text(data.index, text)


def complete_columns(shell, event) -> list[str]:
    """Tab completion of column names after ``--target``/``--sensitive``/``--errors``."""
    words = shlex.split(event.line, posix=False)[1:]
    frames = [shell.user_ns.get(w) for w in words if not w.startswith("-")]
    columns = [str(c) for frame in frames if hasattr(frame, "columns") for c in frame.columns]
    previous = words[-1] if words and not event.symbol else (words[-2] if len(words) > 1 else "")
    if previous.lstrip("-") in ("target", "sensitive", "errors", "columns"):
        return columns
    return []


def load(shell) -> None:
    """Register the magics and their completers on ``shell``."""
    shell.register_magics(RaiMagics)
    for name in ("audit", "mitigate", "acquire", "slices", "validate", "drift"):
        shell.set_hook("complete_command", lambda _, event: complete_columns(shell, event),
                       str_key=f"%{name}")


#: Most columns listed per DataFrame by :func:`namespace_summary`.
SUMMARY_COLUMNS = 200


def namespace_summary(namespace: dict | None = None) -> dict:
    """The notebook's DataFrames and fitted models, for the labextension's "Insert %audit
    cell" command (it asks the kernel for this as a silent user expression).

    Parameters
    ----------
    namespace : dict, optional
        Names to look through; default: the running IPython's user namespace, without the
        names IPython defines itself.

    Returns
    -------
    dict
        JSON-ready: ``frames`` (``{"name", "kind": "pandas" | "dask" | "spark", "columns"}`` per
        DataFrame, at most :data:`SUMMARY_COLUMNS` columns each), ``models`` (names of fitted
        objects with a ``predict`` method) and ``loaded`` (whether ``%audit`` is registered),
        in the namespace's order; names starting with ``_`` are left out.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if namespace is None:
        namespace = {} if shell is None else {
            k: v for k, v in shell.user_ns.items() if k not in shell.user_ns_hidden}
    visible = {k: v for k, v in namespace.items() if not k.startswith("_")}
    frames = [{"name": name, "kind": kind,
               "columns": [str(c) for c in value.columns[:SUMMARY_COLUMNS]]}
              for name, value in visible.items() if (kind := _frame_kind(value)) is not None]
    models = [name for name, value in visible.items() if _is_fitted_model(value)]
    loaded = shell is not None and "audit" in shell.magics_manager.magics["line"]
    return {"frames": frames, "models": models, "loaded": loaded}


def _frame_kind(value) -> str | None:
    import pandas as pd

    from .engine._dask import is_dask_frame
    from .engine._spark import is_spark_frame

    if isinstance(value, pd.DataFrame):
        return "pandas"
    if is_dask_frame(value):
        return "dask"
    return "spark" if is_spark_frame(value) else None


def _is_fitted_model(value) -> bool:
    """An instance with a callable ``predict``; scikit-learn estimators only once fitted."""
    import sys

    if isinstance(value, type) or not callable(getattr(value, "predict", None)):
        return False
    if "sklearn" not in sys.modules:  # then it is no scikit-learn estimator
        return True
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(value, BaseEstimator):
        return True
    try:
        check_is_fitted(value)
    except NotFittedError:
        return False
    return True
