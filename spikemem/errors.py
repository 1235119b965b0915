"""One exception type for every mistake in a model definition or a run request.

Raised before any simulation work starts; the message names the offending
population, projection, variable or parameter.
"""


class ModelError(ValueError):
    """A network definition or run request that cannot be simulated as given."""


class UnitWarning(UserWarning):
    """A value whose SI magnitude is implausible for its quantity (``tau_refrac=2``
    is 2 s), most likely a number written in ms, mV or nA; filter it with
    ``warnings.filterwarnings("ignore", category=UnitWarning)``."""
