"""The Leaky layer's time loop as one autograd function, and the surrogate
gradients it takes.

``leaky_scan(current, beta, v_th, surrogate, scale)`` runs a whole layer over
T + 1 steps, from rest, given the (T, batch, n) current its projection
delivers at steps 1..T (one step of delay: nothing arrives at step 0): per
step v = beta*(v + I), spike s = v > v_th, reset v -= v_th*s. Its backward
pass is written out as one loop back over the steps instead of being recorded
step by step by autograd, which is where a per-step framework spends its time;
on the CPU both loops are numba kernels, elsewhere torch operations.
Gradients are those of the torch backend's ``TorchNetwork`` (BPTT through
snntorch's surrogates): the spike's derivative is the surrogate's at
(v - v_th)/scale, divided by scale, and the reset passes no gradient through
the spike.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from ..backends.torch import SURROGATES as BACKEND_SURROGATES
from ..errors import ModelError

#: the surrogates the layered engine fuses into its kernels, a subset of the
#: torch backend's (``BACKEND_SURROGATES``, which the generic engine takes):
#: snntorch's at their default settings, derivative of the spike with respect
#: to x = (v - v_th)/scale
SURROGATES = {
    "atan": lambda x: 1.0 / (1.0 + (math.pi * x) ** 2),             # alpha 2: alpha/2 / (1 + (pi/2 alpha x)^2)
    "fast_sigmoid": lambda x: 1.0 / (25.0 * x.abs() + 1.0) ** 2,    # slope 25
    # slope 25; the derivative is even in x: written with |x|, exp never overflows
    "sigmoid": lambda x: 25.0 * torch.exp(-25.0 * x.abs()) / (torch.exp(-25.0 * x.abs()) + 1) ** 2,
}
_CODES = {name: k for k, name in enumerate(SURROGATES)}     # the kernels' numbering


def check_surrogate(name, engine: str = "layered") -> str:
    """``name`` if the engine takes it: the layered engine its fused surrogates,
    the generic engine (the torch backend) any of the backend's."""
    allowed = list(SURROGATES) if engine == "layered" else list(BACKEND_SURROGATES)
    if name not in allowed:
        raise ModelError(f"learn: surrogate {name!r} is not one of {allowed} (engine {engine!r})")
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


# --- the CPU kernels: (steps, batch, n) arrays, one value per neuron for beta and v_th
@njit(cache=True)
def _forward_kernel(current, beta, v_th, spikes, after):
    steps, batch, n = spikes.shape
    for t in range(steps):
        for b in range(batch):
            sp, af = spikes[t, b], after[t, b]
            if t:
                cur, prev = current[t - 1, b], after[t - 1, b]
                for i in range(n):
                    af[i] = (prev[i] + cur[i]) * beta[i]
            else:
                for i in range(n):
                    af[i] = 0.0
            for i in range(n):
                fired = af[i] > v_th[i]
                sp[i] = fired
                af[i] = af[i] - v_th[i] if fired else af[i]      # the reset (an infinite v_th never fires)


#: what the backward kernel may assume of its arithmetic: reassociation, reciprocals,
#: contraction; not that it meets no inf or NaN
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, fastmath=_FAST)
def _backward_kernel(spikes, after, beta, v_th, code, pi, one, slope, inv_scale, grad_spikes, grad_after,
                     has_after, grad_current):
    # constants come in the arrays' dtype, so float32 stays float32 (and vectorises)
    steps, batch, n = spikes.shape
    g = np.zeros((batch, n), dtype=spikes.dtype)
    d = np.empty(n, dtype=spikes.dtype)        # d spike / d v of one row
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            af, sp, gb = after[t, b], spikes[t, b], g[b]
            if code == 0:
                for i in range(n):
                    y = pi * (af[i] + (sp[i] - one) * v_th[i]) * inv_scale      # v before the reset
                    d[i] = inv_scale / (one + y * y)
            elif code == 1:
                for i in range(n):
                    z = slope * abs((af[i] + (sp[i] - one) * v_th[i]) * inv_scale) + one
                    d[i] = inv_scale / (z * z)
            else:
                for i in range(n):
                    e = np.exp(-slope * abs((af[i] + (sp[i] - one) * v_th[i]) * inv_scale))
                    d[i] = slope * e / ((e + one) * (e + one)) * inv_scale
            gsp = grad_spikes[t, b]
            if has_after:
                ga = grad_after[t, b]
                for i in range(n):
                    gb[i] = (gb[i] + ga[i] + gsp[i] * d[i]) * beta[i]     # v_before(t) = beta (v_after(t-1) + I(t))
            else:
                for i in range(n):
                    gb[i] = (gb[i] + gsp[i] * d[i]) * beta[i]
        if t:
            grad_current[t - 1] = g


def leaky_scan(current, beta, v_th, surrogate: str = "atan", scale: float = 1.0):
    """Spikes and membranes after reset, both (T + 1, batch, n), of Leaky
    neurons starting at rest and receiving ``current`` (T, batch, n) at steps
    1..T; ``beta`` and ``v_th`` one value per neuron (n,)."""
    return _LeakyScan.apply(current, beta, v_th, surrogate, scale)


def _cpu(*tensors) -> bool:
    return all(t.device.type == "cpu" for t in tensors)


class _LeakyScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, current, beta, v_th, surrogate, scale):
        T, B, n = current.shape
        current = current.contiguous()
        spikes = current.new_empty((T + 1, B, n))
        after = torch.empty_like(spikes)       # v after reset: what the next step starts from
        if _cpu(current, beta, v_th):
            _forward_kernel(current.numpy(), beta.contiguous().numpy(), v_th.contiguous().numpy(),
                            spikes.numpy(), after.numpy())
        else:
            v = torch.zeros_like(spikes[0])
            for t in range(T + 1):
                v = (v + current[t - 1]) * beta if t else v * beta
                torch.gt(v, v_th, out=spikes[t])
                v = torch.where(spikes[t] > 0, v - v_th, v)
                after[t] = v
        ctx.save_for_backward(spikes, after, beta, v_th)
        ctx.surrogate, ctx.scale = surrogate, scale
        ctx.set_materialize_grads(False)        # an output left unused: None, not a tensor of zeros
        return spikes, after

    @staticmethod
    def backward(ctx, grad_spikes, grad_after):
        spikes, after, beta, v_th = ctx.saved_tensors
        grad_spikes = torch.zeros_like(spikes) if grad_spikes is None else grad_spikes.contiguous()
        grad_current = spikes.new_empty((spikes.shape[0] - 1, *spikes.shape[1:]))
        if _cpu(spikes, grad_spikes) and (grad_after is None or _cpu(grad_after)):
            has_after = grad_after is not None
            grad_after = grad_after.contiguous() if has_after else grad_spikes
            real = spikes.numpy().dtype.type
            _backward_kernel(spikes.numpy(), after.numpy(), beta.contiguous().numpy(), v_th.contiguous().numpy(),
                             _CODES[ctx.surrogate], real(math.pi), real(1.0), real(25.0), real(1.0 / ctx.scale),
                             grad_spikes.numpy(), grad_after.numpy(), has_after, grad_current.numpy())
            return grad_current, None, None, None, None
        before = torch.addcmul(after, spikes, v_th.expand_as(spikes))
        sg = SURROGATES[ctx.surrogate]((before - v_th) / ctx.scale).div_(ctx.scale).mul_(grad_spikes)
        g = torch.zeros_like(spikes[0])         # d loss / d v_after(t) from later steps
        for t in range(spikes.shape[0] - 1, -1, -1):
            if grad_after is not None:
                g = g + grad_after[t]
            g = (g + sg[t]) * beta
            if t:
                grad_current[t - 1] = g
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
