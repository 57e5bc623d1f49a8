"""``rai_nb.whatif``: the what-if editor of one row (an ipywidgets panel)."""

from __future__ import annotations

import pandas as pd

from ..errors import EMPTY_DATA, RaiError
from ._explain_row import NOT_A_FRAME, RowExplainer


def whatif(model, data: pd.DataFrame, row=None, *, slices=None, method: str = "auto",
           background=None, features: str = "auto"):
    """An editor of one row of ``data``: change its features, see the prediction and the SHAP
    waterfall of the edited row at once.

    Parameters
    ----------
    model : fitted model or scikit-learn Pipeline
        Any model :func:`rai_nb.explain_row` explains.
    data : pandas.DataFrame
        The rows to pick from, with the model's columns; each feature's editor spans the
        values observed here. Never modified.
    row : object, optional
        Index label of the row shown first (default: the first row).
    slices : rai_nb.SliceResult, optional
        Lets the user pick a row among a problem slice's rows.
    method, background, features
        As in :func:`rai_nb.explain_row`.

    Returns
    -------
    rai_nb.ui._whatif.WhatIfPanel
        The editor (an ipywidgets box; shown as a cell's value it also carries the row's static
        waterfall, so a saved notebook shows it). ``panel.edited`` holds the edited rows as a
        DataFrame, ``panel.current`` the :class:`rai_nb.RowExplanation` of the row as edited,
        ``panel.show_row(label)`` moves to another row.

    Notes
    -----
    Unlike the other panels, this one computes: :func:`whatif` hands it a row explainer (the
    model, its columns and reference rows, fixed here), which it calls on every edit.

    Examples
    --------
    >>> editor = rai_nb.whatif(model, test_df, row=1042)       # doctest: +SKIP
    >>> editor.editors["age"].value = 60                       # doctest: +SKIP
    >>> editor.current.prediction, editor.edited               # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise RaiError(NOT_A_FRAME.format(kind=type(data).__name__))
    if len(data) == 0:
        raise RaiError(EMPTY_DATA.format(argument="data"))
    from ..ui._whatif import WhatIfPanel

    explainer = RowExplainer.of(model, data, method=method, background=background,
                                features=features)
    return WhatIfPanel(explainer, data, data.index[0] if row is None else row, slices=slices)
