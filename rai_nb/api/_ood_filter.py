"""``rai_nb.ood_filter``: a fitted model that abstains on (or flags) rows unlike its reference.

The estimator, :class:`rai_nb.mitigation._ood_filter.OODFilter`, is imported on first use, so ``import
rai_nb`` does not load scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ..mitigation._ood_filter import OODFilter


def ood_filter(model, reference: pd.DataFrame, *, threshold: float | None = None,
               quantile: float = 0.99, action: str = "abstain", neighbours: int = 5,
               neighbour_rows: int = 2_000, random_state: int = 0) -> OODFilter:
    """Wrap fitted ``model`` so it abstains on (or flags) rows unlike ``reference``.

    Parameters
    ----------
    model : fitted estimator
    reference : pandas.DataFrame
        The rows the model is trusted on (its training data). The columns compared are the
        model's ``feature_names_in_`` when it has them, else every column. Never modified.
    threshold, quantile, action, neighbours, neighbour_rows, random_state
        See :class:`OODFilter`; by default a row is out of distribution when it lies farther
        from the reference than 99 % of reference rows do.

    Returns
    -------
    OODFilter
        Fitted, scikit-learn compatible (``clone`` keeps the fitted model), picklable.
    """
    from ..mitigation._ood_filter import OODFilter

    return OODFilter(model, threshold=threshold, quantile=quantile, action=action,
                     neighbours=neighbours, neighbour_rows=neighbour_rows, prefit=True,
                     random_state=random_state).fit(reference)
