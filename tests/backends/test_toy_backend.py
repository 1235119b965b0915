"""A backend written from scratch against the contract, registered in one place
and held to the same conformance checks as the real ones.

The toy runs IF_curr_exp networks in numpy with the exact per-step propagators
(held for the population's refractory_steps after a spike), spike sources,
delays and spike and state monitors; it refuses everything else by name.
"""

import numpy as np
import pytest

from spikemem.backends import BACKENDS, Backend, Capabilities, register
from spikemem.errors import ModelError
from spikemem.network import BuiltPopulation
from spikemem.neurons import IF_curr_exp
from spikemem.backends.contract import Simulation

from backends.conformance import CHECKS



class ToySimulation(Simulation):
    name = "toy"

    def __init__(self, built, dtype="float64"):
        if dtype != "float64":
            raise ModelError(f"toy backend: dtype {dtype!r} is not offered (float64 only)")
        super().__init__(built, dtype=dtype)
        if built.signals:
            raise ModelError(f"toy backend: signal '{built.signals[0].name}' is not supported")
        for pop in built.populations.values():
            if pop.kind == "poisson":
                raise ModelError(f"toy backend: population '{pop.name}' is a Poisson source, which it does not run")
            if pop.kind == "neuron" and not pop.model.same_dynamics(IF_curr_exp()):
                raise ModelError(f"toy backend: population '{pop.name}' is not IF_curr_exp or a spike source")
        for proj in built.projections:
            if proj.plastic_pre or proj.on_post:
                raise ModelError(f"toy backend: projection '{proj.name}' is plastic")
        if built.inputs:
            raise ModelError("toy backend: current inputs are not supported")
        self.state = {name: {v: np.array(value, float) for v, value in pop.init.items()}
                      for name, pop in built.populations.items() if pop.kind == "neuron"}
        self.refractory_until = {name: np.full(pop.size, -1) for name, pop in built.populations.items()
                                 if pop.kind == "neuron"}
        depth = 1 + max((int(p.delay.max()) for p in built.projections if p.delay.size), default=1)
        self.arriving = {name: np.zeros((depth, 2, pop.size)) for name, pop in built.populations.items()
                         if pop.kind == "neuron"}
        self.weights = {p.name: p.w.copy() for p in built.projections}
        self.sources = {name: (pop.spike_steps, pop.spike_ids) for name, pop in built.populations.items()
                        if pop.kind == "spikes"}
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self._built()

    def _propagate(self, pop: BuiltPopulation, s: dict):
        p, dt = pop.params, self.built.dt
        a = np.exp(-dt / p["tau_m"])
        s["v"] = p["v_rest"] + a * (s["v"] - p["v_rest"]) + p["tau_m"] * (1 - a) / p["c_m"] * s["i_offset"]
        for var, tau in (("isyn_exc", p["tau_syn_E"]), ("isyn_inh", p["tau_syn_I"])):
            b = np.exp(-dt / tau)
            s["v"] = s["v"] + p["tau_m"] * tau * (a - b) / ((p["tau_m"] - tau) * p["c_m"]) * s[var]
            s[var] = b * s[var]

    def _advance(self, stop, report):
        built, depth = self.built, next(iter(self.arriving.values())).shape[0]
        while self.step < stop:
            n = self.step
            for k, mon in enumerate(built.state_monitors):      # the state at the step's start, as Brian2
                if n % mon.every == 0:
                    s = self.state[mon.population]
                    self._states[k].append(np.stack([s[v][mon.ids] for v in mon.variables])[None])
            fired = {name: ids[steps == n] for name, (steps, ids) in self.sources.items()}
            for name, s in self.state.items():
                pop, slot = built.populations[name], self.arriving[name][n % depth]
                s["isyn_exc"] += slot[0]
                s["isyn_inh"] += slot[1]
                slot[:] = 0
                held = self.refractory_until[name] >= n
                v = s["v"].copy()
                self._propagate(pop, s)
                s["v"][held] = v[held]
                spiking = np.flatnonzero((s["v"] > pop.params["v_thresh"]) & ~held)
                s["v"][spiking] = pop.params["v_reset"]
                self.refractory_until[name][spiking] = n + pop.refractory_steps
                fired[name] = spiking
            for proj in built.projections:
                hit = np.isin(proj.i, fired[proj.pre])
                receptor = 0 if proj.target == "isyn_exc" else 1
                np.add.at(self.arriving[proj.post], ((n + proj.delay[hit]) % depth, receptor, proj.j[hit]),
                          self.weights[proj.name][hit])
            for name, (steps, ids) in self._spikes.items():
                steps.append(np.full(fired[name].size, n))
                ids.append(fired[name])
            self.step += 1
        return stop

    def _recorded(self):
        return self._spike_trains(self._spikes), self._traces(self._states)

    def _get(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            return self.state[owner.name][var] if var in owner.init else owner.params[var]
        return self.weights[owner.name]

    def _set(self, owner, var, values):
        if isinstance(owner, BuiltPopulation) and var in owner.init:
            self.state[owner.name][var] = np.array(values, float)
        elif not isinstance(owner, BuiltPopulation) and var == "w":
            self.weights[owner.name] = np.array(values, float)
        else:
            raise ModelError(f"toy backend: '{var}' of '{owner.name}' is fixed")

    def _set_spikes(self, pop, steps, ids):
        self.sources[pop.name] = (steps, ids)


@pytest.fixture
def toy():
    register(Backend("toy", f"{__name__}:ToySimulation",
                     Capabilities(plasticity=False, spikes_as_numba=False, poisson_sources=False,
                                  signals=False, templates=("IF_curr_exp",))))
    yield "toy"
    BACKENDS.unregister("toy")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_a_toy_backend_registered_in_one_place_conforms(toy, check):
    check(toy)


def test_the_toy_is_listed_while_registered(toy):
    assert "toy" in BACKENDS.names()
    from spikemem.cli import main
    assert main(["bench", "cuba", "--backend", "toy", "--threads", "2", "--duration", "0.01"]) == 2
