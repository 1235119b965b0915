"""The ANN baselines, LSTM and GRU (one layer, a linear readout at every
step), and the hidden sizes that give each model the same number of
parameters."""
from __future__ import annotations


import torch
from torch import nn

from spikemem.errors import ModelError

#: the recurrent models compared (``"amsu"`` and ``"lif"`` are the spiking ones)
KINDS = ("lif", "amsu", "lstm", "gru")
#: the AM-SU whose neurons share astrocytes, ``SHARED_GROUP`` to each (``AMSULayer(group=...)``)
SHARED = "amsu_shared"
SHARED_GROUP = 4


class RecurrentModel(nn.Module):
    """``nn.LSTM`` or ``nn.GRU`` (one layer, time-major) and a linear readout:
    (T, B, n_in) -> logits (T, B, n_out)."""

    def __init__(self, kind: str, n_in: int, n_hidden: int, n_out: int, *, seed: int = 0):
        super().__init__()
        if kind not in ("lstm", "gru"):
            raise ModelError(f"RecurrentModel: kind {kind!r} is not 'lstm' or 'gru'")
        torch.manual_seed(seed)
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(n_in, n_hidden)
        self.readout = nn.Linear(n_hidden, n_out)

    def forward(self, x: torch.Tensor, state=None):
        out, state = self.rnn(x, state)
        self.last_state = state
        return self.readout(out)


def parameter_count(kind: str, n_in: int, n_hidden: int, n_out: int) -> int:
    """Trained parameters of a model of ``kind`` (see ``KINDS``) with a linear readout."""
    readout = n_hidden * n_out + n_out
    if kind == "lif":
        return n_hidden * (n_in + n_hidden) + readout
    if kind in ("amsu", SHARED):           # the gains k and b stay per neuron
        return n_hidden * (n_in + n_hidden + 2) + readout
    gates = {"lstm": 4, "gru": 3}.get(kind)
    if gates is None:
        raise ModelError(f"parameter_count: kind {kind!r} is not one of {[*KINDS, SHARED]}")
    return gates * n_hidden * (n_in + n_hidden + 2) + readout


def hidden_for(kind: str, budget: int, n_in: int, n_out: int) -> int:
    """The hidden size whose model of ``kind`` has the parameter count closest
    to ``budget``."""
    if budget < 1:
        raise ModelError(f"hidden_for: budget must be >= 1, got {budget!r}")
    n = 1
    while parameter_count(kind, n_in, n + 1, n_out) <= budget:
        n += 1
    over = parameter_count(kind, n_in, n + 1, n_out) - budget
    under = budget - parameter_count(kind, n_in, n, n_out)
    return n + 1 if over < under else n


def build(kind: str, n_in: int, n_out: int, budget: int, *, seed: int = 0, **spiking) -> nn.Module:
    """A model of ``kind`` with about ``budget`` parameters; ``spiking``
    settings go to the spiking layer (``amsu.AMSULayer``); ``SHARED`` is the
    AM-SU with ``group=SHARED_GROUP`` unless they name a group."""
    from .amsu import SpikingSequenceModel
    n_hidden = hidden_for(kind, budget, n_in, n_out)
    if kind == SHARED:
        spiking = {"group": SHARED_GROUP, **spiking}
    if kind in ("lif", "amsu", SHARED):
        return SpikingSequenceModel(n_in, n_hidden, n_out, astro=kind != "lif", seed=seed, **spiking)
    return RecurrentModel(kind, n_in, n_hidden, n_out, seed=seed)


def count(model: nn.Module) -> int:
    """A model's trained parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["KINDS", "SHARED", "SHARED_GROUP", "RecurrentModel", "build", "count", "hidden_for", "parameter_count"]
