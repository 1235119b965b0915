"""One optimisation step on a minibatch, with the gradient transforms' hooks."""
from __future__ import annotations

import torch


def penalties(model, transforms):
    """The sum of the transforms' penalties (EWC's quadratic term; 0 for projections)."""
    total = 0.0
    for t in transforms:
        total = total + t.penalty(model)
    return total


def finish(model, optimiser, transforms):
    """After backward: the transforms edit the gradients, then the optimiser steps."""
    for t in transforms:
        t.transform(model)
    optimiser.step()


def gradient_step(forward, x, y, loss, optimiser, transforms=(), model=None) -> tuple[float, torch.Tensor]:
    """``forward(x)`` (the model, or its forward without input checks), loss plus
    penalties, backward, transforms, optimiser step. Returns the loss and the
    (detached) logits."""
    model = forward if model is None else model
    optimiser.zero_grad(set_to_none=True)
    logits = forward(x)
    value = loss(logits, y) + penalties(model, transforms)
    value.backward()
    finish(model, optimiser, transforms)
    return float(value.detach()), logits.detach()
