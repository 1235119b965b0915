"""Units, magnitudes and signs checked at every entry point (issue 21 items 2, 3).

Every bad input raises ModelError (or warns UnitWarning) naming the offending
parameter and value, before any simulation work."""
import warnings

import numpy as np
import pytest
from brian2 import mV, ms, nA, nF, nS, pF

from spikemem import Network
from spikemem.connectors import OneToOne
from spikemem.distributions import Normal, Uniform
from spikemem.errors import ModelError, UnitWarning
from spikemem.neurons import AdEx, IF_cond_exp, IF_curr_exp, Izhikevich, NeuronModel, RateUnit
from spikemem.plasticity import diehl_cook_stdp, spinnaker_stdp, stdp, triplet_stdp


def lif_net(model=None, n=2):
    net = Network(dt=0.1 * ms)
    net.spike_source("src", n, [[1 * ms]] * n)
    net.population("cell", n, model or IF_curr_exp())
    return net


def refused(net, *names):
    """build() raises ModelError whose message names every one of ``names``."""
    with pytest.raises(ModelError) as err:
        net.build()
    for name in names:
        assert name in str(err.value), (name, str(err.value))
    return str(err.value)


def warns(build, *names):
    """``build()`` warns UnitWarning naming every one of ``names``."""
    with pytest.warns(UnitWarning) as record:
        build()
    text = " | ".join(str(w.message) for w in record if w.category is UnitWarning)
    for name in names:
        assert name in text, (name, text)


# ----------------------------------------------------------------- dimensions
def test_step_current_amplitude_in_the_wrong_unit_is_refused():
    net = lif_net()
    net.step_current("cell", 5 * mV, 1 * ms)       # i_offset is a current
    refused(net, "current input on 'cell'", "mvolt", "units of A")


def test_step_current_start_and_stop_must_be_times():
    with pytest.raises(ModelError, match=r"step current on 'cell' start.*units of s.*mvolt"):
        lif_net().step_current("cell", 1 * nA, 1 * mV)
    with pytest.raises(ModelError, match=r"step current on 'cell' stop.*units of s.*namp"):
        lif_net().step_current("cell", 1 * nA, 1 * ms, 2 * nA)


def test_current_times_must_be_times_and_values_keep_their_unit():
    with pytest.raises(ModelError, match=r"current input on 'cell' times.*units of s.*mvolt"):
        lif_net().current("cell", [0 * mV, 1 * mV], [0 * nA, 1 * nA])
    net = lif_net()
    net.current("cell", [0 * ms, 1 * ms], [0 * mV, 1 * mV])     # a list of quantities keeps mV
    refused(net, "current input on 'cell' values", "units of A", "mvolt")
    with pytest.raises(ModelError, match=r"current input on 'cell' values: one unit"):
        lif_net().current("cell", [0 * ms, 1 * ms], [0 * nA, 1 * mV])


def test_a_current_in_the_right_unit_drives_the_variable():
    net = lif_net()
    net.step_current("cell", 2 * nA, 1 * ms, 3 * ms)
    net.current("cell", [0 * ms, 4 * ms], [[0 * nA, 0 * nA], [1 * nA, 2 * nA]])
    first, second = net.build().inputs
    np.testing.assert_allclose(first.values[:, 0], [0.0, 2e-9, 0.0])
    np.testing.assert_allclose(second.values, [[0.0, 0.0], [1e-9, 2e-9]])


def test_a_distribution_in_the_wrong_unit_is_refused_as_a_weight():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=Uniform(1 * mV, 2 * mV), name="feed")
    refused(net, "projection 'feed' weight", "Uniform", "units of V", "expected A")


def test_a_distribution_in_the_wrong_unit_is_refused_as_a_delay_and_an_initial_value():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, delay=Normal(1 * mV, 0 * mV), name="feed")
    refused(net, "projection 'feed' delay", "Normal", "expected s")
    net = lif_net()
    net.populations["cell"].init["v"] = Uniform(-60 * nA, -50 * nA)
    refused(net, "initial value of 'v'", "units of A", "expected V")


def test_a_distribution_mixing_units_is_refused_naming_it():
    with pytest.raises(ModelError, match=r"Uniform\(low=1. \* mvolt, high=2. \* namp\).*different units"):
        Uniform(1 * mV, 2 * nA)
    with pytest.raises(ModelError, match=r"Normal\(mean=-60. \* mvolt, std=4.0\).*different units"):
        Normal(-60 * mV, 4.0)
    assert Normal(0, 2 * mV).std == pytest.approx(2e-3)       # a bare 0 goes with any unit


def test_per_neuron_spike_lists_keep_and_check_their_unit():
    with pytest.raises(ModelError, match=r"population 'src' spike times of neuron 0.*units of s.*mvolt"):
        Network().spike_source("src", 1, [[5, 20] * mV])
    with pytest.raises(ModelError, match=r"spike times of neuron 1.*units of s"):
        Network().spike_source("src", 2, [[5 * ms], [5 * mV]])
    net = Network()
    net.spike_source("src", 2, [[5, 20] * ms, [1 * ms]])
    assert net.populations["src"].model.times.tolist() == pytest.approx([5e-3, 20e-3, 1e-3])


def test_a_poisson_rate_in_the_wrong_unit_is_refused():
    with pytest.raises(ModelError, match=r"population 'noise' rate: expected a value in units of Hz"):
        Network().poisson_source("noise", 3, 5 * ms)


# ----------------------------------------------------------------- magnitudes
@pytest.mark.parametrize("kw, names", [
    (dict(tau_refrac=2), ["refractory period = 2 s", "2*ms"]),
    (dict(v_thresh=-50), ["'v_thresh' = -50 V", "-50*mV"]),
    (dict(tau_m=20), ["'tau_m' = 20 s", "20*ms"]),
    (dict(cm=1), ["'c_m' = 1 F", "1*nF"]),
    (dict(i_offset=5), ["'i_offset' = 5 A", "5*nA"]),
])
def test_pynn_habits_as_bare_numbers_warn_naming_the_parameter(kw, names):
    net = Network()
    net.population("cell", 1, IF_curr_exp(**kw))
    warns(net.build, "population 'cell'", *names)


def test_a_time_step_in_ms_as_a_bare_number_warns():
    warns(lambda: Network(dt=0.1), "Network dt = 0.1 s", "0.1*ms")


def test_weights_delays_conductances_and_currents_of_implausible_size_warn():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=5.0, name="amps")
    warns(net.build, "projection 'amps' weight = 5 A", "5*nA")
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, delay=2, name="slow")
    warns(net.build, "projection 'slow' delay = 2 s", "2*ms")
    net = lif_net(IF_cond_exp())
    net.connect("src", "cell", OneToOne(), weight=0.01, name="siemens")
    warns(net.build, "projection 'siemens' weight = 0.01 S", "0.01*uS")
    net = lif_net()
    net.step_current("cell", 3.0, 1 * ms)
    warns(net.build, "current input on 'cell' values = 3 A", "3*nA")
    net = Network()
    net.population("cell", 1, IF_curr_exp(), init={"v": -65})
    warns(net.build, "initial value of 'v' = -65 V", "-65*mV")
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=2e-6, name="forcing")
    with pytest.warns(UnitWarning, match=r"'forcing' weight = 2e-06 A, implausibly large; \(bare") as record:
        net.build()
    assert "did you mean" not in str(record[0].message)      # 2e-06 was not written in nA


def test_bare_stdp_bounds_in_amperes_warn():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(w_max=1.0), name="plastic")
    warns(net.build, "projection 'plastic' synapse model parameter 'w_max' = 1 A", "1*nA")


def test_values_written_with_their_unit_mean_what_they_say():
    net = lif_net(IF_curr_exp(tau_syn_E=4000 * ms, tau_refrac=2000 * ms))
    net.connect("src", "cell", OneToOne(), weight=2000 * nA, delay=1500 * ms)
    net.step_current("cell", 3000 * nA, 1 * ms)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        net.build()


def test_plausible_values_do_not_warn():
    net = lif_net(IF_curr_exp(tau_refrac=2 * ms, v_thresh=-50 * mV, cm=0.25 * nF, i_offset=0.5 * nA))
    net.connect("src", "cell", OneToOne(), weight=Uniform(0.5 * nA, 1 * nA), delay=3 * ms,
                synapse=stdp(w_max=2 * nA))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        net.build()
        Network(dt=1 * ms)


# ----------------------------------------------------------------- positive parameters
@pytest.mark.parametrize("model, name, bad", [
    (lambda v: IF_curr_exp(tau_m=v * ms), "tau_m", -1),
    (lambda v: IF_curr_exp(tau_syn_E=v * ms), "tau_syn_E", 0),
    (lambda v: IF_curr_exp(cm=v * nF), "c_m", 0),
    (lambda v: IF_cond_exp(tau_syn_I=v * ms), "tau_syn_I", -5),
    (lambda v: IF_cond_exp(adaptive=True, tau_vt=v * ms), "tau_vt", 0),
    (lambda v: Izhikevich(tau_syn_E=v * ms), "tau_syn_E", -2),
    (lambda v: AdEx(C=v * pF), "C", 0),
    (lambda v: AdEx(delta_T=v * mV), "delta_T", 0),
    (lambda v: AdEx(tau_w=v * ms), "tau_w", -1),
    (lambda v: RateUnit(tau=v * ms), "tau", 0),
])
def test_time_constants_and_capacitances_must_be_positive(model, name, bad):
    net = Network()
    net.population("cell", 1, model(bad))
    text = refused(net, "population 'cell'", f"'{name}' must be > 0")
    assert f"got {bad * (1e-3 if name != 'C' else 1e-12):g}" in text


def test_a_non_positive_time_constant_of_some_neurons_is_refused():
    net = Network()
    net.population("cell", 3, IF_curr_exp(), params={"tau_m": np.array([10e-3, -1e-3, 20e-3])})
    refused(net, "'tau_m' must be > 0, got -0.001 for some neurons")


def test_a_custom_model_declares_no_positive_parameters():
    model = NeuronModel("dv/dt = -v/tau : volt\ntau : second (constant)", params={"tau": -10 * ms},
                        name="grows")
    net = Network()
    net.population("cell", 1, model)
    net.build()


def test_stdp_time_constants_must_be_positive():
    with pytest.raises(ModelError, match=r"stdp: tau_plus must be > 0, got -20. \* msecond"):
        stdp(tau_plus=-20 * ms, w_max=1 * nA)
    with pytest.raises(ModelError, match=r"spinnaker_stdp: tau_minus must be > 0"):
        spinnaker_stdp(tau_minus=0 * ms)
    with pytest.raises(ModelError, match=r"triplet_stdp: tau_x must be > 0"):
        triplet_stdp(tau_x=0 * ms)
    with pytest.raises(ModelError, match=r"diehl_cook_stdp: tau_post2 must be > 0"):
        diehl_cook_stdp(tau_post2=-1 * ms)


# ----------------------------------------------------------------- STDP defaults in the weight's unit
def test_stdp_defaults_are_pynns_in_the_weights_unit():
    """PyNN's AdditiveWeightDependence(w_min=0, w_max=1) and SpikePairRule(A_plus=0.01) are nA on a
    current synapse and uS on a conductance, not 1 A."""
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(), name="current")
    ns = net.build().projections[0].namespace
    assert (ns["w_max"], ns["A_plus"], ns["A_minus"]) == pytest.approx((1e-9, 1e-11, 1.2e-11))
    net = lif_net(IF_cond_exp())
    net.connect("src", "cell", OneToOne(), weight=1 * nS, synapse=spinnaker_stdp(), name="conductance")
    ns = net.build().projections[0].namespace
    assert (ns["w_max"], ns["A_plus"]) == pytest.approx((1e-6, 0.01))


def test_stdp_defaults_survive_a_network_file(tmp_path):
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(), name="current")
    net.save(tmp_path / "net.json")
    assert Network.load(tmp_path / "net.json").build().projections[0].namespace["w_max"] == pytest.approx(1e-9)


def test_an_stdp_default_without_a_pynn_unit_is_refused_naming_it():
    net = lif_net(Izhikevich())          # weights in V/s: PyNN has no unit for them
    net.connect("src", "cell", OneToOne(), weight=1 * mV / ms, name="izh",
                synapse=stdp(A_plus=0.1 * mV / ms, A_minus=0.1 * mV / ms))
    refused(net, "projection 'izh' synapse model parameter 'w_max'", "its default (1)", "give it with its unit")


# ----------------------------------------------------------------- signs
@pytest.mark.parametrize("model", [IF_curr_exp, Izhikevich, AdEx])
def test_a_positive_weight_on_a_current_based_inhibitory_receptor_is_refused(model):
    weight = 1 * mV / ms if model is Izhikevich else 1 * nA
    net = lif_net(model())
    net.connect("src", "cell", OneToOne(), weight=weight, receptor="inh", name="inh")
    refused(net, "projection 'inh'", "receptor 'inh'", "must be <= 0", "got 1", "negative")


def test_a_negative_weight_on_an_excitatory_receptor_is_refused():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=Uniform(-1 * nA, 1 * nA), name="exc")
    refused(net, "projection 'exc'", "receptor 'exc'", "must be >= 0", "receptor 'inh' with negative weights")


@pytest.mark.parametrize("receptor", ["exc", "inh"])
def test_a_negative_conductance_is_refused(receptor):
    net = lif_net(IF_cond_exp())
    net.connect("src", "cell", OneToOne(), weight=np.array([1e-9, -2e-9]), receptor=receptor, name="g")
    refused(net, "projection 'g'", f"receptor '{receptor}'", "must be >= 0", "got -2e-09", "never negative")


def test_the_receptor_variable_named_directly_follows_the_same_rule():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, receptor="isyn_inh", name="direct")
    refused(net, "projection 'direct'", "'isyn_inh'", "must be <= 0")


def test_pynns_signs_build():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, receptor="exc")
    net.connect("src", "cell", OneToOne(), weight=-1 * nA, receptor="inh")
    net.connect("src", "cell", OneToOne(), weight=-1 * nA, receptor="inh",
                synapse=stdp(w_min=-2 * nA, w_max=0 * nA))
    net.build()
    net = lif_net(IF_cond_exp())
    net.connect("src", "cell", OneToOne(), weight=1 * nS, receptor="inh")
    net.build()


def test_plastic_bounds_must_keep_the_receptors_sign():
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=-1 * nA, receptor="inh", synapse=stdp(w_min=-2 * nA),
                name="plastic_inh")
    refused(net, "projection 'plastic_inh'", "w_max", "must be <= 0", "got 1e-09")
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(w_min=-1 * nA, w_max=2 * nA),
                name="plastic_exc")
    refused(net, "projection 'plastic_exc'", "w_min", "must be >= 0", "got -1e-09")


def test_custom_models_custom_deliveries_have_no_sign_rule():
    model = NeuronModel("dv/dt = -v/(10*ms) : volt\ndI_in/dt = -I_in/(5*ms) : amp", receptors={"inh": "I_in"},
                        name="custom")
    net = lif_net(model)
    net.connect("src", "cell", OneToOne(), weight=1 * nA, receptor="inh")
    net.build()
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=1 * nA, receptor="inh", on_pre="isyn_inh_post -= w", name="own")
    assert net.build().projections[0].sign is None
    from spikemem.backends import simulation
    simulation(net, "numba").set("own", "w", 2 * nA)      # set() follows build(): no rule here either


def test_a_clipped_normal_keeps_the_receptors_sign_and_the_random_stream():
    d = Normal(0.8 * nA, 0.3 * nA, low=0 * nA)
    x = d.sample(np.random.default_rng(3), 10000)
    np.testing.assert_array_equal(x, np.clip(Normal(0.8 * nA, 0.3 * nA).sample(np.random.default_rng(3), 10000),
                                             0, None))
    assert x.min() == 0
    with pytest.raises(ModelError, match=r"Normal: high \(1e-09\) < low \(2e-09\)"):
        Normal(1 * nA, 1 * nA, low=2 * nA, high=1 * nA)
    with pytest.raises(ModelError, match=r"Normal\(.*low=-1. \* mvolt\).*different units"):
        Normal(1 * nA, 1 * nA, low=-1 * mV)


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy"])
def test_weights_written_into_a_simulation_keep_the_receptors_sign(backend):
    from spikemem.backends import simulation
    net = lif_net()
    net.connect("src", "cell", OneToOne(), weight=-1 * nA, receptor="inh", name="inh")
    sim = simulation(net, backend)
    with pytest.raises(ModelError, match=r"'inh'.w: weights into 'isyn_inh' must be <= 0 .*got 2e-09"):
        sim.set("inh", "w", [-1 * nA, 2 * nA])
    sim.set("inh", "w", [-1 * nA, -2 * nA])
    np.testing.assert_allclose(sim.get("inh", "w"), [-1e-9, -2e-9])


def test_a_unit_warning_points_at_the_users_line_not_inside_spikemem():
    def recorded(call):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call()
        found = [w for w in record if issubclass(w.category, UnitWarning)]
        assert found
        return {w.filename for w in found}

    net = lif_net(model=IF_curr_exp(tau_refrac=2))                 # warned deep inside build()
    assert recorded(net.build) == {__file__}
    assert recorded(lambda: Network(dt=0.1)) == {__file__}
    net = lif_net()
    net.step_current("cell", 5.0, 0.001)
    assert recorded(net.build) == {__file__}
