"""The ANN counterpart of ``mlp``: a ReLU multilayer perceptron with the same interface."""
from __future__ import annotations

from torch import nn


class ANN(nn.Module):
    spiking = False


def ann_mlp(sizes, *, seed: int = 0, bias: bool = False) -> ANN:
    raise NotImplementedError
