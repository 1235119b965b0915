"""Projections onto and from another projection's synapses (``Network.connect``
with a projection as pre or post): an astrocyte's variable summed into the
synapses it contacts, the synapses' variable summed into the astrocyte; the
backends in agreement, and bad input refused by name."""
import numpy as np
import pytest

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FromList, OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import NeuronModel
from spikemem.synapses import SynapseModel

#: release Y_S per spike and a slow gliotransmitter G_A that scales the delivery
TRIPARTITE = SynapseModel("w : 1\ndY_S/dt = -Y_S/(50*ms) : 1 (clock-driven)\nG_A : 1",
                          on_pre="Y_S += 1\nv_post += w*(1 + G_A)", name="tripartite")
DUMMY = NeuronModel(name="dummy", equations="dv/dt = -v/(10*ms) : 1", threshold=None, reset=None,
                    receptors={"exc": "v"})
ASTRO = NeuronModel(name="astro", equations="dx/dt = (Y - x)/(100*ms) : 1\nY : 1\nG : 1",
                    threshold=None, reset=None, receptors={})


def tripartite_net():
    """2 sources onto 3 cells (6 synapses); astrocyte k contacts synapses k and k + 3
    (its own G into their G_A) and listens to them (their Y_S summed into its Y)."""
    net = Network(dt=1e-3, seed=1)
    net.spike_source("src", 2, [[0.01, 0.05, 0.2], [0.03, 0.1, 0.12]])
    net.population("cells", 3, DUMMY)
    syn = net.connect("src", "cells", AllToAll(), weight=np.array([0.5, 0.2, 0.3, 0.4, 0.1, 0.6]),
                      synapse=TRIPARTITE, name="syn")
    net.population("astro", 3, ASTRO, init={"G": [0.5, 2.0, -0.25]})
    contacts = FromList([(s % 3, s) for s in range(6)])
    net.connect(syn, "astro", FromList([(s, s % 3) for s in range(6)]),
                synapse=SynapseModel("Y_post = Y_S_pre : 1 (summed)", name="syn_to_astro"), name="syn_to_astro")
    net.connect("astro", "syn", contacts, synapse=SynapseModel("G_A_post = G_pre : 1 (summed)", name="astro_to_syn"),
                name="astro_to_syn")
    net.record_state("astro", ["x", "Y"])
    net.record_state("cells", ["v"])
    return net


def _run(backend, **options):
    sim = simulation(tripartite_net(), backend, **options)
    sim.run(0.3)
    return sim


@pytest.fixture(scope="module")
def runs():
    return {"brian2": _run("brian2-numpy"), "numba": _run("numba"), "torch": _run("torch", dtype="float64")}


def test_astrocyte_sums_into_its_synapses(runs):
    for name, sim in runs.items():
        np.testing.assert_array_equal(sim.get("syn", "G_A"), [0.5, 2.0, -0.25] * 2, err_msg=name)


def test_synapses_drive_their_astrocyte(runs):
    """Y of astrocyte k is Y_S of synapses k and k + 3 at the step's start; source 0's
    synapses are 0-2, source 1's 3-5, so each astrocyte hears both sources."""
    for name, sim in runs.items():
        y_s = sim.get("syn", "Y_S")
        # summed at the last step's start, before the last clock-driven decay
        np.testing.assert_allclose(sim.get("astro", "Y") * np.exp(-1e-3 / 50e-3), y_s[:3] + y_s[3:],
                                   rtol=1e-12, err_msg=name)
        assert np.all(sim.result().traces["astro.x"].values[-1] > 0.1), name


def test_backends_agree(runs):
    """Same traces: numba and Brian2 to rounding, torch (float64) to 1e-12."""
    ref = runs["brian2"].result().traces
    for name in ("numba", "torch"):
        got = runs[name].result().traces
        for key in ("astro.x", "astro.Y", "cells.v"):
            np.testing.assert_allclose(got[key].values, ref[key].values, rtol=1e-12, atol=1e-15,
                                       err_msg=f"{name} {key}")
    # the astrocytes' G reached the deliveries: cell 1 is driven by synapses 1 and 4,
    # scaled by 1 + G of astrocytes 1 and 1 (3 each), unlike a network without them
    v = ref["cells.v"].values
    assert v.max() > 0.5


def test_modulation_changes_delivery():
    """Without the astrocytes' projection the same synapses deliver w alone."""
    net = tripartite_net()
    net.projections.pop()
    plain = simulation(net, "numba")
    plain.run(0.3)
    full = _run("numba")
    ratio = full.result().traces["cells.v"].values.max(0) / plain.result().traces["cells.v"].values.max(0)
    assert np.all(np.abs(ratio - 1) > 0.1), ratio


# ---------------------------------------------------------------- bad input
def _base():
    net = Network(dt=1e-3)
    net.spike_source("src", 2, [[0.01], [0.02]])
    net.population("cells", 3, DUMMY)
    net.population("astro", 4, ASTRO)
    syn = net.connect("src", "cells", AllToAll(), weight=0.5, synapse=TRIPARTITE, name="syn")
    return net, syn


def test_unknown_synapse_variable_is_refused_by_name():
    net, syn = _base()
    net.connect("astro", syn, AllToAll(), synapse=SynapseModel("Gamma_post = G_pre : 1 (summed)"), name="gliot")
    with pytest.raises(ModelError, match=r"projection 'gliot'.*'syn' has no synaptic variable 'Gamma'"):
        net.build()


def test_unknown_source_variable_is_refused_by_name():
    net, syn = _base()
    net.connect(syn, "astro", AllToAll(), synapse=SynapseModel("Y_post = Z_pre : 1 (summed)"), name="uptake")
    with pytest.raises(ModelError, match=r"projection 'uptake'.*reads 'Z_pre'.*'syn' has no synaptic variable"):
        net.build()


def test_mismatched_sizes_are_refused_by_name():
    net, syn = _base()      # 4 astrocytes, 6 synapses
    net.connect("astro", syn, OneToOne(), synapse=SynapseModel("G_A_post = G_pre : 1 (summed)"), name="one")
    with pytest.raises(ModelError, match=r"projection 'one' \(4 neurons of 'astro' -> 6 synapses of 'syn'\).*"
                                         r"equal sizes"):
        net.build()


@pytest.mark.parametrize("what, kwargs, message", [
    ("weight", dict(weight=1.0), "has no weight"),
    ("delay", dict(delay=2e-3), "takes no delay"),
    ("on_pre", dict(on_pre="G_A_post += 1"), "takes no on_pre"),
])
def test_spike_options_are_refused(what, kwargs, message):
    net, syn = _base()
    net.connect("astro", syn, AllToAll(), synapse=SynapseModel("G_A_post = G_pre : 1 (summed)"), name="x", **kwargs)
    with pytest.raises(ModelError, match=rf"projection 'x'.*{message}"):
        net.build()


def test_a_weight_variable_and_a_chain_are_refused():
    net, syn = _base()
    net.connect("astro", syn, AllToAll(), synapse=SynapseModel("w : 1\nG_A_post = w*G_pre : 1 (summed)"), name="x")
    with pytest.raises(ModelError, match=r"projection 'x'.*declares no weight 'w'"):
        net.build()
    net, syn = _base()
    link = net.connect(syn, "astro", AllToAll(), synapse=SynapseModel("Y_post = Y_S_pre : 1 (summed)"), name="up")
    with pytest.raises(ModelError, match=r"projection 'again'.*'up' links to another projection"):
        net.connect("astro", link, AllToAll(), synapse=SynapseModel("G_A_post = G_pre : 1 (summed)"), name="again")
    with pytest.raises(ModelError, match=r"projection 'both'.*both sides are projections"):
        net.connect(syn, "syn", AllToAll(), synapse=SynapseModel("G_A_post = G_A_pre : 1 (summed)"), name="both")


def test_described_saved_and_loaded(tmp_path):
    net = tripartite_net()
    text = net.describe()
    assert "syn_to_astro: the synapses of 'syn' -> astro" in text
    assert "astro_to_syn: astro -> the synapses of 'syn'" in text and "summed into 'G_A'" in text
    net.save(tmp_path / "net.json")
    again = Network.load(tmp_path / "net.json")
    assert again.hash() == net.hash() and [p.linked for p in again.projections] == [None, "pre", "post"]
    assert [p.i.tolist() for p in again.build().projections] == [p.i.tolist() for p in net.build().projections]


def test_set_weights_is_refused():
    net, syn = _base()
    net.connect("astro", syn, AllToAll(), synapse=SynapseModel("G_A_post = G_pre : 1 (summed)"), name="glio")
    with pytest.raises(ModelError, match=r"set_weights of projection 'glio': it sums onto or from synapses"):
        net.set_weights("glio", np.ones(24))
