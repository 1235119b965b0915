"""A trained AM-SU model on the hardware targets: its astrocytic state held
fixed (``FrozenModel``, in torch; ``spikemem.glia.freeze_modulation``, the
network a board runs), a batch of recall sequences as one network
(``recall_network``), and the accuracy its spikes give (``spike_accuracy``).

The astrocytic state is held at its mean over a calibration run
(``mean_astrocytic_state``), one value per neuron. ``FrozenModel`` runs the
layer of ``amsu.AMSULayer`` with ``a`` held, in ``u = v + b*a`` (see
``spikemem.glia.freeze``), with the AM-SU's reset (``reset="subtract"``: u
-= v_th) or a board's (``reset="zero"``: u = 0, IF_curr_exp's ``v_reset``),
so that what freezing costs and what the board's neuron costs are measured
apart.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from spikemem.errors import ModelError

#: how a frozen unit resets: the AM-SU's subtraction, or a board neuron's reset to v_reset
RESETS = ("subtract", "zero")


def mean_astrocytic_state(layer, x, steps=None) -> np.ndarray:
    """The astrocytic state ``a`` of each neuron of ``layer`` (an
    ``AMSULayer``) averaged over the samples of ``x`` (T, B, n_in) and its
    steps (``steps``: the indices or slice of those averaged over; None: all)."""
    with torch.no_grad():
        _, _, _, a = layer(torch.as_tensor(x), record=True)
    a = a if steps is None else a[steps]
    if a.shape[0] == 0:
        raise ModelError(f"mean_astrocytic_state: steps {steps!r} selects none of the {x.shape[0]} steps")
    return a.mean(dim=(0, 1)).double().numpy()


class FrozenModel(nn.Module):
    """``model`` (a ``SpikingSequenceModel`` of AM-SUs) with the astrocytic
    state held at ``a`` (one value, or one per neuron): a recurrent LIF layer
    whose weights into neuron i are scaled by 1 + k_i*a_i, whose rest is b_i*a_i
    and whose threshold is v_th, and the model's readout. ``reset``: one of
    ``RESETS``. Inference only (no gradients)."""

    def __init__(self, model, a, reset: str = "subtract"):
        super().__init__()
        if reset not in RESETS:
            raise ModelError(f"FrozenModel: reset must be one of {list(RESETS)}, got {reset!r}")
        layer = model.layer
        n = layer.input.shape[0]
        held = np.asarray(a, dtype=float)
        if held.ndim > 1 or held.size not in (1, n) or not np.all((held >= 0) & (held <= 1)):
            raise ModelError(f"FrozenModel: a must be one value or {n} (one per neuron), each in [0, 1], "
                             f"got {a!r}")
        self.model, self.reset = model, reset
        self.a = torch.as_tensor(np.broadcast_to(held, (n,)).copy(), dtype=layer.input.dtype)

    def forward(self, x: torch.Tensor, state=None):
        layer = self.model.layer
        with torch.no_grad():
            m = 1 + layer.k * self.a
            rest = layer.b * self.a
            beta = layer.beta
            u = rest.expand(x.shape[1], -1).clone() if state is None else state
            s = x.new_zeros(u.shape)
            drive = x @ layer.input.t()
            out = []
            for t in range(x.shape[0]):
                u = beta * u + (1 - beta) * rest + beta * m * (drive[t] + s @ layer.recurrent.t())
                s = (u > layer.v_th).to(x.dtype)
                u = u - layer.v_th * s if self.reset == "subtract" else u * (1 - s)
                out.append(s)
            self.last_state = u
            return self.model.readout(torch.stack(out))


def recall_network(layer, x, *, dt: float = 1e-3):
    """The ``B`` sequences of ``x`` (T, B, n_in; 0/1) as one spikemem network of
    ``layer`` (an ``AMSULayer``), the samples side by side: a spike source
    ``input`` of B*n_in channels (sample b's channel c is b*n_in + c), a
    population ``hidden`` of B*n_hidden AM-SUs (sample b's neuron i is
    b*n_hidden + i; its spikes recorded), projections ``fc1`` and ``rec1`` within
    each sample. As
    ``AMSULayer.to_network`` (x_t sent at step t), once per sample."""
    from brian2 import second

    from spikemem.connectors import FromList
    from spikemem.glia import AMSU
    from spikemem.network import Network
    x = np.asarray(x)
    n_hidden, n_in = layer.input.shape
    if x.ndim != 3 or x.shape[2] != n_in or not np.isin(x, (0, 1)).all():
        raise ModelError(f"recall_network: x must be (T, batch, {n_in}) of 0 and 1, got shape {x.shape}")
    batch = x.shape[1]

    def arr(t):
        return np.tile(t.detach().double().cpu().numpy(), batch)
    t, b, c = np.nonzero(x)
    net = Network(dt=dt)
    net.spike_source("input", batch * n_in, t * dt, b * n_in + c)
    tau = -dt / np.log(arr(layer.beta))
    net.population("hidden", batch * n_hidden, AMSU(tau=tau * second, tau_a=arr(layer.tau_a) * dt * second,
                                                     v_th=layer.v_th, k=arr(layer.k), b=arr(layer.b),
                                                     alpha=layer.alpha))
    for name, w, n_pre in (("fc1", layer.input, n_in), ("rec1", layer.recurrent, n_hidden)):
        w = w.detach().double().cpu().numpy()                 # (n_hidden, n_pre)
        post, pre = np.meshgrid(np.arange(n_hidden), np.arange(n_pre), indexing="ij")
        rows = [np.column_stack([pre.ravel() + s * n_pre, post.ravel() + s * n_hidden, w.ravel()])
                for s in range(batch)]
        net.connect("input" if name == "fc1" else "hidden", "hidden", FromList(np.vstack(rows)), name=name)
    net.record_spikes("hidden")
    return net


def spike_matrix(train, steps: int, batch: int, n_hidden: int, dt: float) -> np.ndarray:
    """A population's spikes (``results.SpikeTrain`` of ``recall_network``'s
    ``hidden``) as the layer's (steps, batch, n_hidden) 0/1: the network's step
    t + 1 is the layer's step t."""
    s = np.zeros((steps + 1, batch * n_hidden))
    step = np.rint(np.asarray(train.times) / dt).astype(int)
    keep = step <= steps
    s[step[keep], np.asarray(train.ids)[keep]] = 1
    return s[1:].reshape(steps, batch, n_hidden)


def spike_accuracy(model, spikes: np.ndarray, task) -> float:
    """The recall accuracy ``model``'s readout gives on ``spikes`` (steps, B,
    n_hidden) for ``task`` (a ``tasks.Recall`` of the same B sequences)."""
    with torch.no_grad():
        logits = model.readout(torch.as_tensor(spikes, dtype=model.readout.weight.dtype))[task.at]
    return float((logits[..., :task.vocab].argmax(-1).T.numpy() == task.y).mean())


def prune_weights(network, ratio: float) -> int:
    """Set to 0, in place, each weight of ``network`` smaller in magnitude than
    ``ratio`` times the largest of its projection (the weights a board's
    shared exponent or shift rounds to 0); returns how many."""
    if not 0 <= ratio < 1:
        raise ModelError(f"prune_weights: ratio must lie in [0, 1), got {ratio!r}")
    pruned, new = 0, {}
    for p in network.build().projections:
        if p.linked or not p.w.size:
            continue
        small = (np.abs(p.w) < ratio * np.abs(p.w).max()) & (p.w != 0)
        if np.any(small):
            pruned += int(small.sum())
            new[p.name] = np.where(small, 0.0, p.w)
    if new:
        network.set_weights(new)
    return pruned
