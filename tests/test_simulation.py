"""The stateful simulation API: run() continues, get/set/set_spikes/set_rates between runs.

Every check runs on the numba engine and on brian2-numpy. Between those two,
spikes are compared exactly and plastic state to NUMPY_RTOL (numpy's SIMD exp
differs from libm's in the last bit; see test_plasticity).
"""
import numpy as np
import pytest
from brian2 import Hz, kHz, ms, mV, nA

from spikemem.backends import simulation
from spikemem.connectors import FixedProbability, FromList, OneToOne
from spikemem.distributions import Normal, Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, NeuronModel
from spikemem.plasticity import stdp

from test_plasticity import NUMPY_RTOL, assert_same_state

DT = 1e-4
BACKENDS = ["numba", "brian2-numpy"]
CHUNK_ENDS = [100 * k for k in range(1, 10)]     # ends of 10 ms chunks, in steps
KICKS = [99, 299, 599]                           # cell 0 is forced to fire in a chunk's last step


def network(seed=5, poisson=False, duration=0.1):
    """Spike-array input with heterogeneous delays into recurrently connected
    cells with pair STDP (delays 1..30 steps); cells 0 and 1 are forced to fire
    in the last step of some 10 ms chunks, so spikes are in flight across chunk
    boundaries."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    trains = [np.unique(np.rint(rng.uniform(0, duration, rng.poisson(60 * duration)) / DT)) * DT
              for _ in range(20)]
    net.spike_source("inp", 20, trains)
    net.spike_source("kick", 2, [[(k - 1) * DT for k in KICKS]] * 2)
    net.population("cells", 25, IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=3 * ms, tau_syn_I=5 * ms),
                   init={"v": Normal(-60 * mV, 3 * mV)})
    net.connect("inp", "cells", FixedProbability(0.4), weight=Normal(1.4 * nA, 0.4 * nA), name="feed")
    net.connect("kick", "cells", FromList([[0, 0], [1, 1]]), weight=2000 * nA, name="kicks")
    if poisson:
        net.poisson_source("noise", 10, 80.0)
        net.connect("noise", "cells", FixedProbability(0.3), weight=1.0 * nA, name="noisy")
    net.connect("cells", "cells", FixedProbability(0.3, allow_self=False), weight=Uniform(0.2 * nA, 1.2 * nA),
                name="plastic", synapse=stdp(tau_plus=10 * ms, tau_minus=12 * ms, A_plus=0.05 * nA,
                                             A_minus=0.06 * nA, w_max=1.5 * nA))
    net.connect("cells", "cells", FixedProbability(0.1, allow_self=False), weight=-0.4 * nA,
                receptor="inh", name="inh")
    counts = {p.name: p.i.size for p in net.build().projections}
    for proj in net.projections:
        if proj.name in ("feed", "plastic", "inh"):
            proj.delay = rng.integers(1, 31, counts[proj.name]) * DT
    net.record_spikes("cells")
    net.record_spikes("inp")
    net.record_state("cells", ["v", "isyn_exc", "isyn_inh"], ids=[0, 3, 7, 12], every=3)
    return net


def _spike_steps(train):
    return np.rint(train.times / DT).astype(np.int64), train.ids


def _in_flight(sim):
    """Number of (spike, synapse) deliveries that straddle a chunk boundary."""
    steps, ids = _spike_steps(sim.result().spikes["cells"])
    proj = sim.built_projection("plastic")
    n = 0
    for s, i in zip(steps, ids):
        d = proj.delay[proj.i == i]
        n += sum(int(np.sum((s < b) & (s + d >= b))) for b in CHUNK_ENDS)
    return n


# ------------------------------------------------------------ chunks = one run
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("chunks", [[100] * 10, [1, 1, 98, 333, 67, 400, 100]], ids=["10x10ms", "irregular"])
def test_chunks_equal_one_run(backend, chunks):
    net = network(poisson=True)
    whole = simulation(net, backend)
    whole.run(0.1)
    ref = whole.result()
    ref_state = {v: whole.get("plastic", v) for v in ("w", "apre", "apost")}
    ref_v = whole.get("cells", "v")
    # built and run only after the first one: Poisson sources draw from a
    # process-wide random stream, seeded when a simulation starts
    parts = simulation(net, backend)
    for n in chunks:
        parts.run(n * DT)
    assert parts.step == whole.step == 1000 and parts.t == pytest.approx(0.1)
    got = parts.result()
    for pop in ("cells", "inp"):
        np.testing.assert_array_equal(got.spikes[pop].times, ref.spikes[pop].times)
        np.testing.assert_array_equal(got.spikes[pop].ids, ref.spikes[pop].ids)
    for key, trace in ref.traces.items():
        np.testing.assert_array_equal(got.traces[key].times, trace.times, err_msg=key)
        np.testing.assert_array_equal(got.traces[key].values, trace.values, err_msg=key)
    assert ref.traces["cells.v"].values.shape == (334, 4)
    for var, value in ref_state.items():
        np.testing.assert_array_equal(parts.get("plastic", var), value, err_msg=var)
    np.testing.assert_array_equal(parts.get("cells", "v"), ref_v)
    # the test means something: cells fire, weights moved, spikes crossed boundaries
    steps, ids = _spike_steps(ref.spikes["cells"])
    assert len(steps) > 100
    assert {(k, 0) for k in KICKS} <= set(zip(steps.tolist(), ids.tolist()))
    assert np.count_nonzero(ref_state["w"] != whole.built_projection("plastic").w) > 50
    if chunks[0] == 100:
        assert _in_flight(whole) > 20


def test_chunked_runs_agree_between_backends():
    net = network()
    sims = {b: simulation(net, b) for b in BACKENDS}
    for _ in range(5):
        for sim in sims.values():
            sim.run(0.02)
        a, b = sims["numba"], sims["brian2-numpy"]
        np.testing.assert_array_equal(a.result().spikes["cells"].times, b.result().spikes["cells"].times)
        np.testing.assert_array_equal(a.result().spikes["cells"].ids, b.result().spikes["cells"].ids)
        assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))
    # synaptic currents sum the (few-ulp different) plastic weights
    np.testing.assert_allclose(a.result().traces["cells.isyn_exc"].values,
                               b.result().traces["cells.isyn_exc"].values, rtol=NUMPY_RTOL, atol=1e-24)


# ------------------------------------------------------------ get / set
def _run_pair(net, backend, first, then, edit):
    """A simulation edited by ``edit`` after ``first`` seconds and an untouched twin."""
    sim, twin = simulation(net, backend), simulation(net, backend)
    sim.run(first)
    twin.run(first)
    edit(sim)
    sim.run(then)
    twin.run(then)
    return sim, twin


def _edit(sim):
    v = sim.get("cells", "v")
    sim.set("cells", "v", v + np.linspace(0, 8e-3, v.size))
    w = sim.get("plastic", "w")
    sim.set("plastic", "w", np.clip(w * 1.4, 0, 1.5e-9))
    sim.set("cells", "tau_m", 12 * ms)              # shared parameter, as a quantity
    sim.set("cells", "i_offset", np.r_[np.zeros(5), 10e-9, np.zeros(19)])   # per-neuron state
    sim.set("plastic", "A_plus", 0.08e-9)          # shared synaptic parameter


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_then_get_returns_what_was_set(backend):
    sim = simulation(network(), backend)
    sim.run(0.01)
    v = sim.get("cells", "v")
    assert v.shape == (25,) and v.dtype == np.float64
    _edit(sim)
    np.testing.assert_array_equal(sim.get("cells", "v"), v + np.linspace(0, 8e-3, 25))
    assert float(sim.get("cells", "tau_m")) == pytest.approx(12e-3, rel=1e-15)
    assert np.ndim(sim.get("cells", "tau_m")) == 0
    assert float(sim.get("plastic", "A_plus")) == 0.08e-9
    np.testing.assert_array_equal(sim.get("cells", "i_offset"), np.r_[np.zeros(5), 10e-9, np.zeros(19)])
    sim.set("cells", "v", -0.07)                    # a scalar is broadcast
    np.testing.assert_array_equal(sim.get("cells", "v"), np.full(25, -0.07))
    # get returns a copy
    got = sim.get("cells", "v")
    got[:] = 0
    assert np.all(sim.get("cells", "v") == -0.07)


def test_set_changes_the_continuation_alike_on_both_backends():
    net = network()
    runs = {b: _run_pair(net, b, 0.02, 0.03, _edit) for b in BACKENDS}
    (a, a_twin), (b, b_twin) = runs["numba"], runs["brian2-numpy"]
    sa, sb = a.result().spikes["cells"], b.result().spikes["cells"]
    np.testing.assert_array_equal(sa.times, sb.times)
    np.testing.assert_array_equal(sa.ids, sb.ids)
    assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))
    np.testing.assert_allclose(a.get("cells", "v"), b.get("cells", "v"), rtol=1e-12)
    # the edits had effects: different spikes and weights than the untouched twin
    assert not np.array_equal(sa.times, a_twin.result().spikes["cells"].times)
    assert not np.allclose(a.get("plastic", "w"), a_twin.get("plastic", "w"), rtol=1e-3, atol=0)
    # cell 5 got 10 nA of extra drive: it fires more than in the twin
    after = lambda s: np.sum((s.result().spikes["cells"].ids == 5) & (s.result().spikes["cells"].times >= 0.02))
    assert after(a) > after(a_twin) + 3 and after(a) >= 6
    assert after(a) == after(b)
    # and the untouched twins agree as well
    np.testing.assert_array_equal(a_twin.result().spikes["cells"].times, b_twin.result().spikes["cells"].times)


@pytest.mark.parametrize("backend", BACKENDS)
def test_frozen_plasticity_keeps_weights(backend):
    """A_plus = A_minus = 0 between runs: the weights stop moving."""
    sim = simulation(network(), backend)
    sim.run(0.03)
    w = sim.get("plastic", "w")
    sim.set("plastic", "A_plus", 0.0)
    sim.set("plastic", "A_minus", 0.0)
    sim.run(0.03)
    assert sim.result().spikes["cells"].count() > 50
    np.testing.assert_array_equal(sim.get("plastic", "w"), w)
    sim.set("plastic", "A_plus", 0.05e-9)
    sim.run(0.03)
    assert np.count_nonzero(sim.get("plastic", "w") > w) > 10


def test_shared_parameter_nobody_reads_is_a_scalar_on_both_backends():
    model = NeuronModel("dv/dt = -v/tau : 1\ntau : second (constant)\nunused : volt (constant)",
                        params={"tau": 10 * ms, "unused": 3 * mV}, name="toy")
    net = Network(dt=DT)
    net.population("p", 4, model, init={"v": 1.0})
    values = {}
    for backend in BACKENDS:
        sim = simulation(net, backend)
        sim.run(0.001)
        values[backend] = (sim.get("p", "unused"), sim.get("p", "tau"), sim.get("p", "v"))
        sim.set("p", "unused", 5 * mV)
        assert float(sim.get("p", "unused")) == pytest.approx(5e-3)
    (ua, ta, va), (ub, tb, vb) = values["numba"], values["brian2-numpy"]
    assert np.shape(ua) == np.shape(ub) == ()
    assert float(ua) == float(ub) == pytest.approx(3e-3)
    assert float(ta) == float(tb) == pytest.approx(10e-3)
    np.testing.assert_allclose(va, np.exp(-0.1), rtol=1e-12)
    np.testing.assert_allclose(va, vb, rtol=1e-14)


# ------------------------------------------------------------ bad calls
def _bad_calls(n_syn):
    """(call, words the message must contain)."""
    return [
        (lambda s: s.get("nowhere", "v"), ["nowhere"]),
        (lambda s: s.set("nowhere", "v", 0.0), ["nowhere"]),
        (lambda s: s.get("cells", "voltage"), ["cells", "voltage"]),
        (lambda s: s.set("plastic", "apre_max", 0.0), ["plastic", "apre_max"]),
        (lambda s: s.set("cells", "v", np.zeros(26)), ["cells", "v", "26"]),
        (lambda s: s.set("cells", "v", np.zeros((25, 1))), ["cells", "v"]),
        (lambda s: s.set("plastic", "w", np.zeros(n_syn - 1)), ["plastic", "w"]),
        (lambda s: s.set("cells", "v", 1 * nA), ["cells", "v"]),          # wrong unit
        (lambda s: s.set("cells", "v", np.full(25, np.nan)), ["cells", "v"]),
        (lambda s: s.set("cells", "tau_m", np.full(25, 0.01)), ["cells", "tau_m", "shared"]),
        (lambda s: s.set("plastic", "A_plus", np.zeros(n_syn)), ["plastic", "A_plus"]),
        (lambda s: s.get("inp", "v"), ["inp"]),
        (lambda s: s.set("inp", "v", 0.0), ["inp"]),
        (lambda s: s.set_spikes("cells", [0.05], [0]), ["cells"]),
        (lambda s: s.set_spikes("nowhere", [0.05], [0]), ["nowhere"]),
        (lambda s: s.set_spikes("inp", [0.005, 0.05], [1, 2]), ["inp", "before"]),
        (lambda s: s.set_spikes("inp", [0.05], [20]), ["inp", "20"]),
        (lambda s: s.set_spikes("inp", [0.05], [-1]), ["inp"]),
        (lambda s: s.set_spikes("inp", [0.05], [1.5]), ["inp"]),
        (lambda s: s.set_spikes("inp", [0.05, 0.05], [3, 3]), ["inp", "twice"]),
        (lambda s: s.set_spikes("inp", [0.05, 0.05004], [3, 3]), ["inp", "twice"]),   # same step
        (lambda s: s.set_spikes("inp", [0.05, 0.06], [3]), ["inp"]),
        (lambda s: s.set_spikes("inp", [0.05 * nA], [3]), ["inp"]),       # not a time
        (lambda s: s.set_spikes("inp", [2e9 * nA], [3]), ["inp"]),        # 2 A is not 2 s
        (lambda s: s.built_projection("nowhere"), ["nowhere"]),
        (lambda s: s.set_rates("nowhere", 10.0), ["nowhere"]),
        (lambda s: s.set_rates("inp", 10.0), ["inp", "spike-source array", "not a Poisson source", "set_spikes"]),
        (lambda s: s.set_rates("cells", 10.0), ["cells", "neurons", "not a Poisson source"]),
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_calls_raise_and_change_nothing(backend):
    net = network()
    sim, twin = simulation(net, backend), simulation(net, backend)
    sim.run(0.01)
    twin.run(0.01)
    n_syn = sim.built_projection("plastic").i.size
    for call, words in _bad_calls(n_syn):
        with pytest.raises(ModelError) as info:
            call(sim)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
    assert sim.step == twin.step == 100
    sim.run(0.03)
    twin.run(0.03)
    for pop in ("cells", "inp"):
        np.testing.assert_array_equal(sim.result().spikes[pop].times, twin.result().spikes[pop].times)
        np.testing.assert_array_equal(sim.result().spikes[pop].ids, twin.result().spikes[pop].ids)
    for var in ("w", "apre", "apost"):
        np.testing.assert_array_equal(sim.get("plastic", var), twin.get("plastic", var))
    np.testing.assert_array_equal(sim.get("cells", "v"), twin.get("cells", "v"))
    np.testing.assert_array_equal(sim.result().traces["cells.v"].values, twin.result().traces["cells.v"].values)
    assert sim.result().spikes["inp"].count() > 30


# ------------------------------------------------------------ set_spikes
def relay_network(delays=(1, 4, 9)):
    """Three sources, each driving one cell (delays in steps) through a current
    the test can see arrive; the cells never fire."""
    net = Network(dt=DT, seed=1)
    net.spike_source("src", 3, [[2e-3], [], [30e-3]])
    net.population("cells", 3, IF_curr_exp(tau_syn_E=1 * ms, v_thresh=1.0))
    net.connect("src", "cells", OneToOne(), weight=1 * nA, delay=np.asarray(delays) * DT, name="relay")
    net.record_spikes("src")
    net.record_state("cells", "isyn_exc")
    return net


def _arrivals(sim):
    """(step, cell) where a cell's current jumps up (a spike arrives): the record
    after the arrival, that of the next step's start."""
    isyn = sim.result().traces["cells.isyn_exc"].values
    prev = np.vstack([np.zeros((1, isyn.shape[1])), isyn[:-1]])
    steps, cells = np.nonzero(isyn > prev)
    return sorted(zip((steps - 1).tolist(), cells.tolist()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_spikes_delivers_new_spikes_at_their_steps(backend):
    delays = (1, 4, 9)
    sim = simulation(relay_network(delays), backend)
    sim.run(0.01)                                     # steps 0..99: the spike at step 20 happened
    # replaces every future spike (the one at 30 ms is dropped); the first is at the current step
    sim.set_spikes("src", np.array([10.0, 12.0, 12.0, 15.5, 40.0]) * ms, [2, 0, 1, 0, 1])
    sim.run(0.01)
    sim.set_spikes("src", [25.04 * ms], [2])          # a list of quantities; rounded to step 250
    sim.run(0.01)
    sim.set_spikes("src", [], [])                     # no more spikes
    sim.run(0.02)
    emitted = sorted(zip(*(_spike_steps(sim.result().spikes["src"])[k].tolist() for k in (0, 1))))
    assert emitted == [(20, 0), (100, 2), (120, 0), (120, 1), (155, 0), (250, 2)]
    assert _arrivals(sim) == sorted((s + delays[i], i) for s, i in emitted)


def test_set_spikes_same_on_both_backends_with_spikes_in_flight():
    """New spikes given while old ones are still travelling: both arrive."""
    delays = (12, 30, 7)
    results = {}
    for backend in BACKENDS:
        sim = simulation(relay_network(delays), backend)
        sim.run(2.5e-3)                               # the spike of step 20 is in flight
        sim.set_spikes("src", [2.5e-3, 3e-3], [1, 0])
        sim.run(5e-3)
        results[backend] = (_arrivals(sim), sim.result().traces["cells.isyn_exc"].values)
    assert results["numba"][0] == [(32, 0), (42, 0), (55, 1)]
    assert results["numba"][0] == results["brian2-numpy"][0]
    np.testing.assert_array_equal(results["numba"][1], results["brian2-numpy"][1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_spikes_before_the_first_run(backend):
    sim = simulation(relay_network(), backend)
    sim.set_spikes("src", [0.0, 1e-3], [0, 2])
    sim.run(0.005)
    assert _arrivals(sim) == [(1, 0), (19, 2)]


# ------------------------------------------------------------ set_rates
@pytest.mark.parametrize("backend", BACKENDS)
def test_set_rates_refuses_bad_rates_by_name_and_changes_nothing(backend):
    net = network(poisson=True)
    net.record_spikes("noise")
    sim = simulation(net, backend)
    sim.run(0.01)
    nan, inf = np.full(10, 80.0), np.full(10, 80.0)
    nan[3], inf[6] = np.nan, np.inf
    for rates, words in [(np.full(9, 80.0), ["noise", "10", "(9,)"]), (np.full((10, 1), 80.0), ["noise", "(10, 1)"]),
                         (80 * mV, ["noise", "Hz"]), ([80 * Hz, 80 * ms], ["noise"]),
                         (nan, ["noise", "neuron 3", "finite"]), (inf * Hz, ["noise", "neuron 6", "finite"]),
                         ([80 * Hz] * 4 + [-1 * Hz] * 6, ["noise", "neuron 4", ">= 0"]), ("fast", ["noise"])]:
        with pytest.raises(ModelError) as info:
            sim.set_rates("noise", rates)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
    sim.run(0.02)
    # run after the other: Brian2's Poisson groups draw from a process-wide stream
    twin = simulation(net, backend)
    twin.run(0.03)
    for pop in ("cells", "noise"):
        np.testing.assert_array_equal(sim.result().spikes[pop].times, twin.result().spikes[pop].times)
    assert "rate_changes" not in sim.result().meta


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_rates_again_change_nothing(backend):
    """The random stream goes on through set_rates (it is not seeded again): the
    network's own rates given again, as a quantity or in Hz, leave every spike where it was."""
    net = network(poisson=True)
    net.record_spikes("noise")
    sim = simulation(net, backend)
    sim.run(0.03)
    sim.set_rates("noise", 0.08 * kHz)
    sim.run(0.03)
    sim.set_rates("noise", np.full(10, 80.0))
    sim.run(0.04)
    twin = simulation(net, backend)
    twin.run(0.1)
    for pop in ("noise", "cells"):
        np.testing.assert_array_equal(sim.result().spikes[pop].times, twin.result().spikes[pop].times)
        np.testing.assert_array_equal(sim.result().spikes[pop].ids, twin.result().spikes[pop].ids)
    assert sim.result().spikes["noise"].count() > 50
    changes = sim.result().meta["rate_changes"]
    assert [(c["population"], c["mean_hz"]) for c in changes] == [("noise", 80.0)] * 2
    assert [c["t"] for c in changes] == pytest.approx([0.03, 0.06])
