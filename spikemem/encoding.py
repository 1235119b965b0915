"""Images to Poisson rates: the preprocessing of spiking place recognition.

An image becomes grayscale, is resized (``size`` x ``size``), patch-normalised
(each pixel against the mean and standard deviation of the ``patch`` x
``patch`` window centred on it, clipped to [-1, 1]), rescaled to whole grey
levels 0..255, and each pixel fires at ``level * rate_per_level`` (the default,
1/4 Hz per level, gives at most about 64 Hz), as the authors of spiking place
recognition prepare their images. ``Simulation.set_rates`` gives the rates to
a Poisson source, one input neuron per pixel in row-major order.
"""
from __future__ import annotations

import numpy as np
from brian2 import Hz

from .errors import ModelError
from .units import to_si

#: Hz per grey level of the normalised image (255 levels: at most about 64 Hz)
RATE_PER_LEVEL = 0.25 * Hz


def grayscale(image, where: str = "image") -> np.ndarray:
    """A 2-D float array: a 2-D array as it is, an RGB(A) array (H x W x 3 or 4) by
    luminance (ITU-R 601, as Pillow's "L" mode), a Pillow image converted to "L"."""
    if hasattr(image, "convert") and hasattr(image, "size"):        # a Pillow image
        image = np.asarray(image.convert("L"))
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114])
    if a.ndim != 2:
        raise ModelError(f"{where}: expected a grayscale (H x W) or colour (H x W x 3 or 4) image, "
                         f"got shape {a.shape}")
    if a.size == 0:
        raise ModelError(f"{where} is empty")
    if not np.all(np.isfinite(a)):
        at = tuple(int(i) for i in np.unravel_index(np.argmin(np.isfinite(a)), a.shape))
        raise ModelError(f"{where}: pixel {at} is not finite")
    return a


def resize(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` (2-D) resized to ``size`` x ``size`` by Pillow's bilinear filter."""
    from PIL import Image
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR),
                      dtype=np.float64)


def patch_normalise(image: np.ndarray, patch: int = 7, where: str = "image") -> np.ndarray:
    """Each pixel less the mean of the ``patch`` x ``patch`` window centred on it, over
    the window's standard deviation, clipped to [-1, 1]; a window reaching past the
    edge counts the pixels inside the image only, and a flat window gives 0."""
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 1 or patch % 2 == 0:
        raise ModelError(f"{where}: the patch must be an odd whole number of pixels (centred on each), got {patch!r}")
    half = patch // 2
    padded = np.pad(image.astype(np.float64), half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (patch, patch))
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = (image - np.nanmean(windows, axis=(2, 3))) / np.nanstd(windows, axis=(2, 3))
    normalised[np.isnan(normalised)] = 0.0         # 0/0: a flat window
    return np.clip(normalised, -1.0, 1.0)


def image_rates(image, size: int = 28, patch: int = 7, rate_per_level=RATE_PER_LEVEL,
                where: str = "image") -> np.ndarray:
    """The Poisson rate (Hz) of each pixel, row-major: ``size * size`` values."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ModelError(f"{where}: size must be a whole number >= 1, got {size!r}")
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 1 or patch % 2 == 0:
        raise ModelError(f"{where}: the patch must be an odd whole number of pixels (centred on each), got {patch!r}")
    per_level = to_si(rate_per_level, f"{where}: rate_per_level", Hz.dim)
    if not np.isfinite(per_level) or per_level < 0:
        raise ModelError(f"{where}: rate_per_level must be >= 0 Hz, got {rate_per_level!r}")
    gray = grayscale(image, where)
    if gray.shape != (size, size):
        gray = resize(gray, size)
    levels = np.floor((patch_normalise(gray, patch, where) + 1.0) * 127.5)     # [-1, 1] -> whole levels 0..255
    return (levels * per_level).reshape(-1)
