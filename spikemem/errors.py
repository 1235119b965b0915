"""One exception type for every mistake in a model definition or a run request.

Raised before any simulation work starts; the message names the offending
population, projection, variable or parameter.
"""
import sys


class ModelError(ValueError):
    """A network definition or run request that cannot be simulated as given."""


class UnitWarning(UserWarning):
    """A value whose SI magnitude is implausible for its quantity (``tau_refrac=2``
    is 2 s), most likely a number written in ms, mV or nA; filter it with
    ``warnings.filterwarnings("ignore", category=UnitWarning)``."""


def user_stacklevel() -> int:
    """``stacklevel`` for ``warnings.warn`` in the caller of this function that
    points at the first frame outside the spikemem package: the user's line,
    however deep inside spikemem (``Network.build()``, a template) the warning
    is raised. (Python 3.12's ``skip_file_prefixes`` does this; 3.11 lacks it.)"""
    frame, level = sys._getframe(1), 1        # the warning function itself is level 1
    while frame is not None and _in_spikemem(frame):
        frame, level = frame.f_back, level + 1
    return level


def _in_spikemem(frame) -> bool:
    name = frame.f_globals.get("__name__") or ""
    return name == "spikemem" or name.startswith("spikemem.")
