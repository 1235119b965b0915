"""What every backend's simulation offers, and the checks they share.

A simulation is stateful: ``run(duration)`` continues where the last run
stopped, with membranes, traces, weights and spikes in flight kept. Between
runs a user may read and write state (``get`` / ``set``) and give a spike
source new spikes (``set_spikes``). Every check happens here, before the
backend touches anything, so a bad call leaves the simulation as it was.
"""
from __future__ import annotations

import numpy as np
from brian2 import Quantity, second

from .errors import ModelError
from .network import BuiltNetwork, BuiltPopulation, BuiltProjection
from .units import to_si


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


class Simulation:
    built: BuiltNetwork
    step: int = 0                       # steps simulated so far

    # --- implemented by each backend
    def run(self, duration, progress=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def _get(self, owner, var: str) -> np.ndarray:
        raise NotImplementedError

    def _set(self, owner, var: str, values):
        raise NotImplementedError

    def _set_spikes(self, pop: BuiltPopulation, steps: np.ndarray, ids: np.ndarray):
        raise NotImplementedError

    # --- shared
    def _spike_trains(self, recorded) -> dict:
        """Result spike trains from {population: (list of step arrays, list of id arrays)}."""
        from .results import SpikeTrain
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
        from .results import Trace
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
                raise ModelError(f"{where} is shared by every {'neuron' if isinstance(owner, BuiltPopulation) else 'synapse'}; "
                                 f"give one number, got shape {np.shape(v)}")
            self._set(owner, var, float(v))
            return
        v = np.broadcast_to(np.asarray(v, dtype=np.float64), (size,)) if np.ndim(v) == 0 else np.asarray(v, np.float64)
        if v.shape != (size,):
            raise ModelError(f"{where}: expected a scalar or {size} values, got shape {v.shape}")
        self._set(owner, var, v.copy())

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
