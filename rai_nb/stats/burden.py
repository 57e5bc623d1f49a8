"""Group means with a stratified row bootstrap: the burden statistic of CERTIFAI.

Burden (Sharma, Henderson & Ghosh, AIES 2020): for each group, the mean distance of its
negatively decided rows to their closest counterfactual.
"""

from __future__ import annotations

import numpy as np

from .bias import percentile_interval


def group_means(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group code (NaN for an empty group)."""
    count = np.bincount(codes, minlength=n_groups)
    total = np.bincount(codes, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def bootstrap_group_means(values: np.ndarray, codes: np.ndarray, n_groups: int, *, n_boot: int,
                          ci: float, seed: int, block: int = 1 << 22):
    """Percentile interval of each group's mean under a row bootstrap stratified by group
    (each replicate redraws every group's rows with replacement, keeping its size).

    Replicates come in blocks of about ``block`` draws; all groups are drawn at once: rows
    sorted by group, draw ``j`` of group ``g`` is row ``start[g] + ⌊u · size[g]⌋``.

    Returns
    -------
    lower, upper : ndarray (n_groups,)
        NaN for an empty group.
    """
    order = np.argsort(codes, kind="stable")
    ordered, sorted_codes = values[order], codes[order]
    size = np.bincount(codes, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    onehot = (sorted_codes[:, None] == np.arange(n_groups)).astype(np.float64)
    rng = np.random.default_rng(seed)
    per_block = max(1, block // max(len(values), 1))
    means = []
    for first in range(0, n_boot, per_block):
        count = min(per_block, n_boot - first)
        draw = start[sorted_codes] + np.floor(rng.random((count, len(values)))
                                              * size[sorted_codes]).astype(np.int64)
        means.append(ordered[draw] @ onehot)
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = np.concatenate(means) / size
    return percentile_interval(replicates, ci)
