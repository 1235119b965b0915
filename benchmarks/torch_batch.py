"""B independent CUBA trials in one torch run against B sequential runs on the numba engine.

    python benchmarks/torch_batch.py                      # n 4000, B 64, 0.2 s, CPU
    python benchmarks/torch_batch.py --n 1000 --trials 8 --duration 0.1 --device cuda

The trials differ in their initial membrane potentials (uniform in [-60, -50] mV,
one draw per trial). numba builds the network once and, per trial, writes the
trial's initial state and runs (``set`` between runs); torch writes all trials'
states at once (``set_trials``) and runs them side by side. Both report the run
phase only (building is once per process either way). A check first runs one
1000-neuron trial for 1 s on numba and on torch in float64 and float32 and
counts the spikes that differ from numba's (float64: expected none).

Output: one JSON row per engine, then the ratio numba time / torch time (> 1:
the batched run is faster).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from record import write_run_set

from spikemem.analysis import spike_set
from spikemem.backends import simulation
from spikemem.models.cuba.network import cuba


def initial_v(n, trials, seed):
    return np.random.default_rng(seed).uniform(-60e-3, -50e-3, (trials, n))


def _spike_sets(sim, dt):
    return {pop: {tuple(r) for r in spike_set(sim.result().spikes[pop], dt)} for pop in ("exc", "inh")}


def agree(n, duration):
    """One trial on numba, on torch in float64 and in float32: spikes that differ
    from numba's, and the first step where they do."""
    net = cuba(n=n, seed=1)
    sims = {"numba": simulation(net, "numba"),
            "torch-float64": simulation(net, "torch", dtype="float64", device="cpu"),
            "torch-float32": simulation(net, "torch", dtype="float32", device="cpu")}
    for sim in sims.values():
        sim.run(duration)
    ref = _spike_sets(sims["numba"], net.dt)
    rows = []
    for name in ("torch-float64", "torch-float32"):
        got = _spike_sets(sims[name], net.dt)
        diff = set().union(*(ref[p] ^ got[p] for p in ref))
        rows.append({"check": f"{name} vs numba", "n": n, "duration_s": duration,
                     "spikes": sum(len(v) for v in ref.values()), "differing_spikes": len(diff),
                     "first_differing_step": int(min(s for s, _ in diff)) if diff else None})
    return rows


def run_numba(n, trials, duration, v0):
    net = cuba(n=n, seed=1)
    sim = simulation(net, "numba")
    n_exc = net.populations["exc"].size
    spikes, t = 0, 0.0
    for k in range(trials):
        sim = simulation(net, "numba") if k else sim      # cached kernel: a rebuild is set-up only
        sim.set("exc", "v", v0[k, :n_exc])
        sim.set("inh", "v", v0[k, n_exc:])
        t0 = time.perf_counter()
        sim.run(duration)
        t += time.perf_counter() - t0
        spikes += sum(sim.result().spikes[p].count() for p in ("exc", "inh"))
    return t, spikes


def run_torch(n, trials, duration, v0, device, dtype):
    net = cuba(n=n, seed=1)
    sim = simulation(net, "torch", batch=trials, device=device, dtype=dtype)
    n_exc = net.populations["exc"].size
    sim.set_trials("exc", "v", v0[:, :n_exc])
    sim.set_trials("inh", "v", v0[:, n_exc:])
    sim.run(duration)
    spikes = sum(len(sim.spikes(p)) for p in ("exc", "inh"))
    modes = {pc.name: pc.mode for pc in sim.module.projs}
    return sim.timings["run_s"], spikes, modes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--trials", type=int, default=64)
    ap.add_argument("--duration", type=float, default=0.2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--out", metavar="FILE", help="also write the rows as JSON for the docs")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    agreement = list(agree(min(args.n, 1000), 1.0))
    for row in agreement:
        print(json.dumps(row))
    v0 = initial_v(args.n, args.trials, seed=7)
    t_numba, s_numba = run_numba(args.n, args.trials, args.duration, v0)
    t_torch, s_torch, modes = run_torch(args.n, args.trials, args.duration, v0, args.device, args.dtype)
    common = {"n": args.n, "trials": args.trials, "duration_s": args.duration}
    rows = [{"engine": "numba", "sequential": True, "run_s": round(t_numba, 3), "spikes": s_numba, **common},
            {"engine": "torch", "device": args.device, "dtype": args.dtype, "weights": modes,
             "threads": torch.get_num_threads(), "run_s": round(t_torch, 3), "spikes": s_torch, **common}]
    for row in rows:
        print(json.dumps(row))
    ratio = round(t_numba / t_torch, 2)
    print(json.dumps({"ratios": True, "numba_over_torch": ratio}))
    if args.out:
        write_run_set(args.out, "torch_batch", rows, numba_over_torch=ratio, agreement=agreement)


if __name__ == "__main__":
    main()
