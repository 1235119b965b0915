"""The numba engine: stateful runs, cache, semantics."""
import os

import numpy as np
import pytest
from brian2 import ms, nA

from spikemem.analysis import spike_set
from spikemem.backends import simulation
from spikemem.backends.numba import engine
from spikemem.connectors import OneToOne
from spikemem.models.cuba.network import cuba
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
    # Delivered at the start of step 17, after that step's record (the state
    # at t = 17 dt), then decays during its update: the record of step 18.
    assert first == 18
    assert trace[18] == np.exp(-0.1 / 5) * 1e-9 or abs(trace[18] - np.exp(-0.02) * 1e-9) < 1e-21


def test_full_spike_buffers_are_emptied_without_losing_spikes(monkeypatch):
    import spikemem.backends.numba.simulation as nb
    big = simulation(cuba(n=500, record_state=True), "numba")
    big.run(0.3)
    monkeypatch.setattr(nb, "SPIKE_BUFFER", 500)       # forces many hand-backs
    small = simulation(cuba(n=500, record_state=True), "numba")
    small.run(0.3)
    a, b = big.result().spikes["exc"], small.result().spikes["exc"]
    assert a.count() > 3 * 400        # several buffers of max(400, 500) spikes
    np.testing.assert_array_equal(spike_set(a, 1e-4), spike_set(b, 1e-4))
    # the state monitors are emptied at each hand-back too, and lose nothing
    key = next(k for k in big.result().traces if k.endswith(".v"))
    np.testing.assert_array_equal(big.result().traces[key].values, small.result().traces[key].values)
    assert big.result().traces[key].values.shape[0] == 3000


# ------------------------------------------------------------------ threads
def _threaded_network(seed=4):
    """Spike-array and Poisson inputs, per-synapse delays, exc/inh receptors,
    refractoriness, a step current, and state recorded from neurons of both
    threads' ranges (in no particular order)."""
    import dataclasses
    from brian2 import nA
    from spikemem.connectors import FixedProbability
    from networks import if_curr_exp_network
    net = if_curr_exp_network(seed=seed, n=200)
    net.poisson_source("noise", 50, rate=40.0)
    net.connect("noise", "cells", FixedProbability(0.2), weight=0.5 * nA, receptor="exc")
    net.monitors[-1] = dataclasses.replace(net.monitors[-1], ids=np.array([150, 1, 70, 3, 199]))
    return net


def _same_result(a, b):
    assert a.spikes.keys() == b.spikes.keys()
    for pop in a.spikes:
        assert a.spikes[pop].count() > 50
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids)
    assert a.traces.keys() == b.traces.keys()
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key].values, b.traces[key].values)


def test_threads_do_not_change_the_result():
    for net in (cuba(n=1000, record_state=True), _threaded_network()):
        results = []
        for threads in (1, 2, 3):
            sim = simulation(net, "numba", threads=threads)
            sim.run(0.25)
            sim.run(0.25)        # state carries over between runs
            results.append(sim.result())
            assert results[-1].meta["threads"] == threads
        _same_result(results[0], results[1])
        _same_result(results[0], results[2])


def _sized_network(size, euler=False):
    """A spike source onto ``size`` neurons that excite each other (delivery
    across threads' ranges), every neuron's v recorded. ``euler``: IF_cond_exp,
    whose Euler update Brian2 derives in milliseconds (IF_curr_exp's exact one
    takes Brian2 seconds of sympy for each new population size)."""
    from brian2 import ms, nA, nS
    from spikemem.connectors import AllToAll, FixedProbability
    from spikemem.network import Network
    from spikemem.neurons import IF_cond_exp, IF_curr_exp
    rng = np.random.default_rng(size)
    net = Network(dt=1e-3, seed=size)
    net.spike_source("inp", 4, [np.sort(rng.choice(np.arange(1, 60), 8, replace=False)) * 1e-3 for _ in range(4)])
    model, unit = (IF_cond_exp(tau_refrac=2 * ms), 40 * nS) if euler else (IF_curr_exp(tau_refrac=2 * ms), nA)
    net.population("cells", size, model)
    net.connect("inp", "cells", AllToAll(), weight=4 * unit, receptor="exc")
    net.connect("cells", "cells", FixedProbability(0.3), weight=0.5 * unit, receptor="exc", delay=2e-3)
    net.record_spikes("cells")
    net.record_state("cells", "v")
    return net


#: with the exact integration, sizes where two or three threads' ranges
#: change: a thread with no neurons (up to 64 on two threads, 128 on three),
#: a range that ends inside a 64-neuron scan block
THREAD_RANGE_SIZES = (1, 63, 65, 129, 193)


def _threads_agree(size, euler=False):
    results = []
    for threads in (1, 2, 3):
        sim = simulation(_sized_network(size, euler), "numba", threads=threads)
        sim.run(0.08, progress=False)
        results.append(sim.result())
        assert results[-1].meta["threads"] == threads
    assert results[0].spikes["cells"].count() >= size        # every neuron fires
    for other in results[1:]:
        np.testing.assert_array_equal(results[0].spikes["cells"].times, other.spikes["cells"].times)
        np.testing.assert_array_equal(results[0].spikes["cells"].ids, other.spikes["cells"].ids)
        np.testing.assert_array_equal(results[0].traces["cells.v"].values, other.traces["cells.v"].values)


@pytest.mark.parametrize("size", THREAD_RANGE_SIZES)
def test_one_two_and_three_threads_agree_for_any_population_size(size):
    _threads_agree(size)


def test_one_two_and_three_threads_agree_for_every_population_size_up_to_300():
    """Every size from 1 to 300 (the kernel does not depend on the size: one
    compile per thread count serves them all; about a minute)."""
    for size in range(1, 301):
        _threads_agree(size, euler=True)


def test_each_simulation_draws_its_own_random_stream():
    """Poisson draws depend on the network's seed alone: not on another
    simulation built or run in between, nor on numba code the user runs."""
    def noisy(seed=4):
        net = _threaded_network(seed)
        net.record_spikes("noise")
        return net

    alone = simulation(noisy(), "numba")
    alone.run(0.1)
    alone.run(0.1)
    mixed = simulation(noisy(), "numba")
    mixed.run(0.1)
    other = simulation(noisy(seed=5), "numba")
    other.run(0.1)
    engine.load(mixed.source).seed(123)                  # a user's reseeding
    mixed.run(0.1)
    a, b, c = alone.result(), mixed.result(), other.result()
    _same_result(a, b)
    assert not np.array_equal(a.spikes["noise"].ids[:200], c.spikes["noise"].ids[:200])


def test_threads_stop_together_when_a_spike_buffer_is_full(monkeypatch):
    import spikemem.backends.numba.simulation as nb
    ref = simulation(cuba(n=1000), "numba", threads=1)
    ref.run(0.3)
    monkeypatch.setattr(nb, "SPIKE_BUFFER", 500)       # each thread hands back often
    two = simulation(cuba(n=1000), "numba", threads=2)
    two.run(0.3)
    assert ref.result().spikes["exc"].count() > 4 * 500
    _same_result(ref.result(), two.result())


def test_synapse_values_keep_their_order_with_threads():
    """Threads hold each projection's synapses grouped by target thread;
    get and set still speak of the network's synapse order."""
    results = []
    for threads in (1, 2):
        sim = simulation(_threaded_network(), "numba", threads=threads)
        w = sim.get("recurrent_inh", "w")
        np.testing.assert_array_equal(w, sim.built_projection("recurrent_inh").w)
        sim.run(0.2)
        sim.set("recurrent_inh", "w", w * np.linspace(0.5, 1.5, w.size))
        np.testing.assert_array_equal(sim.get("recurrent_inh", "w"), w * np.linspace(0.5, 1.5, w.size))
        sim.run(0.2)
        results.append(sim.result())
    _same_result(*results)


def test_a_weight_that_is_one_number_is_stored_once():
    """CUBA's weights are one number per projection: the engine holds one
    (read through a zero stride) and uint16 targets. Setting other values per
    synapse gives the kernel a full array; the spikes still match Brian2's."""
    results = []
    for backend in ("numba", "brian2-numpy"):
        sim = simulation(cuba(n=1000), backend)
        w = sim.get("exc_exc", "w")
        if backend == "numba":
            assert engine.is_one_value(sim.values["p0__w"]) and engine.held_bytes(sim.values["p0__w"]) == 8
            assert sim.values["p0___post"].dtype == np.uint16
            sim.set("exc_exc", "w", 2 * w[0])                   # one number again: stays one
            assert engine.is_one_value(sim.values["p0__w"])
            np.testing.assert_array_equal(sim.get("exc_exc", "w"), 2 * w)
            sim.set("exc_exc", "w", w)
        sim.run(0.1)
        sim.set("exc_exc", "w", w * np.linspace(0.5, 2.0, w.size))
        sim.run(0.1)
        np.testing.assert_array_equal(sim.get("exc_exc", "w"), w * np.linspace(0.5, 2.0, w.size))
        results.append(sim.result())
    for pop in ("exc", "inh"):
        assert results[0].spikes[pop].count() > 100
        np.testing.assert_array_equal(results[0].spikes[pop].times, results[1].spikes[pop].times)
        np.testing.assert_array_equal(results[0].spikes[pop].ids, results[1].spikes[pop].ids)


def test_weights_that_plasticity_changes_are_stored_per_synapse():
    from spikemem.plasticity import stdp
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 10, [[1e-3]] * 10)
    net.population("cell", 10, IF_curr_exp())
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(), name="learn")
    net.connect("src", "cell", OneToOne(), weight=1 * nA, name="fixed")
    sim = simulation(net, "numba")
    assert not engine.is_one_value(sim.values["p0__w"]) and engine.is_one_value(sim.values["p1__w"])
    assert engine.index_type(1 << 16) == np.uint16 and engine.index_type((1 << 16) + 1) == np.int32


def test_fast_math_is_opt_in_and_keeps_the_statistics():
    from spikemem.analysis import cv_isi, mean_rate
    from spikemem.errors import ModelError
    net = cuba(n=1000)
    strict, fast = simulation(net, "numba"), simulation(net, "numba", strict_float=False)
    assert "fastmath" not in strict.source
    assert all(flag in fast.source for flag in engine.FAST_MATH)
    strict.run(1.0)
    fast.run(1.0)
    a, b = strict.result(), fast.result()
    assert a.meta["strict_float"] is True and b.meta["strict_float"] is False
    for pop in ("exc", "inh"):
        assert mean_rate(b.spikes[pop], 1.0) == pytest.approx(mean_rate(a.spikes[pop], 1.0), rel=0.05)
        assert cv_isi(b.spikes[pop]) == pytest.approx(cv_isi(a.spikes[pop]), abs=0.05)
    for bad in (0, "no", None):
        with pytest.raises(ModelError, match="strict_float must be True or False"):
            simulation(cuba(n=100), "numba", strict_float=bad)


def _neuron_loops(source):
    """The lines of the kernel's branch-free neuron loops."""
    lines, out, inside = source.splitlines(), [], False
    for line in lines:
        if line.startswith("        for _i in range(np.uint64(_lo)"):
            inside = True
        elif inside and not line.startswith("            "):
            inside = False
        elif inside:
            out.append(line)
    return out


def test_fast_math_folds_linear_updates_and_follows_the_strict_run():
    from tests.networks import if_curr_exp_network
    net = if_curr_exp_network(duration=0.2)
    strict, fast = simulation(net, "numba"), simulation(net, "numba", strict_float=False)
    # exact integration is linear: with fast-math its divisions leave the loop
    assert any("/" in line for line in _neuron_loops(strict.source))
    assert _neuron_loops(fast.source) and not any("/" in line for line in _neuron_loops(fast.source))
    strict.run(0.2)
    fast.run(0.2)
    a, b = strict.result(), fast.result()
    assert a.spikes["cells"].count() > 20
    np.testing.assert_array_equal(spike_set(a.spikes["cells"], 1e-4), spike_set(b.spikes["cells"], 1e-4))
    for name in ("cells.v", "cells.isyn_exc"):
        np.testing.assert_allclose(b.traces[name].values, a.traces[name].values, rtol=1e-9, atol=1e-15)


def test_kernel_arrays_start_on_a_cache_line():
    sim = simulation(cuba(n=1000), "numba")
    sim.run(0.001)
    arrays = [v for v in sim.values.values()
              if isinstance(v, np.ndarray) and v.size and not engine.is_one_value(v)]
    assert arrays and all(a.ctypes.data % engine.ALIGN == 0 for a in arrays)
    v = np.linspace(-60e-3, -50e-3, 800)
    sim.set("exc", "v", v)
    assert sim.values["exc__v"].ctypes.data % engine.ALIGN == 0
    np.testing.assert_array_equal(sim.get("exc", "v"), v)
    for raw in (np.arange(101.0)[1:], np.arange(13 * 7, dtype=np.int32).reshape(13, 7)[:, 1:]):
        out = engine.aligned(raw)        # 8 bytes past an allocation; not contiguous
        assert out.ctypes.data % engine.ALIGN == 0 and out.flags.c_contiguous
        assert out.dtype == raw.dtype
        np.testing.assert_array_equal(out, raw)


def test_threads_are_chosen_by_size_and_refused_where_the_step_does_not_split(monkeypatch):
    from spikemem.errors import ModelError
    from spikemem.plasticity import stdp
    monkeypatch.setattr(engine, "available_cores", lambda: 4)
    assert simulation(cuba(n=2100), "numba").threads == 1          # the default
    assert simulation(cuba(n=1000), "numba", threads="auto").threads == 1
    assert simulation(cuba(n=2100), "numba", threads="auto").threads == 2        # one per 1024 neurons
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 3000, [[1e-3]] * 3000)
    net.population("cell", 3000, IF_curr_exp())
    net.connect("src", "cell", OneToOne(), weight=1 * nA, synapse=stdp(), name="learn")
    assert simulation(net, "numba", threads="auto").threads == 1
    with pytest.raises(ModelError, match="threads=2 .*projection 'learn' is plastic"):
        simulation(net, "numba", threads=2)
    for bad in (0, 1.5, True, "2", None):
        with pytest.raises(ModelError, match="threads must be a whole number"):
            simulation(cuba(n=100), "numba", threads=bad)


# ------------------------------------------------------------------ float32
def test_float32_state_keeps_the_statistics():
    """dtype="float32": state, parameters, weights and per-step coefficients in
    float32, time in float64; the rates and CVs of float64's, and ``set``
    keeps the kernel's types (no second compilation)."""
    from spikemem.analysis import cv_isi, mean_rate
    net = cuba(n=1000)
    results = {}
    for dtype in ("float64", "float32"):
        sim = simulation(net, "numba", strict_float=False, dtype=dtype)
        for key in ("exc__v", "exc__ge", "inh__gi", "p0__w"):
            assert sim.values[key].dtype == np.dtype(dtype), key
        assert isinstance(sim.values["exc__Vt"], np.dtype(dtype).type)
        assert isinstance(sim.values["dt"], float)
        sim.run(0.5)
        v = sim.get("exc", "v")
        assert v.dtype == np.float64
        sim.set("exc", "v", v)
        sim.set("exc_exc", "w", 1.5 * sim.get("exc_exc", "w"))     # one number, stays one
        sim.set("exc", "Vt", -50.5e-3)
        sim.run(0.5)
        assert len(sim.module.run.signatures) == 1
        results[dtype] = sim.result()
        assert results[dtype].meta["dtype"] == dtype
    a, b = results["float64"], results["float32"]
    for pop in ("exc", "inh"):
        assert a.spikes[pop].count() > 1000
        assert mean_rate(b.spikes[pop], 1.0) == pytest.approx(mean_rate(a.spikes[pop], 1.0), rel=0.05)
        assert cv_isi(b.spikes[pop]) == pytest.approx(cv_isi(a.spikes[pop]), abs=0.05)


def test_float32_loops_compute_in_float32():
    """The folded update's coefficients and Brian2's float loop invariants are
    float32, so no float64 value enters the neuron loops."""
    sim = simulation(cuba(n=200), "numba", strict_float=False, dtype="float32")
    before_loop = [line for line in sim.source.splitlines() if line.startswith("        _a") and " = " in line]
    assert before_loop and all(" = np.float32(" in line for line in before_loop)
    # an integer invariant (the refractory period in steps) stays an integer
    assert any("timestep(" in line and "np.float32" not in line for line in sim.source.splitlines())
    sim.run(0.01)
    from numba import types
    (signature,) = sim.module.run.signatures
    floats = {str(t.dtype) for t in signature if isinstance(t, types.Array) and isinstance(t.dtype, types.Float)}
    assert floats == {"float32"}
    assert str(types.float64) in {str(t) for t in signature}     # dt


def test_refractory_steps_widen_to_int64_beyond_int32():
    """The refractory test's step counts are int32; a run that goes past
    2**31 - 1 steps widens them and keeps every spike where it was."""
    net = Network(dt=0.1 * ms)
    net.population("cell", 3, IF_curr_exp(i_offset=20 * nA, tau_refrac=1 * ms))
    net.record_spikes("cell")
    near = simulation(net, "numba")
    ref = simulation(net, "numba")
    assert near.values["cell___lsstep"].dtype == np.int32
    start = np.iinfo(np.int32).max - 50
    near.step = start
    near.run(0.02)
    ref.run(0.02)
    assert near.values["cell___lsstep"].dtype == np.int64
    got, want = near.result().spikes["cell"], ref.result().spikes["cell"]
    assert want.count() > 3 * 5           # several refractory periods each
    np.testing.assert_array_equal(np.rint(got.times / 1e-4).astype(np.int64) - start,
                                  np.rint(want.times / 1e-4).astype(np.int64))
    np.testing.assert_array_equal(got.ids, want.ids)


def test_thread_ranges_are_whole_scan_blocks():
    for size, threads in ((4000, 2), (800, 3), (100, 2), (65, 4)):
        bounds = engine.thread_ranges(size, threads)
        assert bounds[0] == 0 and bounds[-1] == size and np.all(np.diff(bounds) >= 0)
        assert np.all(bounds[:-1] % engine.BLOCK == 0)
    assert engine.last_spike_steps(np.array([-1e4, 0.0, 2e-4]), 1e-9).tolist() == [np.iinfo(np.int32).min, 0,
                                                                                    200000]


def test_not_refractory_is_stored_only_where_something_reads_it():
    """The update computes not_refractory afresh each step: CUBA's kernel
    never stores it; a spike that moves v directly (v is "unless refractory",
    so delivery reads the flag) keeps the stores, and the spikes stay Brian2's."""
    assert "not_refractory[" not in simulation(cuba(n=200), "numba").source
    net = Network(dt=0.1 * ms)
    rng = np.random.default_rng(1)
    net.spike_source("src", 20, [np.unique(np.round(rng.uniform(0, 0.2, 60), 4)) for _ in range(20)])
    net.population("cell", 20, IF_curr_exp(i_offset=0.9 * nA, tau_refrac=4 * ms))
    net.connect("src", "cell", OneToOne(), weight=1 * nA, on_pre="v_post += 3*mV", name="kick")
    net.record_spikes("cell")
    results = []
    for backend in ("numba", "brian2-numpy"):
        sim = simulation(net, backend)
        if backend == "numba":
            guard = [line for line in sim.source.splitlines() if "if cell__not_refractory[_j]" in line]
            stores = [line for line in sim.source.splitlines() if "cell__not_refractory[_i] =" in line]
            assert guard and len(stores) == 2 and "recomputed" not in sim.source
        sim.run(0.2)
        results.append(sim.result().spikes["cell"])
    assert results[0].count() > 40
    np.testing.assert_array_equal(results[0].times, results[1].times)
    np.testing.assert_array_equal(results[0].ids, results[1].ids)


def test_more_threads_than_cores_are_warned_about(monkeypatch):
    monkeypatch.setattr(engine, "available_cores", lambda: 2)
    with pytest.warns(RuntimeWarning, match="threads=3 on 2 core"):
        simulation(_sized_network(10), "numba", threads=3)


def _plastic_delayed():
    """Poisson input through heterogeneous delays onto a plastic, adaptive layer
    (Diehl and Cook's rule, tau_pre = tau_post1: two equal trace decays); 30 targets, so that
    the table of where each delay starts is smaller than the synapses (``by_delay``)."""
    from brian2 import mV, nS

    from spikemem.connectors import AllToAll
    from spikemem.distributions import Uniform
    from spikemem.neurons import IF_cond_exp
    from spikemem.plasticity import diehl_cook_stdp
    net = Network(dt=0.5 * ms, seed=7)
    net.poisson_source("inp", 40, 60.0)
    net.population("exc", 30, IF_cond_exp(adaptive=True, tau_refrac=2 * ms, delta_vt=1 * mV))
    net.connect("inp", "exc", AllToAll(), weight=Uniform(1 * nS, 5 * nS), delay=Uniform(0 * ms, 10 * ms),
                delay_rounding="ceil", synapse=diehl_cook_stdp(nu_pre=0.05 * nS, nu_post=0.5 * nS, w_max=8 * nS),
                name="feed")
    net.record_spikes("exc")
    return net


def test_grouping_synapses_by_delay_changes_no_bit(monkeypatch):
    """A spike visits its delay's synapses only (``Assembler.by_delay``): the same
    synapses in the same order as skipping the others, so the same bits."""
    grouped = simulation(_plastic_delayed(), "numba", progress=False)
    assert "p0___dptr" in grouped.values and "p0___delay" not in grouped.values
    monkeypatch.setattr(engine.Assembler, "by_delay", lambda self, proj: False)
    skipping = simulation(_plastic_delayed(), "numba", progress=False)
    assert "p0___delay" in skipping.values
    for sim in (grouped, skipping):
        sim.run(0.3, progress=False)
    a, b = grouped.result().spikes["exc"], skipping.result().spikes["exc"]
    assert a.count() > 10
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.ids, b.ids)
    for var in ("w", "pre", "post1", "post2"):
        np.testing.assert_array_equal(grouped.get("feed", var), skipping.get("feed", var))


def test_trace_decays_are_reused_while_the_last_update_is_the_same():
    body = ["    _a = x[_s] * exp(_b1_lio_1 * (- (t - p0__lastupdate[_s])))",
            "    _b = y[_s] * exp(_b1_lio_2 * (- (t - p0__lastupdate[_s])))",
            "    p0__lastupdate[_s] = t"]
    out, setup = engine.shared_decays(body, "    ")
    assert setup == ["        _b1_lio_1_since = np.nan", "        _b1_lio_1_e = 0.0", "        _b1_lio_2_e = 0.0",
                     "        _b1_lio_2_same = _b1_lio_2 == _b1_lio_1"]
    assert out[:3] == ["    if p0__lastupdate[_s] != _b1_lio_1_since:", "        _b1_lio_1_since = p0__lastupdate[_s]",
                       "        _b1_lio_1_e = exp(_b1_lio_1 * (- (t - p0__lastupdate[_s])))"]
    assert out[3].startswith("        _b1_lio_2_e = _b1_lio_1_e if _b1_lio_2_same else exp(")
    assert out[4:] == ["    _a = x[_s] * _b1_lio_1_e", "    _b = y[_s] * _b1_lio_2_e", "    p0__lastupdate[_s] = t"]
    # a decay read after its time is written is left alone
    late = [body[0], body[2], body[1]]
    assert engine.shared_decays(late, "    ") == (late, [])


def _rule_network(synapse, delays=True, init=None):
    """Poisson input onto a small plastic layer through ``synapse`` (heterogeneous delays)."""
    from brian2 import nS

    from spikemem.connectors import AllToAll
    from spikemem.distributions import Uniform
    from spikemem.neurons import IF_cond_exp
    net = Network(dt=0.5 * ms, seed=3)
    net.poisson_source("inp", 40, 60.0)
    net.population("exc", 30, IF_cond_exp())
    net.connect("inp", "exc", AllToAll(), weight=Uniform(1 * nS, 5 * nS),
                delay=Uniform(0 * ms, 10 * ms) if delays else 1 * ms, delay_rounding="ceil", synapse=synapse,
                init=init, name="feed")
    net.record_spikes("exc")
    return net


def _pair_stdp(**kw):
    from brian2 import nS

    from spikemem.plasticity import stdp
    return stdp(**{"A_plus": 0.05 * nS, "A_minus": 0.06 * nS, "w_max": 8 * nS, **kw})


def test_traces_the_synapses_of_a_neuron_share_are_held_once_per_neuron():
    """Diehl and Cook's traces and the pair rule's (all-to-all and nearest) are
    set from constants in one pathway: held per neuron with shared_traces=True,
    and no synapse keeps a last update."""
    from spikemem.plasticity import diehl_cook_stdp
    cases = [(_plastic_delayed(), {"pre": "pre", "post1": "post", "post2": "post"}),
             (_rule_network(_pair_stdp()), {"apre": "pre", "apost": "post"}),
             (_rule_network(_pair_stdp(pairing="nearest", weight_dependence="multiplicative",
                                       A_plus=0.05, A_minus=0.06)), {"apre": "pre", "apost": "post"}),
             (_rule_network(diehl_cook_stdp(), delays=False), {"pre": "pre", "post1": "post", "post2": "post"})]
    for net, expected in cases:
        per_synapse = simulation(net, "numba", progress=False)
        assert per_synapse.shared_traces == {} and "p0__lastupdate" in per_synapse.values
        shared = simulation(net, "numba", progress=False, shared_traces=True)
        assert shared.shared_traces == {0: expected}
        assert "p0__lastupdate" not in shared.values
        sizes = {"pre": 40, "post": 30}
        for var, side in expected.items():
            assert shared.values[f"p0__{var}"].shape == (sizes[side],)
            np.testing.assert_array_equal(shared.get("feed", var), per_synapse.get("feed", var))
        # the traces and the last update per synapse go; the arrays per neuron weigh less than the last update
        assert shared.synapse_bytes() < per_synapse.synapse_bytes() - 8 * len(expected)


def test_traces_that_differ_between_synapses_stay_per_synapse():
    """A trace set from a per-synapse value, set in both pathways, relaxing to
    another value than 0, or starting with different values on one neuron's
    synapses keeps its storage per synapse."""
    from spikemem.synapses import SynapseModel
    eqs = """
        w : weight
        dapre/dt = -apre/(20*ms) : 1 (event-driven)
        dapost/dt = -apost/(20*ms) : 1 (event-driven)
        """
    from_weight = SynapseModel(equations=eqs, on_pre="apre += w/nS\nw = clip(w - 0.01*nS*apost, 0*nS, 8*nS)",
                               on_post="apost += 1\nw = clip(w + 0.01*nS*apre, 0*nS, 8*nS)", name="from_weight")
    both = SynapseModel(equations=eqs, on_pre="apre += 1\napost = 0\nw = clip(w - 0.01*nS*apost, 0*nS, 8*nS)",
                        on_post="apost += 1\nw = clip(w + 0.01*nS*apre, 0*nS, 8*nS)", name="both")
    relaxing = SynapseModel(equations=eqs.replace("-apre/(20*ms)", "(1 - apre)/(20*ms)"),
                            on_pre="apre = 0\nw = clip(w - 0.01*nS*apost, 0*nS, 8*nS)",
                            on_post="apost += 1\nw = clip(w + 0.01*nS*apre, 0*nS, 8*nS)", name="relaxing")
    sims = {name: simulation(_rule_network(model), "numba", progress=False, shared_traces=True)
            for name, model in (("from_weight", from_weight), ("both", both), ("relaxing", relaxing))}
    assert sims["from_weight"].shared_traces == {0: {"apost": "post"}}
    assert sims["both"].shared_traces == {0: {"apre": "pre"}}
    assert sims["relaxing"].shared_traces == {0: {"apost": "post"}}     # not a plain decay: per synapse
    for sim in sims.values():           # one trace per synapse: so is its last update
        assert "p0__lastupdate" in sim.values
    # apost starting with other values on one neuron's synapses; apre with one value per presynaptic neuron
    from spikemem.distributions import Uniform
    uneven = simulation(_rule_network(_pair_stdp(), init={"apost": Uniform(0, 1), "apre": 0.5}), "numba",
                        progress=False, shared_traces=True)
    assert uneven.shared_traces == {0: {"apre": "pre"}}


def test_shared_traces_follow_brian2_through_heterogeneous_delays():
    """Spikes as Brian2's; weights and traces within the rounding that
    Brian2's per-synapse updates add (a trace decayed in several steps
    instead of one)."""
    from spikemem.plasticity import diehl_cook_stdp
    nets = [_plastic_delayed, lambda: _rule_network(_pair_stdp()),
            lambda: _rule_network(_pair_stdp(pairing="nearest")),
            lambda: _rule_network(diehl_cook_stdp(), delays=False)]
    for make in nets:
        sims = [simulation(make(), "numba", progress=False, shared_traces=True),
                simulation(make(), "brian2-numpy", progress=False)]
        for sim in sims:
            sim.run(0.2, progress=False)
            sim.set("feed", "w", sim.get("feed", "w") * 1.01)
            sim.run(0.2, progress=False)
        a, b = (sim.result().spikes["exc"] for sim in sims)
        assert a.count() > 10
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_allclose(sims[0].get("feed", "w"), sims[1].get("feed", "w"), rtol=1e-12, atol=0)


def test_shared_traces_are_set_per_neuron_or_refused():
    from spikemem.errors import ModelError
    sim = simulation(_plastic_delayed(), "numba", progress=False, shared_traces=True)
    sim.run(0.05, progress=False)
    proj = sim.built_projection("feed")
    sim.set("feed", "post1", proj.j * 0.1)           # one value per postsynaptic neuron
    np.testing.assert_array_equal(sim.get("feed", "post1"), proj.j * 0.1)
    np.testing.assert_array_equal(sim.values["p0__post1"], np.arange(30) * 0.1)
    sim.set("feed", "pre", 0.5)
    np.testing.assert_array_equal(sim.get("feed", "pre"), np.full(proj.i.size, 0.5))
    with pytest.raises(ModelError, match="once per postsynaptic neuron"):
        sim.set("feed", "post2", np.linspace(0, 1, proj.i.size))
    sim.run(0.05, progress=False)
    with pytest.raises(ModelError, match="shared_traces must be True or False"):
        simulation(_plastic_delayed(), "numba", shared_traces=1)


def test_a_summed_variable_with_one_synapse_per_element_is_gathered_as_brian2_sums_it():
    """Astrocytes setting G_A of the synapses they cover, some synapses uncovered:
    the kernel copies each covered synapse's term (no sum), and the values are
    Brian2's, 0 where no astrocyte covers a synapse."""
    from spikemem.connectors import AllToAll, FromList
    from spikemem.neurons import NeuronModel
    from spikemem.synapses import SynapseModel

    net = Network(dt=1e-3, seed=3)
    net.spike_source("src", 2, [[0.01, 0.02], [0.015]])
    cell = NeuronModel("dv/dt = -v/(10*ms) : 1", receptors={"exc": "v"}, name="cell")
    net.population("cells", 4, cell)
    syn = net.connect("src", "cells", AllToAll(), weight=0.5, name="syn",
                      synapse=SynapseModel("w : 1\nG_A : 1", on_pre="v_post += w*(1 + G_A)", name="modulated"))
    net.population("astro", 3, NeuronModel("dG/dt = (1 - G)/(20*ms) : 1", name="astro"), init={"G": [0.1, 0.4, 0.7]})
    covered = [(2, 0), (0, 3), (1, 5), (0, 6)]          # synapses 1, 2, 4 and 7 have no astrocyte
    net.connect("astro", syn, FromList(covered), name="astro_to_syn",
                synapse=SynapseModel("G_A_post = 2*G_pre : 1 (summed)", name="astro_to_syn"))
    net.record_state("cells", ["v"])
    runs = {}
    for backend in ("numba", "brian2-numpy"):
        runs[backend] = simulation(net, backend)
        runs[backend].run(0.05)
    assert "___gather_post" in runs["numba"].source
    g_a = runs["numba"].get("syn", "G_A")
    np.testing.assert_array_equal(g_a, runs["brian2-numpy"].get("syn", "G_A"))
    assert np.all(g_a[[1, 2, 4, 7]] == 0) and np.all(g_a[[0, 3, 5, 6]] > 0)
    np.testing.assert_array_equal(runs["numba"].result().traces["cells.v"].values,
                                  runs["brian2-numpy"].result().traces["cells.v"].values)
