"""``rai_nb.compare``: two audits of one target side by side."""

from __future__ import annotations

from ..errors import RaiError
from ..results import AuditResult, BiasResult
from ..results._comparison import ComparisonResult

NOT_A_RESULT = "{argument} must be an AuditResult or a BiasResult, got {got}"
MISMATCH = ("cannot compare audits of different {what}: {first} has {a!r}, {second} has {b!r}; "
            "audit both on the same target and sensitive columns")
BAD_LABELS = ("labels must be two different non-empty strings other than 'change' and "
              "'verdict', got {labels!r}")


def compare(a, b, *, labels: tuple = ("before", "after")) -> ComparisonResult:
    """Compare two audits (e.g. of a model before and after mitigation) metric by metric.

    Parameters
    ----------
    a, b : AuditResult or BiasResult
        Audits of the same target (and positive label), task and sensitive columns, best on
        the same held-out rows; audits of different rows are compared too, and labelled so.
        With a :class:`BiasResult` on either side, both are compared as bias reports (the
        findings are then the graded disparities only).
    labels : tuple of str, default ("before", "after")
        Names of ``a`` and ``b`` in the report and in the tables' columns.

    Returns
    -------
    ComparisonResult
        Every fairness metric of both with its interval, the change and whether it is within
        noise (the intervals overlap); the findings that appeared, cleared or stayed; a
        summary for the model card (:meth:`ComparisonResult.card_text`).

    Raises
    ------
    RaiError
        When an argument is not an audit, the labels are unusable, or the audits differ in
        target, positive label, task or sensitive columns.

    Examples
    --------
    >>> import rai_nb
    >>> from sklearn.dummy import DummyClassifier
    >>> data = rai_nb.load_compas().head(600)
    >>> X, y = data[["priors_count"]], data["two_year_recid"]
    >>> kwargs = dict(target="two_year_recid", sensitive="race", explain=False, n_boot=20,
    ...               progress=False)
    >>> first = rai_nb.audit(DummyClassifier().fit(X, y), data, features=["priors_count"],
    ...                      **kwargs)
    >>> second = rai_nb.audit(DummyClassifier(strategy="stratified", random_state=0).fit(X, y),
    ...                       data, features=["priors_count"], **kwargs)
    >>> result = rai_nb.compare(first, second)
    >>> result.disparities.loc["demographic_parity_difference", "before"]
    np.float64(0.0)
    """
    labels = _labels(labels)
    for argument, value in zip(("a", "b"), (a, b)):
        if not isinstance(value, (AuditResult, BiasResult)):
            raise RaiError(NOT_A_RESULT.format(argument=argument, got=type(value).__name__))
    fairness_only = not (isinstance(a, AuditResult) and isinstance(b, AuditResult))
    if fairness_only:
        a, b = (_as_audit(value, label) for value, label in zip((a, b), labels))
    _check_same(a.bias, b.bias, labels)
    return ComparisonResult.of(a, b, labels, fairness_only=fairness_only)


def _labels(labels) -> tuple:
    if (not isinstance(labels, (tuple, list)) or len(labels) != 2
            or not all(isinstance(label, str) and label for label in labels)
            or labels[0] == labels[1] or {"change", "verdict"} & set(labels)):
        raise RaiError(BAD_LABELS.format(labels=labels))
    return tuple(labels)


def _as_audit(result, label: str) -> AuditResult:
    """A bias report (or an audit's) as an audit of nothing but it, named ``label``."""
    bias = result if isinstance(result, BiasResult) else result.bias
    name = label if isinstance(result, BiasResult) else result.model_name
    return AuditResult(model_name=name, n_rows=bias.n_rows, bias=bias)


def _check_same(a: BiasResult, b: BiasResult, labels: tuple) -> None:
    for what, first, second in (("targets", a.target, b.target),
                                ("positive labels", a.positive_label, b.positive_label),
                                ("tasks", a.task, b.task),
                                ("sensitive columns", a.sensitive, b.sensitive)):
        if first != second:
            raise RaiError(MISMATCH.format(what=what, first=labels[0], second=labels[1],
                                           a=first, b=second))
