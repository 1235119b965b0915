"""IF_cond_exp on the SpiNNaker emulator: one neuron's s16.15 tick against
sPyNNaker's formulas written out with Python integers, a Poisson-driven
conductance network against numba, per-neuron thresholds, new Poisson rates
between runs, and current and conductance cells side by side."""
import math

import numpy as np
import pytest
from brian2 import Hz, ms, mV, nA, nF, nS

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FixedProbability, FromList, OneToOne
from spikemem.distributions import Uniform
from spikemem.errors import ModelError
from spikemem.hardware.spinnaker.weights import weight_scaling
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp, IF_curr_exp
from spikemem.targets import TARGETS

spinnaker = TARGETS.get("spinnaker")

ONE, U032 = 1 << 15, 1 << 32


def s1615(x):
    return int(round(x * ONE))


def diehl_cook_exc(**params):
    """The excitatory cell of a Diehl-Cook network (conductance LIF, tau_m 100 ms)."""
    return IF_cond_exp(**{**dict(c_m=0.1 * nF, tau_m=100 * ms, e_rev_E=0 * mV, e_rev_I=-100 * mV,
                                 tau_syn_E=1 * ms, tau_syn_I=2 * ms, v_rest=-65 * mV, v_reset=-65 * mV,
                                 v_thresh=-52 * mV, tau_refrac=5 * ms), **params})


def test_one_tick_is_spynnakers_conductance_lif_in_integers():
    """v, g_exc and the spikes of one IF_cond_exp neuron equal sPyNNaker's
    tick written out here: weights in uS x 1024 in 16 bits, the ring buffer
    added through init, g >> 10 (input_type_get_input_value), I = g_e (E_e - V)
    - (-g_i (E_i - V)) with truncating accum products, the LIF closed form,
    threshold >=, T_refract held steps, then the synaptic decay."""
    steps = 120
    exc_times = [5, 6, 7, 30, 31, 32, 33, 34, 35, 36, 60, 61]
    inh_times = [31, 32, 33, 80]
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[t * 1e-3 for t in exc_times], [t * 1e-3 for t in inh_times]])
    net.population("n", 1, diehl_cook_exc())
    net.connect("src", "n", FromList([[0, 0]]), weight=17 * nS, name="exc")
    net.connect("src", "n", FromList([[1, 0]]), weight=5 * nS, receptor="inh", name="inh")
    net.record_spikes("n")
    net.record_state("n", ["v", "gsyn_exc", "gsyn_inh"])
    built = net.build()
    delay = int(built.projections[0].delay[0])
    sim = simulation(net, "spinnaker")
    sim.run(steps * 1e-3, progress=False)
    res = sim.result()

    # the host: S1615 parameters, the core's derived constants (as for IF_curr_exp)
    ts, tau_m, cm = s1615(1.0), s1615(100.0), s1615(0.1)
    R = (tau_m << 15) // cm
    exp_tc = round(math.exp(-((ts << 15) // tau_m) / ONE) * ONE)
    t_ref = ((s1615(5.0) << 15) // ts + ONE - 1) >> 15

    def decay_init(tau_ms):
        tau = s1615(tau_ms)
        decay = min(round(math.exp(-((ts << 15) // tau) / ONE) * U032), U032 - 1)
        return decay, min((((tau << 15) // ts) * (U032 - 1 - decay)) >> 15, U032 - 1)

    (dec_e, init_e), (dec_i, init_i) = decay_init(1.0), decay_init(2.0)
    # the weights: uS x 1024 (get_global_weight_scale); the shift from the biggest of them
    shift_e, shift_i = 5, 3                         # ceil(log2(17.408)), ceil(log2(5.12))
    w_e, w_i = round(0.017 * 1024 * 2 ** (15 - shift_e)), round(0.005 * 1024 * 2 ** (15 - shift_i))
    ws = weight_scaling(net)
    assert (ws[("n", "exc")]["shift"], ws[("n", "inh")]["shift"]) == (shift_e, shift_i)
    assert ws[("n", "exc")]["projections"]["exc"]["w16"][0] == w_e == 17826
    e_e, e_i, rest, reset, thresh = s1615(0), s1615(-100), s1615(-65), s1615(-65), s1615(-52)

    v, g_e, g_i, timer = rest, 0, 0, 0
    v_trace, ge_trace, gi_trace, spikes = [], [], [], []
    for step in range(steps):
        v_trace.append(v)
        ge_trace.append(g_e)
        gi_trace.append(g_i)
        # 1. ring buffers of this step (spikes of step - delay)
        if step - delay in exc_times:
            g_e += ((w_e << shift_e) * init_e) >> 32
        if step - delay in inh_times:
            g_i += ((w_i << shift_i) * init_i) >> 32
        # 2. the neuron, with the conductances as they are now
        if timer <= 0:
            exc = ((g_e >> 10) * (e_e - v)) >> 15
            inh = ((-(g_i >> 10)) * (e_i - v)) >> 15
            alpha = (((exc - inh) * R) >> 15) + rest
            v = alpha - ((exp_tc * (alpha - v)) >> 15)
        else:
            timer -= 1
        if v >= thresh:
            v, timer = reset, t_ref
            spikes.append(step)
        g_e, g_i = (g_e * dec_e) >> 32, (g_i * dec_i) >> 32
    assert len(spikes) >= 2 and t_ref == 5
    np.testing.assert_array_equal(np.rint(res.traces["n.v"].values[:, 0] * 1e3 * ONE).astype(np.int64), v_trace)
    # recorded in S: the state is uS x 1024 in s16.15
    for var, trace in (("gsyn_exc", ge_trace), ("gsyn_inh", gi_trace)):
        np.testing.assert_allclose(res.traces[f"n.{var}"].values[:, 0], np.array(trace) / (1024 * ONE) * 1e-6,
                                   rtol=1e-12, atol=0, err_msg=var)
    np.testing.assert_array_equal(np.rint(res.spikes["n"].times * 1e3).astype(int), spikes)
