"""Results the Neo and NWB tests share, and an exact comparison of two results."""
import functools

import numpy as np
from brian2 import Hz, ms, nS

from spikemem.backends import simulate
from spikemem.connectors import FixedProbability
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp
from spikemem.results import Result, SpikeTrain, Trace


@functools.cache
def simulated_result() -> Result:
    """100 ms of conductance LIF neurons driven by a Poisson source on numba: spikes of
    every second neuron and of the whole source, the membrane v of 3 neurons (one
    simulation per test session: callers must not change it)."""
    net = Network(dt=0.1 * ms, seed=4)
    net.poisson_source("inp", 50, 40 * Hz)
    net.population("cells", 30, IF_cond_exp())
    net.connect("inp", "cells", FixedProbability(0.3), weight=20 * nS)
    net.record_spikes("cells", ids=list(range(0, 30, 2)))
    net.record_spikes("inp")
    net.record_state("cells", "v", ids=[1, 4, 9])
    return simulate(net, 100 * ms, backend="numba")


def hand_made_result() -> Result:
    """Empty populations (no neurons; no spikes; none recorded), spikes out of time
    order, a float32 trace without unit on a grid of 1 ms and an empty trace."""
    spikes = {
        "none": SpikeTrain([], [], 0),
        "silent": SpikeTrain([], [], 4),
        "unrecorded": SpikeTrain([], [], 4, recorded=[]),
        "shuffled": SpikeTrain([0.3, 0.1, 0.1, 0.2], [2, 0, 2, 2], 5, recorded=[0, 2, 3]),
    }
    traces = {
        "x.rate": Trace(np.arange(4) / 1000.0, [1], np.arange(4, dtype=np.float32).reshape(4, 1), ""),
        "x.g": Trace([], [0, 1], np.zeros((0, 2)), "S"),
    }
    return Result(spikes, traces, {"backend": "hand", "seed": None, "nested": {"a": [1, 2.5]}})


def assert_same(a: Result, b: Result) -> None:
    """Equal in everything, with dtypes and order (of populations, traces and spikes)."""
    assert b.meta == a.meta
    assert list(b.spikes) == list(a.spikes)
    for pop, x in a.spikes.items():
        y = b.spikes[pop]
        assert y.n == x.n, pop
        assert np.array_equal(y.times, x.times) and y.times.dtype == np.float64, pop
        assert np.array_equal(y.ids, x.ids) and y.ids.dtype == np.int64, pop
        assert (y.recorded is None) == (x.recorded is None), pop
        assert x.recorded is None or np.array_equal(y.recorded, x.recorded), pop
    assert list(b.traces) == list(a.traces)
    for key, x in a.traces.items():
        y = b.traces[key]
        assert np.array_equal(y.times, x.times), key
        assert np.array_equal(y.ids, x.ids), key
        assert np.array_equal(y.values, x.values) and y.values.dtype == x.values.dtype, key
        assert y.unit == x.unit, key
