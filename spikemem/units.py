"""Unit convention.

Every number in a spikemem definition is in SI base units: seconds, volts,
amperes, siemens, farads, hertz. A brian2 quantity (``5*ms``) is accepted
wherever a number is, and is converted to SI; a quantity whose dimension does
not match the one expected is an error naming the parameter.
"""
from __future__ import annotations

import numpy as np
from brian2.units.fundamentalunits import Quantity, get_dimensions, DIMENSIONLESS

from .errors import ModelError


def to_si(value, where: str, dim=None):
    """Return ``value`` as a float or float64 array in SI units.

    ``dim`` is the brian2 dimension expected (None: any). ``where`` names the
    thing for error messages, e.g. "population 'exc' parameter 'tau_m'".
    """
    if isinstance(value, Quantity):
        if dim is not None and get_dimensions(value) is not dim and value.dim != dim:
            raise ModelError(f"{where}: expected a value in units of {_dim_name(dim)}, "
                             f"got {value!r}")
        value = np.asarray(value, dtype=float)
    elif isinstance(value, (bool, np.bool_)):
        raise ModelError(f"{where}: expected a number, got {value!r}")
    else:
        try:
            value = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ModelError(f"{where}: expected a number or array, got {value!r}") from None
    if not np.all(np.isfinite(value)):
        raise ModelError(f"{where}: value must be finite, got {value!r}")
    return float(value) if value.ndim == 0 else value


def _dim_name(dim) -> str:
    return "1 (dimensionless)" if dim is DIMENSIONLESS else str(dim)


def plain(value):
    """A brian2 quantity as a plain SI float / array (for files); other values unchanged."""
    if isinstance(value, Quantity):
        value = np.asarray(value, dtype=float)
        return float(value) if value.ndim == 0 else value
    return value
