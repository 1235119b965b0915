"""Plasticity templates: closed forms for single pairings, and the numba engine
against Brian2 on networks where weights evolve.

Timing convention under test (spikemem.synapses): a rule sees the lag
``t_post - t_pre`` between the two neurons' spike steps; the delay postpones
only the delivered current; a pre and a post spike in the same step count as
pre-before-post (lag 0 potentiates).

Postsynaptic spikes are forced: a separate source ("drive") hits each post
neuron with a huge, fast current one step before the wanted firing step, so
the post neuron fires exactly then and nowhere else. The plastic weights are
too small to change that (the tests check the spike steps).
"""
from dataclasses import replace

import numpy as np
import pytest
from brian2 import ms, mV, nA, nS

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FixedProbability, OneToOne
from spikemem.distributions import Normal, Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp, IF_curr_exp, NeuronModel, RateUnit
from spikemem.plasticity import (anti_hebbian, diehl_cook_stdp, hebbian, normalize_weights, oja, oja_subspace,
                                 spinnaker_stdp, stdp, triplet_stdp)

DT = 1e-4
BACKENDS = ["numba", "brian2-numpy"]

# Event-driven traces decay with exp() of a per-synapse argument. The numba
# engine and Brian2's compiled targets call libm's exp; Brian2's numpy target
# calls numpy's, which on CPUs with AVX-512 is a SIMD implementation that
# differs from libm in the last bit for about 5 % of arguments. Traces and
# weights from brian2-numpy therefore agree with numba to a few ulp (measured:
# up to 3e-15 relative on weights after 0.2 s), not bit for bit; against
# brian2-cython they are identical. Spike trains are compared exactly.
NUMPY_RTOL = 1e-13


def assert_same_state(a, b, rtol=NUMPY_RTOL, err_msg=""):
    """Equal within ``rtol`` (exactly equal where either is zero, e.g. clipped weights)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, err_msg
    np.testing.assert_array_equal(a == 0, b == 0, err_msg=err_msg)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=err_msg)


# ------------------------------------------------------------------ helpers
def pairing_network(pre_steps, post_steps, synapse, delay=1, w0=0.5 * nA, params=None):
    """n independent pre -> post pairs; pre neuron k fires at ``pre_steps[k]``,
    post neuron k is forced to fire at ``post_steps[k]``. The plastic projection
    ("plastic", ``delay`` steps) drives the post neurons' inhibitory current."""
    n = len(pre_steps)
    net = Network(dt=DT, seed=1)
    net.spike_source("pre", n, [[s * DT for s in steps] for steps in pre_steps])
    net.spike_source("drive", n, [[(s - 1) * DT for s in steps] for steps in post_steps])
    # a copy of IF_curr_exp under another name, so no PyNN sign rule: its inhibitory current only
    # shows when the plastic weights arrive, and the positive weights keep the rules' closed forms
    net.population("post", n, replace(IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=0.1 * ms), name="probe"))
    net.connect("drive", "post", OneToOne(), weight=2000 * nA, name="forcing")
    net.connect("pre", "post", OneToOne(), weight=w0, delay=delay * DT, synapse=synapse,
                params=params, receptor="inh", name="plastic")
    net.record_spikes("post")
    net.record_state("post", "isyn_inh")
    return net


def run_pairs(net, backend, post_steps, n_steps):
    """Run, check the post neurons fired exactly when forced, return the weights."""
    sim = simulation(net, backend)
    sim.run(n_steps * DT)
    assert_forced_spikes(sim, post_steps)
    return sim.get("plastic", "w"), sim


def assert_forced_spikes(sim, post_steps):
    spikes = sim.result().spikes["post"]
    got = sorted(zip(np.rint(spikes.times / DT).astype(int).tolist(), spikes.ids.tolist()))
    want = sorted((int(s), k) for k, steps in enumerate(post_steps) for s in steps)
    assert got == want, "post neurons must fire exactly at the forced steps"


LAGS = [-40, -12, -3, -1, 0, 1, 2, 7, 25, 60]    # post step minus pre step


# ---------------------------------------------------------------- pair STDP
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("delay", [1, 4])
def test_pair_stdp_closed_form_over_lags(backend, delay):
    tau_plus, tau_minus, A_plus, A_minus, w0 = 2e-3, 3e-3, 0.1e-9, 0.12e-9, 0.5e-9
    pre = [[100] for _ in LAGS]
    post = [[100 + L] for L in LAGS]
    syn = stdp(tau_plus=2 * ms, tau_minus=3 * ms, A_plus=0.1 * nA, A_minus=0.12 * nA, w_max=1 * nA)
    w, sim = run_pairs(pairing_network(pre, post, syn, delay=delay, w0=0.5 * nA), backend, post, 200)
    # the delay postpones the current only: it reaches the post neurons at step
    # 100 + delay, the record of the next step's start
    isyn = sim.result().traces["post.isyn_inh"].values
    first = np.argmax(isyn != 0, axis=0)
    np.testing.assert_array_equal(first, 101 + delay)
    L = np.asarray(LAGS, float)
    expected = np.where(L >= 0, w0 + A_plus * np.exp(-L * DT / tau_plus),
                        w0 - A_minus * np.exp(L * DT / tau_minus))
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=0)
    # lag 0 potentiates by the full A_plus; lag -1 depresses by nearly the full A_minus
    assert w[LAGS.index(0)] == pytest.approx(w0 + A_plus, rel=1e-14)
    assert w[LAGS.index(-1)] < w0 - 0.9 * A_minus


@pytest.mark.parametrize("backend", BACKENDS)
def test_pair_stdp_clips_at_bounds(backend):
    # synapse 0: potentiation beyond w_max; 1: depression below w_min; 2, 3: within bounds
    lags = [1, -1, 1, -1]
    w0 = np.array([0.95, 0.15, 0.5, 0.5]) * 1e-9
    pre, post = [[100] for _ in lags], [[100 + L] for L in lags]
    syn = stdp(tau_plus=2 * ms, tau_minus=2 * ms, A_plus=0.3e-9, A_minus=0.3e-9, w_min=0.1e-9, w_max=1e-9)
    w, _ = run_pairs(pairing_network(pre, post, syn, w0=w0), backend, post, 200)
    assert w[0] == 1e-9 and w[1] == 0.1e-9
    np.testing.assert_allclose(w[2:], [0.5e-9 + 0.3e-9 * np.exp(-0.05), 0.5e-9 - 0.3e-9 * np.exp(-0.05)],
                               rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stdp_scaled_by_w_max(backend):
    """sPyNNaker's convention: A is a fraction of w_max."""
    lags = [0, 5, -1, -8]
    pre, post = [[100] for _ in lags], [[100 + L] for L in lags]
    syn = stdp(scale_by_w_max=True, tau_plus=2 * ms, tau_minus=4 * ms, A_plus=0.1, A_minus=0.05,
               w_max=2 * nA)
    w, _ = run_pairs(pairing_network(pre, post, syn, w0=1 * nA, delay=3), backend, post, 200)
    L = np.asarray(lags, float)
    expected = np.where(L >= 0, 1e-9 + 0.1 * 2e-9 * np.exp(-L * DT / 2e-3),
                        1e-9 - 0.05 * 2e-9 * np.exp(L * DT / 4e-3))
    np.testing.assert_allclose(w, expected, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_multiplicative_stdp(backend):
    """Potentiation scales with (w_max - w), depression with (w - w_min)."""
    lags = [0, 3, 3, -2, -2, -6]
    w0 = np.array([0.3, 0.3, 0.8, 0.3, 0.8, 0.5]) * 1e-9
    w_min, w_max = 0.1e-9, 1e-9
    pre, post = [[100] for _ in lags], [[100 + L] for L in lags]
    syn = stdp("multiplicative", tau_plus=2 * ms, tau_minus=3 * ms, A_plus=0.2, A_minus=0.4,
               w_min=0.1 * nA, w_max=1 * nA)
    w, _ = run_pairs(pairing_network(pre, post, syn, w0=w0, delay=2), backend, post, 200)
    L = np.asarray(lags, float)
    expected = np.where(L >= 0, w0 + 0.2 * np.exp(-L * DT / 2e-3) * (w_max - w0),
                        w0 - 0.4 * np.exp(L * DT / 3e-3) * (w0 - w_min))
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    # same lag, larger weight: smaller potentiation and larger depression
    assert w[2] - w0[2] < w[1] - w0[1]
    assert w0[4] - w[4] > w0[3] - w[3]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_all_to_all_versus_nearest_pairing(backend, pairing):
    """Synapse 0: two pre spikes, then one post; synapse 1: two posts, then one pre."""
    tau_p, tau_m, Ap, Am, w0 = 2e-3, 3e-3, 0.1e-9, 0.12e-9, 0.5e-9
    pre = [[90, 96], [150]]
    post = [[100], [100, 130]]
    syn = stdp(pairing=pairing, tau_plus=2 * ms, tau_minus=3 * ms, A_plus=0.1 * nA,
               A_minus=0.12 * nA, w_max=1 * nA)
    w, _ = run_pairs(pairing_network(pre, post, syn, w0=0.5 * nA, delay=5), backend, post, 250)
    ltp = [np.exp(-(100 - 90) * DT / tau_p), np.exp(-(100 - 96) * DT / tau_p)]
    ltd = [np.exp(-(150 - 100) * DT / tau_m), np.exp(-(150 - 130) * DT / tau_m)]
    if pairing == "all":
        expected = [w0 + Ap * sum(ltp), w0 - Am * sum(ltd)]
    else:
        expected = [w0 + Ap * ltp[1], w0 - Am * ltd[1]]
    np.testing.assert_allclose(w, expected, rtol=1e-12)


def test_stdp_rejects_bad_options():
    with pytest.raises(ModelError, match="weight_dependence"):
        stdp("quadratic")
    with pytest.raises(ModelError, match="pairing"):
        stdp(pairing="first")
    with pytest.raises(ModelError, match="scale_by_w_max"):
        stdp("multiplicative", scale_by_w_max=True)
    with pytest.raises(ModelError, match="pairing"):
        triplet_stdp(pairing="first")


# ---------------------------------------------------------------- triplet STDP
TRIPLET = dict(tau_plus=2 * ms, tau_minus=3 * ms, tau_x=5 * ms, tau_y=7 * ms, A2_plus=0.05 * nA,
               A3_plus=0.2 * nA, A2_minus=0.07 * nA, A3_minus=0.1 * nA, w_max=2 * nA)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_triplet_closed_form(backend, pairing):
    """Synapse 0: pre, then three posts (triplet potentiation through o2);
    synapse 1: one post, then three pres (triplet depression through r2)."""
    tp, tm, tx, ty = 2e-3, 3e-3, 5e-3, 7e-3
    A2p, A3p, A2m, A3m, w0 = 0.05e-9, 0.2e-9, 0.07e-9, 0.1e-9, 1e-9
    a = 100                                  # synapse 0's pre spike
    p = [104, 130, 160]                      # its posts
    q = 100                                  # synapse 1's post
    b = [103, 120, 135]                      # its pre spikes
    pre, post = [[a], b], [p, [q]]
    w, _ = run_pairs(pairing_network(pre, post, triplet_stdp(pairing, **TRIPLET), w0=1 * nA, delay=3),
                     backend, post, 250)

    def decay(steps, tau):
        return np.exp(-steps * DT / tau)

    def slow(times, now, tau):             # the o2 / r2 trace just before ``now``
        if not times:
            return 0.0
        if pairing == "nearest":
            return decay(now - times[-1], tau)
        return sum(decay(now - t, tau) for t in times)

    w_pot = w0 + sum(decay(pk - a, tp) * (A2p + A3p * slow(p[:k], pk, ty)) for k, pk in enumerate(p))
    w_dep = w0 - sum(decay(bk - q, tm) * (A2m + A3m * slow(b[:k], bk, tx)) for k, bk in enumerate(b))
    np.testing.assert_allclose(w, [w_pot, w_dep], rtol=1e-12)


def _random_trains(rng, n, rate, duration):
    return [np.unique(np.rint(np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) / DT)) * DT
            for _ in range(n)]


def test_triplet_random_trains_identical_on_both_backends():
    rng = np.random.default_rng(7)
    net = Network(dt=DT, seed=7)
    net.spike_source("inp", 40, _random_trains(rng, 40, 30.0, 0.5))
    net.population("cells", 8, IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=2 * ms),
                   init={"v": Uniform(-65 * mV, -55 * mV)})
    net.connect("inp", "cells", AllToAll(), weight=Uniform(0.5 * nA, 2.5 * nA),
                delay=0.3 * ms, name="plastic",
                synapse=triplet_stdp(tau_plus=16.8 * ms, tau_minus=33.7 * ms, A2_plus=0.05 * nA,
                                     A3_plus=0.1 * nA, A2_minus=0.07 * nA, A3_minus=0.02 * nA,
                                     w_max=3 * nA))
    net.record_spikes("cells")
    sims = {b: simulation(net, b) for b in BACKENDS}
    w_init = sims["numba"].get("plastic", "w")
    for sim in sims.values():
        sim.run(0.5)
    a, b = (sims[k] for k in BACKENDS)
    assert a.result().spikes["cells"].count() > 20
    assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))
    for var in ("r1", "r2", "o1", "o2"):
        assert_same_state(a.get("plastic", var), b.get("plastic", var), err_msg=var)
    np.testing.assert_array_equal(a.result().spikes["cells"].times, b.result().spikes["cells"].times)
    assert np.count_nonzero(a.get("plastic", "w") != w_init) > 0.9 * w_init.size


# ---------------------------------------------------------------- Diehl and Cook
def diehl_cook_network(seed=3):
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    net.spike_source("inp", 50, _random_trains(rng, 50, 25.0, 0.4))
    net.population("exc", 6, IF_cond_exp(adaptive=True, tau_refrac=2 * ms, delta_vt=2 * mV,
                                         tau_vt=100 * ms))
    net.connect("inp", "exc", AllToAll(), weight=Uniform(1 * nS, 6 * nS), name="plastic",
                synapse=diehl_cook_stdp(nu_pre=0.05 * nS, nu_post=0.5 * nS, w_max=10 * nS))
    net.record_spikes("exc")
    return net


def test_diehl_cook_identical_and_normalisation():
    sims = {b: simulation(diehl_cook_network(), b) for b in BACKENDS}
    w0 = sims["numba"].get("plastic", "w")
    for sim in sims.values():
        sim.run(0.2)
    a, b = (sims[k] for k in BACKENDS)
    n_spikes = a.result().spikes["exc"].count()
    assert n_spikes > 10, "the adaptive neurons should fire"
    np.testing.assert_array_equal(a.result().spikes["exc"].times, b.result().spikes["exc"].times)
    np.testing.assert_array_equal(a.result().spikes["exc"].ids, b.result().spikes["exc"].ids)
    assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))
    assert_same_state(a.get("exc", "vt"), b.get("exc", "vt"))
    assert np.all(a.get("exc", "vt") > -50e-3), "the adaptive threshold has risen above v_thresh"
    changed = a.get("plastic", "w") != w0
    assert changed.sum() > 0.5 * w0.size
    assert np.all((a.get("plastic", "w") >= 0) & (a.get("plastic", "w") <= 10e-9))

    total = 150e-9
    post = a.built_projection("plastic").j
    for sim in sims.values():
        before = sim.get("plastic", "w")
        normalize_weights(sim, "plastic", total)
        after = sim.get("plastic", "w")
        np.testing.assert_allclose(np.bincount(post, weights=after), np.full(6, total), rtol=1e-12)
        # a per-post scaling: ratios within each post neuron are kept
        for j in range(6):
            sel = post == j
            np.testing.assert_allclose(after[sel] / after[sel].sum(), before[sel] / before[sel].sum(),
                                       rtol=1e-12)
    assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))
    for sim in sims.values():
        sim.run(0.2)
    assert a.result().spikes["exc"].count() > n_spikes
    np.testing.assert_array_equal(a.result().spikes["exc"].times, b.result().spikes["exc"].times)
    assert_same_state(a.get("plastic", "w"), b.get("plastic", "w"))


def test_normalize_weights_leaves_posts_without_weight_alone():
    net = Network(dt=DT)
    net.spike_source("inp", 3, [[], [], []])
    net.population("out", 3, IF_curr_exp())
    net.connect("inp", "out", AllToAll(), weight=np.array([1, 2, 0, 3, 4, 0, 5, 6, 0]) * 1e-9,
                synapse=stdp(w_max=10 * nA, A_plus=0.1 * nA, A_minus=0.1 * nA), name="plastic")
    sim = simulation(net, "numba")
    normalize_weights(sim, "plastic", 1e-9)
    w = sim.get("plastic", "w").reshape(3, 3)     # rows: pre, columns: post
    np.testing.assert_allclose(w[:, 0], np.array([1, 3, 5]) / 9 * 1e-9, rtol=1e-12)
    np.testing.assert_allclose(w[:, 1], np.array([2, 4, 6]) / 12 * 1e-9, rtol=1e-12)
    np.testing.assert_array_equal(w[:, 2], 0.0)


# ---------------------------------------------------------------- rate rules
RATE_DT = 1e-3


def rate_network(rule, n_pre=4, n_post=3, drive=(0.2, 0.5, 0.9, 0.4), w0=None, seed=2):
    net = Network(dt=RATE_DT, seed=seed)
    net.population("x", n_pre, RateUnit(tau=5 * ms), params={"i_offset": np.asarray(drive, float)})
    net.population("y", n_post, RateUnit(tau=8 * ms))
    net.connect("x", "y", AllToAll(), receptor="input", synapse=rule, name="rate",
                weight=Uniform(0.05, 0.5) if w0 is None else w0)
    return net


@pytest.mark.parametrize("rule", ["hebbian", "anti_hebbian", "oja"])
def test_rate_rules_identical_trajectories(rule):
    make = {"hebbian": lambda: hebbian(eta=2.0), "anti_hebbian": lambda: anti_hebbian(eta=1.0),
            "oja": lambda: oja(eta=5.0, alpha=2.0)}[rule]
    sims = {b: simulation(rate_network(make()), b) for b in BACKENDS}
    w0 = sims["numba"].get("rate", "w")
    traj = {b: [] for b in BACKENDS}
    for _ in range(8):
        for b, sim in sims.items():
            sim.run(0.025)
            traj[b].append((sim.get("rate", "w"), sim.get("y", "r"), sim.get("y", "I")))
    for (wa, ra, ia), (wb, rb, ib) in zip(traj["numba"], traj["brian2-numpy"]):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ia, ib)
    w_end = traj["numba"][-1][0]
    assert np.all(traj["numba"][-1][1] > 0), "the post units are active"
    if rule == "hebbian":
        assert np.all(w_end > w0)
    elif rule == "anti_hebbian":
        assert np.all(w_end < w0)
    else:
        assert not np.allclose(w_end, w0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_summed_delivery_is_w_transpose_r(backend):
    sim = simulation(rate_network(hebbian(eta=0.5)), backend)
    sim.run(0.05)
    proj = sim.built_projection("rate")
    w, r = sim.get("rate", "w"), sim.get("x", "r")
    sim.run(RATE_DT)            # the sum is taken at the start of the step
    expected = np.zeros(3)
    for s in range(proj.i.size):       # in synapse order, as both backends add
        expected[proj.j[s]] += w[s] * r[proj.i[s]]
    np.testing.assert_array_equal(sim.get("y", "I"), expected)
    W = np.zeros((4, 3))
    W[proj.i, proj.j] = w
    np.testing.assert_allclose(sim.get("y", "I"), W.T @ r, rtol=1e-14)
    assert np.all(expected > 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_oja_converges_to_principal_direction_with_norm_one_over_sqrt_alpha(backend):
    """Constant input x: Oja's fixed point is w = x/|x| / sqrt(alpha)."""
    alpha = 4.0
    x = np.array([0.3, 0.6, 0.2, 0.7])
    net = rate_network(oja(eta=20.0, alpha=alpha), n_post=1, drive=x, w0=Uniform(0.0, 0.3))
    sim = simulation(net, backend)
    norms = []
    for _ in range(4):
        sim.run(0.5)
        norms.append(np.linalg.norm(sim.get("rate", "w")))
    w = sim.get("rate", "w")
    assert norms[-1] == pytest.approx(1 / np.sqrt(alpha), rel=1e-3)
    assert abs(norms[-1] - norms[-2]) < 1e-4
    assert np.dot(w, x) / (np.linalg.norm(w) * np.linalg.norm(x)) > 0.9999
    # the post unit relays its input: r -> w . x
    assert sim.get("y", "r")[0] == pytest.approx(np.dot(w, x), rel=1e-3)


def subspace_network(H0, r, eta=4.0):
    """Oja's subspace rule from constant rates ``r`` (RateUnits) onto linear units y: H0 (m, n)."""
    m, n = H0.shape
    net = Network(dt=RATE_DT, seed=1)
    net.population("x", n, NeuronModel("dr/dt = (r0 - r)/(5*ms) : 1\nr0 : 1\nxhat : 1"),
                   init={"r": 0.0}, params={"r0": r})
    net.population("y", m, NeuronModel("y : 1", receptors={"input": "y"}))
    net.connect("x", "y", AllToAll(), weight=H0.T.ravel(), receptor="input", synapse=oja_subspace(eta=eta),
                name="H")
    return net


def test_oja_subspace_sums_y_then_the_reconstruction_onto_the_presynaptic_side_on_every_backend():
    rng = np.random.default_rng(4)
    H0, r = rng.normal(0, 0.4, (2, 5)), rng.uniform(0.2, 1.0, 5)
    sims = {b: simulation(subspace_network(H0, r), b, **({"dtype": "float64"} if b == "torch" else {}))
            for b in ["numba", "brian2-numpy", "torch"]}
    for sim in sims.values():
        sim.run(0.05)
    a = sims["numba"]
    W = np.zeros((2, 5))
    proj = a.built_projection("H")
    W[proj.j, proj.i] = a.get("H", "w")
    # y and xhat are the sums of the step's start, from the rates before this step's update
    for b, sim in sims.items():
        assert_same_state(sim.get("H", "w"), a.get("H", "w"), rtol=1e-12, err_msg=b)
        assert_same_state(sim.get("x", "xhat"), a.get("x", "xhat"), rtol=1e-12, err_msg=b)
    sim = sims["numba"]
    r_before, w_before = sim.get("x", "r"), W.copy()
    sim.run(RATE_DT)
    y = w_before @ r_before
    np.testing.assert_allclose(sim.get("y", "y"), y, rtol=1e-12)
    np.testing.assert_allclose(sim.get("x", "xhat"), w_before.T @ y, rtol=1e-12)
    assert not np.allclose(sim.get("H", "w"), H0.T.ravel())


def test_oja_subspace_rows_become_an_orthonormal_basis_of_the_input_span():
    """Inputs alternating between two patterns: H converges to an orthonormal basis of their span
    (numba; the backends agree step for step above)."""
    rng = np.random.default_rng(5)
    H0 = np.linalg.qr(rng.normal(size=(6, 2)))[0].T
    net = subspace_network(H0, rng.uniform(0.2, 1.0, 6), eta=10.0)
    sim = simulation(net, "numba")
    patterns = rng.uniform(0.0, 1.0, (2, 6))
    for k in range(120):
        sim.set("x", "r0", patterns[k % 2])
        sim.run(0.04)
    proj = sim.built_projection("H")
    H = np.zeros((2, 6))
    H[proj.j, proj.i] = sim.get("H", "w")
    np.testing.assert_allclose(H @ H.T, np.eye(2), atol=0.05)
    # the patterns lie in the row space of H: projecting them onto it keeps them
    residual = patterns - patterns @ H.T @ H
    assert np.linalg.norm(residual, axis=1).max() < 0.05 * np.linalg.norm(patterns, axis=1).min()
    # from a start far from it
    assert np.linalg.norm(patterns - patterns @ H0.T @ H0, axis=1).min() > 0.3


def test_oja_subspace_refuses_names_that_are_not_variables():
    with pytest.raises(ModelError, match="reconstruction must be a variable name"):
        oja_subspace(reconstruction="x hat")
    with pytest.raises(ModelError, match="rate, output, reconstruction must be different variables, got "
                                         "rate='r', output='y', reconstruction='r'"):
        oja_subspace(reconstruction="r")
    with pytest.raises(ModelError, match="hebbian: target must be a variable name"):
        hebbian(target="I post")


# ---------------------------------------------------------------- a plastic network
def plastic_network(seed=11, n=30, n_in=20, duration=0.2, synapse=None, max_plastic_delay=15):
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    net.spike_source("inp", n_in, _random_trains(rng, n_in, 40.0, duration))
    net.population("cells", n, IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=3 * ms, tau_syn_I=5 * ms),
                   init={"v": Normal(-60 * mV, 3 * mV)})
    net.connect("inp", "cells", FixedProbability(0.4), weight=Normal(1.5 * nA, 0.4 * nA),
                delay=0.2 * ms, name="feed")
    net.connect("cells", "cells", FixedProbability(0.25, allow_self=False),
                weight=Uniform(0.1 * nA, 1.0 * nA), name="plastic",
                synapse=synapse or stdp(tau_plus=10 * ms, tau_minus=12 * ms, A_plus=0.05 * nA,
                                        A_minus=0.06 * nA, w_max=1.5 * nA))
    net.connect("cells", "cells", FixedProbability(0.1, allow_self=False),
                weight=-0.5 * nA, receptor="inh", name="inh")
    counts = {p.name: p.i.size for p in net.build().projections}
    net.projections[1].delay = rng.integers(1, max_plastic_delay + 1, counts["plastic"]) * DT
    net.projections[2].delay = rng.integers(1, 6, counts["inh"]) * DT
    net.record_spikes("cells")
    return net


def _plastic_trajectory(backend, chunks=5, chunk=0.04, **network):
    sim = simulation(plastic_network(**network), backend)
    ws = [sim.get("plastic", "w")]
    for _ in range(chunks):
        sim.run(chunk)
        ws.append(sim.get("plastic", "w"))
    return sim, ws


def _assert_same_trajectories(a, wa, b, wb):
    """Identical spike trains, the same weights after every chunk, and weights that learned."""
    sa, sb = a.result().spikes["cells"], b.result().spikes["cells"]
    assert sa.count() > 100
    np.testing.assert_array_equal(sa.times, sb.times)
    np.testing.assert_array_equal(sa.ids, sb.ids)
    for k, (x, y) in enumerate(zip(wa, wb)):
        assert_same_state(x, y, err_msg=f"weights after chunk {k}")
    assert np.count_nonzero(wa[-1] != wa[0]) > 0.5 * wa[0].size


def test_plastic_network_identical_weight_trajectories():
    a, wa = _plastic_trajectory("numba")
    b, wb = _plastic_trajectory("brian2-numpy")
    _assert_same_trajectories(a, wa, b, wb)
    assert len({d for d in a.built_projection("plastic").delay}) > 10


def test_plastic_network_bit_identical_on_brian2_cython():
    """libm's exp on both sides: weights and traces identical bit for bit."""
    a, wa = _plastic_trajectory("numba", chunks=2)
    b, wb = _plastic_trajectory("brian2-cython", chunks=2)
    np.testing.assert_array_equal(a.result().spikes["cells"].times, b.result().spikes["cells"].times)
    np.testing.assert_array_equal(a.result().spikes["cells"].ids, b.result().spikes["cells"].ids)
    for k, (x, y) in enumerate(zip(wa, wb)):
        np.testing.assert_array_equal(x, y, err_msg=f"weights after chunk {k}")
    for var in ("apre", "apost"):
        np.testing.assert_array_equal(a.get("plastic", var), b.get("plastic", var))


# ---------------------------------------------------------------- sPyNNaker's deferred STDP
# spinnaker_stdp: tau+ 30 steps, tau- 40 steps, a pair moves the weight by up to
# A+ w_max or A- w_max. Lags are p + 1 - s (post step p, pre step s). Weights stay
# small enough not to make the post neurons fire (the tests check).
W_MAX = 0.25e-9
SPINN = dict(tau_plus=3 * ms, tau_minus=4 * ms, A_plus=0.1, A_minus=0.15, w_min=0 * nA, w_max=W_MAX)
TP, TM, AP, AM = 30.0, 40.0, 0.1 * W_MAX, 0.15 * W_MAX


@pytest.mark.parametrize("backend", BACKENDS)
def test_spinnaker_stdp_closed_form(backend):
    pre = [[100, 160],      # 0: two posts between two pres: their sum, applied at the second pre
           [100, 125],      # 1: potentiation clipped at w_max, then the depression
           [100, 160],      # 2: depression below w_min
           [100, 150],      # 3: a post one step before the pre (lag 0) depresses fully
           [100, 140],      # 4: a post in the same step as the pre potentiates
           [100],           # 5: a post after the last pre waits
           [100, 150]]      # 6: a post before the first pre depresses at both pres
    post = [[103, 130], [100, 122], [140], [120, 149], [100], [110], [80]]
    w0 = np.array([0.5, 0.95, 0.05, 0.5, 0.5, 0.5, 0.5]) * W_MAX
    net = pairing_network(pre, post, spinnaker_stdp(**SPINN), w0=w0)
    sim = simulation(net, backend)
    sim.run(124 * DT)
    w_before = sim.get("plastic", "w")
    sim.run(76 * DT)
    w, pending = sim.get("plastic", "w"), sim.get("plastic", "pending")
    assert_forced_spikes(sim, post)

    def e(steps, tau):
        return np.exp(-steps / tau)

    expected = [
        w0[0] + AP * (e(104 - 100, TP) + e(131 - 100, TP)) - AM * (e(159 - 130, TM) + e(159 - 103, TM)),
        W_MAX - AM * (1 + e(122 - 100, TM)) * e(124 - 122, TM),
        0.0,
        w0[3] + AP * (e(121 - 100, TP) + e(150 - 100, TP)) - AM * (1 + e(149 - 120, TM)),
        w0[4] + AP * e(101 - 100, TP) - AM * e(139 - 100, TM),
        w0[5],
        w0[6] - AM * (e(99 - 80, TM) + e(149 - 80, TM)),
    ]
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=0)
    assert w0[1] + AP * (e(1, TP) + e(23, TP)) > W_MAX, "synapse 1 must reach w_max before the depression"
    assert w0[2] + AP * e(41, TP) - AM * e(19, TM) < 0, "synapse 2 must fall below w_min"
    # weights change at presynaptic spikes only: by step 124 only synapse 6 (post
    # before its first pre) has changed, although most posts have fired
    np.testing.assert_array_equal(w_before[:6], w0[:6])
    assert w_before[6] == pytest.approx(w0[6] - AM * e(19, TM), rel=1e-12)
    np.testing.assert_allclose(pending, [0, 0, 0, 0, 0, e(111 - 100, TP), 0], rtol=1e-12, atol=0)
    # each pre spike is delivered (one step later) with the weight it has just set
    isyn = sim.result().traces["post.isyn_inh"].values
    decay = np.exp(-DT / 5e-3)                   # IF_curr_exp's default tau_syn_I
    np.testing.assert_allclose(isyn[162, 0] / decay - isyn[161, 0], w[0], rtol=1e-9)
    np.testing.assert_allclose(isyn[102, 0] / decay - isyn[101, 0], w0[0], rtol=1e-9)


def spinnaker_reference(pre, post, w, n_steps, w_min=0.0, w_max=W_MAX):
    """sPyNNaker's algorithm transcribed (synapse_dynamics_stdp_mad_impl.c with
    post_events.h, timing_pair_impl.h, weight_additive_one_term_impl.h): at each
    pre spike, the post events in the window (last pre - 1, this pre - 1] with
    the previous pre trace, then the depression of the last post event if its
    delayed time is at or before this pre spike (lag 0: exp(0)); the
    potentiation clipped at w_max, then the depression at w_min."""
    last_pre, r = 0, 0.0                   # sPyNNaker's initial pre history
    posts, o = [], []                      # post event times and their traces
    for s in [s for s in pre if s < n_steps]:
        for p in post:
            if p <= s - 1 and p not in posts:
                o.append(1.0 + (o[-1] * np.exp(-(p - posts[-1]) / TM) if posts else 0.0))
                posts.append(p)
        window = [p for p in posts if last_pre - 1 < p <= s - 1]
        potentiation = sum(r * np.exp(-(p + 1 - last_pre) / TP) for p in window)
        depression = o[-1] * np.exp(-(s - 1 - posts[-1]) / TM) if posts else 0.0
        w = max(min(w + AP * potentiation, w_max) - AM * depression, w_min)
        r, last_pre = r * np.exp(-(s - last_pre) / TP) + 1.0, s
    return w


@pytest.mark.parametrize("backend", BACKENDS)
def test_spinnaker_stdp_matches_the_transcribed_algorithm_on_random_trains(backend):
    rng = np.random.default_rng(5)
    n, n_steps = 24, 1500
    pre = [sorted(rng.choice(np.arange(10, n_steps - 10), rng.integers(5, 40), replace=False).tolist())
           for _ in range(n)]
    post = [np.cumsum(rng.integers(21, 120, 12)).tolist() for _ in range(n)]   # refractory: >= 21 apart
    post = [[p for p in steps if p < n_steps - 5] for steps in post]
    w0 = rng.uniform(0.1, 0.9, n) * W_MAX
    w, _ = run_pairs(pairing_network(pre, post, spinnaker_stdp(**SPINN), w0=w0), backend, post, n_steps)
    expected = [spinnaker_reference(a, b, w_init, n_steps) for a, b, w_init in zip(pre, post, w0)]
    np.testing.assert_allclose(w, expected, rtol=1e-11, atol=1e-22)
    assert np.count_nonzero(w != w0) == n and 0 < np.count_nonzero(w == 0) < n   # some clipped


def test_spinnaker_stdp_network_identical_on_both_backends():
    syn = spinnaker_stdp(tau_plus=10 * ms, tau_minus=12 * ms, A_plus=0.03, A_minus=0.04, w_max=1.5 * nA)
    (a, wa), (b, wb) = (_plastic_trajectory(backend, chunks=4, chunk=0.05, synapse=syn, max_plastic_delay=1)
                        for backend in BACKENDS)
    _assert_same_trajectories(a, wa, b, wb)
    for var in ("apre", "apost", "pending"):
        assert_same_state(a.get("plastic", var), b.get("plastic", var), err_msg=var)


@pytest.mark.parametrize("backend", BACKENDS)
def test_spinnaker_stdp_two_state_settles_every_update_to_a_bound(backend):
    """binary_threshold 0.5: after every update (at each pre spike) the weight
    becomes w_max if it is at least half the range, else w_min; partial
    updates do not add up across pre spikes."""
    pre = [[100, 160, 220], [100, 160], [100, 125]]
    post = [[103, 163], [140], [100, 122]]
    w0 = np.array([0.3, 0.7, 0.5]) * W_MAX
    net = pairing_network(pre, post, spinnaker_stdp(**SPINN, binary_threshold=0.5), w0=w0)
    w, _ = run_pairs(net, backend, post, 240)

    def e(steps, tau):
        return np.exp(-steps / tau)

    # 0: 0.3 settles to 0 at the first pre; each later pre adds AP e(-4/30) ~ 0.09 w_max: still 0
    # (the analog rule would have reached 0.3 + 2 x 0.09 = 0.48, then 0.57 with a third pairing)
    assert AP * e(4, TP) < 0.5 * W_MAX and w[0] == 0.0
    # 1: 0.7 settles to w_max; the depression AM e(-19/40) ~ 0.09 w_max leaves it above half: w_max
    assert w[1] == W_MAX
    # 2: 0.5 settles to w_max; at 125 the potentiation is clipped at w_max, the depression
    # AM (1 + e(-22/40)) e(-2/40) ~ 0.22 w_max leaves 0.78: w_max (the analog rule: 0.42, lost)
    assert W_MAX - AM * (1 + e(22, TM)) * e(2, TM) >= 0.5 * W_MAX and w[2] == W_MAX
    assert spinnaker_reference(pre[2], post[2], w0[2], 240) < 0.5 * W_MAX


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5])
def test_spinnaker_stdp_refuses_a_threshold_outside_the_range(threshold):
    with pytest.raises(ModelError, match="binary_threshold"):
        spinnaker_stdp(binary_threshold=threshold)


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy"])
def test_normalize_weights_on_a_projection_without_synapses_changes_nothing(backend):
    net = Network(dt=DT)
    net.spike_source("inp", 3, [[], [], []])
    net.population("out", 3, IF_curr_exp())
    net.connect("inp", "out", FixedProbability(0.0), weight=1 * nA,
                synapse=stdp(w_max=10 * nA, A_plus=0.1 * nA, A_minus=0.1 * nA), name="plastic")
    sim = simulation(net, backend)
    normalize_weights(sim, "plastic", 1e-9)
    assert sim.get("plastic", "w").size == 0
    sim.run(10 * DT)
