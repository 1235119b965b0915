"""The model definition: a network of populations, projections, inputs and monitors.

A ``Network`` holds declarations only (small validated dataclasses). ``build()``
turns it into numbers -- connectivity, weights, delays in steps, initial
values -- drawn once from the network's seed, so every backend simulates the
very same instance. ``save`` / ``load`` write the declarations to JSON, and a
loaded network rebuilds identically.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np
from brian2 import second, hertz
from brian2.units.fundamentalunits import DIMENSIONLESS, get_or_create_dimension

from . import connectors as _conn
from . import distributions as _dist
from .describe import describe as _describe, summary_line
from .equations import check_neuron_model, parse, resolve_params, ParsedModel
from .errors import ModelError
from .neurons import AT_MOST, NONNEGATIVE, POSITIVE, NeuronModel, held_steps, template_of, weight_sign
from .synapses import STATIC, SynapseModel
from .units import PLAUSIBLE_DT, Quantity, check_magnitude, dim_of, keep_units, plain, to_si

FORMAT_VERSION = 1
#: the most synapses of one convolution that a consumer of listed synapses (Brian2,
#: PyNN, the hardware targets) gets listed (``BuiltNetwork.explicit``)
EXPLICIT_LIMIT = 5_000_000
DELAY_ROUNDING = (None, "round", "floor", "ceil")


# ----------------------------------------------------------------- declarations
@dataclass
class SpikeSource:
    """Neurons that fire at given times: ``times[k]`` for neuron ``ids[k]`` (seconds)."""
    times: np.ndarray
    ids: np.ndarray


@dataclass
class PoissonSource:
    """Independent Poisson spike trains at ``rate`` Hz (scalar or one per neuron)."""
    rate: object


@dataclass
class Population:
    name: str
    size: int
    model: object                      # NeuronModel, SpikeSource or PoissonSource
    params: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    dt: float | None = None            # its own time step (s), a multiple of the network's; None: the network's

    @property
    def is_source(self) -> bool:
        return isinstance(self.model, (SpikeSource, PoissonSource))

    def __getitem__(self, key) -> "PopulationView":
        return PopulationView(self, _select(self, np.arange(self.size), key))

    def __repr__(self):
        return f"<Population '{self.name}': {self.size} x {_model_name(self.model)}>"


@dataclass(repr=False, eq=False)
class PopulationView:
    """Some neurons of a population, as PyNN's ``PopulationView``: ``pop[0:10]``,
    ``pop[[1, 5, 7]]``, ``pop[mask]``, ``pop[-1]``. ``ids`` are the parent's
    neuron ids, in the order given; the built network and the results speak of
    those ids."""
    population: Population
    ids: np.ndarray

    @property
    def name(self) -> str:
        return self.population.name

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def is_source(self) -> bool:
        return self.population.is_source

    def __getitem__(self, key) -> "PopulationView":
        return PopulationView(self.population, _select(self.population, self.ids, key))

    def __repr__(self):
        return f"<PopulationView of '{self.name}': {self.size} of {self.population.size} neurons>"


def _select(pop: Population, ids: np.ndarray, key) -> np.ndarray:
    """The parent ids that ``key`` (an index, slice, index list or boolean mask)
    picks out of ``ids``; refuses an index out of range, a repeated one, or none."""
    where = f"view of population '{pop.name}'"
    if isinstance(key, slice):
        picked = ids[key]
    else:
        k = np.asarray(key)
        if k.size == 0 and k.dtype != bool:
            k = k.astype(np.int64)          # an empty list is float to numpy
        if k.dtype == bool:
            if k.shape != ids.shape:
                raise ModelError(f"{where}: a boolean mask must have {ids.size} entries, got shape {k.shape}")
            picked = ids[k]
        elif np.issubdtype(k.dtype, np.integer) and k.ndim <= 1:
            k = np.atleast_1d(k).astype(np.int64)
            bad = (k < -ids.size) | (k >= ids.size)
            if np.any(bad):
                raise ModelError(f"{where}: index {k[bad][0]} is out of range for {ids.size} neurons")
            picked = ids[k]
        else:
            raise ModelError(f"{where}: index with an integer, a slice, a list of integers or a "
                             f"boolean mask, got {key!r}")
    if picked.size == 0:
        raise ModelError(f"{where}: {key!r} selects no neurons")
    values, counts = np.unique(picked, return_counts=True)
    if np.any(counts > 1):
        raise ModelError(f"{where}: neuron {values[counts > 1][0]} is selected twice")
    return picked.astype(np.int64)


def _model_name(model) -> str:
    if isinstance(model, SpikeSource):
        return "SpikeSource"
    if isinstance(model, PoissonSource):
        return "PoissonSource"
    return getattr(model, "name", type(model).__name__)


@dataclass(repr=False)
class Projection:
    name: str
    pre: str
    post: str
    connector: _conn.Connector
    weight: object = None              # scalar, array, distribution; None: the connector's
    delay: object = None               # seconds; None: one time step
    receptor: str = "exc"              # receptor name of the post model, or a state variable
    on_pre: str | None = None          # delivery; default: "<target>_post += w"
    synapse: SynapseModel = STATIC     # per-synapse state and plasticity
    params: dict = field(default_factory=dict)   # overrides of the synapse model's parameters
    init: dict = field(default_factory=dict)     # initial values of synaptic variables
    pre_ids: np.ndarray | None = None  # a view's parent ids; None: the whole population
    post_ids: np.ndarray | None = None
    delay_rounding: str | None = None  # None: delays must be whole steps; or "round", "floor", "ceil"
    # per-synapse weights that replace the drawn ones (set_weights), and the
    # fingerprint of the synapses (i, j) they belong to
    set_w: np.ndarray | None = None
    set_w_synapses: str | None = None
    # "pre" or "post" where that side is another projection, whose synapses are
    # its elements (``Network.connect``); None between populations
    linked: str | None = None

    def __repr__(self):
        def side(name, ids):
            return name if ids is None else f"{name}[{len(ids)} neurons]"
        return (f"<Projection '{self.name}': {side(self.pre, self.pre_ids)} -> {side(self.post, self.post_ids)}, "
                f"{type(self.connector).__name__}, receptor '{self.receptor}'"
                f"{'' if self.synapse is STATIC else ', synapse ' + repr(self.synapse.name)}>")


@dataclass
class CurrentInput:
    """Piecewise-constant drive: from ``times[k]`` on, ``variable = values[k]``.

    ``values`` is (K,) for all neurons alike or (K, n) per neuron. A step current
    is two entries; a sampled waveform is one entry per sample.
    """
    population: str
    times: np.ndarray
    values: np.ndarray
    variable: str = "i_offset"


@dataclass
class Signal:
    """A low-dimensional input every population's equations read by name:
    ``values[floor(t/dt)]`` (piecewise constant, as Brian2's TimedArray), K
    samples of d components, the same for every neuron. Component ``c`` is
    ``name`` where d is 1, else ``f"{name}_{c}"``."""
    name: str
    values: object                     # (K, d) numbers, or a brian2 Quantity of that shape
    dt: float                          # seconds between samples
    components: tuple

    @property
    def names(self) -> tuple:
        """The names equations use, one per component."""
        return signal_names(self.name, self.components)


def signal_names(name: str, components) -> tuple:
    return (name,) if len(components) == 1 else tuple(f"{name}_{c}" for c in components)


def default_components(d: int) -> tuple:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(str(c) for c in range(d))


@dataclass
class SpikeMonitor:
    population: str
    ids: object = None                 # None: every neuron; else the recorded ids, sorted


@dataclass
class StateMonitor:
    population: str
    variables: tuple
    ids: object = None                 # None: every neuron
    every: int = 1                     # record every k-th step


# ----------------------------------------------------------------- built instance
@dataclass
class BuiltPopulation:
    name: str
    size: int
    kind: str                          # "neuron", "spikes", "poisson"
    model: NeuronModel | None = None
    parsed: ParsedModel | None = None
    params: dict = field(default_factory=dict)      # shared floats or per-neuron arrays
    init: dict = field(default_factory=dict)        # state variable -> float64 array
    refractory: float = 0.0                         # seconds, as the model gives it
    # steps held after the spike step (the model's counting at dt): what every
    # backend and target derives its refractoriness from
    refractory_steps: int = 0
    # a refractory condition (Brian2's ``refractory="C > C_Theta"``): the neuron is
    # held while it holds, checked before each update; None for a period
    refractory_condition: str | None = None
    # network steps per step of its own (``population(dt=...)``): it updates, fires and
    # takes its summed variables only on steps divisible by it; 1 for the network's dt
    every: int = 1
    spike_steps: np.ndarray | None = None           # spike sources, sorted by (step, id)
    spike_ids: np.ndarray | None = None
    rate: np.ndarray | None = None                  # Poisson sources, Hz per neuron

    def __repr__(self):
        model = self.model.name if self.model is not None else self.kind
        return f"<BuiltPopulation '{self.name}': {self.size} x {model}>"


def own_dt(pop: BuiltPopulation, dt: float) -> str:
    """How refusals name a population's own time step (``dt``: the network's):
    "own dt 0.001 s (every 10 steps of the network's)"."""
    return f"own dt {pop.every * dt:g} s (every {pop.every} steps of the network's)"


@dataclass
class BuiltProjection:
    name: str
    pre: str
    post: str
    i: np.ndarray
    j: np.ndarray
    w: np.ndarray
    delay: np.ndarray                  # int steps >= 1
    target: str                        # post state variable
    on_pre: str                        # delivery, when the spike arrives
    weight_dim: object
    equations: str = "w : 1"           # synapse equations, units filled in
    plastic_pre: str = ""              # the model's on_pre, when the presynaptic neuron fires
    on_post: str = ""
    method: str = "exact"
    namespace: dict = field(default_factory=dict)   # shared constants (SI floats)
    state: dict = field(default_factory=dict)       # per-synapse parameters and initial values
    dims: dict = field(default_factory=dict)        # synaptic variable -> brian2 dimension
    # PyNN's sign its weights keep (+1: >= 0, -1: <= 0; neurons.SIGNS), None where no
    # rule applies: decided here once for build(), Simulation.set and Dale's law
    sign: int | None = None
    switch: str | None = None          # the synapse model's learning switch (Simulation.freeze)
    # a Convolution kept as its kernel: i, j, w and delay are then empty (``explicit``)
    conv: "BuiltConvolution | None" = None
    # "pre" or "post" where that side is another projection (its ``pre`` or ``post``
    # is then that projection's name, and i or j index its synapses in built order)
    linked: str | None = None

    @property
    def n_synapses(self) -> int:
        """How many synapses the projection has (a convolution's counted, not listed)."""
        return self.conv.n_synapses if self.conv is not None else int(self.i.size)

    @property
    def summed_delay(self) -> int:
        """The longest delay, in steps, of the projection's summed variables (NEST's
        delay of a ``sic_connection``); 0 where the projection sums nothing. A
        term computed at step n with a delay of d steps is part of the target's
        value in the update of step n + d - 1, which a state record at step
        n + d shows. One step is Brian2's summed variable: the step that
        computes the sum uses it. Only a sum-only projection delays its sums;
        one that also acts on spikes (``on_pre``, its own or its model's) has
        its delay for the spikes alone and sums in one step, as Brian2 does."""
        if "(summed)" not in self.equations:
            return 0
        if self.on_pre or self.plastic_pre or not self.delay.size or self.conv is not None:
            return 1
        return int(self.delay.max())

    def explicit(self) -> "BuiltProjection":
        """The projection with its synapses listed: itself, or a convolution's every
        synapse (in (pre, post) order, one delay for all), as ``FromList`` would give."""
        if self.conv is None:
            return self
        i, j, w = self.conv.synapses()
        return dataclasses.replace(self, i=i, j=j, w=w, delay=np.full(i.size, self.conv.delay, np.int64),
                                   conv=None)

    def refuse_convolution(self, what: str):
        """A ModelError for code that reads synapses one by one where this projection
        keeps a convolution."""
        if self.conv is not None:
            raise ModelError(f"projection '{self.name}' is a convolution ({self.n_synapses:,} synapses "
                             f"kept as a kernel, not listed): {what}")

    def __repr__(self):
        kind = " (convolution)" if self.conv is not None else ""
        return (f"<BuiltProjection '{self.name}': {self.pre} -> {self.post}, "
                f"{self.n_synapses:,} synapses{kind} onto {self.target}>")


@dataclass
class BuiltConvolution:
    """A ``connectors.Convolution`` as the backends compute it: every post neuron
    (y, x) receives ``kernel[c][ry + dy, rx + dx]`` from the source of class c at
    (y - dy, x - dx), through the taps in ``taps``."""
    kernel: np.ndarray                 # (C, ky, kx) weights, SI (zero off the taps)
    taps: np.ndarray                   # (C, ky, kx) bool: the connector's nonzero taps
    classes: np.ndarray                # (ny, nx) int64 source classes
    periodic: bool
    delay: int                         # steps, one for every synapse (events)
    source: str | None = None          # None: spike events; else the presynaptic variable summed
    n_synapses: int = 0

    @property
    def sheet(self) -> tuple:
        return tuple(self.classes.shape)

    def synapses(self):
        """(i, j, w) of every synapse, sorted by (pre, post)."""
        i, j, w = _conn.convolution_synapses(self.kernel, self.taps, self.classes, self.periodic)
        i, j, w, _ = _conn._sorted(i, j, w)
        return i, j, w

    def dense(self) -> np.ndarray:
        """The (n, n) weight matrix W[pre, post] (small sheets: tests, interop)."""
        i, j, w = self.synapses()
        n = self.classes.size
        m = np.zeros((n, n))
        m[i, j] = w
        return m


@dataclass
class BuiltInput:
    population: str
    variable: str
    steps: np.ndarray                  # int, sorted
    values: np.ndarray                 # (K, n)


@dataclass(repr=False)
class BuiltSignal:
    name: str
    dt: float                          # seconds between samples
    values: np.ndarray                 # (K, d), SI
    components: tuple
    dim: object                        # brian2 dimension of the values
    names: tuple                       # the name of each component in equations

    @property
    def duration(self) -> float:
        return self.values.shape[0] * self.dt

    def __repr__(self):
        return f"<BuiltSignal '{self.name}': {self.values.shape[0]} x {list(self.names)}, every {self.dt:g} s>"


def signal_oversampling(net_dt: float, signal_dt: float) -> int:
    """Brian2's TimedArray upsampling factor K for a group at ``net_dt``: its
    sample index at time t is int((t/(signal_dt/K) + 0.5)/K), which every
    backend computes alike (``sample_index``)."""
    return max(int(2 ** np.ceil(np.log2(8 / net_dt * signal_dt))), 1)


def sample_index(t: float, net_dt: float, signal_dt: float) -> int:
    """The sample a signal of interval ``signal_dt`` gives at time ``t`` (before
    clipping to its last sample), as Brian2's TimedArray computes it."""
    k = signal_oversampling(net_dt, signal_dt)
    return int((t / (signal_dt / k) + 0.5) / k)


@dataclass
class BuiltNetwork:
    dt: float
    seed: int
    populations: dict
    projections: list
    inputs: list
    spike_monitors: list
    state_monitors: list
    hash: str
    # population -> recorded neuron ids, for spike monitors of a subset only
    spike_ids: dict = field(default_factory=dict)
    signals: list = field(default_factory=list)    # BuiltSignal, in declaration order

    def signal_uses(self, population: str) -> list:
        """(signal index, component index, name) of every signal component the
        population's model reads."""
        pop = self.populations[population]
        if pop.kind != "neuron" or not self.signals:
            return []
        used = model_identifiers(pop.model)
        return [(k, c, name) for k, sig in enumerate(self.signals) for c, name in enumerate(sig.names)
                if name in used]

    def size_of(self, proj: BuiltProjection, side: str) -> int:
        """How many elements ``proj``'s ``side`` ("pre" or "post") has: the
        population's neurons, or the synapses of the projection it links to."""
        name = proj.pre if side == "pre" else proj.post
        if proj.linked == side:
            return next(p for p in self.projections if p.name == name).n_synapses
        return self.populations[name].size

    def linked_index(self, proj: BuiltProjection) -> int | None:
        """The index of the projection ``proj`` links to, None between populations."""
        if proj.linked is None:
            return None
        name = proj.pre if proj.linked == "pre" else proj.post
        return next(k for k, p in enumerate(self.projections) if p.name == name)

    def __repr__(self):
        line = summary_line(len(self.populations), sum(p.size for p in self.populations.values()),
                            len(self.projections), self.dt, self.seed,
                            sum(p.n_synapses for p in self.projections))
        return f"<BuiltNetwork: {line}, hash {self.hash}>"

    def explicit(self, limit: float | None = None, who: str = "this", too_large: list | None = None) -> "BuiltNetwork":
        """The network with every convolution's synapses listed (``BuiltProjection.explicit``),
        for what handles synapses one by one (Brian2, hardware, interop); refuses a
        convolution of more than ``limit`` synapses (default ``EXPLICIT_LIMIT``),
        naming ``who`` lists them. Given a list ``too_large`` (a target's check, which
        reports rather than raises), such a convolution goes into it instead and is
        left out, as a projection without synapses."""
        if not any(p.conv is not None for p in self.projections):
            return self
        limit = EXPLICIT_LIMIT if limit is None else limit
        listed = []
        for p in self.projections:
            if p.conv is not None and p.n_synapses > limit:
                if too_large is None:
                    raise ModelError(f"projection '{p.name}' is a convolution of {p.n_synapses:,} synapses; "
                                     f"{who} lists synapses one by one, up to {limit:,} per convolution: "
                                     f"run it on 'numba' or 'torch', which compute the convolution")
                too_large.append(p)
                listed.append(dataclasses.replace(p, conv=None))
            else:
                listed.append(p.explicit())
        return dataclasses.replace(self, projections=listed)


# ----------------------------------------------------------------- the network
class Network:
    """A spiking circuit defined once. Units: SI (see ``spikemem.units``)."""

    def __init__(self, dt=1e-4, seed: int = 0):
        self.dt = to_si(dt, "Network dt", second.dim)
        if not self.dt > 0:
            raise ModelError(f"Network dt must be positive, got {self.dt}")
        check_magnitude(self.dt, "Network dt", second.dim, dt, PLAUSIBLE_DT)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ModelError(f"Network seed must be an integer >= 0, got {seed!r}")
        self.seed = int(seed)
        self.populations: dict[str, Population] = {}
        self.projections: list[Projection] = []
        self.inputs: list[CurrentInput] = []
        self.signals: dict[str, Signal] = {}
        self.monitors: list = []

    def __repr__(self):
        n = sum(p.size for p in self.populations.values())
        return f"<Network: {summary_line(len(self.populations), n, len(self.projections), self.dt, self.seed)}>"

    def describe(self) -> str:
        """A text summary of the built network: populations with their parameters,
        projections with synapse counts, weights and delays, inputs, monitors.
        Builds the network (so it also validates it)."""
        return _describe(self, self.build())

    # --- construction
    def _check_size(self, name, size):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise ModelError(f"population '{name}': size must be an integer, got {size!r}")
        if size < 1:
            raise ModelError(f"population '{name}': size must be >= 1, got {size}")

    def _check_name(self, name, taken, what):
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"{what} name must be a Python identifier, got {name!r}")
        if name in taken:
            raise ModelError(f"{what} '{name}' already exists")

    def population(self, name: str, size: int, model: NeuronModel, params=None, init=None, dt=None) -> Population:
        """``dt``: the population's own time step, a whole multiple of the network's
        (Brian2's ``NeuronGroup(dt=...)``): it updates, fires and reads its summed
        variables every ``dt``, from t = 0; its neighbours keep the network's."""
        self._check_name(name, self.populations, "population")
        self._check_size(name, size)
        if not isinstance(model, NeuronModel):
            raise ModelError(f"population '{name}': model must be a NeuronModel, got {type(model).__name__}")
        if dt is not None:
            dt = to_si(dt, f"population '{name}' dt", second.dim)
            every = round(dt / self.dt) if dt > 0 else 0
            if every < 1 or abs(every * self.dt - dt) > 1e-9 * dt:
                raise ModelError(f"population '{name}': dt {dt:g} s must be a whole multiple of the network's "
                                 f"dt {self.dt:g} s")
            dt = None if every == 1 else dt
        pop = Population(name, int(size), model, dict(params or {}), dict(init or {}), dt)
        self.populations[name] = pop
        return pop

    def spike_source(self, name: str, size: int, times, ids=None) -> Population:
        """Spike-source array. ``times`` is a list of per-neuron time lists, or
        flat ``times`` with matching ``ids``."""
        self._check_name(name, self.populations, "population")
        self._check_size(name, size)
        if ids is None:
            if len(times) != size:
                raise ModelError(f"population '{name}': {len(times)} spike lists for {size} neurons")
            ids = np.concatenate([np.full(len(t), k) for k, t in enumerate(times)]) if size else []
            times = np.concatenate([np.atleast_1d(to_si(t, f"population '{name}' spike times of neuron {k}",
                                                        second.dim)) for k, t in enumerate(times)])
        times = np.atleast_1d(to_si(times, f"population '{name}' spike times", second.dim)).astype(float)
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if times.shape != ids.shape:
            raise ModelError(f"population '{name}': {times.size} spike times but {ids.size} ids")
        if ids.size and (ids.min() < 0 or ids.max() >= size):
            raise ModelError(f"population '{name}': spike id out of range [0, {size})")
        if np.any(times < 0):
            raise ModelError(f"population '{name}': negative spike time {times.min()}")
        pop = Population(name, int(size), SpikeSource(times, ids))
        self.populations[name] = pop
        return pop

    def poisson_source(self, name: str, size: int, rate) -> Population:
        self._check_name(name, self.populations, "population")
        self._check_size(name, size)
        r = to_si(rate, f"population '{name}' rate", hertz.dim)
        if np.any(np.asarray(r) < 0):
            raise ModelError(f"population '{name}': rate must be >= 0")
        pop = Population(name, int(size), PoissonSource(r))
        self.populations[name] = pop
        return pop

    def _target(self, population, what):
        """(population name, parent ids of a view or None) of a population, a view or a name."""
        if isinstance(population, PopulationView):
            if self.populations.get(population.name) is not population.population:
                raise ModelError(f"{what}: the view's population '{population.name}' is not in this network")
            return population.name, population.ids
        name = population.name if isinstance(population, Population) else population
        if name not in self.populations:
            raise ModelError(f"{what}: unknown population {name!r}")
        return name, None

    def connect(self, pre, post, connector, weight=None, delay=None, receptor="exc",
                on_pre=None, name=None, synapse=None, params=None, init=None,
                delay_rounding=None) -> Projection:
        """Connect ``pre`` to ``post`` (populations, views or names). ``delay_rounding``:
        None refuses a delay that is not a whole number of steps; "round" (to the
        nearest step, as NEST), "floor" or "ceil" take it to a whole step.

        Either side may instead be an earlier projection (itself or its name): its
        synapses, in built order, are then that side's elements, as in Brian2's
        ``Synapses(astrocytes, synapses)``. Such a projection sets summed variables
        every step (``x_post = ... : unit (summed)``): onto a variable of those
        synapses (an astrocyte's gliotransmitter modulating them) or from them
        onto the population (their neurotransmitter driving an astrocyte). It has
        no weight, delay or on_pre; the other side is a population.

        A projection between populations that only sums a variable
        (``x_post = ... : unit (summed)``, no ``on_pre``) delivers each step's
        sum ``delay`` later: with a delay of d steps the sum of step n is the
        target's value in step n + d - 1 (NEST's delay of a ``sic_connection``);
        the default, one step, is Brian2's summed variable, which the target
        reads in the step it is computed. A projection that also delivers spikes
        delays its spikes only, as Brian2 does."""
        pre_name = pre.name if isinstance(pre, (Population, PopulationView, Projection)) else pre
        post_name = post.name if isinstance(post, (Population, PopulationView, Projection)) else post
        name = name or f"{pre_name}_to_{post_name}_{len(self.projections)}"
        self._check_name(name, {p.name for p in self.projections}, "projection")
        if name in self.populations:
            raise ModelError(f"projection '{name}': a population has that name; "
                             f"give the projection another name=")
        linked = self._linked_side(pre, post, name)
        pre, pre_ids = self._target(pre, f"projection '{name}' pre") if linked != "pre" else (pre_name, None)
        post, post_ids = self._target(post, f"projection '{name}' post") if linked != "post" else (post_name, None)
        if delay_rounding not in DELAY_ROUNDING:
            raise ModelError(f"projection '{name}': delay_rounding must be one of {DELAY_ROUNDING}, "
                             f"got {delay_rounding!r}")
        if linked != "post" and self.populations[post].is_source:
            raise ModelError(f"projection '{name}': post population '{post}' is a spike source")
        if not isinstance(connector, _conn.Connector):
            raise ModelError(f"projection '{name}': connector must be a Connector, got {connector!r}")
        synapse = STATIC if synapse is None else synapse
        if not isinstance(synapse, SynapseModel):
            raise ModelError(f"projection '{name}': synapse must be a SynapseModel, got {synapse!r}")
        proj = Projection(name, pre, post, connector, weight, delay, receptor, on_pre, synapse,
                          dict(params or {}), dict(init or {}), pre_ids, post_ids, delay_rounding, linked=linked)
        self.projections.append(proj)
        return proj

    def _linked_side(self, pre, post, name) -> str | None:
        """"pre" or "post" where that side of a new projection is a projection of this
        network (given as itself or by its name): its synapses are then the side's
        elements, as in Brian2's ``Synapses(astrocytes, synapses)``."""
        projections = {p.name: p for p in self.projections}

        def is_projection(side):
            if isinstance(side, Projection):
                if projections.get(side.name) is not side:
                    raise ModelError(f"projection '{name}': projection '{side.name}' is not in this network")
                return True
            return isinstance(side, str) and side in projections and side not in self.populations

        sides = [s for s, x in (("pre", pre), ("post", post)) if is_projection(x)]
        if len(sides) == 2:
            raise ModelError(f"projection '{name}': both sides are projections; one side of a "
                             f"synapse-targeting projection must be a population")
        if sides:
            side = pre if sides[0] == "pre" else post
            other = side if isinstance(side, Projection) else projections[side]
            if other.linked is not None:
                raise ModelError(f"projection '{name}': projection '{other.name}' links to another "
                                 f"projection's synapses itself; link to a projection between populations")
        return sides[0] if sides else None

    def set_weights(self, projection, w=None):
        """Replace the weights of a projection (or its name) by ``w``, one value per
        synapse in the built order (``net.build()``'s ``i`` / ``j``), e.g. weights
        trained on the torch backend; or give ``{projection: w, ...}``; ``w=None``
        goes back to the declared weights. Everything else is drawn as before, so
        the synapses are the same; a later ``build()`` refuses the weights if the
        synapses have changed (another seed, size or connector)."""
        given = projection.items() if isinstance(projection, dict) else [(projection, w)]
        weights = {p.name if isinstance(p, Projection) else p: v for p, v in given}
        names = {p.name: p for p in self.projections}
        for name in weights:
            if name not in names:
                raise ModelError(f"set_weights: unknown projection {name!r}; projections are {sorted(names)}")
        old = {name: (names[name].set_w, names[name].set_w_synapses) for name in weights}
        try:
            for name in weights:        # the synapses come from the declaration, not from stale weights
                names[name].set_w = names[name].set_w_synapses = None
            built = {p.name: p for p in self.build().projections}
            for name, values in weights.items():
                if values is None:
                    continue
                b = built[name]
                if b.linked:
                    raise ModelError(f"set_weights of projection '{name}': it sums onto or from synapses and "
                                     f"has no weights")
                b.refuse_convolution("its weights are the Convolution's kernel; give a new kernel instead "
                                     "of set_weights")
                v = np.asarray(to_si(values, f"set_weights of projection '{name}'", b.weight_dim), dtype=float)
                if v.shape != b.i.shape:
                    raise ModelError(f"set_weights of projection '{name}': expected one weight per synapse, "
                                     f"shape ({b.i.size},), got shape {v.shape}")
                names[name].set_w, names[name].set_w_synapses = v.copy(), _synapses_fingerprint(b.i, b.j)
            self.build()                # the new weights checked as any weights are (signs, magnitudes)
        except BaseException:
            for name, (values, fingerprint) in old.items():
                names[name].set_w, names[name].set_w_synapses = values, fingerprint
            raise

    def current(self, population, times, values, variable="i_offset") -> CurrentInput:
        population, ids = self._target(population, "current input")
        if ids is not None:
            # an input sets its variable in every neuron of the population, on every backend
            raise ModelError(f"current input on a view of '{population}': an input sets '{variable}' in "
                             f"every neuron of its population; give the population and one value per "
                             f"neuron (values of shape (times, {self.populations[population].size}))")
        where = f"current input on '{population}'"
        times = np.atleast_1d(np.asarray(to_si(times, f"{where} times", second.dim), float))
        # values keep their unit until build() checks it against the driven variable's
        if isinstance(values, (list, tuple)):
            values = keep_units(values, f"{where} values")
        if dim_of(values) is None:
            values = np.asarray(to_si(values, f"{where} values"), dtype=float)
        inp = CurrentInput(population, times, values, variable)
        self.inputs.append(inp)
        return inp

    def step_current(self, population, amplitude, start, stop=None, variable="i_offset"):
        """Constant ``amplitude`` from ``start`` to ``stop`` (seconds), zero otherwise."""
        name = population.name if isinstance(population, (Population, PopulationView)) else population
        where = f"step current on '{name}'"
        amp = to_si(amplitude, f"{where} amplitude")
        times = [0.0, to_si(start, f"{where} start", second.dim)]
        values = [0.0 * np.asarray(amp), amp]
        if stop is not None:
            times.append(to_si(stop, f"{where} stop", second.dim))
            values.append(0.0 * np.asarray(amp))
        values = np.asarray(values)
        if dim_of(amplitude) is not None:      # keep the unit for build() to check
            values = Quantity(values, dim=dim_of(amplitude))
        return self.current(population, np.asarray(times), values, variable)

    def signal(self, name: str, values, dt=None, components=None) -> Signal:
        """A time-varying input that every population's equations may read:
        ``values`` (K,) or (K, d) samples (numbers, or a Brian2 quantity whose
        unit is the signal's), one each ``dt`` seconds (default: the network's
        dt), piecewise constant. Equations name component ``c`` ``f"{name}_{c}"``
        (``name`` alone where d is 1); ``components`` default to x, y, z (d <= 3)
        or 0, 1, ... The signal is held as K x d, not per neuron."""
        where = f"signal '{name}'"
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ModelError(f"signal name must be a Python identifier not starting with '_', got {name!r}")
        dt = self.dt if dt is None else to_si(dt, f"{where} dt", second.dim)
        if np.ndim(dt) or not np.isfinite(dt) or not dt > 0:
            raise ModelError(f"{where}: dt must be a positive number of seconds, got {dt!r}")
        if isinstance(values, (list, tuple)):
            values = keep_units(values, f"{where} values")
        dim = dim_of(values)
        try:
            array = np.array(plain(values) if dim is not None else values, dtype=float)     # a copy of its own
        except (TypeError, ValueError):
            raise ModelError(f"{where}: values must be numbers, got {type(values).__name__}") from None
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
            raise ModelError(f"{where}: values must have shape (K,) or (K, d) with K, d >= 1, "
                             f"got shape {np.shape(values)}")
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            raise ModelError(f"{where}: sample {bad[0][0]} (component {bad[0][1]}) is {array[tuple(bad[0])]}; "
                             f"values must be finite")
        d = array.shape[1]
        components = default_components(d) if components is None else tuple(str(c) for c in components)
        if len(components) != d:
            raise ModelError(f"{where}: {len(components)} component names for {d} components")
        if len(set(components)) != d:
            raise ModelError(f"{where}: component names must differ, got {list(components)}")
        names = signal_names(name, components)
        for n in names:
            if not n.isidentifier():
                raise ModelError(f"{where}: component name {n!r} is not a Python identifier")
        for other in self.signals.values():
            clash = (set(names) | {name}) & (set(other.names) | {other.name})
            if clash:
                raise ModelError(f"{where}: the name {sorted(clash)[0]!r} is already taken by signal "
                                 f"'{other.name}' (its names: {list(other.names)})")
        _check_reserved(names, where)
        sig = Signal(name, array if dim is None else Quantity(array, dim=dim), float(dt), components)
        self.signals[name] = sig
        return sig

    def _subset(self, population, ids, what):
        """(name, parent ids or None): ``ids`` index the population, or the view if one is given."""
        name, view_ids = self._target(population, what)
        if ids is None:
            return name, view_ids
        pop = self.populations[name]
        return name, (pop[ids] if view_ids is None else pop[view_ids][ids]).ids

    def record_spikes(self, population, ids=None):
        """Record the spikes of a population, a view, or its neurons ``ids``. The
        result keeps the population's neuron ids. Recording a population twice
        records the union of the subsets, as in PyNN."""
        population, ids = self._subset(population, ids, "spike monitor")
        ids = None if ids is None else np.unique(ids)
        for k, m in enumerate(self.monitors):
            if isinstance(m, SpikeMonitor) and m.population == population:
                union = None if m.ids is None or ids is None else np.union1d(m.ids, ids)
                self.monitors[k] = SpikeMonitor(population, union)
                return
        self.monitors.append(SpikeMonitor(population, ids))

    def record_state(self, population, variables, ids=None, every: int = 1):
        """Record ``variables`` of a population or a view (or its neurons ``ids``)
        every ``every`` steps."""
        population, ids = self._subset(population, ids, "state monitor")
        if isinstance(variables, str):
            variables = (variables,)
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise ModelError(f"state monitor on '{population}': every must be an integer >= 1, got {every!r}")
        repeated = sorted({v for v in variables if list(variables).count(v) > 1})
        if repeated:
            raise ModelError(f"state monitor on '{population}': {repeated[0]!r} is named twice")
        for m in self.monitors:       # a result holds one trace per population and variable
            again = [v for v in variables if isinstance(m, StateMonitor) and m.population == population
                     and v in m.variables]
            if again:
                raise ModelError(f"state monitor on '{population}': {again[0]!r} is already recorded; "
                                 f"record it once, with every neuron wanted in ids=")
        self.monitors.append(StateMonitor(population, tuple(variables), ids, int(every)))

    # --- instance
    def build(self) -> BuiltNetwork:
        """Validate everything and draw every number; raises ModelError naming the culprit."""
        if not self.populations:
            raise ModelError("network has no populations")
        rng = np.random.default_rng(self.seed)
        signals = [self._build_signal(sig) for sig in self.signals.values()]
        self._signal_dims = {n: s.dim for s in signals for n in s.names}
        pops = {name: self._build_population(p, rng) for name, p in self.populations.items()}
        projs = []
        for p in self.projections:
            projs.append(self._build_linked(p, pops, projs, rng) if p.linked else
                         self._build_projection(p, pops, rng))
            built = projs[-1]
            if built.on_pre and built.linked != "pre" and pops[built.pre].every > 1:
                raise ModelError(f"projection '{built.name}': it delivers the spikes of population '{built.pre}', "
                                 f"which has its own dt; Brian2 would deliver them on that clock, with the delay "
                                 f"rounded to it. Carry its events in a synapse model's on_pre or in a sum instead")
        inputs = [self._build_input(inp, pops) for inp in self.inputs]
        spike_mons = list(dict.fromkeys(m.population for m in self.monitors if isinstance(m, SpikeMonitor)))
        spike_ids = {m.population: np.asarray(m.ids, np.int64) for m in self.monitors
                     if isinstance(m, SpikeMonitor) and m.ids is not None}
        for name in spike_mons:
            if pops[name].kind == "neuron" and pops[name].model.threshold is None:
                raise ModelError(f"spike monitor on '{name}': its model '{pops[name].model.name}' has no "
                                 f"threshold, so it never spikes")
        state_mons = [self._build_state_monitor(m, pops) for m in self.monitors
                      if isinstance(m, StateMonitor)]
        return BuiltNetwork(self.dt, self.seed, pops, projs, inputs, spike_mons, state_mons, self.hash(),
                            spike_ids, signals)

    def _build_signal(self, sig: Signal) -> BuiltSignal:
        dim = dim_of(sig.values)
        values = np.asarray(plain(sig.values), dtype=float)
        return BuiltSignal(sig.name, sig.dt, values, sig.components,
                           DIMENSIONLESS if dim is None else dim, sig.names)

    def _build_population(self, pop: Population, rng) -> BuiltPopulation:
        where = f"population '{pop.name}'"
        if isinstance(pop.model, SpikeSource):
            steps = _to_steps_round(pop.model.times, self.dt)
            order = np.lexsort((pop.model.ids, steps))
            return BuiltPopulation(pop.name, pop.size, "spikes", spike_steps=steps[order],
                                   spike_ids=pop.model.ids[order])
        if isinstance(pop.model, PoissonSource):
            return BuiltPopulation(pop.name, pop.size, "poisson",
                                   rate=_dist.resolve(pop.model.rate, pop.size, rng, where + " rate", hertz.dim))
        model = pop.model
        parsed = parse(model, where)
        signals = getattr(self, "_signal_dims", {})
        for name in parsed.dims:
            if name in signals:
                owner = next(s.name for s in self.signals.values() if name in s.names)
                raise ModelError(f"{where}: its model declares '{name}', which is a name of signal "
                                 f"'{owner}'; rename one of them")
        check_neuron_model(parsed, model, where, signals)
        params = resolve_params(parsed, model, pop.params, pop.size, where)
        for name in POSITIVE.get(template_of(model), ()):
            v = np.asarray(params[name])
            if np.any(v <= 0):
                raise ModelError(f"{where} parameter '{name}' must be > 0, got {v[v <= 0].flat[0]:g}"
                                 f"{'' if v.ndim == 0 else ' for some neurons'}")
        init = {}
        given = {**model.init, **pop.init}
        for var in given:
            if var not in parsed.state:
                raise ModelError(f"{where}: cannot initialise '{var}'; state variables are {parsed.state}")
        for var in parsed.state:
            if var in params:      # non-constant parameter: its value is its initial value
                init[var] = _dist.resolve(params.pop(var), pop.size, rng, f"{where} '{var}'")
            else:
                init[var] = _dist.resolve(given.get(var, 0.0), pop.size, rng,
                                          f"{where} initial value of '{var}'", parsed.dims[var])
                check_magnitude(init[var], f"{where} initial value of '{var}'", parsed.dims[var], given.get(var))
        # the template's bounds: (name, outside the bound, the bound in words)
        bounds = [(name, lambda v: v < 0, "must be >= 0 (a concentration or rate)")
                  for name in NONNEGATIVE.get(template_of(model), ())]
        bounds += [(name, lambda v, top=top: v > top, f"must be <= {top:g}")
                   for name, top in AT_MOST.get(template_of(model), {}).items()]
        for name, outside, rule in bounds:
            v = np.asarray(params.get(name, init.get(name)), dtype=float)
            if np.any(outside(v)):
                what = "parameter" if name in params or name not in given else "initial value of"
                raise ModelError(f"{where} {what} '{name}' {rule}, "
                                 f"got {v[outside(v)].flat[0]:g}{'' if v.ndim == 0 else ' for some neurons'}")
        refractory = model.refractory
        if isinstance(refractory, str):       # a condition, checked with the equations above
            refractory = 0.0
        refractory = to_si(refractory, f"{where} refractory period", second.dim)
        if refractory < 0:
            raise ModelError(f"{where}: refractory period must be >= 0, got {refractory}")
        check_magnitude(refractory, f"{where} refractory period", second.dim, model.refractory)
        if model.threshold is None and model.reset is not None:
            raise ModelError(f"{where}: a reset needs a threshold")
        every = 1 if pop.dt is None else round(pop.dt / self.dt)
        if every > 1 and refractory > 0:
            raise ModelError(f"{where}: a refractory period counts the network's steps, not its own dt "
                             f"{pop.dt:g} s; give a refractory condition (refractory=\"...\") or no dt")
        for var, target in model.receptors.items():
            if target not in parsed.state:
                raise ModelError(f"{where}: receptor '{var}' targets unknown variable '{target}'")
        for target, scale in model.weight_scale.items():
            if scale not in parsed.state:
                raise ModelError(f"{where}: the weights into '{target}' are scaled by '{scale}', which must be a "
                                 f"variable of the neuron (not a constant), so that synapses read it")
        if model.method == "exact":
            for a, b in model.distinct:
                same = np.asarray(params[a]) == np.asarray(params[b])
                if np.any(same):
                    raise ModelError(
                        f"{where}: {a} equals {b} "
                        f"({np.broadcast_to(np.asarray(params[a], float), same.shape)[same].flat[0]:g} s"
                        f"{'' if same.ndim == 0 else ' for some neurons'}); the exact solution divides by "
                        f"their difference: make them differ (e.g. by 1 us) or choose method='euler'")
        condition = model.refractory.strip() if isinstance(model.refractory, str) else None
        return BuiltPopulation(pop.name, pop.size, "neuron", model, parsed, params, init, refractory,
                               held_steps(refractory, model.refractory_counting, self.dt), condition, every)

    def _build_projection(self, proj: Projection, pops, rng) -> BuiltProjection:
        where = f"projection '{proj.name}'"
        pre, post = pops[proj.pre], pops[proj.post]
        if post.kind != "neuron":
            raise ModelError(f"{where}: post population '{post.name}' has no state to drive")
        target = post.model.receptors.get(proj.receptor, proj.receptor)
        if target not in post.parsed.state:
            raise ModelError(f"{where}: '{proj.receptor}' is neither a receptor "
                             f"{sorted(post.model.receptors)} nor a state variable of '{post.name}'")
        n_pre = pre.size if proj.pre_ids is None else len(proj.pre_ids)
        n_post = post.size if proj.post_ids is None else len(proj.post_ids)
        scale = post.model.weight_scale.get(target)
        if isinstance(proj.connector, _conn.Convolution):
            if scale:
                raise ModelError(f"{where}: a Convolution adds its weights to '{target}' as they are; "
                                 f"'{post.model.name}' scales them by '{scale}': connect it with another connector")
            return self._build_convolution(proj, pre, post, target, n_pre, n_post, rng, where)
        i, j, w_conn, d_conn = proj.connector.build(n_pre, n_post, rng, where)
        if proj.pre_ids is not None or proj.post_ids is not None:    # views: the parents' ids, re-sorted
            i = i if proj.pre_ids is None else proj.pre_ids[i]
            j = j if proj.post_ids is None else proj.post_ids[j]
            i, j, w_conn, d_conn = _conn._sorted(i, j, w_conn, d_conn)
        n = len(i)
        # a scaled receptor takes weights in its variable's unit over the scale's
        target_dim = post.parsed.dims[target] / post.parsed.dims[scale] if scale else post.parsed.dims[target]
        syn = self._synapse_model(proj, target_dim, n, rng, where)
        wdim = syn["dims"]["w"]
        if proj.weight is not None:
            w = _dist.resolve(proj.weight, n, rng, f"{where} weight", wdim)
        elif w_conn is not None:
            w = np.asarray(w_conn, dtype=float)
        else:
            raise ModelError(f"{where}: no weight given and the connector defines none")
        check_magnitude(w, f"{where} weight", wdim, proj.weight)
        if proj.set_w is not None:      # drawn above all the same, so that later draws stay as they were
            if proj.set_w.shape != i.shape or _synapses_fingerprint(i, j) != proj.set_w_synapses:
                raise ModelError(f"{where}: its synapses are not those its weights were set for "
                                 f"(set_weights); the seed, a size or a connector has changed: set them again")
            w = proj.set_w.copy()
        if proj.delay is not None:
            d = _dist.resolve(proj.delay, n, rng, f"{where} delay", second.dim)
            check_magnitude(d, f"{where} delay", second.dim, proj.delay)
        elif d_conn is not None:
            d = np.asarray(d_conn, dtype=float)
        else:
            d = np.full(n, self.dt)
        steps = _delay_steps(d, self.dt, f"{where} delay", proj.delay_rounding)
        if n and steps.min() < 1:
            raise ModelError(f"{where}: delays must be at least one time step ({self.dt} s), "
                             f"got {d[steps.argmin()]} s")
        model = proj.synapse
        if proj.on_pre is not None:
            deliver = proj.on_pre
        elif model.delivers(target):     # the model's on_pre delivers (see spikemem.synapses)
            if n and steps.max() != 1:
                raise ModelError(f"{where}: the synapse model '{model.name}' delivers in its own on_pre "
                                 f"('{target}_post'), when the presynaptic neuron fires, so the projection "
                                 f"takes a delay of one time step ({self.dt} s), got {d[steps.argmax()]} s")
            deliver = ""
        else:     # a summed equation delivers by itself
            deliver = "" if syn["summed"] else post.model.delivery(target)
        # a delivery written in connect(on_pre=...) may take any sign
        ruled = proj.on_pre is None or proj.on_pre.strip() == post.model.delivery(target)
        sign = weight_sign(post.model, target) if ruled else None
        self._check_sign(proj, post, target, sign, w, syn, where)
        return BuiltProjection(proj.name, proj.pre, proj.post, i, j, w, steps, target, deliver.strip(), wdim,
                               syn["equations"], model.on_pre.strip(), model.on_post.strip(), model.method,
                               syn["namespace"], syn["state"], syn["dims"], sign, model.switch)

    def _build_linked(self, proj: Projection, pops, built: list, rng) -> BuiltProjection:
        """A projection one side of which is the synapses of an earlier projection
        (``proj.linked``): summed variables only, recomputed every step, as
        Brian2's ``Synapses(astrocytes, synapses, 'x_post = ... (summed)')`` and
        ``Synapses(synapses, astrocytes, 'y_post = x_pre (summed)')``."""
        where = f"projection '{proj.name}'"
        side = proj.linked
        other_name, pop_name = (proj.pre, proj.post) if side == "pre" else (proj.post, proj.pre)
        other = next(b for b in built if b.name == other_name)
        pop = pops[pop_name]
        if other.conv is not None:
            raise ModelError(f"{where}: projection '{other_name}' is a convolution, whose synapses are not "
                             f"listed; link to a projection with an explicit connector")
        if pop.kind != "neuron":
            raise ModelError(f"{where}: population '{pop_name}' is a spike source, which has no variables "
                             f"to sum into or read")
        model = proj.synapse
        for given, what in ((model.on_pre.strip() or None, "on_pre"), (model.on_post.strip() or None, "on_post"),
                            (proj.on_pre, "on_pre"), (proj.delay, "delay")):
            if given is not None:
                raise ModelError(f"{where}: a projection onto or from the synapses of '{other_name}' sets "
                                 f"summed variables every step (no spikes are delivered); it takes no "
                                 f"{what}, got {given!r}")
        ids = proj.post_ids if side == "pre" else proj.pre_ids
        n_pop = pop.size if ids is None else len(ids)
        n_pre, n_post = (other.n_synapses, n_pop) if side == "pre" else (n_pop, other.n_synapses)
        sizes = (f"{n_pre} synapses of '{other_name}' -> {n_post} neurons of '{pop_name}'" if side == "pre" else
                 f"{n_pre} neurons of '{pop_name}' -> {n_post} synapses of '{other_name}'")
        i, j, w_conn, _ = proj.connector.build(n_pre, n_post, rng, f"{where} ({sizes})")
        if ids is not None:
            i, j = (i, ids[j]) if side == "pre" else (ids[i], j)
            i, j, w_conn, _ = _conn._sorted(i, j, w_conn, None)
        lines = [line for line in model.equations.splitlines() if "(summed)" in line]
        if not lines:
            raise ModelError(f"{where}: a projection onto or from the synapses of '{other_name}' sums "
                             f"variables ('x_post = ... : unit (summed)'); the synapse model "
                             f"'{model.name}' has no summed equation")
        terms = [re.match(r"\s*(\w+)_post\s*=\s*(.*?)\s*:", line) for line in lines]
        if not all(terms):
            raise ModelError(f"{where}: summed equations are written 'x_post = expression : unit (summed)', "
                             f"got {lines}")
        targets = [m.group(1) for m in terms]
        synaptic = sorted(v for v in other.state if v != "w")
        for target in targets:
            if side == "post" and target not in other.state:
                raise ModelError(f"{where}: sums into '{target}_post', but projection '{other_name}' has no "
                                 f"synaptic variable '{target}' (its variables: {synaptic}); declare it in "
                                 f"its synapse model, e.g. '{target} : 1'")
            if side == "pre" and target not in pop.parsed.state:
                raise ModelError(f"{where}: sums into '{target}_post', which is not a state variable of "
                                 f"population '{pop_name}'")
        if side == "pre":
            for m in terms:
                for name in re.findall(r"\b(\w+)_pre\b", m.group(2)):
                    if name != "w" and name not in other.state:
                        raise ModelError(f"{where}: reads '{name}_pre', but projection '{other_name}' has no "
                                         f"synaptic variable '{name}' (its variables: {synaptic})")
        target = targets[0]
        target_dim = other.dims[target] if side == "post" else pop.parsed.dims[target]
        n = len(i)
        if proj.weight is not None:
            raise ModelError(f"{where}: a projection onto or from synapses has no weight; got weight="
                             f"{proj.weight!r} (give a factor of each synapse as a parameter of its model)")
        syn = self._synapse_model(proj, target_dim, n, rng, where, weighted=False)
        if "/dt" in syn["equations"]:
            raise ModelError(f"{where}: a projection onto or from synapses holds no differential equations; "
                             f"give them to the population or to projection '{other_name}'")
        # no weight: ones, which nothing reads
        return BuiltProjection(proj.name, proj.pre, proj.post, i, j, np.ones(n), np.ones(n, np.int64), target, "",
                               DIMENSIONLESS,
                               syn["equations"], "", "", model.method, syn["namespace"], syn["state"],
                               syn["dims"], None, model.switch, linked=side)

    def _build_convolution(self, proj: Projection, pre, post, target, n_pre, n_post, rng, where):
        """A Convolution kept as its kernel (``BuiltConvolution``), with what the
        explicit synapses would have: static weights, one delay, spike events or a
        summed ``x_post = w*y_pre``."""
        conn = proj.connector
        if proj.pre_ids is not None or proj.post_ids is not None:
            raise ModelError(f"{where}: a Convolution connects whole populations (its sheet), not views")
        conn.check(n_pre, n_post, where)
        model = proj.synapse
        syn = self._synapse_model(proj, post.parsed.dims[target], 0, rng, where)
        if model.on_pre.strip() or model.on_post.strip() or syn["state"] or "/dt" in syn["equations"]:
            raise ModelError(f"{where}: a Convolution holds one static weight per tap; the synapse model "
                             f"'{model.name}' has per-synapse state or plasticity (use an explicit "
                             f"connector such as FromMatrix for plastic synapses)")
        wdim = syn["dims"]["w"]
        kernel = conn.kernels()
        taps = kernel != 0
        if proj.weight is not None:
            if isinstance(proj.weight, (_dist.Uniform, _dist.Normal)) or np.ndim(plain(proj.weight)):
                raise ModelError(f"{where}: a Convolution takes its weights from the kernel, or one "
                                 f"weight= for every tap; got {proj.weight!r}")
            kernel = np.where(taps, float(to_si(proj.weight, f"{where} weight", wdim)), 0.0)
        check_magnitude(kernel[taps], f"{where} weight", wdim, proj.weight)
        if proj.set_w is not None:
            raise ModelError(f"{where}: a Convolution's weights are its kernel; set_weights does not apply")
        steps = 1
        if proj.delay is not None:
            if isinstance(proj.delay, (_dist.Uniform, _dist.Normal)) or np.ndim(plain(proj.delay)):
                raise ModelError(f"{where}: a Convolution has one delay for every synapse, got {proj.delay!r}")
            d = float(to_si(proj.delay, f"{where} delay", second.dim))
            check_magnitude(d, f"{where} delay", second.dim, proj.delay)
            steps = int(_delay_steps(np.array([d]), self.dt, f"{where} delay", proj.delay_rounding)[0])
            if steps < 1:
                raise ModelError(f"{where}: delays must be at least one time step ({self.dt} s), got {d} s")
        source = None
        if syn["summed"]:
            target, source = _summed_terms(syn["equations"], pre, post, where)
            deliver = ""
            for given, what in ((proj.on_pre, "on_pre"), (proj.delay, "delay")):
                if given is not None:
                    raise ModelError(f"{where}: a summed Convolution sets '{target}_post' every step from "
                                     f"'{source}_pre' (no spikes are delivered); it takes no {what}, "
                                     f"got {given!r}")
        else:
            deliver = f"{target}_post += w"
            if proj.on_pre is not None and proj.on_pre.strip() != deliver:
                raise ModelError(f"{where}: a Convolution delivers '{deliver}'; it takes no on_pre of its "
                                 f"own, got {proj.on_pre!r}")
        sign = weight_sign(post.model, target)
        self._check_sign(proj, post, target, sign, kernel[taps], syn, where)
        conv = BuiltConvolution(kernel, taps, conn.class_map(), conn.boundary == "periodic", steps, source,
                                conn.expected_synapses(n_pre, n_post))
        empty = np.zeros(0, np.int64)
        return BuiltProjection(proj.name, proj.pre, proj.post, empty, empty, np.zeros(0), empty, target,
                               deliver, wdim, syn["equations"], "", "", model.method, syn["namespace"], {},
                               syn["dims"], sign, None, conv)

    @staticmethod
    def _check_sign(proj: Projection, post: BuiltPopulation, target, sign, w, syn, where):
        """PyNN's sign convention on a template's receptors (``neurons.SIGNS``):
        the weights, and a plastic rule's bounds, take the receptor's sign
        (``Simulation.set`` holds written weights to it as well)."""
        if sign is None:
            return
        rule = "<= 0" if sign < 0 else ">= 0"
        if sign < 0:
            why = f"inhibitory weights of the current-based '{post.model.name}' are negative"
        elif target.startswith("gsyn"):
            why = f"the conductances of '{post.model.name}' are never negative"
        elif target in post.model.weight_scale:
            why = f"a spike raises '{target}' of '{post.model.name}' by {post.model.weight_scale[target]}*w"
        else:
            why = "inhibition goes to receptor 'inh' with negative weights"
        wrong = np.asarray(w)[sign * np.asarray(w) < 0]
        if wrong.size:
            raise ModelError(f"{where}: weights on receptor '{proj.receptor}' ('{target}') must be {rule}, "
                             f"got {wrong[0]:g} ({wrong.size} of {np.size(w)}) (PyNN's convention: {why})")
        # a plastic weight stays within [w_min, w_max]: the bound on the wrong side must keep the sign
        bound = "w_max" if sign < 0 else "w_min"
        values = np.asarray(syn["namespace"].get(bound, syn["state"].get(bound, np.zeros(0))))
        wrong = values[sign * values < 0]
        if wrong.size:
            raise ModelError(f"{where}: the synapse model's {bound} on receptor '{proj.receptor}' "
                             f"('{target}') must be {rule}, got {wrong.flat[0]:g}, so that plastic weights "
                             f"keep the receptor's sign (PyNN's convention: {why})")

    @staticmethod
    def _synapse_model(proj: Projection, target_dim, n, rng, where, weighted=True) -> dict:
        """Parse the synapse equations and give every synaptic variable its values;
        ``weighted=False``: a model without the weight ``w`` (synapse-targeting projections)."""
        model = proj.synapse
        unit = "1" if target_dim.is_dimensionless else target_dim._str_representation(python_code=True)
        equations = model.equations_for(unit)
        parsed = parse(SynapseModel(equations, params=model.params), f"{where} synapse model")
        if not weighted and "w" in parsed.state:
            raise ModelError(f"{where}: a projection onto or from synapses declares no weight 'w' (the "
                             f"synapses it links to have theirs, of the same name); give a factor of "
                             f"each synapse another name")
        if weighted and "w" not in parsed.state:
            raise ModelError(f"{where}: the synapse model must declare the weight 'w' "
                             f"(e.g. 'w : weight'); it declares {sorted(parsed.dims)}")
        params = resolve_params(parsed, model, proj.params, n, f"{where} synapse model")
        given = {**model.init, **proj.init}
        for var in given:
            if var not in parsed.state or var == "w":
                raise ModelError(f"{where}: cannot initialise '{var}'; synaptic variables are "
                                 f"{sorted(v for v in parsed.state if v != 'w')} (give the weight as weight=)")
        namespace, state = {}, {}
        for name, v in params.items():
            if name in parsed.state or np.ndim(v):
                state[name] = _dist.resolve(v, n, rng, f"{where} '{name}'")
            else:
                namespace[name] = float(v)
        for var in parsed.state:
            if var != "w" and var not in state:
                state[var] = _dist.resolve(given.get(var, 0.0), n, rng,
                                           f"{where} initial value of '{var}'", parsed.dims[var])
        summed = any("summed" in eq.flags for eq in parsed.equations.values())
        return {"equations": equations, "namespace": namespace, "state": state,
                "dims": parsed.dims, "summed": summed}

    def _build_input(self, inp: CurrentInput, pops) -> BuiltInput:
        pop = pops[inp.population]
        where = f"current input on '{inp.population}'"
        if pop.kind != "neuron" or inp.variable not in pop.init:
            raise ModelError(f"{where}: '{inp.variable}' is not a state variable of the population")
        dim = pop.parsed.dims[inp.variable]
        values = to_si(inp.values, f"{where} values", dim)
        check_magnitude(values, f"{where} values", dim, inp.values)
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = np.repeat(values[:, None], pop.size, axis=1)
        if values.shape != (len(inp.times), pop.size):
            raise ModelError(f"{where}: values must have shape ({len(inp.times)},) or "
                             f"({len(inp.times)}, {pop.size}), got {np.shape(inp.values)}")
        steps = _to_steps_round(inp.times, self.dt)
        if np.any(np.diff(steps) <= 0):
            raise ModelError(f"{where}: times must increase by at least one step")
        return BuiltInput(inp.population, inp.variable, steps, values)

    def _build_state_monitor(self, m: StateMonitor, pops):
        pop = pops[m.population]
        where = f"state monitor on '{m.population}'"
        if pop.kind != "neuron":
            raise ModelError(f"{where}: spike sources have no state")
        for var in m.variables:
            if var not in pop.init:
                raise ModelError(f"{where}: unknown variable '{var}'; state variables are {sorted(pop.init)}")
        ids = np.arange(pop.size) if m.ids is None else np.asarray(m.ids, dtype=np.int64)
        if ids.size == 0 or ids.min() < 0 or ids.max() >= pop.size:
            raise ModelError(f"{where}: neuron ids must be within [0, {pop.size})")
        return StateMonitor(m.population, m.variables, ids, m.every)

    # --- files
    def spec(self, signal_values: bool = True) -> dict:
        """The definition as JSON-ready data (``save``). ``signal_values=False`` gives
        each signal's samples as their digest, which is all ``hash`` needs: a long
        signal's samples as Python numbers would take many times their own memory."""
        def pop_spec(p: Population):
            if isinstance(p.model, SpikeSource):
                m = {"kind": "spikes", "times": p.model.times.tolist(), "ids": p.model.ids.tolist()}
            elif isinstance(p.model, PoissonSource):
                m = {"kind": "poisson", "rate": _dist.to_spec(p.model.rate)}
            else:
                m = {"kind": "neuron", **p.model.spec()}
            return {"name": p.name, "size": p.size, "model": m,
                    "params": {k: _dist.to_spec(plain(v)) for k, v in p.params.items()},
                    "init": {k: _dist.to_spec(plain(v)) for k, v in p.init.items()},
                    **({} if p.dt is None else {"dt": p.dt})}     # only where given: other networks keep their hash

        def proj_spec(p: Projection):
            spec = {"name": p.name, "pre": p.pre, "post": p.post,
                    "connector": p.connector.spec(), "weight": _dist.to_spec(plain(p.weight)),
                    "delay": _dist.to_spec(plain(p.delay)), "receptor": p.receptor,
                    "on_pre": p.on_pre, "synapse": p.synapse.spec(),
                    "params": {k: _dist.to_spec(plain(v)) for k, v in p.params.items()},
                    "init": {k: _dist.to_spec(plain(v)) for k, v in p.init.items()}}
            # keys only where used, so that networks without them keep their hash
            for key in ("pre_ids", "post_ids"):
                if getattr(p, key) is not None:
                    spec[key] = getattr(p, key).tolist()
            if p.delay_rounding is not None:
                spec["delay_rounding"] = p.delay_rounding
            if p.set_w is not None:
                spec["set_weights"] = {"w": p.set_w.tolist(), "synapses": p.set_w_synapses}
            return spec

        def mon_spec(m):
            if isinstance(m, SpikeMonitor):
                return {"kind": "spikes", "population": m.population,
                        **({} if m.ids is None else {"ids": m.ids.tolist()})}
            return {"kind": "state", "population": m.population, "variables": list(m.variables),
                    "ids": None if m.ids is None else np.asarray(m.ids).tolist(), "every": m.every}

        return {
            "format": "spikemem-network", "version": FORMAT_VERSION, "dt": self.dt, "seed": self.seed,
            "populations": [pop_spec(p) for p in self.populations.values()],
            "projections": [proj_spec(p) for p in self.projections],
            "inputs": [{"population": c.population, "times": np.asarray(c.times).tolist(),
                        "values": np.asarray(plain(c.values)).tolist(), "variable": c.variable}
                       for c in self.inputs],
            "monitors": [mon_spec(m) for m in self.monitors],
            # only where used, so that networks without signals keep their hash
            **({"signals": [{"name": g.name, "dt": g.dt, **_samples(g.values, signal_values),
                             "components": list(g.components),
                             "dim": list(dim_of(g.values)._dims) if dim_of(g.values) is not None else None}
                            for g in self.signals.values()]} if self.signals else {}),
        }

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.spec(signal_values=False), sort_keys=True).encode()).hexdigest()[:16]

    def save(self, path):
        """Write the definition as JSON (atomically: temp file, then rename)."""
        from .results import atomic_write
        text = json.dumps(self.spec(), indent=1)
        with atomic_write(path) as tmp, open(tmp, "w") as f:
            f.write(text)

    @classmethod
    def load(cls, path) -> "Network":
        try:
            with open(path) as f:
                spec = json.load(f)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelError(f"{path}: not a readable network file ({e})") from None
        if not isinstance(spec, dict) or spec.get("format") != "spikemem-network":
            raise ModelError(f"{path}: not a spikemem network file")
        if spec.get("version") != FORMAT_VERSION:
            raise ModelError(f"{path}: network file version {spec.get('version')} "
                             f"(this spikemem reads {FORMAT_VERSION})")
        try:
            return cls.from_spec(spec)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{path}: malformed network file ({e!r})") from None

    @classmethod
    def from_spec(cls, spec: dict) -> "Network":
        net = cls(spec["dt"], spec["seed"])
        for p in spec["populations"]:
            m = p["model"]
            if m["kind"] == "spikes":
                net.spike_source(p["name"], p["size"], np.asarray(m["times"], float), m["ids"])
            elif m["kind"] == "poisson":
                net.poisson_source(p["name"], p["size"], _dist.from_spec(m["rate"]))
            elif m["kind"] != "neuron":
                raise ModelError(f"population {p['name']!r}: unknown kind {m['kind']!r} "
                                 f"(one of 'neuron', 'spikes', 'poisson')")
            else:
                model = NeuronModel.from_spec({k: v for k, v in m.items() if k != "kind"})
                net.population(p["name"], p["size"], model,
                               {k: _dist.from_spec(v) for k, v in p["params"].items()},
                               {k: _dist.from_spec(v) for k, v in p["init"].items()}, p.get("dt"))
        def side(p, key):
            name = p[key]
            ids = p.get(key + "_ids")
            return name if ids is None or name not in net.populations else net.populations[name][ids]

        for p in spec["projections"]:
            net.connect(side(p, "pre"), side(p, "post"), _conn.from_spec(p["connector"]),
                        _dist.from_spec(p["weight"]), _dist.from_spec(p["delay"]),
                        p["receptor"], p["on_pre"], p["name"],
                        SynapseModel.from_spec(p["synapse"]) if "synapse" in p else None,
                        {k: _dist.from_spec(v) for k, v in p.get("params", {}).items()},
                        {k: _dist.from_spec(v) for k, v in p.get("init", {}).items()},
                        p.get("delay_rounding"))
            if "set_weights" in p:
                net.projections[-1].set_w = np.asarray(p["set_weights"]["w"], dtype=float)
                net.projections[-1].set_w_synapses = p["set_weights"]["synapses"]
        for g in spec.get("signals", ()):
            values = np.asarray(g["values"], dtype=float)
            if g.get("dim") is not None:
                values = Quantity(values, dim=get_or_create_dimension(g["dim"]))
            net.signal(g["name"], values, g["dt"], g["components"])
        for c in spec["inputs"]:
            net.current(c["population"], np.asarray(c["times"]), np.asarray(c["values"]), c["variable"])
        for m in spec["monitors"]:
            if m["kind"] == "spikes":
                net.record_spikes(m["population"], m.get("ids"))
            elif m["kind"] != "state":
                raise ModelError(f"monitor of {m['population']!r}: unknown kind {m['kind']!r} "
                                 f"(one of 'spikes', 'state')")
            else:
                net.record_state(m["population"], m["variables"], m["ids"], m["every"])
        return net


def _summed_terms(equations: str, pre, post, where) -> tuple[str, str]:
    """(post target, pre source) of a convolution's ``target_post = w*source_pre (summed)``,
    the one summed form a convolution computes."""
    lines = [line for line in equations.splitlines() if "(summed)" in line]
    m = re.fullmatch(r"\s*(\w+)_post\s*=\s*(?:w\s*\*\s*(\w+)_pre|(\w+)_pre\s*\*\s*w)\s*:.*", lines[0]) \
        if len(lines) == 1 else None
    if m is None:
        raise ModelError(f"{where}: a Convolution sums one term 'x_post = w*y_pre : ... (summed)'; "
                         f"got {[line.strip() for line in lines]}")
    target, source = m.group(1), m.group(2) or m.group(3)
    if pre.kind != "neuron" or source not in pre.init:
        raise ModelError(f"{where}: the summed term reads '{source}_pre', which is not a state variable "
                         f"of '{pre.name}'")
    if target not in post.init:
        raise ModelError(f"{where}: the summed term writes '{target}_post', which is not a state variable "
                         f"of '{post.name}'")
    return target, source


def model_identifiers(model) -> set:
    """Every identifier a neuron model's equations, threshold and reset use."""
    from brian2.utils.stringtools import get_identifiers
    from brian2 import Equations
    eqs = Equations(model.equations)
    texts = [str(eq.expr) for eq in eqs.values() if eq.expr is not None] + [model.threshold or "",
                                                                             model.reset or ""]
    return {n for text in texts for n in get_identifiers(text)}


def _check_reserved(names, where):
    """Signal names must not be Brian2's own (units, constants, functions, clock names)."""
    from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, DEFAULT_UNITS
    from .equations import _IMPLICIT
    for n in names:
        if n in DEFAULT_UNITS or n in DEFAULT_CONSTANTS or n in DEFAULT_FUNCTIONS or n in _IMPLICIT \
                or n.startswith("xi_"):
            raise ModelError(f"{where}: {n!r} is a name the model language reserves (a unit, constant, "
                             f"function or clock variable); choose another")


def _samples(values, listed: bool) -> dict:
    """A signal's samples in a spec: listed, or their digest (shape and bytes)."""
    values = np.ascontiguousarray(np.asarray(plain(values), dtype=float))
    if listed:
        return {"values": values.tolist()}
    return {"values_sha256": hashlib.sha256(repr(values.shape).encode() + values.tobytes()).hexdigest()}


def _synapses_fingerprint(i, j) -> str:
    ij = np.stack([np.asarray(i, np.int64), np.asarray(j, np.int64)])
    return hashlib.sha256(ij.tobytes()).hexdigest()[:16]


def _to_steps_round(times, dt) -> np.ndarray:
    return np.rint(np.asarray(times, dtype=float) / dt).astype(np.int64)


def _delay_steps(times, dt, where, rounding=None) -> np.ndarray:
    """Delays in whole steps: exact (``rounding`` None), or rounded to the nearest
    step (halves up, as NEST), down or up. Each compares with a tolerance of 1e-6
    steps, since 0.3 ms / 0.1 ms is 2.9999999... and 0.15 ms / 0.1 ms 1.4999999..."""
    x = np.asarray(times, dtype=float) / dt
    if rounding is None:
        steps = np.rint(x)
        bad = np.abs(x - steps) > 1e-6
        if np.any(bad):
            raise ModelError(f"{where}: {np.asarray(times)[bad][0]} s is not a whole number of "
                             f"time steps (dt = {dt} s); pass delay_rounding='round' to round delays "
                             f"to the nearest step")
    else:
        up = np.where(x > 0, np.maximum(np.ceil(x - 1e-6), 1), np.ceil(x))
        steps = {"round": np.floor(x + 0.5 + 1e-6), "floor": np.floor(x + 1e-6), "ceil": up}[rounding]
    return steps.astype(np.int64)
