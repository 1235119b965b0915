"""Hardware targets: the interface every target implements, the vocabulary its
verbs return, and the registry.

A target (a package of ``spikemem.hardware``, or a plugin's) registers one
:class:`Target` in its package's ``__init__``: its name, the backend that
emulates its arithmetic, its export format and one ``"module:function"`` per
verb, so that registering imports none of its modules. The CLI's ``check``,
``quantize``, ``map``, ``emulate`` and ``export --target`` read the registry;
the core never imports a target by name, and a target outside the tree needs
nothing but this module (and :func:`spikemem.analysis.compare_spikes`) for its
return values.

Light on purpose: the CLI imports it to build ``--help``, so numpy is imported
only where a value is converted.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .errors import ModelError
from .registry import Registry, load_object

if TYPE_CHECKING:
    from .results import Result


# --------------------------------------------------------------- the interface
@dataclass(frozen=True)
class Target:
    """A registered neuromorphic target: its limits, number formats, resources, files and arithmetic.

    ``backend``: the registered backend that emulates its arithmetic.
    ``export_format``: what ``export`` writes (``"nir"``: a NIR file; ``"pynn"``:
    a PyNN script folder); the CLI offers the target as ``export <format> --target``.
    ``checker``, ``quantizer``, ``mapper``, ``exporter``, ``emulator``: the
    ``"module:function"`` behind each verb, loaded when the verb is called and
    called with the verb's arguments.
    """

    name: str
    backend: str
    checker: str
    quantizer: str
    mapper: str
    exporter: str
    emulator: str
    export_format: str
    summary: str = ""

    def check(self, network, **options) -> list:
        """Every constraint of the target that ``network`` breaks: a list of
        :class:`Violation` rows, empty when it passes."""
        return load_object(self.checker)(network, **options)

    def quantize(self, network, **options):
        """The network in the target's number formats: an object whose ``.errors``
        lists a :class:`QuantizationError` per parameter (:func:`error_table` prints them)."""
        return load_object(self.quantizer)(network, **options)

    def map(self, network, **options) -> Resources:
        """The cores and chips the network occupies: :class:`Resources`."""
        return load_object(self.mapper)(network, **options)

    def export(self, network, path, **options) -> str:
        """Write what the target's own tools load, in ``export_format``, at ``path``
        (atomically; every refusal comes before any file work); returns the path
        written. ``options`` are the format's own (a PyNN export's ``duration``)."""
        return load_object(self.exporter)(network, path, **options)

    def emulate(self, network, duration: float, **options) -> Emulation:
        """Run ``network`` for ``duration`` seconds with the target's arithmetic beside
        float64 numba: :class:`Emulation`."""
        return load_object(self.emulator)(network, duration, **options)


TARGETS = Registry("hardware target")
register_target = TARGETS.register


# --------------------------------------------------------------- what the verbs return
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
        return self.abs_error / abs(self.value) if self.value else (0.0 if self.quantized == 0 else math.inf)

    def to_dict(self) -> dict:
        d = {k: _jsonable(v) for k, v in asdict(self).items()}
        d.update(abs_error=_jsonable(self.abs_error), rel_error=_jsonable(self.rel_error))
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


@dataclass
class Emulation:
    """A fixed-point run beside the float64 run of the same network."""

    target: str
    result: Result          # the target arithmetic's spikes (and traces)
    reference: Result       # the numba engine in float64
    distance: dict          # spikemem.analysis.compare_spikes(reference, result, dt)

    @property
    def identical(self) -> bool:
        return all(d["same"] == d["reference"] == d["emulated"] for d in self.distance.values())

    def to_dict(self) -> dict:
        return {"target": self.target, "identical": self.identical, "distance": _jsonable(self.distance)}


def _jsonable(v):
    """``v`` with numpy scalars as Python numbers and non-finite floats as strings (JSON has neither)."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    import numpy as np              # (loaded by then: only values computed with it come here)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v
