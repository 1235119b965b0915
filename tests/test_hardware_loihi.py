"""The Loihi target (spikemem.hardware.loihi): constraints, fixed-point formats,
the emulator bit for bit against brian2-loihi, resources, NIR export, CA3."""
import os

import nir
import numpy as np
import pytest
from brian2 import mV, ms, nA, nF

from spikemem.analysis import spike_set
from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FromList
from spikemem.errors import ModelError
from spikemem.hardware import loihi
from spikemem.hardware.target import compare_spikes
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
    net.population("reset_low", 3, _cell(v_reset=-70 * mV))
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
    assert {("population 'izh'", "neuron model"), ("population 'reset_low'", "v_reset"),
            ("population 'two_taus'", "tau_syn_E != tau_syn_I"), ("projection 'too_slow'", "delay"),
            ("projection 'negative_exc'", "weight sign"), ("projection 'triplet'", "synapse model"),
            ("population 'ok'", "current input"), ("population 'ok'", "recorded variables"),
            ("population 'long_refractory'", "refractory period")} <= found
    for v in loihi.check(net):
        assert v.fix and v.limit is not None
    with pytest.raises(ModelError, match="izh") as err:
        loihi.quantize(net)
    assert "too_slow" in str(err.value) and "reset_low" in str(err.value)
    with pytest.raises(ModelError, match="too_slow"):
        simulation(net, "loihi")
    # the offenders gone, the rest maps
    good = Network(dt=1 * ms)
    good.spike_source("src", 2, [[0.001], [0.002]])
    good.population("ok", 2, _cell())
    good.connect("src", "ok", AllToAll(), weight=1 * nA, delay=63 * ms)
    assert loihi.check(good) == []


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


# ----------------------------------------------------------------- quantize
def cuba_curr_exp(n=400, p=0.02, seed=0):
    """Brian2's CUBA as IF_curr_exp: rest at the reset (-60 mV) with the drive
    (El - Vr) c_m / tau_m as i_offset, ge/gi as currents; one tau_syn (5 ms)
    because a Loihi compartment has one current (CUBA's inhibition has 10 ms)."""
    c_m, tau_m = 1 * nF, 20 * ms
    cell = IF_curr_exp(cm=c_m, tau_m=tau_m, tau_syn_E=5 * ms, tau_syn_I=5 * ms, tau_refrac=5 * ms,
                       v_rest=-60 * mV, v_reset=-60 * mV, v_thresh=-50 * mV, i_offset=c_m * 11 * mV / tau_m)
    net = Network(dt=0.1 * ms, seed=seed)
    n_exc = int(round(0.8 * n))
    net.population("exc", n_exc, cell)
    net.population("inh", n - n_exc, cell)
    from spikemem.connectors import FixedProbability
    for post in ("exc", "inh"):
        net.connect("exc", post, FixedProbability(p), weight=1.62 * mV * c_m / tau_m, name=f"exc_{post}")
        net.connect("inh", post, FixedProbability(p), weight=-9 * mV * c_m / tau_m, receptor="inh",
                    name=f"inh_{post}")
    return net


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
    # CUBA at dt = 0.1 ms: the 12-bit membrane decay is 20/4096 for 20.43 ms
    rows = {(e.where, e.parameter): e for e in loihi.quantize(cuba_curr_exp()).errors}
    assert 0.015 < rows[("population 'exc'", "tau_m")].rel_error < 0.03
    assert rows[("projection 'exc_exc'", "w")].rel_error < 0.02
    assert rows[("population 'exc'", "i_offset (bias)")].rel_error < 1e-3


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
    net = cuba_curr_exp(n=4000)
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
    with pytest.raises(ModelError):
        loihi.export(bad_network(), tmp_path / "bad.nir")
    assert sorted(os.listdir(tmp_path)) == ["ca3_loihi.nir"]


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
