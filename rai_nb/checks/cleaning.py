"""Which rows a cleaning step removes: kernels over the row hashes of ``checks.quality``.

The counts of :func:`.quality.duplicate_rows` and :func:`.quality.conflicting_labels` say how
many rows are affected; these masks say which, so a cleaning plan removes exactly the rows
``validate`` counted.
"""

from __future__ import annotations

from ..backend import bincount, namespace
from .quality import group_ids


def repeat_mask(hashes, *, xp=None):
    """True for every row whose hash occurs at an earlier position (the first copy is kept).

    Parameters
    ----------
    hashes : array of uint64, shape (n,)
        One hash per row (:func:`.quality.row_hashes`).

    Returns
    -------
    array of bool, shape (n,); its sum is the first count of :func:`.quality.duplicate_rows`.
    """
    xp = namespace(hashes, xp=xp)
    ids, _ = group_ids(hashes, xp=xp)
    order = xp.argsort(ids, stable=True)
    ordered = xp.take(ids, order)
    later = xp.concat([xp.zeros(1, dtype=xp.bool), ordered[1:] == ordered[:-1]])
    return xp.take(later, xp.argsort(order, stable=True))


def minority_label_mask(feature_hashes, label_codes, *, n_labels: int, xp=None):
    """True for the rows of a conflicting feature group that do not carry its majority label.

    Rows sharing every feature value (equal ``feature_hashes``) but labelled differently
    conflict. The label most of them carry is kept; when two or more labels tie for most,
    the group has no majority and all its rows are marked.

    Parameters
    ----------
    feature_hashes : array of uint64, shape (n,)
    label_codes : array of int, shape (n,)
        Codes ``0..n_labels-1``.
    n_labels : int

    Returns
    -------
    array of bool, shape (n,)
    """
    xp = namespace(feature_hashes, label_codes, xp=xp)
    ids, sizes = group_ids(feature_hashes, xp=xp)
    n_ids = sizes.shape[0]
    pair = xp.astype(ids, xp.int64) * n_labels + xp.astype(label_codes, xp.int64)
    counts = xp.reshape(bincount(pair, minlength=n_ids * n_labels, xp=xp), (n_ids, n_labels))
    top = xp.max(counts, axis=1)
    tied = xp.sum(xp.astype(counts == top[:, None], xp.int64), axis=1) > 1
    own = xp.take(xp.reshape(counts, (-1,)), pair)
    return (own < xp.take(top, ids)) | xp.take(tied, ids)
