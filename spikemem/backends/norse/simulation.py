"""The norse backend: a NIR-expressible network run by norse's neuron cells.

The network goes through NIR: ``spikemem.interop.nir.graph_from_built``
exports it (refusing, with every offender listed, what NIR cannot carry) and
``norse.torch.from_nir`` turns each node into its norse module -- a
``torch.nn.Linear`` per Affine, ``LIFBoxCell`` / ``IAFCell`` / norse's CubaLIF
module per neuron node. This backend then steps those modules in spikemem's
order (see the architecture page of the docs): the Linear of a projection with delay d reads the
presynaptic spikes of d steps ago, all neuron cells update, spikes are
recorded. So its spikes are the numba engine's, step for step, not shifted by
the lag a same-step NIR consumer has (``spikemem.interop.nir.step_lags``).

``from_nir`` departs from NIR's equations in a few places (nir 1.0.8, norse
1.1.0); the backend corrects the modules it receives, not norse's dynamics:

* LIF and LI cells ignore ``r``: the backend multiplies their input by ``r``.
* IF cells ignore ``dt`` and ``r`` (``v += I``): the input is multiplied by ``dt * r``.
* ``v_reset`` is dropped (norse resets to 0): it is written into the cells' parameters.
* CubaLIF's current leaks towards ``v_leak`` in norse; NIR's leaks to 0: set so.
* ``from_nir`` has no LI: the backend uses norse's ``LIBoxCell`` (and, for LI
  with a Threshold, spikes where ``v > v_threshold``).
* ``from_nir`` casts every parameter to float32: the graph's numbers are
  written in again in the simulation's dtype.
* The Affine biases are applied as the populations' ``bias`` variables, so that
  a bias switched on at a step (the one current input NIR export accepts)
  starts at that step, as on numba.

Supported: stateful ``run``, ``result`` (spike monitors; state monitors of
``v`` and CubaLIF's ``i_syn``), ``get`` of any variable, ``set`` of ``v``,
``i_syn``, ``bias`` and projection weights ``w``, ``set_spikes``. Parameters
are fixed once the modules are built (``set`` of one raises ModelError).
No Poisson sources (a NIR input carries given spikes only; the export names
them), so no ``set_rates``; no signals read by a population (NIR has no
time-varying input but spikes), so no ``set_signal``.
``dtype`` "float64" (default; agrees with numba spike for spike) or "float32".
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import ModelError
from ...network import BuiltPopulation
from ..contract import Simulation

STATE = {"LIF": ("v",), "IF": ("v",), "LI": ("v",), "CubaLIF": ("v", "i_syn"),
         "IF_curr_exp": ("v",)}     # a CubaLIF whose one current is isyn_exc + isyn_inh: not kept apart


def _norse_module(node, size_in, dt):
    """norse's module for one NIR node, by ``norse.torch.from_nir`` on a graph of that node alone."""
    import nir
    import norse.torch
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([size_in])}), "node": node},
                         edges=[("input", "node")], type_check=False)
    return dict(norse.torch.from_nir(graph, dt=dt, ignore_warnings=True).named_children())["node"]


def _retyped(params, tensor, **values):
    """norse parameters with ``values`` written in and every other tensor cast to the simulation's
    dtype (``from_nir`` casts every parameter to float32)."""
    fields = {k: tensor(v) for k, v in params._asdict().items() if hasattr(v, "dtype")}
    fields.update({k: tensor(v) for k, v in values.items()})
    return params._replace(**fields)


class _Cell:
    """One population's norse cell, its state, and the gain its input takes (see the module docstring)."""

    def __init__(self, pop: BuiltPopulation, node, dt, tensor):
        import norse.torch as nt
        from norse.torch.functional.lif_box import LIFBoxFeedForwardState
        from norse.torch.functional.iaf import IAFFeedForwardState
        from norse.torch.functional.leaky_integrator_box import LIBoxState
        # the node's parameters: an IF_curr_exp population is exported as a CubaLIF node
        self.kind, self.size, self.tensor = type(node).__name__, pop.size, tensor
        p = {k: (np.broadcast_to(v, (pop.size,)) if np.ndim(v) == 0 else v) for k, v in pop.params.items()}
        if self.kind != "LI":               # LI's threshold is a node of its own
            p = {f.name: np.asarray(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "metadata"}
        v = tensor(pop.init["v"])
        self.threshold = None
        if self.kind == "LIF":
            self.module = _norse_module(node, pop.size, dt)
            self.module.p = _retyped(self.module.p, tensor, tau_mem_inv=1 / p["tau"], v_leak=p["v_leak"],
                                     v_th=p["v_threshold"], v_reset=p["v_reset"])
            self.gain, self.state = tensor(p["r"]), LIFBoxFeedForwardState(v=v)
        elif self.kind == "IF":
            self.module = _norse_module(node, pop.size, dt)
            self.module.p = _retyped(self.module.p, tensor, v_th=p["v_threshold"], v_reset=p["v_reset"])
            self.gain, self.state = tensor(dt * p["r"]), IAFFeedForwardState(v=v)
        elif self.kind == "CubaLIF":
            self.module = _norse_module(node, pop.size, dt)
            self.module.w_in, self.module.r = tensor(p["w_in"]), tensor(p["r"])
            self.module.synapse.p = _retyped(self.module.synapse.p, tensor, tau_mem_inv=1 / p["tau_syn"],
                                             v_leak=np.zeros(pop.size))
            self.module.lif.p = _retyped(self.module.lif.p, tensor, tau_mem_inv=1 / p["tau_mem"],
                                         v_leak=p["v_leak"], v_th=p["v_threshold"], v_reset=p["v_reset"])
            self.gain = tensor(np.ones(pop.size))
            i_syn = pop.init["i_syn"] if "i_syn" in pop.init else pop.init["isyn_exc"] + pop.init["isyn_inh"]
            self.state = (LIBoxState(v=tensor(i_syn)), LIFBoxFeedForwardState(v=v))
        else:                                            # LI: norse's from_nir maps none
            self.module = nt.LIBoxCell(nt.LIBoxParameters(tau_mem_inv=tensor(1 / p["tau"]),
                                                          v_leak=tensor(p["v_leak"])), dt=dt)
            self.gain, self.state = tensor(p["r"]), LIBoxState(v=v)
            if "v_threshold" in p:
                self.threshold = tensor(p["v_threshold"])

    def step(self, current):
        """One step; the spikes (0/1) or, for an LI without threshold, None."""
        out, self.state = self.module(self.gain * current, self.state)
        if self.kind != "LI":
            return out
        return None if self.threshold is None else (out > self.threshold).to(out.dtype)

    def get(self, var):
        if var == "i_syn":
            return self.state[0].v
        return self.state[1].v if self.kind == "CubaLIF" else self.state.v

    def set(self, var, values):
        t = self.tensor(values)
        if var == "i_syn":
            self.state = (self.state[0]._replace(v=t), self.state[1])
        elif self.kind == "CubaLIF":
            self.state = (self.state[0], self.state[1]._replace(v=t))
        else:
            self.state = self.state._replace(v=t)


class NorseSimulation(Simulation):
    """Stateful: ``run`` may be called repeatedly and continues where it stopped."""

    name = "norse"
    packages = ("norse", "nir", "torch")

    def __init__(self, built, dtype="float64"):
        import torch
        from spikemem.interop.nir import graph_from_built
        if str(dtype) not in ("float64", "float32", "torch.float64", "torch.float32"):
            raise ModelError(f"norse backend: dtype {dtype!r} is not supported (float64 or float32)")
        built = built.explicit(who="the norse backend")      # its NIR Affine nodes list the synapses
        super().__init__(built, dtype=str(dtype).replace("torch.", ""))
        self.torch = torch
        self.dtype = torch.float64 if "64" in str(dtype) else torch.float32
        graph = graph_from_built(built)                 # ModelError listing every offender
        self._check_monitors()
        tensor = lambda a: torch.tensor(np.array(a, dtype=float), dtype=self.dtype)
        self.tensor = tensor
        self.cells = {name: _Cell(pop, graph.nodes[name], built.dt, tensor)
                      for name, pop in built.populations.items() if pop.kind == "neuron"}
        affine = {node.metadata["spikemem.projection"]: node for node in graph.nodes.values()
                  if type(node).__name__ == "Affine"}
        self.linears = {}
        for proj in built.projections:        # from_nir's Linear, with the graph's float64 weights
            node = affine[proj.name]
            module = _norse_module(node, built.populations[proj.pre].size, built.dt).to(self.dtype)
            module.weight.data, module.bias.data = tensor(node.weight), tensor(np.zeros(node.bias.shape))
            self.linears[proj.name] = module
        # The graph's Affine biases are the populations' bias variables, kept here so that a
        # bias onset (a current input on 'bias') switches them on at its step, as on numba.
        self.bias = {name: tensor(np.broadcast_to(pop.init.get("bias", 0.0), (pop.size,)))
                     for name, pop in built.populations.items() if pop.kind == "neuron"}
        self.onsets = {inp.population: (int(inp.steps[0]), tensor(inp.values[0])) for inp in built.inputs}
        self.w = {p.name: np.array(p.w, dtype=float) for p in built.projections}
        depth = {}
        for proj in built.projections:
            depth[proj.pre] = max(depth.get(proj.pre, 0), int(proj.delay[0]) if proj.delay.size else 1)
        self.history = {name: torch.zeros((d + 1, built.populations[name].size), dtype=self.dtype)
                        for name, d in depth.items()}
        self.sources = {name: [pop.spike_steps, pop.spike_ids, 0] for name, pop in built.populations.items()
                        if pop.kind == "spikes"}
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self._built()

    def _check_monitors(self):
        problems = []
        for m in self.built.state_monitors:
            pop = self.built.populations[m.population]
            bad = [v for v in m.variables if v not in STATE.get(pop.model.name, ())]
            if bad:
                problems.append(f"state monitor on '{m.population}': {bad} not recorded on the norse backend "
                                f"(records {list(STATE[pop.model.name])})")
        if problems:
            raise ModelError("norse backend:\n  " + "\n  ".join(problems))

    # --- stepping
    def _source_spikes(self, name):
        steps, ids, k = self.sources[name]
        z = np.zeros(self.built.populations[name].size)
        while k < steps.size and steps[k] < self.step:
            k += 1
        while k < steps.size and steps[k] == self.step:
            z[ids[k]] = 1.0
            k += 1
        self.sources[name][2] = k
        return self.tensor(z)

    def _one_step(self):
        torch, built, n = self.torch, self.built, self.step
        for name, (step, values) in self.onsets.items():     # at its step, as the numba engine does
            if step == n:
                self.bias[name] = values.clone()
        # states at the step's start, after its inputs (Brian2's StateMonitor)
        for k, mon in enumerate(built.state_monitors):
            if n % mon.every == 0:
                cell = self.cells[mon.population]
                self._states[k].append(np.stack([cell.get(v).numpy()[mon.ids] for v in mon.variables]))
        currents = {name: self.bias[name].clone() for name in self.cells}
        for proj in built.projections:
            d = int(proj.delay[0]) if proj.delay.size else 1
            hist = self.history[proj.pre]
            currents[proj.post] = currents[proj.post] + self.linears[proj.name](hist[(n - d) % hist.shape[0]])
        spikes = {name: self._source_spikes(name) for name in self.sources}
        with torch.no_grad():
            for name, cell in self.cells.items():
                spikes[name] = cell.step(currents[name])
        for name, hist in self.history.items():
            hist[n % hist.shape[0]] = spikes[name]
        for name, (steps, ids) in self._spikes.items():
            fired = np.flatnonzero(spikes[name].numpy() > 0)
            steps.append(np.full(fired.size, n, np.int64))
            ids.append(fired)
        self.step += 1

    def _running(self):
        return self.torch.no_grad()

    def _advance(self, stop, report):
        while self.step < stop:
            self._one_step()
            report(self.step)
        return stop

    # --- state between runs (checked by Simulation)
    def _get(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            if var in STATE[owner.model.name]:
                return self.cells[owner.name].get(var).numpy()
            if var == "bias":
                return self.bias[owner.name].numpy()
            if var == "x":                      # the input of a step: always 0 between steps
                return np.zeros(owner.size)
            if var in owner.params:
                return owner.params[var]
            if var == "i_offset":               # folded into the CubaLIF's v_leak: constant
                return owner.init[var]
            raise ModelError(f"norse backend: '{var}' of '{owner.name}' is not kept: its IF_curr_exp runs as "
                             f"NIR's CubaLIF, whose one current is isyn_exc + isyn_inh; get 'v'")
        return self.w[owner.name] if var == "w" else owner.state.get(var, owner.namespace.get(var))

    def _set(self, owner, var, values):
        if isinstance(owner, BuiltPopulation) and var in STATE[owner.model.name]:
            self.cells[owner.name].set(var, values)
        elif isinstance(owner, BuiltPopulation) and var == "bias":
            self.bias[owner.name] = self.tensor(values)
        elif not isinstance(owner, BuiltPopulation) and var == "w":
            self.w[owner.name] = np.asarray(values, dtype=float)
            weight = np.zeros(self.linears[owner.name].weight.shape)
            np.add.at(weight, (owner.j, owner.i), self.w[owner.name])
            self.linears[owner.name].weight.data = self.tensor(weight)
        else:
            raise ModelError(f"norse backend: '{var}' of '{owner.name}' is fixed once norse's modules are "
                             f"built; set state variables {sorted({v for s in STATE.values() for v in s})}, "
                             f"'bias' or weights 'w'")

    def _set_spikes(self, pop, steps, ids):
        self.sources[pop.name] = [steps, ids, 0]

    def _recorded(self):
        return (self._spike_trains(self._spikes),
                self._traces([[np.stack(parts)] if parts else [] for parts in self._states]))

    def _result_meta(self):
        return {"dtype": str(self.dtype)}
