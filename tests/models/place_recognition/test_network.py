"""The module network: the spec's table read back from the built network."""
import numpy as np
import pytest
from brian2 import ms

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.models.place_recognition import network as pr
from spikemem.models.place_recognition.network import module_network

MV, MS, NS = 1e-3, 1e-3, 1e-9


@pytest.fixture(scope="module")
def built():
    return module_network(n_e=6, n_inputs=16, seed=3).build()


def projection(built, name):
    return next(p for p in built.projections if p.name == name)


def test_populations_match_the_table(built):
    exc, inh, inp = (built.populations[k] for k in ("exc", "inh", "input"))
    assert (exc.size, inh.size, inp.size, inp.kind) == (6, 6, 16, "poisson")
    for pop, rest, reset, tau, e_inh in ((exc, -65, -65, 100, -100), (inh, -60, -45, 10, -85)):
        p = pop.params
        assert np.isclose(p["v_rest"], rest * MV) and np.isclose(p["v_reset"], reset * MV)
        assert np.isclose(p["tau_m"], tau * MS) and np.isclose(p["c_m"], tau * MS * NS)   # leak of 1 nS
        assert np.isclose(p["e_rev_E"], 0) and np.isclose(p["e_rev_I"], e_inh * MV)
        assert np.isclose(p["tau_syn_E"], 1 * MS) and np.isclose(p["tau_syn_I"], 0.5 * MS)
        assert np.allclose(pop.init["v"], (rest - 40) * MV)
    assert np.isclose(inh.params["v_thresh"], -40 * MV)
    # threshold -52 + theta - 20 mV with theta 20 mV at the start: vt = -52 mV, relaxing to -72 mV
    assert np.isclose(exc.params["v_thresh"], -72 * MV) and np.allclose(exc.init["vt"], -52 * MV)
    assert np.allclose(pr.theta_of(exc.init["vt"]), 20 * MV)
    assert np.isclose(exc.params["delta_vt"], 0.05 * MV) and np.isclose(exc.params["tau_vt"], 1e4)
    # Brian2's counting at dt = 0.5 ms: 5 ms holds 9 steps after the spike step, 2 ms 3
    assert (exc.refractory_steps, inh.refractory_steps) == (9, 3)
    assert np.isclose(built.dt, 0.5 * MS)


def test_projections_match_the_table(built):
    feed = projection(built, "input_to_exc")
    assert feed.i.size == 16 * 6 and feed.target == "gsyn_exc"
    assert np.all((feed.w >= 0.01 * 0.3 * NS) & (feed.w <= 1.01 * 0.3 * NS))
    ns = feed.namespace
    assert np.isclose(ns["nu_pre"], 1e-4 * NS) and np.isclose(ns["nu_post"], 1e-2 * NS)
    assert np.isclose(ns["w_max"], 1 * NS)
    assert [ns[k] for k in ("tau_pre", "tau_post1", "tau_post2")] == pytest.approx([0.02, 0.02, 0.04])
    ei, ie = projection(built, "exc_to_inh"), projection(built, "inh_to_exc")
    assert np.array_equal(ei.i, ei.j) and np.allclose(ei.w, 10.4 * NS) and ei.target == "gsyn_exc"
    assert ie.i.size == 6 * 5 and not np.any(ie.i == ie.j) and np.allclose(ie.w, 17 * NS)
    assert ie.target == "gsyn_inh"


def test_delays_are_whole_steps_within_ten_ms(built):
    feed = projection(built, "input_to_exc")
    seconds = feed.delay * built.dt
    assert feed.delay.dtype.kind == "i" and seconds.min() >= 0 and seconds.max() <= 10 * MS
    assert len(np.unique(feed.delay)) > 5         # drawn, not one value


def test_current_based_variant_scales_weights_by_the_drive():
    built = module_network(n_e=4, n_inputs=9, current_based=True).build()
    exc = built.populations["exc"]
    assert exc.model.name == "IF_curr_exp" and np.allclose(exc.params["v_thresh"], -52 * MV)
    feed = projection(built, "input_to_exc")
    scale = pr.weight_scale(True)
    assert np.isclose(scale, 58.5e-3 * NS)            # 1 nS at 58.5 mV from E_exc = 0
    assert np.isclose(feed.namespace["w_max"], scale)
    assert np.allclose(projection(built, "inh_to_exc").w, 17 * pr.weight_scale(True, "exc", "inh"))
    assert np.all(projection(built, "inh_to_exc").w < 0)
    assert np.isclose(pr.normalisation_total(784, True), 78 * scale)


def test_the_authors_presynaptic_sign():
    ns = projection(module_network(n_e=2, n_inputs=4, pre_potentiates=True).build(), "input_to_exc").namespace
    assert np.isclose(ns["nu_pre"], -1e-4 * NS)


def test_freeze_holds_theta_and_plasticity_switches():
    sim = simulation(module_network(n_e=2, n_inputs=4, dt=0.5 * ms), "numba", progress=False)
    sim.freeze("exc")
    sim.freeze("input_to_exc")
    assert sim.frozen("exc") and sim.frozen("input_to_exc")


@pytest.mark.parametrize("kwargs", [dict(n_e=1), dict(n_e=0), dict(n_inputs=0), dict(seed=-1), dict(n_e=2.5)])
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(ModelError):
        module_network(**kwargs)


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy"])
def test_the_authors_timer_holds_a_neuron_for_fifty_ms(backend):
    """Driven as hard as can be (a threshold below rest), an excitatory neuron fires
    every 10 steps (5 ms held) without the timer, every 101 steps with it: the
    authors' timer, 0.1 s per s from 0 at the spike, passes 5 ms at the 101st
    Euler step of 0.5 ms."""
    steps = {}
    for timer in (False, True):
        sim = simulation(module_network(n_e=2, n_inputs=4, timer=timer), backend, progress=False)
        sim.set("exc", "vt", -90 * MV)
        sim.freeze("exc")
        sim.run(0.25, progress=False)
        sp = sim.result().spikes["exc"]
        steps[timer] = set(np.rint(np.diff(np.sort(sp.times[sp.ids == 0])) / (0.5 * MS)).astype(int).tolist())
    assert steps == {False: {10}, True: {101}}
    model = module_network(n_e=2, n_inputs=4, timer=True).populations["exc"].model
    assert model.threshold == "(v > vt) and timer > timer_hold" and "timer = 0*second" in model.reset
