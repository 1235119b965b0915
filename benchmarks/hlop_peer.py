"""The HLOP authors' spiking MLP (pkuxmq/HLOP-SNN) on permuted digits, run in its own environment.

    python benchmarks/hlop_peer.py --source /path/to/HLOP-SNN \\
        --out benchmarks/results/hlop/peer-permuted-digits.json

The authors' code (not part of this repository) comes from ``--source`` or
``$HLOP_SNN_SOURCE``: a checkout, or a git directory whose HEAD is exported to a temporary
folder. It runs in the ``hlop`` peer environment (``python benchmarks/peer_env.py build hlop``)
on ``benchmarks/peers/hlop_run.py``, which says what it runs and what it changes at run time.

Per seed s: scikit-learn's 8x8 digits split with s (``spikemem.learn.digits``), permuted
into ``--tasks`` tasks with s (``permuted``: the first unpermuted, one shared 10-way head),
written as a task file (``save_tasks``); then their baseline (plain
sequential training, their ``-baseline``) and HLOP on it. The accuracy matrix, ACC (mean of
the last row) and BWT (mean over the earlier tasks of the last row less the diagonal) per
method and seed, their mean and standard deviation over seeds, and the settings.

Settings: the authors' PMNIST recipe (``spiking_train_pmnist.py`` defaults: DSR training of
LIF neurons, T = 20, SGD lr 0.1, batch 64, Vth 0.3 trained on task 0 only, subspace learning
rates 0.001 on the input layer and 0.01 on the others, 5 Hebbian iterations per batch) with
the sizes scaled to the digits (``scaled_settings``): hidden layers of ``--hidden`` (theirs:
800), subspace rows per task scaled by each layer's width relative to theirs (784, 800, 800),
and as many epochs as give their number of SGD steps per task (one epoch of 60000 MNIST
images in batches of 64: 938 steps).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from peer_env import PeerEnvError, build_command, is_built, peer_env_path, run_in_peer_env
from record import label, write_run_set

SCRIPT = Path(__file__).resolve().parent / "peers" / "hlop_run.py"
#: the authors' layer widths on PMNIST (input, hidden, hidden) and their SGD steps per task
THEIR_WIDTHS = (784, 800, 800)
THEIR_STEPS = math.ceil(60000 / 64)


def _peer_defaults() -> dict:
    spec = importlib.util.spec_from_file_location("hlop_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULTS


def scaled_settings(n_in: int, n_train: int, hidden: int = 100, epochs: int | None = None,
                    methods=("baseline", "hlop"), seed: int = 0) -> dict:
    """The authors' PMNIST settings with the sizes scaled to ``n_in`` inputs, ``hidden``
    neurons per hidden layer and ``n_train`` training samples per task: subspace rows per
    task scaled by each layer's width over theirs (rounded, at least one), epochs giving
    their 938 SGD steps per task unless ``epochs`` is given."""
    from spikemem.errors import ModelError

    if n_in < 1 or hidden < 1 or n_train < 1:
        raise ModelError(f"hlop peer: n_in ({n_in}), hidden ({hidden}) and n_train ({n_train}) must be positive")
    p = {**_peer_defaults(), "hidden": int(hidden), "methods": list(methods), "seed": int(seed)}
    widths = (n_in, hidden, hidden)
    p["rows"] = [[max(1, math.floor(r * w / theirs + 0.5)) for r in rows]
                 for rows, w, theirs in zip(p["rows"], widths, THEIR_WIDTHS)]
    totals = [sum(r) for r in p["rows"]]
    if any(total > w for total, w in zip(totals, widths)):
        raise ModelError(f"hlop peer: {totals} subspace rows do not fit layers of {list(widths)} inputs")
    batches = math.ceil(n_train / p["batch_size"])
    p["epochs"] = int(epochs) if epochs is not None else max(1, round(THEIR_STEPS / batches))
    if p["epochs"] < 1:
        raise ModelError(f"hlop peer: epochs = {epochs} must be at least 1")
    return p


def permuted_digits(n_tasks: int, seed: int) -> list:
    """Permuted digits (``spikemem.learn``): the digits split with ``seed``, ``n_tasks``
    pixel orders drawn from ``seed``, the first the identity; one 10-way head."""
    from spikemem.learn import digits, permuted

    return permuted(digits(seed=seed), n_tasks, seed=seed)


def task_file(tasks, path) -> dict:
    """Write ``tasks`` as a task file (``spikemem.learn.save_tasks``) at ``path`` and return its arrays."""
    from spikemem.learn import save_tasks

    save_tasks(tasks, path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def checkout(source) -> tuple[Path, str]:
    """A folder holding the authors' code, and its commit ("" when unknown): ``source`` itself
    when it is a checkout, else the HEAD of the git directory ``source`` exported to a
    temporary folder."""
    source = Path(source).expanduser()
    if (source / "models" / "spiking_mlp_hlop.py").is_file():
        head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True)
        return source, head.stdout.strip() if head.returncode == 0 else ""
    head = subprocess.run(["git", "--git-dir", str(source), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        raise PeerEnvError(f"{source} is neither a checkout of pkuxmq/HLOP-SNN nor its git directory")
    folder = Path(tempfile.mkdtemp(prefix="hlop-snn-"))
    archive = subprocess.Popen(["git", "--git-dir", str(source), "archive", "HEAD"], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    if archive.wait() != 0 or not (folder / "models" / "spiking_mlp_hlop.py").is_file():
        raise PeerEnvError(f"{source}: HEAD holds no models/spiking_mlp_hlop.py")
    return folder, head.stdout.strip()


def acc(matrix) -> float:
    """Mean accuracy over all tasks after the last one."""
    return float(np.mean(np.asarray(matrix)[-1]))


def bwt(matrix) -> float:
    """Backward transfer: mean over the earlier tasks of (final accuracy - accuracy just after learning it)."""
    a = np.asarray(matrix)
    return float(np.mean(a[-1, :-1] - np.diag(a)[:-1]))


def run_hlop(arrays: dict, settings: dict, source, timeout: float | None = None, path: Path | None = None) -> dict:
    """Run the authors' model on the task file's ``arrays`` with ``settings`` in the hlop peer
    environment; the script's results (per method: matrix, seconds, history)."""
    path = Path(path) if path is not None else peer_env_path("hlop")
    if not is_built(path, "hlop"):
        raise PeerEnvError(f"no hlop peer environment at {path}: build it with: {build_command('hlop')}")
    return run_in_peer_env(SCRIPT, arrays, {**settings, "source": str(source)}, timeout=timeout, path=path,
                           build_if_missing=False, env="hlop")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=os.environ.get("HLOP_SNN_SOURCE"),
                    help="checkout or git directory of pkuxmq/HLOP-SNN (default: $HLOP_SNN_SOURCE)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=None, help="default: the authors' SGD steps per task")
    ap.add_argument("--methods", nargs="+", default=["baseline", "hlop"])
    ap.add_argument("--timeout", type=float, default=3600, help="seconds one seed may run")
    ap.add_argument("--out", default="benchmarks/results/hlop/peer-permuted-digits.json")
    args = ap.parse_args(argv)
    if not args.source:
        ap.error("give --source (a checkout or git directory of pkuxmq/HLOP-SNN) or set $HLOP_SNN_SOURCE")
    source, commit = checkout(args.source)
    rows, settings = [], None
    with tempfile.TemporaryDirectory(prefix="hlop-tasks-") as tmp:
        for seed in args.seeds:
            tasks = permuted_digits(args.tasks, seed)
            arrays = task_file(tasks, Path(tmp) / f"permuted-digits-{seed}.npz")
            started = time.perf_counter()
            out = run_hlop(arrays, scaled_settings(tasks[0].x_train.shape[1], len(tasks[0].x_train), args.hidden,
                                                   args.epochs, args.methods, seed), source, timeout=args.timeout)
            wall = time.perf_counter() - started
            settings = out["settings"]
            for method, result in out["methods"].items():
                row = {"method": method, "seed": seed, "acc": acc(result["matrix"]), "bwt": bwt(result["matrix"]),
                       "seconds": result["seconds"], "matrix": result["matrix"], "history": result["history"]}
                rows.append(row)
                print(json.dumps({k: row[k] for k in ("method", "seed", "acc", "bwt", "seconds")}), flush=True)
            print(json.dumps({"seed": seed, "wall_seconds": wall}), flush=True)
    summary = {}
    for method in args.methods:
        mine = [r for r in rows if r["method"] == method]
        summary[method] = {f"{k}_{s}": float(f([r[k] for r in mine])) for k in ("acc", "bwt")
                           for s, f in (("mean", np.mean), ("std", np.std))}
        summary[method]["seconds_mean"] = float(np.mean([r["seconds"] for r in mine]))
        print(json.dumps({"method": method, **summary[method]}), flush=True)
    settings.pop("seed", None)
    write_run_set(args.out, "hlop_peer", rows, label=label(argv, "--out"), task="permuted digits",
                  n_tasks=args.tasks, seeds=args.seeds, peer="pkuxmq/HLOP-SNN", peer_commit=commit,
                  settings=settings, version=out["version"], summary=summary)


if __name__ == "__main__":
    main()
