"""How a convolution projection (``network.BuiltConvolution``) is laid out for
an FFT, shared by the engines that convolve through one (numba, torch): the
padded sheet, the class map's tile, the kernels' spectra, and when the FFT
pays."""
from __future__ import annotations

import numpy as np
import scipy.fft

#: FFT where the taps a step visits exceed ``FFT_ABOVE`` times the transforms'
#: work (``fft_work``); measured on one core at n = 128: a tap costs about four
#: times a unit of that work
FFT_ABOVE = 0.3
#: a transform's fixed cost (calls, allocation), in units of its work
FFT_FIXED = 4096


def tile(conv) -> tuple[int, int]:
    """The smallest (qy, qx), dividing the sheet, that the class map repeats with."""
    def period(axis):
        n = conv.classes.shape[axis]
        return next(q for q in range(1, n + 1)
                    if n % q == 0 and np.array_equal(conv.classes, np.roll(conv.classes, q, axis)))
    return period(0), period(1)


def phases(conv) -> tuple[int, int] | None:
    """The class map's tile where one transform of the whole sheet is cheaper than
    one per class: a class mask that repeats every (qy, qx) is a sum of qy * qx
    plane waves, so each class's spectrum is the sheet's, shifted (``summed``)."""
    c = conv.kernel.shape[0]
    if c == 1:
        return None
    qy, qx = tile(conv)
    return (qy, qx) if qy * qx <= c else None


def fft_work(conv, phased: bool = True) -> float:
    """A step's transforms, roughly: (transforms) * (P log2 P + ``FFT_FIXED``),
    P the padded sheet: one masked sheet per class and the inverse, or two where
    there is one class or, for an engine that takes that route (``phased``),
    where the class map repeats in a small tile (``phases``)."""
    py, px = padded(conv)
    c = conv.kernel.shape[0]
    transforms = 2 if c == 1 or (phased and phases(conv)) else c + 1
    return transforms * (py * px * np.log2(py * px) + FFT_FIXED)


def padded(conv) -> tuple[int, int]:
    """The FFT's sheet: the sheet itself where it wraps, else padded by the
    kernel's radius (a fast size, a multiple of the class tile where ``phases``
    uses it), so that a linear convolution does not wrap."""
    if conv.periodic:
        return conv.sheet
    r = (np.asarray(conv.kernel.shape[-2:]) - 1) // 2
    q = phases(conv) or (1, 1)
    return tuple(int(m * scipy.fft.next_fast_len(-(-int(n + k) // m), real=True))
                 for n, k, m in zip(conv.sheet, r, q))


def spectra(conv) -> np.ndarray:
    """rfft2 of each class's kernel laid out on the padded sheet (tap (dy, dx) at
    (dy mod P, dx mod P))."""
    py, px = padded(conv)
    c, ky, kx = conv.kernel.shape
    ry, rx = (ky - 1) // 2, (kx - 1) // 2
    out = np.zeros((c, py, px))
    dy, dx = np.meshgrid(np.arange(-ry, ry + 1) % py, np.arange(-rx, rx + 1) % px, indexing="ij")
    for k in range(c):
        np.add.at(out[k], (dy, dx), conv.kernel[k])
    return np.fft.rfft2(out)
