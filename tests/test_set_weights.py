"""Writing weights back into a Network: ``net.set_weights`` and the torch
backend's ``sim.weights()`` / ``sim.to_network(net)``."""
import numpy as np
import pytest
from brian2 import ms, mV, nA

from spikemem.backends import simulate, simulation
from spikemem.connectors import FixedProbability
from spikemem.distributions import Normal, Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp

DT = 1e-4


def network(seed=3):
    rng = np.random.default_rng(0)
    net = Network(dt=DT, seed=seed)
    net.spike_source("inp", 8, [np.unique(np.rint(rng.uniform(0, 0.04, 6) / DT)) * DT for _ in range(8)])
    net.population("cells", 20, IF_curr_exp(tau_refrac=2 * ms), init={"v": Uniform(-65 * mV, -55 * mV)})
    net.connect("inp", "cells", FixedProbability(0.5), weight=Normal(2 * nA, 0.5 * nA),
                delay=Uniform(0.1 * ms, 2 * ms), delay_rounding="round", name="feed")
    net.connect("cells", "cells", FixedProbability(0.2, allow_self=False), weight=Uniform(0.2 * nA, 1 * nA),
                delay=Uniform(0.1 * ms, 3 * ms), delay_rounding="round", name="rec")
    net.record_spikes("cells")
    return net


def _spikes(result):
    t = result.spikes["cells"]
    return sorted(zip(np.rint(t.times / DT).astype(int).tolist(), t.ids.tolist()))


def test_set_weights_replaces_only_the_weights():
    net = network()
    before = net.build()
    w = np.linspace(0.5, 1.5, before.projections[0].i.size) * 1e-9
    net.set_weights("feed", w)
    after = net.build()
    assert np.array_equal(after.projections[0].w, w)
    for a, b in zip(before.projections, after.projections):
        assert np.array_equal(a.i, b.i) and np.array_equal(a.j, b.j) and np.array_equal(a.delay, b.delay)
    assert np.array_equal(before.projections[1].w, after.projections[1].w)     # later draws unchanged
    assert np.array_equal(before.populations["cells"].init["v"], after.populations["cells"].init["v"])


def test_set_weights_round_trips_through_json(tmp_path):
    net = network()
    n = net.build().projections[1].i.size
    net.set_weights({"rec": np.random.default_rng(1).uniform(0, 1e-9, n)})
    net.save(tmp_path / "n.json")
    again = Network.load(tmp_path / "n.json")
    assert again.hash() == net.hash()
    assert np.array_equal(again.build().projections[1].w, net.build().projections[1].w)
    assert "(set_weights)" in again.describe()


def test_set_weights_refusals_name_the_projection():
    net = network()
    n = net.build().projections[0].i.size
    with pytest.raises(ModelError, match="unknown projection 'nope'"):
        net.set_weights("nope", np.zeros(n))
    with pytest.raises(ModelError, match=f"projection 'feed': expected one weight per synapse, shape \\({n},\\)"):
        net.set_weights("feed", np.zeros(n + 1))
    with pytest.raises(ModelError, match="set_weights of projection 'feed': expected a value in units of A"):
        net.set_weights("feed", np.zeros(n) * mV)
    assert net.projections[0].set_w is None              # nothing written by a refused call
    net.set_weights("feed", np.zeros(n))
    net.seed = 4                                          # other synapses now
    with pytest.raises(ModelError, match="projection 'feed': its synapses are not those its weights were set for"):
        net.build()
    n = len(net.set_weights("feed", None) or net.build().projections[0].i)   # back to the declared weights
    with pytest.raises(ModelError, match=r"projection 'feed': weights on receptor 'exc' .* must be >= 0, got -1e-09"):
        net.set_weights(net.projections[0], np.full(n, -1e-9))             # checked as build() checks weights
    net.set_weights(net.projections[0], np.full(n, 2e-9))                  # the projection itself, or its name
    assert np.all(net.build().projections[0].w == 2e-9)


def test_trained_torch_weights_run_on_numba():
    torch = pytest.importorskip("torch")
    net = network()
    original = simulate(net, 50 * ms, "numba", progress=False)
    sim = simulation(net, "torch", dtype="float64", device="cpu", dale=True)   # weights keep PyNN's signs
    opt = torch.optim.Adam(sim.module.parameters(), lr=2e-10)
    for _ in range(3):                                   # drive every cell towards 5 spikes
        sim.module.reset_state()
        out = sim.module(500)["cells"]
        loss = ((out.sum(0) - 5.0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sim.module.constrain_()
    trained = sim.weights()
    assert sorted(trained) == ["feed", "rec"]
    assert not np.allclose(trained["feed"], net.build().projections[0].w, rtol=1e-3, atol=0)
    sim.to_network(net)
    assert np.array_equal(net.build().projections[0].w, trained["feed"])
    ref = simulate(net, 50 * ms, "numba", progress=False)
    assert _spikes(ref) != _spikes(original)              # the trained weights act
    assert _spikes(ref) == _spikes(simulate(net, 50 * ms, "torch-float64", progress=False))


def test_to_network_refuses_another_network():
    pytest.importorskip("torch")
    sim = simulation(network(), "torch", dtype="float64", device="cpu")
    with pytest.raises(ModelError, match="projection '(feed|rec)' of the network has not the synapses"):
        sim.to_network(network(seed=9))
