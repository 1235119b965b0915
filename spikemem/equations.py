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


# names every neuron model may use besides its own: Brian2's clock, index and
# refractoriness variables, with their dimensions
_IMPLICIT = {"t": "second", "dt": "second", "lastspike": "second", "i": None, "N": None,
             "not_refractory": None, "xi": "xi"}


def check_neuron_model(parsed: ParsedModel, model, where: str, signals: dict | None = None) -> None:
    """Every identifier declared and every unit consistent, in the equations, the
    threshold, the reset and a refractory condition, as Brian2 checks them when a simulation is built;
    raised at ``Network.build()`` so that no backend starts first. ``signals``:
    the network's signal names (``Network.signal``) with their dimensions,
    which any model may read."""
    from brian2 import second
    from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, DEFAULT_UNITS
    from brian2.core.variables import Constant
    from brian2.equations.unitcheck import check_dimensions, check_units_statements
    from brian2.parsing.expressions import parse_expression_dimensions
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions
    from brian2.utils.stringtools import get_identifiers

    def constant(name, dim):
        return Constant(name, value=1.0, dimensions=dim)

    implicit = {"second": second.dim, "xi": second.dim ** -0.5, None: DIMENSIONLESS}
    variables = {name: constant(name, dim) for name, dim in (signals or {}).items()}
    variables.update({name: constant(name, dim) for name, dim in parsed.dims.items()})
    variables.update({name: constant(name, implicit[dim]) for name, dim in _IMPLICIT.items()
                      if name not in variables})
    variables.update({name: constant(name, get_dimensions(value)) for name, value in DEFAULT_UNITS.items()})
    variables.update({name: constant(name, DIMENSIONLESS) for name in DEFAULT_CONSTANTS})
    variables.update(DEFAULT_FUNCTIONS)
    texts = [str(eq.expr) for eq in parsed.equations.values() if eq.expr is not None]
    texts += [model.threshold or "", model.reset or ""]
    unknown = sorted({name for text in texts for name in get_identifiers(text)
                      if name not in variables and not name.startswith("xi_")})
    if unknown:
        raise ModelError(f"{where}: undeclared identifier(s) {unknown} in the equations, threshold or "
                         f"reset; declare them as parameters ('{unknown[0]} : <unit> (constant)') or use "
                         f"a unit such as mV")
    try:
        for name, eq in parsed.equations.items():
            if eq.expr is None:
                continue
            dim = eq.dim / second.dim if eq.type == DIFFERENTIAL_EQUATION else eq.dim
            check_dimensions(str(eq.expr), dim, variables)
        if model.threshold:
            parse_expression_dimensions(model.threshold, variables)
        if model.reset:
            check_units_statements(model.reset, variables)
    except Exception as e:       # brian2's DimensionMismatchError and parse errors
        raise ModelError(f"{where}: {e}") from None
    if isinstance(model.refractory, str):
        check_refractory_condition(model.refractory, variables, where)


def check_refractory_condition(condition: str, variables: dict, where: str) -> None:
    """A refractory condition (``"C > C_Theta"``) names only the model's
    variables, parameters, signals and Brian2's constants, units and functions,
    and is a boolean expression: the neuron is held while it is true."""
    from brian2.parsing.expressions import is_boolean_expression, parse_expression_dimensions
    from brian2.units.fundamentalunits import DIMENSIONLESS
    from brian2.utils.stringtools import get_identifiers

    if not condition.strip():
        raise ModelError(f"{where}: the refractory condition is empty; give a condition such as 'v > v_th' "
                         f"or a duration")
    unknown = sorted(name for name in get_identifiers(condition) if name not in variables)
    if unknown:
        raise ModelError(f"{where}: refractory condition {condition!r} names unknown variable(s) {unknown}; "
                         f"it may read the model's variables and parameters")
    try:
        dim = parse_expression_dimensions(condition, variables)
        boolean = dim is DIMENSIONLESS and is_boolean_expression(condition, variables)
    except Exception as e:       # brian2's DimensionMismatchError and parse errors
        raise ModelError(f"{where}: refractory condition {condition!r}: {e}") from None
    if not boolean:
        raise ModelError(f"{where}: refractory condition {condition!r} is not a boolean expression (give a "
                         f"comparison such as 'C > C_Theta', or a duration as a number or quantity)")
