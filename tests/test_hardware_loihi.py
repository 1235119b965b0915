"""The Loihi target (spikemem.hardware.loihi): constraints, fixed-point formats,
the emulator bit for bit against brian2-loihi, resources, NIR export, CA3."""
import os

import nir
import numpy as np
import pytest
from brian2 import mV, ms, nA, nF

from spikemem.analysis import spike_set
from spikemem.backends import simulate, simulation
from spikemem.connectors import AllToAll, FromList
from spikemem.errors import ModelError
from spikemem.hardware import loihi
from spikemem.hardware.target import compare_spikes
from spikemem.models.cuba import cuba_curr_exp
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.plasticity import stdp, triplet_stdp

STEPS = 300


def _cell(rng=None, **over):
    p = dict(cm=1 * nF, tau_m=12 * ms, tau_syn_E=3 * ms, tau_syn_I=3 * ms, tau_refrac=2 * ms,
             v_rest=-65 * mV, v_reset=-65 * mV, v_thresh=-55 * mV)
    if rng is not None:
        tau_s = float(rng.uniform(2, 6)) * ms
        p.update(tau_m=float(rng.uniform(8, 25)) * ms, tau_syn_E=tau_s, tau_syn_I=tau_s,
                 tau_refrac=float(rng.integers(1, 5)) * ms)
    p.update(over)
    return IF_curr_exp(**p)


def random_network(seed, plastic=False):
    """Recurrent exc + inh with spike-array inputs, random weights and delays of 1..5 steps."""
    rng = np.random.default_rng(seed)
    n_in, n_e, n_i = 20, int(rng.integers(20, 44)), int(rng.integers(6, 16))
    net = Network(dt=1 * ms, seed=seed)
    net.spike_source("inp", n_in, [np.sort(rng.choice(STEPS - 10, int(rng.integers(5, 25)), replace=False)) * 1e-3
                                   for _ in range(n_in)])
    net.population("exc", n_e, _cell(rng))
    net.population("inh", n_i, _cell(rng))

    def rows(n_pre, n_post, p, w_lo, w_hi, d_max):
        return FromList([(i, j, rng.uniform(w_lo, w_hi) * 1e-9, int(rng.integers(1, d_max + 1)) * 1e-3)
                         for i in range(n_pre) for j in range(n_post) if rng.random() < p])
    net.connect("inp", "exc", rows(n_in, n_e, 0.3, 0.3, 1.4, 4), name="in_exc")
    net.connect("inp", "inh", rows(n_in, n_i, 0.2, 0.3, 1.2, 3), name="in_inh")
    net.connect("exc", "exc", rows(n_e, n_e, 0.1, 0.05, 0.5, 5), name="ee")
    net.connect("exc", "inh", rows(n_e, n_i, 0.3, 0.1, 0.5, 3), name="ei")
    net.connect("inh", "exc", rows(n_i, n_e, 0.3, -0.4, -0.05, 4), receptor="inh", name="ie")
    net.connect("inh", "inh", rows(n_i, n_i, 0.2, -0.3, -0.05, 2), receptor="inh", name="ii")
    if plastic:
        net.connect("inp", "exc", FromList([(i, j) for i in range(n_in) for j in range(n_e) if rng.random() < 0.3]),
                    weight=0.5 * nA, name="plastic",
                    synapse=stdp(tau_plus=4 * ms, tau_minus=4 * ms, A_plus=0.2 * nA, A_minus=0.25 * nA,
                                 w_min=0 * nA, w_max=1 * nA))
    for p in ("inp", "exc", "inh"):
        net.record_spikes(p)
    return net


def _pairs(steps_ids):
    steps, ids = steps_ids
    return sorted(zip(np.asarray(steps).tolist(), np.asarray(ids).tolist()))


# ----------------------------------------------------------------- check
def bad_network():
    net = Network(dt=1 * ms)
    net.spike_source("src", 4, [[0.002], [0.003], [], [0.004]])
    net.population("izh", 3, Izhikevich())
    net.population("reset_high", 3, _cell(v_reset=-50 * mV))                # above v_thresh
    net.population("two_taus", 3, _cell(tau_syn_I=8 * ms))
    net.population("long_refractory", 3, _cell(tau_refrac=100 * ms))
    net.population("ok", 3, _cell())
    net.connect("src", "ok", AllToAll(), weight=1 * nA, delay=64 * ms, name="too_slow")
    net.connect("src", "ok", AllToAll(), weight=-1 * nA, name="negative_exc")
    net.connect("src", "two_taus", AllToAll(), weight=1 * nA, name="e2")
    net.connect("src", "two_taus", AllToAll(), weight=-1 * nA, receptor="inh", name="i2")
    net.connect("src", "ok", AllToAll(), weight=1 * nA, synapse=triplet_stdp(w_max=2 * nA), name="triplet")
    net.step_current("ok", 0.5 * nA, 0.01)
    net.record_state("ok", "isyn_exc")
    return net


def test_check_names_every_offender_and_refuses_before_work():
    net = bad_network()
    found = {(v.where, v.what) for v in loihi.check(net)}
    assert {("population 'izh'", "neuron model"), ("population 'reset_high'", "v_thresh - v_reset"),
            ("population 'two_taus'", "tau_syn_E != tau_syn_I"), ("projection 'too_slow'", "delay"),
            ("projection 'negative_exc'", "weight sign"), ("projection 'triplet'", "synapse model"),
            ("population 'ok'", "current input"), ("population 'ok'", "recorded variables"),
            ("population 'long_refractory'", "refractory period")} <= found
    for v in loihi.check(net):
        assert v.fix and v.limit is not None
    with pytest.raises(ModelError, match="izh") as err:
        loihi.quantize(net)
    assert "too_slow" in str(err.value) and "reset_high" in str(err.value)
    with pytest.raises(ModelError, match="too_slow"):
        simulation(net, "loihi")
    # the offenders gone, the rest maps; a reset below (or above) rest is a bias, not an offence
    good = Network(dt=1 * ms)
    good.spike_source("src", 2, [[0.001], [0.002]])
    good.population("ok", 2, _cell())
    good.population("reset_low", 2, _cell(v_reset=-70 * mV))
    good.population("rest_low", 2, _cell(v_rest=-75 * mV))
    good.connect("src", "ok", AllToAll(), weight=1 * nA, delay=63 * ms)
    assert loihi.check(good) == []
    lnet = loihi.quantize(good)
    assert not np.any(lnet.populations["ok"].bias_mant)
    assert np.all(lnet.populations["reset_low"].bias_mant > 0) and np.all(lnet.populations["rest_low"].bias_mant < 0)


def test_weights_that_vanish_or_plastic_rules_out_of_range_are_violations():
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.001], [0.002]])
    net.population("p", 2, _cell())
    net.connect("src", "p", FromList([(0, 0, 2e-9), (1, 1, 1e-14)]), name="tiny")
    assert [(v.where, v.what) for v in loihi.check(net)] == [("projection 'tiny'", "weights that quantize to 0")]
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.001], [0.002]])
    net.population("p", 2, _cell())
    net.connect("src", "p", AllToAll(), weight=0.1 * nA, name="plastic_inh", receptor="inh",
                synapse=stdp(w_min=-1 * nA, w_max=0 * nA))
    assert ("projection 'plastic_inh'", "plastic receptor") in {(v.where, v.what) for v in loihi.check(net)}


def test_a_bias_that_does_not_fit_is_a_violation():
    """A small plastic w_max raises the voltage scale (w_max is mantissa 255 at exponent 0, the
    smallest); the drive to a v_rest 11 mV above the reset at tau_m = 2 ms, dt = 1 ms (decay_v
    1612/4096: 4.3 mV per step) then overflows the 13-bit bias mantissa x 2**7."""
    def net(w_max):
        n = Network(dt=1 * ms)
        n.spike_source("src", 2, [[0.001], [0.002]])
        n.population("p", 2, _cell(tau_m=2 * ms, v_rest=-54 * mV))
        n.connect("src", "p", AllToAll(), weight=w_max / 2, name="plastic",
                  synapse=stdp(A_plus=w_max / 10, A_minus=w_max / 10, w_min=0 * nA, w_max=w_max))
        return n
    found = loihi.check(net(0.1 * nA))
    assert [(v.where, v.what) for v in found] == [("population 'p'", "bias")]
    assert "v_rest closer to v_reset" in found[0].fix and "w_max" in found[0].fix
    assert loihi.check(net(1 * nA)) == []


# ----------------------------------------------------------------- quantize
def test_quantize_uses_loihi_formats_and_reports_every_error():
    from spikemem.models.ca3_cam import ca3_network
    lnet = loihi.quantize(ca3_network())
    neurons = [p for p in lnet.populations.values() if p.kind == "neuron"]
    for pop in neurons:
        assert np.all((1 <= pop.decay_u) & (pop.decay_u <= 4096)) and np.all(pop.decay_v <= 4095)
        assert np.all((1 <= pop.vth_mant) & (pop.vth_mant < 2 ** 17)) and np.all(pop.refractory == 1)
    # the threshold distance takes 2**20 units unless the inputs need the room
    assert lnet.populations["CueCue"].vth_mant[0] == 2 ** 14
    assert lnet.populations["CueCont"].vth_mant[0] < 2 ** 10          # 8 inhibitory inputs of 60 nA
    for proj in lnet.projections:
        lo, hi = (0, 255) if proj.sign == "exc" else (-256, 0)
        assert proj.w_mant.min() >= lo and proj.w_mant.max() <= hi and 0 <= proj.w_exp <= 7
    rows = {(e.where, e.parameter): e for e in lnet.errors}
    for pop in neurons:
        for param in ("tau_m", "tau_syn", "v_thresh"):
            assert rows[(f"population '{pop.name}'", param)].rel_error < 1e-3
    for proj in lnet.projections:
        assert rows[(f"projection '{proj.name}'", "w")].rel_error < 4e-3
    assert rows[("projection 'cue_to_content'", "w_max")].rel_error < 1e-12     # the clip is exact
    assert lnet.projections[-3].learning.rule == "spinnaker_stdp"
    assert rows[("projection 'cue_to_content'", "tau_plus")].rel_error > 0.1    # 1 - 1/4 per step for 3 ms
    # CUBA at dt = 0.1 ms: the 12-bit membrane decay is 20/4096 for 20.43 ms; the rest 11 mV above
    # the reset is a bias of 20/4096 x 11 mV per step, exactly 2816 x 2**1 units at 2**20 units per 10 mV
    lnet = loihi.quantize(cuba_curr_exp(n=400, tau_syn_I=5 * ms))
    rows = {(e.where, e.parameter): e for e in lnet.errors}
    assert 0.015 < rows[("population 'exc'", "tau_m")].rel_error < 0.03
    assert rows[("projection 'exc_exc'", "w")].rel_error < 0.02
    assert rows[("population 'exc'", "bias")].rel_error < 1e-12
    assert rows[("population 'exc'", "v_rest (bias)")].rel_error < 1e-12
    exc = lnet.populations["exc"]
    assert (exc.bias_mant[0], exc.bias_exp[0], exc.vth_mant[0]) == (2816, 1, 2 ** 14)


# ----------------------------------------------------------------- brian2-loihi
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_emulator_equals_brian2_loihi_bit_for_bit(seed):
    """Spikes, v and u of every neuron in every step, and the learned weights."""
    for plastic in (False, True):
        lnet = loihi.quantize(random_network(seed, plastic))
        a = loihi.run_emulator(lnet, STEPS)
        b = loihi.run_brian2_loihi(lnet, STEPS)
        n_spikes = sum(len(a["spikes"][p][0]) for p in ("exc", "inh"))
        assert n_spikes > 200, n_spikes
        assert np.min([v.min() for v in a["v"].values()]) > -(2 ** 23 - 1)      # no saturation
        for pop in ("exc", "inh"):
            assert _pairs(a["spikes"][pop]) == _pairs(b["spikes"][pop])
            assert np.array_equal(a["v"][pop], b["v"][pop]) and a["v"][pop].shape == (STEPS, lnet.populations[pop].size)
            assert np.array_equal(a["u"][pop], b["u"][pop])
        for proj in lnet.projections:
            assert np.array_equal(a["w"][proj.name], b["w"][proj.name])
        if plastic:
            w0 = next(p for p in lnet.projections if p.name == "plastic").w_mant
            assert np.mean(a["w"]["plastic"] != w0) > 0.5        # learning moved most weights


# ----------------------------------------------------------------- reset below rest
SOURCE_STEPS = ([20, 21, 80, 150, 151, 152], [60, 100, 101, 200])


def _reset_below_rest(v_rest):
    """CUBA's cell (reset -60 mV, threshold -50 mV, refractory 5 steps) at dt = 1 ms with one
    v_rest per neuron, kicked by an excitatory and an inhibitory input."""
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("inp", 2, [np.array(s) * 1e-3 for s in SOURCE_STEPS])
    cell = IF_curr_exp(cm=1 * nF, tau_m=20 * ms, tau_syn_E=5 * ms, tau_syn_I=5 * ms, tau_refrac=5 * ms,
                       v_rest=-49 * mV, v_reset=-60 * mV, v_thresh=-50 * mV)
    net.population("p", len(v_rest), cell, params={"v_rest": np.asarray(v_rest)}, init={"v": -55 * mV})
    net.connect("inp", "p", FromList([(0, j, 3e-9) for j in range(len(v_rest))]), name="exc")
    net.connect("inp", "p", FromList([(1, j, -2e-9) for j in range(len(v_rest))]), receptor="inh", name="inh")
    net.record_spikes("p")
    net.record_state("p", "v")
    return net


def _loihi_compartments(u, v, bias, vth, refractory, decay_u, decay_v, inp):
    """Loihi 1's compartment written out from its equations (not the emulator's code): u, then v
    with the new u and the bias; the 12-bit decays truncate towards zero; after a spike v = 0 and
    a refractory counter holds v (bias included) for refractory - 1 steps."""
    def decay(x, d):
        return np.sign(x) * ((np.abs(x) * (4096 - d)) >> 12)
    hold = np.zeros_like(v)
    vs, us, spikes = [], [], []
    for t, arriving in enumerate(inp):
        u = decay(u, decay_u) + arriving
        free = hold == 0
        v = np.where(free, decay(v, decay_v) + u + bias, v)
        fire = free & (v > vth)
        v = np.where(fire, 0, v)
        hold = np.where(fire, refractory - 1, np.where(free, 0, hold - 1))
        spikes += [(t, int(i)) for i in np.flatnonzero(fire)]
        vs.append(v)
        us.append(u)
    return np.array(vs), np.array(us), spikes


def test_reset_below_rest_is_a_bias_held_while_refractory():
    """Loihi's 0 is v_reset; the leak towards v_rest is the leak towards 0 plus a bias of
    S decay_v/4096 (v_rest - v_reset) units per step. The integers follow from the float
    parameters; the recurrence above gives the emulator's v and u in every step; v, bias
    included, stays at 0 (v_reset) for 4 steps after each spike, as spikemem's float model holds
    it; and the spikes are numba's float64 spikes (here; a crossing closer to a step boundary
    than tau_m's 0.12 % error moves by one step: v_rest = -51.73 mV fires at 40, not 41)."""
    v_rest = np.array([-49.0, -51.67, -63.3]) * 1e-3     # tonic; input-driven; rest below the reset
    net = _reset_below_rest(v_rest)
    lnet = loihi.quantize(net)
    pop = lnet.populations["p"]
    S, du, dv = pop.scale, int(pop.decay_u[0]), int(pop.decay_v[0])
    bias, vth = pop.bias_mant << pop.bias_exp, int(pop.vth_mant[0]) << 6
    assert (du, dv) == (round(4096 * -np.expm1(-1 / 5)), round(4096 * -np.expm1(-1 / 20)))
    assert vth == 2 ** 20 and np.isclose(S, 2 ** 20 / 10e-3) and np.all(pop.refractory == 5)
    assert np.array_equal(pop.init_v, np.full(3, round(5e-3 * S)))
    assert np.all(np.abs(bias - S * dv / 4096 * (v_rest + 60e-3)) <= 2.0 ** pop.bias_exp / 2)
    assert bias[2] < 0 < bias[1] < bias[0]
    rows = {e.parameter: e for e in lnet.errors if e.where == "population 'p'"}
    assert 0 < rows["v_rest (bias) (largest error)"].abs_error < 2e-6      # no v_rest a whole unit: 1.25 uV
    assert 0 < rows["bias (largest error)"].rel_error < 1 / 4096     # a mantissa of at least 2048
    inp = np.zeros((STEPS, 3), np.int64)
    for proj in lnet.projections:
        assert np.all(proj.delay == 0)                                       # arrives one step later
        for t in SOURCE_STEPS[0 if proj.name == "exc" else 1]:
            inp[t + 1, proj.j] += proj.w_mant << (6 + proj.w_exp)
    v, u, spikes = _loihi_compartments(np.zeros(3, np.int64), pop.init_v.copy(), bias, vth, 5, du, dv, inp)
    em = loihi.run_emulator(lnet, STEPS)
    assert np.array_equal(em["v"]["p"], v) and np.array_equal(em["u"]["p"], u)
    assert _pairs(em["spikes"]["p"]) == spikes
    assert {i for _, i in spikes} == {0, 1, 2} and len(spikes) > 10
    for t, i in spikes:                                      # held: the bias is not integrated
        assert np.all(v[t:t + 5, i] == 0) and v[t + 5, i] != 0
    # the float model: the same spikes, v at v_reset in the same steps, the traces within 0.1 mV
    ref = simulate(net, STEPS * 1e-3, "numba", progress=False)
    got = simulate(net, STEPS * 1e-3, "loihi", progress=False)
    assert _pairs(spike_set(ref.spikes["p"], 1e-3).T) == _pairs(spike_set(got.spikes["p"], 1e-3).T) == spikes
    v_ref, v_got = ref.traces["p.v"].values, got.traces["p.v"].values
    assert np.array_equal(v_ref == -60e-3, v == 0) and np.array_equal(v_got == -60e-3, v == 0)
    assert np.max(np.abs(v_got - v_ref)) < 1e-4
    assert v_ref[-1, 2] < -60e-3 and v_got[-1, 2] < -60e-3               # settling below the reset


@pytest.mark.parametrize("dt, steps", [(1 * ms, STEPS), (0.1 * ms, 1500)])
def test_cuba_reset_below_rest_equals_brian2_loihi_with_the_bias(dt, steps):
    """The unmodified CUBA (rest -49 mV, reset -60 mV, threshold -50 mV) quantises without a
    violation; the emulator and brian2-loihi (its bias added as v += bias while not refractory)
    agree on every spike, v and u."""
    net = cuba_curr_exp(n=400, tau_syn_I=5 * ms, dt=dt)
    assert loihi.check(net) == []
    lnet = loihi.quantize(net)
    a = loihi.run_emulator(lnet, steps)
    b = loihi.run_brian2_loihi(lnet, steps)
    for pop in ("exc", "inh"):
        assert lnet.populations[pop].bias_mant[0] > 0
        assert len(a["spikes"][pop][0]) > 100
        assert _pairs(a["spikes"][pop]) == _pairs(b["spikes"][pop])
        assert np.array_equal(a["v"][pop], b["v"][pop]) and np.array_equal(a["u"][pop], b["u"][pop])
        assert np.min(a["v"][pop]) < 0 and np.max(a["v"][pop]) <= lnet.populations[pop].vth_mant[0] << 6


def test_cuba_reset_below_rest_against_float64():
    """emulate() against numba in float64 at dt = 1 ms (tau_m 19.976 ms on 12 bits). Uncoupled
    (p = 0: the bias and the leak alone), every neuron fires every 52 steps in both, and 96 % of
    the spikes are shared: 15 of 400 neurons start on a threshold crossing that the shorter tau_m
    brings one step earlier, and keep the shift. Coupled (CUBA's p = 0.02), the network is chaotic:
    such one-step shifts spread (34 % shared after 0.5 s, 8 % for n = 4000), the rates stay."""
    em = loihi.emulate(cuba_curr_exp(n=400, p=0.0, tau_syn_I=5 * ms, dt=1 * ms), 0.5)
    same = sum(d["same"] for d in em.distance.values())
    reference = sum(d["reference"] for d in em.distance.values())
    assert reference > 3500 and same / reference >= 0.95
    for pop, d in em.distance.items():
        assert d["rate_ratio"] == 1.0
        a, b = spike_set(em.reference.spikes[pop], 1e-3), spike_set(em.result.spikes[pop], 1e-3)
        for i in np.unique(a[:, 1]):
            sa, sb = a[a[:, 1] == i, 0], b[b[:, 1] == i, 0]
            assert sa.size == sb.size and np.all(np.diff(sa) == 52) and np.all(np.diff(sb) == 52)
            assert abs(sa[0] - sb[0]) <= 1
    em = loihi.emulate(cuba_curr_exp(n=400, tau_syn_I=5 * ms, dt=1 * ms), 0.5)
    assert em.result.meta["overflows"] == {"u_wraps": 0, "v_saturations": 0}
    for d in em.distance.values():
        assert d["reference"] > 500 and 0.98 < d["rate_ratio"] < 1.02


# ----------------------------------------------------------------- backend
def test_backend_is_stateful_and_converts_units():
    net = random_network(4, plastic=True)
    net.record_state("exc", "v", ids=[0, 3], every=2)
    one = simulation(net, "loihi")
    one.run(0.2)
    chunks = simulation(net, "loihi")
    for _ in range(4):
        chunks.run(0.05)
    r1, r2 = one.result(), chunks.result()
    for pop in ("inp", "exc", "inh"):
        assert np.array_equal(spike_set(r1.spikes[pop], 1e-3), spike_set(r2.spikes[pop], 1e-3))
    assert np.array_equal(r1.traces["exc.v"].values, r2.traces["exc.v"].values)
    assert r1.traces["exc.v"].values.shape == (100, 2)
    assert np.array_equal(one.get("plastic", "w"), chunks.get("plastic", "w"))
    w = one.get("plastic", "w")
    assert w.max() <= 2e-9 + 1e-15 and w.min() >= 0 and np.unique(w).size > 3
    # get / set in SI, through the integers
    one.set("exc", "v", -60 * mV)
    assert np.allclose(one.get("exc", "v"), -60e-3, atol=1e-7)
    one.set("exc", "u", 0.5 * nA)
    assert np.allclose(one.get("exc", "u"), 0.5e-9, rtol=1e-3)
    one.set("plastic", "w", 1 * nA)
    assert np.allclose(one.get("plastic", "w"), 1e-9, rtol=0.01)
    with pytest.raises(ModelError, match="isyn_exc"):
        one.get("exc", "isyn_exc")
    with pytest.raises(ModelError, match="fixed"):
        one.set("exc", "tau_m", 5 * ms)
    with pytest.raises(ModelError):
        one.set("plastic", "w", 5 * nA)                      # beyond mantissa 255
    # new spikes for a source: an input at 0.25 s reaches its targets
    quiet = simulation(random_network(5), "loihi")
    quiet.run(0.1)
    quiet.set_spikes("inp", np.full(20, 0.25), np.arange(20))
    quiet.run(0.2)
    steps = spike_set(quiet.result().spikes["inp"], 1e-3)[:, 0]
    assert np.sum(steps == 250) == 20 and not np.any((steps > 100) & (steps != 250))


def test_emulate_against_float64():
    """Feed-forward with Poisson inhibition at dt = 1 ms: the fixed-point spikes are
    the float64 spikes but for a few shifted by a step (measured 728 of 733 alike)."""
    rng = np.random.default_rng(7)
    net = Network(dt=1 * ms, seed=3)
    net.spike_source("inp", 30, [np.sort(rng.choice(180, 12, replace=False)) * 1e-3 for _ in range(30)])
    net.poisson_source("noise", 10, 50.0)
    net.population("a", 40, _cell(tau_m=10 * ms, tau_syn_E=2 * ms, tau_syn_I=2 * ms))
    net.connect("inp", "a", FromList([(i, j, rng.uniform(0.5, 3) * 1e-9, rng.integers(1, 4) * 1e-3)
                                      for i in range(30) for j in range(40) if rng.random() < 0.3]))
    net.connect("noise", "a", AllToAll(), weight=-0.3 * nA, receptor="inh")
    net.record_spikes("a")
    net.record_spikes("noise")
    em = loihi.emulate(net, 0.2)
    d = em.distance["a"]
    assert d["reference"] > 500 and 0.99 < d["rate_ratio"] < 1.01
    assert d["same"] / d["reference"] > 0.98 and not em.identical
    assert em.distance["noise"]["same"] == em.distance["noise"]["reference"] > 50    # the same Poisson draws
    got = spike_set(em.result.spikes["a"], 1e-3)
    ref = {tuple(x) for x in spike_set(em.reference.spikes["a"], 1e-3)}
    assert all(any((s + k, i) in ref for k in (-2, -1, 0, 1, 2)) for s, i in got)


def test_u_wraps_around_and_is_counted():
    """A slow current fed every step overflows 24 bits: u wraps like Loihi's register."""
    net = Network(dt=1 * ms)
    net.spike_source("drive", 1, [np.arange(200) * 1e-3])
    net.population("p", 1, _cell(tau_syn_E=4000 * ms, tau_syn_I=4000 * ms, v_thresh=-64 * mV, tau_refrac=60 * ms))
    net.connect("drive", "p", AllToAll(), weight=1 * nA)
    sim = simulation(net, "loihi")
    sim.run(0.2)
    assert sim.overflows["u_wraps"] > 0
    assert np.all(np.abs(sim.emulator.u) < 2 ** 23)


# ----------------------------------------------------------------- map, export
def test_map_counts_cores_and_chips():
    net = cuba_curr_exp(n=4000, tau_syn_I=5 * ms)
    res = loihi.map(net)
    rows = {r["population"]: r for r in res.rows}
    assert list(rows) == ["exc", "inh"] and rows["exc"]["compartments"] == 3200
    assert rows["exc"]["cores"] >= 4 and rows["inh"]["cores"] >= 1     # 1024 compartments per core
    assert res.totals["chips"] == 1 and res.totals["cores"] == rows["exc"]["cores"] + rows["inh"]["cores"]
    assert any("Loihi 2" in a for a in res.assumptions)
    assert res.totals["loihi2_cores"] < res.totals["cores"]
    big = Network(dt=1 * ms)
    big.spike_source("src", 10, [[] for _ in range(10)])
    big.population("p", 200_000, _cell())
    big.connect("src", "p", AllToAll(), weight=1 * nA)
    assert loihi.map(big).totals["chips"] == 2                           # 196 cores


def test_export_writes_nir_with_the_integers(tmp_path):
    from spikemem.models.ca3_cam import ca3_network
    path = tmp_path / "ca3_loihi.nir"
    assert loihi.export(ca3_network(), path) == str(path)
    assert os.listdir(tmp_path) == ["ca3_loihi.nir"]
    graph = nir.read(str(path))
    lnet = loihi.quantize(ca3_network())
    node = graph.nodes["CueCue"]
    assert isinstance(node, nir.CubaLIF)
    pop = lnet.populations["CueCue"]
    assert np.allclose(node.v_threshold, -0.057, atol=1e-6)
    assert np.allclose(node.tau_mem, 1e-3 * 4096 / pop.decay_v)
    import json
    meta = json.loads(node.metadata["spikemem.loihi"])
    assert meta["vth_mant"] == pop.vth_mant.tolist() and meta["decay_u"] == pop.decay_u.tolist()
    aff = graph.nodes["IL_to_CueCue"]
    assert int(aff.metadata["spikemem.loihi.w_exp"]) == lnet.projections[0].w_exp
    assert "CueCue_to_CueCont_inh_delay" in graph.nodes                    # 3 steps: Loihi delay 2
    assert np.allclose(node.v_leak, node.v_reset)                         # CA3 resets to rest: no drive
    with pytest.raises(ModelError):
        loihi.export(bad_network(), tmp_path / "bad.nir")
    assert sorted(os.listdir(tmp_path)) == ["ca3_loihi.nir"]
    # a reset below rest: NIR's leak goes to v_leak = v_rest, v = v_reset after a spike
    v_rest = np.array([-49.0, -51.67, -63.3]) * 1e-3
    node = nir.read(loihi.export(_reset_below_rest(v_rest), tmp_path / "reset.nir")).nodes["p"]
    assert np.allclose(node.v_leak, v_rest, rtol=0, atol=1e-12) and np.all(node.v_reset == -60e-3)
    assert np.allclose(node.v_threshold, -50e-3, rtol=0, atol=1e-12)


# ----------------------------------------------------------------- CA3
#: operations of the functional experiment whose answers agree between the
#: emulator and numba (measured: all 13, with identical rasters, at the
#: network seed 0, which also seeds the stochastic rounding of the traces).
#: Other seeds: op 6 (recall by content {3}) misses cue 0 in 6 of 12 seeds --
#: a residual trace pairing of the previous operation depresses content 3 ->
#: cue 0 by one trace quantum x A (0.56 nA) to 5.44 nA, below the 5.62 nA that
#: fires CueCont in one step (numba: 5.87 nA).
CA3_AGREE = set(range(13))


def test_ca3_functional_answers_match_numba():
    from spikemem.models.ca3_experiments import FUNCTIONAL, run_script
    ref_mem, ref, _ = run_script(FUNCTIONAL, 5, 10, "numba")
    mem, got, _ = run_script(FUNCTIONAL, 5, 10, "loihi")
    agree = {r["op"] for r, g in zip(ref, got)
             if (r["answer_cues"], r["answer_content"]) == (g["answer_cues"], g["answer_content"])}
    assert agree == CA3_AGREE
    assert sum(r["correct"] for r in got) == sum(r["correct"] for r in ref) == 10
    assert mem.sim.overflows == {"u_wraps": 0, "v_saturations": 0}
    distance = compare_spikes(ref_mem.result, mem.result, 1e-3)
    assert all(d["same"] == d["reference"] == d["emulated"] for d in distance.values())


# ----------------------------------------------------------------- figures


def test_export_refuses_a_bias_nir_cannot_carry(tmp_path):
    net = Network(dt=1 * ms)
    net.population("alone", 2, IF_curr_exp(i_offset=0.5 * nA))
    with pytest.raises(ModelError, match=r"population\(s\) \['alone'\]"):
        loihi.export(net, tmp_path / "x.nir")
    assert os.listdir(tmp_path) == []
