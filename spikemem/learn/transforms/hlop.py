"""HLOP (Xiao et al., ICLR 2024): each layer's input subspace learned by
lateral neurons with the Oja subspace rule (``learn.subspace.Subspace``),
weight gradients projected on its orthogonal complement.

Choices where the description is open, following the authors' code:

- rows are learned from the trained model's presynaptic activity on the
  task's data after the task (``end_task``; the authors learn them during
  the task's training epochs, one pass per epoch, from the same activity),
  ``epochs`` passes in shuffled minibatches, ``iterations`` updates each;
  new rows learn with the old ones frozen, then all are merged;
- the projection uses H as learned, not orthonormalised;
- the number of new rows per task is given per task and layer (the authors
  on permuted MNIST: 80, 200, 100 for task 0, then 70 each, 20 fewer every
  third task); a layer whose subspace already fills its input gets only the
  rows that still fit.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import torch

from ...errors import ModelError, user_stacklevel
from ..checks import is_whole as _is_int
from ..subspace import Subspace
from .base import per_layer
from .projection import Projection


class HLOP(Projection):
    """Hebbian learning based orthogonal projection as a gradient transform.

    ``rows_per_task``: new subspace neurons per layer for each task: an int,
    a mapping layer -> int, or a sequence of those, one per task (the last
    repeats). ``eta``: the rule's rate, one or per layer (the authors: 0.001
    for a 784-wide input layer, 0.01 elsewhere). ``epochs`` passes over a
    task's activity of ``batch_size`` samples, ``iterations`` updates per
    minibatch. ``spiking``: lateral neurons that count spikes over
    ``spike_steps`` steps up to ``spike_scale`` (``Subspace``)."""

    name = "HLOP"

    def __init__(self, model, *, rows_per_task, eta: float | Mapping = 0.01, iterations: int = 5,
                 epochs: int = 20, batch_size: int = 64, momentum: float = 0.9, clip: float = 10.0,
                 spiking: bool = False, spike_steps: int = 40, spike_scale: float = 20.0, seed: int = 0):
        super().__init__(model, batch_size=batch_size)
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not _is_int(value) or value < 1:
                raise ModelError(f"HLOP: {name} must be a positive integer, got {value!r}")
        if not _is_int(seed):
            raise ModelError(f"HLOP: seed must be an integer, got {seed!r}")
        self.schedule = self._schedule(rows_per_task)
        etas = per_layer(eta if not isinstance(eta, Mapping) else dict(eta), self.layers, "HLOP", "eta")
        weight = model.weight(self.layers[0])                   # the rows live where the weights do
        self.subspaces = {name: Subspace(self.widths[name], eta=etas[name], momentum=momentum, clip=clip,
                                         iterations=iterations, spikes=spike_steps if spiking else None,
                                         scale=spike_scale, dtype=weight.dtype, device=weight.device)
                          for name in self.layers}
        self.epochs = epochs
        self._generator = torch.Generator().manual_seed(seed)

    def rows(self, task: int) -> dict[str, int]:
        """How many rows task ``task`` asks for, per layer."""
        return self.schedule[min(task, len(self.schedule) - 1)]

    def _schedule(self, rows_per_task) -> list[dict[str, int]]:
        entries = list(rows_per_task) if isinstance(rows_per_task, Sequence) else [rows_per_task]
        if not entries:
            raise ModelError("HLOP: rows_per_task is an empty sequence")
        schedule = []
        for entry in entries:
            rows = per_layer(dict(entry) if isinstance(entry, Mapping) else entry, self.layers, "HLOP", "rows_per_task")
            for name, m in rows.items():
                if not _is_int(m) or m < 0:
                    raise ModelError(f"HLOP: rows_per_task for layer {name!r} must be an integer >= 0, got {m!r}")
                if m > self.widths[name]:
                    raise ModelError(f"HLOP: {m} subspace neurons for layer {name!r} exceed its "
                                     f"{self.widths[name]} input dimensions")
            schedule.append(rows)
        return schedule

    def _grow(self, activity: dict[str, torch.Tensor], task: int) -> None:
        for name, m in self.rows(task).items():
            space = self.subspaces[name]
            m = min(m, space.n_inputs - space.n_rows)
            if m == 0:
                continue
            space.add(m, seed=self._generator)
            x = activity[name].to(space.rows)
            for _ in range(self.epochs):
                for index in torch.randperm(len(x), generator=self._generator).split(self.batch_size):
                    space.learn(x[index.to(x.device)])
            space.merge()
            self._check_rows(name, x)

    def _check_rows(self, name: str, x: torch.Tensor) -> None:
        """Warn when the rows are far from orthonormal: I - H^T H is then no
        projection (the rule diverged or has not converged)."""
        rows = self.subspaces[name].rows
        error = float((rows @ rows.T - torch.eye(len(rows), dtype=rows.dtype, device=rows.device)).abs().max())
        if error > 0.5:
            warnings.warn(f"HLOP: the subspace rows of layer {name!r} are {error:.2g} from orthonormal after "
                          f"task {self.tasks}; eta {self.subspaces[name].eta} may be too large for activity of "
                          f"mean squared norm {float((x ** 2).sum(1).mean()):.3g} (eta times it should stay well "
                          "below 1), or epochs too few", stacklevel=user_stacklevel())

    def _project(self, name: str, g: torch.Tensor) -> torch.Tensor:
        return self.subspaces[name].project(g)

