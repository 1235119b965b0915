"""The numba engine: stateful runs, cache, semantics."""
import os

import numpy as np
from brian2 import ms, nA

from spikemem.analysis import spike_set
from spikemem.backends import simulation
from spikemem.backends.numba import engine
from spikemem.connectors import OneToOne
from spikemem.models.cuba import cuba
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp


def test_ten_chunks_equal_one_run():
    one = simulation(cuba(n=500, record_state=True), "numba")
    one.run(0.1)
    many = simulation(cuba(n=500, record_state=True), "numba")
    for _ in range(10):
        many.run(0.01)
    a, b = one.result(), many.result()
    for pop in ("exc", "inh"):
        np.testing.assert_array_equal(spike_set(a.spikes[pop], 1e-4), spike_set(b.spikes[pop], 1e-4))
    np.testing.assert_array_equal(a.traces["exc.v"].values, b.traces["exc.v"].values)


def test_same_shape_reuses_the_compiled_kernel():
    s1 = simulation(cuba(n=300, seed=1), "numba")
    s2 = simulation(cuba(n=600, seed=2), "numba")     # other sizes, weights, seed
    assert s1.module is s2.module
    path = os.path.join(engine.CACHE_DIR, s1.module.__name__ + ".py")
    assert os.path.exists(path)


def test_delay_acts_exactly_d_steps_later():
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 1, [[1.0e-3]])               # step 10
    net.population("cell", 1, IF_curr_exp())
    net.connect("src", "cell", OneToOne(), weight=1 * nA, delay=0.7 * ms)   # 7 steps
    net.record_state("cell", "isyn_exc")
    sim = simulation(net, "numba")
    sim.run(3e-3)
    trace = sim.result().traces["cell.isyn_exc"].values[:, 0]
    first = int(np.flatnonzero(trace > 0)[0])
    # Delivered at the start of step 17, then decays during that step's update.
    assert first == 17
    assert trace[17] == np.exp(-0.1 / 5) * 1e-9 or abs(trace[17] - np.exp(-0.02) * 1e-9) < 1e-21


def test_full_spike_buffers_are_emptied_without_losing_spikes(monkeypatch):
    import spikemem.backends.numba as nb
    big = simulation(cuba(n=500), "numba")
    big.run(0.3)
    monkeypatch.setattr(nb, "SPIKE_BUFFER", 500)       # forces many hand-backs
    small = simulation(cuba(n=500), "numba")
    small.run(0.3)
    a, b = big.result().spikes["exc"], small.result().spikes["exc"]
    assert a.count() > 3 * 400        # several buffers of max(400, 500) spikes
    np.testing.assert_array_equal(spike_set(a, 1e-4), spike_set(b, 1e-4))
