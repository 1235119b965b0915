"""The AM-SU as a trainable recurrent torch layer, and the spiking sequence
model built of it.

``AMSULayer`` runs the dynamics of the template ``spikemem.glia.amsu.AMSU`` (see
its module text for the equations and how they are our interpretation), one
step per token, for a batch::

    I_t = W x_t + U s_(t-1)                       (input and recurrent spikes)
    v   = beta*(v + (1 + k*a)*I_t);  a = gamma*a  (delivery, then decay)
    s_t = [v + b*a > v_th]                        (surrogate gradient)
    v  -= v_th*s_t;  a += alpha*(1 - a)*s_t       (reset)

with beta = exp(-1/tau), gamma = exp(-1/tau_a) (time constants in steps);
``a`` stays in [0, 1], a spike moving it a fraction alpha towards 1.
Trained: W, U and the per-neuron gains k (efficacy) and b (excitability).
Fixed: beta, v_th and tau_a, spread log-uniformly over ``tau_a`` (min, max)
so that the layer holds several memory horizons. With
``astro=False`` k and b are held at 0: the same layer is then a recurrent
LIF-SNN (``neurons.Leaky``), the comparison without astrocytes.

``group=g``: shared astrocytes (``spikemem.glia.shared_astrocytes``). Neuron i
reads astrocyte i // g, whose state c integrates the summed spikes S of its
g neurons, one step after them::

    c_t = 1 - (1 - gamma*c_(t-1))*(1 - alpha)**S_(t-1)
    v   = beta*(v + (1 + k*c_(t-1))*I_t)
    s_t = [v + b*c_t > v_th];  v -= v_th*s_t

with tau_a spread over the ceil(n_hidden/g) astrocytes; k and b stay per
neuron (the same number of trained parameters).

The reset passes no gradient through the spike (as ``spikemem.learn``'s
Leaky); the astrocytic increment does, since it is the memory the unit learns
to write. The template delivers a spike one step after its source sends it;
``to_network`` sends the layer's x_t at step t, so the template's step t + 1
is the layer's step t.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from spikemem.errors import ModelError
from spikemem.learn.functional import SURROGATES, spike


def _check_positive_int(value, name, where):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ModelError(f"{where}: {name} must be an integer >= 1, got {value!r}")


class AMSULayer(nn.Module):
    """A recurrent layer of ``n_hidden`` AM-SUs driven by ``n_in`` inputs (see
    the module text). ``tau``: membrane time constant in steps; ``tau_a``:
    the (shortest, longest) astrocytic time constants in steps; ``astro``:
    whether k and b are trained (False: a LIF-SNN); ``group``: None (an
    astrocytic compartment per neuron) or g neurons sharing one astrocyte.
    ``seed`` draws the weights as ``nn.Linear`` does and the order of the
    tau_a over neurons (astrocytes)."""

    def __init__(self, n_in: int, n_hidden: int, *, tau: float = 5.0, tau_a=(20.0, 1000.0), v_th: float = 1.0,
                 alpha: float = 0.5, astro: bool = True, surrogate: str = "atan", scale: float = 1.0, seed: int = 0,
                 group: int | None = None, dtype=torch.float32):
        super().__init__()
        where = "AMSULayer"
        _check_positive_int(n_in, "n_in", where)
        _check_positive_int(n_hidden, "n_hidden", where)
        lo, hi = (tau_a, tau_a) if np.isscalar(tau_a) else tuple(tau_a)
        if not (tau > 0 and 0 < lo <= hi and v_th > 0 and scale > 0 and 0 <= alpha <= 1):
            raise ModelError(f"{where}: tau, tau_a, v_th and scale must be > 0 (tau_a min <= max), alpha in [0, 1]; "
                             f"got tau={tau!r}, tau_a={tau_a!r}, v_th={v_th!r}, scale={scale!r}, alpha={alpha!r}")
        if group is not None:
            _check_positive_int(group, "group", where)
        if surrogate not in SURROGATES:
            raise ModelError(f"{where}: surrogate {surrogate!r} is not one of {sorted(SURROGATES)}")
        rng = np.random.default_rng(seed)
        bound_in, bound_rec = 1 / math.sqrt(n_in), 1 / math.sqrt(n_hidden)
        self.input = nn.Parameter(torch.tensor(rng.uniform(-bound_in, bound_in, (n_hidden, n_in)), dtype=dtype))
        self.recurrent = nn.Parameter(torch.tensor(rng.uniform(-bound_rec, bound_rec, (n_hidden, n_hidden)),
                                                   dtype=dtype))
        self.astro, self.surrogate, self.scale, self.v_th = bool(astro), surrogate, float(scale), float(v_th)
        self.alpha = float(alpha)
        self.group = None if group is None else int(group)
        n_astro = n_hidden if group is None else -(-n_hidden // group)
        taus = np.exp(rng.permutation(np.linspace(math.log(lo), math.log(hi), n_astro)))
        self.register_buffer("tau_a", torch.tensor(taus, dtype=dtype))
        self.register_buffer("beta", torch.full((n_hidden,), math.exp(-1 / tau), dtype=dtype))
        if group is not None:         # members[i, j] = 1 where neuron i shares astrocyte j
            members = torch.zeros(n_hidden, n_astro, dtype=dtype)
            members[torch.arange(n_hidden), torch.arange(n_hidden) // group] = 1
            self.register_buffer("members", members)
        zeros = torch.zeros(n_hidden, dtype=dtype)
        if self.astro:
            self.k, self.b = nn.Parameter(zeros.clone()), nn.Parameter(zeros.clone())
        else:
            self.register_buffer("k", zeros.clone())
            self.register_buffer("b", zeros.clone())

    @property
    def gamma(self) -> torch.Tensor:
        return torch.exp(-1 / self.tau_a)

    def forward(self, x: torch.Tensor, state=None, record: bool = False):
        """``x`` (T, B, n_in) -> spikes (T, B, n_hidden) and the final state
        (v, a, s); ``state`` continues from one (None: rest). ``record``: also
        the v and a of every step (after the reset), as (T, B, n_hidden) each.
        With ``group``, a is the astrocytes' c, (B, n_astrocytes), and the
        recorded a each neuron's copy of it."""
        if x.dim() != 3 or x.shape[-1] != self.input.shape[1]:
            raise ModelError(f"AMSULayer: input must be (T, batch, {self.input.shape[1]}), got {tuple(x.shape)}")
        steps, batch, n = x.shape[0], x.shape[1], self.input.shape[0]
        if state is None:
            v = s = x.new_zeros(batch, n)
            a = x.new_zeros(batch, self.tau_a.shape[0])
        else:
            v, a, s = state
        gamma = self.gamma.to(x.dtype)
        drive = x @ self.input.t()              # every step's input current in one product
        if self.group is not None:
            return self._shared(drive, v, a, s, gamma, record)
        out, vs, as_ = [], [], []
        for t in range(steps):
            current = drive[t] + s @ self.recurrent.t()
            v = self.beta * (v + (1 + self.k * a) * current)
            a = gamma * a
            s = spike(v + self.b * a, torch.full_like(v, self.v_th), self.surrogate, self.scale)
            v = v - self.v_th * s.detach()
            a = a + self.alpha * (1 - a) * s
            out.append(s)
            if record:
                vs.append(v)
                as_.append(a)
        spikes = torch.stack(out)
        if record:
            return spikes, (v, a, s), torch.stack(vs), torch.stack(as_)
        return spikes, (v, a, s)

    def _shared(self, drive, v, c, s, gamma, record):
        """``forward`` with shared astrocytes (``group``, see the module text)."""
        owner = self.members.argmax(1)             # each neuron's astrocyte
        out, vs, as_ = [], [], []
        for t in range(drive.shape[0]):
            current = drive[t] + s @ self.recurrent.t()
            v = self.beta * (v + (1 + self.k * c[:, owner]) * current)
            c = 1 - (1 - gamma * c) * self._untouched(s @ self.members)
            a = c[:, owner]
            s = spike(v + self.b * a, torch.full_like(v, self.v_th), self.surrogate, self.scale)
            v = v - self.v_th * s.detach()
            out.append(s)
            if record:
                vs.append(v)
                as_.append(a)
        spikes = torch.stack(out)
        if record:
            return spikes, (v, c, s), torch.stack(vs), torch.stack(as_)
        return spikes, (v, c, s)

    def _untouched(self, count):
        """(1 - alpha)**count: the part of an astrocyte's room to 1 that ``count`` spikes leave."""
        if self.alpha < 1:
            return torch.exp(count * math.log1p(-self.alpha))
        return (1 - count).clamp(min=0)            # alpha = 1: the first spike fills it

    def to_network(self, *, dt: float = 1e-3, input_spikes=None):
        """The layer as a spikemem ``Network``: a spike source ``input``
        (``input_spikes``: (T, n_in) 0/1, the layer's x for one sample, x_t
        sent at step t and so arriving at step t + 1), a
        population ``hidden`` of ``AMSU`` neurons with this layer's parameters,
        projections ``fc1`` (input) and ``rec1`` (recurrent); with ``group``,
        ``AMSUShared`` neurons and their ``shared_astrocytes`` (``astrocytes``)."""
        from brian2 import second

        from spikemem.glia import AMSU, AMSUShared, shared_astrocytes
        from spikemem.connectors import AllToAll
        from spikemem.network import Network
        n_hidden, n_in = self.input.shape
        net = Network(dt=dt)
        times = [[] for _ in range(n_in)]
        if input_spikes is not None:
            x = np.asarray(input_spikes)
            if x.ndim != 2 or x.shape[1] != n_in or not np.isin(x, (0, 1)).all():
                raise ModelError(f"AMSULayer.to_network: input_spikes must be (T, {n_in}) of 0 and 1")
            for t, i in zip(*np.nonzero(x)):
                times[i].append(t * dt)
        net.spike_source("input", n_in, [sorted(ts) for ts in times])

        def arr(t):
            return t.detach().double().cpu().numpy()
        tau = -dt / np.log(arr(self.beta))
        tau_a = arr(self.tau_a) * dt * second
        if self.group is None:
            net.population("hidden", n_hidden, AMSU(tau=tau * second, tau_a=tau_a, v_th=self.v_th, k=arr(self.k),
                                                    b=arr(self.b), alpha=self.alpha))
        else:
            net.population("hidden", n_hidden, AMSUShared(tau=tau * second, v_th=self.v_th, k=arr(self.k),
                                                          b=arr(self.b)))
            shared_astrocytes(net, "hidden", self.group, tau_a=tau_a, alpha=self.alpha)
        net.connect("input", "hidden", AllToAll(), weight=arr(self.input).T.ravel(), name="fc1")
        net.connect("hidden", "hidden", AllToAll(), weight=arr(self.recurrent).T.ravel(), name="rec1")
        return net


class SpikingSequenceModel(nn.Module):
    """One recurrent spiking layer (AM-SU or, with ``astro=False``, LIF) and a
    linear readout of its spikes at every step: (T, B, n_in) -> logits
    (T, B, n_out). Keyword arguments go to ``AMSULayer``."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, astro: bool = True, seed: int = 0, **layer):
        super().__init__()
        _check_positive_int(n_out, "n_out", "SpikingSequenceModel")
        self.layer = AMSULayer(n_in, n_hidden, astro=astro, seed=seed, **layer)
        torch.manual_seed(seed)
        self.readout = nn.Linear(n_hidden, n_out)

    def forward(self, x: torch.Tensor, state=None):
        spikes, state = self.layer(x, state)
        self.last_state = state
        return self.readout(spikes)
