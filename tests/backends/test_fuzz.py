"""Random networks hold the backends to the identities docs/validation/backends.md states.

Each seed draws a small network: neuron templates, connectors, plasticity
rules, per-synapse delays of 1-40 steps, driven by spike-source arrays (a
Poisson source draws from each backend's own stream), and runs it twice with
``set``, ``set_spikes`` and ``normalize_weights`` in between. numba and
torch-float64 (CPU, per-synapse delivery) must agree bit for bit in spikes,
traces and final state; numba and brian2-cython in spikes. A few seeds run
by default, more under ``-m slow``.
"""
import numpy as np
import pytest
from brian2 import mV, ms, nA, nS

from spikemem.backends import simulation
from spikemem.connectors import (AllToAll, DistanceKernel, FixedNumberPost, FixedNumberPre, FixedProbability,
                                 FromList, FromMatrix, OneToOne)
from spikemem.network import Network
from spikemem.neurons import AdEx, IF_cond_exp, IF_curr_exp, Izhikevich, RateUnit
from spikemem.plasticity import (anti_hebbian, diehl_cook_stdp, hebbian, normalize_weights, oja,
                                 spinnaker_stdp, stdp, triplet_stdp)
from spikemem.synapses import SynapseModel

from networks import _count

DT = 0.1 * ms
STEP = float(DT)
RUN = 60 * ms

#: template -> (model factory, exc weight range, weight unit); inhibitory
#: weights are negative for currents, positive for conductances (PyNN's signs)
TEMPLATES = {
    "IF_curr_exp": (lambda: IF_curr_exp(tau_refrac=1 * ms), (0.5, 2.0), nA),
    "IF_cond_exp": (lambda: IF_cond_exp(tau_refrac=1 * ms), (5.0, 20.0), nS),
    "IF_cond_exp_adaptive": (lambda: IF_cond_exp(adaptive=True, tau_refrac=1 * ms), (5.0, 20.0), nS),
    "Izhikevich": (Izhikevich, (5.0, 20.0), mV / ms),
    "AdEx": (lambda: AdEx(tau_refrac=1 * ms), (0.5, 2.0), nA),
}
CONDUCTANCE = {"IF_cond_exp", "IF_cond_exp_adaptive"}


def _connector(rng, kind, n_pre, n_post):
    if kind == "OneToOne":
        return OneToOne() if n_pre == n_post else FixedNumberPre(1)     # one to one needs equal sizes
    if kind == "AllToAll":
        return AllToAll()
    if kind == "FixedProbability":
        return FixedProbability(float(rng.uniform(0.2, 0.5)))
    if kind == "FixedNumberPre":
        return FixedNumberPre(int(rng.integers(1, min(n_pre, 6) + 1)))
    if kind == "FixedNumberPost":
        return FixedNumberPost(int(rng.integers(1, min(n_post, 6) + 1)))
    if kind == "FromList":
        pairs = {(int(rng.integers(n_pre)), int(rng.integers(n_post))) for _ in range(2 * n_post)}
        return FromList(sorted(pairs))
    if kind == "FromMatrix":
        return FromMatrix((rng.random((n_pre, n_post)) < 0.3).astype(float))
    if n_pre != n_post:            # a grid of one size: both populations on it
        return FixedProbability(0.3)
    return DistanceKernel(shape=(n_pre,), kernel="gaussian", params={"sigma": 2.0}, cutoff=0.3)


CONNECTORS = ["OneToOne", "AllToAll", "FixedProbability", "FixedNumberPre", "FixedNumberPost", "FromList",
              "FromMatrix", "DistanceKernel"]
#: spike-timing rules, and a model that delivers in its own on_pre
RULES = ["static", "stdp_additive", "stdp_multiplicative", "spinnaker_stdp", "triplet_stdp", "diehl_cook_stdp",
         "depressing"]


def _rule(name, w_max):
    """The rule's synapse model, or None for a static projection."""
    if name == "stdp_additive":
        return stdp(A_plus=0.05 * w_max, A_minus=0.06 * w_max, w_max=w_max)
    if name == "stdp_multiplicative":
        return stdp("multiplicative", pairing="nearest", A_plus=0.05, A_minus=0.06, w_max=w_max)
    if name == "spinnaker_stdp":
        return spinnaker_stdp(A_plus=0.05, A_minus=0.06, w_max=w_max)
    if name == "triplet_stdp":
        return triplet_stdp(A2_plus=0.02 * w_max, A3_plus=0.01 * w_max, A2_minus=0.02 * w_max,
                            A3_minus=0.001 * w_max, w_max=w_max)
    if name == "diehl_cook_stdp":
        return diehl_cook_stdp(nu_pre=0.01 * w_max, nu_post=0.05 * w_max, w_max=w_max)
    if name == "depressing":     # a model that delivers in its own on_pre (Tsodyks-Markram-like)
        return SynapseModel(name="depressing", equations="""
            w : weight
            dx/dt = (1 - x)/(50*ms) : 1 (event-driven)
            """, on_pre="isyn_exc_post += 0.5*x*w\nx -= 0.5*x", init=dict(x=1.0))
    return None


def _times(rng, n, duration, rate=40.0):
    """Spike times on distinct steps, per neuron."""
    steps = int(round(duration / STEP))
    return [np.sort(rng.choice(steps, rng.poisson(rate * duration), replace=False)) * STEP for _ in range(n)]


def spiking_network(seed):
    """Spike sources into two populations of random templates, random
    connectors and rules, per-synapse delays of 1-40 steps. Returns the
    network and what the stateful part of the run changes."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    n_in = int(rng.integers(8, 16))
    net.spike_source("inp", n_in, _times(rng, n_in, float(RUN)))
    names = list(TEMPLATES)
    pops = {}
    for pop in ("a", "b"):
        template = names[int(rng.integers(len(names)))]
        make, _, _ = TEMPLATES[template]
        size = int(rng.integers(8, 20))
        pops[pop] = (template, size)
        net.population(pop, size, make())
        net.record_spikes(pop)
        net.record_state(pop, "v", ids=[0, size - 1])
    plastic = []
    for k, (pre, post, receptor) in enumerate([("inp", "a", "exc"), ("inp", "b", "exc"), ("a", "b", "exc"),
                                              ("b", "a", "inh"), ("a", "a", "exc")]):
        template, n_post = pops[post]
        _, (lo, hi), unit = TEMPLATES[template]
        n_pre = n_in if pre == "inp" else pops[pre][1]
        connector = _connector(rng, CONNECTORS[int(rng.integers(len(CONNECTORS)))], n_pre, n_post)
        rule = RULES[int(rng.integers(len(RULES)))] if receptor == "exc" else "static"
        if rule == "depressing" and (template in CONDUCTANCE):
            rule = "static"
        scale = 3.0 if pre == "inp" else 0.3
        sign = -1.0 if receptor == "inh" and template not in CONDUCTANCE else 1.0
        synapse = _rule(rule, hi * unit)
        name = f"p{k}"
        net.connect(pre, post, connector, weight=sign * scale * float(rng.uniform(lo, hi)) * unit,
                    receptor=receptor, synapse=synapse, name=name)
        if rule not in ("spinnaker_stdp", "depressing"):      # theirs act in the spike's step
            proj = net.projections[-1]
            proj.delay = rng.integers(1, 41, size=_count(net, name)) * STEP
        if synapse is not None and rule != "depressing":
            plastic.append(name)
    changes = {"v": ("a", rng.uniform(-70, -55, pops["a"][1]) * 1e-3),
               "spikes": [(t, i) for i, ts in enumerate(_times(rng, n_in, float(RUN))) for t in ts],
               "normalize": plastic[0] if plastic else "p0"}
    return net, changes


#: per-synapse delivery: the torch backend's delivery in numba's order
OPTIONS = {"torch-float64": {"weights": "synapses"}}


def _run(net, changes, backend):
    sim = simulation(net, backend, **OPTIONS.get(backend, {}))
    sim.run(RUN, progress=False)
    pop, values = changes["v"]
    sim.set(pop, "v", values)
    times = np.array([t for t, _ in changes["spikes"]]) + sim.t
    sim.set_spikes("inp", times, np.array([i for _, i in changes["spikes"]]))
    w = sim.get(changes["normalize"], "w")
    normalize_weights(sim, changes["normalize"], 2 * float(np.mean(w)) if w.size else 1.0)
    sim.run(RUN, progress=False)
    state = {f"{p}.v": sim.get(p, "v") for p in ("a", "b")}
    state.update({f"{p.name}.w": sim.get(p.name, "w") for p in net.projections})
    return sim.result(), state


def _same(a, b, state_a, state_b, with_state=True):
    for pop in ("a", "b"):
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times, err_msg=pop)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids, err_msg=pop)
    if with_state:
        for key in a.traces:
            np.testing.assert_array_equal(a.traces[key].values, b.traces[key].values, err_msg=key)
        for key in state_a:
            np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)


FAST = [0, 1, 2]
SLOW = list(range(3, 20))


def _seeds(fast):
    return fast + [pytest.param(s, marks=pytest.mark.slow) for s in SLOW]


def rate_network(seed):
    """Rate units under a rate rule (Hebbian, anti-Hebbian or Oja's)."""
    rng = np.random.default_rng(seed)
    rule = [hebbian(eta=2.0), anti_hebbian(eta=1.0), oja(eta=5.0, alpha=2.0)][seed % 3]
    net = Network(dt=1 * ms, seed=seed)
    net.population("x", 5, RateUnit(tau=5 * ms), params={"i_offset": rng.uniform(0.1, 0.9, 5)})
    net.population("y", 3, RateUnit(tau=8 * ms))
    net.connect("x", "y", FixedProbability(0.7), receptor="input", synapse=rule, name="rate",
                weight=float(rng.uniform(0.05, 0.5)))
    net.record_state("y", ["r", "I"])
    return net


@pytest.mark.parametrize("seed", _seeds(FAST))
def test_random_spiking_networks_torch_float64_is_numba_bit_for_bit(seed):
    net, changes = spiking_network(seed)
    ref, ref_state = _run(net, changes, "numba")
    got, got_state = _run(net, changes, "torch-float64")
    assert sum(ref.spikes[p].count() for p in ("a", "b")) > 20, "the network should be active"
    _same(ref, got, ref_state, got_state)


@pytest.mark.parametrize("seed", _seeds([0]))
def test_random_spiking_networks_brian2_cython_spikes_are_numbas(seed):
    net, changes = spiking_network(seed)
    ref, ref_state = _run(net, changes, "numba")
    got, got_state = _run(net, changes, "brian2-cython")
    _same(ref, got, ref_state, got_state, with_state=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rate_rules_torch_float64_and_brian2_cython_are_numba_bit_for_bit(seed):
    results = {}
    for backend in ("numba", "torch-float64", "brian2-cython"):
        sim = simulation(rate_network(seed), backend, **OPTIONS.get(backend, {}))
        sim.run(50 * ms, progress=False)
        sim.set("x", "i_offset", np.linspace(0.2, 0.8, 5))
        sim.run(50 * ms, progress=False)
        results[backend] = (sim.result().traces, sim.get("rate", "w"))
    traces, w = results["numba"]
    for backend in ("torch-float64", "brian2-cython"):
        np.testing.assert_array_equal(results[backend][1], w, err_msg=backend)
        for key in traces:
            np.testing.assert_array_equal(results[backend][0][key].values, traces[key].values, err_msg=backend)


def test_izhikevich_with_delays_torch_adds_in_numbas_order():
    """Many weights reaching a neuron in one step through delays of 1-40 steps:
    torch-float64 adds them in numba's order (issue 21, 11a: one ulp apart, then
    amplified by the network)."""
    rng = np.random.default_rng(0)
    net = Network(dt=DT, seed=0)
    net.spike_source("inp", 100, _times(rng, 100, 0.3, rate=20.0))
    net.population("cells", 200, Izhikevich(), init={"v": rng.uniform(-70, -50, 200) * 1e-3})
    net.connect("inp", "cells", FixedProbability(0.1), weight=50 * mV / ms, name="in")
    net.connect("cells", "cells", FixedProbability(0.2), weight=0.5 * mV / ms, name="ee")
    net.projections[1].delay = rng.integers(1, 41, size=_count(net, "ee")) * STEP
    net.record_spikes("cells")
    net.record_state("cells", "isyn_exc", ids=range(20))
    a = simulation(net, "numba")
    b = simulation(net, "torch-float64", weights="synapses")
    for sim in (a, b):
        sim.run(0.3, progress=False)
    ra, rb = a.result(), b.result()
    assert ra.spikes["cells"].count() > 1000
    np.testing.assert_array_equal(ra.traces["cells.isyn_exc"].values, rb.traces["cells.isyn_exc"].values)
    np.testing.assert_array_equal(ra.spikes["cells"].times, rb.spikes["cells"].times)
    np.testing.assert_array_equal(ra.spikes["cells"].ids, rb.spikes["cells"].ids)
