"""Random values for initial states, weights and delays, drawn once at build time.

Drawing happens in the definition layer with the network's seed, so every
backend receives the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .units import to_si


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self):
        object.__setattr__(self, "low", to_si(self.low, "Uniform.low"))
        object.__setattr__(self, "high", to_si(self.high, "Uniform.high"))
        if self.high < self.low:
            raise ModelError(f"Uniform: high ({self.high}) < low ({self.low})")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True)
class Normal:
    mean: float
    std: float

    def __post_init__(self):
        object.__setattr__(self, "mean", to_si(self.mean, "Normal.mean"))
        object.__setattr__(self, "std", to_si(self.std, "Normal.std"))
        if self.std < 0:
            raise ModelError(f"Normal: std must be >= 0, got {self.std}")

    def sample(self, rng, n):
        return rng.normal(self.mean, self.std, n)


DISTRIBUTIONS = {"Uniform": Uniform, "Normal": Normal}


def resolve(value, n: int, rng, where: str, dim=None) -> np.ndarray:
    """Scalar, array of length n, or distribution -> float64 array of length n."""
    if isinstance(value, (Uniform, Normal)):
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
        return {"dist": type(value).__name__, **value.__dict__}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist()}
    return value


def from_spec(spec):
    if isinstance(spec, dict) and "dist" in spec:
        kw = dict(spec)
        return DISTRIBUTIONS[kw.pop("dist")](**kw)
    if isinstance(spec, dict) and "array" in spec:
        return np.asarray(spec["array"], dtype=float)
    return spec
