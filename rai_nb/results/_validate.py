"""The results of :func:`rai_nb.validate` and :func:`rai_nb.drift`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..render import Section
from ._base import Result

#: Severities in increasing order of concern.
SEVERITIES = ("pass", "warn", "fail")
#: Rows of a detail table shown in a report (the full table stays on the result).
SHOWN_ROWS = 20


@dataclass(frozen=True)
class Check:
    """One check's verdict: severity, the columns it concerns, a one-line message, details."""

    name: str
    severity: str
    columns: tuple
    message: str
    details: pd.DataFrame | None = None


@dataclass(frozen=True)
class RowDrift:
    """How far each current row lies from the reference (``drift(..., rows=True)``).

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per current row (the current frame's index): ``domain`` (the domain
        classifier's out-of-fold probability of "current"), ``distance`` (to the
        ``neighbours``-th nearest reference row in the encoded space), each with its conformal
        p-value against the reference rows (``domain_p``, ``distance_p``), and ``score``:
        ``−log10`` of Fisher's combination of the two p-values (higher is farther out).
    top : pandas.DataFrame
        The highest-scoring rows, highest first, with ``reasons``: the columns making up most of
        the row's squared distance to its nearest reference row (value vs the neighbour's value,
        share of the distance).
    domain_auc : float
        AUC of the out-of-fold domain classifier over both tables (0.5: indistinguishable).
    reference_distance : numpy.ndarray
        Percentiles 0 … 100 of the reference rows' own distances (each not its own neighbour).
    neighbours, neighbour_rows, n_reference : int
        ``k``, the reference rows compared with, and all reference rows.
    """

    scores: pd.DataFrame
    top: pd.DataFrame
    domain_auc: float
    reference_distance: np.ndarray
    neighbours: int
    neighbour_rows: int
    n_reference: int

    @property
    def beyond_reference(self) -> float:
        """Share of current rows farther out than 99 % of the reference rows."""
        return float((self.scores["distance"] > self.reference_distance[99]).mean())

    def summary(self) -> dict:
        return {"domain_auc": self.domain_auc, "beyond_reference_p99": self.beyond_reference,
                "top_rows": list(self.top.index)}

    def section(self) -> Section:
        compared = ("every reference row" if self.neighbour_rows == self.n_reference else
                    f"a seeded sample of {self.neighbour_rows:,} of the {self.n_reference:,} "
                    "reference rows")
        text = (f"{self.beyond_reference:.1%} of current rows lie farther from the reference than "
                f"99% of reference rows do (distance to the {self.neighbours}-th nearest of "
                f"{compared}, z-scored numbers and one-hot levels). An out-of-fold domain "
                f"classifier tells the tables apart with AUC {self.domain_auc:.3f} (0.5: not at "
                "all). Score: −log10 of Fisher's combination of the two conformal p-values "
                "against the reference rows; reasons: the columns that make up the distance to the nearest "
                "reference row.")
        notes = {"score": "−log10 of Fisher's combination of domain_p and distance_p",
                 "domain_p": "share of reference rows the classifier finds as current or more",
                 "distance_p": "share of reference rows as far from the reference or farther",
                 "domain": "out-of-fold probability that the row is a current row",
                 "distance": f"distance to the {self.neighbours}-th nearest reference row",
                 "reasons": "column: value vs nearest reference row's (share of distance²)"}
        return Section("Out-of-distribution rows", text, self.top.rename_axis("row"),
                       notes=notes)


@dataclass(frozen=True, repr=False)
class DriftResult(Result):
    """Per-column drift between a reference and a current data set, and multivariate MMD.

    Attributes
    ----------
    columns : pandas.DataFrame
        One row per column: ``role`` (feature, target, prediction), ``kind``, the deciding
        ``method`` with its ``statistic``, ``threshold`` and ``p_value`` (NaN for distances),
        ``drifted``, and every statistic computed (KS, Wasserstein, χ², Jensen–Shannon, PSI).
    mmd : dict or None
        ``statistic`` (unbiased MMD²), ``p_value``, ``bandwidth``, ``n_permutations``, ``rows``.
    drift_share : float
        Share of drifted feature columns above which the data set as a whole has drifted.
    rows : RowDrift or None
        Row-level drift, with ``drift(..., rows=True)``.
    """

    kind: ClassVar[str] = "drift"

    columns: pd.DataFrame
    mmd: dict | None = None
    drift_share: float = 0.5
    n_reference: int = 0
    n_current: int = 0
    rows: RowDrift | None = None

    @property
    def drifted(self) -> list:
        """Names of the drifted columns."""
        return list(self.columns.index[self.columns["drifted"]])

    @property
    def dataset_drift(self) -> bool:
        """True when at least ``drift_share`` of the feature columns drifted (Evidently's rule)."""
        features = self.columns[self.columns["role"] == "feature"]
        return bool(len(features)) and float(features["drifted"].mean()) >= self.drift_share

    @property
    def title(self) -> str:
        return f"Drift: {len(self.drifted)} of {len(self.columns)} columns drifted"

    def summary(self) -> dict:
        summary = {"reference_rows": self.n_reference, "current_rows": self.n_current,
                   "drifted": self.drifted, "dataset_drift": self.dataset_drift, "mmd": self.mmd}
        return summary if self.rows is None else {**summary, "rows": self.rows.summary()}

    def sections(self) -> list[Section]:
        text = (f"Reference {self.n_reference:,} rows, current {self.n_current:,} rows. "
                f"Data set drift: {'yes' if self.dataset_drift else 'no'} "
                f"(share of drifted features ≥ {self.drift_share:g}).")
        shown = ["role", "kind", "method", "statistic", "threshold", "p_value", "drifted"]
        sections = [Section("Columns", text, self.columns[shown],
                            bars=self.columns["statistic"].rename("drift statistic"))]
        if self.mmd is not None:
            sections.append(Section(
                "Multivariate drift (MMD)",
                "Unbiased MMD² with an RBF kernel (median-distance bandwidth) and a permutation "
                "test (Gretton et al. 2012).", pd.DataFrame([self.mmd], index=["mmd"])))
        return sections if self.rows is None else [*sections, self.rows.section()]


@dataclass(frozen=True, repr=False)
class ValidationResult(Result):
    """Verdicts of the data checks of :func:`rai_nb.validate`.

    Attributes
    ----------
    checks : pandas.DataFrame
        One row per check run: ``name`` (index), ``severity`` (pass/warn/fail), ``columns``
        and ``message``.
    details : dict
        ``{check name: pandas.DataFrame}`` with the numbers behind each verdict.
    drift : DriftResult or None
        The per-column drift, when a reference was given.
    thresholds : dict
        The thresholds in force.
    """

    kind: ClassVar[str] = "validation"

    checks: pd.DataFrame
    details: dict = field(default_factory=dict)
    drift: DriftResult | None = None
    thresholds: dict = field(default_factory=dict)
    n_rows: int = 0

    @classmethod
    def from_checks(cls, checks: list[Check], **kwargs) -> ValidationResult:
        table = pd.DataFrame(
            {"severity": [c.severity for c in checks], "columns": [c.columns for c in checks],
             "message": [c.message for c in checks]},
            index=pd.Index([c.name for c in checks], name="name"))
        details = {c.name: c.details for c in checks if c.details is not None}
        return cls(checks=table, details=details, **kwargs)

    @property
    def failed(self) -> pd.DataFrame:
        """The checks that failed."""
        return self.checks[self.checks["severity"] == "fail"]

    @property
    def warnings(self) -> pd.DataFrame:
        """The checks that warn."""
        return self.checks[self.checks["severity"] == "warn"]

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return self.failed.empty

    @property
    def title(self) -> str:
        return (f"Data validation: {len(self.failed)} failed, {len(self.warnings)} warnings, "
                f"{len(self.checks)} checks")

    def summary(self) -> dict:
        return {"rows": self.n_rows, "failed": list(self.failed.index),
                "warnings": list(self.warnings.index),
                "severity": self.checks["severity"].to_dict()}

    def sections(self) -> list[Section]:
        table = self.checks.assign(columns=[", ".join(map(str, c)) for c in self.checks["columns"]])
        sections = [Section("Checks", f"{self.n_rows:,} rows.", table)]
        for name, row in self.checks.iterrows():
            if row["severity"] != "pass" and name in self.details:
                detail = self.details[name]
                note = "" if len(detail) <= SHOWN_ROWS else f"First {SHOWN_ROWS} of {len(detail)} rows."
                sections.append(Section(f"{name}: {row['message']}", note, detail.head(SHOWN_ROWS)))
        return sections
