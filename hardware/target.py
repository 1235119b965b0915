"""The vocabulary every hardware target shares: constraint violations, quantisation
errors, resource tables, emulation reports, and the comparison of fixed-point
spikes with float64.

A target is a ``spikemem.targets.Target`` (check, quantize, map, export,
emulate), registered by its package here. Like Lava's tagged process models,
one definition has a float implementation (the numba engine) and a fixed-point
one chosen by the target; the emulation report says how far apart their spikes
are instead of hiding it.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field

import numpy as np

from spikemem.analysis import spike_set
from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, Network
from spikemem.results import Result


def built_network(network) -> BuiltNetwork:
    """A target's input: a Network (built here) or an already built one."""
    if isinstance(network, BuiltNetwork):
        return network
    if isinstance(network, Network):
        return network.build()
    raise ModelError(f"expected a spikemem Network, got {type(network).__name__}")


@dataclass
class Violation:
    """One broken constraint: where, what, the offending value, the limit, a fix."""

    where: str          # "population 'exc'", "projection 'exc->inh'", "network"
    what: str           # "neurons per core", "delay", "weight resolution", ...
    value: object
    limit: object
    fix: str

    def __str__(self) -> str:
        if self.value is None and self.limit is None:       # a rule, not a number
            return f"{self.where}: {self.what}" + (f"; {self.fix}" if self.fix else "")
        return f"{self.where}: {self.what} is {self.value} (limit {self.limit}); {self.fix}"

    def to_dict(self) -> dict:
        return {k: _jsonable(v) for k, v in asdict(self).items()}


def violations_error(target: str, violations: list) -> ModelError:
    """One ModelError listing every violation (raised before any work starts)."""
    lines = "\n  - ".join(str(v) for v in violations)
    return ModelError(f"the network breaks {len(violations)} constraint(s) of {target}:\n  - {lines}")


@dataclass
class QuantizationError:
    """A parameter before and after the target's number format."""

    where: str
    parameter: str
    value: float        # float64, SI units
    quantized: float    # the fixed-point value mapped back to SI units
    unit: str = ""

    @property
    def abs_error(self) -> float:
        return abs(self.quantized - self.value)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.value) if self.value else (0.0 if self.quantized == 0 else np.inf)

    def to_dict(self) -> dict:
        d = {k: _jsonable(v) for k, v in asdict(self).items()}
        d.update(abs_error=self.abs_error, rel_error=_jsonable(self.rel_error))
        return d


def error_table(errors: list) -> str:
    """QuantizationError rows as a Markdown table."""
    lines = ["| where | parameter | value | quantized | rel. error |", "|---|---|---|---|---|"]
    lines += [f"| {e.where} | {e.parameter} | {e.value:.6g} {e.unit} | {e.quantized:.6g} {e.unit} "
              f"| {e.rel_error:.3g} |" for e in errors]
    return "\n".join(lines)


@dataclass
class Resources:
    """What a network occupies on a target: one row per population, and totals."""

    target: str
    rows: list              # dicts, first key "population"
    totals: dict            # e.g. {"cores": 7, "chips": 1}
    assumptions: list = field(default_factory=list)

    def table(self) -> str:
        """The rows as a Markdown table (for the CLI and the README)."""
        if not self.rows:
            return "(no populations)"
        keys = list(self.rows[0])
        lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in self.rows]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"target": self.target, "rows": _jsonable(self.rows), "totals": _jsonable(self.totals),
                "assumptions": list(self.assumptions)}


def compare_spikes(reference: Result, other: Result, dt: float) -> dict:
    """Per population: how far ``other``'s spikes are from ``reference``'s.

    ``same`` counts (step, neuron) pairs present in both; ``missing`` are only in
    the reference, ``extra`` only in ``other``; ``first_difference_step`` is the
    earliest step at which they differ (None when identical); ``rate_ratio`` is
    the spike-count ratio other/reference.
    """
    out = {}
    for name in reference.spikes:
        if name not in other.spikes:
            continue
        a, b = spike_set(reference.spikes[name], dt), spike_set(other.spikes[name], dt)
        sa, sb = set(map(tuple, a)), set(map(tuple, b))
        diff = sa ^ sb
        out[name] = {"reference": len(a), "emulated": len(b), "same": len(sa & sb),
                     "missing": len(sa - sb), "extra": len(sb - sa),
                     "first_difference_step": min(s for s, _ in diff) if diff else None,
                     "rate_ratio": (len(b) / len(a)) if len(a) else (None if len(b) else 1.0)}
    return out


@dataclass
class Emulation:
    """A fixed-point run beside the float64 run of the same network."""

    target: str
    result: Result          # the target arithmetic's spikes (and traces)
    reference: Result       # the numba engine in float64
    distance: dict          # compare_spikes(reference, result, dt)

    @property
    def identical(self) -> bool:
        return all(d["same"] == d["reference"] == d["emulated"] for d in self.distance.values())

    def to_dict(self) -> dict:
        return {"target": self.target, "identical": self.identical, "distance": _jsonable(self.distance)}


def emulate_with(target: str, backend: str, network, duration, **options) -> Emulation:
    """Run ``network`` on a target's emulator (the simulation ``backend``, built
    with ``options``; all its checks come first) and on the numba engine in
    float64, and compare their spikes step for step."""
    from spikemem.backends import simulate, simulation
    if not isinstance(network, Network):
        raise ModelError(f"emulate needs a spikemem Network, got {type(network).__name__}")
    sim = simulation(network, backend, **options)
    reference = simulate(network, duration, "numba", progress=False)
    sim.run(duration, progress=False)
    result = sim.result()
    return Emulation(target, result, reference, compare_spikes(reference, result, sim.built.dt))


def require(module: str, extra: str = "hardware"):
    """Import an optional package, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ModelError(f"'{module}' is not installed; install spikemem's '{extra}' extra: "
                         f"pip install 'spikemem[{extra}]'") from e


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v
