"""The emulator's host-side numbers against the installed sPyNNaker's own functions (the hardware extra)."""
import numpy as np
import pytest

from spikemem.hardware.spinnaker.formats import exp_lut, s1615
from spikemem.hardware.spinnaker.weights import _upper_bound

pytestmark = pytest.mark.hardware
pytest.importorskip("spynnaker")


def test_host_side_numbers_match_spynnaker():
    """S1615 encoding, STDP lookup tables and the Poisson ring-buffer bound
    equal the installed sPyNNaker's own functions."""
    from unittest import mock
    from spinn_front_end_common.interface.ds import DataType
    from spynnaker.pyNN.data import SpynnakerDataView
    from spynnaker.pyNN.models.neuron.plasticity.stdp.common import get_exp_lut_array
    from spynnaker.pyNN.models.neuron.population_vertex import _Stats
    for x in (-65.0, 0.1, 0.3, 20.0, 1.45, -0.000015):
        assert s1615(x) == DataType.S1615.encode_as_int(x)
    for dt, tau in ((1.0, 3.0), (0.1, 20.0), (1.0, 16.8)):
        lut = get_exp_lut_array(dt, tau).view(np.uint16)
        np.testing.assert_array_equal(exp_lut(dt, tau), lut[2:2 + lut[0]])
    with mock.patch.object(SpynnakerDataView, "get_simulation_time_step_per_s", return_value=1e4):
        expected = _Stats._ring_buffer_expected_upper_bound(0.8, 0.3, 30.0, 50, 5.0)
    assert _upper_bound(0.8, 0.3, 30.0, 50, 1e-4, 5.0) == pytest.approx(expected, rel=1e-12)
