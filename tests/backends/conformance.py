"""What every registered backend must do, as checks that take a backend name.

``test_conformance.py`` runs each check on every registered backend;
``test_toy_backend.py`` registers a backend of its own and runs them on it.
A check reads the backend's ``Capabilities`` to know what it promises.
"""
import numpy as np
import pytest
from brian2 import Hz, mV, ms, nA

from spikemem.analysis import spike_set
from spikemem.backends import backend, simulation
from spikemem.connectors import FromMatrix
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.interop.nir import CubaLIF
from spikemem.neurons import IF_curr_exp, NeuronModel
from spikemem.plasticity import stdp

DT = 1e-3
DURATION = 0.2


def runs_if_curr_exp(name: str) -> bool:
    templates = backend(name).capabilities.templates
    return templates is None or "IF_curr_exp" in templates


def network(name: str, seed: int = 5, plastic: bool = False) -> Network:
    """Eight spike sources onto ten neurons, in a template the backend runs:
    IF_curr_exp where it can, NIR's CubaLIF otherwise; STDP on the projection
    when ``plastic``. No refractory period: where the engines' readings of one
    differ is the business of the refractoriness tests, not of the contract."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    times = [np.sort(rng.choice(np.arange(1, 200), 12, replace=False)) * DT for _ in range(8)]
    net.spike_source("inp", 8, times)
    weights = rng.uniform(0.5, 1.0, (8, 10))
    if runs_if_curr_exp(name):
        net.population("cells", 10, IF_curr_exp(tau_refrac=0 * ms, v_thresh=-60 * mV))
        rule = stdp(A_plus=0.2 * nA, A_minus=0.24 * nA, w_max=5 * nA) if plastic else None
        net.connect("inp", "cells", FromMatrix(weights * 3 * nA), receptor="exc", name="feed", synapse=rule)
    else:
        net.population("cells", 10, CubaLIF(tau_syn=5 * ms, tau_mem=10 * ms, v_threshold=0.1))
        rule = stdp(A_plus=0.5, A_minus=0.6, w_max=40.0) if plastic else None
        net.connect("inp", "cells", FromMatrix(weights * 20), receptor="input", name="feed", synapse=rule)
    net.record_spikes("cells")
    net.record_state("cells", "v")
    return net


def _spikes(result):
    return spike_set(result.spikes["cells"], DT)


def _fresh(name, **options):
    return simulation(network(name), name, **options)


# ------------------------------------------------------------------ checks
def runs_and_reports_provenance(name):
    sim = _fresh(name)
    sim.run(DURATION, progress=False)
    result = sim.result()
    assert len(_spikes(result)) > 10, "the test network must be active"
    meta = result.meta
    assert meta["backend"] == sim.name
    assert meta["versions"]["spikemem"] and meta["versions"]["numpy"]
    for package in sim.packages:
        assert meta["versions"][package], package
    assert meta["seed"] == 5 and meta["dt"] == DT
    assert meta["duration"] == pytest.approx(DURATION)
    assert meta["network_hash"] == network(name).hash()
    assert meta["timings"]["build_s"] > 0 and meta["timings"]["run_s"] >= 0
    assert meta["registered_as"] == name
    assert meta["options"].items() >= backend(name).options.items()
    trace = result.traces["cells.v"]
    assert trace.values.shape == (round(DURATION / DT), 10)


def refuses_bad_runs_before_any_work(name):
    sim = _fresh(name)
    for duration in (0, -0.1, float("nan"), DT / 4, "1 s"):
        with pytest.raises(ModelError):
            sim.run(duration, progress=False)
    with pytest.raises(ModelError, match="no_such_option"):
        sim.run(DURATION, progress=False, no_such_option=1)
    assert sim.step == 0
    sim.run(DURATION, progress=False)          # still usable
    assert sim.step == round(DURATION / DT)


def a_second_run_continues_the_first(name):
    whole = _fresh(name)
    whole.run(DURATION, progress=False)
    split = _fresh(name)
    split.run(DURATION / 2, progress=False)
    if not backend(name).capabilities.continues:
        with pytest.raises(ModelError):
            split.run(DURATION / 2, progress=False)
        return
    split.run(DURATION / 2, progress=False)
    np.testing.assert_array_equal(_spikes(whole.result()), _spikes(split.result()))
    np.testing.assert_array_equal(whole.result().traces["cells.v"].values,
                                  split.result().traces["cells.v"].values)


def records_states_as_brian2(name):
    """Record k of a state monitor is the state at the start of step k (t = k * dt,
    Brian2's StateMonitor): the first is the initial state, the first of a
    second run the state that run starts from (after a ``set``); every record
    is numba's where the backend promises numba's spikes."""
    exact = backend(name).capabilities.spikes_as_numba
    tol = dict(rtol=1e-12, atol=0) if exact else dict(rtol=0, atol=1e-4)     # fixed point: 0.1 mV
    steps = round(DURATION / DT) // 2
    v0 = network(name).build().populations["cells"].init["v"]
    sim, ref = _fresh(name), simulation(network(name), "numba")
    for s in (sim, ref):
        s.run(DURATION / 2, progress=False)
    if backend(name).capabilities.continues:
        new = sim.get("cells", "v") - np.linspace(0, 1e-3 if runs_if_curr_exp(name) else 0.1, 10)
        for s in (sim, ref):
            s.set("cells", "v", new)
            s.run(DURATION / 2, progress=False)
        trace = sim.result().traces["cells.v"]
        np.testing.assert_allclose(trace.values[steps], new, **tol)
    trace = sim.result().traces["cells.v"]
    np.testing.assert_allclose(trace.values[0], v0, **tol)
    np.testing.assert_allclose(trace.times, np.arange(trace.values.shape[0]) * DT, rtol=1e-12)
    if exact:
        np.testing.assert_allclose(trace.values, ref.result().traces["cells.v"].values[:len(trace.values)],
                                   **tol)


def the_same_seed_gives_the_same_result(name):
    a, b = _fresh(name), _fresh(name)
    a.run(DURATION, progress=False)
    b.run(DURATION, progress=False)
    np.testing.assert_array_equal(_spikes(a.result()), _spikes(b.result()))


def a_progress_bar_and_its_chunks_change_nothing(name):
    """With a bar, the run loop advances in chunks of ``chunk_steps``: here 37
    steps, so that chunk boundaries fall mid-run (a backend that cannot continue
    a run cannot cut one either: it runs whole)."""
    quiet, shown = _fresh(name), _fresh(name)
    quiet.run(DURATION, progress=False)
    if backend(name).capabilities.continues:
        shown.chunk_steps = 37
    shown.run(DURATION, progress=True)
    a, b = quiet.result(), shown.result()
    np.testing.assert_array_equal(_spikes(a), _spikes(b))
    np.testing.assert_array_equal(a.traces["cells.v"].values, b.traces["cells.v"].values)
    np.testing.assert_array_equal(a.traces["cells.v"].times, b.traces["cells.v"].times)


def trials_as_declared(name):
    """A batching backend runs independent trials: each the same as a run alone."""
    if not backend(name).capabilities.batching:
        with pytest.raises((ModelError, TypeError)):
            _fresh(name, batch=2)
        return
    alone, pair = _fresh(name), _fresh(name, batch=2)
    alone.run(DURATION, progress=False)
    pair.run(DURATION, progress=False)
    for trial in (0, 1):
        np.testing.assert_array_equal(_spikes(alone.result()), _spikes(pair.result(trial)))


def spikes_as_numba_where_promised(name):
    """Numba's spikes exactly where the capabilities promise them, else the same
    activity within a quarter (fixed point and float32 drift)."""
    ref = simulation(network(name), "numba")
    ref.run(DURATION, progress=False)
    sim = _fresh(name)
    sim.run(DURATION, progress=False)
    a, b = _spikes(ref.result()), _spikes(sim.result())
    if backend(name).capabilities.spikes_as_numba:
        np.testing.assert_array_equal(a, b)
    else:
        assert abs(len(b) - len(a)) <= 0.25 * len(a), (len(a), len(b))


def state_between_runs_as_declared(name):
    sim = _fresh(name)
    sim.run(DURATION / 2, progress=False)
    if not backend(name).capabilities.continues:
        with pytest.raises(ModelError):
            sim.get("cells", "v")
        return
    v = sim.get("cells", "v")
    assert v.shape == (10,) and np.all(np.isfinite(v))
    new = v - np.linspace(0, 1e-3 if runs_if_curr_exp(name) else 0.1, 10)
    sim.set("cells", "v", new)
    np.testing.assert_allclose(sim.get("cells", "v"), new, rtol=1e-6, atol=1e-9)
    with pytest.raises(ModelError):
        sim.set("cells", "v", np.zeros(3))
    with pytest.raises(ModelError):
        sim.get("cells", "no_such_variable")
    sim.run(DURATION / 2, progress=False)
    assert sim.step == round(DURATION / DT)


def offers_its_dtypes_and_refuses_others(name):
    for dtype in backend(name).capabilities.dtypes:
        sim = _fresh(name, dtype=dtype)
        sim.run(DURATION / 4, progress=False)
        assert dtype in str(sim.result().meta["options"]["dtype"])
    with pytest.raises(ModelError, match="float16"):
        _fresh(name, dtype="float16")


def plasticity_as_declared(name):
    net = network(name, plastic=True)
    if not backend(name).capabilities.plasticity:
        with pytest.raises(ModelError):
            simulation(net, name)
        return
    sim = simulation(net, name)
    if not backend(name).capabilities.continues:       # no state to read: the spikes tell
        sim.run(DURATION, progress=False)
        ref = simulation(network(name, plastic=True), "numba")
        ref.run(DURATION, progress=False)
        np.testing.assert_array_equal(_spikes(ref.result()), _spikes(sim.result()))
        return
    before = sim.get("feed", "w")
    sim.run(DURATION, progress=False)
    after = sim.get("feed", "w")
    assert np.abs(after - before).max() > 0.05 * np.abs(before).max()
    if backend(name).capabilities.spikes_as_numba:
        ref = simulation(network(name, plastic=True), "numba")
        ref.run(DURATION, progress=False)
        np.testing.assert_allclose(after, ref.get("feed", "w"), rtol=1e-9, atol=1e-15)


def poisson_network() -> Network:
    """100 Poisson sources, silent until ``set_rates``, and a spike source beside them."""
    net = Network(dt=DT, seed=7)
    net.poisson_source("noise", 100, 0 * Hz)
    net.spike_source("cue", 1, [[0.01]])
    net.record_spikes("noise")
    return net


def poisson_rates_between_runs(name):
    """``set_rates`` gives a Poisson source new rates from the next step on, every
    value checked before anything changes; where the backend has no Poisson
    sources the network is refused, and a backend that cannot continue refuses new rates."""
    net = poisson_network()
    if not backend(name).capabilities.poisson_sources:
        with pytest.raises(ModelError, match="Poisson"):
            simulation(net, name)
        return
    sim = simulation(net, name)
    if not backend(name).capabilities.continues:
        with pytest.raises(ModelError, match="once"):
            sim.set_rates("noise", 200 * Hz)
        return
    nan, negative = np.full(100, 500.0), np.full(100, 500.0)
    nan[7], negative[99] = np.nan, -1.0
    for population, rates in [("nowhere", 500.0), ("cue", 500.0), ("noise", np.full(99, 500.0)),
                              ("noise", 500 * mV), ("noise", nan), ("noise", negative)]:
        with pytest.raises(ModelError, match=population):
            sim.set_rates(population, rates)
    sim.run(0.1, progress=False)                       # still silent: nothing was changed
    sim.set_rates("noise", 200 * Hz)
    sim.run(0.2, progress=False)
    sim.set_rates("noise", np.repeat([0.0, 200.0], 50))
    sim.run(0.2, progress=False)
    train = sim.result().spikes["noise"]
    steps = np.rint(train.times / DT)
    assert np.all(steps >= 100)
    # 100 x 200 Hz x 0.2 s: 4000 expected (standard deviation 63), then half of that from ids 50..99
    assert 3500 < np.sum(steps < 300) < 4500
    late = train.ids[steps >= 300]
    assert 1700 < late.size < 2300 and late.min() >= 50
    assert [c["t"] for c in sim.result().meta["rate_changes"]] == pytest.approx([0.1, 0.3])
    # two simulations of one built network keep their own rates
    built = net.build()
    cls, options = backend(name).simulation_class(), backend(name).options
    mine, other = cls(built, **options), cls(built, **options)
    mine.set_rates("noise", 200 * Hz)
    for s in (mine, other):
        s.run(0.05, progress=False)
    assert mine.result().spikes["noise"].count() > 500
    assert other.result().spikes["noise"].count() == 0 and "rate_changes" not in other.result().meta
    np.testing.assert_array_equal(built.populations["noise"].rate, 0.0)


def signal_network() -> Network:
    """Two neurons that sum the components of a signal sampled every two steps
    (y after step n is dt times the sum of v_x over the steps before it)."""
    net = Network(dt=DT, seed=3)
    net.signal("v", np.ones((100, 2)) * [1.0, 2.0], dt=2 * DT)
    net.population("sum", 2, NeuronModel("dy/dt = v_x/second : 1\ndz/dt = v_y/second : 1", method="euler"))
    net.record_state("sum", ["y", "z"])
    return net


def signals_between_runs(name):
    """Equations read a signal's samples by name; ``set_signal`` replaces them
    from the next step on, every value checked before anything changes; a run
    past the signal's end is refused before it starts. A backend without
    signals refuses the network, one that cannot continue refuses new samples."""
    net = signal_network()
    if not backend(name).capabilities.signals:
        with pytest.raises(ModelError, match="signal 'v'"):
            simulation(net, name)
        return
    sim = simulation(net, name)
    if not backend(name).capabilities.continues:
        with pytest.raises(ModelError, match="once"):
            sim.set_signal("v", np.zeros((100, 2)))
        return
    nan = np.ones((100, 2))
    nan[50, 1] = np.nan
    for signal, values, text in [("u", np.zeros((100, 2)), "'u'"), ("v", np.zeros((100, 3)), "(100, 3)"),
                                 ("v", nan, "not finite"), ("v", np.zeros((100, 2)) * mV, "v")]:
        with pytest.raises(ModelError, match=text):
            sim.set_signal(signal, values)
    sim.run(0.05, progress=False)                    # the samples as they were
    sim.set_signal("v", -np.ones((100, 2)))
    sim.run(0.05, progress=False)
    with pytest.raises(ModelError, match="signal 'v' covers 0.2 s; the run would reach 0.25 s"):
        sim.run(0.15, progress=False)
    trace = sim.result().traces
    y, z = trace["sum.y"].values[:, 0], trace["sum.z"].values[:, 0]
    rtol = 1e-5 if backend(name).capabilities.dtypes[0] == "float32" else 1e-9
    np.testing.assert_allclose([y[50], z[50], y[99]], [0.05, 0.1, 0.05 - 0.049], rtol=rtol)
    assert sim.t == pytest.approx(0.1)          # the refused run did not start


CHECKS = [runs_and_reports_provenance, refuses_bad_runs_before_any_work, a_second_run_continues_the_first,
          records_states_as_brian2, the_same_seed_gives_the_same_result, a_progress_bar_and_its_chunks_change_nothing,
          spikes_as_numba_where_promised, state_between_runs_as_declared, offers_its_dtypes_and_refuses_others,
          plasticity_as_declared, trials_as_declared, poisson_rates_between_runs, signals_between_runs]
