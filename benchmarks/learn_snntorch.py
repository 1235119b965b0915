"""Training throughput of spikemem.learn's layered engine against snntorch.

    python benchmarks/learn_snntorch.py                       # 784-800-10, T 20, batch 128, CPU
    python benchmarks/learn_snntorch.py --out benchmarks/results/learn/01-cpu.json
    python benchmarks/learn_snntorch.py --device cuda --batches 50

Both frameworks train the same network on the same random spike trains: 784
inputs, 800 and 10 leaky neurons (beta 0.9, threshold 1, reset by
subtraction), weights without biases, cross-entropy on the output spike
counts, Adam (lr 1e-3), BPTT with the arctangent surrogate. spikemem's model
is ``compile(mlp(...))`` (the layered engine); snntorch's is ``nn.Linear`` +
``snntorch.Leaky`` stepped through time in a Python loop, its usual form.
(spikemem's projections add one step of delay each, so its output sees the
input two steps later; the arithmetic per step is the same.) Each framework
trains ``--batches`` minibatches after ``--warmup`` ones, taking turns
``--repeats`` times; the median time gives samples per second, and the ratio
spikemem / snntorch (> 1: spikemem trains faster).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from record import write_run_set

BETA = 0.9


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def spikemem_model(sizes, device, method):
    from spikemem.learn import compile, mlp
    return compile(mlp(sizes, beta=BETA, seed=0), method=method, device=str(device))


class SnnTorchMLP(torch.nn.Module):
    """nn.Linear + snntorch.Leaky per layer, stepped through time."""

    def __init__(self, sizes):
        super().__init__()
        import snntorch
        import snntorch.surrogate
        self.fc = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in zip(sizes, sizes[1:]))
        self.lif = torch.nn.ModuleList(snntorch.Leaky(beta=BETA, threshold=1.0, reset_mechanism="subtract",
                                                      spike_grad=snntorch.surrogate.atan())
                                       for _ in sizes[1:])

    def forward(self, x):
        mems = [lif.init_leaky() for lif in self.lif]
        counts = 0
        for t in range(x.shape[0]):
            s = x[t]
            for k, (fc, lif) in enumerate(zip(self.fc, self.lif)):
                s, mems[k] = lif(fc(s), mems[k])
            counts = counts + s
        return counts


def train_batches(model, step, data):
    for x, y in data:
        step(model, x, y)


def plain_step(optimiser):
    def step(model, x, y):
        optimiser.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    return step


def learn_step(optimiser):
    def step(model, x, y):
        model.train_step(x, y, torch.nn.functional.cross_entropy, optimiser)
    return step


def bench(sizes, steps, batch, batches, warmup, repeats, device, methods):
    g = torch.Generator().manual_seed(0)
    data = [((torch.rand(steps, batch, sizes[0], generator=g) < 0.2).float().to(device),
             torch.randint(0, sizes[-1], (batch,), generator=g).to(device)) for _ in range(batches)]
    runs = {}
    for method in methods:
        model = spikemem_model(sizes, device, method)
        runs[f"spikemem-{method}"] = (model, learn_step(torch.optim.Adam(model.parameters(), lr=1e-3)))
    ref = SnnTorchMLP(sizes).to(device)
    runs["snntorch"] = (ref, plain_step(torch.optim.Adam(ref.parameters(), lr=1e-3)))
    for model, step in runs.values():
        train_batches(model, step, data[:warmup])
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (model, step) in runs.items():
            _sync(device)
            t0 = time.perf_counter()
            train_batches(model, step, data)
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["snntorch"])
    rows = []
    for name, t in times.items():
        seconds = statistics.median(t)
        row = {"framework": name, "sizes": "-".join(map(str, sizes)), "steps": steps, "batch": batch,
               "batches": batches, "device": str(device), "seconds": round(seconds, 3),
               "samples_per_s": round(batches * batch / seconds, 1), "speedup_over_snntorch": round(base / seconds, 2)}
        print(json.dumps(row))
        rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[784, 800, 10])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=["bptt", "ottt"], choices=["bptt", "ottt"])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", metavar="FILE", help="also write the rows as JSON for the docs")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = bench(args.sizes, args.steps, args.batch, args.batches, args.warmup, args.repeats, device, args.methods)
    if args.out:
        write_run_set(args.out, "learn_snntorch", rows, threads=args.threads,
                      notes="training throughput, random spike input (p 0.2), cross-entropy on output counts, "
                            "Adam; median of interleaved repeats")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
