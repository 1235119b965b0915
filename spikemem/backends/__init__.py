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
    poisson_sources: bool = True        # runs Poisson sources (``set_rates`` between runs where it ``continues``)
    signals: bool = True                # equations read signals (``set_signal`` between runs where it ``continues``)
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
    """Build ``network`` on ``backend``: its options are checked first, then the
    memory estimate (``require_memory``), then the network is built.

    ``progress``: None shows the compilation and run progress on a terminal or in a
    notebook only, True / False force it (``spikemem.progress``). ``check_memory``:
    False builds even what the memory estimate says cannot fit (``spikemem.sizing``;
    None: unless ``SPIKEMEM_CHECK_MEMORY=0``); a run's recordings are checked
    again by ``Simulation.run``."""
    return _build(network, backend, None, progress, check_memory, options)


def _build(network, backend: str, duration, progress, check_memory, options: dict):
    """``simulation()``, with the recordings of ``duration`` seconds in the estimate."""
    from .. import progress as _progress
    entry = BACKENDS.get(backend)
    cls = entry.simulation_class()
    # a misspelled option is named as such, not priced (or refused) as memory
    _check_options(entry.name, cls, options)
    # before build(): drawing the synapses is what runs out
    require_memory(network, duration, entry.name, options, check_memory)
    with _progress.default(progress):
        built = network.build()
        sim = cls(built, **{**entry.options, **options})
    sim.registered_as = entry.name
    sim.check_memory = check_memory
    sim.progress = progress
    return sim


def require_memory(network, duration=None, backend: str = "numba", options=None, check_memory=None,
                   what: str | None = None):
    """Refuse by name (``sizing.check``) ``network`` on ``backend`` with its
    ``options`` (``dtype``, ``batch``), and ``duration`` seconds of its recordings
    if given, where it cannot fit; the ``sizing.Estimate``, or None where
    ``check_memory`` / the environment (``sizing.checking``) turns the check off.
    The one gate before building: every entry point calls this, not
    ``sizing.check`` with an estimate of its own."""
    from .. import sizing
    from ..units import to_si
    if not sizing.checking(check_memory):
        return None
    entry = BACKENDS.get(backend)
    options = {**entry.options, **(options or {})}
    if duration is not None:
        duration = float(to_si(duration, "duration"))
    est = sizing.estimate(network, duration, entry.name, options.get("dtype"), options.get("batch", 1))
    if what is None:
        what = f"the network on '{entry.name}'" if duration is None else \
            f"a run of {duration:g} s on '{entry.name}'"
    sizing.check(est, what)
    return est


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


def simulate(network, duration, backend: str = "numba", progress=None, check_memory=None, **options):
    """Build, run for ``duration`` seconds and return the ``Result``; ``progress``
    and ``check_memory`` as for ``simulation``, whose memory check here includes
    the monitors' recordings for ``duration``, before anything is built."""
    from brian2 import second

    from ..units import to_si
    duration = to_si(duration, "duration", second.dim)
    if not duration > 0:
        raise ModelError(f"duration must be positive, got {duration}")
    sim = _build(network, backend, duration, progress, check_memory, options)
    sim.run(duration, progress=progress)
    return sim.result()
