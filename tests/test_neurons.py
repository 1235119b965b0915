"""Neuron models: how a refractory period counts in steps (``held_steps``)."""
import dataclasses

import pytest
from brian2 import ms

from spikemem.errors import ModelError
from spikemem.neurons import (AdEx, IF_cond_exp, IF_curr_exp, Izhikevich, NeuronModel, REFRACTORY_COUNTINGS,
                              held_steps, integration_of, is_template)


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
