"""Synapse models: who delivers the spike (spikemem.synapses)."""
import numpy as np
import pytest
from brian2 import ms, nA

from spikemem.backends import simulation
from spikemem.connectors import FromList
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.plasticity import diehl_cook_stdp, hebbian, spinnaker_stdp, stdp, triplet_stdp
from spikemem.synapses import STATIC, SynapseModel

DT = 1e-4
U, W = 0.5, 2 * nA

# Tsodyks-Markram style depression: the model delivers U*x*w itself
TM = SynapseModel(name="tm_like", equations="""
    w : weight
    U : 1 (constant)
    tau_rec : second (constant)
    dx/dt = (1 - x)/tau_rec : 1 (event-driven)
    """, on_pre="isyn_exc_post += U*x*w\nx -= U*x", params=dict(U=U, tau_rec=100 * ms), init=dict(x=1.0))


def _single_spike(synapse, delay=DT):
    """One presynaptic spike at step 10 into post neuron 0 through ``synapse``,
    and into post neuron 1 through a static projection of weight U*W (the
    reference: one ordinary delivery)."""
    net = Network(dt=DT, seed=1)
    net.spike_source("pre", 1, [[10 * DT]])
    net.population("post", 2, IF_curr_exp(tau_syn_E=5 * ms))
    net.connect("pre", "post", FromList([(0, 0)]), weight=W, delay=delay, synapse=synapse, name="model")
    net.connect("pre", "post", FromList([(0, 1)]), weight=U * W, name="reference")
    net.record_state("post", "isyn_exc")
    return net


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy"])
def test_a_model_delivering_in_its_own_on_pre_delivers_once(backend):
    sim = simulation(_single_spike(TM), backend)
    sim.run(30 * DT)
    isyn = sim.result().traces["post.isyn_exc"].values
    # one delivery of U*x*w with x = 1: the current jumps by U*W, not U*W + W
    assert isyn[:, 0].max() == pytest.approx(float(U * W), rel=1e-12)
    # the neuron feels it as it feels one delivery of one step's delay: from the
    # record of step 12 on the two currents are the same (the model's on_pre runs
    # in the spike step itself, the delivery before step 11's update)
    np.testing.assert_allclose(isyn[12:, 0], isyn[12:, 1], rtol=1e-12)
    assert sim.get("model", "x")[0] == pytest.approx(1 - U, rel=1e-3)


def test_the_rule_who_delivers():
    built = _single_spike(TM).build()
    model, reference = built.projections
    assert model.on_pre == "" and model.plastic_pre == TM.on_pre.strip()
    assert reference.on_pre == "isyn_exc_post += w" and reference.plastic_pre == ""
    for code, delivers in [("isyn_exc_post += w", True), ("x = 1\nisyn_exc_post = isyn_exc_post + w", True),
                           ("isyn_exc_post -= w", True), ("w = clip(w - isyn_exc_post, 0, 1)", False),
                           ("y = isyn_exc_post == 1", False), ("gisyn_exc_post += w", False),
                           ("isyn_inh_post += w", False)]:
        assert SynapseModel(on_pre=code).delivers("isyn_exc") is delivers, code
    # every template and the static synapse leave delivery to the projection
    for model in (STATIC, stdp(), stdp("multiplicative", "nearest"), spinnaker_stdp(), triplet_stdp(),
                  diehl_cook_stdp(), hebbian()):
        for target in ("isyn_exc", "isyn_inh", "gsyn_exc", "I"):
            assert not model.delivers(target), (model.name, target)


def test_a_stated_on_pre_still_wins():
    net = _single_spike(TM)
    net.projections[0].on_pre = ""         # the old work-around: same instance
    assert net.build().projections[0].on_pre == ""
    net.projections[0].on_pre = "isyn_exc_post += 0*w"
    assert net.build().projections[0].on_pre == "isyn_exc_post += 0*w"


def test_a_self_delivering_model_refuses_a_longer_delay():
    with pytest.raises(ModelError, match=r"projection 'model'.*tm_like.*one time step"):
        _single_spike(TM, delay=3 * DT).build()
