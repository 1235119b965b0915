"""What gradient transforms share: their protocol, the check that a model is
``Trainable``, and the layers' presynaptic activities over a data set.

A transform edits training from the outside: the Trainer adds
``penalty(model)`` to the loss and calls ``transform(model)`` after the
backward pass, before the optimiser's step; the continual-learning loop calls
``begin_task(model, task)`` before a task and ``end_task(model, x_task)`` after
it, with the task's training inputs in the form the model takes: (n, n_in) for
an ANN, (T, n, n_in) spike trains for a spiking model.
"""
from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable

import torch

from ...errors import ModelError

TRAINABLE = ("layers", "weight", "presynaptic", "frozen_parameters")


@runtime_checkable
class GradientTransform(Protocol):
    """The calls a Trainer and a continual-learning loop make."""

    def penalty(self, model) -> torch.Tensor | float: ...

    def transform(self, model) -> None: ...

    def begin_task(self, model, task) -> None: ...

    def end_task(self, model, x_task) -> None: ...


def check_trainable(model, where: str) -> list[str]:
    """The model's layer names, after checking that it has the ``Trainable``
    members and that each layer's weight is a 2-D tensor."""
    missing = [name for name in TRAINABLE if not _has(model, name)]
    if missing:
        raise ModelError(f"{where}: the model ({type(model).__name__}) lacks {', '.join(missing)} "
                         "of the Trainable protocol")
    layers = list(model.layers)
    if not layers or not all(isinstance(name, str) for name in layers):
        raise ModelError(f"{where}: model.layers must be a non-empty list of names, got {model.layers!r}")
    for name in layers:
        weight = model.weight(name)
        if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
            raise ModelError(f"{where}: model.weight({name!r}) must be a 2-D tensor (n_post, n_pre)")
    return layers


def batch_axis(x, where: str, model=None) -> int:
    """The batch axis of model input: 0 for (n, n_in), 1 for spike trains (T, n, n_in)."""
    if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ModelError(f"{where}: x_task must be a tensor (n, n_in) or spike trains (T, n, n_in), got {shape}")
    if getattr(model, "spiking", False) and x.ndim != 3:
        raise ModelError(f"{where}: a spiking model takes spike trains (T, n, n_in), got x_task of shape "
                         f"{tuple(x.shape)}; encode it first (learn.encode)")
    if x.shape[x.ndim - 2] == 0:
        raise ModelError(f"{where}: x_task holds no samples")
    if not torch.isfinite(x).all():
        raise ModelError(f"{where}: x_task holds NaN or infinite values")
    return x.ndim - 2


def activities(model, x: torch.Tensor, layers: list[str], *, batch_size: int, where: str) -> dict[str, torch.Tensor]:
    """Each layer's presynaptic activity (n, n_pre) over the samples of x,
    from forward passes without gradients, ``batch_size`` samples at a time."""
    axis = batch_axis(x, where, model)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    with torch.no_grad():
        for chunk in torch.split(x, batch_size, dim=axis):
            model(chunk)
            presynaptic = model.presynaptic
            for name in layers:
                if name not in presynaptic:
                    raise ModelError(f"{where}: model.presynaptic has no activity for layer {name!r}")
                activity = presynaptic[name].detach()
                n_pre = model.weight(name).shape[1]
                if activity.shape != (chunk.shape[axis], n_pre):
                    raise ModelError(f"{where}: model.presynaptic[{name!r}] has shape {tuple(activity.shape)}, "
                                     f"expected ({chunk.shape[axis]}, {n_pre})")
                parts[name].append(activity)
    return {name: torch.cat(chunks) for name, chunks in parts.items()}


def per_layer(value, layers: list[str], where: str, name: str) -> dict:
    """A value given once for every layer or as a mapping layer -> value."""
    if isinstance(value, dict):
        unknown, missing = set(value) - set(layers), [n for n in layers if n not in value]
        if unknown or missing:
            raise ModelError(f"{where}: {name} must name each layer {layers}; "
                             f"unknown {sorted(unknown)}, missing {missing}")
        return {n: value[n] for n in layers}
    return {n: value for n in layers}


def _has(model, name: str) -> bool:
    try:
        inspect.getattr_static(model, name)      # a property is not evaluated (presynaptic before a forward)
        return True
    except AttributeError:
        return hasattr(model, name)              # an nn.Module's submodules and parameters
