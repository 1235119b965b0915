"""Measures of continual learning on an accuracy matrix.

``a[i][j]`` is the accuracy on task ``j`` (its test set) after training on tasks
``0 .. i``, a fraction in [0, 1]; the matrix is square, one row and one column
per task (the entries above the diagonal, tasks not yet trained, are kept: they
show what a task's data looks like to a network that has not seen it).

- ACC: the mean of the last row, every task after the whole sequence;
- BWT (backward transfer): the mean over the tasks before the last of
  ``a[last][j] - a[j][j]``, how much each task lost (negative) or gained after
  it was learnt;
- forgetting: per task before the last, the best accuracy it had minus its
  accuracy at the end (Chaudhry et al. 2018), averaged.

Means and standard deviations over seeds (``over_seeds``) use ``ddof=1``.
"""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError


def accuracy_matrix(matrix) -> np.ndarray:
    """``matrix`` as a float array, checked: square, at least one task, finite, in [0, 1]."""
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ModelError(f"accuracy matrix: expected a square tasks x tasks matrix, got shape {a.shape}")
    bad = ~np.isfinite(a) | (a < 0) | (a > 1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ModelError(f"accuracy matrix: a[{i}][{j}] = {float(a[i, j])!r} is not an accuracy in [0, 1]")
    return a


def acc(matrix) -> float:
    """The mean accuracy over all tasks after the last one was learnt."""
    return float(accuracy_matrix(matrix)[-1].mean())


def bwt(matrix) -> float:
    """Backward transfer: the mean change of each earlier task's accuracy from
    just after it was learnt to the end (0 for a single task)."""
    a = accuracy_matrix(matrix)
    last = len(a) - 1
    if last == 0:
        return 0.0
    return float(np.mean(a[last, :last] - np.diag(a)[:last]))


def forgetting(matrix) -> float:
    """The mean over earlier tasks of their best accuracy minus their final one
    (0 for a single task)."""
    a = accuracy_matrix(matrix)
    last = len(a) - 1
    if last == 0:
        return 0.0
    best = np.array([a[j:last, j].max() for j in range(last)])
    return float(np.mean(best - a[last, :last]))


def learning_accuracy(matrix) -> float:
    """The mean accuracy of each task just after it was learnt (the diagonal)."""
    return float(np.diag(accuracy_matrix(matrix)).mean())


MEASURES = {"acc": acc, "bwt": bwt, "forgetting": forgetting, "learning_accuracy": learning_accuracy}


def summary(matrix) -> dict:
    """Every measure of one accuracy matrix."""
    return {name: f(matrix) for name, f in MEASURES.items()}


def over_seeds(matrices) -> dict:
    """``{measure: {"mean", "std", "values"}}`` over the accuracy matrices of
    several seeds (one matrix: std 0), and the mean matrix under ``"matrix"``."""
    stack = [accuracy_matrix(m) for m in matrices]
    if not stack:
        raise ModelError("over_seeds: no accuracy matrix given")
    if len({m.shape for m in stack}) != 1:
        raise ModelError(f"over_seeds: the matrices have different shapes {sorted({m.shape for m in stack})}")
    out = {}
    for name, f in MEASURES.items():
        values = np.array([f(m) for m in stack])
        out[name] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                     "values": values.tolist()}
    out["matrix"] = np.mean(stack, axis=0).tolist()
    return out
