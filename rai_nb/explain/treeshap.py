"""Exact path-dependent TreeSHAP, vectorised over rows × paths (array API: NumPy or CuPy).

For one path with distinct features ``M`` (``|M| = m``), zero fractions ``z`` and, per row, one
fractions ``o ∈ {0, 1}`` (does the row satisfy the element's interval), the contribution to
feature ``i`` is (Lundberg et al., Nature Machine Intelligence 2020)

    φ_i = v (o_i − z_i) Σ_{S ⊆ M∖{i}} s!(m−s−1)!/m! Π_{k∈S} o_k Π_{k∉S∪{i}} z_k.

Because ``o`` is 0 or 1, only subsets of ``O = {k : o_k = 1}`` survive, and the sum equals
``Π_{k∈M∖O, k≠i} z_k · Σ_s w(s) c_s`` where ``c_s`` are the coefficients of
``Π_{k∈O∖{i}} (z_k + t)``. The product polynomial over ``O`` is built once per row and path, and
each ``O∖{i}`` polynomial follows by synthetic division by ``(t + z_i)`` — O(L²) array
operations per chunk of rows, with loops only over path length ``L`` (≤ tree depth).
"""

from __future__ import annotations

from math import factorial

import numpy as np
from array_api_compat import is_numpy_namespace

from ..backend import get_config, namespace, to_device, to_host
from ._forest import Forest
from ._paths import Paths, decompose

#: Elements of the largest (rows × paths × L) temporary, bounding memory per chunk.
_CHUNK_ELEMENTS = 4_000_000
#: Largest (paths × 2^L) table of possible (path, pattern) pairs for the NumPy fast path.
_MAX_PATTERNS = 1 << 26


def shapley_weights(sizes: np.ndarray, width: int) -> np.ndarray:
    """``W[p, s] = s!(m_p−s−1)!/m_p!`` for ``s < m_p`` (else 0), shape (P, width)."""
    table = np.zeros((int(sizes.max(initial=0)) + 1, width))
    for m in range(1, table.shape[0]):
        for s in range(min(m, width)):
            table[m, s] = factorial(s) * factorial(m - s - 1) / factorial(m)
    return table[sizes]


def tree_shap(forest: Forest, X, *, xp=None, paths: Paths | None = None):
    """SHAP values ``(rows, features, outputs)`` and base values ``(outputs,)`` of ``forest``.

    ``X`` is a 2-D float array on namespace ``xp`` (NaN = missing). Values are additive:
    ``base + values.sum(axis=1)`` equals the forest's raw output.
    """
    xp = namespace(X, xp=xp)
    paths = decompose(forest) if paths is None else paths
    if forest.float32:
        X = xp.astype(xp.astype(X, xp.float32), xp.float64)
    n_paths, width = paths.feature.shape
    device = _device_paths(paths, forest.n_features, xp)
    step = max(1, min(get_config().chunk_rows, _CHUNK_ELEMENTS // max(1, n_paths * width)))
    row_slices = [slice(a, min(a + step, X.shape[0])) for a in range(0, X.shape[0], step)]
    if is_numpy_namespace(xp) and n_paths * 2**width <= _MAX_PATTERNS:
        values = _shared_pattern_shap(X, device, width, forest.n_features, row_slices)
    else:
        chunks = [to_host(_chunk_shap(X[rows, ...], device, width, xp)) for rows in row_slices]
        values = np.concatenate(chunks, axis=0) if chunks else np.zeros(
            (0, forest.n_features, forest.n_outputs))
    expected = np.prod(paths.zero_fraction, axis=1) @ paths.value
    return values, forest.base + expected


def _device_paths(paths: Paths, n_features: int, xp) -> dict:
    width = paths.feature.shape[1]
    onehot = np.zeros((paths.feature.size, n_features))
    flat = paths.feature.ravel()
    onehot[np.flatnonzero(flat >= 0), flat[flat >= 0]] = 1.0
    host = {
        "feature": np.maximum(paths.feature, 0).ravel(), "lower": paths.lower,
        "upper": paths.upper, "missing_ok": paths.missing_ok, "z": paths.zero_fraction,
        "valid": paths.valid, "value": paths.value, "onehot": onehot,
        "weights": shapley_weights(paths.size, width + 1),
    }
    return {k: to_device(v, xp) for k, v in host.items()}


def _one_fractions(X, paths: dict, width: int, xp):
    """``o[r, p, l]``: does row r satisfy element l of path p (missing values included)."""
    n_paths = paths["lower"].shape[0]
    x = xp.reshape(xp.take(X, paths["feature"], axis=1), (X.shape[0], n_paths, width))
    inside = (x > paths["lower"]) & (x <= paths["upper"])
    return paths["valid"] & (inside | (xp.isnan(x) & paths["missing_ok"]))


def _path_phi(one, z, valid, weights, width: int, xp):
    """φ per element, before the leaf value: (..., P, L) for one fractions ``one``."""
    poly = _product_polynomial(one, z, width, xp)  # (..., P, L+1)
    out_sum = xp.sum(poly * weights, axis=-1)  # Σ_s w(s) c_s, for i ∉ O
    in_sum = _divided_sums(poly, z, weights, width, xp)  # for i ∈ O
    z_off = xp.where(valid & ~one, z, xp.ones_like(poly[..., :width]))  # z of M∖O, else 1
    without_i = _products_without(z_off, width, xp)  # Π_{k∈M∖O, k≠i} z_k
    return xp.where(one, (1 - z) * without_i * in_sum,
                    xp.where(valid, -z * without_i * out_sum[..., None], 0.0))


def _chunk_shap(X, paths: dict, width: int, xp):
    """φ for a chunk of rows: (rows, features, outputs)."""
    n_rows, n_paths = X.shape[0], paths["lower"].shape[0]
    one = _one_fractions(X, paths, width, xp)
    phi = _path_phi(one, paths["z"], paths["valid"], paths["weights"], width, xp)
    flat = xp.reshape(phi, (n_rows, n_paths * width))
    columns = [flat * xp.reshape(xp.broadcast_to(paths["value"][:, k:k + 1], (n_paths, width)),
                                 (1, n_paths * width)) for k in range(paths["value"].shape[1])]
    return xp.stack([c @ paths["onehot"] for c in columns], axis=-1)


def _shared_pattern_shap(X, paths: dict, width: int, n_features: int, row_slices) -> np.ndarray:
    """NumPy fast path: a path's contribution depends on a row only through which of its
    elements the row satisfies, so it is computed once per (path, pattern) that occurs and
    each row sums its paths' entries with one sparse product."""
    from scipy import sparse

    n_paths = paths["lower"].shape[0]
    bits = (1 << np.arange(width)).astype(np.int64)
    offsets = np.arange(n_paths, dtype=np.int64)[None, :] << width
    keys = [(_one_fractions(X[rows], paths, width, np) @ bits) + offsets for rows in row_slices]
    present = np.zeros(n_paths << width, bool)
    for key in keys:
        present[key.ravel()] = True
    found = np.flatnonzero(present)
    lookup = np.zeros(n_paths << width, np.int64)
    lookup[found] = np.arange(len(found))
    path_of = found >> width
    one = ((found[:, None] >> np.arange(width)) & 1).astype(bool) & paths["valid"][path_of]
    phi = _path_phi(one, paths["z"][path_of], paths["valid"][path_of],
                    paths["weights"][path_of], width, np)  # (U, L)
    value = paths["value"][path_of]  # (U, K)
    feature = paths["feature"].reshape(n_paths, width)[path_of]  # (U, L)
    n_out = value.shape[1]
    cell = (np.arange(len(found))[:, None] * n_features + feature)[:, :, None] * n_out + \
        np.arange(n_out)
    table = np.bincount(cell.ravel(), weights=(phi[:, :, None] * value[:, None, :]).ravel(),
                        minlength=len(found) * n_features * n_out)
    table = table.reshape(len(found), n_features * n_out)
    out = []
    for key in keys:
        index = lookup[key]  # (R, P)
        rows = sparse.csr_matrix((np.ones(index.size), index.ravel(),
                                  np.arange(0, index.size + 1, n_paths)),
                                 shape=(len(index), len(found)))
        out.append(np.asarray(rows @ table).reshape(len(index), n_features, n_out))
    return np.concatenate(out, axis=0) if out else np.zeros((0, n_features, n_out))


def _product_polynomial(one, z, width: int, xp):
    """Coefficients (ascending) of Π_{k∈O}(z_k + t) per row and path."""
    shape = (*one.shape[:-1], 1)
    poly = xp.concat([xp.ones(shape, dtype=z.dtype), xp.zeros((*one.shape[:-1], width),
                                                               dtype=z.dtype)], axis=-1)
    for k in range(width):
        shifted = xp.concat([xp.zeros(shape, dtype=z.dtype), poly[..., :-1]], axis=-1)
        grown = poly * z[:, k:k + 1] + shifted
        poly = xp.where(one[..., k:k + 1], grown, poly)
    return poly


def _divided_sums(poly, z, weights, width: int, xp):
    """For each element i: Σ_s w(s) g_s with g = poly / (t + z_i) (synthetic division)."""
    g = xp.zeros((*poly.shape[:-1], width), dtype=poly.dtype)  # g_s for all i, s from the top
    total = xp.zeros_like(g)
    for s in range(width, 0, -1):
        g = poly[..., s:s + 1] - z * g  # g_{s-1}
        total = total + weights[:, s - 1:s] * g
    return total


def _products_without(factors, width: int, xp):
    """Π_{k≠i} factors_k along the last axis, without division (prefix × suffix products)."""
    ones = xp.ones_like(factors[..., :1])
    prefix, suffix = [ones], [ones]
    for k in range(width - 1):
        prefix.append(prefix[-1] * factors[..., k:k + 1])
        suffix.append(suffix[-1] * factors[..., width - 1 - k:width - k])
    return xp.concat(prefix, axis=-1) * xp.concat(suffix[::-1], axis=-1)
