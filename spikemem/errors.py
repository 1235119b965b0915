"""One exception type for every mistake in a model definition or a run request.

Raised before any simulation work starts; the message names the offending
population, projection, variable or parameter.
"""


class ModelError(ValueError):
    """A network definition or run request that cannot be simulated as given."""
