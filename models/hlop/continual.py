"""A sequence of tasks learnt one after the other by one network, and the
accuracy matrix it leaves.

``run_sequence(tasks, method=..., variant=...)`` builds the network (``variant``
"snn": a layered ``Leaky`` network trained through time with surrogate
gradients, ``spikemem.learn.compile``; "ann": the ReLU MLP of the same sizes),
then for each task in turn trains it on that task's training set and measures
its accuracy on every task's test set (one row of the matrix, ``metrics.py``).
One output layer serves all tasks (the permuted tasks share the ten digits;
split tasks keep their global labels).

Methods:

- ``finetune``: plain sequential training, the lower bound;
- ``ewc``: elastic weight consolidation (a quadratic penalty weighted by the
  Fisher information of earlier tasks);
- ``gpm``: each layer's weight gradient projected off the span of earlier
  tasks' presynaptic activity, from an exact SVD (Saha et al. 2021);
- ``hlop``: the same projection off a subspace learnt by Hebbian lateral
  neurons (Oja's subspace rule) on each layer's presynaptic activity (Xiao et
  al. 2024), with thresholds and biases frozen after the first task;
- ``multitask``: at each stage, training on the union of all tasks seen so far
  (continuing from the previous stage), the upper bound.

The gradient methods are ``spikemem.learn`` transforms: the loop calls their
``begin_task`` before each task and ``end_task`` with the task's training
inputs after it; the trainer applies them at every step.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from spikemem.errors import ModelError

from . import metrics

METHODS = ("finetune", "ewc", "gpm", "hlop", "multitask")
VARIANTS = ("snn", "ann")


@dataclass(frozen=True)
class Settings:
    """How each task is trained, and the methods' own parameters."""
    hidden: tuple = (400,)        # hidden layer sizes
    epochs: int = 5               # per task (per stage for multitask)
    batch_size: int = 32
    optimiser: str = "sgd"
    lr: float = 0.05              # the ANN's learning rate
    lr_snn: float = 0.01          # the spiking network's (surrogate gradients through counts are larger)
    steps: int = 8                # time steps per sample (snn)
    encoding: str = "repeat"      # "repeat": analog input every step; "poisson": Bernoulli spikes (snn)
    beta: float = 0.9             # membrane decay per step (snn)
    rows_per_task: int | tuple = (5, 30)   # hlop: subspace neurons added per task, one for all layers or one per layer
    rows_first_task: int | tuple | None = (20, 80)   # hlop: those of the first task (None: rows_per_task)
    hlop_eta: float | tuple = 0.01   # hlop: the Oja rule's rate, one or one per layer
    hlop_iterations: int = 5
    hlop_epochs: int = 4          # hlop: passes over a task's data learning the subspace
    ewc_lambda: float = 100.0     # ewc: the penalty's weight on the ANN
    ewc_lambda_snn: float = 1.0   # on the spiking network (its Fisher is larger: 100 makes SGD diverge)
    gpm_threshold: float | tuple = 0.97   # gpm: energy kept by the stored basis, one or one per layer

    def __post_init__(self):
        hidden = tuple(self.hidden)
        object.__setattr__(self, "hidden", hidden)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
            raise ModelError(f"settings: hidden must be one or more positive layer sizes, got {self.hidden!r}")
        for name in ("epochs", "batch_size", "steps", "hlop_iterations", "hlop_epochs"):
            value = getattr(self, name)
            if not _whole(value) or value < 1:
                raise ModelError(f"settings: {name} must be a whole number >= 1, got {value!r}")
        for name in ("rows_per_task", "rows_first_task"):
            value = getattr(self, name)
            if value is None and name == "rows_first_task":
                continue
            rows = value if isinstance(value, tuple) else (value,)
            if not all(_whole(r) and r >= 0 for r in rows):
                raise ModelError(f"settings: {name} must be whole numbers >= 0, got {value!r}")
            if isinstance(value, tuple) and len(rows) != len(hidden) + 1:
                raise ModelError(f"settings: {name} {value!r} gives {len(rows)} layers, the network "
                                 f"has {len(hidden) + 1}")
        thresholds = self.gpm_threshold if isinstance(self.gpm_threshold, tuple) else (self.gpm_threshold,)
        if not all(0 < t <= 1 for t in thresholds):
            raise ModelError(f"settings: gpm_threshold must lie in (0, 1], got {self.gpm_threshold!r}")
        if isinstance(self.gpm_threshold, tuple) and len(thresholds) != len(hidden) + 1:
            raise ModelError(f"settings: gpm_threshold {self.gpm_threshold!r} gives {len(thresholds)} layers, the "
                             f"network has {len(hidden) + 1}")
        for name in ("lr", "lr_snn", "hlop_eta"):
            value = getattr(self, name)
            if not all(np.isfinite(v) and v > 0 for v in (value if isinstance(value, tuple) else (value,))):
                raise ModelError(f"settings: {name} must be a positive number, got {value!r}")
        for name in ("ewc_lambda", "ewc_lambda_snn"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ModelError(f"settings: {name} must be >= 0, got {value!r}")
        if not 0 < self.beta < 1:
            raise ModelError(f"settings: beta must lie in (0, 1), got {self.beta!r}")


def _whole(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _per_layer(value, layers: list):
    """A setting given once, or per layer in order, as the transforms take it."""
    return dict(zip(layers, value)) if isinstance(value, tuple) else value


def head_size(tasks) -> tuple[list, int, int]:
    """``(tasks, n_inputs, n_classes)`` of a task sequence checked by
    ``spikemem.learn.tasks.check_tasks``; one head serves every task's classes."""
    from spikemem.learn.tasks import check_tasks
    tasks = check_tasks(tasks)
    return tasks, tasks[0].n_inputs, 1 + max(max(t.classes) for t in tasks)


def build_model(variant: str, sizes: list, settings: Settings, seed: int):
    """The network of ``variant`` with layer ``sizes``, initialised from ``seed``."""
    from spikemem import learn
    if variant == "snn":
        return learn.compile(learn.mlp(sizes, beta=settings.beta, seed=seed))
    return learn.ann_mlp(sizes, seed=seed)


def build_transform(method: str, model, variant: str, settings: Settings, seed: int):
    """The gradient transform of ``method`` on ``model`` (None for finetune and multitask)."""
    from spikemem.learn import transforms
    if method == "hlop":
        rows = [_per_layer(settings.rows_per_task, model.layers)]
        if settings.rows_first_task is not None:
            rows.insert(0, _per_layer(settings.rows_first_task, model.layers))
        return transforms.HLOP(model, rows_per_task=rows,
                               eta=_per_layer(settings.hlop_eta, model.layers), iterations=settings.hlop_iterations,
                               epochs=settings.hlop_epochs, spiking=variant == "snn", seed=seed)
    if method == "ewc":
        lam = settings.ewc_lambda_snn if variant == "snn" else settings.ewc_lambda
        return transforms.EWC(model, lam=lam, seed=seed)
    if method == "gpm":
        return transforms.GPM(model, threshold=_per_layer(settings.gpm_threshold, model.layers), seed=seed)
    return None


def model_inputs(x, variant: str, settings: Settings, seed: int):
    """Static data ``x`` as the model of ``variant`` takes it: (n, n_in), or
    (steps, n, n_in) for the spiking one (``learn.encode``)."""
    import torch

    from spikemem import learn
    x = torch.as_tensor(x)
    return learn.encode(x, settings.steps, settings.encoding, seed=seed) if variant == "snn" else x


def run_sequence(tasks, *, method: str, variant: str = "snn", settings: Settings = Settings(), seed: int = 0,
                 progress=None) -> dict:
    """Learn ``tasks`` in order with ``method``; returns the accuracy matrix
    (``matrix[i][j]``: task ``j`` after task ``i``), its ``summary``
    (``metrics.summary``), each task's training ``history`` (the trainer's
    per-epoch dicts), ``seconds``, what ran (method, variant, settings, seed),
    and the trained ``model`` and its ``transform`` (None for finetune and multitask)."""
    if method not in METHODS:
        raise ModelError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if variant not in VARIANTS:
        raise ModelError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if not isinstance(settings, Settings):
        raise ModelError(f"settings must be a continual.Settings, got {type(settings).__name__}")
    tasks, n_inputs, n_classes = head_size(tasks)
    import torch

    from spikemem import learn

    start = time.perf_counter()
    model = build_model(variant, [n_inputs, *settings.hidden, n_classes], settings, seed)
    transform = build_transform(method, model, variant, settings, seed)
    matrix, history = [], []
    for i, task in enumerate(tasks):
        if method == "multitask":
            x = np.concatenate([t.x_train for t in tasks[:i + 1]])
            y = np.concatenate([t.y_train for t in tasks[:i + 1]])
        else:
            x, y = task.x_train, task.y_train
        if transform is not None:
            transform.begin_task(model, i)
        lr = settings.lr_snn if variant == "snn" else settings.lr
        trainer = learn.Trainer(model, optimiser=settings.optimiser, lr=lr, epochs=settings.epochs,
                                batch_size=settings.batch_size, steps=settings.steps, encoding=settings.encoding,
                                transforms=() if transform is None else (transform,), seed=seed * 1000 + i,
                                progress=progress)
        history.append(trainer.fit(x, y))
        if transform is not None:
            x_task = model_inputs(task.x_train, variant, settings, seed * 1000 + i)
            if method == "ewc":         # the empirical Fisher, of the task's labels
                transform.end_task(model, x_task, torch.as_tensor(task.y_train))
            else:
                transform.end_task(model, x_task)
        matrix.append([trainer.evaluate(t.x_test, t.y_test) for t in tasks])
    return {"method": method, "variant": variant, "seed": seed, "settings": asdict(settings),
            "tasks": [t.name for t in tasks], "matrix": matrix, "summary": metrics.summary(matrix),
            "history": history, "seconds": time.perf_counter() - start, "model": model,
            "transform": transform}
