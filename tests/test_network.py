"""Model definition: validation, connectors, files."""
import dataclasses
import json

import numpy as np
import pytest
from brian2 import ms, mV, nA

from spikemem.backends import simulation
from spikemem.connectors import (AllToAll, DistanceKernel, FixedNumberPost, FixedNumberPre,
                                 FixedProbability, FromList, FromMatrix, OneToOne)
from spikemem.errors import ModelError
from spikemem.models.cuba.network import cuba
from spikemem.network import Network
from spikemem.neurons import TEMPLATES, IF_curr_exp, NeuronModel


def _one_projection(connector, n_pre=6, n_post=6, **kw):
    net = Network(seed=1)
    net.population("a", n_pre, IF_curr_exp())
    net.population("b", n_post, IF_curr_exp())
    net.connect("a", "b", connector, weight=kw.pop("weight", 1e-9), **kw)
    return net.build().projections[0]


def test_connectors_make_the_synapses_they_promise():
    p = _one_projection(OneToOne())
    assert list(zip(p.i, p.j)) == [(k, k) for k in range(6)]
    assert _one_projection(AllToAll()).i.size == 36
    assert _one_projection(AllToAll(allow_self=False)).i.size == 30
    assert np.all(np.bincount(_one_projection(FixedNumberPre(2)).j) == 2)
    assert np.all(np.bincount(_one_projection(FixedNumberPost(3)).i) == 3)
    big = _one_projection(FixedProbability(0.2), 300, 300)
    assert abs(big.i.size / 90000 - 0.2) < 0.01
    fl = _one_projection(FromList([(0, 1, 2e-9, 3e-4), (2, 0, 1e-9, 1e-4)]), weight=None)
    assert list(fl.delay) == [3, 1] and list(fl.w) == [2e-9, 1e-9]
    w = np.zeros((6, 6))
    w[1, 2] = 5e-9
    fm = _one_projection(FromMatrix(w), weight=None)
    assert (fm.i.tolist(), fm.j.tolist(), fm.w.tolist()) == ([1], [2], [5e-9])


def test_distance_kernel_on_a_periodic_ring():
    p = _one_projection(DistanceKernel(shape=(8,), kernel="gaussian", params={"sigma": 1.0, "amplitude": 1e-9}),
                        8, 8, weight=None)
    w = np.zeros((8, 8))
    w[p.i, p.j] = p.w
    assert w[0, 0] == pytest.approx(1e-9)
    assert w[0, 1] == pytest.approx(w[0, 7])      # wraps around
    assert w[0, 1] > w[0, 2] > w[0, 4]


def test_network_file_round_trip_rebuilds_identically(tmp_path):
    net = cuba(n=300, seed=9, record_state=True)
    path = tmp_path / "net.json"
    net.save(path)
    again = Network.load(path)
    assert again.hash() == net.hash()
    a, b = net.build(), again.build()
    for pa, pb in zip(a.projections, b.projections):
        np.testing.assert_array_equal(pa.i, pb.i)
        np.testing.assert_array_equal(pa.w, pb.w)
    np.testing.assert_array_equal(a.populations["exc"].init["v"], b.populations["exc"].init["v"])


def test_brian2_quantities_and_si_numbers_are_the_same():
    a = Network(dt=0.1 * ms)
    a.population("x", 3, IF_curr_exp(tau_m=10 * ms), init={"v": -60 * mV})
    b = Network(dt=1e-4)
    b.population("x", 3, IF_curr_exp(tau_m=0.01), init={"v": -0.06})
    assert a.hash() == b.hash()


def test_same_dynamics_ignores_parameters_only():
    base = IF_curr_exp()
    assert IF_curr_exp(tau_m=0.03, v_thresh=-0.05).same_dynamics(base)
    assert not TEMPLATES["IF_cond_exp"]().same_dynamics(base)
    swapped = dataclasses.replace(base, receptors={"exc": "isyn_inh", "inh": "isyn_exc"})
    assert not swapped.same_dynamics(base)
    assert not dataclasses.replace(base, reset="v = v_rest").same_dynamics(base)


def test_every_template_builds():
    for name, template in TEMPLATES.items():
        net = Network()
        net.population("p", 2, template())
        assert net.build().populations["p"].init, name


@pytest.mark.parametrize("make, words", [
    (lambda n: n.population("e", 0, IF_curr_exp()), ["'e'", "size"]),
    (lambda n: n.population("e", 2.5, IF_curr_exp()), ["'e'", "integer"]),
    (lambda n: n.connect("a", "zz", AllToAll(), weight=1e-9), ["unknown", "'zz'"]),
])
def test_bad_declarations_are_refused_at_once(make, words):
    net = Network()
    net.population("a", 3, IF_curr_exp())
    with pytest.raises(ModelError) as e:
        make(net)
    for w in words:
        assert w in str(e.value)


def _bad(kind):
    net = Network(seed=0)
    net.population("a", 4, IF_curr_exp())
    if kind == "delay":
        net.connect("a", "a", AllToAll(), weight=1e-9, delay=0.5e-4, name="pa")
    elif kind == "zero_delay":
        net.connect("a", "a", AllToAll(), weight=1e-9, delay=0.0, name="pa")
    elif kind == "shape":
        net.connect("a", "a", AllToAll(), weight=np.ones(3) * 1e-9, name="pa")
    elif kind == "unit":
        net.connect("a", "a", AllToAll(), weight=1 * mV, name="pa")
    elif kind == "param":
        net.populations["a"].params["tau_x"] = 1.0
    elif kind == "identifier":
        net.population("b", 2, NeuronModel("dv/dt = -v/tau_q : volt", threshold="v > 1*mV"))
    elif kind == "eq_units":
        net.population("b", 2, NeuronModel("dv/dt = -v : volt"))
    elif kind == "receptor":
        net.connect("a", "a", AllToAll(), weight=1e-9, receptor="nmda", name="pa")
    return net, {"delay": "'pa'", "zero_delay": "'pa'", "shape": "'pa'", "unit": "'pa'",
                 "param": "tau_x", "identifier": "tau_q", "eq_units": "'b'", "receptor": "nmda"}[kind]


@pytest.mark.parametrize("kind", ["delay", "zero_delay", "shape", "unit", "param", "identifier",
                                  "eq_units", "receptor"])
def test_bad_networks_fail_before_running_and_name_the_culprit(kind):
    net, culprit = _bad(kind)
    with pytest.raises(ModelError) as e:
        simulation(net, "numba")
    assert culprit in str(e.value)


def test_unknown_backend():
    with pytest.raises(ModelError, match="'gpu9'"):
        simulation(cuba(n=50), "gpu9")


def test_corrupt_network_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ModelError, match="bad.json"):
        Network.load(p)
    p.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelError, match="not a spikemem network"):
        Network.load(p)


def test_exact_integration_refuses_equal_time_constants():
    """IF_curr_exp's exact solution divides by tau_m - tau_syn: equal values are
    refused at build time instead of running into inf/NaN."""
    net = Network(dt=0.1 * ms)
    net.population("p", 3, IF_curr_exp(tau_m=5 * ms, tau_syn_E=5 * ms))
    with pytest.raises(ModelError, match=r"population 'p': tau_m equals tau_syn_E \(0.005 s\)"):
        net.build()
    net = Network(dt=0.1 * ms)
    net.population("p", 3, IF_curr_exp(tau_syn_I=7 * ms), params={"tau_m": [6 * ms, 7 * ms, 9 * ms]})
    with pytest.raises(ModelError, match=r"tau_m equals tau_syn_I \(0.007 s for some neurons\)"):
        net.build()
    net = Network(dt=0.1 * ms)
    euler = dataclasses.replace(IF_curr_exp(tau_m=5 * ms, tau_syn_E=5 * ms), method="euler")
    net.population("p", 3, euler)
    net.build()


def test_spike_monitors_need_a_threshold_and_record_once():
    net = Network(dt=0.1 * ms)
    net.population("quiet", 2, NeuronModel(equations="dv/dt = -v/(10*ms) : volt"))
    net.record_spikes("quiet")
    with pytest.raises(ModelError, match="spike monitor on 'quiet'.*no threshold"):
        net.build()
    net.monitors.clear()
    net.population("lif", 2, IF_curr_exp(i_offset=2 * nA))
    net.record_spikes("lif")
    net.record_spikes("lif")
    result = simulation(net, "numba")
    result.run(0.05)
    steps = np.rint(result.result().spikes["lif"].times / 1e-4)
    assert steps.size and np.unique(steps).size == steps.size / 2      # both neurons, each spike once


@pytest.mark.parametrize("seed", [-1, -(2 ** 40), np.int64(-3), 1.5, "7", True])
def test_a_negative_or_non_integer_seed_is_refused_at_once(seed):
    with pytest.raises(ModelError, match=r"seed.*" + repr(seed).replace("(", r"\(").replace(")", r"\)")):
        Network(seed=seed)


def test_a_negative_seed_in_a_network_file_is_refused(tmp_path):
    net = Network(seed=3)
    net.population("a", 2, IF_curr_exp())
    spec = net.spec()
    spec["seed"] = -5
    p = tmp_path / "net.json"
    p.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="seed.*-5"):
        Network.load(p)


def test_a_projection_named_like_a_population_is_refused():
    net = Network()
    net.population("a", 3, IF_curr_exp())
    net.population("b", 3, IF_curr_exp())
    with pytest.raises(ModelError, match="projection 'b'.*population"):
        net.connect("a", "b", AllToAll(), weight=1e-9, name="b")
    assert not net.projections


@pytest.mark.parametrize("where, kind", [("population", "alien"), ("monitor", "alien")])
def test_an_unknown_kind_in_a_network_file_is_refused_by_name(tmp_path, where, kind):
    net = Network(seed=3)
    net.population("a", 2, IF_curr_exp())
    net.record_spikes("a")
    spec = net.spec()
    (spec["populations"][0]["model"] if where == "population" else spec["monitors"][0])["kind"] = kind
    p = tmp_path / "net.json"
    p.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=f"'a'.*unknown kind '{kind}'"):
        Network.load(p)
