"""Networks the hardware target tests (tests/hardware/) share: Loihi's IF_curr_exp cells, a random
recurrent network, one that breaks every Loihi rule, CUBA's cell with a reset below rest, and
SpiNNaker's long-delay network.

It sits at the top of tests/ because ``hardware.*`` would import the source folder hardware/
(a regular package) where the repository root is on sys.path (``python -m pytest``)."""
import numpy as np
from brian2 import mV, ms, nA, nF

from spikemem.connectors import AllToAll, FromList
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.plasticity import stdp, triplet_stdp


STEPS = 300


def cell(rng=None, **over):
    p = dict(cm=1 * nF, tau_m=12 * ms, tau_syn_E=3 * ms, tau_syn_I=3 * ms, tau_refrac=2 * ms,
             v_rest=-65 * mV, v_reset=-65 * mV, v_thresh=-55 * mV)
    if rng is not None:
        tau_s = float(rng.uniform(2, 6)) * ms
        p.update(tau_m=float(rng.uniform(8, 25)) * ms, tau_syn_E=tau_s, tau_syn_I=tau_s,
                 tau_refrac=float(rng.integers(1, 5)) * ms)
    p.update(over)
    return IF_curr_exp(**p)


def random_network(seed, plastic=False):
    """Recurrent exc + inh with spike-array inputs, random weights and delays of 1..5 steps."""
    rng = np.random.default_rng(seed)
    n_in, n_e, n_i = 20, int(rng.integers(20, 44)), int(rng.integers(6, 16))
    net = Network(dt=1 * ms, seed=seed)
    net.spike_source("inp", n_in, [np.sort(rng.choice(STEPS - 10, int(rng.integers(5, 25)), replace=False)) * 1e-3
                                   for _ in range(n_in)])
    net.population("exc", n_e, cell(rng))
    net.population("inh", n_i, cell(rng))

    def rows(n_pre, n_post, p, w_lo, w_hi, d_max):
        return FromList([(i, j, rng.uniform(w_lo, w_hi) * 1e-9, int(rng.integers(1, d_max + 1)) * 1e-3)
                         for i in range(n_pre) for j in range(n_post) if rng.random() < p])
    net.connect("inp", "exc", rows(n_in, n_e, 0.3, 0.3, 1.4, 4), name="in_exc")
    net.connect("inp", "inh", rows(n_in, n_i, 0.2, 0.3, 1.2, 3), name="in_inh")
    net.connect("exc", "exc", rows(n_e, n_e, 0.1, 0.05, 0.5, 5), name="ee")
    net.connect("exc", "inh", rows(n_e, n_i, 0.3, 0.1, 0.5, 3), name="ei")
    net.connect("inh", "exc", rows(n_i, n_e, 0.3, -0.4, -0.05, 4), receptor="inh", name="ie")
    net.connect("inh", "inh", rows(n_i, n_i, 0.2, -0.3, -0.05, 2), receptor="inh", name="ii")
    if plastic:
        net.connect("inp", "exc", FromList([(i, j) for i in range(n_in) for j in range(n_e) if rng.random() < 0.3]),
                    weight=0.5 * nA, name="plastic",
                    synapse=stdp(tau_plus=4 * ms, tau_minus=4 * ms, A_plus=0.2 * nA, A_minus=0.25 * nA,
                                 w_min=0 * nA, w_max=1 * nA))
    for p in ("inp", "exc", "inh"):
        net.record_spikes(p)
    return net


def pairs(steps_ids):
    steps, ids = steps_ids
    return sorted(zip(np.asarray(steps).tolist(), np.asarray(ids).tolist()))


def bad_network():
    net = Network(dt=1 * ms)
    net.spike_source("src", 4, [[0.002], [0.003], [], [0.004]])
    net.population("izh", 3, Izhikevich())
    net.population("reset_high", 3, cell(v_reset=-50 * mV))                # above v_thresh
    net.population("two_taus", 3, cell(tau_syn_I=8 * ms))
    net.population("long_refractory", 3, cell(tau_refrac=100 * ms))
    net.population("ok", 3, cell())
    net.connect("src", "ok", AllToAll(), weight=1 * nA, delay=64 * ms, name="too_slow")
    net.connect("src", "two_taus", AllToAll(), weight=1 * nA, name="e2")
    net.connect("src", "two_taus", AllToAll(), weight=-1 * nA, receptor="inh", name="i2")
    net.connect("src", "ok", AllToAll(), weight=1 * nA, synapse=triplet_stdp(w_max=2 * nA), name="triplet")
    net.step_current("ok", 0.5 * nA, 0.01)
    net.record_state("ok", "isyn_exc")
    return net


SOURCE_STEPS = ([20, 21, 80, 150, 151, 152], [60, 100, 101, 200])


def reset_below_rest(v_rest):
    """CUBA's cell (reset -60 mV, threshold -50 mV, refractory 5 steps) at dt = 1 ms with one
    v_rest per neuron, kicked by an excitatory and an inhibitory input."""
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("inp", 2, [np.array(s) * 1e-3 for s in SOURCE_STEPS])
    cell = IF_curr_exp(cm=1 * nF, tau_m=20 * ms, tau_syn_E=5 * ms, tau_syn_I=5 * ms, tau_refrac=5 * ms,
                       v_rest=-49 * mV, v_reset=-60 * mV, v_thresh=-50 * mV)
    net.population("p", len(v_rest), cell, params={"v_rest": np.asarray(v_rest)}, init={"v": -55 * mV})
    net.connect("inp", "p", FromList([(0, j, 3e-9) for j in range(len(v_rest))]), name="exc")
    net.connect("inp", "p", FromList([(1, j, -2e-9) for j in range(len(v_rest))]), receptor="inh", name="inh")
    net.record_spikes("p")
    net.record_state("p", "v")
    return net


def delay_network(delay_steps, n_post=256, dt=1 * ms):
    net = Network(dt=dt, seed=1)
    net.spike_source("inp", 4, [[0.005]] * 4)
    net.population("post", n_post, IF_curr_exp())
    net.connect("inp", "post", AllToAll(), weight=0.5 * nA, delay=delay_steps * dt, name="long")
    net.record_spikes("post")
    return net
