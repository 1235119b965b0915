"""The G-ChI astrocyte (spikemem.glia) against Brian2 running Stimberg et al.'s own examples.

    python benchmarks/astro_stimberg.py --examples BRIAN2/examples/frompapers/Stimberg_et_al_2018 \
        --out benchmarks/results/astrocytes/02-stimberg.json

Stimberg, Goodman, Brette and De Pitta (2019), "Modeling neuron-glia
interactions with the Brian 2 simulator", ship their figures as Brian2
examples (brian-team/brian2, examples/frompapers/Stimberg_et_al_2018). Here
Brian2 runs the authors' script itself -- its model and run part, unchanged
but for the device (runtime, numpy) -- and spikemem runs the same model built
from its own pieces:

- ``example_2`` (figure 2): a source neuron firing at 0.5 Hz, one synapse whose
  neurotransmitter Y_S drives two G-ChI astrocytes through a projection from
  the synapse to them (``synapses_to_astrocyte``), 30 s at dt = 1 ms. The
  deterministic astrocyte (the first) is compared, trace for trace: Gamma_A,
  I and C (uM) and h. The second astrocyte of the figure is stochastic (noise
  on h, Milstein's method); spikemem's G-ChI is deterministic and leaves it out.
- ``example_5`` (figure 5): the calcium wave in a ring of 50 astrocytes that
  exchange IP3 through gap junctions (a summed projection between neighbours),
  the middle one stimulated 20 s of every 50 s; 4000 s at dt = 50 ms, rk4.
  Calcium of every astrocyte is compared every second (max and RMS), and the
  wave summarised: each astrocyte's peak and the time calcium first exceeds
  0.5 uM there.

- ``example_3`` (figure 3): gliotransmission modulates synaptic release. A
  source fires 16 spikes after a 16.5 s transient through three
  gliotransmitter-modulated synapses (``gliotransmitter_synapse``); two
  astrocytes (``GChI(gliotransmission=True)``: threshold and refractory
  condition ``C > C_Theta``, the release as their reset), stimulated by
  their IP3 bias, release gliotransmitter onto the second and third synapse
  (``astrocyte_to_synapses``). Compared trace for trace: C and G_A of the
  astrocytes, u_S, x_S, r_S and Y_S of the synapses.
- ``example_4_synrel`` (figure 4B): 500 Poisson sources whose rate steps up
  every 5 s, each with three synapses (closed-loop gliotransmission: its
  astrocyte reads the synapse's Y_S; open loop: a stimulated astrocyte; none)
  and 1000 astrocytes, 20 s. Compared: each group's mean Y_S every 10 ms
  and its mean over each rate step.
- ``example_4_rsmean`` (figure 4C): the I/O curves, the mean (and standard
  deviation) over time of each synapse's released resources r_S per input
  rate and group, 195 s. The authors' 100 rates (0.1 to 100 Hz) are reduced
  to 10 on the same range (``RSMEAN_N``) in both runs.

Figure 4's Poisson input is drawn as Brian2's runtime mode draws it from the
authors' seed (``brian2_poisson``; checked against their run's spikes,
``input_spikes_identical``) and given to spikemem as spike sources. spikemem
records populations only: a summed projection copies the synapses' state into
"probe" populations, which hold it one step late.

The JSON keeps the authors' deterministic traces, their ring's wave and figure
4's statistics (``reference``), which the test suite compares spikemem against
without the examples at hand (tests/glia/test_astrocytes.py), and the maximum
and root-mean-square differences. ``--cases`` runs some of the cases and keeps
the others' rows from ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

# figure 5's ring (its equations, parameters, builder and wave) is the model zoo's
from spikemem.models.astrocytes.ring import (N_RING, RING_DURATION_S, RING_EQUATIONS, RING_PARAMS,  # noqa: F401
                                             WAVE_THRESHOLD_UM, ring_calcium, wave)
from spikemem.models.astrocytes.ring import unit_name as _unit  # noqa: F401

DURATION_S = 30.0
VARIABLES = ("Gamma_A", "I", "C", "h")
#: concentrations are reported in uM
SCALE = {"Gamma_A": 1.0, "I": 1e3, "C": 1e3, "h": 1.0}
REFERENCE_EVERY = 100     # steps between the stored reference samples


def example_2(duration=DURATION_S, backend="numba", **options):
    """Figure 2 in spikemem: {variable: (steps,) trace of the deterministic astrocyte, uM or 1}
    (``options``: the backend's, e.g. ``dtype="float64"`` for torch)."""
    import spikemem as sm
    from brian2 import Hz, ms

    net = sm.Network(dt=1 * ms, seed=0)
    clock = sm.NeuronModel("dx/dt = f_0 : 1\nf_0 : hertz (constant)", threshold="x > 1", reset="x = 0", method="euler",
                           params={"f_0": 0.5 * Hz}, name="regular")
    net.population("source", 1, clock)
    net.population("target", 1, sm.NeuronModel("dv/dt = -v/second : 1", receptors={"exc": "v"}, name="dummy"))
    synapse = net.connect("source", "target", sm.AllToAll(), weight=0.0, synapse=sm.glutamate_synapse(),
                          name="synapses")
    net.population("astrocytes", 1, sm.GChI())
    net.connect(synapse, "astrocytes", sm.AllToAll(), synapse=sm.synapses_to_astrocyte(), name="ecs_syn_to_astro")
    net.record_state("astrocytes", VARIABLES)
    result = sm.simulate(net, duration, backend=backend, **options)
    return {v: result.traces[f"astrocytes.{v}"].values[:, 0] * SCALE[v] for v in VARIABLES}


def authors_script(examples: str, script: str, end: str, replace: dict | None = None) -> dict:
    """Run the model and run part of one of the authors' scripts (the text before
    ``end``) in Brian2's runtime mode (numpy), without the plotting helpers, the
    C++ device and the progress report, each ``replace`` pair (a line of
    theirs, ours) applied; the script's namespace after the run."""
    import brian2

    with open(os.path.join(examples, script)) as f:
        model = f.read().split(end)[0]
    for old in ("import plot_utils as pu", "set_device('cpp_standalone', directory=None)", ", report='text'"):
        model = model.replace(old, "")
    for old, new in (replace or {}).items():
        if old not in model:
            raise ValueError(f"{script}: {old!r} not found; the authors' script has changed")
        model = model.replace(old, new)
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    scope = {}
    exec(compile(model, script, "exec"), scope)
    return scope


def authors_example_2(examples: str, duration=DURATION_S):
    """The authors' figure 2 script: the same dict for its first (deterministic) astrocyte."""
    scope = authors_script(examples, "example_2_gchi_astrocyte.py", "# Analysis and plotting",
                           {"duration = 30*second": f"duration = {duration!r}*second"})
    mon = scope["astro_mon"]
    # Brian2's quantities as SI numbers (mol/m**3 = mM), as spikemem's traces are
    return {v: np.asarray(getattr(mon, v)[0], dtype=float) * SCALE[v] for v in VARIABLES}


def example_5(duration=RING_DURATION_S, backend="numba", every=20, **options):
    """Figure 5 in spikemem (``spikemem.models.astrocytes.ring``): the calcium wave in a ring of 50
    astrocytes coupled by IP3 diffusion, dt = 50 ms, rk4: (steps/every, 50) calcium in uM,
    recorded every ``every`` steps."""
    return ring_calcium(duration, backend, every, **options)


def authors_example_5(examples: str, duration=RING_DURATION_S, every=20):
    """The authors' figure 5 script: calcium (steps/every, 50) in uM."""
    scope = authors_script(examples, "example_5_astro_ring.py", "plt.style.use",
                           {"duration = 4000*second": f"duration = {duration!r}*second"})
    return np.asarray(scope["astro_mon"].C, dtype=float).T[::every] * 1e3


#: figures 3 and 4's astrocyte parameters where they differ from figure 2's
FIG34_ASTROCYTE = dict(K_P=0.05e-3, O_delta=0.6e-3, K_delta=0.1e-3, Omega_5P=0.05, K_D=0.7e-3, F_ex=2.0e-3,
                       O_beta=3.2e-3)     # SI: mM, mM/s, 1/s
#: the synaptic variables the figures record (concentrations in uM)
SYNAPTIC = {"u_S": "1", "x_S": "1", "r_S": "1", "Y_S": "mmolar"}
FIG3_TRANSIENT_S = 16.5
FIG3_SPIKES_MS = (0, 50, 100, 150, 200, 300, 310, 320, 330, 340, 350, 360, 370, 380, 390, 400)


def _probe(net, projections, n_each: int, variables, pooled: bool = False) -> list:
    """Populations that hold ``variables`` of the synapses of ``projections``
    (``n_each`` synapses each), one per projection (Brian2 sums into a
    variable from one projection only): a neuron per synapse, or with
    ``pooled`` one neuron holding the sum over the projection's synapses.
    spikemem records populations, and a summed projection carries synaptic
    state to one; a probe holds the state at the start of the step before
    (sums are taken before the update). Their names, each recorded."""
    import spikemem as sm
    model = sm.NeuronModel("\n".join(f"{v} : {SYNAPTIC[v]}" for v in variables), name="probe")
    summed = sm.SynapseModel("\n".join(f"{v}_post = {v}_pre : {SYNAPTIC[v]} (summed)" for v in variables),
                             name="probe")
    names = []
    for proj in projections:
        name = f"probe_{proj.name}"
        net.population(name, 1 if pooled else n_each, model)
        pairs = [(s, 0 if pooled else s) for s in range(n_each)]
        net.connect(proj, name, sm.FromList(pairs), synapse=summed, name=f"to_{name}")
        net.record_state(name, tuple(variables))
        names.append(name)
    return names


def _astrocytes():
    """Figures 3 and 4's astrocyte: G-ChI releasing gliotransmitter, rk4."""
    import spikemem as sm
    return sm.GChI("rk4", gliotransmission=True, **FIG34_ASTROCYTE)


def _dummy():
    import spikemem as sm
    return sm.NeuronModel("dv/dt = -v/second : 1", receptors={"exc": "v"}, name="dummy")


def example_3(backend="numba", **options) -> dict:
    """Figure 3 in spikemem: a source firing 16 spikes after a 16.5 s transient,
    three gliotransmitter-modulated synapses (none, then one per astrocyte),
    two astrocytes stimulated by their IP3 bias (0.8 and 1.25 uM) whose
    release modulates the second and third synapse. {variable: (steps, n)}:
    C and G_A of the astrocytes, u_S, x_S, r_S and Y_S of the synapses
    (concentrations in uM), as the authors' monitors record them."""
    import spikemem as sm
    from brian2 import ms, umolar

    net = sm.Network(dt=1 * ms, seed=0)
    times = (FIG3_TRANSIENT_S + np.array(FIG3_SPIKES_MS) * 1e-3,)
    net.spike_source("source", 1, times)
    net.population("target", 3, _dummy())
    synapses = net.connect("source", "target", sm.AllToAll(), weight=0.0, synapse=sm.gliotransmitter_synapse(),
                           name="synapses")
    net.population("astrocytes", 2, _astrocytes(), params={"I_bias": np.array([0.8, 1.25]) * 1e-3},
                   init={"I": 0.4 * umolar})
    net.connect("astrocytes", synapses, sm.FromList([(0, 1), (1, 2)]), synapse=sm.astrocyte_to_synapses(),
                name="ecs_astro_to_syn")
    net.record_state("astrocytes", ("C", "G_A"))
    probe, = _probe(net, [synapses], 3, SYNAPTIC)
    # one step more: the probe's record of step k + 1 is the synapses' state at step k
    result = sm.simulate(net, FIG3_TRANSIENT_S + 0.6 + 1e-3, backend=backend, **options)
    out = {v: result.traces[f"astrocytes.{v}"].values[:-1] * 1e3 for v in ("C", "G_A")}
    out.update({v: result.traces[f"{probe}.{v}"].values[1:] * (1e3 if v == "Y_S" else 1) for v in SYNAPTIC})
    return out


def authors_example_3(examples: str) -> dict:
    """The authors' figure 3 script: the same dict."""
    scope = authors_script(examples, "example_3_io_synapse.py", "# Analysis and plotting")
    out = {v: np.asarray(getattr(scope["ast_mon"], v), dtype=float).T * 1e3 for v in ("C", "G_A")}
    out.update({v: np.asarray(getattr(scope["syn_mon"], v), dtype=float).T * (1e3 if v == "Y_S" else 1)
                for v in SYNAPTIC})
    return out


def brian2_poisson(seed: int, probability) -> tuple:
    """The spikes of a Brian2 PoissonGroup in runtime (numpy) mode, as the
    authors' scripts draw them after ``seed(seed)``: at each step k, neuron j
    fires where ``rand() < probability[k, j]`` (rate times dt), one uniform
    number per neuron and step from numpy's global generator. (steps, ids),
    in firing order; the benchmark checks them against the authors' own run."""
    rng = np.random.RandomState(seed)
    fired = [np.flatnonzero(rng.rand(p.size) < p) for p in probability]
    steps = np.repeat(np.arange(len(fired)), [f.size for f in fired])
    return steps, (np.concatenate(fired) if fired else np.zeros(0, np.int64))


#: figure 4B's input: the presynaptic rate steps up every 5 s (Hz)
SYNREL_RATES_HZ = (0.011, 0.11, 1.1, 11.0)
SYNREL_SEED, SYNREL_N, SYNREL_DURATION_S = 16283, 500, 20.0
#: figure 4C: rates logspace(-1, 2, n); the authors' n = 100 is reduced to RSMEAN_N
RSMEAN_SEED, RSMEAN_N, RSMEAN_TRANSIENT_S, RSMEAN_DURATION_S = 1929, 10, 15.0, 195.0
LOOPS = ("closed", "open", "none")      # the authors' order of the three synapse groups


def synrel_spikes(n=SYNREL_N, duration=SYNREL_DURATION_S) -> tuple:
    """Figure 4B's Poisson input to ``n`` synapses (the authors draw 500)."""
    steps = int(round(duration / 1e-3))
    rate = np.asarray(SYNREL_RATES_HZ)[np.minimum(np.arange(steps) // 5000, len(SYNREL_RATES_HZ) - 1)]
    return brian2_poisson(SYNREL_SEED, np.repeat(rate[:, None] * 1e-3, n, axis=1))


def rsmean_rates(n=RSMEAN_N) -> np.ndarray:
    return np.logspace(-1, 2, n)


def rsmean_spikes(n=RSMEAN_N, duration=RSMEAN_DURATION_S) -> tuple:
    steps = int(round(duration / 1e-3))
    return brian2_poisson(RSMEAN_SEED, np.broadcast_to(rsmean_rates(n) * 1e-3, (steps, n)))


def _figure_4(spikes, n, duration, variable, pooled, backend, options):
    """Figure 4's circuit in spikemem: n sources, each with three synapses
    (closed loop: its astrocyte reads the synapse's Y_S and modulates it;
    open loop: an astrocyte driven by its IP3 bias of 1 uM modulates it;
    none), u_S and x_S event-driven, x_S starting at 1. ``variable`` of the
    synapses each step from t = 0 (summed over each group where ``pooled``)."""
    import spikemem as sm
    from brian2 import ms

    net = sm.Network(dt=1 * ms, seed=0)
    steps, ids = spikes
    net.spike_source("source", n, steps * 1e-3, ids=ids)
    net.population("target", n, _dummy())
    loops = {name: net.connect("source", "target", sm.OneToOne(), weight=0.0, name=name, init={"x_S": 1.0},
                               synapse=sm.gliotransmitter_synapse(event_driven=True)) for name in LOOPS}
    # as the authors: one group of 2n astrocytes, the second half stimulated
    net.population("astrocytes", 2 * n, _astrocytes(), params={"I_bias": np.repeat([0.0, 1e-3], n)})
    one_to_one = [(k, k) for k in range(n)]
    net.connect(loops["closed"], "astrocytes", sm.FromList(one_to_one), synapse=sm.synapses_to_astrocyte(),
                name="ecs_syn_to_astro")
    for half, name in enumerate(("closed", "open")):
        net.connect("astrocytes", loops[name], sm.FromList([(half * n + k, k) for k in range(n)]),
                    synapse=sm.astrocyte_to_synapses(), name=f"ecs_astro_to_syn_{name}")
    probes = _probe(net, [loops[name] for name in LOOPS], n, (variable,), pooled=pooled)
    result = sm.simulate(net, duration + 1e-3, backend=backend, **options)
    return np.concatenate([result.traces[f"{p}.{variable}"].values[1:] for p in probes], axis=1)


def example_4_synrel(n=SYNREL_N, duration=SYNREL_DURATION_S, backend="numba", **options) -> np.ndarray:
    """Figure 4B in spikemem: the mean Y_S (uM) of each group of synapses
    (closed, open, none), (steps, 3), from the authors' Poisson input to
    their first ``n`` synapses (each synapse and its astrocyte are a circuit
    of their own, so a subset runs as in the whole)."""
    spikes = synrel_spikes(SYNREL_N, duration)
    keep = spikes[1] < n
    return _figure_4((spikes[0][keep], spikes[1][keep]), n, duration, "Y_S", True, backend, options) / n * 1e3


def example_4_rsmean(n=RSMEAN_N, duration=RSMEAN_DURATION_S, backend="numba", **options) -> dict:
    """Figure 4C in spikemem: the mean and standard deviation over time of the
    released resources r_S of each synapse, (3, n) each (groups closed, open,
    none; rates ``rsmean_rates(n)``), as the authors' figure computes them."""
    r = _figure_4(rsmean_spikes(n, duration), n, duration, "r_S", False, backend, options)
    r = r.reshape(len(r), len(LOOPS), n)
    return {"mean": r.mean(0), "std": r.std(0)}


def authors_example_4_synrel(examples: str) -> tuple:
    """The authors' figure 4B script: (Y_S (uM) of each synapse every 10 ms,
    (3 groups, 500, samples); its input's spikes as (steps, ids))."""
    scope = authors_script(examples, "example_4_synrel.py", "# Analysis and plotting", {
        "run(duration)": "spike_mon = SpikeMonitor(source_neurons)\nrun(duration)"})
    y = np.asarray(scope["syn_mon"].Y_S, dtype=float).reshape(len(LOOPS), SYNREL_N, -1) * 1e3
    mon = scope["spike_mon"]
    return y, (np.rint(np.asarray(mon.t) / 1e-3).astype(int), np.asarray(mon.i))


#: the authors' figure 4B monitor records every 10 steps
SYNREL_RECORD_STEPS = 10


def authors_example_4_rsmean(examples: str, n=RSMEAN_N, duration=RSMEAN_DURATION_S) -> tuple:
    """The authors' figure 4C script with ``n`` rates (theirs: 100) over
    ``duration``: ({"mean", "std"} of r_S, (3, n) each; its input's spikes)."""
    scope = authors_script(examples, "example_4_rsmean.py", "# Analysis and plotting", {
        "N_synapses = 100": f"N_synapses = {n}",
        "duration = transient + 180*second": f"duration = {duration!r}*second",
        "run(duration)": "spike_mon = SpikeMonitor(source_neurons)\nrun(duration)"})
    r = np.asarray(scope["syn_mon"].r_S, dtype=float).reshape(len(LOOPS), n, -1)
    mon = scope["spike_mon"]
    return {"mean": r.mean(2), "std": r.std(2)}, (np.rint(np.asarray(mon.t) / 1e-3).astype(int),
                                                  np.asarray(mon.i))


def differences(ours: dict, ref: dict, variables=VARIABLES) -> dict:
    out = {}
    for v in variables:
        d = np.asarray(ours[v]) - np.asarray(ref[v])
        out[v] = {"max_abs": float(np.max(np.abs(d))), "rms": float(np.sqrt(np.mean(d ** 2))),
                  "range": [float(np.min(ref[v])), float(np.max(ref[v]))]}
    return out


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - t0, 2)


def _same_spikes(ours: tuple, theirs: tuple) -> bool:
    """Whether two (steps, ids) spike lists hold the same spikes."""
    order = [np.lexsort((ids, steps)) for steps, ids in (ours, theirs)]
    return all(np.array_equal(a[o[0]], b[o[1]]) for a, b, o in zip(ours, theirs, [order] * 2))


def _rounded(a, every=1) -> list:
    return np.asarray(a)[::every].round(12).tolist()


#: the figure 4B subset the tests run (the first synapses of each group)
SYNREL_SUBSET = 20
#: figure 3's synaptic traces are stored over the stimulation (the last 600 ms)
FIG3_SYNAPSE_EVERY = 5


def case_example_2(args) -> tuple:
    ref, authors_s = _timed(authors_example_2, args.examples, args.duration)
    rows = []
    for backend in BACKENDS:
        ours, run_s = _timed(example_2, args.duration, backend)
        rows.append({"case": "example_2", "backend": backend, "duration_s": args.duration, "dt_ms": 1.0,
                     "astrocytes": 1, "run_s": run_s, "authors_script_s": authors_s,
                     "differences": differences(ours, ref)})
    return rows, {"every_steps": REFERENCE_EVERY, **{v: _rounded(ref[v], REFERENCE_EVERY) for v in VARIABLES}}


def case_example_3(args) -> tuple:
    ref, authors_s = _timed(authors_example_3, args.examples)
    rows = []
    for backend in BACKENDS:
        ours, run_s = _timed(example_3, backend)
        rows.append({"case": "example_3", "backend": backend, "duration_s": FIG3_TRANSIENT_S + 0.6, "dt_ms": 1.0,
                     "astrocytes": 2, "synapses": 3, "run_s": run_s, "authors_script_s": authors_s,
                     "differences": differences(ours, ref, ref)})
    start = int(round(FIG3_TRANSIENT_S / 1e-3))
    return rows, {"astrocyte_every_steps": REFERENCE_EVERY, "synapse_from_step": start,
                  "synapse_every_steps": FIG3_SYNAPSE_EVERY,
                  **{v: _rounded(ref[v], REFERENCE_EVERY) for v in ("C", "G_A")},
                  **{v: _rounded(ref[v][start:], FIG3_SYNAPSE_EVERY) for v in SYNAPTIC}}


def _window_means(y: np.ndarray) -> np.ndarray:
    """Figure 4B's statistic from mean Y_S sampled every 10 ms: each group's
    mean over each 5 s rate step (uM), (4, 3)."""
    per_step = int(round(5.0 / (SYNREL_RECORD_STEPS * 1e-3)))
    return y[:len(y) // per_step * per_step].reshape(-1, per_step, y.shape[1]).mean(1)


def case_example_4_synrel(args) -> tuple:
    (y, spikes), authors_s = _timed(authors_example_4_synrel, args.examples)
    ref = y.mean(1).T            # (samples every 10 ms, 3 groups)
    same = _same_spikes(synrel_spikes(), spikes)
    rows = []
    for backend in BACKENDS:
        ours, run_s = _timed(example_4_synrel, SYNREL_N, SYNREL_DURATION_S, backend)
        ours = ours[::SYNREL_RECORD_STEPS]
        d = differences({"Y_S": ours}, {"Y_S": ref}, ("Y_S",))
        d["Y_S_window_means"] = differences({"m": _window_means(ours)}, {"m": _window_means(ref)}, ("m",))["m"]
        rows.append({"case": "example_4_synrel", "backend": backend, "duration_s": SYNREL_DURATION_S,
                     "dt_ms": 1.0, "astrocytes": 2 * SYNREL_N, "synapses": 3 * SYNREL_N, "run_s": run_s,
                     "authors_script_s": authors_s, "input_spikes_identical": same, "differences": d})
    every = REFERENCE_EVERY // SYNREL_RECORD_STEPS
    return rows, {"groups": list(LOOPS), "every_steps": REFERENCE_EVERY, "Y_S_mean": _rounded(ref, every),
                  "window_means": _window_means(ref).round(9).tolist(), "subset": SYNREL_SUBSET,
                  "subset_Y_S_mean": _rounded(y[:, :SYNREL_SUBSET].mean(1).T, every)}


def case_example_4_rsmean(args) -> tuple:
    (ref, spikes), authors_s = _timed(authors_example_4_rsmean, args.examples, RSMEAN_N, RSMEAN_DURATION_S)
    same = _same_spikes(rsmean_spikes(), spikes)
    rows = []
    for backend in BACKENDS[:1]:        # spikemem's Brian2 backend would take as long as the authors' script
        ours, run_s = _timed(example_4_rsmean, RSMEAN_N, RSMEAN_DURATION_S, backend)
        rows.append({"case": "example_4_rsmean", "backend": backend, "duration_s": RSMEAN_DURATION_S,
                     "dt_ms": 1.0, "astrocytes": 2 * RSMEAN_N, "synapses": 3 * RSMEAN_N, "rates": RSMEAN_N,
                     "run_s": run_s, "authors_script_s": authors_s, "input_spikes_identical": same,
                     "differences": {f"r_S_{k}": v for k, v in differences(ours, ref, ("mean", "std")).items()}})
    return rows, {"groups": list(LOOPS), "rates_Hz": rsmean_rates().round(12).tolist(),
                  "r_S_mean": _rounded(ref["mean"]), "r_S_std": _rounded(ref["std"])}


def case_example_5(args) -> tuple:
    ring_ref, authors_s = _timed(authors_example_5, args.examples, args.ring_duration)
    rows = []
    for backend in BACKENDS:
        ring, run_s = _timed(example_5, args.ring_duration, backend)
        d = ring - ring_ref
        rows.append({"case": "example_5", "backend": backend, "duration_s": args.ring_duration, "dt_ms": 50.0,
                     "astrocytes": N_RING, "run_s": run_s, "authors_script_s": authors_s,
                     "differences": {"C": {"max_abs": float(np.abs(d).max()), "rms": float(np.sqrt(np.mean(d ** 2))),
                                           "range": [float(ring_ref.min()), float(ring_ref.max())]}},
                     "wave": wave(ring)})
    return rows, {"record_s": 1.0, **wave(ring_ref)}


BACKENDS = ("numba", "brian2-numpy")
CASES = {"example_2": case_example_2, "example_3": case_example_3, "example_4_synrel": case_example_4_synrel,
         "example_4_rsmean": case_example_4_rsmean, "example_5": case_example_5}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="brian2's examples/frompapers/Stimberg_et_al_2018")
    parser.add_argument("--out", default="benchmarks/results/astrocytes/02-stimberg.json")
    parser.add_argument("--duration", type=float, default=DURATION_S)
    parser.add_argument("--ring-duration", type=float, default=RING_DURATION_S)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES),
                        help="run these; the rows and references of the others are kept from --out")
    args = parser.parse_args(argv)
    rows, reference = {}, {}
    if set(args.cases) != set(CASES) and os.path.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
        for row in old["rows"]:
            rows.setdefault(row["case"], []).append(row)
        reference.update(old.get("reference", {}))
    from record import label, write_run_set
    for case in args.cases:       # written after each case: a long run keeps what it has
        rows[case], reference[case] = CASES[case](args)
        ordered = [row for case in CASES for row in rows.get(case, [])]
        write_run_set(args.out, "astrocytes", ordered, label=label(argv, "--out"),
                      units={"I": "uM", "C": "uM", "G_A": "uM", "Y_S": "uM"},
                      reference={case: reference[case] for case in CASES if case in reference})
    print(json.dumps(ordered, indent=1))


if __name__ == "__main__":
    main()
