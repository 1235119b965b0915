"""What every backend's simulation offers, and the checks they share.

A simulation is stateful: ``run(duration)`` continues where the last run
stopped, with membranes, traces, weights and spikes in flight kept. Between
runs a user may read and write state (``get`` / ``set``), give a spike
source new spikes (``set_spikes``), a Poisson source new rates
(``set_rates``) and a signal new values (``set_signal``). Every check happens here, before the backend touches
anything, so a bad call leaves the simulation as it was.
"""
from __future__ import annotations

import contextlib
import hashlib
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np
from brian2 import Quantity, hertz, second

from ..errors import ModelError
from ..network import BuiltNetwork, BuiltPopulation, BuiltProjection
from ..progress import progress as _progress
from ..units import keep_units, to_si

#: what each kind of built population is, as messages name it
KINDS = {"neuron": "population of neurons", "spikes": "spike-source array", "poisson": "Poisson source"}


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _plain(options: dict) -> dict:
    """Options as JSON-friendly values (an object by its ``str``)."""
    return {k: v if isinstance(v, (bool, int, float, str, type(None))) else str(v) for k, v in options.items()}


def _si(values, where, dim):
    """``to_si``, also checking the units of a list of quantities (``[5*ms, 7*ms]``),
    which numpy would turn into bare SI numbers."""
    if isinstance(values, (list, tuple)) and any(isinstance(v, Quantity) for v in np.ravel(
            np.asarray(values, dtype=object))):
        try:
            values = Quantity(values)
        except Exception as e:       # mixed units, or numbers mixed with quantities
            raise ModelError(f"{where}: {e}") from None
    return to_si(values, where, dim)


def _first_not_finite(values) -> int | None:
    """The flat index of the first NaN or inf among ``values`` (numbers or a
    quantity); None where there is none, or where they are not numbers at all
    (``to_si`` names that)."""
    try:
        flat = np.ravel(np.asarray(keep_units(values, "") if isinstance(values, (list, tuple)) else values,
                                   dtype=float))
    except Exception:
        return None
    bad = np.flatnonzero(~np.isfinite(flat))
    return int(bad[0]) if bad.size else None


class Simulation:
    """A network built on one backend, run in steps.

    ``run`` is the one run loop every backend shares: it checks the request,
    shows progress, times the run and asks the backend to ``_advance`` in
    chunks. ``result`` returns what the monitors recorded with one provenance
    record. A backend implements the hooks below and registers a
    ``Capabilities`` record (``spikemem.backends``).
    """

    built: BuiltNetwork
    step: int = 0                       # steps simulated so far
    name: str = "?"                     # the engine's name, as results report it
    registered_as: str | None = None    # the name it was asked for by (``brian2-cpp``, ``torch-float64``)
    packages: tuple = ()                # packages whose versions the provenance records
    chunk_steps: int | None = None      # steps per ``_advance`` while a progress bar is shown
    check_memory: bool | None = None    # refuse a run whose recordings cannot fit (``spikemem.sizing``)
    progress: bool | None = None        # ``run``'s default for ``progress`` (set by ``simulation()``)
    rate_changes: tuple = ()            # what ``set_rates`` changed, and when (the provenance lists it)

    def __init__(self, built: BuiltNetwork, **options):
        """Every backend's constructor starts here: the network, the options it
        was built with (the provenance records them) and the build clock, which
        ``_built()`` stops at the constructor's end."""
        self.built = built
        self.options = options
        # each signal's samples as this simulation runs them (set_signal replaces them)
        self.signal_values = {sig.name: sig.values for sig in built.signals}
        self.timings = {"build_s": 0.0, "run_s": 0.0}
        self._build_started = time.perf_counter()

    def _built(self) -> None:
        self.timings["build_s"] = time.perf_counter() - self._build_started

    # --- implemented by each backend
    def _prepare_run(self, n_steps: int, **options) -> None:
        """Everything before the timed loop (buffers, compilation); checks first."""
        if options:
            raise ModelError(f"{self.name} backend: run() takes no option(s) {sorted(options)}")

    def _advance(self, stop: int, report) -> int:
        """Simulate from ``self.step`` towards ``stop``; return the step reached
        (before ``stop`` only when a recording buffer is full). ``report(step)``
        may be called on the way to move the progress bar."""
        raise NotImplementedError

    def _flush(self) -> None:
        """Move what the monitors recorded out of full buffers (after each chunk)."""

    def _running(self):
        """A context held around the timed loop."""
        return contextlib.nullcontext()

    def _recorded(self, **which) -> tuple:
        """(spike trains, traces) recorded so far, as ``Result`` holds them."""
        raise NotImplementedError

    def _result_meta(self, **which) -> dict:
        """Backend-specific metadata beside the provenance record."""
        return {}

    def _get(self, owner, var: str) -> np.ndarray:
        raise NotImplementedError

    def _set(self, owner, var: str, values):
        raise NotImplementedError

    def _set_spikes(self, pop: BuiltPopulation, steps: np.ndarray, ids: np.ndarray):
        raise NotImplementedError

    def _set_signal(self, signal, values: np.ndarray):
        """Read ``signal`` (a ``BuiltSignal``) from ``values`` (K, d), SI, from the
        next step on (``self.signal_values`` holds them already). A backend without
        signals (``Capabilities.signals``) runs only networks that read none, so it
        has nothing to change."""

    def _set_rates(self, pop: BuiltPopulation, rates: np.ndarray):
        """Fire ``pop``'s neurons at ``rates`` (Hz, one per neuron, a copy of
        its own) from the next step on, the random stream going on where it is."""
        raise NotImplementedError

    # --- the run loop
    def steps_for(self, duration) -> int:
        """Whole steps in ``duration`` (seconds or a Brian2 quantity), at least one."""
        duration = to_si(duration, "duration", second.dim)
        if np.ndim(duration) != 0 or not np.isfinite(duration):
            raise ModelError(f"duration must be a finite number of seconds, got {duration!r}")
        n_steps = int(round(float(duration) / self.built.dt))
        if n_steps < 1:
            raise ModelError(f"duration {float(duration)} s is shorter than one time step")
        return n_steps

    def run(self, duration, progress=None, **options) -> None:
        """Simulate ``duration`` more seconds, continuing from where the last run stopped.

        ``progress``: None shows a bar on a terminal or in a notebook only, True /
        False force it. ``options`` are the backend's per-run options (the torch
        backend's ``inputs``). A run whose monitors would record more than this
        machine's available memory is refused first (``check_memory``).
        """
        n_steps = self.steps_for(duration)
        self._check_signals(n_steps)
        from .. import sizing
        if sizing.checking(self.check_memory):
            sizing.check_run(self.built, n_steps, self.step, getattr(self, "batch", 1))
        progress = self.progress if progress is None else progress
        t0 = time.perf_counter()
        self._prepare_run(n_steps, **options)
        end = self.step + n_steps
        self._untimed_s = 0.0
        t1 = time.perf_counter()
        with _progress(n_steps, self.name, enabled=progress) as bar, self._running():
            shown = [self.step]

            def report(step):
                if step > shown[0]:
                    bar.update(step - shown[0])
                    shown[0] = step

            chunk = self.chunk_steps if bar.enabled and self.chunk_steps else n_steps
            while self.step < end:
                stop = min(end, self.step + chunk)
                before = self.step
                reached = self._advance(stop, report)
                if not before < reached <= stop:
                    raise RuntimeError(f"{self.name} backend: _advance from step {before} towards {stop} "
                                       f"returned step {reached}")
                self.step = reached
                report(reached)
                if reached < stop:
                    self._flush()
            self._flush()
        loop = time.perf_counter() - t1 - self._untimed_s
        self.timings["build_s"] += t1 - t0 + self._untimed_s
        self.timings["run_s"] += loop

    def _check_signals(self, n_steps: int) -> None:
        """A run may not read a signal past its last sample (a signal no population
        reads does not limit it)."""
        from ..network import sample_index
        dt = self.built.dt
        last = (self.step + n_steps - 1) * dt          # the time of the run's last step
        read = {k for name in self.built.populations for k, _, _ in self.built.signal_uses(name)}
        for k, sig in enumerate(self.built.signals):
            if k not in read:
                continue
            samples = self.signal_values[sig.name].shape[0]
            if sample_index(last, dt, sig.dt) >= samples:
                raise ModelError(f"signal '{sig.name}' covers {samples * sig.dt:g} s; the run would reach "
                                 f"{(self.step + n_steps) * dt:g} s")

    def _untimed(self, seconds: float) -> None:
        """Count ``seconds`` of the current ``_advance`` as building, not running
        (code generation and compilation inside a backend's own run call)."""
        self._untimed_s += seconds

    # --- results
    def provenance(self) -> dict:
        """What produced the results: versions, backend and its options, seed, network, timings."""
        import brian2

        from .. import __version__
        versions = {"spikemem": __version__, "numpy": np.__version__, "brian2": brian2.__version__}
        for package in self.packages:
            versions[package] = _version(package)
        dt = self.built.dt
        return {"backend": self.name, "registered_as": self.registered_as, "options": _plain(self.options),
                "versions": versions,
                "seed": self.built.seed, "dt": dt, "duration": self.step * dt,
                "network_hash": self.built.hash, "timings": dict(self.timings),
                # network_hash names the definition; rate_changes, which of its rates were replaced
                **({"rate_changes": [dict(c) for c in self.rate_changes]} if self.rate_changes else {})}

    def result(self, **which):
        """Spike trains, traces and the provenance record of everything run so far."""
        from ..results import Result
        spikes, traces = self._recorded(**which)
        spikes = {name: train if (ids := self._spike_subset(name)) is None else train.subset(ids)
                  for name, train in spikes.items()}
        return Result(spikes, traces, {**self.provenance(), **self._result_meta(**which)})

    # --- shared
    def _spike_subset(self, name: str):
        """The neuron ids a monitor of a subset of ``name`` keeps (None: all of them):
        every backend records the whole population; what is handed out keeps the subset."""
        return self.built.spike_ids.get(name)

    def _spike_trains(self, recorded) -> dict:
        """Result spike trains from {population: (list of step arrays, list of id arrays)}."""
        from ..results import SpikeTrain
        out = {}
        for name, (steps, ids) in recorded.items():
            steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
            ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
            out[name] = SpikeTrain(steps * self.built.dt, ids.astype(np.int64), self.built.populations[name].size)
        return out

    def _traces(self, buffers) -> dict:
        """Result traces from one (records, variables, neurons) array per state monitor,
        or an empty list where a monitor recorded nothing."""
        from brian2.units.fundamentalunits import get_unit
        from ..results import Trace
        traces = {}
        for mon, parts in zip(self.built.state_monitors, buffers):
            buf = np.concatenate(parts) if len(parts) else np.zeros((0, len(mon.variables), len(mon.ids)))
            times = np.arange(buf.shape[0]) * mon.every * self.built.dt
            dims = self.built.populations[mon.population].parsed.dims
            for c, var in enumerate(mon.variables):
                unit = "" if dims[var].is_dimensionless else str(get_unit(dims[var]))
                traces[f"{mon.population}.{var}"] = Trace(times, np.asarray(mon.ids), buf[:, c, :], unit)
        return traces

    @property
    def t(self) -> float:
        return self.step * self.built.dt

    def built_projection(self, name: str) -> BuiltProjection:
        for proj in self.built.projections:
            if proj.name == name:
                return proj
        raise ModelError(f"unknown projection '{name}'; projections are "
                         f"{[p.name for p in self.built.projections]}")

    def _owner(self, name: str, var: str):
        """The population or projection ``name`` and the dimension of its ``var``."""
        pop = self.built.populations.get(name)
        if pop is not None:
            if pop.kind != "neuron":
                raise ModelError(f"population '{name}' is a spike source and has no state")
            known = sorted(set(pop.init) | set(pop.params))
            if var not in known:
                raise ModelError(f"population '{name}' has no variable '{var}'; it has {known}")
            return pop, pop.parsed.dims[var], pop.size
        if name not in {p.name for p in self.built.projections}:
            raise ModelError(f"no population or projection named '{name}'")
        proj = self.built_projection(name)
        proj.refuse_convolution(f"its weights are the Convolution's kernel, fixed for the simulation "
                                f"(build another with a new kernel); read them from "
                                f"built_projection('{name}').conv")
        known = sorted({"w"} | set(proj.state) | set(proj.namespace))
        if var not in known:
            raise ModelError(f"projection '{name}' has no variable '{var}'; it has {known}")
        return proj, proj.dims[var], proj.i.size

    def get(self, name: str, var: str) -> np.ndarray:
        """A copy of ``var`` (SI floats): per neuron, or per synapse in the
        projection's synapse order (``built_projection(name).i`` / ``.j``)."""
        owner, _, _ = self._owner(name, var)
        return np.array(self._get(owner, var), dtype=np.float64, copy=True)

    def set(self, name: str, var: str, values):
        """Write ``var`` (a scalar or one value per neuron / synapse) before the next run."""
        owner, dim, size = self._owner(name, var)
        where = f"'{name}'.{var}"
        v = _si(values, where, dim)
        shared = isinstance(owner, BuiltPopulation) and var in owner.params and np.ndim(owner.params[var]) == 0
        shared = shared or (isinstance(owner, BuiltProjection) and var in owner.namespace)
        if shared:
            if np.ndim(v):
                every = "neuron" if isinstance(owner, BuiltPopulation) else "synapse"
                raise ModelError(f"{where} is shared by every {every}; "
                                 f"give one number, got shape {np.shape(v)}")
            self._set(owner, var, float(v))
            return
        v = np.broadcast_to(np.asarray(v, dtype=np.float64), (size,)) if np.ndim(v) == 0 else np.asarray(v, np.float64)
        if v.shape != (size,):
            raise ModelError(f"{where}: expected a scalar or {size} values, got shape {v.shape}")
        if isinstance(owner, BuiltProjection) and var == "w" and owner.sign is not None:    # as build() holds them
            wrong = v[owner.sign * v < 0]
            if wrong.size:
                raise ModelError(f"{where}: weights into '{owner.target}' must be "
                                 f"{'<= 0' if owner.sign < 0 else '>= 0'} (PyNN's sign convention), got {wrong[0]:g}")
        self._set(owner, var, v.copy())

    # --- learning phases
    def _switch(self, name: str) -> str:
        """The parameter that switches the learning of projection ``name`` or the
        adaptation of population ``name`` (``SynapseModel.switch``, ``NeuronModel.switch``)."""
        pop = self.built.populations.get(name)
        if pop is not None:
            switch = pop.model.switch if pop.kind == "neuron" else None
            what = f"population '{name}' ({pop.model.name if pop.model else pop.kind})"
        elif name in {p.name for p in self.built.projections}:
            proj = self.built_projection(name)
            switch = proj.switch
            what = f"projection '{name}'"
        else:
            raise ModelError(f"no population or projection named '{name}'")
        if switch is None:
            raise ModelError(f"{what} has nothing to freeze: its model has no learning switch "
                             f"(plastic synapse templates and IF_cond_exp(adaptive=True) have one)")
        return switch

    def freeze(self, name: str) -> None:
        """Stop the learning of projection ``name`` (its weights stay as they are;
        spikes are still delivered, traces keep running) or the adaptation of
        population ``name`` (its adaptive threshold stays where it is), from the next run on."""
        self.set(name, self._switch(name), 0.0)

    def unfreeze(self, name: str) -> None:
        """Let projection or population ``name`` learn or adapt again."""
        self.set(name, self._switch(name), 1.0)

    def frozen(self, name: str) -> bool:
        """Whether projection or population ``name`` is frozen (its switch is 0 everywhere)."""
        return bool(np.all(self.get(name, self._switch(name)) == 0))

    def set_spikes(self, population: str, times, ids):
        """Replace the future spikes of spike source ``population``: ``times``
        (seconds, not before ``t``) for neurons ``ids``."""
        pop = self.built.populations.get(population)
        if pop is None or pop.kind != "spikes":
            raise ModelError(f"'{population}' is not a spike-source array")
        times = np.atleast_1d(np.asarray(_si(times, f"spike times of '{population}'", second.dim),
                                         dtype=np.float64))
        ids = np.atleast_1d(np.asarray(ids))
        if times.shape != ids.shape:
            raise ModelError(f"spikes of '{population}': {times.size} times but {ids.size} ids")
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= pop.size):
            raise ModelError(f"spikes of '{population}': ids must be integers in [0, {pop.size}), got {ids.tolist()}")
        steps = np.rint(times / self.built.dt).astype(np.int64)
        if steps.size and steps.min() < self.step:
            raise ModelError(f"spikes of '{population}': time {times.min()} s is before the "
                             f"simulation's current time {self.t} s")
        order = np.lexsort((ids, steps))
        steps, ids = steps[order], ids[order].astype(np.int64)
        if steps.size > 1 and np.any((np.diff(steps) == 0) & (np.diff(ids) == 0)):
            raise ModelError(f"spikes of '{population}': a neuron spikes twice in one time step")
        self._set_spikes(pop, steps, ids)

    def set_signal(self, name: str, values):
        """Replace the samples of signal ``name`` from the next step on: (K,) or
        (K, d) values with the signal's d components and unit, read at the
        signal's dt from time 0 as the network's were (so the next run reads
        ``values[floor(t/dt)]`` from the current time ``t`` on). The torch
        backend also takes (K, trials, d): one series per trial. The network
        definition, and other simulations built from it, keep their samples."""
        sig = next((s for s in self.built.signals if s.name == name), None)
        if sig is None:
            raise ModelError(f"no signal named {name!r}; signals are {[s.name for s in self.built.signals]}")
        where = f"set_signal '{name}'"
        bad = _first_not_finite(values)
        if bad is not None:
            raise ModelError(f"{where}: value {bad} (flat index) is not finite")
        v = np.array(_si(values, f"{where} values", sig.dim), dtype=np.float64)
        d = sig.values.shape[1]
        if v.ndim == 1 and d == 1:
            v = v[:, None]
        trials = getattr(self, "batch", 1)
        shapes = [f"(K, {d})"] + ([f"(K, {trials}, {d})"] if self._signal_trials() else [])
        ok = v.ndim == 2 and v.shape[1] == d or (self._signal_trials() and v.ndim == 3 and v.shape[1:] == (trials, d))
        if not ok or v.shape[0] < 1:
            raise ModelError(f"{where}: expected values of shape {' or '.join(shapes)} (signal '{name}' has "
                             f"{d} component(s) {list(sig.names)}), got shape {v.shape}")
        self._set_signal(sig, v)
        self.signal_values = {**self.signal_values, name: v}

    def _signal_trials(self) -> bool:
        """Whether this backend takes a signal per trial ((K, trials, d) values)."""
        return False

    def set_rates(self, population: str, rates):
        """Fire Poisson source ``population`` at ``rates`` from the next step on:
        one rate or one per neuron, in Hz (a Brian2 quantity or bare numbers).
        The random stream goes on where it is (it is not seeded again). The
        network definition, and other simulations built from it, keep their rates."""
        pop = self.built.populations.get(population)
        if pop is None:
            raise ModelError(f"no population named '{population}'; populations are {sorted(self.built.populations)}")
        if pop.kind != "poisson":
            hint = "; give it new spikes with set_spikes" if pop.kind == "spikes" else ""
            raise ModelError(f"population '{population}' is a {KINDS[pop.kind]}, not a Poisson source: "
                             f"only Poisson sources have rates{hint}")
        where = f"rates of '{population}'"
        bad = _first_not_finite(rates)
        if bad is not None:
            raise ModelError(f"{where}: the rate of neuron {bad} is not finite")
        r = _si(rates, where, hertz.dim)
        r = np.full(pop.size, r) if np.ndim(r) == 0 else np.array(r, dtype=np.float64)
        if r.shape != (pop.size,):
            raise ModelError(f"{where}: expected one rate or {pop.size} (one per neuron), got shape {r.shape}")
        negative = np.flatnonzero(r < 0)
        if negative.size:
            raise ModelError(f"{where}: the rate of neuron {negative[0]} is {r[negative[0]]:g} Hz; rates must be >= 0")
        self._set_rates(pop, r)
        self.rate_changes = [*self.rate_changes, {"population": population, "t": self.t, "mean_hz": float(r.mean()),
                                                  "rates_sha256": hashlib.sha256(r.tobytes()).hexdigest()[:16]}]
