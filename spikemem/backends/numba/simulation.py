"""The numba backend: ``NumbaSimulation`` runs a built network on spikemem's engine."""
from __future__ import annotations

import re
import threading
import warnings
from contextlib import contextmanager

import numpy as np
from numba import _helperlib

from ...errors import ModelError
from ...lowering import float_dtype, lower, prepare
from ...network import BuiltPopulation
from ...progress import status
from ..contract import Simulation
from . import engine
from .schedule import integrated_when_read

CHUNK_STEPS = 2000   # steps per kernel call when a progress bar is shown
SPIKE_BUFFER = 1 << 16   # spikes held per monitor before the kernel hands them back
#: the engine's arrays that hold the static synapse storage of projection k
SYNAPSE_ARRAY = re.compile(r"^p\d+__(w|_post|_delay|_dptr|_indptr)$")
#: any array of projection k's (per synapse or per neuron; its parameters are numbers)
PROJECTION_ARRAY = re.compile(r"^p\d+__")


class NumbaSimulation(Simulation):
    """Stateful: ``run`` may be called repeatedly and continues where it stopped.

    ``threads``: how many threads run the kernel; "auto": one per
    ``engine.NEURONS_PER_THREAD`` neurons, at most one per core, where the
    network splits (see ``engine``). The spikes and states do not depend on it.
    The default is one: the threads wait for each other by spinning, which
    pays only on cores nothing else is using.

    ``strict_float``: every operation rounds as IEEE 754 prescribes, as in
    Brian2 with spikemem's strict flags (the default; spike trains agree bit
    for bit). False: the kernel is compiled with fast-math flags like Brian2's
    default C++ flags (``engine.FAST_MATH``) and a linear update is folded
    into multiply-adds (``abstract_code.render_affine``): faster, and the same
    statistics, but spike trains drift apart from the strict ones after a while.

    ``dtype``: "float64" (the default) or "float32", the type of the state
    variables, parameters, weights and per-step coefficients, as Brian2's
    ``core.default_float_dtype``; time (t, dt) stays float64. float32 halves
    the memory the neuron loops stream through each step.

    ``shared_traces``: True holds the event-driven traces that are the same on
    every synapse of a neuron once per neuron (``engine``: Diehl and Cook's
    and the pair STDP rules' traces), which makes plastic projections about a
    third of the memory and training about twice as fast; spikes follow
    Brian2's, weights and traces to rounding (not bit for bit). ``get`` of such a
    trace gives each synapse its neuron's value as its last spike left it
    (Brian2's per-synapse values are as each synapse's last event left them);
    ``set`` takes values that are the same on the synapses of each neuron.

    Random numbers (Poisson sources) come from the simulation's own stream,
    seeded with the network's seed (see ``_own_random_state``).
    """

    name = "numba"
    packages = ("numba",)
    chunk_steps = CHUNK_STEPS

    def __init__(self, built, dtype="float64", threads=1, strict_float=True, shared_traces=False):
        dtype = float_dtype(dtype, "numba")
        if threads != "auto" and (isinstance(threads, bool) or not isinstance(threads, (int, np.integer))
                                  or threads < 1):
            raise ModelError(f"numba backend: threads must be a whole number >= 1 or 'auto', got {threads!r}")
        if threads != "auto" and threads > engine.available_cores():
            # the threads wait for each other every step; more of them than cores
            # take turns on the cores instead, and the run slows by orders of magnitude
            warnings.warn(f"numba backend: threads={threads} on {engine.available_cores()} core(s): the threads "
                          f"wait for each other every step and will run far slower than on one thread",
                          RuntimeWarning, stacklevel=3)
        if not isinstance(strict_float, (bool, np.bool_)):
            raise ModelError(f"numba backend: strict_float must be True or False, got {strict_float!r}")
        if not isinstance(shared_traces, (bool, np.bool_)):
            raise ModelError(f"numba backend: shared_traces must be True or False, got {shared_traces!r}")
        super().__init__(built, dtype=np.dtype(dtype).name, threads=threads, strict_float=strict_float,
                         **({"shared_traces": True} if shared_traces else {}))
        self.objects = lower(built, dtype, integrated_when_read(built, bool(shared_traces)))
        prepare(self.objects, "numpy")     # Brian2's checks; fills the abstract code
        self.strict_float = bool(strict_float)
        self.dtype = dtype
        assembler = engine.assemble(built, self.objects, threads if threads == "auto" else int(threads),
                                    self.strict_float, dtype, bool(shared_traces))
        kernel = assembler.k
        self.threads = assembler.threads
        self.synapse_order = assembler.synapse_order
        self.shared_traces = assembler.shared       # projection index -> {trace: "pre" or "post"}
        self.source = kernel.source()
        self.module = engine.load(self.source)
        self.args = kernel.args
        self.values = kernel.values
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self._random = _helperlib.rnd_get_state(_helperlib.rnd_get_np_state_ptr())  # until seeded
        with self._own_random_state():
            self.module.seed(built.seed)
        # compile (or load from numba's cache) now, so that run_s times the simulation only
        with status(f"numba: compiling the kernel ({sum(p.size for p in built.populations.values()):,} neurons)"):
            self.module.run(0, 0, 0, *[self.values[a] for a in self.args])
        self._built()

    # --- random numbers: a stream of its own
    # The kernel draws with numba's np.random, whose state is one per thread
    # and shared by everything numba runs on it. Each simulation keeps its own
    # copy and puts it in place only while its kernel runs, so that two
    # simulations in one process (or a user's own numba code) do not shift
    # each other's draws: a network's random numbers depend on its seed alone.
    @contextmanager
    def _own_random_state(self):
        """This simulation's numba random state in place while the block runs."""
        ptr = _helperlib.rnd_get_np_state_ptr()
        outside = _helperlib.rnd_get_state(ptr)
        _helperlib.rnd_set_state(ptr, self._random)
        try:
            yield
        finally:
            self._random = _helperlib.rnd_get_state(ptr)
            _helperlib.rnd_set_state(ptr, outside)

    # --- state between runs (checked by Simulation)
    def _projection_index(self, projection) -> int:
        return next(k for k, p in enumerate(self.built.projections) if p is projection)

    def _key(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            return f"{owner.name}__{var}"
        return f"p{self._projection_index(owner)}__{var}"

    def _synapse_order(self, owner):
        """The kernel's order of ``owner``'s synapses (None: Brian2's order)."""
        if isinstance(owner, BuiltPopulation):
            return None
        return self.synapse_order.get(self._projection_index(owner))

    def _shared_side(self, owner, var):
        """"pre" or "post" where the kernel holds ``var`` once per neuron of that side."""
        if isinstance(owner, BuiltPopulation):
            return None
        return self.shared_traces.get(self._projection_index(owner), {}).get(var)

    def _get(self, owner, var):
        key = self._key(owner, var)
        side = self._shared_side(owner, var)
        if side is not None:
            # each synapse's value is its neuron's, as it was after the neuron's last spike
            return self.values[key][owner.i if side == "pre" else owner.j]
        if key in self.values:
            value, order = self.values[key], self._synapse_order(owner)
            if order is not None and np.ndim(value) == 1:
                value = np.empty_like(value)
                value[order] = self.values[key]
            return value
        # a variable no statement uses keeps its built value
        if isinstance(owner, BuiltPopulation):
            # (a shared parameter stays one number, as Brian2 returns it)
            return owner.init[var] if var in owner.init else owner.params[var]
        return owner.w if var == "w" else owner.state[var] if var in owner.state else owner.namespace[var]

    def _set(self, owner, var, values):
        key = self._key(owner, var)
        old = self.values.get(key)
        side = self._shared_side(owner, var)
        if side is not None:
            self._set_shared(owner, var, side, key, values)
            return
        if np.ndim(values) == 0:         # a shared parameter
            self.values[key] = self.dtype(values) if isinstance(old, np.floating) else values
            return
        # the kernel's type (float32 or float64): a new one would compile it again
        values = np.asarray(values, old.dtype if isinstance(old, np.ndarray) else self.dtype)
        if engine.is_one_value(old):
            # one number for every synapse: stays one while the new values are
            # one too; else the kernel is compiled for a full array (see run)
            one = engine.one_value(values)
            if one is not None:
                self.values[key] = one
                return
        order = self._synapse_order(owner)
        if order is not None and np.ndim(values) == 1:
            values = values[order]
        self.values[key] = engine.aligned(values)

    def _set_shared(self, owner, var, side, key, values):
        """A trace held once per neuron takes values that are the same on all
        synapses of each neuron; others would need storage per synapse."""
        index = owner.i if side == "pre" else owner.j
        values = np.broadcast_to(np.asarray(values, self.values[key].dtype), index.shape)
        per_neuron = self.values[key].copy()
        per_neuron[index] = values
        if (per_neuron[index] != values).any():
            raise ModelError(f"'{owner.name}'.{var} is held once per {side}synaptic neuron "
                             f"(shared_traces=True): give values equal on the synapses of each {side}synaptic "
                             f"neuron, or build the simulation with shared_traces=False")
        self.values[key] = engine.aligned(per_neuron)

    def _widen_last_spike_steps(self):
        """Steps beyond int32: the refractory test's step counts as int64 (the
        kernel is compiled again for them)."""
        for key, value in self.values.items():
            if key.endswith("___lsstep") and value.dtype != np.int64:
                self.values[key] = engine.aligned(value.astype(np.int64))

    def _set_spikes(self, pop, steps, ids):
        self.values[f"{pop.name}__sstep"] = steps
        self.values[f"{pop.name}__sid"] = ids.astype(np.int32)
        self.values[f"{pop.name}__sptr"] = np.zeros(1, np.int64)

    def _set_rates(self, pop, rates):
        # a kernel argument: the next call reads it; one draw per neuron and step goes on as before
        self.values[f"{pop.name}__rate"] = rates

    def _set_signal(self, signal, values):
        k = self.built.signals.index(signal)
        self.values[f"sg{k}__values"] = engine.aligned(values.astype(self.dtype))

    def _prepare_buffers(self, n_steps):
        for k, mon in enumerate(self.built.state_monitors):
            first = -(-self.step // mon.every) * mon.every
            n_rec = max(0, -(-(self.step + n_steps - first) // mon.every))
            self.values[f"st{k}__buf"] = engine.aligned(np.zeros((n_rec, len(mon.variables), len(mon.ids))))
            self.values[f"st{k}__n"][:, 0] = 0
        for name in self.built.spike_monitors:
            size = self.built.populations[name].size
            cap = max(size, SPIKE_BUFFER)
            self.values[f"sm_{name}__step"] = engine.aligned(np.zeros((self.threads, cap), np.int64))
            self.values[f"sm_{name}__id"] = engine.aligned(np.zeros((self.threads, cap), np.int32))
            self.values[f"sm_{name}__n"][:, 0] = 0

    def _flush_spikes(self):
        """Each thread's buffer holds its neurons' spikes; merged by step (stable,
        so within a step in thread order, which is neuron order)."""
        for name in self.built.spike_monitors:
            n = self.values[f"sm_{name}__n"][:, 0]
            step = np.concatenate([self.values[f"sm_{name}__step"][u, :n[u]] for u in range(self.threads)])
            ids = np.concatenate([self.values[f"sm_{name}__id"][u, :n[u]] for u in range(self.threads)])
            order = np.argsort(step, kind="stable")
            self._spikes[name][0].append(step[order])
            self._spikes[name][1].append(ids[order])
            self.values[f"sm_{name}__n"][:, 0] = 0

    def _run_kernel(self, start, stop, args) -> int:
        """Run steps ``start`` to ``stop``: thread 0 here (numba's random state
        is this thread's), the others beside it; all return the same step."""
        if self.threads == 1:
            return self.module.run(start, stop, 0, *args)
        reached = [None] * self.threads

        def work(tid):
            reached[tid] = self.module.run(start, stop, tid, *args)

        helpers = [threading.Thread(target=work, args=(tid,), daemon=True) for tid in range(1, self.threads)]
        for helper in helpers:
            helper.start()
        work(0)
        for helper in helpers:
            helper.join()
        assert len(set(reached)) == 1, reached
        return reached[0]

    # --- the run loop's hooks
    def _prepare_run(self, n_steps, **options):
        super()._prepare_run(n_steps, **options)
        self._prepare_buffers(n_steps)
        if self.step + n_steps > np.iinfo(np.int32).max:
            self._widen_last_spike_steps()
        self._args = [self.values[a] for a in self.args]
        # compile now for arguments whose type ``set`` changed, so that run_s
        # times the simulation only
        self.module.run(self.step, self.step, 0, *self._args)

    def _running(self):
        return self._own_random_state()

    def _advance(self, stop, report):
        return self._run_kernel(self.step, stop, self._args)

    def _flush(self):
        self._flush_spikes()
        for k in range(len(self.built.state_monitors)):
            n = int(self.values[f"st{k}__n"][0, 0])
            self._states[k].append(self.values[f"st{k}__buf"][:n].copy())
            self.values[f"st{k}__n"][:, 0] = 0

    def _recorded(self):
        return self._spike_trains(self._spikes), self._traces(self._states)

    def _result_meta(self):
        return {"threads": self.threads, "strict_float": self.strict_float, "dtype": np.dtype(self.dtype).name}

    def synapse_bytes(self) -> float | None:
        """Synapse storage per synapse: the static arrays (target, weight,
        delay, row pointers) and, for plastic projections, every other array
        the kernel holds for them (traces per synapse or per neuron, last
        updates, the pre index and post-ordered lists on_post reads)."""
        n_synapses = sum(p.n_synapses for p in self.built.projections)
        total = sum(engine.held_bytes(v) for k, v in self.values.items()
                    if SYNAPSE_ARRAY.match(k) or (PROJECTION_ARRAY.match(k) and np.ndim(v)))
        return total / n_synapses if n_synapses else None
