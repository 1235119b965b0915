"""Population views (``pop[0:10]``), recording a subset of neurons, and delays
rounded to whole steps: declarations that are lowered to ordinary built
arrays, so every backend simulates them alike."""
from importlib.util import find_spec

import numpy as np
import pytest
from brian2 import ms, mV, nA

from spikemem.analysis import mean_rate, population_rate
from spikemem.backends import simulate
from spikemem.connectors import AllToAll, FixedProbability, FromList, OneToOne
from spikemem.distributions import Uniform
from spikemem.errors import ModelError
from spikemem.network import Network, PopulationView
from spikemem.neurons import IF_curr_exp
from spikemem.results import Result, SpikeTrain

DT = 1e-4


def view_network():
    """Sources drive the even cells of 'exc' through a view; a view of 'exc'
    drives part of 'inh'; spikes recorded from subsets."""
    rng = np.random.default_rng(3)
    net = Network(dt=DT, seed=4)
    src = net.spike_source("src", 12, [np.unique(np.rint(rng.uniform(0, 0.05, 8) / DT)) * DT for _ in range(12)])
    exc = net.population("exc", 20, IF_curr_exp(tau_refrac=2 * ms))
    inh = net.population("inh", 10, IF_curr_exp())
    net.connect(src, exc[::2], FixedProbability(0.5), weight=Uniform(1.0 * nA, 3.0 * nA),
                delay=Uniform(0.1 * ms, 1.0 * ms), delay_rounding="round", name="feed")
    net.connect(exc[[7, 2, 18, 4]], inh[-5:], AllToAll(), weight=4.0 * nA, name="ei")
    net.connect(inh[0:5], exc[1:10:2], OneToOne(), weight=-2.0 * nA, receptor="inh", name="ie")
    net.record_spikes(exc[:10])
    net.record_spikes(exc, ids=[15, 16])
    net.record_spikes(inh)
    net.record_state(exc[[2, 4]], ["v"])
    return net


# ------------------------------------------------------------------ views
def test_indexing_gives_parent_ids():
    net = Network(dt=DT)
    pop = net.population("p", 10, IF_curr_exp())
    assert isinstance(pop[0:3], PopulationView)
    assert pop[2:5].ids.tolist() == [2, 3, 4]
    assert pop[[7, 1, 5]].ids.tolist() == [7, 1, 5]          # the order given
    assert pop[-1].ids.tolist() == [9]
    mask = np.zeros(10, bool)
    mask[[3, 8]] = True
    assert pop[mask].ids.tolist() == [3, 8]
    assert pop[2:8][1::2].ids.tolist() == [3, 5, 7]          # a view of a view
    assert pop[2:8].size == 6 and pop[2:8].name == "p"
    assert repr(pop[0:3]) == "<PopulationView of 'p': 3 of 10 neurons>"


@pytest.mark.parametrize("key, words", [
    (10, "index 10 is out of range"), (-11, "index -11"), ([1, 1], "neuron 1 is selected twice"),
    (np.ones(3, bool), "mask must have 10 entries"), (slice(5, 5), "selects no neurons"),
    ("a", "index with an integer"), ([0.5], "index with an integer"),
])
def test_bad_index_is_refused_naming_population_and_index(key, words):
    net = Network(dt=DT)
    pop = net.population("cells", 10, IF_curr_exp())
    with pytest.raises(ModelError, match="population 'cells'") as e:
        pop[key]
    assert words in str(e.value)


def test_view_of_another_network_is_refused():
    other = Network(dt=DT).population("a", 5, IF_curr_exp())
    net = Network(dt=DT)
    net.population("a", 5, IF_curr_exp())
    with pytest.raises(ModelError, match="'a' is not in this network"):
        net.connect(other[0:2], "a", AllToAll(), weight=1 * nA)


def test_connect_maps_view_positions_to_parent_ids_sorted():
    net = Network(dt=DT)
    a = net.population("a", 6, IF_curr_exp())
    b = net.population("b", 8, IF_curr_exp())
    net.connect(a[[5, 1]], b[[6, 0, 3]], FromList([[0, 0, 1e-9], [0, 2, 2e-9], [1, 1, 3e-9]]), name="p")
    p = net.build().projections[0]
    assert list(zip(p.i.tolist(), p.j.tolist(), p.w.tolist())) == [(1, 0, 3e-9), (5, 3, 2e-9), (5, 6, 1e-9)]


def test_current_input_on_a_view_is_refused_naming_the_population():
    net = Network(dt=DT)
    pop = net.population("cells", 10, IF_curr_exp())
    with pytest.raises(ModelError, match="current input on a view of 'cells'"):
        net.step_current(pop[0:3], 1 * nA, 1 * ms)


def test_views_round_trip_through_json(tmp_path):
    net = view_network()
    net.save(tmp_path / "n.json")
    again = Network.load(tmp_path / "n.json")
    assert again.hash() == net.hash()
    a, b = net.build(), again.build()
    for p, q in zip(a.projections, b.projections):
        assert np.array_equal(p.i, q.i) and np.array_equal(p.j, q.j) and np.array_equal(p.delay, q.delay)
    assert {k: v.tolist() for k, v in a.spike_ids.items()} == {k: v.tolist() for k, v in b.spike_ids.items()}
    assert again.projections[0].delay_rounding == "round"


def test_networks_without_views_keep_their_spec():
    net = Network(dt=DT)
    net.population("a", 3, IF_curr_exp())
    net.connect("a", "a", AllToAll(), weight=1 * nA)
    net.record_spikes("a")
    spec = net.spec()
    assert "pre_ids" not in spec["projections"][0] and "delay_rounding" not in spec["projections"][0]
    assert spec["monitors"][0] == {"kind": "spikes", "population": "a"}


def _spikes(result):
    return {pop: sorted(zip(np.rint(t.times / DT).astype(int).tolist(), t.ids.tolist()))
            for pop, t in result.spikes.items()}


@pytest.mark.parametrize("backend", ["brian2-numpy", "torch-float64"])
def test_every_backend_gives_the_same_spikes_with_views(backend):
    pytest.importorskip("torch") if backend.startswith("torch") else None
    net = view_network()
    ref = simulate(net, 60 * ms, "numba", progress=False)
    other = simulate(net, 60 * ms, backend, progress=False)
    assert _spikes(ref) == _spikes(other)
    assert sum(t.count() for t in ref.spikes.values()) > 20      # the network is driven
    assert ref.traces["exc.v"].ids.tolist() == [2, 4]
    np.testing.assert_allclose(other.traces["exc.v"].values, ref.traces["exc.v"].values, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ recording a subset
def test_subset_recording_keeps_parent_ids_and_the_union():
    net = view_network()
    res = simulate(net, 60 * ms, "numba", progress=False)
    exc = res.spikes["exc"]
    assert exc.n == 20 and exc.recorded.tolist() == list(range(10)) + [15, 16]
    assert set(exc.ids.tolist()) <= set(exc.recorded.tolist()) and exc.count() > 0
    assert res.spikes["inh"].recorded is None
    # the same run recording every neuron: the subset's spikes are exactly those of its neurons
    net.record_spikes("exc")
    full = simulate(net, 60 * ms, "numba", progress=False).spikes["exc"]
    keep = np.isin(full.ids, exc.recorded)
    assert full.count() > exc.count()
    assert np.array_equal(full.ids[keep], exc.ids) and np.array_equal(full.times[keep], exc.times)
    assert full.recorded is None          # recording the whole population wins the union


def test_subset_survives_save_and_load(tmp_path):
    res = simulate(view_network(), 30 * ms, "numba", progress=False)
    res.save(tmp_path / "r.h5")
    again = Result.load(tmp_path / "r.h5")
    assert again.spikes["exc"].recorded.tolist() == res.spikes["exc"].recorded.tolist()
    assert again.spikes["inh"].recorded is None
    rate = again.summary()["exc"]["mean_rate"]
    assert rate == pytest.approx(res.spikes["exc"].count() / (12 * 0.03))      # over the 12 recorded
    assert mean_rate(again.spikes["exc"], 0.03) == pytest.approx(rate)
    _, binned = population_rate(again.spikes["exc"], 0.03, 0.03)
    assert binned[0] == pytest.approx(rate)


def test_record_spikes_ids_out_of_range_is_refused():
    net = Network(dt=DT)
    net.population("cells", 10, IF_curr_exp())
    with pytest.raises(ModelError, match="population 'cells'.*index 12"):
        net.record_spikes("cells", ids=[3, 12])


def test_spike_train_subset():
    t = SpikeTrain([0.1, 0.2, 0.3], [0, 4, 2], 5)
    s = t.subset([4, 2])
    assert s.ids.tolist() == [4, 2] and s.recorded.tolist() == [2, 4] and s.n_recorded == 2
    with pytest.raises(ValueError, match="not recorded"):
        SpikeTrain([0.1], [3], 5, recorded=[1, 2])


# ------------------------------------------------------------------ delays rounded to whole steps
def _delays(rounding, delay):
    net = Network(dt=DT)
    net.population("a", 4, IF_curr_exp())
    net.connect("a", "a", FromList([[0, 1], [1, 2], [2, 3], [3, 0]]), weight=1 * nA,
                delay=delay, delay_rounding=rounding, name="p")
    return net.build().projections[0].delay.tolist()


def test_delay_rounding_modes():
    d = np.array([0.14, 0.15, 0.25, 0.3]) * ms       # 1.4, 1.5, 2.5, 3 steps (0.3 ms is 2.999... steps)
    assert _delays("round", d) == [1, 2, 3, 3]        # halves up, as NEST
    assert _delays("floor", d) == [1, 1, 2, 3]
    assert _delays("ceil", d) == [2, 2, 3, 3]
    # up, a positive delay closer to 0 than the rounding tolerance is still one step
    assert _delays("ceil", np.array([3.6e-7, 0.2, 0.2, 0.2]) * ms) == [1, 2, 2, 2]


def test_delay_not_whole_steps_is_refused_by_default_pointing_to_the_option():
    with pytest.raises(ModelError, match="projection 'p' delay: 0.00014.* s is not a whole number.*delay_rounding"):
        _delays(None, np.array([0.14, 0.2, 0.2, 0.2]) * ms)


def test_delay_rounding_below_one_step_is_refused_naming_the_projection():
    with pytest.raises(ModelError, match="projection 'p': delays must be at least one time step"):
        _delays("round", np.array([0.04, 0.2, 0.2, 0.2]) * ms)


def test_unknown_delay_rounding_is_refused():
    with pytest.raises(ModelError, match="projection 'p': delay_rounding must be one of .*'nearest'"):
        _delays("nearest", 0.2 * ms)


@pytest.mark.parametrize("backend", ["brian2-numpy", "torch-float64"])
def test_random_delays_rounded_run_alike_on_every_backend(backend):
    pytest.importorskip("torch") if backend.startswith("torch") else None
    net = Network(dt=DT, seed=2)
    rng = np.random.default_rng(1)
    net.spike_source("noise", 20, [np.unique(np.rint(rng.uniform(0, 0.05, 10) / DT)) * DT for _ in range(20)])
    net.population("cells", 15, IF_curr_exp(), init={"v": Uniform(-70 * mV, -55 * mV)})
    net.connect("noise", "cells", FixedProbability(0.3), weight=2.0 * nA, name="in")
    net.connect("cells", "cells", FixedProbability(0.3, allow_self=False), weight=0.5 * nA,
                delay=Uniform(0 * ms, 10 * ms), delay_rounding="ceil", name="rec")
    net.record_spikes("cells")
    steps = net.build().projections[1].delay
    assert steps.min() >= 1 and steps.max() <= 100 and len(np.unique(steps)) > 20
    ref = simulate(net, 50 * ms, "numba", progress=False)
    assert ref.spikes["cells"].count() > 10
    assert _spikes(ref) == _spikes(simulate(net, 50 * ms, backend, progress=False))


@pytest.mark.hardware
@pytest.mark.skipif(find_spec("pyNN") is None or find_spec("nest") is None, reason="needs PyNN and NEST")
def test_subset_means_the_same_in_the_pynn_export(tmp_path):
    """The exported script keeps a subset's neurons only, as the backends do."""
    import subprocess
    import sys

    from spikemem.interop.pynn import export_pynn, read_spikes
    from interop.networks import small_network
    net = small_network()
    net.monitors.clear()
    net.record_spikes(net.populations["A"][3:20])
    ref = simulate(net, 0.1, "numba", progress=False)
    folder = export_pynn(net, tmp_path / "exp", 0.1)
    p = subprocess.run([sys.executable, "run.py", "--simulator", "nest"], cwd=folder,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    got = read_spikes(folder).spikes["A"]
    assert ref.spikes["A"].count() > 50
    assert got.recorded.tolist() == list(range(3, 20))
    assert _spikes(read_spikes(folder))["A"] == _spikes(ref)["A"]


@pytest.mark.parametrize("backend", ["spinnaker", "loihi", "brian2-numpy"])
def test_subset_means_the_same_on_the_emulators(backend):
    """A subset's spikes are exactly the whole population's spikes of those neurons."""
    from hardware_networks import random_network
    net = random_network(2)
    whole = simulate(net, 0.2, backend, progress=False).spikes["exc"]
    net.monitors = [m for m in net.monitors if getattr(m, "population", None) != "exc"]
    net.record_spikes(net.populations["exc"][1::3])
    part = simulate(net, 0.2, backend, progress=False).spikes["exc"]
    keep = np.isin(whole.ids, part.recorded)
    assert whole.count() > part.count() > 0 and part.recorded.tolist() == list(range(1, whole.n, 3))
    assert np.array_equal(whole.ids[keep], part.ids) and np.array_equal(whole.times[keep], part.times)
