"""Seconds per training image and bytes per plastic synapse of the place-recognition module.

    python benchmarks/place_training.py [N_IMAGES] [numba,numba-shared,brian2-cython]

The module of 400 excitatory neurons and 784 inputs learns random 28x28
images as Diehl and Cook train: normalise the weights, 0.35 s of input, 0.15 s
of rest. One warm-up image per backend, then N_IMAGES timed. numba-shared:
the numba engine with ``shared_traces=True`` (traces held once per neuron).
For numba: ``synapse_bytes()`` (all projections), the plastic projection's
weight, traces and last updates, and every array it holds, per plastic synapse.
"""
import sys
import time
from pathlib import Path

import numpy as np

# the repository's models/ (appended: a spikemem on PYTHONPATH, another version to compare, comes first)
sys.path.append(str(Path(__file__).resolve().parents[1]))

import spikemem  # noqa: E402
import spikemem.plasticity  # noqa: E402
from models.place_recognition import module, network  # noqa: E402
from spikemem.backends import simulation  # noqa: E402

n_images = int(sys.argv[1]) if len(sys.argv) > 1 else 10
backends = sys.argv[2].split(",") if len(sys.argv) > 2 else ["numba", "numba-shared", "brian2-cython"]
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (n_images + 1, 28, 28), dtype=np.uint8)
rates = module.rates_of(images, 784)
total = network.normalisation_total()

print("spikemem from", spikemem.__file__)
for name in backends:
    backend, options = ("numba", {"shared_traces": True}) if name == "numba-shared" else (name, {})
    sim = simulation(network.module_network(400), backend, progress=False, **options)
    times = []
    for k in range(n_images + 1):
        start = time.perf_counter()
        spikemem.plasticity.normalize_weights(sim, "input_to_exc", total)
        sim.set_rates("input", rates[k])
        sim.run(0.35, progress=False)
        sim.set_rates("input", np.zeros(784))
        sim.run(0.15, progress=False)
        times.append(time.perf_counter() - start)
    per_image = np.mean(times[1:])
    line = f"{name:14s} {per_image:.4f} s/image (median {np.median(times[1:]):.4f})"
    if backend == "numba":
        line += f"  synapse_bytes {sim.synapse_bytes():.2f} B/synapse"
        n = len(sim.built_projection("input_to_exc").i)
        plastic = sum(sim.values[k].nbytes for k in sim.values
                      if k.startswith("p0__") and k[4:] in ("w", "pre", "post1", "post2", "lastupdate")
                      or k in ("p0___lu_pre", "p0___lu_post"))
        line += f"  weight+traces+lastupdate {plastic / n:.2f} B/synapse"
        held = sum(v.nbytes for k, v in sim.values.items() if k.startswith("p0__") and np.ndim(v))
        line += f"  input_to_exc all arrays {held / n:.2f} B/synapse"
    print(line, flush=True)
