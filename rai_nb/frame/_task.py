"""What kind of target an audit has (binary, multiclass, regression), and its encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import BAD_OPTION, NAN_VALUES, NEED_POSITIVE, ONE_CLASS, UNKNOWN_POSITIVE, RaiError

TASKS = ("binary", "multiclass", "regression")

#: Whole-number targets with at most this many distinct values are read as class codes.
MAX_INFERRED_CODES = 10
#: More distinct classes than this are not inferred as a multiclass target.
MAX_CLASSES = 50


@dataclass(frozen=True)
class EncodedTarget:
    """Target values ready for the kernels.

    ``values`` are 0/1 (int8) for ``binary``, class codes into ``classes`` (int64) for
    ``multiclass`` and float64 for ``regression``.
    """

    task: str
    inferred: bool
    name: object
    values: np.ndarray
    classes: tuple
    positive_label: object


def check_task(task) -> None:
    """RaiError unless ``task`` is None or one of :data:`TASKS`."""
    if task is not None and task not in TASKS:
        raise RaiError(BAD_OPTION.format(argument="task", allowed=TASKS, value=task))


def resolve_task(data, target, task=None, positive_label=None) -> str:
    """``task`` checked, or the task of ``data``'s ``target`` column (pandas, or a partitioned
    frame: only its distinct values are read), see :func:`infer_task`."""
    from ..engine import distinct_values, is_partitioned, partitioned, require_column_names
    from ._columns import column_values

    check_task(task)
    if task is not None:
        return task
    if is_partitioned(data):
        data = partitioned(data)
        require_column_names(data, target=target)
        values = pd.Series(distinct_values(data, [target])[0])
    else:
        values = column_values(data, target, argument="target")[1]
    return infer_task(target, values, positive_label)


def infer_task(name, values: pd.Series, positive_label=None) -> str:
    """The task a target column implies; RaiError (saying what was seen) when none fits.

    A favourable ``positive_label`` or two distinct values mean ``binary``; numbers with
    fractional parts, or more than :data:`MAX_CLASSES` distinct whole numbers, mean
    ``regression``; 3 to :data:`MAX_INFERRED_CODES` whole numbers, or 3 to :data:`MAX_CLASSES`
    labels that are not numbers, mean ``multiclass``. ``values`` may be the distinct values only.
    """
    if positive_label is not None or pd.api.types.is_bool_dtype(values.dtype):
        return "binary"
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    present = values.dropna()
    if numeric:
        array = present.to_numpy(dtype=np.float64)
        finite = array[np.isfinite(array)]
        if np.any(finite != np.floor(finite)):
            return "regression"
    distinct = pd.unique(present)
    if len(distinct) <= 2:
        return "binary"
    if numeric and len(distinct) > MAX_CLASSES:
        return "regression"
    if len(distinct) <= (MAX_INFERRED_CODES if numeric else MAX_CLASSES):
        return "multiclass"
    kind = "whole numbers" if numeric else "labels"
    hint = ("task='regression' if it is a quantity or task='multiclass' if they are class codes"
            if numeric else "task='multiclass' to audit every class")
    raise RaiError(f"target ({name!r}) has {len(distinct)} distinct {kind}; pass {hint}")


def encode_target(name, values: pd.Series, *, task, positive_label, classes=None,
                  require_all: bool = True) -> EncodedTarget:
    """Validate and encode a target column for ``task`` (None: inferred, see :func:`infer_task`).

    ``classes`` fixes the multiclass labels (known over a whole data set split in
    partitions); ``require_all=False`` skips the checks that need the whole data set (two
    classes present, the positive label present).
    """
    check_task(task)
    inferred = task is None
    task = infer_task(name, values, positive_label) if inferred else task
    if positive_label is not None and task != "binary":
        raise RaiError(f"positive_label applies to binary targets; target ({name!r}) is audited "
                       f"as {task} — leave positive_label out or pass task='binary'")
    if task == "regression":
        return EncodedTarget(task, inferred, name, regression_values(name, values, "target"),
                             (), None)
    if task == "multiclass":
        codes, classes = class_codes(name, values, classes, argument="target")
        if require_all and np.all(codes == codes[0]):
            raise RaiError(ONE_CLASS.format(argument="target", column=name,
                                            value=classes[codes[0]]))
        return EncodedTarget(task, inferred, name, codes, classes, None)
    labels, positive = encode_binary(name, values, positive_label, argument="target",
                                     require_positive=require_all)
    if require_all and labels.min() == labels.max():
        raise RaiError(ONE_CLASS.format(argument="target", column=name,
                                        value=positive if labels[0] else "not " + repr(positive)))
    return EncodedTarget(task, inferred, name, labels, (), positive)


def regression_values(name, values: pd.Series, argument: str) -> np.ndarray:
    """float64 values of a numeric column; RaiError for text, NaN or infinities."""
    if not (pd.api.types.is_numeric_dtype(values.dtype)
            and not pd.api.types.is_bool_dtype(values.dtype)):
        raise RaiError(f"{argument} ({name!r}) holds {values.dtype} values; a regression "
                       "needs numbers (pass task='binary' or task='multiclass' for labels)")
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(array)
    if bad.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(bad.sum())))
    return array


def class_codes(name, values: pd.Series, classes, *, argument: str) -> tuple[np.ndarray, tuple]:
    """Codes of ``values`` among ``classes`` (default: the sorted distinct values)."""
    from ._columns import codes_among, require_hashable

    if values.isna().any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name,
                                         count=int(values.isna().sum())))
    if classes is None:
        require_hashable(name, values, argument)
        try:
            codes, distinct = pd.factorize(values, sort=True)
        except TypeError:  # mixed types that do not sort: first-seen order
            codes, distinct = pd.factorize(values, sort=False)
        return codes.astype(np.int64, copy=False), tuple(distinct.tolist())
    codes = codes_among(values, classes)
    if (codes < 0).any():
        unknown = sorted(map(str, pd.unique(values[codes < 0])))[:5]
        raise RaiError(f"{argument} ({name!r}) has classes {unknown} that never occur in the "
                       "target; pass predicted classes, not scores")
    return codes, tuple(classes)


def encode_binary(name, values: pd.Series, positive_label, *, argument: str,
                  require_positive: bool = True):
    """0/1 array of ``values == positive_label`` (or membership when a list is given).

    Without ``positive_label`` the values must be 0/1, -1/1 or booleans and 1/True is positive.
    Returns the array (int8) and the positive label(s) used.
    """
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        missing = missing | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if missing.any():
        raise RaiError(NAN_VALUES.format(argument=argument, column=name, count=int(missing.sum())))
    if positive_label is None:
        if not is_implicit_binary(values):
            raise RaiError(NEED_POSITIVE.format(column=name, values=_some_values(values)))
        return (values.to_numpy() == 1).astype(np.int8), 1
    positives = list(positive_label) if isinstance(positive_label, (list, tuple, set)) else [positive_label]
    hits = values.isin(positives).to_numpy()
    if require_positive and argument == "target" and not hits.any():
        raise RaiError(UNKNOWN_POSITIVE.format(value=positive_label, column=name,
                                               values=_some_values(values)))
    return hits.astype(np.int8), positive_label


def is_implicit_binary(values: pd.Series) -> bool:
    """True when every value is 0/1, every value is -1/1, or the dtype is boolean."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if not pd.api.types.is_numeric_dtype(values.dtype):
        return False
    array = values.to_numpy()
    is_one = array == 1
    return bool(np.all(is_one | (array == 0)) or np.all(is_one | (array == -1)))


def _some_values(values: pd.Series) -> list[str]:
    return sorted(map(str, pd.unique(values)))[:10]
