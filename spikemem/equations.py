"""Reading a neuron model's equations with Brian2's own parser.

spikemem writes no equation parser: ``brian2.Equations`` parses and checks the
strings; this module only sorts the names it finds into state variables and
parameters and checks that every parameter gets a value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import Equations
from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER

from .errors import ModelError
from .units import InWeightUnits, check_magnitude, to_si


@dataclass
class ParsedModel:
    equations: Equations
    dims: dict            # every variable and parameter -> brian2 dimension
    state: list           # integrated variables and non-constant parameters (per neuron)
    constants: list       # "(constant)" parameters
    unless_refractory: set


def parse(model, where: str) -> ParsedModel:
    try:
        eqs = Equations(model.equations)
    except Exception as e:  # brian2 raises several types for malformed strings
        raise ModelError(f"{where}: cannot parse equations: {e}") from None
    dims = {name: eq.dim for name, eq in eqs.items()}
    state, constants = [], []
    for name, eq in eqs.items():
        if eq.type == DIFFERENTIAL_EQUATION or (eq.type == PARAMETER and "constant" not in eq.flags):
            state.append(name)
        elif eq.type == PARAMETER:
            constants.append(name)
    unless = {name for name, eq in eqs.items() if "unless refractory" in eq.flags}
    return ParsedModel(eqs, dims, state, constants, unless)


def resolve_params(parsed: ParsedModel, model, overrides: dict, n: int, where: str) -> dict:
    """Parameter name -> float (shared) or array of n (per neuron), in SI;
    a ``UnitWarning`` for a magnitude implausible for the parameter's unit."""
    values = {**model.params, **overrides}
    declared = set(parsed.constants) | {k for k in parsed.state
                                        if parsed.equations[k].type == PARAMETER}
    unknown = sorted(set(values) - declared)
    if unknown:
        raise ModelError(f"{where}: unknown parameter(s) {unknown}; the equations declare {sorted(declared)}")
    missing = sorted(set(parsed.constants) - set(values))
    if missing:
        raise ModelError(f"{where}: missing parameter(s) {missing}")
    out = {}
    for name, v in values.items():
        at, written = f"{where} parameter '{name}'", v
        if isinstance(v, InWeightUnits):
            v = v.si(parsed.dims[name], at)
        v = to_si(v, at, parsed.dims[name])
        check_magnitude(v, at, parsed.dims[name], written)
        if np.ndim(v) and np.size(v) != n:
            raise ModelError(f"{where} parameter '{name}': expected a scalar or {n} values, "
                             f"got shape {np.shape(v)}")
        out[name] = v
    return out
