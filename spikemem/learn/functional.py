"""The Leaky layer's time loop as one autograd function, and the surrogate
gradients it takes.

``leaky_scan(current, beta, v_th, surrogate, scale)`` runs a whole layer over
the T steps of a (T, batch, n) input current: per step v = beta*(v + I),
spike s = v > v_th, reset v -= v_th*s. Its backward pass is written out (one
loop back over T) instead of being recorded step by step by autograd, which is
where a per-step framework spends its time. Gradients are those of the torch
backend's ``TorchNetwork`` (so of BPTT through snntorch's surrogates): the
spike's derivative is the surrogate's at (v - v_th)/scale, divided by scale,
and the reset passes no gradient through the spike.
"""
from __future__ import annotations

import math

import torch

from ..errors import ModelError

#: snntorch's surrogate gradients at their default settings: derivative of the
#: spike with respect to x = (v - v_th)/scale
SURROGATES = {
    "atan": lambda x: 1.0 / (1.0 + (math.pi * x) ** 2),             # alpha 2: alpha/2 / (1 + (pi/2 alpha x)^2)
    "fast_sigmoid": lambda x: 1.0 / (25.0 * x.abs() + 1.0) ** 2,    # slope 25
    "sigmoid": lambda x: 25.0 * torch.exp(-25.0 * x) / (torch.exp(-25.0 * x) + 1) ** 2,
}


def check_surrogate(name) -> str:
    if name not in SURROGATES:
        raise ModelError(f"learn: surrogate {name!r} is not one of {sorted(SURROGATES)}")
    return name


def spike(v, v_th, surrogate: str, scale: float):
    """Spikes v > v_th whose gradient is the surrogate's (one step)."""
    return _Spike.apply(v, v_th, surrogate, scale)


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, v_th, surrogate, scale):
        ctx.save_for_backward(v, v_th)
        ctx.surrogate, ctx.scale = surrogate, scale
        return (v > v_th).to(v.dtype)

    @staticmethod
    def backward(ctx, grad):
        v, v_th = ctx.saved_tensors
        return grad * SURROGATES[ctx.surrogate]((v - v_th) / ctx.scale) / ctx.scale, None, None, None


def leaky_scan(current, beta, v_th, surrogate: str = "atan", scale: float = 1.0):
    """Spikes and membranes after reset, both (T, batch, n), of Leaky neurons
    starting at rest and driven by ``current`` (T, batch, n); ``beta`` and
    ``v_th`` one value per neuron (n,)."""
    return _LeakyScan.apply(current, beta, v_th, surrogate, scale)


class _LeakyScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, current, beta, v_th, surrogate, scale):
        T = current.shape[0]
        spikes = torch.empty_like(current)
        after = torch.empty_like(current)       # v after reset: what the next step starts from
        v = torch.zeros_like(current[0])
        for t in range(T):
            v = (v + current[t]) * beta
            s = spikes[t]
            torch.gt(v, v_th, out=s)            # bool into float
            v = v - v_th * s
            after[t] = v
        ctx.save_for_backward(spikes, after, beta, v_th)
        ctx.surrogate, ctx.scale = surrogate, scale
        return spikes, after

    @staticmethod
    def backward(ctx, grad_spikes, grad_after):
        spikes, after, beta, v_th = ctx.saved_tensors
        derivative = SURROGATES[ctx.surrogate]
        scale = ctx.scale
        # the membrane before reset, from the one after it
        before = torch.addcmul(after, spikes, v_th.expand_as(spikes))
        sg = derivative((before - v_th) / scale).div_(scale)
        grad_spikes = torch.zeros_like(spikes) if grad_spikes is None else grad_spikes
        sg.mul_(grad_spikes)                    # d loss / d v_before through the spikes
        grad_current = torch.empty_like(spikes)
        g = torch.zeros_like(spikes[0])         # d loss / d v_after(t) from later steps
        for t in range(spikes.shape[0] - 1, -1, -1):
            if grad_after is not None:
                g = g + grad_after[t]
            g = (g + sg[t]) * beta              # through v_before(t) = beta (v_after(t-1) + I(t))
            grad_current[t] = g
        return grad_current, None, None, None, None


def trace_linear(spikes, trace, weight):
    """``spikes`` (batch, n_pre) through ``weight`` (n_post, n_pre), whose gradient
    is taken with the presynaptic ``trace`` in place of the spikes (OTTT: the
    eligibility that a step's error meets); the spikes' own gradient is the
    usual one."""
    return _TraceLinear.apply(spikes, trace, weight)


class _TraceLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, spikes, trace, weight):
        ctx.save_for_backward(trace, weight)
        return torch.nn.functional.linear(spikes, weight)

    @staticmethod
    def backward(ctx, grad):
        trace, weight = ctx.saved_tensors
        grad_spikes = grad @ weight if ctx.needs_input_grad[0] else None
        grad_weight = grad.t() @ trace if ctx.needs_input_grad[2] else None
        return grad_spikes, None, grad_weight
