"""Convolution projections: time per step of the grid-cell sheet's recurrent input.

    python benchmarks/convolution.py                     # n 32 64 128, numba FFT, listed synapses, torch
    python benchmarks/convolution.py --n 128 --out benchmarks/results/convolution/01-cpu.json

An n x n sheet of rate units (``RateUnit``, dt 0.5 ms) drives itself through
one ``Convolution`` of 4 classes (a 2 x 2 tile of classes, as the grid-cell
attractor lays out its preferred directions) with kernels of k x k taps,
k = min(53, n - 1), every tap nonzero, summed into ``I`` (``synapses.summed``).
Ways: "numba" (the kernel's FFT, one transform of the sheet for the repeating
class map), "numba-random-classes" (a random class map: one transform per
class), "numba-listed" (the same synapses as a ``FromList``, where they fit:
``--listed-max`` synapses), "torch" (CPU, float64, FFT, ``--torch-threads``
threads: one by default, as numba's one core). Each runs ``--steps``
steps after a warm-up, best of ``--repeats``; the row gives milliseconds per
step, the build time and the synapse count.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from record import write_run_set

import spikemem as sm
from spikemem.connectors import Convolution, FromList
from spikemem.network import Network


def sheet(n, classes="tiled", listed=False):
    k = min(53, n - 1 if n % 2 == 0 else n)
    rng = np.random.default_rng(0)
    net = Network(dt=0.5e-3)
    net.population("g", n * n, sm.RateUnit(), init={"r": rng.random(n * n) * 0.1})
    cls = np.tile([[0, 1], [2, 3]], (n // 2, n // 2)) if classes == "tiled" else rng.integers(0, 4, (n, n))
    conn = Convolution(rng.normal(size=(4, k, k)) * 1e-4, sheet=(n, n), classes=cls)
    if listed:
        i, j, w, _ = conn.build(n * n, n * n, None, "benchmark")
        conn = FromList(np.stack([i, j, w], 1))
    net.connect("g", "g", conn, receptor="I", synapse=sm.summed("r", "I"), name="rec")
    return net, k


def timed(net, backend, steps, repeats, **options):
    start = time.perf_counter()
    sim = sm.simulation(net, backend, **options)
    build = time.perf_counter() - start
    sim.run(10 * net.dt)                     # warm-up: compilation
    best = min(_run(sim, steps * net.dt) for _ in range(repeats))
    return build, best / steps


def _run(sim, duration):
    start = time.perf_counter()
    sim.run(duration)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--listed-max", type=float, default=2e6, help="largest synapse count run as a FromList")
    parser.add_argument("--ways", nargs="+", default=["numba", "numba-random-classes", "numba-listed", "torch"])
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", metavar="PATH", help="also write the rows as a JSON run set")
    args = parser.parse_args()
    if "torch" in args.ways:
        import torch
        torch.set_num_threads(args.torch_threads)
    rows = []
    for n in args.n:
        for way in args.ways:
            net, k = sheet(n, "random" if way == "numba-random-classes" else "tiled", way == "numba-listed")
            synapses = n * n * k * k
            if way == "numba-listed" and synapses > args.listed_max:
                continue
            backend, options = ("torch", {"dtype": "float64"}) if way == "torch" else ("numba", {})
            build, per_step = timed(net, backend, args.steps, args.repeats, **options)
            rows.append({"n": n, "kernel": k, "classes": 4, "way": way, "synapses": synapses,
                         "build_s": round(build, 4), "ms_per_step": round(per_step * 1e3, 4)})
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        write_run_set(args.out, "convolution", rows, steps=args.steps, repeats=args.repeats)


if __name__ == "__main__":
    main()
