"""``compile``: a layered network as a trainable ``nn.Module`` (``SpikingModel``)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from ..network import Network

ENGINES = ("layered", "generic")
METHODS = ("bptt", "ottt")
READOUTS = ("counts", "membrane")


@runtime_checkable
class Trainable(Protocol):
    """What training code (``Trainer``, gradient transforms) sees of a model."""
    layers: list

    def weight(self, name: str) -> nn.Parameter: ...

    def frozen_parameters(self) -> list: ...


class SpikingModel(nn.Module):
    """A compiled layered network (see ``compile``)."""

    spiking = True

    def train_step(self, x, y, loss, optimiser, transforms=()):
        raise NotImplementedError

    def to_network(self) -> Network:
        raise NotImplementedError


def compile(network: Network, *, input: str = "input", output: str | None = None, engine: str = "layered",
            method: str = "bptt", readout: str = "counts", surrogate: str = "atan", dtype=torch.float32,
            device=None) -> SpikingModel:
    raise NotImplementedError
