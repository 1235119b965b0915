"""Our spiking HLOP against the authors' (pkuxmq/HLOP-SNN) on the same permuted digits.

    python benchmarks/hlop_vs_peer.py [--seeds 0 1 2] [--methods finetune hlop] [--lr 0.01]
        [--peer benchmarks/results/hlop/peer-permuted-digits.json]
        [--out benchmarks/results/hlop/06-vs-peer.json]

Per seed s, the task sequence the peer benchmark gave the authors' code
(``hlop_peer.permuted_digits``: the digits split with s, ten pixel orders drawn
from s, the first the identity), and the peer's scaled settings
(``hlop_peer.scaled_settings``): a 64-100-100-10 network without biases, as
many epochs of minibatches of 64 as give the authors' 938 SGD steps per task,
T = 20 steps of repeated analog input, and their subspace rows per task and
layer and Hebbian rates (0.001 on the input layer, 0.01 on the others).

What is ours: the network (``spikemem.learn.mlp`` of ``Leaky`` neurons,
surrogate-gradient BPTT through spike counts, ``continual.build_model``), its
learning rate (``--lr``; the authors' 0.1 suits their DSR gradients), its input
(the pixel values in [0, 1], as ``learn.encode`` takes them; the authors
standardise each pixel by the data's mean and standard deviation), and when
the subspace is learnt: after each task from the trained network's activity
(``HLOP.end_task``, ``--hlop-epochs`` passes), where the authors learn it from
each minibatch while the task trains. ``--rows-first-scale k`` multiplies
every layer's rows for the first task by k; with ``--run-peer`` the peer's
HLOP runs again with those rows (``hlop_peer.run_hlop``, in its environment)
and its rows go beside ours as method ``peer-hlop``.

The peer's accuracy matrices, ACC and BWT are read from ``--peer`` (written by
``benchmarks/hlop_peer.py``: its baseline, HLOP, and HLOP with spiking lateral
neurons) and stored beside ours.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from hlop_peer import acc, bwt, checkout, permuted_digits, scaled_settings
from record import label, write_run_set

PEER = ["benchmarks/results/hlop/peer-permuted-digits.json",
        "benchmarks/results/hlop/peer-permuted-digits-spiking.json"]
PEER_METHOD = {"finetune": "baseline", "hlop": "hlop"}


def rows_schedule(rows: list, layers: list, first_scale: float = 1.0) -> list[dict]:
    """Per task, the rows each layer gains: the peer's ``rows`` (per layer, per
    task), those of the first task times ``first_scale``, rounded (``HLOP``
    gives a layer whose subspace fills its input no more)."""
    return [{name: max(1, round((first_scale if t == 0 else 1) * r[t])) for name, r in zip(layers, rows)}
            for t in range(len(rows[0]))]


def standardiser(tasks: list):
    """x -> the pixels standardised by the first task's training mean and standard
    deviation over all pixels, as the authors' pipeline does (a permutation
    leaves both alike for every task): a signed input current."""
    x = tasks[0].x_train
    mean, std = float(x.mean()), float(x.std())
    return lambda values: (values - mean) / std


def run_seed(seed: int, method: str, args, peer_settings: dict | None = None) -> dict:
    """One sequence of ours: the accuracy matrix, seconds and what ran."""
    from spikemem.learn import Trainer, transforms
    from spikemem.models.hlop.continual import Settings, build_model, model_inputs

    tasks = permuted_digits(args.tasks, seed)
    coded = standardiser(tasks) if args.standardise else (lambda values: values)
    n_in, n_train = tasks[0].x_train.shape[1], len(tasks[0].x_train)
    peer = scaled_settings(n_in, n_train, args.hidden, args.epochs, seed=seed)
    settings = Settings(hidden=(args.hidden, args.hidden), epochs=peer["epochs"], batch_size=peer["batch_size"],
                        lr_snn=args.lr, steps=peer["timesteps"], encoding="repeat", beta=args.beta,
                        rows_per_task=1, rows_first_task=None)
    start = time.perf_counter()
    model = build_model("snn", [n_in, args.hidden, args.hidden, 10], settings, seed)
    schedule = rows_schedule(peer["rows"], model.layers, args.rows_first_scale)
    transform = None
    if method == "hlop":
        transform = transforms.HLOP(model, rows_per_task=schedule, eta=dict(zip(model.layers, peer["hlop_lr"])),
                                    iterations=peer["hlop_iterations"], epochs=args.hlop_epochs,
                                    batch_size=peer["batch_size"], spiking=False, seed=seed)
    matrix = []
    for i, task in enumerate(tasks):
        if transform is not None:
            transform.begin_task(model, i)
        trainer = Trainer(model, optimiser="sgd", lr=args.lr, epochs=settings.epochs, batch_size=settings.batch_size,
                          steps=settings.steps, encoding="repeat", transforms=() if transform is None else (transform,),
                          seed=seed * 1000 + i)
        trainer.fit(coded(task.x_train), task.y_train)
        if transform is not None:
            transform.end_task(model, model_inputs(coded(task.x_train), "snn", settings, seed * 1000 + i))
        matrix.append([trainer.evaluate(coded(t.x_test), t.y_test) for t in tasks])
        print(json.dumps({"method": method, "seed": seed, "task": i, "row": [round(a, 3) for a in matrix[-1]],
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)
    used = {"hidden": [args.hidden, args.hidden], "epochs": settings.epochs, "batch_size": settings.batch_size,
            "sgd_steps_per_task": settings.epochs * -(-n_train // settings.batch_size), "optimiser": "sgd",
            "lr": args.lr, "steps": settings.steps, "encoding": "repeat", "beta": args.beta, "bias": False,
            "rows": [[s[name] for s in schedule] for name in model.layers], "hlop_eta": peer["hlop_lr"],
            "hlop_iterations": peer["hlop_iterations"], "hlop_epochs": args.hlop_epochs, "lateral": "rates",
            "subspace_learnt": "after each task", "rows_first_scale": args.rows_first_scale,
            "standardised": bool(args.standardise), "threads": torch.get_num_threads()}
    return {"method": method, "seed": seed, "acc": acc(matrix), "bwt": bwt(matrix),
            "seconds": time.perf_counter() - start, "matrix": matrix, "settings": used}


def run_peer_seed(seed: int, args, source) -> dict:
    """The peer's HLOP on seed ``seed``'s tasks with the first task's rows scaled as ours."""
    from hlop_peer import run_hlop, task_file

    tasks = permuted_digits(args.tasks, seed)
    settings = scaled_settings(tasks[0].x_train.shape[1], len(tasks[0].x_train), args.hidden, args.epochs,
                               methods=["hlop"], seed=seed)
    schedule = rows_schedule(settings["rows"], ["input", "hidden1", "hidden2"], args.rows_first_scale)
    settings["rows"] = [[s[name] for s in schedule] for name in ("input", "hidden1", "hidden2")]
    with tempfile.TemporaryDirectory(prefix="hlop-tasks-") as tmp:
        arrays = task_file(tasks, Path(tmp) / f"permuted-digits-{seed}.npz")
        out = run_hlop(arrays, settings, source, timeout=3600)
    result = out["methods"]["hlop"]
    print(json.dumps({"method": "peer-hlop", "seed": seed, "acc": acc(result["matrix"])}), flush=True)
    return {"method": "peer-hlop", "seed": seed, "acc": acc(result["matrix"]), "bwt": bwt(result["matrix"]),
            "seconds": result["seconds"], "matrix": result["matrix"], "settings": out["settings"]}


def summary(runs: list) -> dict:
    """Per method: ACC and BWT, mean and standard deviation over the seeds, mean seconds."""
    out = {}
    for method in dict.fromkeys(r["method"] for r in runs):
        mine = [r for r in runs if r["method"] == method]
        out[method] = {f"{k}_{s}": float(f([r[k] for r in mine])) for k in ("acc", "bwt")
                       for s, f in (("mean", np.mean), ("std", np.std))}
        out[method]["seconds_mean"] = float(np.mean([r["seconds"] for r in mine]))
        out[method]["seeds"] = [r["seed"] for r in mine]
    return out


def peer_results(paths: list) -> dict:
    """The peer's runs (its HLOP renamed ``peer-hlop``), summaries and settings
    from its benchmark JSON files ``paths``."""
    out = {"files": list(paths), "runs": [], "summary": {}, "settings": {}}
    for path in paths:
        with open(path) as f:
            peer = json.load(f)
        out.update(peer=peer.get("peer"), peer_commit=peer.get("peer_commit"))
        out["runs"] += [{**{k: r[k] for k in ("seed", "acc", "bwt", "seconds", "matrix")},
                         "method": "peer-hlop" if r["method"] == "hlop" else r["method"]} for r in peer["rows"]]
        out["summary"].update(peer["summary"])
        out["settings"].update({m: peer["settings"] for m in peer["summary"]})
    return out


#: the table's code and method of each run's method
NAMES = {"finetune": ("spikemem", "finetune"), "hlop": ("spikemem", "hlop"),
         "baseline": ("HLOP-SNN", "finetune"), "peer-hlop": ("HLOP-SNN", "hlop"),
         "hlop_spiking": ("HLOP-SNN", "hlop, spiking lateral neurons")}


def variation(settings: dict, method: str) -> str:
    """What a run of ours changed from the defaults, for its row's label."""
    words = []
    if settings.get("standardised"):
        words.append("standardised pixels")
    if method == "hlop" and settings.get("hlop_epochs", 20) != 20:
        words.append(f"{settings['hlop_epochs']} Oja passes")
    if method == "hlop" and settings.get("rows_first_scale", 1.0) != 1.0:
        words.append(f"first task's rows x{settings['rows_first_scale']:g}")
    return "".join(", " + w for w in words)


def table_rows(runs: list) -> list:
    """One row per code and method: ACC, BWT and the accuracy just after
    learning (mean of the diagonal) in percent, mean and standard deviation
    over the seeds, and the seconds per sequence."""
    out = []
    for method in dict.fromkeys(r["method"] for r in runs):
        mine = [r for r in runs if r["method"] == method]
        code, name = NAMES[method]
        name += variation(mine[0].get("settings", {}), method)
        values = {"acc": [100 * r["acc"] for r in mine], "bwt": [100 * r["bwt"] for r in mine],
                  "learning_accuracy": [100 * float(np.mean(np.diag(r["matrix"]))) for r in mine]}
        row = {"code": code, "method": name, "seeds": len(mine)}
        for k, v in values.items():
            row[k], row[f"{k}_std"] = float(np.mean(v)), float(np.std(v))
        row["seconds"] = float(np.mean([r["seconds"] for r in mine]))
        out.append(row)
    return out


def _drop(words: list, options: tuple) -> list:
    """``words`` without the ``options`` and the values after each."""
    kept, skipping = [], False
    for word in words:
        if word.startswith("--"):
            skipping = word in options
        if not skipping:
            kept.append(word)
    return kept


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--methods", nargs="*", default=["finetune", "hlop"], choices=sorted(PEER_METHOD),
                    help="ours to run (none: only the peer, with --run-peer)")
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=None, help="default: the authors' 938 SGD steps per task")
    ap.add_argument("--lr", type=float, default=0.01, help="our SGD learning rate")
    ap.add_argument("--beta", type=float, default=0.9, help="our membrane decay per step")
    ap.add_argument("--hlop-epochs", type=int, default=20, help="passes over a task's activity learning the rows")
    ap.add_argument("--standardise", action="store_true",
                    help="standardise the pixels (the authors' input) instead of values in [0, 1]")
    ap.add_argument("--rows-first-scale", type=float, default=1.0,
                    help="multiplies the first task's rows, ours and (with --run-peer) the peer's")
    ap.add_argument("--run-peer", action="store_true",
                    help="also run the peer's HLOP with these rows (its environment, --source) instead of only "
                         "reading --peer")
    ap.add_argument("--source", default=os.environ.get("HLOP_SNN_SOURCE"),
                    help="with --run-peer: checkout or git directory of pkuxmq/HLOP-SNN (default: $HLOP_SNN_SOURCE)")
    ap.add_argument("--peer", nargs="+", default=PEER, help="the peer benchmark's JSON files")
    ap.add_argument("--merge", nargs="+", default=None, metavar="FILE",
                    help="run nothing: gather the rows of earlier outputs (e.g. one per seed and method, run "
                         "side by side) into --out")
    ap.add_argument("--out", default="benchmarks/results/hlop/06-vs-peer.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    run = {"label": label(argv, "--out"), "command": "python " + " ".join(sys.argv)}
    if args.merge:
        files = [json.loads(Path(path).read_text()) for path in args.merge]
        runs = [r for f in files for r in f.get("runs", f["rows"])]
        args.seeds = sorted({r["seed"] for r in runs})
        args.methods = [m for m in dict.fromkeys(r["method"] for r in runs) if m in PEER_METHOD]
        args.run_peer = any(r["method"] == "peer-hlop" for r in runs)
        args.rows_first_scale = next(r["settings"].get("rows_first_scale", 1.0) for r in runs
                                     if r["method"] in PEER_METHOD)
        # what one run of every seed and method would have been
        kept = _drop(files[0]["label"].split(), ("--seeds", "--methods", "--run-peer"))
        run["label"] = " ".join(["--seeds", *map(str, args.seeds), "--methods", *args.methods,
                                 *(["--run-peer"] if args.run_peer else []), *kept])
        run["command"] = "python benchmarks/hlop_vs_peer.py " + run["label"]
    else:
        runs = [run_seed(seed, method, args) for seed in args.seeds for method in args.methods]
        if args.run_peer:
            if not args.source:
                ap.error("--run-peer needs --source (or $HLOP_SNN_SOURCE)")
            source, _ = checkout(args.source)
            runs += [run_peer_seed(seed, args, source) for seed in args.seeds]
    peer = peer_results(args.peer)
    ours = summary(runs)
    # the peer's files hold its default rows: beside ours only when ours ran with them
    shown = runs + (peer["runs"] if args.rows_first_scale == 1 and not args.run_peer else [])
    for row in table_rows(shown):
        print(json.dumps(row), flush=True)
    write_run_set(args.out, "hlop_vs_peer", table_rows(shown), **run, task="permuted digits", n_tasks=args.tasks,
                  seeds=args.seeds, settings=next((r["settings"] for r in runs if r["method"] in PEER_METHOD), None),
                  summary=ours, runs=runs, peer=peer, version={"torch": torch.__version__, "numpy": np.__version__})


if __name__ == "__main__":
    main(sys.argv[1:])
