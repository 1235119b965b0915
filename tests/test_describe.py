"""``net.describe()`` and the short reprs of networks and results."""
import numpy as np
import pytest
from brian2 import ms, mV, nA

from spikemem.backends import simulate
from spikemem.connectors import AllToAll, FixedProbability, FromList
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.plasticity import stdp


def network():
    net = Network(dt=0.1 * ms, seed=0)
    net.spike_source("src", 10, [[1e-3 * (k + 1)] for k in range(10)])
    net.population("exc", 1000, IF_curr_exp(tau_m=15 * ms, tau_refrac=2 * ms), init={"v": -60 * mV})
    net.population("inh", 200, IF_curr_exp())
    net.connect("src", "exc", FixedProbability(0.2), weight=2 * nA, delay=0.5 * ms, name="feed")
    net.connect("exc", "inh", FixedProbability(0.05), weight=0.5 * nA, name="ei",
                synapse=stdp(tau_plus=10 * ms, tau_minus=12 * ms, A_plus=0.01 * nA, A_minus=0.012 * nA,
                             w_max=1 * nA))
    net.connect("inh", "exc", FixedProbability(0.05), weight=-1 * nA, receptor="inh", name="ie")
    net.connect("src", "inh", FromList([[0, 1], [2, 3]]), weight=3 * nA, name="few")
    net.step_current("inh", 0.5 * nA, 10 * ms, 20 * ms)
    net.record_spikes(net.populations["exc"][0:100])
    net.record_state("inh", "v", ids=[0, 1])
    return net


def test_network_repr_is_one_line():
    assert repr(network()) == "<Network: 3 populations (1,210 neurons), 4 projections, dt=0.1 ms, seed=0>"


def test_describe_names_every_part_with_units_and_counts():
    net = network()
    built = net.build()
    text = net.describe()
    counts = {p.name: p.i.size for p in built.projections}
    assert text.splitlines()[0] == (f"Network {net.hash()}: 3 populations (1,210 neurons), 4 projections "
                                    f"({sum(counts.values()):,} synapses), dt=0.1 ms, seed=0")
    for piece in ("src: 10 x SpikeSource, 10 spikes from 1 ms to 10 ms", "exc: 1,000 x IF_curr_exp",
                  "tau_m = 15 ms", "refractory = 2 ms (20 steps held)", "initial v = -60 mV",
                  "feed: src -> exc by FixedProbability(p=0.2, allow_self=True), receptor 'exc' (isyn_exc)",
                  f"{counts['feed']:,} synapses, weight 2 nA, delay 0.5 ms (5 steps)",
                  "receptor 'inh' (isyn_inh)", "weight -1 nA", "synapse 'stdp_additive_all'", "w_max = 1 nA",
                  "few: src -> inh by FromList(conn_list=[[0, 1], [2, 3]])",
                  "inh.i_offset set at 0 ms: 0 nA, 10 ms: 0.5 nA, 20 ms: 0 nA",
                  "spikes of exc (100 of 1,000 neurons)", "v of inh (2 neurons, every step)"):
        assert piece in text, piece


def test_describe_validates_first():
    net = Network(dt=0.1 * ms)
    net.population("a", 3, IF_curr_exp())
    net.connect("a", "a", AllToAll(), weight=1 * nA, delay=0.15 * ms, name="odd")
    with pytest.raises(ModelError, match="projection 'odd' delay"):
        net.describe()


def test_describe_gives_a_populations_own_dt():
    net = Network(dt=0.1 * ms)
    net.population("slow", 3, IF_curr_exp(tau_refrac=0 * ms), dt=10 * ms)
    net.population("fast", 3, IF_curr_exp())
    text = net.describe()
    assert "own dt 10 ms (every 100 steps)" in text and text.count("own dt") == 1


def test_reprs_are_short():
    net = network()
    built = net.build()
    for obj in (net, built, built.populations["exc"], built.projections[0], net.populations["exc"],
                net.projections[1], net.populations["exc"][3:9]):
        text = repr(obj)
        assert "array(" not in text and "\n" not in text and len(text) < 160, text
    assert repr(built.projections[0]).startswith("<BuiltProjection 'feed': src -> exc, ")
    assert repr(net.projections[1]) == ("<Projection 'ei': exc -> inh, FixedProbability, receptor 'exc', "
                                        "synapse 'stdp_additive_all'>")


def test_result_reprs():
    net = network()
    res = simulate(net, 20 * ms, "numba", progress=False)
    n = res.spikes["exc"].count()
    assert n > 0
    assert repr(res) == f"<Result of numba, 0.02 s; spikes exc: {n:,}, 1 trace(s)>"
    assert repr(res.spikes["exc"]).startswith(f"<SpikeTrain: {n:,} spikes of 100 of 1,000 neurons, ")
    assert repr(res.traces["inh.v"]) == "<Trace: 200 samples of 2 neurons in V, 0 s to 0.0199 s>"
    assert "array(" not in repr(res) and np.isfinite(res.summary()["exc"]["mean_rate"])
