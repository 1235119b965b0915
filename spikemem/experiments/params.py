"""Declared parameters of an experiment: defaults, units, checks and parsing from text.

An experiment's parameters are its function's keyword arguments with defaults
(``tau_m=20*ms``): the default's unit declares the parameter's dimension, its
type the kind of value (whole number, number, flag, text). ``Param`` adds a
description or a list of allowed values. Values written on a command line
(``tau_m=10ms,20ms``) are parsed here too, as are seed ranges (``0-9``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from brian2.units import allunits, stdunits
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_unit

from ..errors import ModelError
from ..units import dim_name, to_si


@dataclass(frozen=True)
class Param:
    """A declared parameter: its default, what it means, the values allowed (None: any)."""

    default: object
    doc: str = ""
    choices: tuple | None = None

    @property
    def dim(self):
        return self.default.dim if isinstance(self.default, Quantity) else DIMENSIONLESS

    @property
    def unit(self) -> str:
        """The SI unit values are stored in ("" for plain numbers)."""
        return "" if self.dim is DIMENSIONLESS else str(get_unit(self.dim))

    def kind(self) -> type:
        d = self.default
        if isinstance(d, Quantity):
            return Quantity
        for kind in (bool, int, float, str):      # bool before int: True is an int too
            if isinstance(d, kind) or (kind is int and isinstance(d, np.integer)) or (
                    kind is float and isinstance(d, np.floating)):
                return kind
        raise ModelError(f"parameter default {d!r} is not a number, quantity, flag or text")

    def check(self, value, where: str):
        """``value`` as this parameter holds it (a quantity keeps its unit), or a ModelError naming ``where``."""
        kind = self.kind()
        if kind is Quantity:
            si = to_si(value, where, self.dim)          # refuses a wrong unit
            if np.ndim(si) != 0:
                raise ModelError(f"{where}: expected one value, got {value!r}")
            value = Quantity(float(si), dim=self.dim)
        elif kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ModelError(f"{where}: expected True or False, got {value!r}")
            value = bool(value)
        elif kind is int:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise ModelError(f"{where}: expected a whole number, got {value!r}")
            value = int(value)
        elif kind is float:
            if isinstance(value, Quantity) and value.dim is not DIMENSIONLESS:
                raise ModelError(f"{where}: expected a plain number, got {value!r}")
            if isinstance(value, (bool, np.bool_, str)):
                raise ModelError(f"{where}: expected a number, got {value!r}")
            value = float(value)
        elif not isinstance(value, str):
            raise ModelError(f"{where}: expected text, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ModelError(f"{where}: {value!r} is not one of {list(self.choices)}")
        return value

    def si(self, value):
        """``value`` as a plain JSON number or text (quantities in SI)."""
        return float(value) if isinstance(value, Quantity) else value

    def from_si(self, value):
        """The inverse of ``si``: a quantity again where the parameter has a unit."""
        return Quantity(value, dim=self.dim) if self.kind() is Quantity else value

    def parse(self, text: str, where: str):
        """A value written as text (``10ms``, ``-0.9 mV``, ``1000``, ``true``)."""
        kind = self.kind()
        text = text.strip()
        if kind is str:
            return self.check(text, where)
        if kind is bool:
            words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
            if text.lower() not in words:
                raise ModelError(f"{where}: expected true or false, got '{text}'")
            return words[text.lower()]
        match = NUMBER.fullmatch(text)
        if match is None:
            raise ModelError(f"{where}: cannot read '{text}' as a number"
                             + (f" with a unit of {dim_name(self.dim)}" if kind is Quantity else ""))
        number, unit = match.group("number"), match.group("unit")
        if unit:
            u = allunits.second if unit == "s" else getattr(allunits, unit, None) or getattr(stdunits, unit, None)
            if not isinstance(u, Quantity):
                raise ModelError(f"{where}: unknown unit '{unit}' in '{text}'")
            return self.check(float(number) * u, where)
        if kind is Quantity:
            raise ModelError(f"{where}: '{text}' has no unit; write it with one, e.g. '{number}{self._example()}'")
        if kind is int:
            try:
                return self.check(int(number), where)
            except ValueError:
                raise ModelError(f"{where}: expected a whole number, got '{text}'") from None
        return self.check(float(number), where)

    def _example(self) -> str:
        return str(self.default.get_best_unit())


#: a number, then optionally a unit name (``10ms``, ``-0.9 mV``, ``2e-3*second``)
NUMBER = re.compile(r"(?P<number>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*\*?\s*(?P<unit>[A-Za-z_]\w*)?")

#: keyword arguments every experiment function may take that are not parameters
RESERVED = ("seed", "backend", "dtype")


def as_param(default) -> Param:
    return default if isinstance(default, Param) else Param(default)


def parse_assignment(text: str, params: dict, experiment: str) -> tuple[str, list]:
    """``name=v1,v2,...`` -> (name, [values]) checked against ``params``."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ModelError(f"--set '{text}': write NAME=VALUE[,VALUE...]")
    param = lookup(params, name, experiment)
    items = [v for v in values.split(",")]
    if not values.strip() or any(not v.strip() for v in items):
        raise ModelError(f"--set '{text}': an empty value")
    return name, [param.parse(v, f"parameter '{name}'") for v in items]


def lookup(params: dict, name: str, experiment: str) -> Param:
    if name not in params:
        known = ", ".join(params) or "none"
        raise ModelError(f"experiment '{experiment}' has no parameter '{name}'; its parameters are: {known}")
    return params[name]


def resolve(params: dict, values: dict, experiment: str) -> dict:
    """Every declared parameter's value: its default, overridden by ``values`` (checked)."""
    for name in values:
        lookup(params, name, experiment)
    return {name: p.check(values[name], f"parameter '{name}' of '{experiment}'") if name in values else p.default
            for name, p in params.items()}


def parse_seeds(text: str) -> list[int]:
    """``0-9`` (inclusive), ``3`` or ``0,4,7`` -> seeds, in order, without repeats."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)|(\d+)", part)
        if m is None:
            raise ModelError(f"seeds '{text}': '{part}' is not a seed (N) or a range (FIRST-LAST)")
        if m.group(3) is not None:
            new = [int(m.group(3))]
        else:
            first, last = int(m.group(1)), int(m.group(2))
            if last < first:
                raise ModelError(f"seeds '{text}': the range {first}-{last} runs backwards")
            new = list(range(first, last + 1))
        seeds += [s for s in new if s not in seeds]
    return seeds
