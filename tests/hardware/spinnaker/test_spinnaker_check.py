"""SpiNNaker's check against the installed sPyNNaker's limits (the hardware extra)."""
import pytest
from brian2 import ms, mV, nA

from spikemem.connectors import AllToAll, OneToOne
from spikemem.hardware.spinnaker.check import limits, max_delay_steps
from spikemem.models.ca3_cam.network import ca3_network
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.targets import TARGETS

from hardware_networks import delay_network

pytestmark = pytest.mark.hardware
pytest.importorskip("spynnaker")
spinnaker = TARGETS.get("spinnaker")


def test_limits_come_from_the_installed_spynnaker():
    lim = limits()
    assert lim["max_neurons_per_core"] == 256 and lim["ring_buffer_bits"] == 14
    assert "IF_curr_exp" in lim["binaries"] and "IF_curr_exp_stdp_mad_pair_additive" in lim["binaries"]
    # 256 neurons: 8 atom bits + 1 synapse-type bit leave 5 delay bits: 32 slots, 8 extension stages
    assert max_delay_steps(256, lim) == 32 * 9
    assert max_delay_steps(10, lim) == 2 ** (14 - 4 - 1) * 9


def test_ca3_passes_every_check():
    assert spinnaker.check(ca3_network()) == []


def test_check_lists_every_broken_constraint():
    net = Network(dt=0.5 * ms, seed=0)
    net.spike_source("inp", 2, [[0.01], [0.02]])
    net.population("izh", 2, Izhikevich())
    net.population("lif", 3, IF_curr_exp())
    net.connect("inp", "izh", OneToOne(), weight=1 * mV / ms, name="to_izh")
    net.connect("inp", "lif", AllToAll(), weight=1 * nA, delay=5 * ms, name="to_lif")
    text = "\n".join(map(str, spinnaker.check(net)))
    assert "population 'izh'" in text and "Izhikevich" in text
    assert "projection 'to_izh'" in text
    assert "time step is 0.5 ms" in text          # reported beside the translation's refusals
    bad = spinnaker.check(delay_network(2, dt=0.5 * ms))
    assert [v.what for v in bad] == ["time step"] and "0.5 ms" in str(bad[0])
    assert [v.what for v in spinnaker.check(delay_network(2), neurons_per_core=300)] == ["neurons per core"]


def test_check_names_a_population_with_its_own_dt():
    net = Network(dt=0.1 * ms, seed=0)
    net.spike_source("inp", 1, [[0.01]])
    net.population("slow", 2, IF_curr_exp(tau_refrac=0 * ms), dt=1 * ms)
    net.connect("inp", "slow", AllToAll(), weight=1 * nA)
    (v,) = spinnaker.check(net)
    assert v.where == "population 'slow'" and v.what.startswith("its own dt 0.001 s (every 10 steps")


def test_check_finds_weights_lost_to_the_shared_weight_scale():
    """One receptor's weights share a 16-bit scale set by the largest input: a
    tiny weight beside a 50 nA one rounds to 0."""
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("inp", 2, [[0.005], [0.006]])
    net.population("post", 2, IF_curr_exp())
    net.connect("inp", "post", OneToOne(), weight=50 * nA, name="big")
    net.connect("inp", "post", OneToOne(), weight=1e-5 * nA, name="tiny")
    (v,) = spinnaker.check(net)
    assert v.where == "projection 'tiny'" and v.what == "weight resolution" and "rounds" not in v.fix
    net.projections[-1].weight = 0.1 * nA
    assert spinnaker.check(net) == []
