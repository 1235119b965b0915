"""Summed variables delivered with a delay (``Network.connect(..., delay=...)`` on a
projection whose synapse model sums, as NEST's ``sic_connection``): the sum of
step n reaches the target d steps later, numba and torch agree, Brian2 refuses
by name, and bad delays are refused by name."""
import numpy as np
import pytest

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FromList
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import NeuronModel
from spikemem.synapses import SynapseModel, summed

DT = 1e-3
#: a rate source whose ``s`` the inputs set, and a target whose ``I`` the sums set
SOURCE = NeuronModel(name="source", equations="s : 1", threshold=None, reset=None)
TARGET = NeuronModel(name="target", equations="dv/dt = (I - v)/(10*ms) : 1\nI : 1", threshold=None, reset=None)
BACKENDS = [("numba", {}), ("torch", {"dtype": "float64"})]


def pulse_net(delays=None, name="sums"):
    """Two sources, each ``s`` a pulse of one step (source 0: 2 at step 5; source 1:
    3 at step 9), summed into one target with weights 1 and 10."""
    net = Network(dt=DT, seed=0)
    net.population("src", 2, SOURCE)
    net.population("dst", 1, TARGET)
    net.current("src", np.array([0, 5, 6, 9, 10]) * DT, np.array([[0, 0], [2, 0], [0, 0], [0, 3], [0, 0]]),
                variable="s")
    net.connect("src", "dst", AllToAll(), weight=np.array([1.0, 10.0]), delay=delays, receptor="I",
                synapse=summed("s", "I"), name=name)
    net.record_state("src", ["s"])
    net.record_state("dst", ["I", "v"])
    return net


def traces(net, backend, options, chunks=(0.03,)):
    sim = simulation(net, backend, **options)
    for duration in chunks:
        sim.run(duration)
    got = sim.result().traces
    return got["src.s"].values, got["dst.I"].values[:, 0], got["dst.v"].values[:, 0]


@pytest.mark.parametrize("backend,options", BACKENDS)
@pytest.mark.parametrize("d", [1, 3, 7])
def test_sum_arrives_d_steps_later(backend, options, d):
    """The record of step m holds the sum of step m - d: each pulse appears exactly
    d steps after the step the source held it, zeros before."""
    s, i_sum, _ = traces(pulse_net(d * DT), backend, options)
    expected = np.zeros_like(i_sum)
    expected[d:] = (s @ [1.0, 10.0])[:-d]
    np.testing.assert_array_equal(i_sum, expected)
    assert i_sum[5 + d] == 2.0 and i_sum[9 + d] == 30.0 and np.count_nonzero(i_sum) == 2


@pytest.mark.parametrize("backend,options", BACKENDS)
def test_each_synapse_its_own_delay(backend, options):
    """Source 0's synapse delays by 2 steps, source 1's by 4: the pulses at steps 5
    and 9 arrive at 7 and 13."""
    s, i_sum, _ = traces(pulse_net(np.array([2, 4]) * DT), backend, options)
    expected = np.zeros_like(i_sum)
    expected[2:] += s[:-2, 0]
    expected[4:] += 10 * s[:-4, 1]
    np.testing.assert_array_equal(i_sum, expected)
    assert np.flatnonzero(i_sum).tolist() == [7, 13]


@pytest.mark.parametrize("backend,options", BACKENDS)
def test_one_step_is_the_default(backend, options):
    """A delay of one step is Brian2's summed variable, the projection's default."""
    default = traces(pulse_net(None), backend, options)
    one = traces(pulse_net(DT), backend, options)
    for a, b in zip(default, one):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend,options", BACKENDS)
def test_delayed_sums_carry_over_between_runs(backend, options):
    """A sum still on its way when a run ends arrives in the next run."""
    whole = traces(pulse_net(6 * DT), backend, options)
    pieces = traces(pulse_net(6 * DT), backend, options, chunks=(0.007, 0.004, 0.019))
    for a, b in zip(whole, pieces):
        np.testing.assert_array_equal(a, b)


def astro_net(delays):
    """Li-Rinzel astrocytes (two above the SIC threshold) sending their SIC to three
    neurons through synapses of different delays (NEST's sic_connection)."""
    from brian2 import pA, umolar
    from spikemem.glia import LiRinzel, sic_synapse
    from spikemem.neurons import AdEx
    net = Network(dt=1e-4, seed=0)
    net.spike_source("inp", 1, [[0.0005, 0.0031]])
    net.population("astro", 3, LiRinzel(delta_IP3=0.2 * umolar), init={"Ca_astro": [0.2, 0.35, 0.1] * umolar})
    net.population("post", 3, AdEx(sic=True))
    net.connect("inp", "astro", AllToAll(), weight=np.array([1.0, 3.0, 2.0]), delay=1e-3, receptor="ip3")
    pairs = [(0, 0), (0, 2), (1, 0), (1, 1), (2, 2)]
    net.connect("astro", "post", FromList(pairs), weight=np.array([1.0, 0.5, 2.0, 1.5, 3.0]) * pA, delay=delays,
                receptor="sic", synapse=sic_synapse(), name="sic")
    net.record_state("post", ["I_SIC", "v"])
    return net


@pytest.mark.parametrize("delays", [1e-3, np.array([1, 4, 10, 2, 7]) * 1e-4])
def test_numba_and_torch_agree(delays):
    """NEST's SIC delay of 1 ms, and one delay per synapse: the same currents and
    voltages on numba and torch (float64)."""
    got = {}
    for backend, options in BACKENDS:
        sim = simulation(astro_net(delays), backend, **options)
        sim.run(0.005)
        got[backend] = sim.result().traces
    for key in ("post.I_SIC", "post.v"):
        np.testing.assert_allclose(got["torch"][key].values, got["numba"][key].values, rtol=1e-12, atol=0,
                                   err_msg=key)
    i_sic = got["numba"]["post.I_SIC"].values
    assert np.all(i_sic[:int(np.min(delays) / 1e-4)] == 0) and np.all(i_sic[-1] > 0)


def test_brian2_refuses_a_delayed_sum_by_name():
    with pytest.raises(ModelError, match=r"projection 'sums'.*3 steps.*numba or torch"):
        simulation(pulse_net(3 * DT), "brian2-numpy")
    sim = simulation(pulse_net(DT), "brian2-numpy")       # one step is Brian2's own
    sim.run(0.03)
    np.testing.assert_array_equal(sim.result().traces["dst.I"].values[:, 0], traces(pulse_net(DT), "numba", {})[1])


@pytest.mark.parametrize("delay,why", [(-2 * DT, "at least one time step"), (0.0, "at least one time step"),
                                       (2.5 * DT, "not a whole number of time steps")])
def test_bad_delays_refused_by_name(delay, why):
    with pytest.raises(ModelError, match=f"projection 'sums'.*{why}"):
        pulse_net(delay).build()


@pytest.mark.parametrize("backend,options", BACKENDS)
def test_sums_onto_both_sides_delayed(backend, options):
    """A sum onto the presynaptic side is delayed as well: ``J_pre = w*I_post`` of
    step k reads the I that step uses (the record of step k + 1) and arrives d
    steps later."""
    d = 3
    net = Network(dt=DT, seed=0)
    net.population("src", 2, NeuronModel(name="source2", equations="s : 1\nJ : 1", threshold=None, reset=None))
    net.population("dst", 1, TARGET)
    net.current("src", np.array([0, 5, 6]) * DT, np.array([[0, 0], [2, 1], [0, 0]]), variable="s")
    net.connect("src", "dst", AllToAll(), weight=np.array([1.0, 10.0]), delay=d * DT, receptor="I", name="sums",
                synapse=SynapseModel("w : 1\nI_post = w*s_pre : 1 (summed)\nJ_pre = w*I_post : 1 (summed)"))
    net.record_state("src", ["J"])
    net.record_state("dst", ["I"])
    got = simulation(net, backend, **options)
    got.run(0.02)
    i_sum, j_sum = got.result().traces["dst.I"].values[:, 0], got.result().traces["src.J"].values
    assert np.flatnonzero(i_sum).tolist() == [5 + d] and i_sum[5 + d] == 12.0
    expected = np.zeros_like(j_sum)
    expected[d:] = np.outer(i_sum[1:len(i_sum) - d + 1], [1.0, 10.0])
    np.testing.assert_array_equal(j_sum, expected)
    assert np.flatnonzero(j_sum[:, 0]).tolist() == [4 + 2 * d]


def spiking_sum_net():
    """A projection that delivers spikes (``on_pre``, delay 3 steps) and sums a
    decaying synaptic ``g`` that the spike raises: one spike at step 5."""
    net = Network(dt=DT, seed=0)
    net.spike_source("inp", 1, [[5 * DT]])
    net.population("dst", 1, NeuronModel(name="sum_target", equations="I : 1\nJ : 1", threshold=None, reset=None))
    net.connect("inp", "dst", AllToAll(), weight=2.0, delay=3 * DT, receptor="I", name="both",
                synapse=SynapseModel("w : 1\ndg/dt = -g/(5*ms) : 1 (clock-driven)\nI_post = g : 1 (summed)"),
                on_pre="g += w\nJ_post += w")
    net.record_state("dst", ["I", "J"])
    return net


def test_a_spiking_projection_sums_undelayed():
    """Its delay is the spikes' alone (Brian2's): the delivery of step 5 + 3 raises
    J and, through g, I in the same step, on numba, torch and Brian2 alike."""
    assert spiking_sum_net().build().projections[0].summed_delay == 1
    got = {}
    for backend, options in BACKENDS + [("brian2-numpy", {})]:
        sim = simulation(spiking_sum_net(), backend, **options)
        sim.run(0.02)
        got[backend] = sim.result().traces
    i_sum, j_sum = got["numba"]["dst.I"].values[:, 0], got["numba"]["dst.J"].values[:, 0]
    assert np.flatnonzero(j_sum)[0] == np.flatnonzero(i_sum)[0] == 5 + 3 + 1    # the record after the delivery
    for backend in ("torch", "brian2-numpy"):
        for key in ("dst.I", "dst.J"):
            np.testing.assert_allclose(got[backend][key].values, got["numba"][key].values, rtol=1e-9, atol=0,
                                       err_msg=f"{backend} {key}")
