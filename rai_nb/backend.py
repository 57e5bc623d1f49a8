"""Which array namespace the kernels run on, how data moves between host and device.

This is the one module that knows CuPy exists. Kernels receive an array namespace ``xp``
(NumPy, CuPy or any array-API library such as ``array_api_strict``) and use only the array
API standard plus the named helpers here for what the standard lacks (``bincount``).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType

import array_api_compat
import numpy as np

from .errors import BAD_OPTION, RaiError

_BACKENDS = ("auto", "numpy", "cupy")


@dataclass(frozen=True)
class Config:
    """Process-wide settings; change them with :func:`config` or :func:`config_context`."""

    backend: str = "auto"
    #: ``auto`` moves work to the GPU only from this many rows on; below it the transfer costs more.
    gpu_min_rows: int = 200_000
    #: Kernels that need memory proportional to rows x something process rows in chunks of this size.
    chunk_rows: int = 1_000_000
    #: A sensitive column with more distinct values than this is refused (it is likely an ID).
    max_groups: int = 10_000


_state = threading.local()


def get_config() -> Config:
    """Return the settings in force in this thread."""
    return getattr(_state, "config", None) or _DEFAULT


_DEFAULT = Config()


def config(**changes) -> Config:
    """Change rai_nb's settings for this thread and return the new settings.

    Parameters
    ----------
    backend : {"auto", "numpy", "cupy"}
        Where kernels run. ``auto`` picks CuPy when it imports, a CUDA device is visible and the
        data has at least ``gpu_min_rows`` rows; input already on the GPU stays there.
    gpu_min_rows, chunk_rows, max_groups : int
        See :class:`Config`.

    Examples
    --------
    >>> import rai_nb
    >>> rai_nb.config(backend="numpy").backend
    'numpy'
    >>> _ = rai_nb.config(backend="auto")
    """
    current = get_config()
    unknown = set(changes) - set(current.__dataclass_fields__)
    if unknown:
        raise RaiError(BAD_OPTION.format(argument="config option", allowed=sorted(
            current.__dataclass_fields__), value=sorted(unknown)[0]))
    if "backend" in changes and changes["backend"] not in _BACKENDS:
        raise RaiError(BAD_OPTION.format(argument="backend", allowed=_BACKENDS,
                                         value=changes["backend"]))
    if changes.get("backend") == "cupy" and _cupy() is None:
        raise RaiError("backend='cupy' needs CuPy and a visible CUDA device; neither was found")
    for name in ("gpu_min_rows", "chunk_rows", "max_groups"):
        if name in changes and (not isinstance(changes[name], int) or changes[name] < 1):
            raise RaiError(f"{name} must be a positive integer, got {changes[name]!r}")
    _state.config = replace(current, **changes)
    return _state.config


@contextlib.contextmanager
def config_context(**changes) -> Iterator[Config]:
    """Apply :func:`config` changes inside a ``with`` block only.

    Examples
    --------
    >>> import rai_nb
    >>> with rai_nb.config_context(chunk_rows=1000) as cfg:
    ...     cfg.chunk_rows
    1000
    """
    saved = getattr(_state, "config", None)
    try:
        yield config(**changes)
    finally:
        _state.config = saved


def _cupy() -> ModuleType | None:
    """CuPy if it imports and sees a CUDA device, else None (checked once, lazily)."""
    if not hasattr(_cupy, "cached"):
        try:
            cp = importlib.import_module("cupy")
            _cupy.cached = cp if cp.cuda.runtime.getDeviceCount() > 0 else None
        except Exception:  # any import or driver failure means "no GPU"
            _cupy.cached = None
    return _cupy.cached


def gpu_available() -> bool:
    """True when CuPy imports and a CUDA device is visible."""
    return _cupy() is not None


def namespace(*arrays, xp: ModuleType | None = None) -> ModuleType:
    """The array-API namespace of ``arrays`` (or ``xp`` when the caller already knows it)."""
    if xp is not None:
        return xp
    return array_api_compat.array_namespace(*[a for a in arrays if a is not None])


def choose_namespace(n_rows: int, *, on_device: bool = False) -> ModuleType:
    """The namespace new work of ``n_rows`` rows should run on under the current config."""
    backend = get_config().backend
    use_gpu = backend == "cupy" or (
        backend == "auto" and gpu_available() and (on_device or n_rows >= get_config().gpu_min_rows)
    )
    if use_gpu:
        return array_api_compat.array_namespace(_cupy().empty(0))
    return array_api_compat.array_namespace(np.empty(0))


def is_on_device(obj) -> bool:
    """True for a CuPy array (checked without importing CuPy)."""
    return array_api_compat.is_cupy_array(obj)


def to_device(array, xp: ModuleType):
    """Move a host (NumPy) array into namespace ``xp``."""
    if array_api_compat.is_numpy_namespace(xp):
        return np.asarray(array)
    return xp.asarray(array)


def to_host(array) -> np.ndarray:
    """Bring any array back to a NumPy array; the only way device data reaches the host."""
    if isinstance(array, np.ndarray):
        return array
    if array_api_compat.is_cupy_array(array):
        return array.get()
    return np.asarray(array)


def bincount(x, *, minlength: int, weights=None, xp: ModuleType | None = None):
    """Counts (or sums of ``weights``) of each integer in ``x``, length exactly ``minlength``.

    ``x`` holds non-negative integers below ``minlength``. NumPy and CuPy use their native
    ``bincount``; any other array-API namespace uses a sort + ``searchsorted`` formulation.
    """
    xp = namespace(x, xp=xp)
    if array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        native = np if array_api_compat.is_numpy_namespace(xp) else _cupy()
        out = native.bincount(x, weights=weights, minlength=minlength)
        return out if weights is not None else out.astype(native.int64, copy=False)
    return _portable_bincount(x, minlength, weights, xp)


def _portable_bincount(x, minlength, weights, xp):
    edges = xp.arange(minlength + 1, dtype=x.dtype)
    if weights is None:
        positions = xp.searchsorted(xp.sort(x), edges)
        return xp.astype(positions[1:] - positions[:-1], xp.int64)
    order = xp.argsort(x)
    positions = xp.searchsorted(xp.take(x, order), edges)
    running = xp.concat([xp.zeros(1, dtype=weights.dtype),
                         xp.cumulative_sum(xp.take(weights, order))])
    totals = xp.take(running, positions)
    return totals[1:] - totals[:-1]


def row_chunks(n_rows: int, chunk_rows: int | None = None) -> Iterator[slice]:
    """Slices that cover ``range(n_rows)`` in pieces of at most ``chunk_rows`` rows."""
    step = chunk_rows or get_config().chunk_rows
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
