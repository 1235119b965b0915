"""Neuron models: how a refractory period counts in steps (``held_steps``)."""
import dataclasses

import numpy as np
import pytest
from brian2 import ms

from spikemem.errors import ModelError
from spikemem.neurons import (AdEx, IF_cond_exp, IF_curr_exp, Izhikevich, Leaky, NeuronModel,
                              REFRACTORY_COUNTINGS, held_steps, integration_of, is_template, template_of, weight_sign)


@pytest.mark.parametrize("refractory,dt,brian2,pynn", [
    (0.0, 1e-3, 0, 0),
    (0.5e-3, 1e-3, 0, 1),
    (1e-3, 1e-3, 0, 1),          # the SpiNNaker recordings: 1 ms at 1 ms holds one step
    (1.0000000001e-3, 1e-3, 0, 1),
    (1.5e-3, 1e-3, 0, 2),
    (2e-3, 1e-3, 1, 2),
    (2e-3, 0.1e-3, 19, 20),      # 2e-3 / 1e-4 = 20.000000000000004
    (0.3e-3, 0.1e-3, 2, 3),      # 0.3e-3 / 1e-4 = 2.9999999999999996
    (5e-3, 1e-3, 4, 5),
])
def test_held_steps_of_both_countings(refractory, dt, brian2, pynn):
    assert held_steps(refractory, "brian2", dt) == brian2
    assert held_steps(refractory, "pynn", dt) == pynn


def test_the_pynn_templates_count_as_pynn_and_the_rest_as_brian2():
    assert IF_curr_exp().refractory_counting == "pynn"
    assert IF_cond_exp().refractory_counting == IF_cond_exp(adaptive=True).refractory_counting == "pynn"
    assert IF_curr_exp(refractory_counting="brian2").refractory_counting == "brian2"
    assert AdEx().refractory_counting == Izhikevich().refractory_counting == "brian2"
    assert NeuronModel("dv/dt = -v/(10*ms) : 1").refractory_counting == "brian2"
    # the counting is not part of the dynamics (a Brian2-counted IF_curr_exp is still PyNN's cell)
    assert IF_curr_exp(refractory_counting="brian2").same_dynamics(IF_curr_exp())


def test_spec_keeps_the_counting_and_older_specs_read_as_brian2():
    for model in (IF_curr_exp(tau_refrac=2 * ms), IF_curr_exp(refractory_counting="brian2"), AdEx()):
        assert NeuronModel.from_spec(model.spec()).spec() == model.spec()
        assert NeuronModel.from_spec(model.spec()).refractory_counting == model.refractory_counting
    old = IF_curr_exp().spec()
    del old["refractory_counting"]
    assert NeuronModel.from_spec(old).refractory_counting == "brian2"


def test_an_unknown_counting_is_refused_with_the_choices():
    assert REFRACTORY_COUNTINGS == ("brian2", "pynn")
    with pytest.raises(ModelError, match=r"'ceil'.*\['brian2', 'pynn'\]"):
        IF_curr_exp(refractory_counting="ceil")
    with pytest.raises(ModelError, match="'ceil'"):
        dataclasses.replace(AdEx(), refractory_counting="ceil")
    with pytest.raises(ModelError, match="'ceil'"):
        held_steps(1e-3, "ceil", 1e-3)


def test_either_integration_is_the_template_and_a_bad_one_is_named():
    assert is_template(IF_curr_exp(integration="spinnaker"), "IF_curr_exp")
    assert is_template(IF_curr_exp(), "IF_curr_exp") and not is_template(IF_cond_exp(), "IF_curr_exp")
    assert not IF_curr_exp(integration="spinnaker").same_dynamics(IF_curr_exp())
    assert integration_of(IF_curr_exp(integration="spinnaker")) == "spinnaker" and integration_of(AdEx()) is None
    with pytest.raises(ModelError, match="'euler'"):
        IF_curr_exp(integration="euler")


def _leaky_network():
    from spikemem.connectors import AllToAll
    from spikemem.network import Network
    rng = np.random.default_rng(0)
    net = Network(dt=1e-3, seed=1)
    net.spike_source("input", 6, [list(np.flatnonzero(rng.random(60) < 0.3) * 1e-3) for _ in range(6)])
    net.population("h", 5, Leaky(tau=9.5 * ms, v_th=np.linspace(0.6, 1.4, 5)))
    # weights of both signs onto the one membrane
    net.connect("input", "h", AllToAll(), weight=rng.uniform(-0.6, 1.2, 30), name="fc1")
    net.record_spikes("h")
    return net


def test_leaky_runs_alike_on_numba_brian2_and_torch():
    from spikemem.analysis import spike_set
    from spikemem.backends import simulate
    pytest.importorskip("torch")
    net = _leaky_network()
    results = {b: simulate(net, 60e-3, backend=b, progress=False)
               for b in ("numba", "brian2-numpy", "torch-float64")}
    spikes = {b: {tuple(s) for s in spike_set(r.spikes["h"], net.dt)} for b, r in results.items()}
    assert len(spikes["numba"]) > 20
    for name, found in spikes.items():
        assert found == spikes["numba"], name


def test_a_leaky_step_delivers_then_decays_then_subtracts_the_threshold():
    from spikemem.backends import simulate
    from spikemem.connectors import AllToAll
    from spikemem.network import Network
    net = Network(dt=1e-3)
    net.spike_source("input", 1, [[0.0, 2e-3]])
    net.population("h", 1, Leaky(tau=10 * ms, v_th=0.8))
    net.connect("input", "h", AllToAll(), weight=0.6, name="fc1")
    net.record_state("h", ["v"])
    net.record_spikes("h")
    r = simulate(net, 6e-3, backend="numba", progress=False)
    beta = np.exp(-0.1)
    v1 = 0.6 * beta                              # step 1: the spike of step 0 arrives, then decay
    v3 = (v1 * beta + 0.6) * beta                 # step 3: the second spike; above 0.8, so it fires
    expected = [0.0, v1, v1 * beta, v3 - 0.8, (v3 - 0.8) * beta]
    # the recorded state is at each step's start: the previous step's end
    trace = next(iter(r.traces.values())).values[:, 0]
    assert np.allclose(trace[1:], expected)
    assert list(np.rint(r.spikes["h"].times / 1e-3)) == [3]


def test_leaky_is_a_template_with_a_subtractive_reset():
    model = Leaky(tau=5 * ms, v_th=0.5)
    assert template_of(model) == "Leaky" and is_template(model, "Leaky")
    assert model.reset == "v -= v_th" and set(model.receptors.values()) == {"v"}
    assert NeuronModel.from_spec(model.spec()).spec() == model.spec()
    assert weight_sign(model, "v") is None          # weights of either sign


def test_adex_with_sic_adds_the_current_to_the_membrane():
    from spikemem.equations import parse
    plain, sic = AdEx(), AdEx(sic=True)
    dv = next(line for line in sic.equations.splitlines() if line.strip().startswith("dv/dt"))
    assert "+ I_SIC)/C" in dv and "I_SIC" not in plain.equations
    assert sic.receptors == {**plain.receptors, "sic": "I_SIC"} and sic.params == plain.params
    assert "I_SIC" in parse(sic, "AdEx_SIC").dims          # declared, so the equations parse
