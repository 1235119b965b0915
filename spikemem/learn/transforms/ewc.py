"""EWC, elastic weight consolidation (Kirkpatrick et al., PNAS 2017): after
each task t, the diagonal Fisher information F_t of the layers' weights and
the weights W_t themselves are kept; training later tasks adds

    penalty = lam / 2 * sum_t sum_layers sum( F_t * (W - W_t)^2 )

to the loss. F_t is the mean over ``samples`` of the task's inputs of the
squared gradient of log p(y | x) (cross-entropy on the model's logits), one
sample at a time; y is the sample's label when ``end_task`` gets labels (the
empirical Fisher most continual-learning baselines use), else drawn from the
model's own softmax (the Fisher as the paper defines it), seeded.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...errors import ModelError
from .. import checks
from ..checks import is_number
from .base import batch_axis, check_trainable


class EWC:
    """Elastic weight consolidation as a gradient transform (a penalty;
    ``transform`` leaves the gradients alone). ``lam`` >= 0 weighs the
    penalty; ``samples``: inputs per task for the Fisher (a seeded subset;
    None: all)."""

    def __init__(self, model, *, lam: float, samples: int | None = 256, seed: int = 0):
        self.layers = check_trainable(model, "EWC")
        if not is_number(lam) or lam < 0:
            raise ModelError(f"EWC: lam must be a number >= 0, got {lam!r}")
        checks.whole(samples, "EWC: samples", none=True)
        seed = checks.seed(seed, "EWC")
        self.lam, self.samples = float(lam), samples
        self.fishers: list[dict[str, torch.Tensor]] = []
        self.anchors: list[dict[str, torch.Tensor]] = []
        self._generator = torch.Generator().manual_seed(seed)

    def penalty(self, model) -> torch.Tensor | float:
        if not self.fishers:
            return 0.0
        total = 0.0
        for fisher, anchor in zip(self.fishers, self.anchors):
            for name in self.layers:
                weight = model.weight(name)
                total = total + (fisher[name].to(weight) * (weight - anchor[name].to(weight)) ** 2).sum()
        return 0.5 * self.lam * total

    def transform(self, model) -> None:
        """Nothing to do: EWC acts through its penalty."""

    def begin_task(self, model, task) -> None:
        """Nothing to prepare: the Fisher is taken at the end of a task."""

    def end_task(self, model, x_task: torch.Tensor, y_task: torch.Tensor | None = None) -> None:
        """Keep the Fisher diagonal and the weights after a task (inputs as
        the model takes them; labels optional, see the module text)."""
        axis = batch_axis(x_task, "EWC.end_task", model)
        n = x_task.shape[axis]
        if y_task is not None and (not isinstance(y_task, torch.Tensor) or y_task.shape != (n,)):
            raise ModelError(f"EWC.end_task: y_task must be a tensor of {n} labels, one per sample of x_task")
        if y_task is not None:
            classes = model.weight(model.layers[-1]).shape[0]
            if y_task.dtype.is_floating_point or y_task.dtype.is_complex or y_task.dtype == torch.bool:
                raise ModelError(f"EWC.end_task: y_task must hold whole-number labels, got {y_task.dtype}")
            outside = (y_task < 0) | (y_task >= classes)
            if bool(outside.any()):
                i = int(outside.nonzero()[0])
                raise ModelError(f"EWC.end_task: label {int(y_task[i])} of sample {i} is outside the "
                                 f"{classes} classes 0..{classes - 1}")
        pick = torch.randperm(n, generator=self._generator)
        pick = pick[:self.samples] if self.samples is not None else pick
        weights = [model.weight(name) for name in self.layers]
        fisher = {name: torch.zeros_like(w, dtype=torch.float64) for name, w in zip(self.layers, weights)}
        for i in pick.tolist():
            logits = model(x_task.narrow(axis, i, 1))
            log_p = F.log_softmax(logits, dim=-1)[0]
            if y_task is None:
                label = int(torch.multinomial(log_p.detach().exp().double().cpu(), 1, generator=self._generator))
            else:
                label = int(y_task[i])
            grads = torch.autograd.grad(log_p[label], weights, allow_unused=True)
            for name, grad in zip(self.layers, grads):
                if grad is not None:
                    fisher[name] += grad.double() ** 2
        self.fishers.append({name: (f / len(pick)).to(w.dtype) for (name, f), w in zip(fisher.items(), weights)})
        self.anchors.append({name: w.detach().clone() for name, w in zip(self.layers, weights)})
