"""The attractor network on the core: built without listing synapses, the same
traces on numba, Brian2 and torch, and refusals before any work."""
import time

import numpy as np
import pytest

import spikemem as sm
from spikemem.errors import ModelError
from spikemem.models.grid_cells.kernels import recurrent_kernels
from spikemem.models.grid_cells.network import Parameters, can_network, grid_network

SMALL = Parameters(n=28, settle=0.005)          # 28 >= 2 lam; 10 steps of settling


def velocity(steps, v=(0.3, -0.2)):
    return np.tile(v, (steps, 1))


def test_the_full_size_sheet_builds_in_seconds_as_a_convolution():
    t0 = time.perf_counter()
    built = grid_network(n=128, duration=600.0).build()
    assert time.perf_counter() - t0 < 10
    (rec,) = built.projections
    assert rec.i.size == 0 and rec.conv is not None
    assert rec.n_synapses > 5e7                   # what a synapse list would have held
    (signal,) = built.signals
    assert signal.values.shape == (int(round((600.0 + 0.5) / 0.5e-3)), 2)


def test_each_unit_takes_the_drive_of_its_direction():
    net = can_network(velocity(4), SMALL)
    params = net.build().populations["sheet"].params
    ex, ey = np.asarray(params["ex"]), np.asarray(params["ey"])
    assert sorted(set(zip(ex.tolist(), ey.tolist()))) == [(-1, 0), (0, -1), (0, 1), (1, 0)]
    assert np.all(np.asarray(params["A"]) == 1)
    aperiodic = can_network(velocity(4), Parameters(n=28, boundary="aperiodic")).build()
    A = np.asarray(aperiodic.populations["sheet"].params["A"])
    assert A.max() > 0.98 and A.min() < 0.01        # the envelope fades towards the edges


@pytest.mark.slow
@pytest.mark.parametrize("other", ["brian2", "torch"])
def test_numba_brian2_and_torch_give_the_same_rates(other):
    net = can_network(velocity(30), SMALL, seed=3)
    net.record_state("sheet", ["s"])
    options = {"dtype": "float64"} if other == "torch" else {}
    a = sm.simulate(net, 0.02, "numba").traces["sheet.s"].values
    b = sm.simulate(net, 0.02, other, **options).traces["sheet.s"].values
    assert np.abs(a).max() > 0
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_the_spiking_variant_is_reproducible_per_seed():
    p = Parameters(n=28, settle=0.005, spiking=True)

    def spikes(seed):
        net = can_network(velocity(20), p, seed=seed)
        net.record_spikes("sheet")
        return sm.simulate(net, 0.015, "numba").spikes["sheet"]
    a, b, c = spikes(1), spikes(1), spikes(2)
    assert len(a.times) > 0
    assert np.array_equal(a.times, b.times) and np.array_equal(a.ids, b.ids)
    assert not (len(a.times) == len(c.times) and np.array_equal(a.ids, c.ids))


@pytest.mark.parametrize("bad, match", [
    (dict(boundary="toroidal"), "boundary 'toroidal'"),
    (dict(tau=-1.0), "tau must be a positive number"),
    (dict(settle=-0.1), "settle must be >= 0"),
    (dict(n=20), "too small for a grid period"),
])
def test_bad_parameters_are_refused_by_name(bad, match):
    with pytest.raises(ModelError, match=match):
        can_network(velocity(2), Parameters(**{"n": 28, **bad}))


def test_a_velocity_of_the_wrong_shape_is_refused():
    with pytest.raises(ModelError, match=r"velocity must be \(steps, 2\)"):
        can_network(np.zeros((5, 3)), SMALL)


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
