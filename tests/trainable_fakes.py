"""A small stand-in for a ``learn.Trainable`` model: a ReLU MLP of
``nn.Linear`` layers without bias plus one threshold-like vector per layer
(its ``frozen_parameters``). ``spiking=True`` takes (T, B, n_in) and uses the
time-averaged input, so the batch sits on axis 1 as for spike trains."""
import torch
from torch import nn


class FakeMLP(nn.Module):
    def __init__(self, sizes, *, spiking=False, seed=0, dtype=torch.float64):
        super().__init__()
        torch.manual_seed(seed)
        self.spiking = spiking
        self.layers = [f"fc{i + 1}" for i in range(len(sizes) - 1)]
        self.fcs = nn.ModuleList(nn.Linear(a, b, bias=False, dtype=dtype) for a, b in zip(sizes, sizes[1:]))
        self.offsets = nn.ParameterList(nn.Parameter(torch.full((b,), 0.05, dtype=dtype)) for b in sizes[1:])
        self.presynaptic = {}

    def weight(self, name):
        return self.fcs[self.layers.index(name)].weight

    def frozen_parameters(self):
        return list(self.offsets)

    def pre_activations(self, x):
        """Each layer's W x + offset for the inputs x (what must not change
        for old inputs under an orthogonal projection)."""
        with torch.no_grad():
            self(x)
            return {name: self.presynaptic[name] @ self.weight(name).T + offset
                    for name, offset in zip(self.layers, self.offsets)}

    def forward(self, x):
        h = x.mean(0) if self.spiking else x
        for i, (fc, offset) in enumerate(zip(self.fcs, self.offsets)):
            self.presynaptic[self.layers[i]] = h.detach()
            h = fc(h) + offset
            if i < len(self.fcs) - 1:
                h = torch.relu(h)
        return h
