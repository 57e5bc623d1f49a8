"""Progress bars that leave nothing behind in the saved notebook.

``tqdm.auto`` shows an ipywidgets bar in Jupyter; with ``leave=False`` it is hidden once done,
but its output stays in the notebook and, reopened without the kernel, reads "Error displaying
widget: model not found" (or its text fallback in nbconvert). Here the bar is displayed
through a display handle and that output is emptied when the work ends. A bar started while
another is shown takes the same output, and gives it back when it ends, so nested work (the
audit's KernelSHAP) adds no output of its own.

The emptied output of a bar that ended well stays on offer for the rest of the cell:
:func:`display_output` puts the result there, so ``%audit``, ``rai_nb.ui.show(rai_nb.audit(...))``
and a bare ``rai_nb.audit(...)`` ending a cell each leave exactly one output in the cell.
"""

from __future__ import annotations

from contextlib import contextmanager

#: (display handle, widget) of each bar being shown, outermost first; all share one output.
_SHOWN: list = []
#: (cell, display handle) of the emptied outputs of bars that ended well, oldest first.
_LEFT: list = []


@contextmanager
def progress_bar(*, total: int, desc: str, enabled: bool = True):
    """A ``tqdm`` bar for ``total`` steps, removed from the output when the block ends."""
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    if not enabled or not issubclass(tqdm, notebook_tqdm):
        bar = tqdm(total=total, desc=desc, disable=not enabled, leave=False)
        try:
            yield bar
        finally:
            bar.close()
        return
    bar = tqdm(total=total, desc=desc, display=False, leave=False)
    _show(bar.container)
    ended_well = False
    try:
        yield bar
        ended_well = True
    finally:
        bar.close()
        _hide(ended_well)


def _show(widget) -> None:
    """Show ``widget`` in the output of the bar already shown, else in a new output."""
    from IPython.display import display

    if _SHOWN:
        handle = _SHOWN[-1][0]
        handle.update(widget)
    else:
        handle = display(widget, display_id=True)
    _SHOWN.append((handle, widget))


def _hide(ended_well: bool) -> None:
    """Give the output back to the enclosing bar, or empty it (and offer it when the work
    ended well)."""
    handle, _ = _SHOWN.pop()
    if _SHOWN:
        handle.update(_SHOWN[-1][1])
        return
    handle.update({"text/plain": ""}, raw=True)
    if ended_well:
        _LEFT.append((_cell(), handle))


def _cell():
    """The running cell's execution count (constant while a cell runs)."""
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else shell.execution_count


def display_output(data: dict) -> None:
    """Display the mime bundle ``data`` in the oldest output a finished bar emptied in the
    running cell, or in a new output when there is none.

    Outputs left in earlier cells are forgotten: a result shows below the cell that shows it.
    """
    from IPython.display import display

    cell = _cell()
    _LEFT[:] = [left for left in _LEFT if left[0] == cell]
    if _LEFT:
        _LEFT.pop(0)[1].update(data, raw=True)
    else:
        display(data, raw=True)
