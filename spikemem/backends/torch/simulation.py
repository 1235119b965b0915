"""The torch backend: ``TorchSimulation`` runs a built network on PyTorch.

``simulation(net, "torch", batch=64, device="cuda", dtype="float64")``; ``sim.module``
is the ``nn.Module`` (``TorchNetwork``) for training: its ``weights`` are
``nn.Parameter``s and ``forward`` returns surrogate-differentiable spikes.
``dale=True`` (or a list of projection names) keeps those weights in their
projection's sign: ``sim.module.constrain_()`` after each optimiser step.
"""
from __future__ import annotations


import numpy as np
import torch

from ...errors import ModelError
from ...lowering import lower, prepare
from ...network import BuiltPopulation
from ...results import SpikeTrain
from ..contract import Simulation, _si
from .engine import TorchNetwork, refuse_own_dt

CHUNK_STEPS = 1000     # steps per chunk: source input is multiplied through per chunk
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchSimulation(Simulation):
    """Stateful like every simulation; ``batch`` trials run side by side.
    ``get`` returns one value per neuron / synapse for a single trial, and
    (trials, ...) arrays when ``batch > 1``; ``set`` writes every trial.
    ``run(duration, inputs={source: spikes})`` replaces a spike source's own
    spikes for that run (spikes shaped (steps, [trials,] neurons))."""

    name = "torch"
    packages = ("torch", "snntorch")

    def __init__(self, built, batch=1, device=None, dtype="float32", weights="auto",
                 surrogate=None, surrogate_scale=None, trial_params=None, dale=False):
        if dtype not in DTYPES:
            raise ModelError(f"torch backend: dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        device = device or default_device()
        try:
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError) as e:
            raise ModelError(f"torch backend: device {device!r} is not usable: {e}") from None
        super().__init__(built, batch=batch, device=str(device), dtype=dtype, weights=weights, surrogate=surrogate,
                         surrogate_scale=surrogate_scale, trial_params=trial_params, dale=dale)
        refuse_own_dt(built)        # before lowering generates every population's code
        self.objects = lower(built)
        prepare(self.objects, "numpy")      # Brian2's checks; fills the abstract code
        self.module = TorchNetwork(built, self.objects, batch=batch, device=device, dtype=DTYPES[dtype],
                                   weights=weights, surrogate=surrogate, surrogate_scale=surrogate_scale,
                                   trial_params=trial_params, dale=dale)
        self._record = self._empty_record()
        self._built()

    def _empty_record(self):
        return {"spikes": {name: [] for name in self.built.spike_monitors},
                "states": [[] for _ in self.built.state_monitors]}

    @property
    def step(self) -> int:
        """Steps simulated so far: the module's own count (``forward`` advances it too)."""
        return self.module.step

    @step.setter
    def step(self, value):
        # the run loop sets the step its _advance reached, which the module has counted already
        assert value == self.module.step, (value, self.module.step)

    @property
    def batch(self) -> int:
        return self.module.batch

    # --- state between runs (checked by Simulation)
    def _owner_state(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            pc = self.module.pops[owner.name]
            return pc, self.module.state[owner.name], pc.ns
        pc = next(p for p in self.module.projs if p.proj is owner)
        return pc, self.module.synapse_state(pc), pc.ns

    def _get(self, owner, var):
        if not isinstance(owner, BuiltPopulation) and owner.i.size == 0:
            return owner.w if var == "w" else owner.state.get(var, owner.namespace.get(var))
        _, state, ns = self._owner_state(owner, var)
        if var not in state:
            return ns[var] if var in ns else (owner.params[var] if isinstance(owner, BuiltPopulation)
                                              else owner.namespace[var])
        value = state[var].detach().cpu().numpy().astype(np.float64)
        return value[0] if self.batch == 1 and value.ndim == 2 else value

    def _set(self, owner, var, values):
        if not isinstance(owner, BuiltPopulation) and owner.i.size == 0:
            return
        pc, state, ns = self._owner_state(owner, var)
        if var not in state:
            ns[var] = float(values)           # a shared constant of the generated code
            return
        if not isinstance(owner, BuiltPopulation) and var == "w" and not pc.plastic:
            with torch.no_grad():
                self.module.weights[pc.name].copy_(torch.as_tensor(values))
            return
        target = self.module.state[owner.name if isinstance(owner, BuiltPopulation) else pc.key]
        old = target[var]
        target[var] = torch.as_tensor(values, dtype=old.dtype, device=old.device).expand_as(old).clone()

    def set_trials(self, name: str, var: str, values):
        """Write ``var`` with one row per trial: shape (trials, neurons or synapses).
        (Shared parameters vary by trial through ``trial_params``.)"""
        owner, dim, size = self._owner(name, var)
        pc, state, _ = self._owner_state(owner, var)
        v = np.asarray(_si(values, f"'{name}'.{var}", dim), dtype=np.float64)
        if var not in state or (var == "w" and not getattr(pc, "plastic", True)):
            raise ModelError(f"'{name}'.{var} is shared by every trial; per-trial values are for "
                             f"state variables and per-neuron parameters (shared ones: trial_params)")
        if v.shape != (self.batch, size):
            raise ModelError(f"'{name}'.{var}: expected shape ({self.batch}, {size}) (trials, "
                             f"{'neurons' if isinstance(owner, BuiltPopulation) else 'synapses'}), got {v.shape}")
        old = state[var]
        state[var] = torch.as_tensor(v, dtype=old.dtype, device=old.device)

    def weights(self) -> dict:
        """The trainable weights, {projection: one value per synapse} in SI, in
        the built synapse order (static projections with synapses)."""
        return {name: w.detach().cpu().numpy().astype(np.float64) for name, w in self.module.weights.items()}

    def to_network(self, network):
        """Write the current trainable weights into ``network`` (the definition
        this simulation was built from) with ``set_weights``, so that it runs
        with them on any backend or target; returns ``network``."""
        built = {p.name: p for p in network.build().projections}
        weights = self.weights()
        for name in weights:
            mine, theirs = self.built_projection(name), built.get(name)
            if theirs is None or not (np.array_equal(mine.i, theirs.i) and np.array_equal(mine.j, theirs.j)):
                raise ModelError(f"to_network: projection '{name}' of the network has not the synapses "
                                 f"this simulation was built with")
        try:
            network.set_weights(weights)
        except ModelError as e:
            hint = "" if self.options.get("dale") else " (train with dale=True to keep each weight's sign)"
            raise ModelError(f"to_network: {e}{hint}") from None
        return network

    def _set_spikes(self, pop, steps, ids):
        self.module.sources[pop.name] = (steps, ids)

    def _set_rates(self, pop, rates):
        self.module.rates[pop.name] = rates

    def _signal_trials(self):
        return True

    def _set_signal(self, signal, values):
        self.module.set_signal(self.built.signals.index(signal), values)

    # --- running
    def _check_inputs(self, inputs, n_steps):
        out = {}
        for name, x in (inputs or {}).items():
            pop = self.built.populations.get(name)
            if pop is None or pop.kind == "neuron":
                raise ModelError(f"torch backend: inputs given for '{name}', which is not a spike source")
            x = torch.as_tensor(x, device=self.module.device)
            shapes = ((n_steps, pop.size), (n_steps, self.batch, pop.size))
            if tuple(x.shape) not in shapes:
                raise ModelError(f"torch backend: inputs for '{name}' must have shape {shapes[0]} or "
                                 f"{shapes[1]} (steps, [trials,] neurons), got {tuple(x.shape)}")
            self.module.check_input_values(name, x)
            out[name] = x
        return out

    def _prepare_run(self, n_steps, inputs=None, **options):
        super()._prepare_run(n_steps, **options)
        self._inputs = self._check_inputs(inputs, n_steps)
        self._start = self.step

    def _running(self):
        return torch.no_grad()

    def _advance(self, stop, report):
        while self.step < stop:
            s0 = self.step
            s1 = min(stop, s0 + CHUNK_STEPS)
            chunk = {k: v[s0 - self._start:s1 - self._start] for k, v in self._inputs.items()}
            self.module.run_chunk(s0, s1, chunk, (), self._record)
            report(s1)
        if self.module.device.type == "cuda":
            torch.cuda.synchronize(self.module.device)
        return stop

    def spikes(self, population: str) -> np.ndarray:
        """(step, trial, neuron) of every recorded spike of ``population``, all trials
        (of the monitor's neurons only, as ``result()`` keeps them)."""
        if population not in self._record["spikes"]:
            raise ModelError(f"spikes of '{population}' are not recorded; recorded: {sorted(self._record['spikes'])}")
        parts = self._record["spikes"][population]
        if not parts:
            return np.zeros((0, 3), np.int64)
        rows = np.concatenate([np.stack(p, 1) for p in parts]).astype(np.int64)
        subset = self._spike_subset(population)
        return rows if subset is None else rows[np.isin(rows[:, 2], subset)]

    def result(self, trial: int = 0):
        """The result of trial ``trial`` (0 to batch - 1)."""
        return super().result(trial=trial)

    def _recorded(self, trial: int = 0):
        if not isinstance(trial, (int, np.integer)) or not 0 <= trial < self.batch:
            raise ModelError(f"trial must be an integer in [0, {self.batch}), got {trial!r}")
        dt = self.built.dt
        spikes = {}
        for name in self.built.spike_monitors:
            s = self.spikes(name)
            s = s[s[:, 1] == trial]
            spikes[name] = SpikeTrain(s[:, 0] * dt, s[:, 2], self.built.populations[name].size)
        traces = self._traces([[torch.stack(parts)[:, trial].cpu().numpy().astype(np.float64)] if parts else []
                               for parts in self._record["states"]])
        return spikes, traces

    def _result_meta(self, trial: int = 0):
        return {"device": str(self.module.device), "dtype": str(self.module.dtype), "batch": self.batch,
                "trial": int(trial)}
