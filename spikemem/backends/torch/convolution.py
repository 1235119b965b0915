"""Convolution projections (``connectors.Convolution``) on torch, batched over trials.

Each class's masked sheet is convolved with its kernel and the classes
summed: ``conv2d`` (circular padding where the sheet wraps, zeros where it
does not) for small kernels, products of ``torch.fft.rfft2`` spectra for large
ones (the kernels' spectra computed once, as numba's; the aperiodic sheet is zero padded
so that nothing wraps). The kernel is fixed: gradients flow through the
convolution to what feeds it, not into the kernel.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..fft_layout import FFT_ABOVE, fft_work, padded, spectra


class ConvolutionCode:
    """What one convolution projection delivers: spike events (``events``) or a
    summed variable (``summed``), from (trials, neurons) to (trials, neurons)."""

    def __init__(self, engine, k, proj, group_post):
        conv = proj.conv
        self.k, self.proj, self.name, self.conv = k, proj, proj.name, conv
        self.pre, self.post, self.target = proj.pre, proj.post, proj.target
        dev, dtype = engine.device, engine.dtype
        var = group_post.variables[proj.target]
        self.guard = getattr(var, "conditional_write", None) is not None
        self.sheet = conv.sheet
        c, ky, kx = conv.kernel.shape
        self.classes = c
        self.mask = None if c == 1 else torch.as_tensor(
            np.stack([conv.classes == m for m in range(c)]), dtype=dtype, device=dev)
        py, px = padded(conv)
        self.fft = conv.n_synapses > FFT_ABOVE * fft_work(conv, phased=False)    # a transform per class here
        if self.fft:
            self.padded = (py, px)
            self.spectra = torch.as_tensor(spectra(conv), device=dev).to(torch.promote_types(dtype, torch.complex64))
        else:
            # conv2d correlates: the flipped kernel convolves
            self.weight = torch.as_tensor(conv.kernel[:, ::-1, ::-1].copy(), dtype=dtype, device=dev)[None]
            self.pad = (kx // 2, kx // 2, ky // 2, ky // 2)

    def apply(self, x):
        """(trials, neurons) -> (trials, neurons): what every target receives."""
        b = x.shape[0]
        ny, nx = self.sheet
        s = x.reshape(b, 1, ny, nx)
        if self.mask is not None:
            s = s * self.mask[None]          # (trials, classes, ny, nx)
        if self.fft:
            py, px = self.padded
            spec = torch.fft.rfft2(s, s=(py, px))
            out = torch.fft.irfft2((spec * self.spectra[None]).sum(1), s=(py, px))[:, :ny, :nx]
        else:
            mode = "circular" if self.conv.periodic else "constant"
            out = F.conv2d(F.pad(s, self.pad, mode=mode), self.weight)[:, 0]
        return out.reshape(b, ny * nx)
