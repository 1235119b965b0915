"""The Loihi target's constraints: every offender listed, with its fix, before any work."""
import numpy as np
import pytest
from brian2 import mV, ms, nA

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FromList
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.plasticity import stdp
from spikemem.targets import TARGETS

from hardware_networks import bad_network, cell

loihi = TARGETS.get("loihi")


def test_check_names_every_offender_and_refuses_before_work():
    net = bad_network()
    found = {(v.where, v.what) for v in loihi.check(net)}
    assert {("population 'izh'", "neuron model"), ("population 'reset_high'", "v_thresh - v_reset"),
            ("population 'two_taus'", "tau_syn_E != tau_syn_I"), ("projection 'too_slow'", "delay"),
            ("projection 'triplet'", "synapse model"),
            ("population 'ok'", "current input"), ("population 'ok'", "recorded variables"),
            ("population 'long_refractory'", "refractory period")} <= found
    for v in loihi.check(net):
        assert v.fix and v.limit is not None
    with pytest.raises(ModelError, match="izh") as err:
        loihi.quantize(net)
    assert "too_slow" in str(err.value) and "reset_high" in str(err.value)
    with pytest.raises(ModelError, match="too_slow"):
        simulation(net, "loihi")
    # the offenders gone, the rest maps; a reset below (or above) rest is a bias, not an offence
    good = Network(dt=1 * ms)
    good.spike_source("src", 2, [[0.001], [0.002]])
    good.population("ok", 2, cell())
    good.population("reset_low", 2, cell(v_reset=-70 * mV))
    good.population("rest_low", 2, cell(v_rest=-75 * mV))
    good.connect("src", "ok", AllToAll(), weight=1 * nA, delay=63 * ms)
    assert loihi.check(good) == []
    lnet = loihi.quantize(good)
    assert not np.any(lnet.populations["ok"].bias_mant)
    assert np.all(lnet.populations["reset_low"].bias_mant > 0) and np.all(lnet.populations["rest_low"].bias_mant < 0)


def test_a_population_with_its_own_dt_is_a_violation():
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 2, [[0.001], [0.002]])
    net.population("slow", 2, cell(tau_refrac=0 * ms), dt=1 * ms)
    net.connect("src", "slow", AllToAll(), weight=1 * nA)
    (v,) = loihi.check(net)
    assert (v.where, v.what) == ("population 'slow'", "own dt")
    assert v.value == "0.001 s, every 10 steps of the network's" and v.limit == "0.0001 s, the network's dt"
    with pytest.raises(ModelError, match="population 'slow': own dt is 0.001 s"):
        simulation(net, "loihi")


def test_weights_that_vanish_or_plastic_rules_out_of_range_are_violations():
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.001], [0.002]])
    net.population("p", 2, cell())
    net.connect("src", "p", FromList([(0, 0, 2e-9), (1, 1, 1e-14)]), name="tiny")
    assert [(v.where, v.what) for v in loihi.check(net)] == [("projection 'tiny'", "weights that quantize to 0")]
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.001], [0.002]])
    net.population("p", 2, cell())
    net.connect("src", "p", AllToAll(), weight=-0.1 * nA, name="plastic_inh", receptor="inh",
                synapse=stdp(w_min=-1 * nA, w_max=0 * nA))
    assert ("projection 'plastic_inh'", "plastic receptor") in {(v.where, v.what) for v in loihi.check(net)}


def test_a_bias_that_does_not_fit_is_a_violation():
    """A small plastic w_max raises the voltage scale (w_max is mantissa 255 at exponent 0, the
    smallest); the drive to a v_rest 11 mV above the reset at tau_m = 2 ms, dt = 1 ms (decay_v
    1612/4096: 4.3 mV per step) then overflows the 13-bit bias mantissa x 2**7."""
    def net(w_max):
        n = Network(dt=1 * ms)
        n.spike_source("src", 2, [[0.001], [0.002]])
        n.population("p", 2, cell(tau_m=2 * ms, v_rest=-54 * mV))
        n.connect("src", "p", AllToAll(), weight=w_max / 2, name="plastic",
                  synapse=stdp(A_plus=w_max / 10, A_minus=w_max / 10, w_min=0 * nA, w_max=w_max))
        return n
    found = loihi.check(net(0.1 * nA))
    assert [(v.where, v.what) for v in found] == [("population 'p'", "bias")]
    assert "v_rest closer to v_reset" in found[0].fix and "w_max" in found[0].fix
    assert loihi.check(net(1 * nA)) == []
