"""Progress reporting for long simulations.

A bar is shown only on an interactive terminal: in CI logs, batch jobs and pipes the
carriage-return redraws of a progress bar turn into thousands of junk lines.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """Counts simulation steps; draws a tqdm bar with ETA when enabled, otherwise does nothing."""

    def __init__(self, total_steps: int, desc: str, enabled: bool | None = None) -> None:
        if enabled is None:
            # Replaced streams (pytest capture, some IDEs) may lack isatty altogether.
            isatty = getattr(sys.stderr, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._bar = (
            tqdm(total=int(total_steps), desc=desc, unit="step", file=sys.stderr, dynamic_ncols=True)
            if enabled
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


def progress(total_steps: int, desc: str, enabled: bool | None = None) -> Progress:
    """Return a :class:`Progress` for ``total_steps`` steps.

    ``enabled=None`` shows the bar only if ``sys.stderr`` is a terminal; ``True`` or
    ``False`` force it on or off.
    """
    return Progress(total_steps, desc, enabled)
