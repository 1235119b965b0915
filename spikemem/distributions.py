"""Random values for initial states, weights and delays, drawn once at build time.

Drawing happens in the definition layer with the network's seed, so every
backend receives the same numbers. A distribution given in units
(``Uniform(1*nA, 2*nA)``) keeps its dimension, checked where it is used; its
two parameters must share it (a bare 0 goes with any unit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ModelError
from .units import InWeightUnits, dim_name, dim_of, to_si


def _common_dim(name: str, **values):
    """The one dimension of a distribution's parameters (None: all bare numbers)."""
    dims = {k: dim_of(v) for k, v in values.items()}
    given = {d for k, d in dims.items() if d is not None or np.any(np.asarray(values[k]) != 0)}
    if len(given) > 1:
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        raise ModelError(f"{name}({shown}): its parameters are in different units")
    return next(iter(given), None)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    dim: object = field(default=None, compare=False, repr=False)   # brian2 dimension; None: bare SI

    def __post_init__(self):
        object.__setattr__(self, "dim", _common_dim("Uniform", low=self.low, high=self.high))
        object.__setattr__(self, "low", to_si(self.low, "Uniform.low"))
        object.__setattr__(self, "high", to_si(self.high, "Uniform.high"))
        if self.high < self.low:
            raise ModelError(f"Uniform: high ({self.high}) < low ({self.low})")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True)
class Normal:
    """Normal values; with ``low`` and/or ``high``, clipped to them (PyNN's
    ``normal_clipped_to_boundary``: a weight that keeps its receptor's sign)."""
    mean: float
    std: float
    low: float | None = None
    high: float | None = None
    dim: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        given = {k: getattr(self, k) for k in ("mean", "std", "low", "high") if getattr(self, k) is not None}
        object.__setattr__(self, "dim", _common_dim("Normal", **given))
        for k in given:
            object.__setattr__(self, k, to_si(given[k], f"Normal.{k}"))
        if self.std < 0:
            raise ModelError(f"Normal: std must be >= 0, got {self.std}")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ModelError(f"Normal: high ({self.high}) < low ({self.low})")

    def sample(self, rng, n):
        x = rng.normal(self.mean, self.std, n)
        return x if self.low is None and self.high is None else np.clip(x, self.low, self.high)


DISTRIBUTIONS = {"Uniform": Uniform, "Normal": Normal}
_FIELDS = {"Uniform": ("low", "high"), "Normal": ("mean", "std", "low", "high")}


def resolve(value, n: int, rng, where: str, dim=None) -> np.ndarray:
    """Scalar, array of length n, or distribution -> float64 array of length n."""
    if isinstance(value, (Uniform, Normal)):
        if dim is not None and value.dim is not None and value.dim != dim:
            raise ModelError(f"{where}: {value!r} is in units of {dim_name(value.dim)}, "
                             f"expected {dim_name(dim)}")
        return value.sample(rng, n)
    v = to_si(value, where, dim)
    if np.ndim(v) == 0:
        return np.full(n, v)
    v = np.asarray(v, dtype=float).ravel()
    if v.size != n:
        raise ModelError(f"{where}: expected {n} values, got an array of shape {np.shape(value)}")
    return v


def to_spec(value):
    """JSON-friendly description of a value (used by network files)."""
    if isinstance(value, (Uniform, Normal)):
        name = type(value).__name__
        return {"dist": name, **{k: getattr(value, k) for k in _FIELDS[name] if getattr(value, k) is not None}}
    if isinstance(value, InWeightUnits):
        return {"in_weight_units": value.value}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist()}
    return value


def from_spec(spec):
    if isinstance(spec, dict) and "dist" in spec:
        kw = dict(spec)
        return DISTRIBUTIONS[kw.pop("dist")](**kw)
    if isinstance(spec, dict) and "in_weight_units" in spec:
        return InWeightUnits(spec["in_weight_units"])
    if isinstance(spec, dict) and "array" in spec:
        return np.asarray(spec["array"], dtype=float)
    return spec
