"""The ANN counterpart of ``mlp``: a ReLU multilayer perceptron with the
``Trainable`` interface (same layer names, weight shapes and initial weights)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from . import checks
from .network import check_sizes, linear_init


class ANN(nn.Module):
    """Linear layers ``fc1``, ``fc2``, ... with ReLU between them; ``model(x)``
    maps (batch, n_in) to logits (batch, n_out); ``presynaptic[layer]`` is each
    layer's input in the last forward."""

    spiking = False

    def __init__(self, sizes, seed: int = 0, bias: bool = False):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.sizes = list(sizes)
        self.layers = [f"fc{k}" for k in range(1, len(sizes))]
        self.fc = nn.ModuleDict()
        for k, name in enumerate(self.layers):
            lin = nn.Linear(sizes[k], sizes[k + 1], bias=bias)
            with torch.no_grad():
                # the draws of mlp(sizes, seed=seed): the same initial weights
                lin.weight.copy_(torch.as_tensor(linear_init(sizes[k + 1], sizes[k], rng)))
                if bias:
                    lin.bias.zero_()
            self.fc[name] = lin
        self.presynaptic = {}

    def __repr__(self):
        return f"<ANN {'-'.join(map(str, self.sizes))}>"

    def weight(self, name: str) -> nn.Parameter:
        if name not in self.fc:
            raise ModelError(f"ANN: no layer {name!r}; its layers are {self.layers}")
        return self.fc[name].weight

    def frozen_parameters(self) -> list:
        return [lin.bias for lin in self.fc.values() if lin.bias is not None]

    def forward(self, x) -> torch.Tensor:
        weight = self.fc[self.layers[0]].weight
        x = torch.as_tensor(x).to(dtype=weight.dtype, device=weight.device)      # where the weights are
        if x.dim() != 2 or x.shape[1] != self.sizes[0]:
            raise ModelError(f"ANN: input must be (batch, {self.sizes[0]}), got shape {tuple(x.shape)}")
        self.presynaptic = {}
        for k, name in enumerate(self.layers):
            self.presynaptic[name] = x.detach()
            x = self.fc[name](x)
            if k < len(self.layers) - 1:
                x = torch.relu(x)
        return x


def ann_mlp(sizes, *, seed: int = 0, bias: bool = False) -> ANN:
    """A ReLU MLP ``sizes=[n_in, h1, ..., n_out]`` with the layer names and the
    initial weights of ``mlp(sizes, seed=seed)``; without biases by default,
    like the spiking one."""
    sizes = check_sizes(sizes, "ann_mlp")
    checks.seed(seed, "ann_mlp")
    return ANN(sizes, int(seed), bool(bias))
