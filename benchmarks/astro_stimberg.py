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

The JSON keeps the authors' deterministic traces every 100 ms and their
ring's wave (``reference``), which the test suite compares spikemem against without
the examples at hand (tests/glia/test_astrocytes.py), and the maximum and
root-mean-square differences over every step.
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


def authors_example_2(examples: str, duration=DURATION_S):
    """The authors' figure 2 script, its model and run part, in Brian2's runtime mode
    (numpy): the same dict for its first (deterministic) astrocyte."""
    import brian2

    with open(os.path.join(examples, "example_2_gchi_astrocyte.py")) as f:
        source = f.read()
    model = source.split("# Analysis and plotting")[0]
    model = model.replace("import plot_utils as pu", "")
    model = model.replace("set_device('cpp_standalone', directory=None)", "")
    model = model.replace("duration = 30*second", f"duration = {duration!r}*second")
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    scope = {}
    exec(compile(model, "example_2_gchi_astrocyte.py", "exec"), scope)
    mon = scope["astro_mon"]
    # Brian2's quantities as SI numbers (mol/m**3 = mM), as spikemem's traces are
    return {v: np.asarray(getattr(mon, v)[0], dtype=float) * SCALE[v] for v in VARIABLES}


def example_5(duration=RING_DURATION_S, backend="numba", every=20, **options):
    """Figure 5 in spikemem (``spikemem.models.astrocytes.ring``): the calcium wave in a ring of 50
    astrocytes coupled by IP3 diffusion, dt = 50 ms, rk4: (steps/every, 50) calcium in uM,
    recorded every ``every`` steps."""
    return ring_calcium(duration, backend, every, **options)


def authors_example_5(examples: str, duration=RING_DURATION_S, every=20):
    """The authors' figure 5 script, its model and run part, in Brian2's runtime mode:
    calcium (steps/every, 50) in uM."""
    import brian2

    with open(os.path.join(examples, "example_5_astro_ring.py")) as f:
        source = f.read()
    model = source.split("plt.style.use")[0]
    model = model.replace("import plot_utils as pu", "")
    model = model.replace("set_device('cpp_standalone', directory=None)", "")
    model = model.replace("duration = 4000*second", f"duration = {duration!r}*second")
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    scope = {}
    exec(compile(model, "example_5_astro_ring.py", "exec"), scope)
    return np.asarray(scope["astro_mon"].C, dtype=float).T[::every] * 1e3


def differences(ours: dict, ref: dict) -> dict:
    out = {}
    for v in VARIABLES:
        d = ours[v] - ref[v]
        out[v] = {"max_abs": float(np.max(np.abs(d))), "rms": float(np.sqrt(np.mean(d ** 2))),
                  "range": [float(np.min(ref[v])), float(np.max(ref[v]))]}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="brian2's examples/frompapers/Stimberg_et_al_2018")
    parser.add_argument("--out", default="benchmarks/results/astrocytes/02-stimberg.json")
    parser.add_argument("--duration", type=float, default=DURATION_S)
    parser.add_argument("--ring-duration", type=float, default=RING_DURATION_S)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    ref = authors_example_2(args.examples, args.duration)
    authors_s = time.perf_counter() - t0
    rows = []
    for backend in ("numba", "brian2-numpy"):
        t0 = time.perf_counter()
        ours = example_2(args.duration, backend)
        rows.append({"case": "example_2", "backend": backend, "duration_s": args.duration, "dt_ms": 1.0,
                     "astrocytes": 1, "run_s": round(time.perf_counter() - t0, 2),
                     "authors_script_s": round(authors_s, 2), "differences": differences(ours, ref)})
    t0 = time.perf_counter()
    ring_ref = authors_example_5(args.examples, args.ring_duration)
    authors_s = time.perf_counter() - t0
    for backend in ("numba", "brian2-numpy"):
        t0 = time.perf_counter()
        ring = example_5(args.ring_duration, backend)
        d = ring - ring_ref
        rows.append({"case": "example_5", "backend": backend, "duration_s": args.ring_duration, "dt_ms": 50.0,
                     "astrocytes": N_RING, "run_s": round(time.perf_counter() - t0, 2),
                     "authors_script_s": round(authors_s, 2),
                     "differences": {"C": {"max_abs": float(np.abs(d).max()), "rms": float(np.sqrt(np.mean(d ** 2))),
                                           "range": [float(ring_ref.min()), float(ring_ref.max())]}},
                     "wave": wave(ring)})
    from record import label, write_run_set
    write_run_set(args.out, "astrocytes", rows, label=label(argv, "--out"), units={"I": "uM", "C": "uM"},
                  reference={"example_2": {"every_steps": REFERENCE_EVERY,
                                           **{v: ref[v][::REFERENCE_EVERY].round(12).tolist() for v in VARIABLES}},
                             "example_5": {"record_s": 1.0, **wave(ring_ref)}})
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
