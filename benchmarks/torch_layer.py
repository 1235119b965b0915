"""One Linear(n, n) + LIF layer, forward and backward, on spikemem's torch backend,
a plain snntorch ``Leaky`` loop and norse's ``LIFBoxCell``, side by side.

    python benchmarks/torch_layer.py                       # n 1024, T 100, batch 16, CPU
    python benchmarks/torch_layer.py --n 4096 16384 --steps 500 --device cuda

The shape is the open-neuromorphic framework benchmark: random input spikes
(steps, batch, n), one dense Linear(n, n) into n LIF neurons (beta 0.9,
threshold 1, reset to 0), forward plus backward of ``output.sum()``. Each
framework runs ``--repeats`` times after one warm-up; the median is reported,
with the device synchronised before every clock reading. spikemem's layer is a
spike source projecting all-to-all onto a population of

    dv/dt = -v/tau : 1,  threshold v > 1, reset v = 0,  tau = dt / ln(1/0.9)

so that v decays by 0.9 per step like snntorch's Leaky; its input current
reaches v through the projection (``receptor`` v). Output: one JSON row per
framework, then the ratios framework time / spikemem time (> 1: spikemem is
faster).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
from record import write_run_set

BETA = 0.9


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(runs: dict, device, repeats):
    """Median seconds per framework; the frameworks take turns, so that a busy
    spell of a shared machine hits them alike."""
    for fn in runs.values():
        fn()                              # warm-up (allocations, autotuning)
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def spikemem_layer(n, batch, device):
    from brian2 import ms
    from spikemem.backends import simulation
    from spikemem.network import Network
    from spikemem.neurons import NeuronModel
    dt = 1 * ms
    model = NeuronModel(name="Leaky", equations="dv/dt = -v/tau : 1\ntau : second (constant)",
                        threshold="v > 1", reset="v = 0", method="exact",
                        params={"tau": float(dt) / math.log(1 / BETA)}, receptors={"exc": "v"})
    net = Network(dt=dt, seed=0)
    net.spike_source("inp", n, [[] for _ in range(n)])
    net.population("lif", n, model)
    g = torch.Generator().manual_seed(0)
    weights = ((torch.rand(n, n, generator=g) - 0.5) * (2 / math.sqrt(n))).numpy()
    from spikemem.connectors import FromMatrix
    net.connect("inp", "lif", FromMatrix(weights), name="fc")
    net.record_spikes("lif")
    sim = simulation(net, "torch", batch=batch, device=str(device), dtype="float32", weights="dense")
    return sim.module


def run_spikemem(module, x):
    module.reset_state()
    out = module(x.shape[0], inputs={"inp": x}, outputs=("lif",))["lif"]
    out.sum().backward()


def run_snntorch(layer, x):
    fc, lif = layer
    mem = lif.init_leaky()
    spikes = []
    for t in range(x.shape[0]):
        spk, mem = lif(fc(x[t]), mem)
        spikes.append(spk)
    torch.stack(spikes).sum().backward()


def run_norse(layer, x):
    fc, cell = layer
    state = None
    spikes = []
    for t in range(x.shape[0]):
        z, state = cell(fc(x[t]), state)
        spikes.append(z)
    torch.stack(spikes).sum().backward()


def bench(n, steps, batch, device, repeats):
    import snntorch
    import norse.torch as norse
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(steps, batch, n, generator=g) < 0.1).float().to(device)
    module = spikemem_layer(n, batch, device)
    fc = torch.nn.Linear(n, n, bias=False).to(device)
    lif = snntorch.Leaky(beta=BETA, threshold=1.0, reset_mechanism="zero").to(device)
    # norse integrates dv = dt/tau (v_leak - v + i): dt * tau_mem_inv = 1 - beta
    cell = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.as_tensor((1 - BETA) / 1e-3)), dt=1e-3).to(device)
    rows = list(_timed({"spikemem": lambda: run_spikemem(module, x),
                        "snntorch": lambda: run_snntorch((fc, lif), x),
                        "norse": lambda: run_norse((fc, cell), x)}, device, repeats).items())
    base = rows[0][1]
    out = []
    for name, seconds in rows:
        row = {"framework": name, "n": n, "steps": steps, "batch": batch, "device": str(device),
               "seconds": round(seconds, 4)}
        print(json.dumps(row))
        out.append({**row, "time_over_spikemem": round(seconds / base, 2)})
    print(json.dumps({"ratios": True, "n": n, "time_over_spikemem": {name: round(s / base, 2) for name, s in rows}}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1024])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", metavar="FILE", help="also write the rows as JSON for the docs")
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = [row for n in args.n for row in bench(n, args.steps, args.batch, device, args.repeats)]
    if args.out:
        write_run_set(args.out, "torch_layer", rows)


if __name__ == "__main__":
    main()
