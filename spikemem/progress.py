"""Progress reporting for long work: simulation steps, compilation, experiments, mapping.

By default a bar is shown on an interactive terminal and in a Jupyter notebook
(a widget there, through tqdm's notebook support, where ipywidgets is
installed), never in CI logs, batch jobs and pipes, where the carriage-return
redraws of a bar turn into thousands of junk lines. ``enabled=True`` /
``False`` force it; ``default(False)`` turns every bar inside a block off
(the CLI's ``--no-progress``), and so does ``SPIKEMEM_PROGRESS=0``;
``shown()`` says what applies where it is called.

``progress(total, desc)`` counts steps; ``status(desc)`` is a phase without
steps (compiling a kernel, a mapping tool's run): one line with the elapsed
time, drawn only once the phase has lasted ``delay`` seconds, so a cache hit
shows nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import time

from tqdm import tqdm

ENV = "SPIKEMEM_PROGRESS"
_DEFAULT: contextvars.ContextVar = contextvars.ContextVar("spikemem_progress", default=None)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where no stream is a terminal."""
    ipython = sys.modules.get("IPython")
    if ipython is None:        # never imported: not in IPython at all
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_is_terminal() -> bool:
    # Replaced streams (pytest capture, some IDEs) may lack isatty altogether.
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def shown(explicit: bool | None = None) -> bool:
    """Whether to draw: ``explicit`` if given, else the innermost ``default()``, else
    ``SPIKEMEM_PROGRESS``, else a terminal or a notebook."""
    for choice in (explicit, _DEFAULT.get()):
        if choice is not None:
            return bool(choice)
    env = os.environ.get(ENV, "").strip().lower()
    if env:
        return env not in ("0", "false", "no", "off")
    return _stderr_is_terminal() or in_notebook()


@contextlib.contextmanager
def default(choice: bool | None):
    """Inside the block, bars whose caller gave no choice follow ``choice`` (None: unchanged)."""
    if choice is None:
        yield
        return
    token = _DEFAULT.set(bool(choice))
    try:
        yield
    finally:
        _DEFAULT.reset(token)


def _bar_class():
    """tqdm's notebook widget in a notebook with ipywidgets, else the text bar
    (what ``tqdm.auto`` picks, without its warning where ipywidgets is missing)."""
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm as notebook_bar
            return notebook_bar
        except ImportError:
            pass
    return tqdm


class Progress:
    """Counts steps; draws a tqdm bar with ETA when enabled, otherwise does nothing."""

    def __init__(self, total_steps: int | None, desc: str, enabled: bool | None = None,
                 unit: str = "step", **bar_options) -> None:
        self.enabled = shown(enabled)
        self._bar = (
            _bar_class()(total=None if total_steps is None else int(total_steps), desc=desc, unit=unit,
                         file=sys.stderr, dynamic_ncols=True, **bar_options)
            if self.enabled
            else None
        )

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None  # makes close() idempotent (context manager + explicit call)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def progress(total_steps: int, desc: str, enabled: bool | None = None, unit: str = "step") -> Progress:
    """Return a :class:`Progress` for ``total_steps`` steps (see ``shown`` for the default)."""
    return Progress(total_steps, desc, enabled, unit)


@contextlib.contextmanager
def status(desc: str, enabled: bool | None = None, delay: float = 0.5):
    """A phase without steps: ``desc`` and its elapsed time on one line, redrawn
    twice a second from a helper thread while the block runs (nothing if the
    block ends within ``delay`` seconds)."""
    bar = Progress(None, desc, enabled, bar_format="{desc} {elapsed}", delay=delay)
    if bar._bar is None:
        yield
        return
    done, start = threading.Event(), time.monotonic()

    def tick():
        while not done.wait(0.5):
            if time.monotonic() - start >= delay:     # tqdm's own delay holds only for update()
                bar._bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()
