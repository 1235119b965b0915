"""The SpiNNaker s16.15 emulator: its arithmetic against plain-integer closed
forms, its spikes against numba, state between runs, refusals, and the CA3
memory on it."""
import math

import numpy as np
import pytest
from brian2 import Hz, ms, mV, nA, nF

from spikemem.analysis import compare_spikes
from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FixedProbability, FromList, OneToOne
from spikemem.distributions import Uniform
from spikemem.errors import ModelError
from spikemem.hardware.spinnaker.emulator import SpiNNakerSimulation, decomposition
from spikemem.hardware.spinnaker.weights import weight_scaling
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.plasticity import spinnaker_stdp, stdp
from spikemem.results import Result, SpikeTrain
from spikemem.targets import TARGETS, Emulation, QuantizationError

spinnaker = TARGETS.get("spinnaker")


ONE = 1 << 15


def s1615(x):
    return int(round(x * ONE))


def shared(distance):
    same = sum(d["same"] for d in distance.values())
    return same / sum(d["reference"] for d in distance.values())


def test_membrane_under_constant_i_offset_is_the_integer_recurrence():
    """v, spikes and refractoriness of one neuron equal sPyNNaker's LIF
    recurrence written out here with Python integers (s16.15, truncating
    products, threshold >=, T_refract = ceil(tau_refrac / ts) of the
    tau_refrac run.py passes)."""
    dt, steps = 0.1 * ms, 600
    net = Network(dt=dt)
    net.population("n", 1, IF_curr_exp(cm=0.5 * nF, tau_m=10 * ms, v_rest=-65 * mV, v_reset=-70 * mV,
                                       v_thresh=-52 * mV, tau_refrac=2 * ms, i_offset=1.45 * nA))
    net.record_spikes("n")
    net.record_state("n", ["v"])
    sim = simulation(net, "spinnaker")
    sim.run(steps * float(dt))
    res = sim.result()

    ts = s1615(0.1)                                   # the time step, ms
    tau, cm, refrac = s1615(10.0), s1615(0.5), s1615(2.0)
    R = (tau << 15) // cm                             # kdivk truncates
    exp_tc = int(round(math.exp(-((ts << 15) // tau) / ONE) * ONE))
    t_ref = ((refrac << 15) // ts + ONE - 1) >> 15    # lif_ceil_accum
    v, rest, reset, thresh, i_off = s1615(-65), s1615(-65), s1615(-70), s1615(-52), s1615(1.45)
    timer, trace, spikes = 0, [], []
    for step in range(steps):
        trace.append(v)                               # recorded at the tick's start
        if timer <= 0:
            alpha = ((i_off * R) >> 15) + rest
            v = alpha - ((exp_tc * (alpha - v)) >> 15)
        else:
            timer -= 1
        if v >= thresh:
            v, timer = reset, t_ref
            spikes.append(step)
    assert t_ref == 20 and len(spikes) >= 3
    np.testing.assert_array_equal(np.rint(res.traces["n.v"].values[:, 0] * 1e3 * ONE).astype(np.int64), trace)
    np.testing.assert_array_equal(np.rint(res.spikes["n"].times / float(dt)).astype(int), spikes)
    # numba holds v as many steps (ceil(tau_refrac/dt)): the same spike steps
    ref = simulation(net, "numba")
    ref.run(steps * float(dt))
    np.testing.assert_array_equal(np.rint(ref.result().spikes["n"].times / float(dt)).astype(int), spikes)


def test_weight_scaling_shift_resolution_and_quantisation():
    """sPyNNaker's ring-buffer shift from the worst-case summed weight (single
    delay per projection), a power of two adding one, W <= 1 nA giving 0."""
    net = Network(dt=1 * ms)
    net.spike_source("src", 10, [[] for _ in range(10)])
    net.population("post", 3, IF_curr_exp())
    net.population("pow2", 1, IF_curr_exp())
    net.connect("src", "post", AllToAll(), weight=3 * nA, name="all_exc")          # W = 10 x 3 nA
    net.connect("src", "post", FromList([[k, k] for k in range(3)]), weight=-0.3 * nA, receptor="inh", name="one_inh")
    net.connect("src", "pow2", FromList([[k, 0] for k in range(4)]), weight=2 * nA, name="four")   # W = 4 x 2 = 2**3
    ws = weight_scaling(net)
    exc, inh, pow2 = ws[("post", "exc")], ws[("post", "inh")], ws[("pow2", "exc")]
    assert (exc["estimate"], exc["shift"], exc["resolution"]) == ("max", 5, 2.0 ** -10)
    assert exc["max_weight"] == 65535 * 2.0 ** -10
    all_exc = exc["projections"]["all_exc"]
    assert np.all(all_exc["w16"] == 3072) and all_exc["max_error"] < 1e-12
    assert (inh["shift"], inh["resolution"]) == (0, 2.0 ** -15)
    assert np.all(inh["projections"]["one_inh"]["w16"] == 9830)                   # rint(0.3 * 2**15)
    np.testing.assert_allclose(inh["projections"]["one_inh"]["w"], -9830 * 2.0 ** -15 * 1e-9)
    assert pow2["shift"] == 4
    q = spinnaker.quantize(net)
    rows = {(e.where, e.parameter): e for e in q.errors}
    assert all(isinstance(e, QuantizationError) for e in q.errors)
    worst = rows[("projection 'one_inh'", "w (worst synapse)")]
    assert worst.abs_error == pytest.approx(0.4 * 2.0 ** -15 * 1e-9, rel=1e-6)
    assert rows[("projection 'all_exc'", "w (worst synapse)")].abs_error < 1e-21
    # the decay's argument dt/tau is truncated to s16.15 first: 6553/32768, not 0.2
    assert rows[("population 'post'", "exc_decay (u0.32)")].quantized == pytest.approx(
        math.exp(-6553 / ONE), abs=2.0 ** -32)
    # the default tau_refrac of 0.1 ms holds ceil(0.1 ms / 1 ms) = 1 step, as in sPyNNaker
    assert q.populations["post"]["T_refract"][0] == 1 and q.populations["post"]["ts"] == 32768
    assert rows[("population 'post'", "held steps (T_refract)")].quantized == 1


def feedforward(seed=2, n_in=20, n=40, dt=1 * ms, duration=2.0, tau_refrac=2 * ms):
    """Spike-source array -> a -> b, random weights, every synapse its own
    delay of 1..15 steps, plus inhibition from the sources onto b."""
    rng = np.random.default_rng(seed)
    net = Network(dt=dt, seed=seed)
    grid = np.arange(5, int(duration / float(dt)))
    net.spike_source("inp", n_in, [np.sort(rng.choice(grid, 8, replace=False)) * float(dt) for _ in range(n_in)])
    cell = IF_curr_exp(tau_refrac=tau_refrac, tau_syn_E=2 * ms, tau_syn_I=4 * ms)
    net.population("a", n, cell, init={"v": Uniform(-65 * mV, -60 * mV)})
    net.population("b", n, cell)
    projs = [net.connect("inp", "a", FixedProbability(0.25), weight=Uniform(2 * nA, 6 * nA), name="in_a"),
             net.connect("a", "b", FixedProbability(0.2), weight=Uniform(2 * nA, 6 * nA), name="a_b"),
             net.connect("inp", "b", FixedProbability(0.2), weight=Uniform(-6 * nA, -2 * nA), receptor="inh",
                         name="in_b")]
    built = net.build()
    for k, p in enumerate(projs):
        p.delay = rng.integers(1, 16, built.projections[k].i.size) * float(dt)
    net.record_spikes("a")
    net.record_spikes("b")
    return net


@pytest.fixture(scope="module")
def ff_runs():
    net = feedforward()
    return net, decomposition(net, 2.0), spinnaker.emulate(net, 2.0)


def test_spikes_close_to_numba_and_only_rounding_apart_from_the_float_twin(ff_runs):
    """The emulator shares >= 95 % of numba's spikes; its float64 twin (same
    algorithm, no rounding) shares >= 99 % with it, i.e. at dt = 1 ms the rest
    is the integration scheme, not rounding."""
    _, d, _ = ff_runs
    assert sum(x["reference"] for x in d["total"].values()) > 150
    assert shared(d["total"]) >= 0.95
    assert shared(d["rounding"]) >= 0.99
    for pop in ("a", "b"):
        assert 0.95 < d["total"][pop]["rate_ratio"] < 1.05


def test_the_distance_detects_a_one_step_shift(ff_runs):
    """The check above could fail: alignment 0 is the best one, a one-step
    shift loses most spikes, and one held step more (tau_refrac 3 ms instead
    of 2 ms) already costs more than 5 %."""
    net, d, em = ff_runs
    assert isinstance(em, Emulation) and em.target == "spinnaker" and not em.identical
    assert em.distance == d["total"]
    by_shift = {}
    for shift in (-1, 0, 1):
        moved = Result({p: SpikeTrain(t.times + shift * 1e-3, t.ids, t.n) for p, t in em.result.spikes.items()})
        by_shift[shift] = shared(compare_spikes(em.reference, moved, 1e-3))
    assert by_shift[0] > 0.95 > 0.5 > max(by_shift[-1], by_shift[1])
    longer = simulation(feedforward(tau_refrac=3 * ms), "spinnaker")
    longer.run(2.0)
    assert shared(compare_spikes(em.reference, longer.result(), 1e-3)) < 0.95


def spynnaker_pair_stdp(pre, post, w, a_plus, a_minus, w_min, w_max, tau_plus, tau_minus, d=1):
    """sPyNNaker 7.4.1's deferred additive pair rule in plain floats, written
    from its C (synapse_dynamics_stdp_mad_impl.c, timing_pair_impl.h,
    weight_additive_one_term_impl.h), without fixed point or lookup tables:
    the weight after each pre spike of one synapse. ``pre``, ``post``: spike
    steps; ``d``: the delay (dendritic); taus in steps; amplitudes as the
    core holds them (run.py's A * w_max)."""
    def trace(spikes, k, tau):                     # all-to-all trace just after spike k
        return sum(math.exp(-(spikes[k] - s) / tau) for s in spikes[:k + 1])
    out, last = [], None
    for k, t in enumerate(pre):
        if last is not None:                       # post spikes in (last - d, t - d], in order
            for p in [p for p in post if last - d < p <= t - d and p + d - last > 0]:
                w = min(w + a_plus * trace(pre, k - 1, tau_plus) * math.exp(-(p + d - last) / tau_plus), w_max)
        before = [q for q, p in enumerate(post) if p <= t - d]
        if before:                                 # the last post spike p <= t - d (lag 0: exp(0))
            p = post[before[-1]]
            w = max(w - a_minus * trace(post, before[-1], tau_minus) * math.exp(-(t - p - d) / tau_minus), w_min)
        out.append(w)
        last = t
    return out


def stdp_net(a_plus, a_minus):
    net = Network(dt=1 * ms)
    net.spike_source("pre", 2, [[10 * ms, 30 * ms, 50 * ms, 70 * ms, 90 * ms],
                                [20 * ms, 40 * ms, 45 * ms, 47 * ms, 95 * ms]])
    net.spike_source("drive", 1, [[12 * ms, 31 * ms, 49 * ms, 72 * ms, 89 * ms, 91 * ms]])
    net.population("post", 1, IF_curr_exp(tau_refrac=1 * ms, tau_syn_E=0.5 * ms, tau_m=4 * ms))
    net.connect("drive", "post", OneToOne(), weight=60 * nA)
    rule = spinnaker_stdp(tau_plus=20 * ms, tau_minus=20 * ms, A_plus=a_plus, A_minus=a_minus, w_min=0 * nA,
                          w_max=2 * nA)
    net.connect("pre", "post", AllToAll(), weight=1 * nA, synapse=rule, name="plastic")
    net.record_spikes("post")
    return net


@pytest.mark.parametrize("a_plus, a_minus", [(0.1, 0.12), (0.6, 0.7)])
def test_stdp_weights_follow_spynnakers_rule(a_plus, a_minus):
    """Deferred pair STDP with run.py's A * w_max, clipped after every term:
    the float64 twin and spikemem's spinnaker_stdp on numba equal the rule
    written out in plain floats, also where a clip binds within an update
    (large A); the fixed point is within a few weight steps of it (s4.11
    traces, 16-bit weights)."""
    net = stdp_net(a_plus, a_minus)
    ref = simulation(net, "numba")
    ref.run(0.12)
    post = np.rint(ref.result().spikes["post"].times * 1e3).astype(int).tolist()
    assert post == [13, 32, 50, 73, 90, 92]             # the drive, one step later
    out = {}
    for arithmetic in ("fixed", "float64"):
        sim = SpiNNakerSimulation(net.build(), arithmetic=arithmetic)
        sim.run(0.12)
        assert np.rint(sim.result().spikes["post"].times * 1e3).astype(int).tolist() == post
        out[arithmetic] = sim.get("plastic", "w")
    pre = [[10, 30, 50, 70, 90], [20, 40, 45, 47, 95]]
    expected = np.array([spynnaker_pair_stdp(p, post, 1.0, a_plus * 2, a_minus * 2, 0.0, 2.0, 20, 20)[-1]
                         for p in pre]) * 1e-9
    assert np.abs(expected - 1e-9).max() > 0.3e-9                      # it learned
    np.testing.assert_allclose(out["float64"], expected, rtol=0, atol=1e-18)
    step = weight_scaling(net)[("post", "exc")]["resolution"] * 1e-9
    np.testing.assert_allclose(out["fixed"], expected, rtol=0, atol=4 * step)
    np.testing.assert_allclose(ref.get("plastic", "w"), expected, rtol=0, atol=1e-18)


def plastic_net():
    net = Network(dt=1 * ms, seed=4)
    rng = np.random.default_rng(4)
    net.spike_source("inp", 8, [np.sort(rng.choice(np.arange(1, 300), 20, replace=False)) * 1e-3 for _ in range(8)])
    net.population("out", 5, IF_curr_exp(tau_refrac=2 * ms), init={"v": Uniform(-65 * mV, -55 * mV)})
    net.connect("inp", "out", AllToAll(), weight=Uniform(1 * nA, 3 * nA), delay=2 * ms, name="static")
    net.connect("inp", "out", AllToAll(), weight=0.5 * nA, name="stdp",
                synapse=spinnaker_stdp(A_plus=0.05, A_minus=0.06, w_max=2 * nA))
    net.connect("out", "out", AllToAll(allow_self=False), weight=-1 * nA, receptor="inh", delay=3 * ms)
    net.record_spikes("out")
    net.record_state("out", ["v", "isyn_exc", "isyn_inh"], ids=[0, 3], every=2)
    return net


def test_chunked_runs_equal_one_run_and_state_round_trips():
    whole = simulation(plastic_net(), "spinnaker")
    whole.run(0.3)
    parts = simulation(plastic_net(), "spinnaker")
    for chunk in (0.1, 0.05, 0.15):
        parts.run(chunk)
    a, b = whole.result(), parts.result()
    assert a.spikes["out"].count() > 10
    np.testing.assert_array_equal(a.spikes["out"].times, b.spikes["out"].times)
    np.testing.assert_array_equal(a.spikes["out"].ids, b.spikes["out"].ids)
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key].values, b.traces[key].values)
    np.testing.assert_array_equal(whole.get("stdp", "w"), parts.get("stdp", "w"))
    assert np.ptp(whole.get("stdp", "w")) > 0.5e-9                      # plastic weights moved
    # get / set in SI units, quantised on the way in
    parts.set("out", "v", -60.1 * mV)
    np.testing.assert_allclose(parts.get("out", "v"), -60.1e-3, atol=2 ** -15 * 1e-3)
    parts.set("static", "w", 2.5 * nA)
    res = weight_scaling(plastic_net())[("out", "exc")]["resolution"] * 1e-9
    np.testing.assert_allclose(parts.get("static", "w"), 2.5e-9, atol=res / 2)
    parts.set("out", "isyn_inh", -0.25 * nA)
    np.testing.assert_allclose(parts.get("out", "isyn_inh"), -0.25e-9, atol=1e-13)
    with pytest.raises(ModelError, match="exceeds the largest weight"):
        parts.set("static", "w", 1e-6)
    with pytest.raises(ModelError, match=">= 0"):
        parts.set("static", "w", -1 * nA)
    parts.set_spikes("inp", [0.31, 0.32], [0, 1])
    parts.run(0.05)


def test_unsupported_pieces_are_all_listed_before_any_work():
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[1 * ms], [2 * ms]])
    net.poisson_source("noise", 2, 10)
    net.population("izh", 2, Izhikevich())
    net.population("lif", 2, IF_curr_exp())
    net.connect("src", "lif", OneToOne(), weight=1 * nA, on_pre="v_post += 1*mV", name="custom")
    net.connect("src", "lif", OneToOne(), weight=1 * nA, synapse=stdp("multiplicative"), name="mult")
    net.connect("src", "lif", OneToOne(), weight=-1 * nA, receptor="inh", name="plastic_inh",
                synapse=spinnaker_stdp(w_min=-2 * nA, w_max=0 * nA))
    net.step_current("lif", 1 * nA, 5 * ms)
    with pytest.raises(ModelError) as err:
        simulation(net, "spinnaker")
    text = str(err.value)
    for name in ("'izh'", "'custom'", "'mult'", "'plastic_inh'", "current input on 'lif'"):
        assert name in text, name
    with pytest.raises(ModelError, match="arithmetic must be"):
        simulation(feedforward(), "spinnaker", arithmetic="float32")
    with pytest.raises(ModelError, match="Network"):
        spinnaker.emulate(net.build(), 1.0)


def test_a_population_with_its_own_dt_is_refused_by_name():
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 1, [[1 * ms]])
    net.population("slow", 2, IF_curr_exp(tau_refrac=0 * ms), dt=1 * ms)
    net.connect("src", "slow", AllToAll(), weight=1 * nA)
    with pytest.raises(ModelError, match=r"population 'slow': its own dt 0\.001 s \(every 10 steps of the "
                                         r"network's\) cannot be expressed \(sPyNNaker"):
        simulation(net, "spinnaker")


def test_ca3_functional_experiment_spike_for_spike_as_on_numba():
    """The CA3 functional experiment gives every spike of every population in
    the same step on the emulator, its float64 twin and numba (the network
    integrates as the board does), and the same weights up to the emulator's
    16-bit resolution."""
    from spikemem.models.ca3_cam import experiments as experiments
    ref_mem, ref_rows, _ = experiments.experiment("functional", "numba")
    mem, rows, _ = experiments.experiment("functional", "spinnaker")
    twin, _ = experiments.ca3_functional("spinnaker", arithmetic="float64")
    assert all(r["correct"] for r in rows)
    for other in (mem, twin):
        for pop, train in ref_mem.result.spikes.items():
            np.testing.assert_array_equal(np.rint(other.result.spikes[pop].times * 1e3), np.rint(train.times * 1e3))
            np.testing.assert_array_equal(other.result.spikes[pop].ids, train.ids)
    resolution = max(e["resolution"] for e in weight_scaling(mem.network).values())
    for name, w in mem.weights().items():
        np.testing.assert_allclose(w, ref_mem.weights(settled=False)[name], rtol=0, atol=2 * resolution)
        assert w.max() > 5.5                                        # it learned


def poisson_network(seed=3):
    """Poisson sources at two rates into IF_curr_exp cells (SpikeSourcePoisson on sPyNNaker)."""
    net = Network(dt=1 * ms, seed=seed)
    net.poisson_source("slow", 200, 20.0)
    net.poisson_source("fast", 50, np.linspace(100.0, 300.0, 50))
    net.population("lif", 40, IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=3 * ms, tau_syn_I=3 * ms))
    net.connect("slow", "lif", FixedProbability(0.2), weight=1.0 * nA)
    net.connect("fast", "lif", FixedProbability(0.2), weight=-0.1 * nA, receptor="inh")
    for pop in ("slow", "fast", "lif"):
        net.record_spikes(pop)
    return net


def test_poisson_sources_fire_at_their_rates_and_drive_as_on_numba():
    net = poisson_network()
    emulated, reference = simulation(net, "spinnaker"), simulation(net, "numba")
    for sim in (emulated, reference):
        sim.run(2.0, progress=False)
    emulated, reference = emulated.result(), reference.result()
    rates = {"slow": 20.0, "fast": net.build().populations["fast"].rate.mean()}
    for name, rate in rates.items():         # 2 s x N sources: the count within 4 standard deviations
        n = net.populations[name].size
        expected = rate * 2.0 * n
        assert abs(emulated.spikes[name].count() - expected) < 4 * np.sqrt(expected), name
        # drawn as numba draws them: the same spikes
        np.testing.assert_array_equal(emulated.spikes[name].times, reference.spikes[name].times, err_msg=name)
        np.testing.assert_array_equal(emulated.spikes[name].ids, reference.spikes[name].ids, err_msg=name)
    lif, ref = emulated.spikes["lif"].count(), reference.spikes["lif"].count()
    assert ref > 500 and abs(lif - ref) < 0.05 * ref           # the fixed point moves a few spikes
    # the seed fixes the spikes, however the run is split
    parts = simulation(net, "spinnaker")
    for _ in range(4):
        parts.run(0.5, progress=False)
    parts = parts.result()
    for name in ("slow", "fast", "lif"):
        np.testing.assert_array_equal(parts.spikes[name].times, emulated.spikes[name].times, err_msg=name)
        np.testing.assert_array_equal(parts.spikes[name].ids, emulated.spikes[name].ids, err_msg=name)


def test_new_poisson_rates_keep_the_numba_spikes():
    """set_rates between runs: the stream goes on, so the emulator still draws numba's spikes."""
    net = poisson_network()
    emulated, reference = simulation(net, "spinnaker"), simulation(net, "numba")
    for sim in (emulated, reference):
        sim.run(0.3, progress=False)
        sim.set_rates("slow", 60 * Hz)
        sim.set_rates("fast", np.linspace(0.0, 400.0, 50))
        sim.run(0.2, progress=False)
        sim.set_rates("slow", 0.0)
        sim.run(0.2, progress=False)
    emulated, reference = emulated.result(), reference.result()
    for name in ("slow", "fast"):
        np.testing.assert_array_equal(emulated.spikes[name].times, reference.spikes[name].times, err_msg=name)
        np.testing.assert_array_equal(emulated.spikes[name].ids, reference.spikes[name].ids, err_msg=name)
    slow = emulated.spikes["slow"].times
    # 200 sources: 20 Hz for 0.3 s (1200 expected), 60 Hz for 0.2 s (2400), then silent
    assert 1000 < np.sum(slow < 0.3) < 1400 and 2100 < np.sum((slow >= 0.3) & (slow < 0.5)) < 2700
    assert np.all(slow < 0.5)
    fast = emulated.spikes["fast"]
    assert np.all(fast.ids[fast.times >= 0.3] > 0)          # neuron 0 now at 0 Hz
