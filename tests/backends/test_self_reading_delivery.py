"""A delivery that reads the variable it adds to (``c_post += w*(1 - c_post)``):
several synapses onto one target in one step add one after the other, each
reading what the ones before it added, on numba, torch and Brian2 alike."""
import numpy as np
import pytest

import spikemem as sm
from spikemem.backends import simulation
from spikemem.network import Network
from spikemem.neurons import NeuronModel

DT = 1e-3
BACKENDS = [("numba", {}), ("torch", {"dtype": "float64"}), ("torch", {"dtype": "float64", "batch": 2}),
            ("brian2-numpy", {})]
TARGET = NeuronModel(name="saturating", equations="dx/dt = -x/(20*ms) : 1", threshold=None, reset=None)


def shared_net():
    """Four AM-SU neurons sharing one astrocyte (alpha 0.5), all firing in one step."""
    net = Network(dt=DT, seed=0)
    net.spike_source("inp", 1, [[5 * DT]])
    net.population("n", 4, sm.AMSUShared(k=np.array([0.1, 0.2, 0.3, 0.4])))
    net.connect("inp", "n", sm.AllToAll(), weight=1.5, receptor="exc")      # one spike each
    sm.shared_astrocytes(net, "n", group=4, alpha=0.5)
    net.record_spikes("n")
    net.record_state("astrocytes", ["c"])
    net.record_state("n", ["m"])
    return net


def fan_in_net():
    """Three sources onto two targets, every pair, with two delays: the spikes at
    steps 3 and 4 meet at the targets in step 6, in the engines' delivery order."""
    net = Network(dt=DT, seed=0)
    net.spike_source("src", 3, [[3 * DT], [4 * DT, 9 * DT], [4 * DT]])
    net.population("dst", 2, TARGET)
    net.connect("src", "dst", sm.AllToAll(), weight=np.array([0.3, 0.6, 0.2, 0.7, 0.5, 0.4]),
                delay=np.array([3, 3, 2, 2, 2, 2]) * DT, receptor="x", on_pre="x_post += w*(1 - x_post)", name="fan_in")
    net.record_state("dst", ["x"])
    return net


def runs(make):
    """The traces of every backend, and of each trial of a batch."""
    got = []
    for backend, options in BACKENDS:
        sim = simulation(make(), backend, **options)
        sim.run(0.02)
        batch = options.get("batch")
        got += [sim.result(trial).traces for trial in range(batch)] if batch else [sim.result().traces]
    return got


@pytest.mark.parametrize("make,keys", [(shared_net, ("astrocytes.c", "n.m")), (fan_in_net, ("dst.x",))])
def test_backends_agree(make, keys):
    numba, *others = runs(make)
    for traces in others:
        for key in keys:
            expected = numba[key].values
            np.testing.assert_allclose(traces[key].values, expected, rtol=1e-12, atol=1e-15, err_msg=key)


def test_one_synapse_after_another():
    """From 0, four raises by 0.5 leave 1 - 0.5**4 (not the 2 that four raises
    read from the value before the step would give), which the record shows
    decayed by one step of tau_a = 500 ms."""
    for traces in runs(shared_net):
        c = traces["astrocytes.c"].values[:, 0]
        first = np.flatnonzero(c)[0]
        assert c[first] == pytest.approx((1 - 0.5 ** 4) * np.exp(-DT / 0.5), rel=1e-12)
        assert np.all(c[first + 1:] < c[first:-1])          # the four spikes were all: c only decays after
