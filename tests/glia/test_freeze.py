"""spikemem.glia.freeze_modulation: an AM-SU network with its astrocytic state
held is the IF_curr_exp network whose subthreshold trace and first spikes are
the AM-SU's with that state, weights split by sign; bad input refused first."""
import numpy as np
import pytest
from brian2 import mV, ms, second

import spikemem as sm
from spikemem.backends import simulate
from spikemem.errors import ModelError
from spikemem.glia import AMSU, freeze_modulation
from spikemem.network import Network

K, B, HELD = np.array([0.8, -0.4, 0.0]), np.array([0.3, 0.0, -0.2]), np.array([0.6, 0.25, 0.9])


def amsu_net(model, weight, init=None):
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.002, 0.004, 0.006, 0.03], [0.003, 0.005, 0.02]])
    net.population("unit", 3, model, init=init)
    net.connect("src", "unit", sm.AllToAll(), weight=weight, name="in")
    net.record_spikes("unit")
    return net


def held_amsu(weight):
    """The AM-SU with a held: alpha 0 (spikes do not move it) and tau_a so long that it stays."""
    model = AMSU(tau=5 * ms, tau_a=1e7 * second, v_th=1.0, k=K, b=B, alpha=0.0)
    return amsu_net(model, weight, init={"a": HELD, "m": 1 + K * HELD})


@pytest.mark.parametrize("integration", ["spinnaker", "exact"])
def test_the_frozen_network_follows_the_held_am_su_below_threshold(integration):
    weight = np.array([0.1, -0.15, 0.05, 0.12, -0.1, 0.05])      # (pre, post) order: both signs
    ref = held_amsu(weight)
    ref.record_state("unit", ["v"])
    frozen = freeze_modulation(amsu_net(AMSU(tau=5 * ms, k=K, b=B), weight), HELD, integration=integration)
    frozen.record_state("unit", ["v"])
    names = {p.name: p for p in frozen.build().projections}
    assert set(names) == {"in", "in_inh"} and names["in"].target == "isyn_exc" and names["in_inh"].target == "isyn_inh"
    assert np.all(names["in"].w >= 0) and np.all(names["in_inh"].w < 0) and names["in"].w.size == 4
    a, b = simulate(ref, 0.05, "numba"), simulate(frozen, 0.05, "numba")
    assert a.spikes["unit"].count() == b.spikes["unit"].count() == 0
    u_ref = a.traces["unit.v"].values + B * HELD                # u = v + b*a
    u = (b.traces["unit.v"].values - float(-65 * mV)) / float(10 * mV)
    # (within e**-20 of a weight: what the synaptic current keeps past its step)
    assert np.max(np.abs(u - u_ref)) < 1e-8 and np.max(np.abs(u_ref)) > 0.1


def test_first_spikes_are_the_held_am_su_s_and_b_lowers_the_threshold():
    weight = 0.6
    a = simulate(held_amsu(weight), 0.05, "numba").spikes["unit"]
    b = simulate(freeze_modulation(amsu_net(AMSU(tau=5 * ms, k=K, b=B), weight), HELD), 0.05, "numba").spikes["unit"]
    first = {i: a.times[a.ids == i].min() for i in set(a.ids.tolist())}
    assert first and first == {i: b.times[b.ids == i].min() for i in set(b.ids.tolist())}
    frozen = freeze_modulation(amsu_net(AMSU(tau=5 * ms, k=K, b=B), weight), HELD).populations["unit"]
    assert np.allclose(frozen.params["v_rest"], float(-65 * mV) + B * HELD * float(10 * mV))
    assert np.allclose(frozen.params["v_thresh"], float(-55 * mV)) and frozen.model.refractory == 0


def test_one_value_a_dict_and_a_per_neuron_array_agree_and_v_starts_at_u():
    net = amsu_net(AMSU(k=K, b=B), 0.3, init={"v": [0.0, 0.5, -0.2]})
    one = freeze_modulation(net, 0.5).build().populations["unit"]
    two = freeze_modulation(net, {"unit": [0.5] * 3}).build().populations["unit"]
    assert np.allclose(one.params["v_rest"], two.params["v_rest"])
    assert np.allclose(one.init["v"], float(-65 * mV) + (np.array([0.0, 0.5, -0.2]) + B * 0.5) * float(10 * mV))


def test_bad_values_and_networks_without_am_sus_are_refused():
    net = amsu_net(AMSU(), 0.3)
    for a, words in ((1.5, r"a for 'unit' must lie in \[0, 1\]"), ([0.1, 0.2], "one value or 3"),
                     ({"other": 0.1}, r"unknown \['other'\], missing \['unit'\]")):
        with pytest.raises(ModelError, match=words):
            freeze_modulation(net, a)
    net.population("more", 1, AMSU())
    with pytest.raises(ModelError, match="2 AM-SU populations"):
        freeze_modulation(net, 0.1)
    plain = Network(dt=1 * ms)
    plain.population("lif", 1, sm.IF_curr_exp())
    with pytest.raises(ModelError, match="no AM-SU population"):
        freeze_modulation(plain, 0.1)


def test_plastic_projections_monitors_and_inputs_onto_an_am_su_are_refused():
    net = amsu_net(AMSU(), 0.3)
    net.connect("src", "unit", sm.AllToAll(), weight=0.1, name="learning", synapse=sm.stdp(w_max=1.0))
    with pytest.raises(ModelError, match="projection 'learning'.*plastic"):
        freeze_modulation(net, 0.2)
    net = amsu_net(AMSU(), 0.3)
    net.record_state("unit", ["a"])
    with pytest.raises(ModelError, match="state monitor on AM-SU population 'unit'"):
        freeze_modulation(net, 0.2)
    with pytest.raises(ModelError, match="integration"):
        freeze_modulation(amsu_net(AMSU(), 0.3), 0.2, integration="euler")


def test_freezing_keeps_the_other_projections_draws_and_the_projection_order():
    def net():
        n = Network(dt=1 * ms, seed=3)
        n.spike_source("inp", 6, [[0.002 * (i + 1)] for i in range(6)])
        n.population("h", 5, AMSU(k=0.5))
        n.population("o", 4, sm.Leaky(), init={"v": sm.Uniform(0.0, 0.5)})
        n.connect("inp", "h", sm.FixedProbability(0.5), weight=sm.Uniform(-0.5, 1.0), name="to_h")
        n.connect("inp", "o", sm.FixedProbability(0.5), weight=sm.Uniform(0.0, 1.0), name="to_o")
        return n
    before = {p.name: p for p in net().build().projections}
    frozen = freeze_modulation(net(), 0.4)
    assert [p.name for p in frozen.projections] == ["to_h", "to_h_inh", "to_o"]
    after = {p.name: p for p in frozen.build().projections}
    for field in ("i", "j", "w"):
        assert np.array_equal(getattr(after["to_o"], field), getattr(before["to_o"], field)), field
    assert after["to_h"].i.size + after["to_h_inh"].i.size == before["to_h"].i.size > 0
    pops, pops_before = frozen.build().populations, net().build().populations
    assert np.array_equal(pops["o"].init["v"], pops_before["o"].init["v"]) and np.ptp(pops["o"].init["v"]) > 0


def test_a_custom_delivery_shared_astrocytes_and_a_taken_inhibitory_name_are_refused_by_name():
    custom = amsu_net(AMSU(), 0.5)
    custom.connect("src", "unit", sm.AllToAll(), weight=0.2, on_pre="v_post += 3*m_post*w", name="odd")
    with pytest.raises(ModelError, match="'odd'.*on_pre"):
        freeze_modulation(custom, 0.5)
    taken = amsu_net(AMSU(), 0.5)
    taken.connect("src", "unit", sm.AllToAll(), weight=0.2, name="in_inh")
    with pytest.raises(ModelError, match="'in'.*in_inh"):
        freeze_modulation(taken, 0.5)
    shared = amsu_net(AMSU(), 0.5)
    shared.population("s", 4, sm.AMSUShared())
    sm.shared_astrocytes(shared, "s", 2, name="glia")
    with pytest.raises(ModelError, match=r"\['s', 'glia'\]"):
        freeze_modulation(shared, 0.5)
