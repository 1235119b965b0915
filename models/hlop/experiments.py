"""The continual-learning experiments: permuted digits, split digits and
permuted MNIST-1D, every method on the spiking and the ANN variant.

``evaluate(setting)`` makes the task sequence of each seed (the seed draws the
permutations, the data split and the network's initial weights), runs
``continual.run_sequence`` for every method and variant, and gathers the
accuracy matrices and their ACC, BWT and forgetting over the seeds.

- ``permuted-digits``: scikit-learn's 8 x 8 digits (64 inputs), 10 tasks, each a
  fixed pixel permutation of them (the first the identity), one 10-way head;
- ``split-digits``: the same digits as 5 tasks of two classes each;
- ``permuted-mnist1d``: MNIST-1D (40 inputs, generated), 10 permuted tasks.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from spikemem.errors import ModelError
from spikemem.experiments import Param, experiment

from . import metrics
from .continual import METHODS, VARIANTS, Settings, run_sequence

EXPERIMENTS = ("permuted-digits", "split-digits", "permuted-mnist1d")
DATASETS = ("digits", "mnist1d")
PROTOCOLS = ("permuted", "split")


@dataclass(frozen=True)
class Setting:
    """What ``evaluate`` runs: the task sequence, methods, variants, seeds and training."""
    dataset: str = "digits"
    protocol: str = "permuted"
    n_tasks: int = 10
    methods: tuple = METHODS
    variants: tuple = VARIANTS
    seeds: tuple = (0,)
    n_samples: int = 5000          # mnist1d: samples generated (train and test)
    training: Settings = field(default_factory=Settings)

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ModelError(f"dataset {self.dataset!r} is not one of {list(DATASETS)}")
        if self.protocol not in PROTOCOLS:
            raise ModelError(f"protocol {self.protocol!r} is not one of {list(PROTOCOLS)}")
        if isinstance(self.n_tasks, bool) or not isinstance(self.n_tasks, (int, np.integer)) or self.n_tasks < 1:
            raise ModelError(f"n_tasks must be a whole number >= 1, got {self.n_tasks!r}")
        for name, allowed in (("methods", METHODS), ("variants", VARIANTS)):
            values = tuple(getattr(self, name))
            object.__setattr__(self, name, values)
            unknown = [v for v in values if v not in allowed]
            if not values or unknown:
                raise ModelError(f"{name} {list(values)}: choose one or more of {list(allowed)}")
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.seeds:
            raise ModelError("seeds: give at least one seed")
        if not isinstance(self.training, Settings):
            raise ModelError(f"training must be a continual.Settings, got {type(self.training).__name__}")


#: what ``spikemem run hlop --experiment NAME`` runs (one seed, every method, both variants)
SETTINGS = {"permuted-digits": Setting(),
            "split-digits": Setting(protocol="split", n_tasks=5),
            "permuted-mnist1d": Setting(dataset="mnist1d")}


def make_tasks(setting: Setting, seed: int) -> list:
    """The task sequence of ``setting`` for ``seed`` (``spikemem.learn.tasks``)."""
    from spikemem.learn import datasets, tasks
    if setting.dataset == "digits":
        data = datasets.digits(seed=seed)
    else:
        data = datasets.mnist1d(seed=seed, n=setting.n_samples)
    if setting.protocol == "permuted":
        return tasks.permuted(data, setting.n_tasks, seed=seed)
    return tasks.split(data, setting.n_tasks)


def evaluate(setting: Setting = Setting(), progress=None) -> dict:
    """Every method and variant of ``setting`` on every seed's task sequence:
    ``runs[variant][method]`` the runs (one per seed, ``run_sequence``'s dict
    without its model), ``summary[variant][method]`` their ``metrics.over_seeds``."""
    start = time.perf_counter()
    sequences = {seed: make_tasks(setting, seed) for seed in setting.seeds}
    runs = {variant: {method: [] for method in setting.methods} for variant in setting.variants}
    for variant in setting.variants:
        for method in setting.methods:
            for seed, tasks in sequences.items():
                run = run_sequence(tasks, method=method, variant=variant, settings=setting.training, seed=seed,
                                   progress=progress)
                run.pop("model"), run.pop("transform")
                runs[variant][method].append(run)
    summary = {variant: {method: {**metrics.over_seeds([r["matrix"] for r in by_method[method]]),
                                  "seconds": float(np.mean([r["seconds"] for r in by_method[method]]))}
                         for method in setting.methods}
               for variant, by_method in runs.items()}
    first = sequences[setting.seeds[0]]
    return {"setting": asdict(setting), "tasks": [t.name for t in first],
            "n_inputs": int(first[0].x_train.shape[1]), "runs": runs, "summary": summary,
            "seconds": time.perf_counter() - start}


def main_job(name: str, backend: str, folder: str) -> list:
    """``spikemem run hlop --experiment NAME``: run it, write its report. Training
    runs on torch whatever ``backend``; the report names it."""
    from spikemem.progress import shown

    from .report import write_report
    if name not in SETTINGS:
        raise ModelError(f"unknown experiment '{name}'; choose one of {', '.join(EXPERIMENTS)}")
    setting = SETTINGS[name]
    data = write_report(folder, evaluate(setting, progress=shown()))
    lines = [f"{name}: {setting.n_tasks} tasks, seeds {list(setting.seeds)}"]
    for variant, by_method in data["summary"].items():
        for method, s in by_method.items():
            lines.append(f"{variant} {method}: ACC {100 * s['acc']['mean']:.1f} %, "
                         f"BWT {100 * s['bwt']['mean']:+.1f} points")
    return lines


@experiment(name="hlop")
def continual_learning(seed, backend, dataset=Param("digits", "the data the tasks are made of", DATASETS),
                       protocol=Param("permuted", "permuted inputs or split classes", PROTOCOLS),
                       n_tasks=Param(10, "tasks in the sequence"),
                       method=Param("hlop", "how the network learns the sequence", METHODS),
                       variant=Param("snn", "spiking network or ANN", VARIANTS),
                       hidden=Param(200, "neurons in the hidden layer"),
                       epochs=Param(5, "training epochs per task"),
                       steps=Param(10, "time steps per sample (snn)")):
    """ACC, BWT and forgetting of one method on one task sequence (``spikemem sweep hlop``);
    the seed draws the tasks and the initial weights."""
    training = replace(Settings(), hidden=(hidden,), epochs=epochs, steps=steps)
    setting = Setting(dataset=dataset, protocol=protocol, n_tasks=n_tasks, methods=(method,), variants=(variant,),
                      seeds=(seed,), training=training)
    run = run_sequence(make_tasks(setting, seed), method=method, variant=variant, settings=training, seed=seed)
    return {**run["summary"], "seconds": run["seconds"]}
