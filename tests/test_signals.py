"""Signals (``Network.signal``): low-dimensional inputs every equation reads by
name, held K x d, the same on numba, Brian2 and torch; ``set_signal`` between runs."""
import numpy as np
import pytest
from brian2 import meter, ms, second

import spikemem as sm
from spikemem.errors import ModelError
from spikemem.network import Network, sample_index

BACKENDS = ("numba", "brian2", "torch-float64")
#: a state that sums the signal: y after step n is dt * (v_x(t_0) + ... + v_x(t_n-1))
SUMMING = sm.NeuronModel("dy/dt = v_x/second : 1\ndz/dt = v_y/second : 1", method="euler")


def summing(values, signal_dt, dt=1 * ms, n=2, seed=0):
    net = Network(dt=dt, seed=seed)
    net.signal("v", values, dt=signal_dt)
    net.population("sum", n, SUMMING)
    net.record_state("sum", ["y", "z"])
    return net


def expected_sums(values, signal_dt, dt, steps):
    """y at the start of each step, from values[floor(t/signal_dt)]."""
    rows = [min(sample_index(k * dt, dt, signal_dt), len(values) - 1) for k in range(steps)]
    return np.concatenate([[0.0], np.cumsum(dt * values[rows, 0])])[:steps]


@pytest.mark.parametrize("backend", BACKENDS)
def test_equations_read_the_signal_piecewise_constant(backend):
    values = np.random.default_rng(1).normal(size=(10, 2))
    net = summing(values, 3e-3)          # three steps per sample
    result = sm.simulate(net, 0.03, backend=backend, progress=False)
    y = result.traces["sum.y"].values
    want = expected_sums(values, 3e-3, 1e-3, 30)
    assert np.allclose(y[:, 0], want, rtol=0, atol=1e-12)
    assert np.allclose(y[:, 1], y[:, 0])      # the same value for every neuron
    z = result.traces["sum.z"].values[:, 0]
    assert np.allclose(z[4], 1e-3 * (3 * values[0, 1] + values[1, 1]))


def test_sample_index_is_brian2s_on_misaligned_grids():
    # 0.7 ms samples at 0.1 ms: floor(t/dt) up to rounding, as Brian2's TimedArray
    for k in range(100):
        t = k * 1e-4
        assert sample_index(t, 1e-4, 7e-4) == int(np.floor(t / 7e-4 + 1e-9))


def test_component_names():
    net = Network()
    assert net.signal("v", np.zeros((3, 2))).names == ("v_x", "v_y")
    assert net.signal("w", np.zeros(3)).names == ("w",)
    assert net.signal("u", np.zeros((3, 4))).names == ("u_0", "u_1", "u_2", "u_3")
    assert net.signal("h", np.zeros((3, 2)), components=("cos", "sin")).names == ("h_cos", "h_sin")


def test_held_as_samples_not_per_neuron():
    net = summing(np.zeros((50, 2)), 1e-3, n=400)
    built = net.build()
    assert built.signals[0].values.shape == (50, 2)
    assert built.signal_uses("sum") == [(0, 0, "v_x"), (0, 1, "v_y")]


def test_spec_save_load_and_hash(tmp_path):
    values = np.arange(12.0).reshape(6, 2) * meter / second
    net = Network(dt=1 * ms)
    net.signal("v", values, dt=2 * ms)
    net.population("p", 2, sm.NeuronModel("dy/dt = k*v_x : 1\nk : second/meter/second (constant)",
                                         method="euler", params={"k": 1.0}))
    path = tmp_path / "net.json"
    net.save(path)
    again = Network.load(path)
    assert again.hash() == net.hash()
    sig = again.build().signals[0]
    assert np.array_equal(sig.values, np.arange(12.0).reshape(6, 2)) and sig.dt == 2e-3
    assert sig.dim == (meter / second).dim
    other = Network(dt=1 * ms)
    other.signal("v", values * 2, dt=2 * ms)
    other.population("p", 2, net.populations["p"].model)
    assert other.hash() != net.hash()


def test_networks_without_signals_keep_their_spec():
    assert "signals" not in Network().spec()


def test_units_are_checked():
    net = Network(dt=1 * ms)
    net.signal("v", np.zeros((5, 2)) * meter / second)
    net.population("p", 2, SUMMING)          # reads v_x as dimensionless
    with pytest.raises(ModelError, match="population 'p'"):
        net.build()


def test_a_quantity_is_held_in_si():
    net = Network(dt=1 * ms)
    net.signal("v", np.full((5, 2), 2.0) * ms / second, dt=1 * ms)
    net.population("p", 1, sm.ReLURate())
    assert np.allclose(net.build().signals[0].values, 2e-3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_signal_between_runs(backend):
    values = np.ones((20, 2))
    sim = sm.simulation(summing(values, 1e-3), backend, progress=False)
    sim.run(0.005)
    sim.set_signal("v", -np.ones((20, 2)))
    sim.run(0.005)
    y = sim.result().traces["sum.y"].values[:, 0]
    assert np.allclose(y[5], 5e-3) and np.allclose(y[9], 5e-3 - 4e-3)
    with pytest.raises(ModelError, match="signal 'v' covers 0.02 s; the run would reach 0.021 s"):
        sim.run(0.011)


def test_a_run_to_the_signals_end_is_allowed_and_one_step_more_is_not():
    sim = sm.simulation(summing(np.ones((10, 2)), 1e-3), "numba", progress=False)
    sim.run(0.01)
    with pytest.raises(ModelError, match="signal 'v' covers 0.01 s; the run would reach 0.011 s"):
        sim.run(1e-3)


def test_set_signal_on_torch_takes_one_series_per_trial():
    sim = sm.simulation(summing(np.zeros((10, 2)), 1e-3), "torch", batch=3, dtype="float64", progress=False)
    per_trial = np.stack([np.full((10, 2), k, float) for k in range(3)], 1)       # (K, trials, d)
    sim.set_signal("v", per_trial)
    sim.run(0.01)
    y = sim.get("sum", "y")
    assert np.allclose(y[:, 0], [0.0, 0.01, 0.02])


def test_set_signal_refuses_bad_values():
    sim = sm.simulation(summing(np.zeros((10, 2)), 1e-3), "numba", progress=False)
    with pytest.raises(ModelError, match=r"shape \(K, 2\).*got shape \(10, 3\)"):
        sim.set_signal("v", np.zeros((10, 3)))
    with pytest.raises(ModelError, match="not finite"):
        sim.set_signal("v", np.full((10, 2), np.nan))
    with pytest.raises(ModelError, match="no signal named 'w'"):
        sim.set_signal("w", np.zeros((10, 2)))
    with pytest.raises(ModelError, match=r"\(10, 3, 2\)"):          # trials are torch's
        sim.set_signal("v", np.zeros((10, 3, 2)))


def test_norse_refuses_a_network_that_reads_a_signal():
    pytest.importorskip("norse")
    with pytest.raises(ModelError, match="reads signal 'v'"):
        sm.simulation(summing(np.zeros((10, 2)), 1e-3), "norse")


def test_a_signal_shared_by_two_populations():
    net = summing(np.ones((10, 2)), 1e-3)
    net.population("other", 3, sm.NeuronModel("dq/dt = 2*v_y/second : 1", method="euler"))
    net.record_state("other", "q")
    result = sm.simulate(net, 0.005, progress=False)
    assert np.allclose(result.traces["other.q"].values[-1], 2 * 4e-3)


def test_describe_lists_the_signal_and_its_readers():
    text = summing(np.zeros((10, 2)), 2e-3).describe()
    assert "Signals\n  v: 10 samples of v_x, v_y every 2 ms (0.02 s), read by sum" in text


def test_every_thread_reads_the_same_samples():
    values = np.random.default_rng(2).normal(size=(10, 2))
    one = sm.simulate(summing(values, 3e-3, n=300), 0.03, progress=False).traces["sum.y"].values
    two = sm.simulate(summing(values, 3e-3, n=300), 0.03, backend="numba", threads=2,
                      progress=False).traces["sum.y"].values
    assert np.array_equal(one, two)
