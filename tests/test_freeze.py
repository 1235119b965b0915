"""Learning phases: ``Simulation.freeze`` / ``unfreeze`` / ``frozen`` set a
template's switch (``plastic`` of the plastic synapse templates, ``adapting`` of
the adaptive threshold) to 0 or 1.

A switch of 1 multiplies every weight (threshold) change by 1.0, which is
exact: the templates with their switch give the same weights and spikes, bit
for bit, as the rules without it (``_unswitched`` rewrites a template as it was
written before the switch). A frozen projection keeps its weights exactly while
an identical unfrozen one beside it learns from the same spikes.
"""
import re
from dataclasses import replace

import numpy as np
import pytest
from brian2 import mV, ms, nA, nS

from spikemem.backends import simulation
from spikemem.connectors import AllToAll
from spikemem.distributions import Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp, IF_curr_exp, RateUnit
from spikemem.plasticity import (anti_hebbian, diehl_cook_stdp, hebbian, oja, spinnaker_stdp, stdp,
                                 triplet_stdp)

DT = 1e-4

#: spiking rules: name -> (template, whether the post cells are conductance-based)
SPIKING = {
    "stdp": (lambda: stdp(A_plus=0.05 * nA, A_minus=0.06 * nA), False),
    "stdp_multiplicative_nearest": (lambda: stdp("multiplicative", "nearest", A_plus=0.1, A_minus=0.12), False),
    "stdp_wmax_scaled": (lambda: stdp(scale_by_w_max=True, A_plus=0.05, A_minus=0.06), False),
    "spinnaker_stdp": (lambda: spinnaker_stdp(A_plus=0.05, A_minus=0.06), False),
    "spinnaker_stdp_binary": (lambda: spinnaker_stdp(A_plus=0.2, A_minus=0.1, binary_threshold=0.5), False),
    "triplet_stdp": (lambda: triplet_stdp(A2_plus=0.02 * nA, A3_plus=0.02 * nA, A2_minus=0.03 * nA,
                                          A3_minus=0.01 * nA), False),
    "diehl_cook_stdp": (lambda: diehl_cook_stdp(nu_pre=0.1 * nS, nu_post=1 * nS, w_max=20 * nS), True),
}
RATE = {"hebbian": lambda: hebbian(eta=2.0), "anti_hebbian": lambda: anti_hebbian(eta=1.0),
        "oja": lambda: oja(eta=5.0, alpha=2.0)}


def _unswitched(model):
    """``model`` without its switch: the rule as the template wrote it before."""
    def strip(text):
        # the binary synapse's settling, chosen by the switch -> the settling alone
        text = re.sub(r"w\*int\(plastic == 0\) \+ int\(plastic != 0\)\*\((.*)\)$", r"\1", text, flags=re.M)
        text = re.sub(rf"^\s*{model.switch} : 1 \(constant\)\n", "", text, flags=re.M)
        return text.replace(f"{model.switch}*", "")
    fields = {"equations": strip(model.equations),
              "params": {k: v for k, v in model.params.items() if k != model.switch}, "switch": None}
    for statement in ("on_pre", "on_post", "reset"):
        if hasattr(model, statement):
            fields[statement] = strip(getattr(model, statement))
    return replace(model, **fields)


def test_unswitched_gives_the_templates_as_they_were():
    """The rewriting the bit-for-bit tests rely on restores the old text."""
    old = _unswitched(stdp())
    assert (old.on_pre, old.on_post) == ("apre += 1\nw = clip(w - A_minus*apost, w_min, w_max)",
                                         "apost += 1\nw = clip(w + A_plus*apre, w_min, w_max)")
    assert "plastic" not in old.equations and "plastic" not in old.params
    settle = _unswitched(spinnaker_stdp(binary_threshold=0.5)).on_pre.splitlines()[1]
    assert settle == "w = w_min + (w_max - w_min)*int(w >= w_min + theta*(w_max - w_min))"
    adaptive = _unswitched(IF_cond_exp(adaptive=True))
    assert adaptive.reset == "v = v_reset\nvt += delta_vt"
    assert "dvt/dt = (v_thresh - vt)/tau_vt : volt" in adaptive.equations
    assert "dw/dt = (eta*r_pre*r_post) : 1" in _unswitched(hebbian()).equations


# ------------------------------------------------------------------ networks
def spiking_network(synapse, conductance=False, copies=("a", "b"), duration=0.2, seed=4):
    """Random pre trains onto cells that fire by themselves (i_offset), through
    identical plastic projections (one per name in ``copies``), one step of delay."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    n_pre, n_post = 10, 4
    net.spike_source("pre", n_pre, [np.sort(rng.choice(int(duration / DT), 15, replace=False)) * DT
                                    for _ in range(n_pre)])
    if conductance:
        cells, weight = IF_cond_exp(tau_refrac=2 * ms, i_offset=1.1 * nA), Uniform(1 * nS, 10 * nS)
    else:
        cells, weight = IF_curr_exp(tau_refrac=2 * ms, i_offset=1.1 * nA), Uniform(0.1 * nA, 0.9 * nA)
    net.population("post", n_post, cells)
    for name in copies:
        net.connect("pre", "post", AllToAll(), weight=weight, synapse=synapse, name=name)
    net.record_spikes("post")
    return net


def rate_network(rule, copies=("a", "b")):
    """Driven rate units x onto units y_<name> through projection <name> (a summed
    variable takes one projection: each copy has units of its own)."""
    net = Network(dt=1e-3, seed=2)
    net.population("x", 4, RateUnit(tau=5 * ms), params={"i_offset": np.array([0.2, 0.5, 0.9, 0.4])})
    for name in copies:
        net.population(f"y_{name}", 3, RateUnit(tau=8 * ms))
        net.connect("x", f"y_{name}", AllToAll(), receptor="input", synapse=rule, name=name,
                    weight=Uniform(0.05, 0.5))
    return net


def adaptive_network(model=None):
    net = Network(dt=DT, seed=1)
    net.population("cells", 3, model or IF_cond_exp(adaptive=True, i_offset=1.2 * nA, delta_vt=2 * mV,
                                                    tau_vt=30 * ms))
    net.record_spikes("cells")
    return net


# ------------------------------------------------------------------ switched on: nothing changed
@pytest.mark.parametrize("rule", sorted(SPIKING))
def test_switch_on_leaves_spiking_rules_bit_for_bit(rule):
    make, conductance = SPIKING[rule]
    out = []
    for synapse in (make(), _unswitched(make())):
        sim = simulation(spiking_network(synapse, conductance, copies=("a",)), "numba")
        w0 = sim.get("a", "w")
        sim.run(0.2)
        spikes = sim.result().spikes["post"]
        out.append((sim.get("a", "w"), spikes.times, spikes.ids))
    (w, times, ids), (w_old, times_old, ids_old) = out
    assert not np.array_equal(w, w0), "the rule moved the weights"
    assert times.size > 10
    np.testing.assert_array_equal(w, w_old)
    np.testing.assert_array_equal(times, times_old)
    np.testing.assert_array_equal(ids, ids_old)


@pytest.mark.parametrize("rule", sorted(RATE))
def test_switch_on_leaves_rate_rules_bit_for_bit(rule):
    out = []
    for synapse in (RATE[rule](), _unswitched(RATE[rule]())):
        sim = simulation(rate_network(synapse, copies=("a",)), "numba")
        sim.run(0.1)
        out.append((sim.get("a", "w"), sim.get("y_a", "r")))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_switch_on_leaves_the_adaptive_threshold_bit_for_bit():
    model = IF_cond_exp(adaptive=True, i_offset=1.2 * nA, delta_vt=2 * mV, tau_vt=30 * ms)
    out = []
    for m in (model, _unswitched(model)):
        sim = simulation(adaptive_network(m), "numba")
        sim.run(0.1)
        out.append((sim.get("cells", "vt"), sim.result().spikes["cells"].times))
    assert out[0][1].size > 3
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


# ------------------------------------------------------------------ frozen, then thawed
def _freeze_a_then_thaw(sim, duration=0.1):
    """Give 'b' the weights of 'a' (the same synapses), freeze 'a', run, check
    'a' kept its weights and 'b' learnt; unfreeze, run, check 'a' learns again."""
    w0 = sim.get("a", "w")
    sim.set("b", "w", w0)
    sim.freeze("a")
    assert sim.frozen("a") and not sim.frozen("b")
    sim.run(duration)
    np.testing.assert_array_equal(sim.get("a", "w"), w0)
    assert not np.array_equal(sim.get("b", "w"), w0)
    sim.unfreeze("a")
    assert not sim.frozen("a")
    sim.run(duration)
    assert not np.array_equal(sim.get("a", "w"), w0)


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy", "torch"])
def test_frozen_stdp_keeps_its_weights_on_every_software_backend(backend):
    sim = simulation(spiking_network(SPIKING["stdp"][0]()), backend)
    _freeze_a_then_thaw(sim)
    assert sim.result().spikes["post"].times.size > 10


@pytest.mark.parametrize("rule", sorted(set(SPIKING) - {"stdp"}))
def test_every_frozen_spiking_rule_keeps_its_weights(rule):
    make, conductance = SPIKING[rule]
    _freeze_a_then_thaw(simulation(spiking_network(make(), conductance), "numba"))


@pytest.mark.parametrize("rule", sorted(RATE))
@pytest.mark.parametrize("backend", ["numba", "brian2-numpy"])
def test_every_frozen_rate_rule_keeps_its_weights(rule, backend):
    _freeze_a_then_thaw(simulation(rate_network(RATE[rule]()), backend), duration=0.05)


def test_frozen_binary_synapse_keeps_a_weight_between_its_states():
    """The two-state synapse settles every update to a bound; frozen, a weight
    in between stays where it is."""
    sim = simulation(spiking_network(SPIKING["spinnaker_stdp_binary"][0]()), "numba")
    w0 = sim.get("a", "w")
    sim.freeze("a")
    sim.run(0.1)
    np.testing.assert_array_equal(sim.get("a", "w"), w0)
    w_max = float(1 * nA)
    assert np.isin(sim.get("b", "w"), [0.0, w_max]).mean() > np.isin(w0, [0.0, w_max]).mean()


@pytest.mark.parametrize("backend", ["numba", "brian2-numpy", "torch"])
def test_frozen_adaptive_threshold_stays_while_the_cells_fire(backend):
    sim = simulation(adaptive_network(), backend)
    sim.run(0.02)
    vt = sim.get("cells", "vt")
    assert np.all(vt > float(-50 * mV)), "the threshold has risen"
    sim.freeze("cells")
    assert sim.frozen("cells")
    fired = sim.result().spikes["cells"].times.size
    sim.run(0.05)
    assert sim.result().spikes["cells"].times.size > fired + 3, "the cells fire while frozen"
    np.testing.assert_array_equal(sim.get("cells", "vt"), vt)
    sim.unfreeze("cells")
    sim.run(0.02)
    assert not np.array_equal(sim.get("cells", "vt"), vt)


# ------------------------------------------------------------------ emulators
def emulator_network(rule, frozen=()):
    """Pre trains onto self-firing IF_curr_exp cells through two identical plastic projections
    (dt 1 ms), those named in ``frozen`` built with their switch at 0."""
    rng = np.random.default_rng(7)
    net = Network(dt=1 * ms, seed=7)
    net.spike_source("pre", 10, [np.sort(rng.choice(400, 40, replace=False)) * 1e-3 for _ in range(10)])
    net.population("post", 4, IF_curr_exp(tau_m=12 * ms, tau_refrac=2 * ms, v_thresh=-55 * mV, i_offset=1 * nA))
    for name in ("a", "b"):
        net.connect("pre", "post", AllToAll(), weight=0.5 * nA, synapse=rule, name=name,
                    params={"plastic": 0.0} if name in frozen else None)
    net.record_spikes("post")
    return net


EMULATED = {"stdp": lambda: stdp(tau_plus=10 * ms, tau_minus=10 * ms, A_plus=0.1 * nA, A_minus=0.12 * nA,
                                 w_max=1 * nA),
            "spinnaker_stdp": lambda: spinnaker_stdp(A_plus=0.1, A_minus=0.12)}


@pytest.mark.parametrize("rule", sorted(EMULATED))
@pytest.mark.parametrize("backend", ["spinnaker", "loihi"])
def test_emulators_honour_the_switch(backend, rule):
    sim = simulation(emulator_network(EMULATED[rule]()), backend)
    _freeze_a_then_thaw(sim, duration=0.2)
    with pytest.raises(ModelError, match="got"):
        sim.set("a", "plastic", 0.5)        # the emulators switch learning on or off only
    assert not sim.frozen("a")


@pytest.mark.parametrize("backend", ["spinnaker", "loihi"])
def test_emulators_start_frozen_where_the_network_says_so(backend):
    sim = simulation(emulator_network(EMULATED["stdp"](), frozen=("a",)), backend)
    assert sim.frozen("a") and not sim.frozen("b")
    w0 = sim.get("a", "w")
    sim.run(0.2)
    np.testing.assert_array_equal(sim.get("a", "w"), w0)


# ------------------------------------------------------------------ refusals
def test_freezing_what_has_no_switch_is_refused_before_anything_changes():
    net = spiking_network(SPIKING["stdp"][0](), copies=("a",))
    net.connect("pre", "post", AllToAll(), weight=0.1 * nA, name="static")
    sim = simulation(net, "numba")
    sim.freeze("a")
    for name, why in (("static", "projection 'static' has nothing to freeze"),
                      ("post", r"population 'post' \(IF_curr_exp\) has nothing to freeze"),
                      ("pre", r"population 'pre' \(spikes\) has nothing to freeze"),
                      ("nowhere", "no population or projection named 'nowhere'")):
        for call in (sim.freeze, sim.unfreeze, sim.frozen):
            with pytest.raises(ModelError, match=why):
                call(name)
    assert sim.frozen("a")


# ------------------------------------------------------------------ targets
def test_pynn_exports_a_frozen_rule_as_a_static_synapse():
    from spikemem.interop.pynn import translate
    model = translate(emulator_network(EMULATED["stdp"](), frozen=("a",)))
    synapses = {p["name"]: p["synapse"] for p in model.spec["projections"]}
    assert synapses["a"] == {"type": "static"}
    assert synapses["b"]["type"] == "stdp"


def test_targets_refuse_a_switch_between_on_and_off():
    """A switch of 0.5 (half the learning rate) runs on the simulators; PyNN,
    SpiNNaker and Loihi learn or do not."""
    from spikemem.hardware.loihi.quantize import check
    from spikemem.interop.pynn import translate
    net = Network(dt=1 * ms, seed=1)
    net.spike_source("pre", 2, [[0.01], [0.02]])
    net.population("post", 2, IF_curr_exp())
    net.connect("pre", "post", AllToAll(), weight=0.5 * nA, synapse=EMULATED["stdp"](), params={"plastic": 0.5},
                name="half")
    with pytest.raises(ModelError, match="projection 'half': learning switch 'plastic' is \\[0.5\\]"):
        translate(net)
    with pytest.raises(ModelError, match="learning switch 'plastic' is \\[0.5\\]"):
        simulation(net, "spinnaker")
    assert any("plastic" in str(v) for v in check(net))
