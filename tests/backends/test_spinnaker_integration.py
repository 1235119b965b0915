"""IF_curr_exp(integration="spinnaker"): a step as sPyNNaker's neuron core computes it, on every engine."""
import numpy as np
import pytest
from brian2 import mV, ms, nA, nF

from spikemem.backends import simulation
from spikemem.connectors import OneToOne
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp

ENGINES = [("numba", {}), ("brian2", {"target": "numpy"}),
           pytest.param("torch", {"dtype": "float64", "device": "cpu"}, marks=pytest.mark.torch),
           ("spinnaker", {"arithmetic": "float64"})]
PARAMS = dict(cm=0.27 * nF, tau_m=3 * ms, tau_syn_E=0.3 * ms, tau_syn_I=0.3 * ms, v_rest=-60 * mV,
              v_reset=-60 * mV, v_thresh=-50 * mV, tau_refrac=1 * ms)


def closed_form(weights, steps, dt=1.0, cm=0.27, tau_m=3.0, tau_syn=0.3, v_rest=-60.0):
    """sPyNNaker's step in plain floats (ms, nF, nA, mV): the input of a step
    joins the current times tau_syn/dt (1 - exp(-dt/tau_syn)), v follows with
    the current held, then the current decays; v at the start of every step."""
    init, decay, exp_tc = tau_syn / dt * (1 - np.exp(-dt / tau_syn)), np.exp(-dt / tau_syn), np.exp(-dt / tau_m)
    v, i, out = v_rest, 0.0, []
    for step in range(steps):
        out.append(v)
        i += weights.get(step, 0.0) * init
        alpha = i * tau_m / cm + v_rest
        v = alpha - exp_tc * (alpha - v)
        i *= decay
    return np.array(out)


@pytest.mark.parametrize("backend, options", ENGINES)
def test_v_follows_the_cores_closed_form(backend, options):
    net = Network(dt=1 * ms)
    net.spike_source("src", 1, [[0 * ms, 1 * ms, 4 * ms]])
    net.population("cell", 1, IF_curr_exp(integration="spinnaker", **PARAMS), init={"v": -60 * mV})
    net.connect("src", "cell", OneToOne(), weight=2 * nA, delay=1 * ms)
    net.record_state("cell", ["v"])
    sim = simulation(net, backend, **options)
    sim.run(10 * ms)
    v = sim.result().traces["cell.v"].values[:, 0] * 1e3
    expected = closed_form({1: 2.0, 2: 2.0, 5: 2.0}, 10)
    assert 3 < np.ptp(expected) < 10                             # it moved, below threshold
    np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-9)
