"""Backends: each turns a built network into a stateful ``Simulation``.

A backend is a package here (or a plugin's) that registers a :class:`Backend`
in its ``__init__``: a name, the simulation class (imported on first use, so
that listing backends imports no engine) and a :class:`Capabilities` record.
Models, the CLI, the benchmarks and the tests look backends up by name and
read their capabilities; none imports an engine directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ModelError
from ..registry import Registry, import_subpackages, load_object


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the CLI's option checks and the conformance suite read it."""

    dtypes: tuple = ("float64",)        # floating-point types of the state; the first is the default
    threads: bool = False               # ``threads=N``
    fast_math: bool = False             # ``strict_float=False``
    plasticity: bool = True             # on_pre / on_post updates of synaptic state (STDP)
    batching: bool = False              # independent trials in one run (``batch=N``)
    gradients: bool = False             # differentiable (surrogate gradients through the torch graph)
    devices: tuple = ("cpu",)
    continues: bool = True              # a second ``run`` continues where the first stopped
    spikes_as_numba: bool = True        # a deterministic network gives the numba engine's spikes
    synapse_memory: bool = False        # reports its static bytes per synapse
    templates: tuple | None = None      # the neuron templates it runs (None: any equations)
    emulates: str | None = None         # the hardware target whose arithmetic it runs
    extra: str | None = None            # the pip extra that installs what it needs


@dataclass(frozen=True)
class Backend:
    """A registered backend: ``simulation`` is ``"module:Class"``; ``options`` are
    fixed by the name (``brian2-cython`` is ``brian2`` with ``target="cython"``)."""

    name: str
    simulation: str
    capabilities: Capabilities = field(default_factory=Capabilities)
    options: dict = field(default_factory=dict)
    summary: str = ""

    def simulation_class(self):
        """The simulation class; a ModelError naming the extra where a package it needs is missing."""
        try:
            return load_object(self.simulation)
        except ImportError as e:
            extra = f"; install spikemem's '{self.capabilities.extra}' extra: pip install " \
                    f"'spikemem[{self.capabilities.extra}]'" if self.capabilities.extra else ""
            raise ModelError(f"backend '{self.name}' cannot load: {e}{extra}") from e


BACKENDS = Registry("backend", load=lambda: import_subpackages(__name__, __path__))
register = BACKENDS.register


def backend(name: str) -> Backend:
    """The registered backend ``name`` (a ModelError listing the names otherwise)."""
    return BACKENDS.get(name)


def simulation(network, backend: str = "numba", progress=None, check_memory=None, **options):
    """Build ``network`` on ``backend`` (``_simulation``), once the memory estimate
    says it fits.

    ``progress``: None shows the compilation and run progress on a terminal or in a
    notebook only, True / False force it (``spikemem.progress``). ``check_memory``:
    False builds even what the memory estimate says cannot fit (``spikemem.sizing``;
    None: unless ``SPIKEMEM_CHECK_MEMORY=0``)."""
    from .. import progress as _progress, sizing
    if sizing.checking(check_memory):      # before build(): drawing the synapses is what runs out
        entry = BACKENDS.get(backend)
        sizing.check(sizing.estimate(network, None, entry.name, {**entry.options, **options}.get("dtype")),
                     f"network on '{entry.name}'")
    with _progress.default(progress):
        sim = _simulation(network, backend, **options)
    sim.check_memory = check_memory
    sim.progress = progress
    return sim


def _simulation(network, backend: str = "numba", **options):
    """Build ``network`` on ``backend``; all validation happens here, before any run."""
    entry = BACKENDS.get(backend)
    cls = entry.simulation_class()
    _check_options(entry.name, cls, options)
    built = network.build()
    sim = cls(built, **{**entry.options, **options})
    sim.registered_as = entry.name
    return sim


def _check_options(backend: str, cls, options: dict) -> None:
    """Refuse, by name, an option the backend's simulation does not take."""
    import inspect
    parameters = inspect.signature(cls).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY
                or (p.kind is p.POSITIONAL_OR_KEYWORD and name != "built")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ModelError(f"backend '{backend}': unknown option(s) {unknown}; it takes {sorted(accepted)}")


def simulate(network, duration, backend: str = "numba", progress=None, **options):
    """Build, run for ``duration`` seconds and return the ``Result``; ``progress``
    and ``check_memory`` (an option here) as for ``simulation``, which also checks
    the monitors' recordings for ``duration``."""
    from brian2 import second

    from .. import sizing
    from ..units import to_si
    check_memory = options.pop("check_memory", None)
    duration = to_si(duration, "duration", second.dim)
    if not duration > 0:
        raise ModelError(f"duration must be positive, got {duration}")
    if sizing.checking(check_memory):     # the recordings too, before anything is built
        entry = BACKENDS.get(backend)
        sizing.check(sizing.estimate(network, duration, entry.name, {**entry.options, **options}.get("dtype")),
                     f"a run of {duration:g} s on '{backend}'")
    sim = simulation(network, backend, progress=progress, check_memory=check_memory, **options)
    sim.run(duration, progress=progress)
    return sim.result()
