"""Small experiments for the runner's tests, importable by Dask workers (``tests`` is on their path)."""
import os
import sys
import time

import numpy as np
from brian2 import mV, ms, second

from spikemem.experiments import Outcome, experiment


@experiment
def noisy(seed, w=1.0 * mV, n=10, label="a"):
    """A number drawn from the seed, scaled by the parameters."""
    rng = np.random.default_rng(seed)
    return {"value": float(w) * 1e3 * n + rng.normal(), "n": n}


@experiment
def slow(seed, pid_dir="", pause=0.3 * second):
    """Writes its worker's pid into ``pid_dir`` (so a test can kill the worker), waits, then answers."""
    if pid_dir:
        with open(os.path.join(pid_dir, f"{os.getpid()}-{seed}"), "w"):
            pass
    time.sleep(float(pause))
    return {"square": seed * seed}


@experiment
def train(seed, lr=0.5, calls=""):
    """A first stage: its state is the checkpoint the next stage starts from."""
    if calls:
        with open(calls, "a") as f:
            f.write(f"train {seed} {lr}\n")
    return Outcome({"loss": lr / (seed + 1)}, state={"w": np.full(3, lr * (seed + 1))})


@experiment
def test(trained, seed, threshold=1.0, calls=""):
    """A later stage: reads the previous stage's state."""
    if calls:
        with open(calls, "a") as f:
            f.write(f"test {seed} {threshold}\n")
    return {"passed": float(trained.state["w"].sum() > threshold)}


@experiment
def fails_for_seed_one(seed):
    if seed == 1:
        raise RuntimeError("seed one is broken")
    return {"seed": seed}


@experiment
def tiny_network(seed, backend, duration=20 * ms):
    """A small network run on ``backend``: reports the numba kernels this process has compiled."""
    from spikemem.backends import simulation
    from spikemem.models.cuba.network import cuba
    sim = simulation(cuba(n=100, seed=seed), backend, progress=False)
    sim.run(duration)
    kernels = [m for name, m in sys.modules.items() if name.startswith("spikemem_kernel_")]
    return Outcome({"kernels": len(kernels), "signatures": sum(len(m.run.signatures) for m in kernels)},
                   sim.result())
