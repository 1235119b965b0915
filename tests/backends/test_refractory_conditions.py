"""Refractory conditions (``refractory="x > theta"``), the same on every engine.

Brian2's rule: before each update a neuron becomes free again once the
condition is false (``not_refractory = not_refractory or not (condition)``),
a spike holds it, and while held it cannot fire and its "(unless refractory)"
variables stay as they are. A variable that crosses a threshold and stays
above it therefore fires once per crossing. The drive below does not depend
on the spikes, so the rule can be replayed on the recorded trace.
"""
import dataclasses

import numpy as np
import pytest
from brian2 import Hz, ms

from spikemem.backends import simulation
from spikemem.connectors import AllToAll
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import NeuronModel

ENGINES = [("numba", {}), ("brian2", {"target": "numpy"}), ("torch", {"dtype": "float64", "device": "cpu"})]
DURATION = 0.2
PHASE = np.array([0.0, 1.0, 2.0, 4.0])

#: two sines (x = sin(2 pi f t + phase) + a sin(6 pi f t)) and a clock y that
#: runs only while the neuron is free
OSCILLATOR = NeuronModel("""
    dx/dt = 2*pi*f*cos(2*pi*f*t + phase) + 6*pi*f*a*cos(6*pi*f*t) : 1
    dy/dt = 1/second : 1 (unless refractory)
    f : Hz (constant)
    a : 1 (constant)
    phase : 1 (constant)
    theta : 1 (constant)
    hyst : 1 (constant)
    """, threshold="x > theta", refractory="x > theta", method="euler",
    params=dict(f=20 * Hz, a=0.3, phase=PHASE, theta=np.array([0.5, 0.2, 0.8, -0.3]), hyst=0.0),
    init=dict(x=np.sin(PHASE)), name="oscillator")


def run(model, backend, options):
    if backend == "torch":
        pytest.importorskip("torch")
    net = Network(dt=0.1 * ms)
    net.population("c", len(PHASE), model)
    net.record_spikes("c")
    net.record_state("c", ["x", "y"])
    sim = simulation(net, backend, **options)
    sim.run(DURATION)
    result = sim.result()
    steps = np.rint(result.spikes["c"].times / float(net.dt)).astype(int)
    return result, [sorted(steps[result.spikes["c"].ids == k].tolist()) for k in range(len(PHASE))]


def replay(x, theta, release):
    """Brian2's rule on the trace ``x`` (the state at the start of each step):
    the spike steps of each neuron and the steps it was free, held from its
    spike until ``x <= release`` at the start of a step."""
    free = np.ones(x.shape[1], bool)
    spikes, free_steps = [[] for _ in range(x.shape[1])], np.zeros(x.shape[1], int)
    for k in range(x.shape[0] - 1):
        free |= ~(x[k] > release)
        free_steps += free
        fired = free & (x[k + 1] > theta)
        for j in np.flatnonzero(fired):
            spikes[j].append(k)
        free &= ~fired
    return spikes, free_steps


@pytest.mark.parametrize("backend,options", ENGINES, ids=[b for b, _ in ENGINES])
def test_a_crossing_fires_once(backend, options):
    """Held while above threshold: one spike per upward crossing (and at the
    first step for a neuron that starts above it, which no spike holds yet)."""
    result, spikes = run(OSCILLATOR, backend, options)
    x = result.traces["c.x"].values
    theta = OSCILLATOR.params["theta"]
    crossings = [[k for k in range(x.shape[0] - 1) if x[k + 1, j] > theta[j] and (k == 0 or x[k, j] <= theta[j])]
                 for j in range(len(PHASE))]
    assert spikes == crossings
    assert all(3 <= len(s) <= 12 for s in spikes)       # 4 cycles, a few crossings each
    assert spikes[1][0] == 0 and spikes[0][0] > 0       # neuron 1 starts above its threshold


@pytest.mark.parametrize("backend,options", ENGINES, ids=[b for b, _ in ENGINES])
def test_a_condition_on_parameters_and_state_holds_and_releases(backend, options):
    """``x > theta - hyst`` (a per-neuron and a shared parameter): held until x
    falls below the release level, and y (unless refractory) runs only while
    free; the spikes and y follow Brian2's rule step by step."""
    model = dataclasses.replace(OSCILLATOR, refractory="x > theta - hyst", params={**OSCILLATOR.params, "hyst": 0.4})
    result, spikes = run(model, backend, options)
    x = result.traces["c.x"].values
    theta = model.params["theta"]
    expected, free_steps = replay(x, theta, theta - 0.4)
    assert spikes == expected
    y = result.traces["c.y"].values
    np.testing.assert_allclose(y[-1], free_steps * 1e-4, rtol=0, atol=1e-12)
    assert np.all(free_steps < x.shape[0] - 1)          # every neuron was held for a while
    _, plain = run(OSCILLATOR, backend, options)
    assert sum(map(len, spikes)) < sum(map(len, plain))  # hysteresis ignores the small wiggles


def test_the_engines_agree_with_a_reset():
    """A reset that takes the state below the condition (free again at the next
    step): every engine gives the same spikes and traces."""
    model = NeuronModel("""
        dc/dt = (drive - c)/(5*ms) : 1
        drive : 1 (constant)
        """, threshold="c > 1", reset="c -= 0.3", refractory="c > 0.9", method="exact",
        params=dict(drive=np.array([0.5, 1.2, 2.0, 5.0])), init=dict(c=0.0))
    out = {}
    for backend, options in ENGINES:
        net = Network(dt=0.1 * ms)
        net.population("c", 4, model)
        net.record_spikes("c")
        net.record_state("c", ["c"])
        if backend == "torch":
            pytest.importorskip("torch")
        sim = simulation(net, backend, **options)
        sim.run(0.05)
        out[backend] = sim.result()
    ref = out["brian2"]
    counts = np.bincount(ref.spikes["c"].ids, minlength=4)
    assert counts[0] == 0 and counts[3] > counts[2] > counts[1] > 1        # a stronger drive fires faster
    for backend in ("numba", "torch"):
        np.testing.assert_array_equal(out[backend].spikes["c"].ids, ref.spikes["c"].ids)
        np.testing.assert_array_equal(out[backend].spikes["c"].times, ref.spikes["c"].times)
        np.testing.assert_allclose(out[backend].traces["c.c"].values, ref.traces["c.c"].values, rtol=0, atol=1e-12)


def test_a_condition_is_built_and_described():
    net = Network(dt=0.1 * ms)
    net.population("c", len(PHASE), OSCILLATOR)
    pop = net.build().populations["c"]
    assert (pop.refractory_condition, pop.refractory_steps) == ("x > theta", 0)
    assert "refractory while x > theta" in net.describe()


@pytest.mark.parametrize("condition,match", [
    ("x > theta_held", r"refractory condition 'x > theta_held' names unknown variable\(s\) \['theta_held'\]"),
    ("x + theta", "not a boolean expression"),
    ("x > 1*mV", "refractory condition 'x > 1\\*mV'"),
    ("  ", "empty"),
])
def test_a_bad_condition_is_refused_at_build(condition, match):
    net = Network(dt=0.1 * ms)
    net.population("c", len(PHASE), dataclasses.replace(OSCILLATOR, refractory=condition))
    with pytest.raises(ModelError, match=match):
        net.build()


def test_hardware_targets_and_exports_say_a_condition_cannot_be_expressed():
    """Loihi, SpiNNaker, the PyNN translation and NIR hold a neuron for a fixed
    period: each names the condition as what it cannot express."""
    from spikemem.interop import pynn
    from spikemem.interop.nir.export import nir_problems
    from spikemem.neurons import IF_curr_exp
    from spikemem.targets import TARGETS
    net = Network(dt=1 * ms)
    net.spike_source("src", 1, [[0.001]])
    net.population("cell", 2, dataclasses.replace(IF_curr_exp(), refractory="v > v_reset + 1*mV"))
    net.connect("src", "cell", AllToAll(), weight=1e-9)
    loihi = [v for v in TARGETS.get("loihi").check(net) if v.what == "refractory condition"]
    assert len(loihi) == 1 and "cannot be expressed" in loihi[0].fix and loihi[0].where == "population 'cell'"
    _, problems = pynn.translation(net)
    assert problems[0] == ("population 'cell': refractory condition 'v > v_reset + 1*mV' cannot be expressed "
                           "(PyNN cell types hold a neuron for a fixed period, tau_refrac)")
    spinnaker = [v for v in TARGETS.get("spinnaker").check(net) if v.where == "population 'cell'"]
    assert len(spinnaker) == 1 and "cannot be expressed" in spinnaker[0].what
    assert any("refractory condition" in p for p in nir_problems(net.build()))
