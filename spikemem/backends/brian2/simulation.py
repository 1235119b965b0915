"""The Brian2 backend: ``Brian2Simulation`` runs a built network with Brian2 itself.

Targets: ``numpy`` and ``cython`` (Brian2's runtime mode; ``run`` may be called
repeatedly and continues where it stopped) and ``cpp_standalone`` (one run: the
network is generated as a C++ project in a temporary directory, compiled, run
and read back; afterwards Brian2 is returned to the device it was on before).

Brian2 keeps its configuration in process-wide globals (``prefs``, the active
device, the default clock). This backend changes them only for the duration of
a construction or a ``run`` call and restores them afterwards; see
:func:`brian2_settings`.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time

import numpy as np
import brian2 as b2
from brian2 import second
from brian2.devices.device import get_device, reset_device, set_device
from brian2.units.fundamentalunits import get_unit

from ...errors import ModelError
from ...lowering import float_dtype, lower, prepare, set_input_table, set_signal_table
from ...network import BuiltPopulation
from ...progress import status
from ..contract import Simulation
from ...results import SpikeTrain, Trace

TARGETS = ("numpy", "cython", "cpp_standalone")
RUNTIME_TARGETS = ("numpy", "cython")

#: gcc/clang flags for compiled targets when ``strict_float`` is on: Brian2's
#: defaults without ``-ffast-math`` and with FMA contraction switched off, so
#: that every floating-point operation rounds as IEEE 754 prescribes and the
#: results agree bit for bit with spikemem's numba engine.
STRICT_COMPILE_ARGS_GCC = ["-w", "-O3", "-ffp-contract=off", "-fno-fast-math",
                           "-march=native", "-std=c++11"]

REPORT_PERIOD_S = 1.0       # wall seconds between progress-bar updates (runtime targets)

# Brian2's Cython extension cache keys modules by their source code only, not by
# the compiler flags. Modules built with other flags therefore live in a separate
# cache directory and a separate in-memory cache (one per flag set).
_memory_caches: dict = {}


def _unit_string(dim) -> str:
    """SI unit of a dimension as a string ("V", "A", "V/s"); "" if dimensionless."""
    if dim is None or dim.is_dimensionless:
        return ""
    return str(get_unit(dim))


@contextlib.contextmanager
def brian2_settings(target: str, strict_float: bool, dt: float | None = None, dtype=np.float64):
    """Set Brian2's global preferences for ``target`` for the duration of the block.

    With ``strict_float`` the C++ compiler flags are IEEE-strict (no fast-math, no
    FMA contraction) and compiled Cython modules come from a cache of their own.
    ``dtype``: Brian2's default float type (the generated code's ``scalar``).
    Everything changed is put back on leaving the block.
    """
    prefs = b2.prefs
    saved = {key: prefs[key] for key in ("codegen.target", "codegen.cpp.extra_compile_args",
                                         "codegen.cpp.extra_compile_args_gcc",
                                         "codegen.runtime.cython.cache_dir", "core.default_float_dtype")}
    manager = None
    saved_cache = None
    try:
        if target in RUNTIME_TARGETS:
            prefs["codegen.target"] = target
        prefs["core.default_float_dtype"] = dtype
        if dt is not None:
            b2.defaultclock.dt = dt * second
        if strict_float and target != "numpy":
            flags = list(STRICT_COMPILE_ARGS_GCC)
            prefs["codegen.cpp.extra_compile_args"] = None
            prefs["codegen.cpp.extra_compile_args_gcc"] = flags
            if target == "cython":
                from brian2.codegen.runtime.cython_rt import extension_manager as em
                tag = "spikemem-strict-" + hashlib.sha256(" ".join(flags).encode()).hexdigest()[:10]
                base = em.get_cython_cache_dir()
                if base is not None:
                    prefs["codegen.runtime.cython.cache_dir"] = os.path.join(base, tag)
                manager = em.cython_extension_manager
                saved_cache = manager._code_cache
                manager._code_cache = _memory_caches.setdefault(tag, {})
        yield
    finally:
        if manager is not None:
            manager._code_cache = saved_cache
        for key, value in saved.items():
            prefs[key] = value


def _rewound(objects):
    """Put the objects' clocks at t = 0 before ``prepare`` runs Brian2's ``before_run``.

    The default clock is shared by every runtime simulation in the process and
    keeps the time the last one stopped at; a ``SpikeGeneratorGroup`` prepared
    at that time would drop all its spikes before it for good. ``Network.run``
    sets the clocks itself before each run, so this changes nothing for others.
    """
    for clock in {obj.clock for obj in objects.all()}:
        clock.set_interval(0 * second, 0 * second)
    return objects


def _refuse_delayed_sums(built):
    """Brian2's summed variables take no delay: a projection that delays its sums
    (``BuiltProjection.summed_delay``) runs on numba or torch."""
    for proj in built.projections:
        if proj.summed_delay > 1:
            raise ModelError(f"projection '{proj.name}': its summed variables have a delay of up to "
                             f"{proj.summed_delay} steps ({proj.summed_delay * built.dt:g} s); Brian2's summed "
                             f"variables reach their target in the step that computes them, so the brian2 "
                             f"backend cannot run it: use the numba or torch backend, or a delay of one step")


class Brian2Simulation(Simulation):
    """A built network on Brian2.

    ``target``: "numpy", "cython" or "cpp_standalone". ``strict_float``: compile
    C++ code (cython, cpp_standalone) with IEEE-strict flags. ``dtype``:
    "float64" (the default) or "float32", Brian2's ``core.default_float_dtype``
    for the network's variables and generated code.

    Everything that can go wrong with the model is raised (as ``ModelError``) by
    the constructor: for runtime targets it creates and prepares the Brian2 objects
    (and compiles them for cython); for cpp_standalone it validates the very same
    objects on the numpy target and creates the standalone ones in ``run``.

    ``timings``: ``build_s`` is everything but the simulation loop (lowering,
    Brian2's checks, code generation, compilation; for cpp_standalone also
    starting the binary and reading its results back), ``run_s`` the simulation
    loop itself as Brian2 measures it, summed over the ``run`` calls.
    """

    def __init__(self, built, target: str = "numpy", strict_float: bool = True, dtype="float64"):
        if target not in TARGETS:
            raise ModelError(f"brian2 backend: unknown target {target!r}; choose one of {list(TARGETS)}")
        self.dtype = float_dtype(dtype, "brian2")
        # Brian2 has no convolution: it gets the synapses listed
        built = built.explicit(who="the brian2 backend")
        _refuse_delayed_sums(built)
        super().__init__(built, target=target, strict_float=strict_float, dtype=np.dtype(self.dtype).name)
        self.target = target
        self.strict_float = bool(strict_float)
        self._collected = None              # cpp_standalone: the data read back
        self._last_counts = None            # runtime: spike counts of the last step run
        self.objects = None
        self.network = None
        if target in RUNTIME_TARGETS:
            with brian2_settings(target, self.strict_float, built.dt, self.dtype), \
                    status(f"brian2-{target}: generating and compiling code"):
                self.objects = lower(built, self.dtype)
                self.network = prepare(_rewound(self.objects), target)
        else:
            # The standalone objects can only be created once the standalone device
            # is active (in run); check the model now with the same objects on numpy.
            with brian2_settings("numpy", False, built.dt, self.dtype):
                prepare(_rewound(lower(built, self.dtype)), "numpy")
        self._built()

    # ------------------------------------------------------- state between runs
    def _object(self, owner):
        if self.target == "cpp_standalone":
            raise ModelError("brian2-cpp_standalone runs once, in one piece; reading or writing "
                             "state between runs needs a runtime target (numpy or cython)")
        if isinstance(owner, BuiltPopulation):
            return self.objects.groups[owner.name]
        return next(s for s, p in zip(self.objects.synapses, self.built.projections) if p is owner)

    def _get(self, owner, var):
        obj = self._object(owner)
        if var in obj.namespace:
            return float(obj.namespace[var])
        if not obj.active:        # an empty projection
            return np.zeros(0)
        return np.asarray(obj.variables[var].get_value())

    def _set(self, owner, var, values):
        obj = self._object(owner)
        if var in obj.namespace:
            obj.namespace[var] = b2.Quantity(values, dim=obj.namespace[var].dim) \
                if isinstance(obj.namespace[var], b2.Quantity) else values
        elif obj.active:
            obj.variables[var].set_value(values)
            if isinstance(owner, BuiltPopulation):
                self._hold_until_next_change(owner, var, values)

    def _hold_until_next_change(self, pop, var, values):
        """A set() of a variable that a current input drives holds until the
        input's next scheduled change (PyNN's semantics, and the numba and torch
        engines'): the input's table, which Brian2 reads every step, takes the
        new values up to that change."""
        for k, inp in enumerate(self.built.inputs):
            if inp.population != pop.name or inp.variable != var:
                continue
            table = self.objects.input_tables[k]
            later = inp.steps[inp.steps >= self.step]
            end = int(later[0]) if later.size else max(table.shape[0], self.step + 1)
            if end > table.shape[0]:        # past the last change: the new values hold on
                table = np.concatenate([table, np.repeat(table[-1:], end - table.shape[0], 0)])
            table[self.step:end] = values
            self.objects.input_tables[k] = table
            set_input_table(self.objects.groups[pop.name], k, var, table, self.built.dt)

    def _set_spikes(self, pop, steps, ids):
        if self.target == "cpp_standalone":
            raise ModelError("brian2-cpp_standalone runs once; give all spikes in the network definition")
        self.objects.groups[pop.name].set_spikes(ids, steps * self.built.dt * second, sorted=True)

    def _set_rates(self, pop, rates):
        if self.target == "cpp_standalone":
            raise ModelError("brian2-cpp_standalone runs once, in one piece, and cannot change rates between "
                             "runs; give the rates in the network definition, or use a runtime target "
                             "(brian2-numpy, brian2-cython)")
        self.objects.groups[pop.name].rates_ = rates       # the PoissonGroup's per-neuron rates

    def _set_signal(self, signal, values):
        if self.target == "cpp_standalone":
            raise ModelError("brian2-cpp_standalone runs once, in one piece, and cannot change a signal between "
                             "runs; give the samples in the network definition, or use a runtime target "
                             "(brian2-numpy, brian2-cython)")
        k = self.built.signals.index(signal)
        for name in self.built.populations:
            for kk, c, var in self.built.signal_uses(name):
                if kk == k:
                    set_signal_table(self.objects.groups[name], var, values[:, c], signal.dim, signal.dt)

    # ------------------------------------------------------------------ running
    @property
    def name(self) -> str:
        return f"brian2-{self.target}"

    def _prepare_run(self, n_steps, **options):
        super()._prepare_run(n_steps, **options)
        if self.target == "cpp_standalone" and self._collected is not None:
            raise ModelError("brian2-cpp_standalone: run() can be called only once per simulation "
                             "(continuing a standalone run is not supported); simulate the whole "
                             "duration in one call")

    def _advance(self, stop, report):
        n_steps = stop - self.step
        t0 = time.perf_counter()
        if self.target == "cpp_standalone":
            loop = self._run_standalone(n_steps)
        else:
            loop = self._run_runtime(n_steps, report)
        # Brian2 measures its own loop; the rest (code generation, compilation,
        # for cpp_standalone the binary's start and read-back) is building
        self._untimed(max(0.0, time.perf_counter() - t0 - loop))
        return stop

    def _run_runtime(self, n_steps, report) -> float:
        built = self.built
        spaces = self._spike_spaces()
        start = self.step

        def brian2_report(elapsed, completed, t_start, duration):
            # Brian2 calls this once more after the last step, before its
            # after_run empties the spike spaces: remember the last step's count.
            self._last_counts = [int(space[-1]) for space in spaces]
            report(start + min(n_steps, int(round(float(completed) * n_steps))))

        t0 = time.perf_counter()
        with brian2_settings(self.target, self.strict_float, built.dt, self.dtype):
            if self.step == 0:
                b2.seed(built.seed)
            elif self._last_counts is not None:
                # The spikes of the previous run's last step are delivered
                # at the start of this run's first step ('before_groups').
                for space, count in zip(spaces, self._last_counts):
                    space[-1] = count
            try:
                self.network.run(n_steps * built.dt * second, namespace={}, report=brian2_report,
                                 report_period=REPORT_PERIOD_S * second)
            except ModelError:
                raise
            except Exception as e:
                raise ModelError(f"brian2-{self.target}: simulation failed: {e}") from e
        wall = time.perf_counter() - t0
        return min(float(getattr(get_device(), "_last_run_time", wall) or 0.0), wall)

    def _run_standalone(self, n_steps) -> float:
        built = self.built
        with tempfile.TemporaryDirectory(prefix="spikemem-brian2-") as directory, \
                brian2_settings("cpp_standalone", self.strict_float, dtype=self.dtype):
            set_device("cpp_standalone", directory=directory, build_on_run=True, with_output=False)
            try:
                b2.defaultclock.dt = built.dt * second
                b2.seed(built.seed)
                objects = lower(built, self.dtype)
                net = b2.Network(objects.all())
                try:
                    net.run(n_steps * built.dt * second, namespace={})
                except ModelError:
                    raise
                except Exception as e:
                    raise ModelError(f"brian2-cpp_standalone: build or run failed: {e}") from e
                loop = float(getattr(get_device(), "_last_run_time", 0.0) or 0.0)
                self._collected = self._collect(objects)
            finally:
                # Leave Brian2 as it was: forget the standalone project, back to the
                # previous (normally the runtime) device.
                get_device().reinit()
                reset_device()
        return loop

    def _spike_spaces(self):
        """The spike spaces of the groups Brian2 thresholds (neuron and Poisson groups).

        Brian2's threshold template sets a group's spike count to zero when a
        run ends. Its own pathways read the spikes in the step they happen;
        spikemem's deliver them at the start of the next step, which for a
        run's last step is the first step of the next run, so ``run`` keeps the
        count across the gap."""
        return [group.variables["_spikespace"].get_value() for group in self.objects.groups.values()
                if isinstance(getattr(group, "thresholder", None), dict) and "spike" in group.thresholder]

    # ------------------------------------------------------------------ results
    def _collect(self, objects) -> dict:
        """Copy the monitors' data into plain arrays (from live monitors or, for
        cpp_standalone, before the device forgets them)."""
        spikes = {}
        for name, mon in objects.spike_monitors.items():
            spikes[name] = (np.array(mon.t_[:], dtype=np.float64), np.array(mon.i[:], dtype=np.int64))
        states = []
        for mon in objects.state_monitors:
            times = np.array(mon.t_[:], dtype=np.float64)
            states.append((times, {var: np.array(getattr(mon, var + "_")[:]).T
                                   for var in mon.record_variables}))
        return {"spikes": spikes, "states": states}

    def _empty(self) -> dict:
        spikes = {name: (np.zeros(0), np.zeros(0, np.int64)) for name in self.built.spike_monitors}
        states = [(np.zeros(0), {var: np.zeros((0, len(m.ids))) for var in m.variables})
                  for m in self.built.state_monitors]
        return {"spikes": spikes, "states": states}

    def _recorded(self):
        built = self.built
        if self.target == "cpp_standalone":
            data = self._collected if self._collected is not None else self._empty()
        else:
            data = self._collect(self.objects)
        spikes = {name: SpikeTrain(t, i, built.populations[name].size)
                  for name, (t, i) in data["spikes"].items()}
        traces = {}
        for m, (times, values) in zip(built.state_monitors, data["states"]):
            dims = built.populations[m.population].parsed.dims
            for var in m.variables:
                traces[f"{m.population}.{var}"] = Trace(times, np.asarray(m.ids), values[var],
                                                        _unit_string(dims.get(var)))
        return spikes, traces

    def _result_meta(self):
        return {"strict_float": self.strict_float, "dtype": np.dtype(self.dtype).name}


__all__ = ["Brian2Simulation", "TARGETS", "STRICT_COMPILE_ARGS_GCC", "brian2_settings"]
