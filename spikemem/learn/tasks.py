"""Continual-learning task sequences made from one ``Dataset``, and their file format.

A ``Task`` is one stage of a sequence: a train and a test split and the
classes (global labels) it holds. All tasks of a sequence have the same
number of inputs, and their labels index one shared output layer (the head):

- ``permuted``: each task is the whole data set with its inputs in a fixed
  random order of its own (permuted MNIST); every task holds all classes;
- ``split``: each task holds a disjoint group of classes (split MNIST); labels
  stay global, so one head of ``n_classes`` outputs serves every task.

``save_tasks`` writes a sequence to one ``.npz`` file that needs no spikemem to
read: ``n_tasks`` (int), ``names`` (strings) and, for each task ``t``,
``x_train_{t}``, ``x_test_{t}`` (float32, samples x inputs, in [0, 1]),
``y_train_{t}``, ``y_test_{t}`` (int64) and ``classes_{t}`` (int64).
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .checks import is_whole
from .datasets import Dataset, check_splits, rng_of


@dataclass(frozen=True, eq=False)
class Task:
    """One task of a sequence, checked when made: inputs as in ``Dataset``
    (float32, finite, in [0, 1], neither split empty, the same number of inputs
    in both), ``classes`` distinct whole numbers >= 0 (stored sorted, as a
    tuple) and every label one of them."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"Task: the name must be a non-empty string, got {self.name!r}")
        where = f"task '{self.name}'"
        classes = np.asarray(self.classes)
        if classes.ndim != 1 or classes.size == 0 or classes.dtype.kind not in "iu" or (classes < 0).any():
            raise ModelError(f"{where}: classes must be a non-empty list of whole numbers >= 0, got {self.classes!r}")
        if len(np.unique(classes)) != len(classes):
            raise ModelError(f"{where}: classes {self.classes!r} name a class twice")
        object.__setattr__(self, "classes", tuple(sorted(int(c) for c in classes)))

        def only_the_tasks_classes(y, split):
            foreign = ~np.isin(y, self.classes)
            if foreign.any():
                sample = int(np.argmax(foreign))
                raise ModelError(f"{where}: y_{split}: label {y[sample]} of sample {sample} is not one of the "
                                 f"task's classes {self.classes}")

        check_splits(self, where, None, only_the_tasks_classes)

    @property
    def n_inputs(self) -> int:
        """The number of inputs of one sample."""
        return self.x_train.shape[1]


def check_tasks(tasks, n_classes: int | None = None) -> list[Task]:
    """``tasks`` as a list, refused unless it is a non-empty sequence of
    ``Task`` with distinct names and one number of inputs, and (given
    ``n_classes``, the size of the shared head) every class below ``n_classes``."""
    if isinstance(tasks, Task) or not hasattr(tasks, "__len__"):
        raise ModelError(f"expected a list of tasks, got {type(tasks).__name__}")
    tasks = list(tasks)
    if not tasks:
        raise ModelError("the list of tasks is empty")
    for t, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise ModelError(f"task {t} is a {type(task).__name__}, not a Task")
    first = tasks[0]
    seen = set()
    for task in tasks:
        if task.name in seen:
            raise ModelError(f"two tasks are named '{task.name}'")
        seen.add(task.name)
        if task.n_inputs != first.n_inputs:
            raise ModelError(f"task '{task.name}' has {task.n_inputs} inputs, the first task "
                             f"('{first.name}') {first.n_inputs}")
        if n_classes is not None and max(task.classes) >= n_classes:
            raise ModelError(f"task '{task.name}': class {max(task.classes)} is outside the head's "
                             f"{n_classes} classes 0..{n_classes - 1}")
    return tasks


def permute(x, permutation) -> np.ndarray:
    """The columns (inputs) of ``x`` (samples x inputs) in the order
    ``permutation``: ``x[:, permutation]``, refused unless ``permutation``
    holds each input index exactly once."""
    a = np.asarray(x)
    if a.ndim != 2:
        raise ModelError(f"permute: expected a (samples, inputs) array, got shape {a.shape}")
    p = np.asarray(permutation)
    if p.ndim != 1 or p.dtype.kind not in "iu":
        raise ModelError(f"permute: the permutation must be a 1-D array of whole numbers, got {p.dtype} "
                         f"of shape {p.shape}")
    if len(p) != a.shape[1]:
        raise ModelError(f"permute: the permutation has {len(p)} entries, the data {a.shape[1]} inputs")
    outside = (p < 0) | (p >= len(p))
    if outside.any():
        raise ModelError(f"permute: entry {int(np.argmax(outside))} of the permutation, {p[outside][0]}, "
                         f"is no input index 0..{len(p) - 1}")
    counts = np.bincount(p, minlength=len(p))
    if (counts != 1).any():
        missing = int(np.argmin(counts))
        raise ModelError(f"permute: not a permutation: input {missing} is missing "
                         f"and input {int(np.argmax(counts))} appears {counts.max()} times")
    return a[:, p]


def permutations(n_inputs: int, n_tasks: int, *, seed=0, first_identity: bool = True) -> list[np.ndarray]:
    """``n_tasks`` orders of ``n_inputs`` inputs drawn from ``seed`` (a whole
    number, a numpy Generator or a ``torch.Generator``); the first is the
    identity if ``first_identity``."""
    for what, value in (("n_inputs", n_inputs), ("n_tasks", n_tasks)):
        if not is_whole(value) or value < 1:
            raise ModelError(f"permutations: {what} must be a whole number >= 1, got {value!r}")
    rng = rng_of(seed, "permutations")
    return [np.arange(n_inputs) if t == 0 and first_identity else rng.permutation(n_inputs) for t in range(n_tasks)]


def permuted(dataset: Dataset, n_tasks: int, *, seed=0, first_identity: bool = True) -> list[Task]:
    """``n_tasks`` tasks, each the whole of ``dataset`` (train and test) with its
    inputs in one order of ``permutations``; every task holds all classes."""
    _check_dataset(dataset, "permuted")
    orders = permutations(dataset.n_inputs, n_tasks, seed=seed, first_identity=first_identity)
    classes = tuple(range(dataset.n_classes))
    return [Task(f"{dataset.name}-permuted-{t}", permute(dataset.x_train, p), dataset.y_train,
                 permute(dataset.x_test, p), dataset.y_test, classes) for t, p in enumerate(orders)]


def split(dataset: Dataset, n_tasks: int) -> list[Task]:
    """``n_tasks`` tasks holding disjoint groups of consecutive classes
    (``numpy.array_split`` of ``0 .. n_classes - 1``: groups differ by at most one
    class when ``n_tasks`` does not divide ``n_classes``), labels unchanged."""
    _check_dataset(dataset, "split")
    if not is_whole(n_tasks) \
            or not 1 <= n_tasks <= dataset.n_classes:
        raise ModelError(f"split: n_tasks must be a whole number from 1 to the dataset's {dataset.n_classes} "
                         f"classes, got {n_tasks!r}")
    tasks = []
    for t, group in enumerate(np.array_split(np.arange(dataset.n_classes), n_tasks)):
        train, test = np.isin(dataset.y_train, group), np.isin(dataset.y_test, group)
        tasks.append(Task(f"{dataset.name}-split-{t}", dataset.x_train[train], dataset.y_train[train],
                          dataset.x_test[test], dataset.y_test[test], tuple(int(c) for c in group)))
    return tasks


def save_tasks(tasks, path) -> None:
    """Write ``tasks`` (checked by ``check_tasks``) to the ``.npz`` file ``path``
    (exactly that name; format in the module's docstring)."""
    tasks = check_tasks(tasks)
    arrays = {"n_tasks": np.int64(len(tasks)), "names": np.array([task.name for task in tasks], dtype=str)}
    for t, task in enumerate(tasks):
        arrays.update({f"x_train_{t}": task.x_train, f"y_train_{t}": task.y_train, f"x_test_{t}": task.x_test,
                       f"y_test_{t}": task.y_test, f"classes_{t}": np.asarray(task.classes, dtype=np.int64)})
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_tasks(path, n_classes: int | None = None) -> list[Task]:
    """The tasks in a file written by ``save_tasks`` (or in its format), checked
    as ``Task`` and ``check_tasks`` (with ``n_classes``, the head's size) check them."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelError(f"'{path}': no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ModelError(f"'{path}' is not a task file (.npz): {e}") from None

    def get(key):
        if key not in arrays:
            raise ModelError(f"'{path}': the task file has no '{key}'")
        return arrays[key]

    n_tasks, names = get("n_tasks"), get("names")
    if n_tasks.shape != () or n_tasks.dtype.kind not in "iu" or n_tasks < 1:
        raise ModelError(f"'{path}': n_tasks must be one whole number >= 1, got {n_tasks!r}")
    if names.shape != (int(n_tasks),) or names.dtype.kind != "U":
        raise ModelError(f"'{path}': names must be {int(n_tasks)} strings, got {names!r}")
    return check_tasks([Task(str(names[t]), get(f"x_train_{t}"), get(f"y_train_{t}"), get(f"x_test_{t}"),
                             get(f"y_test_{t}"), get(f"classes_{t}")) for t in range(int(n_tasks))], n_classes)


def _check_dataset(dataset, where: str) -> None:
    if not isinstance(dataset, Dataset):
        raise ModelError(f"{where}: expected a Dataset, got {type(dataset).__name__}")
