"""``compile``: a layered network as a trainable ``nn.Module`` (``SpikingModel``).

Two engines run the same network. ``"layered"`` computes a layer at a time:
its input for all T steps in one matrix product, then its neurons' time loop
as one autograd function with a hand-written backward pass
(``functional.leaky_scan``); a recurrent layer steps through time. ``"generic"``
is the torch backend's ``TorchNetwork`` (one step of the whole network at a
time, Brian2's statements rendered over tensors), which runs any neuron model;
both give the same outputs and gradients.

Time: the input spikes of step t reach the first layer at step t + 1 (one
step of delay per projection, spikemem's minimum), so in T steps the output
sees input up to step T - 1 - (number of layers). Every sample starts at rest.

``method="ottt"``: online training through time (Xiao et al. 2022). The
network runs forward one step at a time; each step's loss is backpropagated at
once through that step's spikes only (the membranes' history is cut), and a
weight's gradient takes the presynaptic trace (spikes decayed by the layer's
beta) in place of the current spikes, so memory does not grow with T.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from ..network import Network
from .functional import check_surrogate, leaky_scan, spike, trace_linear
from .network import LayerChain, layered, set_thresholds
from .step import finish, gradient_step, penalties

ENGINES = ("layered", "generic")
METHODS = ("bptt", "ottt")
READOUTS = ("counts", "membrane")
DTYPES = {torch.float32: "float32", torch.float64: "float64"}


@runtime_checkable
class Trainable(Protocol):
    """What training code (``Trainer``, gradient transforms) sees of a model:
    ``layers`` (projection names in order), ``weight(name)`` (n_post, n_pre),
    ``model(x)`` -> logits (batch, classes), after a forward ``presynaptic``
    {layer: (batch, n_pre) activity, detached}, and ``frozen_parameters()``
    (thresholds, biases: what continual learning freezes after its first task)."""
    layers: list
    presynaptic: dict

    def weight(self, name: str) -> nn.Parameter: ...

    def frozen_parameters(self) -> list: ...


class SpikingModel(nn.Module):
    """A compiled layered network (see ``compile``). ``model(x)`` takes input
    spikes or currents (T, batch, n_in) and returns the logits (batch, n_out):
    the output layer's spike counts (``readout="counts"``) or its mean
    membrane potential (``"membrane"``). ``presynaptic[layer]`` is each
    projection's presynaptic firing rate of the last forward: spikes per step,
    averaged over the steps in which they reach the layer (its ``steps_used``
    less one, fewer than T for all but the last layer)."""

    spiking = True

    def __init__(self, network: Network, plan: LayerChain, engine: str, method: str, readout: str, surrogate: str,
                 dtype, device):
        super().__init__()
        self.network, self.plan = network, plan
        self.engine, self.method, self.readout, self.surrogate = engine, method, readout, surrogate
        self.input, self.output = plan.input, plan.output
        self.layers = plan.projections
        opts = dict(dtype=dtype, device=torch.device(device))
        self.weights = nn.ParameterDict({name: nn.Parameter(torch.as_tensor(w, **opts))
                                         for name, w in plan.weights.items()})
        # thresholds: kept with the weights (checkpoints, to_network), not trained
        self.thresholds = nn.ParameterDict({name: nn.Parameter(torch.as_tensor(v, **opts), requires_grad=False)
                                            for name, v in plan.v_th.items()})
        for name, beta in plan.beta.items():
            self.register_buffer(f"beta_{name}", torch.as_tensor(beta, **opts))
        self.presynaptic = {}
        self._simulations = {}     # generic engine: one torch-backend simulation per batch size

    def __repr__(self):
        sizes = [self.plan.layers[0].n_pre] + [layer.n_post for layer in self.plan.layers]
        return (f"<SpikingModel {'-'.join(map(str, sizes))}: engine {self.engine!r}, method {self.method!r}, "
                f"readout {self.readout!r}, {DTYPES[self.dtype]}>")

    # dtype and device follow the weights, so that model.double() and model.to(device) carry the model along
    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.weights.values())).dtype

    @property
    def device(self) -> torch.device:
        return next(iter(self.weights.values())).device

    def _apply(self, fn, *args, **kwargs):
        # the generic engine's simulations hold copies of the old dtype and device
        self.forget_simulations()
        return super()._apply(fn, *args, **kwargs)

    # --- the Trainable interface
    def weight(self, name: str) -> nn.Parameter:
        if name not in self.weights:
            raise ModelError(f"SpikingModel: no projection {name!r}; its projections are {self.layers}")
        return self.weights[name]

    def frozen_parameters(self) -> list:
        return list(self.thresholds.values())

    def beta(self, population: str) -> torch.Tensor:
        return getattr(self, f"beta_{population}")

    # --- forward
    def check_input(self, x) -> torch.Tensor:
        """``x`` as a (T, batch, n_in) tensor of the model's dtype and device."""
        x = torch.as_tensor(x).to(dtype=self.dtype, device=self.device)
        n_in, depth = self.plan.layers[0].n_pre, len(self.plan.layers)
        if x.dim() != 3 or x.shape[2] != n_in or x.shape[1] < 1:
            raise ModelError(f"SpikingModel: input must be (steps, batch, {n_in}), got shape {tuple(x.shape)}")
        if x.shape[0] <= depth:
            raise ModelError(f"SpikingModel: {x.shape[0]} steps do not reach the output: each of the {depth} "
                             f"layers adds one step of delay; give more than {depth} steps")
        if not bool(torch.isfinite(x.sum())):
            raise ModelError(f"SpikingModel: input '{self.input}' contains NaN or inf")
        return x

    def forward(self, x) -> torch.Tensor:
        return self._forward(self.check_input(x))

    def _forward(self, x):
        run = self._layered if self.engine == "layered" else self._generic
        spikes, membrane = run(x)
        return spikes.sum(0) if self.readout == "counts" else membrane.mean(0)

    def steps_used(self, T: int) -> list:
        """Per layer, the steps it runs that reach the output within ``T`` steps
        (the last layer all T, each one before it one fewer); its input during
        those steps is its presynaptic spikes of the steps before."""
        depth = len(self.plan.layers)
        return [T - (depth - 1 - k) for k in range(depth)]

    def _scale(self, population):
        """The surrogate's scale: |v_th| (its mean over the layer), as the torch backend takes it."""
        value = float(self.thresholds[population].detach().abs().mean())
        return value if np.isfinite(value) and value > 0 else 1.0

    def _layered(self, x):
        s, presynaptic = x, {}
        for layer, steps in zip(self.plan.layers, self.steps_used(x.shape[0])):
            # delivered at steps 1..steps-1: all of a hidden layer's spikes, the input's first steps
            src = s if s.shape[0] == steps - 1 else s[:steps - 1]
            presynaptic[layer.name] = src.detach().mean(0)
            current = torch.nn.functional.linear(src, self.weights[layer.name])
            beta, v_th = self.beta(layer.post), self.thresholds[layer.post]
            if layer.recurrent is None:
                s, v = leaky_scan(current, beta, v_th, self.surrogate, self._scale(layer.post))
            else:
                s, v = self._recurrent(current, layer)
                presynaptic[layer.recurrent] = s[:-1].detach().mean(0)
        self.presynaptic = presynaptic
        return s, v

    def _recurrent(self, current, layer):
        """A layer with a recurrent projection, one step at a time (steps as ``leaky_scan``)."""
        beta, v_th, scale = self.beta(layer.post), self.thresholds[layer.post], self._scale(layer.post)
        w = self.weights[layer.recurrent]
        v = current.new_zeros(current.shape[1:])
        s = torch.zeros_like(v)
        spikes, membranes = [], []
        for t in range(current.shape[0] + 1):
            arriving = current[t - 1] + torch.nn.functional.linear(s, w) if t else 0.0
            v = (v + arriving) * beta
            s = spike(v, v_th, self.surrogate, scale)
            v = v - v_th * s.detach()
            spikes.append(s)
            membranes.append(v)
        return torch.stack(spikes), torch.stack(membranes)

    def _simulation(self, batch: int):
        """The torch backend's simulation of this network for ``batch`` trials,
        its weights replaced by this model's parameters."""
        if batch not in self._simulations:
            from ..backends import simulation
            sim = simulation(self.to_network(), "torch", batch=batch, device=str(self.device),
                             dtype=DTYPES[self.dtype], weights="dense", surrogate=self.surrogate, progress=False)
            self._simulations[batch] = sim
        return self._simulations[batch].module

    def _generic(self, x):
        T, B = x.shape[:2]
        net = self._simulation(B)
        net.reset_state()
        net.use_weights({name: w.t().reshape(-1) for name, w in self.weights.items()})
        pops = [layer.post for layer in self.plan.layers]
        if self.readout == "counts":
            out = net(T, inputs={self.input: x}, outputs=pops)
            membrane = None
        else:
            steps, membranes = [], []
            for t in range(T):
                steps.append(net(1, inputs={self.input: x[t:t + 1]}, outputs=pops))
                membranes.append(net.state[self.output]["v"])
            out = {p: torch.cat([s[p] for s in steps]) for p in pops}
            membrane = torch.stack(membranes)
        self.presynaptic = {}
        s = x
        for layer, steps in zip(self.plan.layers, self.steps_used(T)):
            self.presynaptic[layer.name] = s[:steps - 1].detach().mean(0)
            s = out[layer.post]
            if layer.recurrent:
                self.presynaptic[layer.recurrent] = s[:steps - 1].detach().mean(0)
        return s, membrane

    # --- training
    def train_step(self, x, y, loss, optimiser, transforms=()) -> tuple[float, torch.Tensor]:
        """One optimisation step on the minibatch ``x`` (T, batch, n_in), labels
        ``y``: BPTT (forward, backward, step) or OTTT (a backward per time
        step, the gradients summed, then one step). ``loss(logits, y)``; the
        transforms' penalties join the loss and their ``transform`` edits the
        gradients before the optimiser steps. Returns the loss and the logits."""
        x = self.check_input(x)
        if self.method == "bptt":
            return gradient_step(self._forward, x, y, loss, optimiser, transforms, self)
        return self._ottt_step(x, y, loss, optimiser, transforms)

    def _ottt_step(self, x, y, loss, optimiser, transforms):
        optimiser.zero_grad(set_to_none=True)
        T, B = x.shape[:2]
        layers, used = self.plan.layers, self.steps_used(T)
        # read from the device once per step, not per layer and time step
        decay = [float(self.beta(layer.post)[0]) for layer in layers]      # one beta per layer (compile checks)
        scales = [self._scale(layer.post) for layer in layers]
        v = [x.new_zeros(B, layer.n_post) for layer in layers]
        trace = [x.new_zeros(B, layer.n_pre) for layer in layers]
        rates = [x.new_zeros(B, layer.n_pre) for layer in layers]
        last = [x.new_zeros(B, layer.n_post) for layer in layers]        # each layer's spikes of the step before
        total, out = 0.0, 0.0
        for t in range(T):
            now = list(last)
            for k, layer in enumerate(layers):
                if t >= used[k]:
                    continue                     # past the steps that reach the output
                src = (x[t - 1] if k == 0 else last[k - 1]) if t else x.new_zeros(B, layer.n_pre)
                trace[k] = trace[k] * decay[k] + src.detach()
                if t:
                    rates[k] = rates[k] + src.detach()
                beta, v_th = self.beta(layer.post), self.thresholds[layer.post]
                # the membrane's history is cut: only this step's spikes carry gradient
                v[k] = (v[k].detach() + trace_linear(src, trace[k], self.weights[layer.name])) * beta
                s = spike(v[k], v_th, self.surrogate, scales[k])
                v[k] = v[k] - v_th * s.detach()
                now[k] = s
            last = now
            logits_t = last[-1] * T if self.readout == "counts" else v[-1]     # their mean over T: the logits
            value = loss(logits_t, y) / T
            if t == T - 1:
                value = value + penalties(self, transforms)
            if value.requires_grad:
                value.backward()
            total = total + value.detach()
            out = out + logits_t.detach() / T
        self.presynaptic = {layer.name: r / (n - 1) for layer, r, n in zip(layers, rates, used)}
        finish(self, optimiser, transforms)
        return float(total), out

    # --- back to a network
    def to_network(self) -> Network:
        """A copy of the compiled network with this model's weights and thresholds."""
        net = Network.from_spec(self.network.spec())
        net.set_weights({name: w.detach().cpu().double().numpy().T.ravel() for name, w in self.weights.items()})
        set_thresholds(net, {name: v.detach().cpu().double().numpy() for name, v in self.thresholds.items()},
                       "SpikingModel.to_network")
        return net

    def forget_simulations(self):
        """Drop the generic engine's simulations (after thresholds change)."""
        self._simulations = {}


def compile(network: Network, *, input: str = "input", output: str | None = None, engine: str = "layered",
            method: str = "bptt", readout: str = "counts", surrogate: str = "atan", dtype=torch.float32,
            device=None) -> SpikingModel:
    """``network`` (a spike source ``input``, then a chain of all-to-all
    projections onto ``Leaky`` populations up to ``output``, by default the
    last) as a ``SpikingModel`` whose weights are the network's, as
    (n_post, n_pre) parameters. ``engine``: ``"layered"`` (fast, Leaky chains
    only) or ``"generic"`` (the torch backend, any neuron model on the chain,
    but Leaky ones with ``readout="membrane"``, which reads their ``v``);
    ``method``: ``"bptt"`` or ``"ottt"`` (layered, feedforward); ``readout``:
    ``"counts"`` or ``"membrane"``; ``surrogate``: the spike's surrogate
    gradient (layered: ``functional.SURROGATES``; generic: any of the torch
    backend's); ``dtype`` torch.float32 or float64."""
    if engine not in ENGINES:
        raise ModelError(f"compile: engine must be one of {list(ENGINES)}, got {engine!r}")
    if method not in METHODS:
        raise ModelError(f"compile: method must be one of {list(METHODS)}, got {method!r}")
    if readout not in READOUTS:
        raise ModelError(f"compile: readout must be one of {list(READOUTS)}, got {readout!r}")
    if dtype not in DTYPES:
        raise ModelError(f"compile: dtype must be torch.float32 or torch.float64, got {dtype!r}")
    check_surrogate(surrogate, engine)
    if device is None:
        from ..backends.torch.simulation import default_device
        device = default_device()
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as e:
        raise ModelError(f"compile: device {device!r} is not usable: {e}") from None
    plan = layered(network, input, output, leaky=engine == "layered" or readout == "membrane")
    if method == "ottt":
        if engine != "layered":
            raise ModelError("compile: method 'ottt' runs on the layered engine")
        rec = [layer.recurrent for layer in plan.layers if layer.recurrent]
        if rec:
            raise ModelError(f"compile: method 'ottt' trains feedforward layers; the network has recurrent "
                             f"projection(s) {rec}")
        for name, beta in plan.beta.items():
            if np.ptp(beta) != 0:
                raise ModelError(f"compile: method 'ottt' needs one beta (tau) per layer; population '{name}' "
                                 f"has several")
    return SpikingModel(network, plan, engine, method, readout, surrogate, dtype, device)
