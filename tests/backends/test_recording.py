"""Recording as Brian2 records: one trace per population and variable, and a
``set`` of an input-driven variable that holds the same way on every backend.
(When a record is taken, on every backend: ``conformance.records_states_as_brian2``.)"""
import numpy as np
import pytest
from brian2 import ms, nA

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp

BACKENDS = ["numba", "brian2-numpy", "brian2-cython",
            pytest.param("torch-float64", marks=pytest.mark.torch)]


def test_recording_a_variable_twice_is_refused_by_name():
    net = Network(dt=0.1 * ms)
    net.population("cells", 4, IF_curr_exp())
    net.record_state("cells", ["v", "isyn_exc"], ids=[0, 1])
    with pytest.raises(ModelError, match=r"'cells'.*'isyn_exc'"):
        net.record_state("cells", ["isyn_exc", "i_offset"], ids=[2, 3])
    net.record_state("cells", "i_offset", ids=[2, 3])          # another variable: a second monitor
    assert [m.variables for m in net.build().state_monitors] == [("v", "isyn_exc"), ("i_offset",)]


def _driven():
    """A step current on i_offset from 5 to 15 ms; v integrates it."""
    net = Network(dt=0.1 * ms, seed=1)
    net.population("cells", 3, IF_curr_exp())
    net.step_current("cells", 0.5 * nA, 5 * ms, 15 * ms)
    net.record_state("cells", ["i_offset", "v"])
    return net


@pytest.mark.parametrize("name", BACKENDS)
def test_set_of_an_input_driven_variable_holds_until_the_inputs_next_change(name):
    """PyNN's semantics: a set() holds until the input's next scheduled change
    (at 15 ms), then the input's values rule again; after the last change it
    holds for good."""
    sim = simulation(_driven(), name)
    sim.run(8 * ms, progress=False)
    sim.set("cells", "i_offset", 0.2 * nA)
    sim.run(10 * ms, progress=False)
    sim.set("cells", "i_offset", 0.3 * nA)
    sim.run(5 * ms, progress=False)
    i = sim.result().traces["cells.i_offset"].values[:, 0] * 1e9
    expected = np.concatenate([np.zeros(50), np.full(30, 0.5), np.full(70, 0.2), np.zeros(30), np.full(50, 0.3)])
    np.testing.assert_allclose(i, expected, rtol=1e-12)
    if name != "numba":
        ref = simulation(_driven(), "numba")
        ref.run(8 * ms, progress=False)
        ref.set("cells", "i_offset", 0.2 * nA)
        ref.run(10 * ms, progress=False)
        ref.set("cells", "i_offset", 0.3 * nA)
        ref.run(5 * ms, progress=False)
        # v integrates the current: numba's to the last bits (see docs/validation/backends.md)
        np.testing.assert_allclose(sim.result().traces["cells.v"].values, ref.result().traces["cells.v"].values,
                                   rtol=1e-12, atol=0)
