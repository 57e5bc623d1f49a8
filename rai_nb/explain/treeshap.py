"""Exact path-dependent TreeSHAP values and interaction values of a :class:`Forest`.

The paths come from :func:`decompose` (one element per feature of a path); the per-row work is
a compiled kernel, :mod:`._treeshap_cpu` (numba, rows in parallel). The method and its formulas
are described there.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from array_api_compat import is_cupy_namespace

from ..backend import choose_namespace, get_config
from ..errors import BAD_OPTION, RaiError
from ._forest import Forest
from ._paths import Paths, decompose


@lru_cache(maxsize=8)
def legendre_rules(max_elements: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [0, 1]: row ``m`` (of shape (max + 1, ⌈max/2⌉),
    zero-padded) holds the ⌈m/2⌉ points that integrate a polynomial of degree m − 1 exactly."""
    width = max(1, (max_elements + 1) // 2)
    nodes, weights = np.zeros((max_elements + 1, width)), np.zeros((max_elements + 1, width))
    for m in range(1, max_elements + 1):
        x, w = np.polynomial.legendre.leggauss((m + 1) // 2)
        nodes[m, :len(x)], weights[m, :len(w)] = (x + 1) / 2, w / 2
    return nodes, weights


@lru_cache(maxsize=8)
def jacobi_rules(max_elements: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Jacobi rules for ``∫₀¹ (1−t)^a f(t) dt``: ``[a, n]`` holds the ``n`` nodes and
    weights (zero-padded) exact for polynomials ``f`` of degree < 2n, for a ≤ max_elements and
    n ≤ ⌈(max_elements + 1)/2⌉; shapes (max + 1, n_max + 1, n_max)."""
    from scipy.special import roots_jacobi

    width = max(1, (max_elements + 2) // 2)
    nodes = np.zeros((max_elements + 1, width + 1, width))
    weights = np.zeros_like(nodes)
    for a in range(max_elements + 1):
        for n in range(1, width + 1):
            x, w = roots_jacobi(n, a, 0)  # weight (1 − x)^a on [−1, 1]
            nodes[a, n, :n], weights[a, n, :n] = (x + 1) / 2, w / 2.0 ** (a + 1)
    return nodes, weights


def tree_shap(forest: Forest, X: np.ndarray, *, interactions: bool = False,
              paths: Paths | None = None, device: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """SHAP values of ``forest`` on the rows ``X`` and its expected value.

    Parameters
    ----------
    forest : Forest
    X : ndarray of shape (rows, forest.n_features)
        Float inputs, NaN for missing; category codes for categorical splits.
    interactions : bool, default False
        Return SHAP interaction values instead.
    paths : Paths, optional
        ``decompose(forest)``, when the caller already has it.
    device : {"auto", "cpu", "cuda"}
        Where the kernel runs; ``"auto"`` follows :func:`rai_nb.config` (the GPU for large
        work when CuPy sees a device). Interaction values are computed on the CPU.

    Returns
    -------
    values : ndarray
        (rows, features, outputs), or (rows, features, features, outputs) with interactions;
        additive: ``base + values.sum(axis=1)`` equals the forest's raw output (and summing the
        interactions over their last feature axis gives the SHAP values).
    base : ndarray of shape (outputs,)
    """
    import numba

    from . import _treeshap_cpu

    paths = decompose(forest) if paths is None else paths
    X = np.asarray(X, dtype=np.float64)
    if forest.float32:
        X = X.astype(np.float32).astype(np.float64)
    longest = int(paths.size.max(initial=0))
    if not interactions and _on_gpu(device, len(X) * len(paths.value)):
        return _cuda_shap(forest, paths, X, longest), forest.base + paths.expected_value()
    shape = (forest.n_features,) * (2 if interactions else 1)
    n_blocks = numba.get_num_threads()  # blocks of paths, each with its own output
    step = max(1, min(get_config().chunk_rows, _DECISIONS // max(1, len(forest.left)),
                      _OUTPUT // (n_blocks * int(np.prod(shape)) * forest.n_outputs)))
    chunks = []
    for start in range(0, len(X), step):
        decision = _decisions(forest, X[start:start + step])
        out = np.zeros((n_blocks, decision.shape[1], *shape, forest.n_outputs))
        reuse = int(np.log2(max(4 * decision.shape[1], 1)))  # patterns ≤ 4 × rows
        if interactions:
            _treeshap_cpu.shap_interactions(decision, *_path_arrays(paths),
                                            *legendre_rules(longest),
                                            min(_CACHE_ELEMENTS_INTERACTIONS, reuse), out)
        else:
            _treeshap_cpu.shap_values(decision, *_path_arrays(paths), *jacobi_rules(longest),
                                      min(_CACHE_ELEMENTS, reuse), out)
        chunks.append(out.sum(axis=0))
    values = np.concatenate(chunks) if chunks else np.zeros((0, *shape, forest.n_outputs))
    return values, forest.base + paths.expected_value()


#: Bounds per chunk of rows: node decisions (bytes) and per-block outputs (float64 entries);
#: longest path whose φ is reused per pattern of followed elements.
_DECISIONS = 1 << 27
_OUTPUT = 1 << 25
_CACHE_ELEMENTS = 16
_CACHE_ELEMENTS_INTERACTIONS = 12


#: Row × path pairs of TreeSHAP that weigh like one row of a counting kernel, for ``auto``'s
#: ``gpu_min_rows`` threshold.
_PAIRS_PER_ROW = 100


def _on_gpu(device: str, pairs: int) -> bool:
    if device not in ("auto", "cpu", "cuda"):
        raise RaiError(BAD_OPTION.format(argument="device", allowed=("auto", "cpu", "cuda"),
                                         value=device))
    if device == "auto":
        return is_cupy_namespace(choose_namespace(pairs // _PAIRS_PER_ROW))
    return device == "cuda"


def _cuda_shap(forest: Forest, paths: Paths, X: np.ndarray, longest: int) -> np.ndarray:
    """SHAP values on the GPU, in chunks of rows that bound the device's decision table."""
    try:
        from . import _treeshap_cuda
    except Exception as error:  # numba's CUDA target or toolkit missing
        raise RaiError("TreeSHAP on the GPU needs numba's CUDA target: pip install "
                       f"'rai_nb[gpu]' ({type(error).__name__}: {error})") from error
    if longest > _treeshap_cuda.MAX_ELEMENTS:
        raise RaiError(f"a path of this forest splits on {longest} distinct features, more than "
                       f"the GPU kernel's {_treeshap_cuda.MAX_ELEMENTS}; use "
                       "rai_nb.config(backend='numpy')")
    step = max(1, _DECISIONS // max(1, len(forest.left)))
    return np.concatenate([
        _treeshap_cuda.shap_values(_node_arrays(forest), _path_arrays(paths),
                                   jacobi_rules(longest), X[start:start + step],
                                   forest.n_features)
        for start in range(0, len(X), step)]) if len(X) else np.zeros(
            (0, forest.n_features, forest.n_outputs))


def _decisions(forest: Forest, rows: np.ndarray) -> np.ndarray:
    """``decision[node, r]``: does row r go left at the node (nodes × rows)."""
    from . import _treeshap_cpu

    features_by_rows = np.ascontiguousarray(rows.T)
    decision = np.zeros((len(forest.left), rows.shape[0]), bool)
    _treeshap_cpu.decide_all(features_by_rows, *_node_arrays(forest), decision)
    return decision


def _node_arrays(forest: Forest) -> tuple:
    return (forest.left, np.maximum(forest.feature, 0), forest.threshold, forest.default_left,
            forest.category_set, forest.left_categories, forest.known_categories)


def _path_arrays(paths: Paths) -> tuple:
    return (paths.element_start, paths.element_feature, paths.zero_fraction, paths.split_start,
            paths.split_node, paths.split_left, np.ascontiguousarray(paths.value))
