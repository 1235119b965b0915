"""How much memory a network needs, estimated from its declarations before anything is built.

``estimate(network, duration, backend)`` counts the synapses each connector is
expected to draw (``p * n_pre * n_post`` for ``FixedProbability``, the list's
length for ``FromList``, ...) and prices the parts that grow with the network:
the built synapse arrays and the backend's copy of them, the neurons' state,
the delay buffers and, given a duration, what the monitors will record.
``spikemem.backends.require_memory`` is the one gate every entry point
(``simulation()``, ``simulate()``, ``spikemem run``, the hardware targets)
passes before building, and
``Simulation.run`` calls ``check_run`` before recording: each refuses, by
name, a part that cannot fit in the memory this machine has available, before
anything is allocated; ``check_memory=False`` (``--no-memory-check``) or the
environment variable ``SPIKEMEM_CHECK_MEMORY=0`` turns the refusal off.

The figures are estimates (a backend's own bookkeeping is left out), meant to
tell 20 MiB from 700 GiB, not to budget the last byte.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import connectors as _conn
from . import network as _network
from .errors import ModelError

#: bytes per synapse held by the built network: pre and post index (int64),
#: weight, delay in seconds and in steps; each synaptic variable adds 8
BUILT_SYNAPSE_BYTES = 40
#: bytes per synapse a backend holds beside its state type: indices and delay
BACKEND_SYNAPSE_BYTES = {"numba": 16, "torch": 24, "brian2": 48, "norse": 24}
#: bytes per neuron for spike and refractory bookkeeping, beside the state
NEURON_BYTES = 16
#: modest firing rate (Hz) at which recorded spikes are priced (12 bytes each)
ASSUMED_RATE_HZ = 50.0
ENV = "SPIKEMEM_CHECK_MEMORY"


class InsufficientMemory(ModelError):
    """A network or recording that cannot fit in the memory this machine has available."""


@dataclass(frozen=True)
class Part:
    """One line of an estimate: what it is and the bytes it needs."""
    what: str
    bytes: int


@dataclass(frozen=True)
class Estimate:
    """Neurons, synapses and the bytes each part of the network needs."""
    neurons: int
    synapses: int
    parts: tuple

    @property
    def total(self) -> int:
        return sum(p.bytes for p in self.parts)

    @property
    def largest(self) -> Part | None:
        return max(self.parts, key=lambda p: p.bytes, default=None)

    def __repr__(self) -> str:
        lines = [f"Estimate: {self.neurons:,} neurons, {self.synapses:,} synapses, about "
                 f"{format_bytes(self.total)}"]
        lines += [f"  {format_bytes(p.bytes):>10}  {p.what}"
                  for p in sorted(self.parts, key=lambda p: -p.bytes)]
        return "\n".join(lines)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def available_memory() -> int | None:
    """Bytes this machine can still give (psutil, else /proc/meminfo; None where neither says)."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


#: backends that compute a ``Convolution`` from its kernel (the others list its synapses)
CONVOLVING = ("numba", "torch")


def expected_synapses(connector, n_pre: int, n_post: int) -> int:
    """Synapses ``connector`` is expected to draw between populations of these sizes
    (``Connector.expected_synapses``; a malformed one: none, for ``build`` to name
    what is wrong with it)."""
    try:
        return max(0, connector.expected_synapses(n_pre, n_post))
    except (TypeError, ValueError):
        return 0


def _variables(equations: str) -> int:
    """Variables an equations string declares (one per ``name : unit`` line)."""
    return sum(1 for line in str(equations or "").splitlines() if ":" in line.split("#")[0])


def _family(backend: str) -> str:
    return backend.split("-")[0]


def _itemsize(backend: str, dtype) -> int:
    """Bytes of the state type: ``dtype``, else the backend's default (float32 on torch)."""
    if dtype is None:
        dtype = "float32" if backend == "torch" else "float64"
    return 4 if str(dtype) == "float32" else 8


def _max_delay_steps(proj, dt: float) -> int:
    from .distributions import Normal, Uniform
    d = proj.delay
    if isinstance(d, Uniform):
        d = d.high
    elif isinstance(d, Normal):
        d = d.mean + 5 * d.std
    try:
        d = float(np.max(np.asarray(d, dtype=float))) if d is not None else dt
    except (TypeError, ValueError):
        d = dt
    return max(1, int(round(d / dt)))


def _count(ids, size: int) -> int:
    """Neurons a view or a monitor covers: its ids, or the whole population."""
    return size if ids is None else int(np.size(ids))


def _monitor_parts(monitors, sizes: dict, n_steps: int, dt: float, batch: int = 1) -> list:
    """What the monitors record over ``n_steps`` in each of ``batch`` trials:
    ``monitors`` are the declared ``SpikeMonitor`` / ``StateMonitor`` objects, or
    a population's name for a spike monitor (as a built network lists them)."""
    from .network import StateMonitor
    parts = []
    trials = f", {batch:,} trials" if batch > 1 else ""
    for m in monitors:
        if isinstance(m, StateMonitor):
            n = _count(m.ids, sizes[m.population])
            records = -(-n_steps // m.every)
            every = "every step" if m.every == 1 else f"every {m.every} steps"
            parts.append(Part(f"state monitor on '{m.population}' ({', '.join(m.variables)}, {every}, "
                              f"{n:,} neurons x {records:,} records{trials})",
                              batch * records * n * len(m.variables) * 8))
        else:
            # every backend records the whole population, even for a subset
            # monitor (Simulation.result() cuts it down), so that is what is held
            name = getattr(m, "population", m)
            n = sizes[name]
            spikes = batch * n * ASSUMED_RATE_HZ * n_steps * dt
            parts.append(Part(f"spike monitor on '{name}' ({n:,} neurons at "
                              f"{ASSUMED_RATE_HZ:g} Hz for {n_steps * dt:g} s{trials})", int(spikes * 12)))
    return parts


def _batch(batch) -> int:
    """Trials side by side (torch's ``batch``); a malformed one counts once, for
    the backend to name."""
    try:
        return max(1, int(batch))
    except (TypeError, ValueError):
        return 1


def estimate(network, duration=None, backend: str = "numba", dtype=None, batch: int = 1) -> Estimate:
    """The memory ``network`` needs on ``backend`` (its state type ``dtype``, default
    the backend's; ``batch`` trials side by side, each with its own state and
    recordings); with ``duration`` (seconds), what its monitors record too.
    Reads the declarations only: nothing is built or drawn."""
    from .units import to_si
    itemsize = _itemsize(backend, dtype)
    batch = _batch(batch)
    trials = f", {batch:,} trials" if batch > 1 else ""
    per_synapse = BACKEND_SYNAPSE_BYTES.get(_family(backend), 32)
    sizes = {name: p.size for name, p in network.populations.items()}
    parts, synapses = [], 0
    for name, pop in network.populations.items():
        if pop.is_source:
            parts.append(Part(f"population '{name}' ({pop.size:,} sources)", pop.size * NEURON_BYTES))
        else:
            n_vars = _variables(pop.model.equations)
            parts.append(Part(f"population '{name}' ({pop.size:,} neurons x {n_vars} variables{trials})",
                              batch * pop.size * (NEURON_BYTES + n_vars * (8 + itemsize))))
    # the elements of a projection's sides: neurons, or the synapses of a projection it links to
    elements = dict(sizes)
    for proj in network.projections:
        # a population view (``pop[0:10]``) connects its neurons only
        n_pre = _count(getattr(proj, "pre_ids", None), elements[proj.pre])
        n_post = _count(getattr(proj, "post_ids", None), elements[proj.post])
        n = expected_synapses(proj.connector, n_pre, n_post)
        elements[proj.name] = n
        synapses += n
        n_vars = _variables(proj.synapse.equations)      # the weight and any plastic state
        conv = proj.connector if isinstance(proj.connector, _conn.Convolution) else None
        # (one too large to list is refused by name when built, not priced here)
        if conv is not None and (_family(backend) in CONVOLVING or n > _network.EXPLICIT_LIMIT):
            # kept as its kernel: the kernels, their spectra and the sheets of an FFT, not its synapses
            sheet = 4 * max(n_pre, 1) * (2 + len(conv.kernels())) * 8
            parts.append(Part(f"projection '{proj.name}' (a convolution of {n:,} synapses, kept as its "
                              f"kernel)", 3 * conv.kernel.nbytes + batch * sheet))
        else:
            parts.append(Part(f"projection '{proj.name}' ({n:,} synapses, {n_pre:,} x {n_post:,})",
                              n * (BUILT_SYNAPSE_BYTES + 8 * n_vars + per_synapse + itemsize * n_vars)))
        if isinstance(proj.connector, _conn.DistanceKernel):    # dense distances while building
            parts.append(Part(f"projection '{proj.name}' distance kernel ({n_pre:,} x {n_post:,} pairs)",
                              n_pre * n_post * (len(np.atleast_1d(proj.connector.shape)) + 2) * 8))
        # the buffer is the target population's, whether or not the projection
        # reaches all of it through a view
        delay_steps = _max_delay_steps(proj, network.dt)
        steps = f"{delay_steps} step" + ("s" if delay_steps > 1 else "")
        n_buffer = elements[proj.post]
        parts.append(Part(f"delay buffer of '{proj.name}' ({steps} x {n_buffer:,} neurons{trials})",
                          batch * (delay_steps + 1) * n_buffer * itemsize))
    if duration is not None:
        n_steps = max(1, int(round(float(to_si(duration, "duration")) / network.dt)))
        parts += _monitor_parts(network.monitors, sizes, n_steps, network.dt, batch)
    neurons = sum(sizes.values())
    return Estimate(neurons, synapses, tuple(p for p in parts if p.bytes > 0))


def checking(check_memory) -> bool:
    """Whether to refuse what cannot fit: ``check_memory`` if given, else the environment."""
    if check_memory is not None:
        return bool(check_memory)
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def check(est: Estimate, what: str = "the network") -> None:
    """Refuse ``est`` with an InsufficientMemory naming its largest part where it
    needs more than the memory available now."""
    available = available_memory()
    if available is None or est.total <= available:
        return
    largest = est.largest
    raise InsufficientMemory(
        f"{what} needs about {format_bytes(est.total)}, more than the {format_bytes(available)} this "
        f"machine has available; the largest part: {largest.what} needs {format_bytes(largest.bytes)}. "
        f"Make it smaller (fewer neurons, sparser connections, fewer recorded neurons or variables, "
        f"recording every k-th step, a shorter run), or pass check_memory=False "
        f"(or set {ENV}=0) to try anyway")


def check_run(built, n_steps: int, step: int = 0, batch: int = 1) -> None:
    """Refuse a run of ``n_steps`` (``batch`` trials) whose monitors' recordings cannot fit."""
    sizes = {name: p.size for name, p in built.populations.items()}
    parts = _monitor_parts([*built.spike_monitors, *built.state_monitors], sizes, n_steps, built.dt,
                           _batch(batch))
    neurons = sum(sizes.values())
    check(Estimate(neurons, sum(p.n_synapses for p in built.projections), tuple(parts)),
          f"a run of {n_steps:,} steps (from step {step:,})")

