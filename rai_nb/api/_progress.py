"""Progress bars that leave nothing behind in the saved notebook.

``tqdm.auto`` shows an ipywidgets bar in Jupyter; with ``leave=False`` it is hidden once done,
but its output stays in the notebook and, reopened without the kernel, reads "Error displaying
widget: model not found" (or its text fallback in nbconvert). Here the bar is displayed
through a display handle and that output is emptied when the work ends.
"""

from __future__ import annotations

from contextlib import contextmanager


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
    from IPython.display import display

    bar = tqdm(total=total, desc=desc, display=False, leave=False)
    handle = display(bar.container, display_id=True)
    try:
        yield bar
    finally:
        bar.close()
        if handle is not None:
            handle.update({"text/plain": ""}, raw=True)
