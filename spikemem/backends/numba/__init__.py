"""The numba backend: ``NumbaSimulation`` runs a built network on spikemem's engine."""
from __future__ import annotations

import time

import numpy as np

from ...errors import ModelError
from ...lowering import lower, prepare
from ...network import BuiltPopulation
from ...simulation import Simulation
from ...progress import progress as _progress
from ...results import Result
from . import engine

CHUNK_STEPS = 2000   # steps per kernel call when a progress bar is shown
SPIKE_BUFFER = 1 << 16   # spikes held per monitor before the kernel hands them back


class NumbaSimulation(Simulation):
    """Stateful: ``run`` may be called repeatedly and continues where it stopped."""

    def __init__(self, built, dtype="float64"):
        if dtype not in ("float64", np.float64):
            raise ModelError(f"numba backend: dtype {dtype!r} is not supported (float64 only)")
        t0 = time.perf_counter()
        self.built = built
        self.objects = lower(built)
        prepare(self.objects, "numpy")     # Brian2's checks; fills the abstract code
        kernel = engine.Assembler(built, self.objects).assemble()
        self.source = kernel.source()
        self.module = engine.load(self.source)
        self.args = kernel.args
        self.values = kernel.values
        self.step = 0
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self.module.seed(built.seed)
        # compile (or load from numba's cache) now, so that run_s times the simulation only
        self.module.run(0, 0, *[self.values[a] for a in self.args])
        self.timings = {"build_s": time.perf_counter() - t0, "run_s": 0.0}

    # --- state between runs (checked by Simulation)
    def _key(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            return f"{owner.name}__{var}"
        k = next(k for k, p in enumerate(self.built.projections) if p is owner)
        return f"p{k}__{var}"

    def _get(self, owner, var):
        key = self._key(owner, var)
        if key in self.values:
            return self.values[key]
        # a variable no statement uses keeps its built value
        if isinstance(owner, BuiltPopulation):
            # (a shared parameter stays one number, as Brian2 returns it)
            return owner.init[var] if var in owner.init else owner.params[var]
        return owner.w if var == "w" else owner.state[var] if var in owner.state else owner.namespace[var]

    def _set(self, owner, var, values):
        self.values[self._key(owner, var)] = values

    def _set_spikes(self, pop, steps, ids):
        self.values[f"{pop.name}__sstep"] = steps
        self.values[f"{pop.name}__sid"] = ids.astype(np.int32)
        self.values[f"{pop.name}__sptr"] = np.zeros(1, np.int64)

    def _prepare_buffers(self, n_steps):
        for k, mon in enumerate(self.built.state_monitors):
            first = -(-self.step // mon.every) * mon.every
            n_rec = max(0, -(-(self.step + n_steps - first) // mon.every))
            self.values[f"st{k}__buf"] = np.zeros((n_rec, len(mon.variables), len(mon.ids)))
            self.values[f"st{k}__n"][0] = 0
        for name in self.built.spike_monitors:
            size = self.built.populations[name].size
            cap = max(size, SPIKE_BUFFER)
            self.values[f"sm_{name}__step"] = np.zeros(cap, np.int64)
            self.values[f"sm_{name}__id"] = np.zeros(cap, np.int32)
            self.values[f"sm_{name}__n"][0] = 0

    def _flush_spikes(self):
        for name in self.built.spike_monitors:
            n = int(self.values[f"sm_{name}__n"][0])
            steps, ids = self._spikes[name]
            steps.append(self.values[f"sm_{name}__step"][:n].copy())
            ids.append(self.values[f"sm_{name}__id"][:n].copy())
            self.values[f"sm_{name}__n"][0] = 0

    def run(self, duration, progress=None):
        n_steps = int(round(duration / self.built.dt))
        if n_steps < 1:
            raise ModelError(f"duration {duration} s is shorter than one time step")
        self._prepare_buffers(n_steps)
        end = self.step + n_steps
        args = [self.values[a] for a in self.args]
        index = {a: k for k, a in enumerate(self.args)}
        t0 = time.perf_counter()
        with _progress(n_steps, "numba", enabled=progress) as bar:
            while self.step < end:
                stop = min(end, self.step + (CHUNK_STEPS if bar.enabled else n_steps))
                reached = self.module.run(self.step, stop, *args)
                bar.update(reached - self.step)
                self.step = reached
                if reached < stop:          # a spike buffer is full: empty it, go on
                    self._flush_spikes()
        self._flush_spikes()
        for k in range(len(self.built.state_monitors)):
            n = int(self.values[f"st{k}__n"][0])
            self._states[k].append(self.values[f"st{k}__buf"][:n].copy())
        self.timings["run_s"] += time.perf_counter() - t0

    def result(self) -> Result:
        dt = self.built.dt
        spikes = self._spike_trains(self._spikes)
        traces = self._traces(self._states)
        import brian2, numba
        from ... import __version__
        meta = {"backend": "numba", "versions": {"spikemem": __version__, "numba": numba.__version__,
                                                 "brian2": brian2.__version__, "numpy": np.__version__},
                "seed": self.built.seed, "dt": dt, "duration": self.step * dt,
                "network_hash": self.built.hash, "timings": dict(self.timings)}
        return Result(spikes, traces, meta)
