"""Populations with their own dt, and the numba kernel's schedule around them.

A slow population (``population(dt=...)``) updates, fires and reads its sums
only on its own ticks, as Brian2's ``NeuronGroup(dt=...)``; the Brian2 backend
runs it as such, the numba engine in one kernel, where it also computes such
sums only on those ticks and integrates the clock-driven equations of synapses
that nothing reads every step only when they are read
(``backends.numba.schedule``). Both must give what Brian2 gives, up to rounding.
"""
import dataclasses

import numpy as np
import pytest
from brian2 import ms

import spikemem as sm
from spikemem.backends import simulation
from spikemem.backends.numba.schedule import integrated_when_read, summed_gate
from spikemem.errors import ModelError

BACKENDS = [("numba", {}), ("brian2", {"target": "numpy"})]
DURATION = 0.2

#: a stand-in astrocyte: integrates the synapses' glutamate and releases gliotransmitter
ASTRO = sm.NeuronModel("""
    dc/dt = 0.1*Y_S/(mmolar*ms) - c/(20*ms) : 1
    dG_A/dt = -G_A/(30*ms) : mmolar
    Y_S : mmolar
    """, threshold="c > 0.5", reset="G_A += 0.01*mmolar\nc = 0", method="euler", name="toy_astrocyte")

TARGET = sm.NeuronModel("dg/dt = -g/(5*ms) : 1", receptors={"exc": "g"}, name="conductance")


def tripartite(astro_dt=1 * ms):
    """Ten regular spike trains onto four cells through gliotransmitter synapses,
    two astrocytes reading their glutamate and modulating them."""
    net = sm.Network(dt=0.1 * ms, seed=3)
    times = [np.arange(0.5 + k, DURATION * 1e3, 2.0 + 0.3 * k) * 1e-3 for k in range(10)]
    net.spike_source("src", 10, times)
    net.population("post", 4, TARGET)
    net.population("astro", 2, ASTRO, dt=astro_dt)
    glio = sm.gliotransmitter_synapse(event_driven=True)
    glio = dataclasses.replace(glio, on_pre=f"{glio.on_pre}\ng_post += w*r_S", init={"x_S": 1.0})
    pairs = np.array([(i, j) for i in range(10) for j in range(4) if (i + j) % 3])
    syn = net.connect("src", "post", sm.FromList(pairs), weight=1.0, synapse=glio, name="syn")
    covered = np.arange(0, len(pairs), 2)       # every other synapse has an astrocyte
    net.connect("astro", syn, sm.FromList(np.column_stack([covered % 2, covered])),
                synapse=sm.astrocyte_to_synapses(), name="astro_to_syn")
    net.connect(syn, "astro", sm.FromList(np.column_stack([covered, covered % 2])),
                synapse=sm.synapses_to_astrocyte(), name="syn_to_astro")
    net.record_spikes("astro")
    net.record_state("post", ["g"])
    net.record_state("astro", ["c", "G_A"])
    return net


def run(net, backend, options, halves=False):
    sim = simulation(net, backend, progress=False, **options)
    if halves:
        sim.run(DURATION / 2)
        sim.run(DURATION / 2)
    else:
        sim.run(DURATION)
    r = sim.result()
    synapses = {v: np.asarray(sim.get("syn", v), float) for v in ("Y_S", "Gamma_S", "x_S", "u_S")}
    return r, synapses


def test_population_dt_must_be_a_whole_multiple():
    net = sm.Network(dt=0.1 * ms)
    with pytest.raises(ModelError, match=r"population 'a': dt 0.00025 s must be a whole multiple"):
        net.population("a", 2, TARGET, dt=0.25 * ms)
    with pytest.raises(ModelError, match=r"population 'b': dt 0 s"):
        net.population("b", 2, TARGET, dt=0 * ms)


def test_refractory_period_with_own_dt_is_refused():
    net = sm.Network(dt=0.1 * ms)
    model = sm.NeuronModel("dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", refractory=2 * ms,
                           name="held")
    net.population("a", 2, model, dt=1 * ms)
    with pytest.raises(ModelError, match=r"population 'a': a refractory period counts the network's steps"):
        net.build()


def test_own_dt_survives_save_and_load(tmp_path):
    net = tripartite()
    net.save(tmp_path / "net.json")
    again = sm.Network.load(tmp_path / "net.json")
    assert again.build().populations["astro"].every == 10
    assert again.hash() == net.hash() != tripartite(astro_dt=None).hash()


@pytest.mark.parametrize("backend,options", BACKENDS)
def test_slow_population_steps_on_its_ticks(backend, options):
    r, _ = run(tripartite(), backend, options)
    steps = np.rint(r.spikes["astro"].times / 1e-4).astype(int)
    assert steps.size > 5 and np.all(steps % 10 == 0)
    c = r.traces["astro.c"].values
    # its state changes on the ticks only: the records of steps 10k + 1 ... 10k + 10 (each the
    # state at the start of its step) are the state after the update of step 10k
    held = c[1:1 + 10 * ((len(c) - 1) // 10)].reshape(-1, 10, c.shape[1])
    assert np.all(held == held[:, :1]) and np.any(held[1:, 0] != held[:-1, 0])


def test_schedule_integrates_the_synapses_when_read():
    built = tripartite().build()
    assert integrated_when_read(built) == {"syn"}
    projections = {p.name: p for p in built.projections}
    assert summed_gate(built, projections["syn_to_astro"], "post") == (10, 0)    # onto the astrocytes' ticks
    assert summed_gate(built, projections["astro_to_syn"], "post") == (10, 1)    # after them
    # at the network's dt the sums are needed every step, and so are the synapses' values
    assert integrated_when_read(tripartite(astro_dt=None).build()) == set()


def test_numba_agrees_with_brian2():
    (ours, our_syn), (ref, ref_syn) = [run(tripartite(), b, o, halves=b == "numba") for b, o in BACKENDS]
    assert np.array_equal(ours.spikes["astro"].ids, ref.spikes["astro"].ids)
    assert np.allclose(ours.spikes["astro"].times, ref.spikes["astro"].times, rtol=0, atol=1e-9)
    assert ref_syn["Gamma_S"].max() > 0.01       # the gliotransmitter reached the synapses
    for var, values in ref_syn.items():
        assert np.allclose(our_syn[var], values, rtol=1e-9, atol=1e-12), var
    for name, trace in ref.traces.items():
        assert np.allclose(ours.traces[name].values, trace.values, rtol=1e-9, atol=1e-15), name


def slow_driver(reset_target=False, delayed_sum=False):
    """A slow cell whose v drives a fast cell's I through a sum, optionally with the fast
    cell's reset also writing I, or with a delayed sum onto the slow cell."""
    net = sm.Network(dt=0.1 * ms, seed=0)
    slow = sm.NeuronModel("dv/dt = (1.5 - v)/(4*ms) : 1\nY : 1", threshold="v > 1", reset="v = 0",
                          method="exact", name="slow_cell")
    fast = sm.NeuronModel("dx/dt = (I - x)/(2*ms) : 1\nI : 1", threshold="x > 0.5",
                          reset="x = 0" + ("\nI = 0" if reset_target else ""), method="euler", name="fast_cell")
    net.population("slow", 1, slow, dt=1 * ms)
    net.population("fast", 1, fast)
    net.connect("slow", "fast", sm.AllToAll(), weight=1.0, receptor="I",
                synapse=sm.SynapseModel("w : 1\nI_post = 2*v_pre : 1 (summed)"), name="drive")
    if delayed_sum:
        net.connect("fast", "slow", sm.AllToAll(), weight=1.0, delay=0.5 * ms, receptor="Y",
                    synapse=sm.SynapseModel("w : 1\nY_post = x_pre : 1 (summed)"), name="back")
    net.record_spikes("fast")
    net.record_state("fast", ["I"])
    return net


def test_a_slow_populations_spikes_are_not_delivered():
    net = slow_driver()
    net.connect("slow", "fast", sm.AllToAll(), weight=1.0, receptor="x", name="spikes")
    with pytest.raises(ModelError, match=r"projection 'spikes': it delivers the spikes of population 'slow', "
                                         r"which has its own dt"):
        net.build()


@pytest.mark.parametrize("case", ["reset_target", "delayed_sum"])
def test_a_sum_from_a_slow_population_runs_every_step_where_its_values_can_change(case):
    """The fast cell's reset writes the sum's target, or a delayed sum writes the slow
    cell between its ticks: the sum from it is computed every step, as in Brian2."""
    net = slow_driver(**{case: True})
    built = net.build()
    assert summed_gate(built, built.projections[0], "post") is None
    plain = slow_driver().build()
    assert summed_gate(plain, plain.projections[0], "post") == (10, 1)
    if case == "reset_target":
        ours, ref = [simulation(slow_driver(reset_target=True), b, progress=False, **o) for b, o in BACKENDS]
        for sim in (ours, ref):
            sim.run(0.05)
        assert ours.result().spikes["fast"].times.size > 10
        assert np.allclose(ours.result().spikes["fast"].times, ref.result().spikes["fast"].times, atol=1e-9)


def test_a_bare_postsynaptic_name_is_read_every_step():
    """In a synapse's equations a name the synapse lacks is the postsynaptic neuron's
    (here g, which every spike changes): not integrated when read."""
    net = sm.Network(dt=0.1 * ms)
    net.spike_source("src", 1, [np.arange(1, 30) * 1e-3])
    net.population("post", 1, TARGET)
    model = sm.SynapseModel("w : 1\ndx/dt = (g - x)/(3*ms) : 1 (clock-driven)", on_pre="g_post += w*(1 + x)")
    net.connect("src", "post", sm.AllToAll(), weight=1.0, synapse=model, name="p")
    assert integrated_when_read(net.build()) == set()
    values = []
    for backend, options in BACKENDS:
        sim = simulation(net, backend, progress=False, **options)
        sim.run(0.03)
        values.append(np.asarray(sim.get("p", "x"), float))
    assert values[0][0] > 0.5 and np.allclose(values[0], values[1], rtol=1e-9)


def test_a_slow_population_takes_its_inputs_on_its_ticks():
    traces = []
    for backend, options in BACKENDS:
        net = sm.Network(dt=0.1 * ms)
        net.population("a", 1, sm.NeuronModel("dv/dt = (I - v)/(5*ms) : 1\nI : 1", method="euler", name="drv"),
                       dt=1 * ms)
        net.current("a", [0.35e-3, 1.1e-3], [1.0, 2.0], variable="I")
        net.record_state("a", ["I", "v"])
        sim = simulation(net, backend, progress=False, **options)
        sim.run(3e-3)
        traces.append({k: t.values[:, 0] for k, t in sim.result().traces.items()})
    # the changes due at 0.35 and 1.1 ms are taken at the ticks of 1 and 2 ms (records 10 and 20)
    assert np.flatnonzero(np.diff(traces[0]["a.I"])).tolist() == [9, 19]
    for name, values in traces[1].items():
        assert np.allclose(traces[0][name], values, rtol=1e-12), name


def test_float32_keeps_float64_integration_times():
    sim = simulation(tripartite(), "numba", progress=False, dtype="float32")
    sim.run(0.02)
    times = [v for k, v in sim.values.items() if "lastintegrated" in k]
    assert len(times) == 2 and all(v.dtype == np.float64 for v in times)
    assert np.allclose(times[0], 0.02, rtol=0, atol=1e-12)
