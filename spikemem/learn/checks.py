"""Checks of the learning layer's scalar arguments, worded alike everywhere:
whole numbers (Python or numpy integers, never bools), finite real numbers,
and seeds (whole numbers >= 0). Numpy only."""
from __future__ import annotations

import numpy as np

from ..errors import ModelError


def is_whole(x) -> bool:
    """``x`` is a Python or numpy integer (a bool is not)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def is_number(x) -> bool:
    """``x`` is a finite real number (a bool is not)."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and bool(np.isfinite(x))


def whole(value, what: str, low: int = 1, *, none: bool = False) -> int | None:
    """``value`` as an int, refused unless a whole number >= ``low`` (or None,
    where ``none``); ``what`` names it in the message ("Trainer: epochs")."""
    if none and value is None:
        return None
    if not is_whole(value) or value < low:
        raise ModelError(f"{what} must be {'None or ' if none else ''}a whole number >= {low}, got {value!r}")
    return int(value)


def seed(value, where: str) -> int:
    """``value`` as an int, refused unless a whole number >= 0."""
    return whole(value, f"{where}: seed", 0)
