"""Unit convention.

Every number in a spikemem definition is in SI base units: seconds, volts,
amperes, siemens, farads, hertz. A brian2 quantity (``5*ms``) is accepted
wherever a number is, and is converted to SI; a quantity whose dimension does
not match the one expected is an error naming the parameter. Lists of
quantities keep their unit (``[5*ms, 20*ms]``); mixing units in one list is an
error.

A bare number written in PyNN's or Brian2's habitual unit (``tau_refrac=2``
meaning 2 ms) is 2 s here. Bare numbers at or beyond these SI magnitudes
raise a ``UnitWarning`` naming the parameter and the value it probably meant
(a value written with a unit, ``4000*ms``, means what it says):

===========  ==============================================  =========  ========
dimension    role                                            warns at   meant
===========  ==============================================  =========  ========
second       time constants, refractory periods, delays      >= 1 s     ms
second       the network's time step ``dt``                  >= 10 ms   ms
volt         potentials (``v_thresh``, ``v_rest``, init v)   > 1 V      mV
ampere       currents and current weights                    > 1 uA     nA
siemens      conductances and conductance weights            > 1 mS     uS
farad        capacitances (``cm``)                           > 1 uF     nF
===========  ==============================================  =========  ========

Spike and input times are not checked (runs can be long).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from brian2.units.fundamentalunits import (DIMENSIONLESS, DimensionMismatchError, Quantity,
                                           get_dimensions, get_unit)
from brian2 import amp, farad, second, siemens, volt

from .errors import ModelError, UnitWarning, user_stacklevel

#: SI unit symbol -> (unit shown, factor): the readable units that describe() and
#: the figures both use, PyNN's where it has one (capacitance in nF)
DISPLAY = {"V": ("mV", 1e3), "A": ("nA", 1e9), "S": ("nS", 1e9), "s": ("ms", 1e3), "F": ("nF", 1e9),
           "ohm": ("Mohm", 1e-6)}


def display_unit(unit: str) -> tuple[str, float]:
    """The unit a value stored in SI ``unit`` is shown in, and the factor to it."""
    return DISPLAY.get(unit, (unit, 1.0))


#: dimension -> (SI magnitude from which a value is implausible, SI unit symbol,
#: the unit it was probably meant in); see the table above
PLAUSIBLE = {second.dim: (1.0, "s", "ms"), volt.dim: (1.0, "V", "mV"), amp.dim: (1e-6, "A", "nA"),
             siemens.dim: (1e-3, "S", "uS"), farad.dim: (1e-6, "F", "nF")}

#: a time step at or beyond this is implausible (0.1 meant as ms is 0.1 s)
PLAUSIBLE_DT = 1e-2

#: an implausible value at least this large looks like a number written in ms,
#: mV, nA, ... (the warning then suggests that unit)
HABITUAL = 1e-3


def to_si(value, where: str, dim=None):
    """Return ``value`` as a float or float64 array in SI units.

    ``dim`` is the brian2 dimension expected (None: any). ``where`` names the
    thing for error messages, e.g. "population 'exc' parameter 'tau_m'".
    """
    if isinstance(value, (list, tuple)):
        value = keep_units(value, where)
    if isinstance(value, Quantity):
        if dim is not None and get_dimensions(value) is not dim and value.dim != dim:
            raise ModelError(f"{where}: expected a value in units of {dim_name(dim)}, "
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


def keep_units(values, where: str):
    """A (nested) list holding quantities as one Quantity, so its unit is checked."""
    if not any(isinstance(v, Quantity) for v in np.ravel(np.asarray(values, dtype=object))):
        return values
    try:
        return Quantity(values)
    except (DimensionMismatchError, TypeError, ValueError):
        raise ModelError(f"{where}: one unit for all values, got {values!r}") from None


def dim_name(dim) -> str:
    """A dimension as its unit's symbol (V, A, S/s), or "1 (dimensionless)"."""
    return "1 (dimensionless)" if dim is DIMENSIONLESS else str(get_unit(dim))


def dim_of(value):
    """The brian2 dimension of a quantity; None for a bare number."""
    return get_dimensions(value) if isinstance(value, Quantity) else None


def has_unit(value) -> bool:
    """Whether ``value`` was written with a unit: a quantity, a list holding
    quantities, a distribution in units, or a template's ``InWeightUnits``."""
    if isinstance(value, (Quantity, InWeightUnits)):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_unit(v) for v in value)
    return getattr(value, "dim", None) is not None and not isinstance(value, np.ndarray)


def check_magnitude(value, where: str, dim, written=None, limit: float | None = None):
    """Warn (``UnitWarning``) when the SI ``value`` (a number or array) of
    dimension ``dim`` is implausible for it (see the module table; ``limit``
    overrides its magnitude) and was ``written`` as a bare number: a value
    written with its unit (``4000*ms``) means what it says."""
    if dim not in PLAUSIBLE or has_unit(written):
        return
    at, symbol, meant = PLAUSIBLE[dim]
    at = at if limit is None else limit
    v = np.asarray(value, dtype=float)
    if not v.size:
        return
    worst = float(v.flat[np.argmax(np.abs(v))])
    if abs(worst) > at or (dim is second.dim and abs(worst) >= at):
        # a number like 2 or -50 was probably written in the habitual unit; 2e-6 A was not
        hint = f"did you mean {worst:g}*{meant}? " if abs(worst) >= HABITUAL else ""
        warnings.warn(f"{where} = {worst:g} {symbol}, implausibly large; {hint}(bare numbers are SI)",
                      UnitWarning, stacklevel=user_stacklevel())


@dataclass(frozen=True)
class InWeightUnits:
    """A template's default in PyNN's unit of the projection's weight: nA for a
    current, uS for a conductance, 1 for a dimensionless weight (PyNN's
    ``AdditiveWeightDependence(w_max=1)`` is 1 nA on a current synapse)."""
    value: float

    #: weight dimension -> SI size of PyNN's unit
    SCALE = {amp.dim: 1e-9, siemens.dim: 1e-6, DIMENSIONLESS: 1.0}

    def si(self, dim, where: str) -> float:
        if dim not in self.SCALE:
            raise ModelError(f"{where}: its default ({self.value:g}) is in PyNN's weight units (nA, uS), "
                             f"which have none for a weight in {dim_name(dim)}: give it with its unit")
        return self.value * self.SCALE[dim]


def plain(value):
    """A brian2 quantity as a plain SI float / array (for files); other values unchanged."""
    if isinstance(value, Quantity):
        value = np.asarray(value, dtype=float)
        return float(value) if value.ndim == 0 else value
    return value
