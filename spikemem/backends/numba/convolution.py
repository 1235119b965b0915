"""Convolution projections (``connectors.Convolution``) inside the numba kernel.

A convolution keeps its kernel (``network.BuiltConvolution``); the kernel
computes what its listed synapses would deliver, in two ways:

* scatter: every source with something to deliver (a spike of ``delay`` steps
  ago, or a nonzero summed variable) adds its class's taps to its neighbours.
  Each target then receives its terms in presynaptic order, the order of the
  listed synapses, so the sums round as Brian2's do.
* FFT (where the taps a step visits outnumber an FFT's work by ``FFT_ABOVE``:
  summed variables over large kernels, and steps with many spikes): each
  class's masked sheet is transformed once per step (or the whole sheet once,
  where the class map repeats in a small tile, ``phases``), the
  products with the kernels' spectra (computed here, once) are summed, and
  one inverse transform gives the sheet; the aperiodic sheet is zero padded so
  that nothing wraps. ``numpy.fft`` runs in nopython code through rocket-fft.
  The sums round otherwise than the scatter's: the same values to rounding.
"""
from __future__ import annotations

import numpy as np
import rocket_fft  # noqa: F401 (numpy.fft in nopython code; numba also loads it by itself)

from ..fft_layout import FFT_ABOVE, fft_work, padded, phases, spectra


def uses_fft(conv) -> bool:
    """Whether a summed convolution goes through the FFT (every tap visited each step
    otherwise); spikes choose each step (``events``)."""
    return conv.source is not None and conv.n_synapses > FFT_ABOVE * fft_work(conv)


def shifted_spectra(conv):
    """(G, shifts): the spectrum of the summed input is ``sum_m G[m](k) S(k - shifts[m])``,
    S the sheet's spectrum: ``G[m] = sum_c a[c, m] K_c`` with ``a[c]`` the plane-wave
    coefficients of class c's mask (its tile's DFT / tile size)."""
    qy, qx = phases(conv)
    py, px = padded(conv)
    c = conv.kernel.shape[0]
    masks = np.stack([conv.classes[:qy, :qx] == k for k in range(c)]).astype(float)
    a = np.fft.fft2(masks).reshape(c, -1) / (qy * qx)
    g = np.einsum("cm,cyx->myx", a, spectra(conv))
    my, mx = np.divmod(np.arange(qy * qx), qx)
    return g, (my * (py // qy)).astype(np.int64), (mx * (px // qx)).astype(np.int64)


def taps(conv, dtype):
    """Each class's taps as (dy, dx, w), grouped by class: ``ptr[c]:ptr[c + 1]``."""
    c, ky, kx = conv.kernel.shape
    cls, a, b = np.nonzero(conv.taps)
    ptr = np.zeros(c + 1, np.int64)
    np.cumsum(np.bincount(cls, minlength=c), out=ptr[1:])
    return ptr, (a - (ky - 1) // 2).astype(np.int64), (b - (kx - 1) // 2).astype(np.int64), \
        conv.kernel[cls, a, b].astype(dtype)


def scatter(asm, kp, conv, target: str, value: str, ind: str, guard: str | None = None) -> list[str]:
    """Lines adding source ``_i``'s ``value`` times each of its taps to ``target``
    (an array name) at the tap's neighbour (where ``guard``, a flag array, allows)."""
    p = f"cv{kp}"
    ny, nx = conv.sheet
    ptr, dy, dx, w = taps(conv, asm.k.dtype)
    asm.k.arg(f"{p}__ptr", ptr)
    asm.k.arg(f"{p}__dy", dy)
    asm.k.arg(f"{p}__dx", dx)
    asm.k.arg(f"{p}__w", w)
    asm.k.arg(f"{p}__cls", conv.classes.ravel().astype(np.int64))
    asm.k.arg(f"{p}__ny", ny)
    asm.k.arg(f"{p}__nx", nx)
    term = f"{p}__w[_t]" if value == "1" else f"{p}__w[_t] * {value}"
    if conv.periodic:
        wrap = [f"{ind}    if _y < 0:", f"{ind}        _y += {p}__ny",
                f"{ind}    elif _y >= {p}__ny:", f"{ind}        _y -= {p}__ny",
                f"{ind}    if _x < 0:", f"{ind}        _x += {p}__nx",
                f"{ind}    elif _x >= {p}__nx:", f"{ind}        _x -= {p}__nx"]
    else:
        wrap = [f"{ind}    if _y < 0 or _y >= {p}__ny or _x < 0 or _x >= {p}__nx:", f"{ind}        continue"]
    return [f"{ind}_y0 = _i // {p}__nx",
            f"{ind}_x0 = _i - _y0 * {p}__nx",
            f"{ind}_c = {p}__cls[_i]",
            f"{ind}for _t in range({p}__ptr[_c], {p}__ptr[_c + 1]):",
            f"{ind}    _y = _y0 + {p}__dy[_t]",
            f"{ind}    _x = _x0 + {p}__dx[_t]"] + wrap + (
            [] if guard is None else [f"{ind}    if not {guard}[_y * {p}__nx + _x]:", f"{ind}        continue"]) + [
            f"{ind}    {target}[_y * {p}__nx + _x] += {term}"]


def events(asm, kp, proj, target: str, guard: str | None) -> list[str]:
    """The spikes of ``delay`` steps ago, each adding its taps to ``target``; where
    they are so many that their taps outnumber an FFT's work (``FFT_ABOVE``), the
    sheet of spikes through the FFT instead."""
    conv = proj.conv
    p = f"cv{kp}"
    hist, count = f"{proj.pre}__hist", f"{proj.pre}__hcount"
    lines = [f"        if step - {conv.delay} >= 0:",
             f"            _slot = _now_{proj.pre} - {conv.delay}",
             "            if _slot < 0:",
             f"                _slot += {hist}.shape[0]"]
    spikes = asm._spike_list(proj.pre, "_i", " " * 12)
    each = scatter(asm, kp, conv, target, "1", " " * 20, guard)
    taps = conv.n_synapses / conv.classes.size          # a spike's taps, on average
    if conv.n_synapses <= FFT_ABOVE * fft_work(conv):   # never cheaper through the FFT
        return lines + spikes + each
    asm.k.arg(f"{p}__spk", np.zeros(conv.classes.size))
    asm.k.arg(f"{p}__most", int(FFT_ABOVE * fft_work(conv) / taps))
    keep = "" if guard is None else f" * {guard}[_j]"
    through_fft = ["        " + line for line in fft(asm, kp, conv, f"{p}__spk")]
    return lines + [
        "            _n = 0",
        "            for _u in range(_T):",
        f"                _n += {count}[_slot, _u]",
        f"            if _n <= {p}__most:"] + ["    " + line for line in spikes + each] + [
        "            else:",
        f"                {p}__spk[:] = 0.0"] + ["    " + line for line in spikes] + [
        f"                        {p}__spk[_i] = 1.0"] + through_fft + [
        f"                for _j in range({p}__spk.shape[0]):",
        f"                    {target}[_j] += _out[_j // {p}__nx, _j % {p}__nx]{keep}"]


def summed(asm, kp, proj, target: str, source: str) -> list[str]:
    """``target = sum(w * source_pre)`` over the taps, afresh each step."""
    conv = proj.conv
    p = f"cv{kp}"
    if not uses_fft(conv):
        return ([f"        {target}[:] = 0.0",
                 f"        for _i in range({source}.shape[0]):",
                 f"            _v = {source}[_i]",
                 "            if _v == 0.0:",      # adds nothing: a zero term leaves every sum as it is
                 "                continue"] + scatter(asm, kp, conv, target, "_v", " " * 12))
    return fft(asm, kp, conv, source) + [
        f"        {target}.reshape(({p}__ny, {p}__nx))[:, :] = _out[:{p}__ny, :{p}__nx]"]


def fft(asm, kp, conv, source: str) -> list[str]:
    """Lines leaving in ``_out`` (the padded sheet) the convolution of ``source``, a
    flat array of the sheet's values."""
    p = f"cv{kp}"
    ny, nx = conv.sheet
    py, px = padded(conv)
    c = conv.kernel.shape[0]
    asm.k.arg(f"{p}__spec", spectra(conv))   # (classes, py, px // 2 + 1)
    asm.k.arg(f"{p}__img", np.zeros((py, px)))
    asm.k.arg(f"{p}__ny", ny)
    asm.k.arg(f"{p}__nx", nx)
    img = f"{p}__img"
    shape = f"({img}.shape[0], {img}.shape[1])"
    if c == 1:
        lines = [f"        {img}[:{p}__ny, :{p}__nx] = {source}.reshape(({p}__ny, {p}__nx))",
                 f"        _acc = np.fft.rfft2({img}) * {p}__spec[0]"]
    elif phases(conv):
        g, sy, sx = shifted_spectra(conv)
        asm.k.arg(f"{p}__spec", g)
        asm.k.arg(f"{p}__sy", sy)
        asm.k.arg(f"{p}__sx", sx)
        # S(a, b) of the full plane from the half rfft2 keeps: S(a, b) = conj(S(-a, -b))
        lines = [f"        {img}[:{p}__ny, :{p}__nx] = {source}.reshape(({p}__ny, {p}__nx))",
                 f"        _f = np.fft.rfft2({img})",
                 f"        _py = {img}.shape[0]",
                 f"        _px = {img}.shape[1]",
                 "        _acc = np.zeros(_f.shape, np.complex128)",
                 f"        for _m in range({p}__spec.shape[0]):",
                 "            for _a in range(_py):",
                 f"                _a2 = _a - {p}__sy[_m]",
                 "                if _a2 < 0:",
                 "                    _a2 += _py",
                 "                _na2 = _py - _a2 if _a2 > 0 else 0",
                 "                for _b in range(_f.shape[1]):",
                 f"                    _b2 = _b - {p}__sx[_m]",
                 "                    if _b2 < 0:",
                 "                        _b2 += _px",
                 "                    if _b2 < _f.shape[1]:",
                 f"                        _acc[_a, _b] += {p}__spec[_m, _a, _b] * _f[_a2, _b2]",
                 "                    else:",
                 f"                        _acc[_a, _b] += {p}__spec[_m, _a, _b] * np.conj(_f[_na2, _px - _b2])"]
    else:
        # each class's sources on the sheet, the others zero (no temporaries: a loop)
        asm.k.arg(f"{p}__mask", np.stack([conv.classes == k for k in range(c)]).astype(np.float64))
        lines = [f"        _acc = np.zeros(({p}__spec.shape[1], {p}__spec.shape[2]), np.complex128)",
                 f"        for _c in range({p}__spec.shape[0]):",
                 f"            for _y in range({p}__ny):",
                 f"                for _x in range({p}__nx):",
                 f"                    {img}[_y, _x] = {source}[_y * {p}__nx + _x] * {p}__mask[_c, _y, _x]",
                 f"            _f = np.fft.rfft2({img})",
                 "            for _y in range(_f.shape[0]):",
                 "                for _x in range(_f.shape[1]):",
                 f"                    _acc[_y, _x] += _f[_y, _x] * {p}__spec[_c, _y, _x]"]
    return lines + [f"        _out = np.fft.irfft2(_acc, s={shape})"]
