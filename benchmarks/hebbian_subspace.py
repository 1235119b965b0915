"""HLOP's subspace neurons on spikemem (``spikemem.learn.hebbian``): how close the
subspace learned from Poisson spike trains on the numba backend comes to the
exact principal subspace, and to the same rule on exact rates.

    python benchmarks/hebbian_subspace.py                    # both data sets, T 20 50 100
    python benchmarks/hebbian_subspace.py --out benchmarks/results/hlop/hebbian-subspace.json

Data: ``gap``, rates in [0, 1] whose second moment has ``m`` large eigenvalues
(the mean and m - 1 factors) and a clear gap to the rest; ``digits``,
scikit-learn's 8x8 digits / 16 (HLOP's first-layer activity on permuted
digits), whose spectrum decays without a gap. For each data set and each
presentation length T (steps per sample, the trace's tau = T/3 steps), the
rows H learned by the network are compared by principal angles (degrees) with
(a) the exact top-m eigenvectors of E[a a^T], (b) ``spikemem.learn.Subspace``
(torch, the authors' minibatch rule: batch mean, momentum, clip, 5 iterations
per batch) on the exact rates, and (c) Oja's subspace rule run in numpy on the
exact rates, sample by sample in the network's order with the same eta
(``numpy_oja``); ``orthonormality`` is max |H H^T - I|.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from record import write_run_set
from spikemem.learn import Subspace, principal_angles
from spikemem.learn.hebbian import learn_subspace


def gap_data(n=32, m=4, samples=500, seed=1):
    """Rates in [0, 1]: 0.5 plus m - 1 factors of std 0.3 ... 0.2 plus a little noise."""
    rng = np.random.default_rng(seed)
    factors = np.linalg.qr(rng.normal(size=(n, m - 1)))[0].T
    z = rng.normal(size=(samples, m - 1)) * np.linspace(0.3, 0.2, m - 1)
    return np.clip(0.5 + z @ factors + 0.01 * rng.normal(size=(samples, n)), 0, 1)


def digits_data():
    from sklearn.datasets import load_digits
    return load_digits().data / 16.0


def top_subspace(a, m):
    """The exact top-m eigenvectors of E[a a^T] (rows) and the eigenvalues, largest first."""
    values, vectors = np.linalg.eigh(a.T @ a / len(a))
    return vectors[:, ::-1][:, :m].T, values[::-1]


def numpy_oja(a, m, *, eta, epochs, seed, substeps=20):
    """Oja's subspace rule on the exact rates, one sample at a time, from the
    start and in the order ``learn_subspace`` uses for ``seed``; as in the
    network, a sample's change eta y (x - H^T y)^T is spread over ``substeps``
    Euler steps (one step of it diverges where eta |x|^2 > 2)."""
    rng = np.random.default_rng(seed)
    H = np.linalg.qr(rng.normal(size=(a.shape[1], m)))[0].T
    order = np.concatenate([rng.permutation(len(a)) for _ in range(epochs)])
    for k in order:
        for _ in range(substeps):
            y = H @ a[k]
            H += eta / substeps * np.outer(y, a[k] - H.T @ y)
    return H


def torch_subspace(a, m, *, eta, epochs, batch, seed):
    """``Subspace`` rows after ``epochs`` shuffled passes of minibatches over the exact rates."""
    sub = Subspace(a.shape[1], eta=eta, dtype=torch.float64)
    sub.add(m, seed=seed)
    x = torch.as_tensor(a, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(a), generator=generator)
        for start in range(0, len(a), batch):
            sub.learn(x[order[start:start + batch]])
    return sub.rows.numpy()


def degrees(A, B):
    return [round(float(x), 3) for x in np.degrees(principal_angles(A, B))]


def run(name, a, m, *, eta, epochs, steps, rate, seed, torch_eta, torch_epochs, batch):
    top, values = top_subspace(a, m)
    reference = numpy_oja(a, m, eta=eta, epochs=epochs, seed=seed)
    t0 = time.perf_counter()
    authors = torch_subspace(a, m, eta=torch_eta, epochs=torch_epochs, batch=batch, seed=seed)
    torch_seconds = time.perf_counter() - t0
    rows = []
    for T in steps:
        t0 = time.perf_counter()
        H = learn_subspace(a, m, eta=eta, steps=T, epochs=epochs, rate=rate, tau=T / 3 * 1e-3, dt=1e-3,
                           seed=seed)
        seconds = time.perf_counter() - t0
        to_pca, to_oja = degrees(H, top), degrees(H, reference)
        rows.append({"data": name, "n": a.shape[1], "m": m, "samples": len(a), "epochs": epochs, "eta": eta,
                     "steps": T, "tau_ms": round(T / 3, 3), "rate_hz": rate, "seed": seed,
                     "eigenvalues": [round(float(v), 5) for v in values[:m + 2]],
                     "angles_to_pca_deg": to_pca, "max_angle_to_pca_deg": max(to_pca),
                     "angles_to_numpy_oja_deg": to_oja, "max_angle_to_numpy_oja_deg": max(to_oja),
                     "numpy_oja_max_angle_to_pca_deg": max(degrees(reference, top)),
                     "angles_to_torch_subspace_deg": degrees(H, authors),
                     "max_angle_to_torch_subspace_deg": max(degrees(H, authors)),
                     "torch_subspace_max_angle_to_pca_deg": max(degrees(authors, top)),
                     "torch_subspace": {"eta": torch_eta, "epochs": torch_epochs, "batch": batch,
                                        "seconds": round(torch_seconds, 2)},
                     "orthonormality": round(float(np.abs(H @ H.T - np.eye(m)).max()), 4),
                     "seconds": round(seconds, 2)})
        print(rows[-1])
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", nargs="+", default=["gap", "digits"], choices=["gap", "digits"])
    ap.add_argument("--steps", type=int, nargs="+", default=[20, 50, 100], help="steps per sample (T)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rate", type=float, default=1000.0, help="Hz at activity 1 (dt 1 ms)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--torch-epochs", type=int, default=100, help="Subspace's passes over the data")
    ap.add_argument("--batch", type=int, default=64, help="Subspace's minibatch")
    ap.add_argument("--out", metavar="FILE", help="also write the rows as JSON for the docs")
    args = ap.parse_args(argv)
    # data, m, eta of the network (per sample), eta of Subspace (per minibatch iteration)
    settings = {"gap": (gap_data, 4, 0.5, 0.1), "digits": (digits_data, 8, 0.02, 0.05)}
    torch.set_num_threads(1)
    rows = []
    for name in args.data:
        make, m, eta, torch_eta = settings[name]
        rows += run(name, make(), m, eta=eta, epochs=args.epochs, steps=args.steps, rate=args.rate, seed=args.seed,
                    torch_eta=torch_eta, torch_epochs=args.torch_epochs, batch=args.batch)
    if args.out:
        write_run_set(args.out, "hebbian_subspace", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
