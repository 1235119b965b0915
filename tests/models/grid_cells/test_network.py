"""The CAN network's parameters reach its weights."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.kernels import recurrent_kernels
from spikemem.models.grid_cells.network import Parameters, can_network


@pytest.mark.parametrize("gamma_ratio", [1.05, 1.1])
def test_gamma_ratio_shapes_the_recurrent_kernels(gamma_ratio):
    p = Parameters(n=40, gamma_ratio=gamma_ratio)
    (projection,) = can_network(None, p).projections
    expected = p.scale * recurrent_kernels(40, p.lam, p.l, p.a, gamma_ratio=gamma_ratio)
    np.testing.assert_allclose(projection.connector.kernels(), expected)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_gamma_ratio_must_be_positive(value):
    with pytest.raises(ModelError, match="gamma_ratio"):
        Parameters(gamma_ratio=value)
