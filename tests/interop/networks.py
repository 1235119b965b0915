"""Networks the PyNN tests share."""
import numpy as np
from brian2 import ms, mV, nA, nF

from spikemem.connectors import FixedProbability
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp


def small_network():
    rng = np.random.default_rng(3)
    net = Network(dt=0.1 * ms, seed=5)
    net.spike_source("inp", 20, [np.sort(rng.choice(np.arange(2, 2000), 15, replace=False)) * 1e-4
                                 for _ in range(20)])
    cell = IF_curr_exp(cm=0.25 * nF, tau_m=10 * ms, tau_syn_E=2 * ms, tau_syn_I=4 * ms, tau_refrac=2 * ms,
                       v_rest=-65 * mV, v_reset=-70 * mV, v_thresh=-55 * mV)
    net.population("A", 30, cell, init={"v": -65 * mV})
    net.population("B", 10, cell, init={"v": -65 * mV})
    net.connect("inp", "A", FixedProbability(0.5), weight=1.2 * nA, delay=0.3 * ms, name="exc")
    net.connect("inp", "A", FixedProbability(0.2), weight=-0.8 * nA, delay=0.7 * ms, receptor="inh", name="inh")
    net.connect("A", "B", FixedProbability(0.4), weight=0.9 * nA, delay=1.5 * ms, name="ab")
    for p in ("inp", "A", "B"):
        net.record_spikes(p)
    return net
