"""Orthogonal gradient projection, the part HLOP and GPM share: after each
task a basis of the layers' input subspace grows; while later tasks train,
each layer's weight gradient g (n_post, n_pre) becomes g (I - P) with P the
projector on that subspace, so the layer's response to old inputs (which lie
in the subspace) stays put. Thresholds and biases (``frozen_parameters``)
are frozen after the first task, as both papers do.

The projection keeps old inputs' responses only if the optimiser's step is a
multiple of the projected gradient, as plain SGD's is (the authors use SGD);
Adam's per-element scaling takes the step out of the complement.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from .base import activities, check_trainable


class Projection(ABC):
    """Base of the projection transforms: ``_grow(activity, task)`` (per
    layer activity (n, n_pre)) extends the bases, ``_project(name, g)``
    applies them."""

    name = "Projection"

    def __init__(self, model, *, batch_size: int):
        self.layers = check_trainable(model, self.name)
        self.widths = {name: model.weight(name).shape[1] for name in self.layers}
        self.batch_size = batch_size
        self.tasks = 0          # tasks whose end_task has run
        self._frozen: list[torch.Tensor] = []

    def penalty(self, model) -> float:
        return 0.0

    def begin_task(self, model, task) -> None:
        """Nothing to prepare: the bases change at the end of a task."""

    def transform(self, model) -> None:
        """Project each layer's weight gradient (in place); drop the gradients
        of the frozen parameters."""
        for parameter in self._frozen:
            parameter.grad = None
        if self.tasks == 0:
            return
        with torch.no_grad():
            for name in self.layers:
                weight = model.weight(name)
                if weight.grad is not None:
                    weight.grad.copy_(self._project(name, weight.grad))

    def end_task(self, model, x_task: torch.Tensor) -> None:
        """Grow the bases from the layers' activity on ``x_task`` (what the
        model takes: (n, n_in), or spike trains (T, n, n_in)); freeze the
        thresholds and biases after the first task."""
        activity = activities(model, x_task, self.layers, batch_size=self.batch_size, where=f"{self.name}.end_task")
        self._grow(activity, self.tasks)
        if self.tasks == 0:
            self._frozen = list(model.frozen_parameters())
            for parameter in self._frozen:
                parameter.requires_grad_(False)
                parameter.grad = None
        self.tasks += 1

    @abstractmethod
    def _grow(self, activity: dict[str, torch.Tensor], task: int) -> None:
        """Extend the bases with task ``task``'s activity."""

    @abstractmethod
    def _project(self, name: str, g: torch.Tensor) -> torch.Tensor:
        """g (I - P) for layer ``name``."""
