"""The HLOP authors' spiking MLP (pkuxmq/HLOP-SNN, ICLR 2024) trained on a sequence of tasks.

Runs inside the hlop peer environment (``benchmarks/peer_env.py build hlop``), never the
project's:

    python hlop_run.py INPUTS.npz PARAMS.json OUT_DIR

INPUTS.npz: a task file in the format of ``spikemem.learn.tasks.save_tasks``: ``n_tasks``,
``names`` and per task t ``x_train_{t}`` (n, d float32), ``y_train_{t}`` (int64),
``x_test_{t}``, ``y_test_{t}``, ``classes_{t}``.
PARAMS.json: ``source`` (a checkout of the authors' repository; else ``$HLOP_SNN_SOURCE``),
``methods`` (a list of ``"baseline"``, ``"hlop"``, ``"hlop_spiking"``), ``seed`` and the
settings in ``DEFAULTS`` (the authors' PMNIST defaults of ``spiking_train_pmnist.py``,
except the sizes, which a caller scales to its data).
OUT_DIR/results.json: per method the accuracy matrix (a[i][j]: accuracy on task j after
training task i; every task is tested after every task), the seconds, the final training
loss and accuracy per task; the settings used and the package versions.

What runs is the authors' code, imported from the checkout: their ``spiking_MLP`` (DSR
training of LIF neurons, ``models/spiking_mlp_hlop.py``), their projection layers and their
``HLOP`` module (the Oja-subspace lateral neurons). The loop below follows
``spiking_train_pmnist.py`` step by step: the subspace rows added per task, the parameters
given to the optimiser (1-D ones only for task 0), SGD with StepLR, ``fix_bn`` (freezing
the thresholds) from task 1 on, the forward flags per method (``-baseline``: neither
projection nor subspace learning; HLOP: the subspace learned during each task's training,
the gradients projected on the merged rows of earlier tasks), the merge after each task.
Their script itself is not run: it reads MNIST through torchvision, logs to TensorBoard and
fixes sizes (784 inputs, 800 hidden, 10 tasks) that this data does not have.

Changes made at run time, nothing in the checkout edited:
- the model module's input width (the literal 784 in ``models/spiking_mlp_hlop.py``) is
  replaced by the tasks' input size before the module is executed;
- ``torch.cuda.device_count`` returns 1, as on the authors' single GPU: their threshold
  gradient all-reduces over devices whenever the count is not 1, which on a CPU (count 0)
  calls ``torch.distributed`` without a process group;
- ``ctx.saved_variables`` (their autograd functions; removed from recent torch) is an alias
  of ``ctx.saved_tensors`` where torch no longer has it;
- tensors stay on the CPU (their ``.cuda()`` calls are in the script, not in the code used);
- one thread (``torch.set_num_threads(1)``) where their script sets four.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
import types
from importlib.metadata import version
from pathlib import Path

import numpy as np

#: the authors' PMNIST settings (spiking_train_pmnist.py defaults and the sizes it fixes)
DEFAULTS = dict(
    hidden=800, epochs=1, batch_size=64, lr=0.1, step_size=100, gamma=0.1,
    timesteps=20, Vth=0.3, tau=1.0, delta_t=0.05, alpha=0.3, train_Vth=True, Vth_bound=0.0005,
    # hlop_iterations: fixed by their model (HLOP.forward_with_update's default), recorded for the reader
    hlop_lr=[0.001, 0.01, 0.01], hlop_iterations=5, hlop_with_wfr=True, hlop_start_epochs=0,
    hlop_spiking_scale=20.0, hlop_spiking_timesteps=40.0,      # their README's example for spiking lateral neurons
    # subspace rows per layer (input, hidden, hidden) added before each task: 80/200/100 for task 0,
    # then 70 each, 20 fewer every third task (their hlop_out_num and hlop_out_num_inc)
    rows=[[80, 70, 70, 50, 50, 50, 30, 30, 30, 10], [200, 70, 70, 50, 50, 50, 30, 30, 30, 10],
          [100, 70, 70, 50, 50, 50, 30, 30, 30, 10]],
    normalise=True, seed=0, methods=["baseline", "hlop"])
METHODS = ("baseline", "hlop", "hlop_spiking")


def load_tasks(path):
    """The tasks of a task file: a list of dicts with x_train, y_train, x_test, y_test."""
    with np.load(path) as f:
        n = int(f["n_tasks"])
        names = [str(s) for s in f["names"]]
        return [dict(name=names[t], **{k: f[f"{k}_{t}"] for k in ("x_train", "y_train", "x_test", "y_test")})
                for t in range(n)]


def patch_torch(torch):
    """The run-time changes that let the authors' code run on a CPU (see the module's docstring)."""
    torch.cuda.device_count = lambda: 1
    ctx = torch.autograd.function.FunctionCtx
    if not hasattr(ctx, "saved_variables"):
        ctx.saved_variables = property(lambda self: self.saved_tensors)


def import_authors_mlp(source, n_in):
    """The authors' ``spiking_MLP`` class with its input width set to ``n_in``."""
    source = Path(source)
    path = source / "models" / "spiking_mlp_hlop.py"
    if not path.is_file():
        raise SystemExit(f"no {path}: give a checkout of pkuxmq/HLOP-SNN as 'source' or $HLOP_SNN_SOURCE")
    sys.path.insert(0, str(source))         # their `modules` package
    text = path.read_text()
    if text.count("784") != 6:
        raise SystemExit(f"{path}: expected the input width 784 six times, found {text.count('784')}: "
                         f"another version of the authors' code")
    module = types.ModuleType("spiking_mlp_hlop")
    module.__file__ = str(path)
    exec(compile(text.replace("784", str(int(n_in))), str(path), "exec"), module.__dict__)
    return module.spiking_MLP


def as_frames(x, timesteps, torch):
    """(B, d) -> (B, T, 1, 1, d): their input layout (B, T, C, H, W) with the image repeated each step."""
    return torch.as_tensor(x, dtype=torch.float32).view(len(x), 1, 1, 1, -1).repeat(1, timesteps, 1, 1, 1)


def evaluate(model, x, y, p, torch):
    """Accuracy on (x, y), as their ``test``: no projection, no subspace learning, batches of batch_size."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), p["batch_size"]):
            out = model(as_frames(x[i:i + p["batch_size"]], p["timesteps"], torch), 0,
                        projection=False, update_hlop=False)
            correct += int((out.argmax(1) == torch.as_tensor(y[i:i + p["batch_size"]])).sum())
    return correct / len(x)


def run_sequence(tasks, method, p, spiking_MLP, torch):
    """Train the authors' model on ``tasks`` in order with ``method``; the accuracy matrix and history."""
    import torch.nn.functional as F

    seed = int(p["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    snn_setting = dict(timesteps=p["timesteps"], train_Vth=bool(p["train_Vth"]), Vth=p["Vth"], tau=p["tau"],
                       delta_t=p["delta_t"], alpha=p["alpha"], Vth_bound=p["Vth_bound"], rate_stat=False)
    n_classes = int(max(int(t["y_train"].max()) for t in tasks)) + 1
    baseline = method == "baseline"
    matrix = np.zeros((len(tasks), len(tasks)))
    history = []
    started = time.perf_counter()
    for t, task in enumerate(tasks):
        rows = [int(r[t]) for r in p["rows"]]
        if t == 0:
            model = spiking_MLP(snn_setting, num_classes=n_classes, n_hidden=int(p["hidden"]),
                                hlop_with_wfr=bool(p["hlop_with_wfr"]), hlop_spiking=method == "hlop_spiking",
                                hlop_spiking_scale=p["hlop_spiking_scale"],
                                hlop_spiking_timesteps=p["hlop_spiking_timesteps"])
            for module, lr in zip(model.hlop_modules, p["hlop_lr"]):
                module.lr = lr
        model.add_hlop_subspace(rows)
        params = [w for name, w in model.named_parameters()
                  if "hlop" not in name and (t == 0 or len(w.size()) != 1)]
        optimiser = torch.optim.SGD(params, lr=p["lr"])
        scheduler = torch.optim.lr_scheduler.StepLR(optimiser, step_size=p["step_size"], gamma=p["gamma"])
        x, y = task["x_train"], torch.as_tensor(task["y_train"], dtype=torch.long)
        for epoch in range(1, int(p["epochs"]) + 1):
            model.train()
            if t != 0:
                model.fix_bn()
            order = np.arange(len(x))
            np.random.shuffle(order)
            loss_sum = correct = 0.0
            for i in range(0, len(order), p["batch_size"]):
                index = order[i:i + p["batch_size"]]
                frames, label = as_frames(x[index], p["timesteps"], torch), y[index]
                learn = not baseline and epoch > p["hlop_start_epochs"]
                optimiser.zero_grad()
                if t == 0:
                    out = model(frames, t, projection=False, update_hlop=learn)
                else:
                    out = model(frames, t, projection=not baseline, proj_id_list=[0], update_hlop=learn,
                                fix_subspace_id_list=[0])
                loss = F.cross_entropy(out, label)
                loss.backward()
                optimiser.step()
                loss_sum += float(loss.detach()) * len(index)
                correct += int((out.argmax(1) == label).sum())
            scheduler.step()
        for j, other in enumerate(tasks):
            matrix[t, j] = evaluate(model, other["x_test"], other["y_test"], p, torch)
        history.append({"task": task["name"], "train_loss": loss_sum / len(x), "train_accuracy": correct / len(x),
                        "subspace_rows": [0 if m.weight is None else int(m.weight.shape[0])
                                          for m in model.hlop_modules],
                        "seconds": time.perf_counter() - started})
        model.merge_hlop_subspace()
    return {"matrix": matrix.tolist(), "seconds": time.perf_counter() - started, "history": history}


def main(inputs_path, params_path, out_dir):
    p = {**DEFAULTS, **json.loads(Path(params_path).read_text())}
    source = p.get("source") or os.environ.get("HLOP_SNN_SOURCE")
    if not source:
        raise SystemExit("no source: give a checkout of pkuxmq/HLOP-SNN as 'source' or $HLOP_SNN_SOURCE")
    unknown = sorted(set(p["methods"]) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; known: {list(METHODS)}")
    if p["hlop_iterations"] != 5:
        raise SystemExit(f"hlop_iterations = {p['hlop_iterations']}: the authors' model always runs 5")
    tasks = load_tasks(inputs_path)
    if any(len(r) < len(tasks) for r in p["rows"]) or len(p["rows"]) != 3:
        raise SystemExit(f"rows: three lists (input, hidden, hidden) of at least {len(tasks)} counts")

    import torch

    torch.set_num_threads(1)
    patch_torch(torch)
    n_in = tasks[0]["x_train"].shape[1]
    spiking_MLP = import_authors_mlp(source, n_in)
    if p["normalise"]:      # their data pipeline standardises pixels with the data set's mean and std
        mean, std = float(tasks[0]["x_train"].mean()), float(tasks[0]["x_train"].std())
        tasks = [{**t, "x_train": (t["x_train"] - mean) / std, "x_test": (t["x_test"] - mean) / std}
                 for t in tasks]
        p["normalisation"] = {"mean": mean, "std": std}
    results = {m: run_sequence(tasks, m, p, spiking_MLP, torch) for m in p["methods"]}
    p.pop("source", None)
    (Path(out_dir) / "results.json").write_text(json.dumps({
        "methods": results, "settings": {**p, "n_in": n_in, "n_tasks": len(tasks), "threads": 1},
        "version": {k: version(k) for k in ("torch", "numpy")}}, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
