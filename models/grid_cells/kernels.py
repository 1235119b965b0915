"""The recurrent weights of Burak and Fiete's (2009) grid-cell network as
convolution kernels over the neural sheet.

An ``n x n`` sheet, neuron id ``y*n + x``. Each neuron prefers one of four
directions, tiled in 2x2 blocks (:func:`direction_classes`): class
``2*(y % 2) + (x % 2)``, i.e. N at even (y, x), S at even y odd x, E at odd
y even x, W at odd (y, x). N is +y (increasing row), E is +x, so a sheet
drawn with ``imshow(origin="lower")`` has N up and E right.

The weight onto neuron i from neuron j is ``W0(x_i - x_j - l e_j)`` with::

    W0(d) = a exp(-gamma |d|^2) - exp(-beta |d|^2),  beta = 3 / lam^2, gamma = 1.05 beta,

so each neuron's inhibitory surround is shifted by ``l`` neurons (the
paper's name for it) along its own preferred direction ``e_j``; with velocity input the pattern then moves
on the sheet. As a convolution (the Convolution connector's convention) the
weight onto (y, x) from a class-c neuron at (y - dy, x - dx) is

    K[c][r + dy, r + dx] = W0((dx, dy) - l e_c).

The paper uses n = 128, lam = 13, l = 2, a = 1 (every weight inhibitory).
Its periodic network has 128 / 13 periods across: a whole number of periods
is not needed, the lattice strains slightly to close on the torus. Here the
sheet must be even (the 2x2 tiles close on the torus) and span at least two
periods (``n >= 2 lam``) for a lattice to form.

Two properties of these weights matter to a network built on them
(:func:`growth_factor` measures both): the lattice that forms has a period
of about 1.27 lam (16.5 neurons for lam = 13: the peak of the profile's
Fourier transform), and with a = 1 and a slope-1 ReLU the uniform state is
stable (largest multiplier 0.98 for lam = 13, l = 2), so no pattern forms;
the authors' published code scales the recurrent input by 5, and a factor
of 2 already forms the lattice.
"""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError

DIRECTIONS = ("N", "S", "E", "W")
VECTORS = np.array([[0, 1], [0, -1], [1, 0], [-1, 0]], dtype=float)     # (ex, ey) per class
BOUNDARIES = ("periodic", "aperiodic")
TOLERANCE = 1e-5        # default kernel cut: the largest tap left out, relative to the largest tap


def direction_classes(n: int) -> np.ndarray:
    """(n, n) int class map, ``[y, x]`` -> index into :data:`DIRECTIONS`
    (N, S, E, W), tiled in 2x2 blocks."""
    n = _size(n)
    y, x = np.mgrid[0:n, 0:n]
    return 2 * (y % 2) + (x % 2)


def preferred_vectors(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ex, ey)``, each (n*n,) by neuron id ``y*n + x``: the unit vector of
    each neuron's preferred direction."""
    classes = direction_classes(n).ravel()
    return VECTORS[classes, 0].copy(), VECTORS[classes, 1].copy()


def w0(dx, dy, lam: float = 13, a: float = 1, gamma_ratio: float = 1.05) -> np.ndarray:
    """The centre-surround profile ``a exp(-gamma d^2) - exp(-beta d^2)`` at
    displacement (dx, dy) in neurons; ``beta = 3 / lam^2``,
    ``gamma = gamma_ratio * beta``."""
    beta, gamma = _betas(lam, a, gamma_ratio)
    d2 = np.asarray(dx, dtype=float) ** 2 + np.asarray(dy, dtype=float) ** 2
    return a * np.exp(-gamma * d2) - np.exp(-beta * d2)


def recurrent_kernels(n: int, lam: float = 13, l: float = 2, a: float = 1, radius: int | None = None,  # noqa: E741
                      boundary: str = "periodic", gamma_ratio: float = 1.05, tol: float = TOLERANCE) -> np.ndarray:
    """(4, k, k) kernels, ``k = 2 radius + 1``, one per direction class
    (N, S, E, W): ``K[c][radius + dy, radius + dx] = W0((dx, dy) - l e_c)``,
    the weight onto (y, x) from the class-c neuron at (y - dy, x - dx).

    radius: taps kept each side. None cuts the profile where the largest
    tap left out is ``tol`` of the largest tap (:func:`kernel_radius`; lam =
    13, l = 2: radius 30, k = 61, the left-out weight about 5e-7 of the
    total), at most what the sheet holds: ``(n - 1) // 2``, on a periodic
    sheet the nearest image of each neuron on the torus (as the paper), and on
    an aperiodic one the largest kernel a Convolution takes. :func:`truncation_error` gives the error
    of a cut."""
    n = _sheet(n, lam)
    if boundary not in BOUNDARIES:
        raise ModelError(f"recurrent_kernels: boundary must be one of {BOUNDARIES}, got {boundary!r}")
    _betas(lam, a, gamma_ratio)
    if not (np.isfinite(l) and l >= 0):
        raise ModelError(f"recurrent_kernels: l (the shift in neurons) must be >= 0, got {l!r}")
    largest = (n - 1) // 2
    if radius is None:
        radius = min(kernel_radius(lam, l, a, tol, gamma_ratio), largest)
    elif isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ModelError(f"recurrent_kernels: radius must be a whole number of neurons >= 1, got {radius!r}")
    elif radius > largest:
        raise ModelError(f"recurrent_kernels: radius {radius} is larger than the {boundary} sheet of n = {n} holds "
                         f"(at most {largest}: a kernel of side {2 * largest + 1})")
    if radius <= l:
        raise ModelError(f"recurrent_kernels: radius {radius} must exceed the shift l = {l}")
    offsets = np.arange(-radius, radius + 1)
    dx, dy = offsets[None, :], offsets[:, None]
    return np.stack([w0(dx - l * ex, dy - l * ey, lam, a, gamma_ratio) for ex, ey in VECTORS])


def growth_factor(kernels, n: int) -> tuple[float, float]:
    """``(factor, period)``: the largest Fourier multiplier, over wave
    vectors other than 0, of the recurrent input on a periodic ``n x n``
    sheet, and the period in neurons of that mode. Patterns smooth on the
    scale of the 2x2 tiles see the four class kernels averaged, which is what
    this measures. A rate network with a slope-1 ReLU grows a pattern out of
    its uniform state only where the factor exceeds 1; multiplying the
    kernels by g multiplies the factor by g."""
    kernels = np.asarray(kernels, dtype=float)
    n = _size(n)
    if kernels.ndim != 3 or kernels.shape[1] != kernels.shape[2] or kernels.shape[1] % 2 == 0:
        raise ModelError(f"growth_factor: expected (classes, k, k) kernels with k odd, got shape {kernels.shape}")
    radius = (kernels.shape[1] - 1) // 2
    torus = np.zeros((n, n))
    offsets = np.arange(-radius, radius + 1) % n
    np.add.at(torus, (offsets[:, None], offsets[None, :]), kernels.mean(axis=0))
    spectrum = np.fft.fft2(torus).real
    spectrum[0, 0] = -np.inf
    ky, kx = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    wave = np.hypot(min(kx, n - kx), min(ky, n - ky))
    return float(spectrum[ky, kx]), float(n / wave)


def kernel_radius(lam: float = 13, l: float = 2, a: float = 1, tol: float = TOLERANCE,  # noqa: E741
                  gamma_ratio: float = 1.05) -> int:
    """The smallest radius whose largest left-out tap is at most ``tol`` of
    the largest tap."""
    if not (0 < tol < 1):
        raise ModelError(f"kernel_radius: tol must lie in (0, 1), got {tol!r}")
    radius = int(np.ceil(l)) + 1
    while truncation_error(radius, lam, l, a, gamma_ratio) > tol:
        radius += 1
    return radius


def truncation_error(radius: int, lam: float = 13, l: float = 2, a: float = 1,  # noqa: E741 (the paper's l)
                     gamma_ratio: float = 1.05) -> float:
    """The largest tap a kernel of this radius leaves out, relative to the
    largest tap: taps outside the square lie at least ``radius + 1 - l`` from
    the shifted centre."""
    d = np.linspace(0, radius + 1 + 10 * lam, 20001)
    profile = np.abs(w0(d, 0, lam, a, gamma_ratio))
    return float(profile[d >= radius + 1 - l].max() / profile.max())


def envelope(n: int, boundary="periodic", a0: float = 4.0, dr: float | None = None) -> np.ndarray:
    """The velocity input's amplitude A per neuron, (n*n,) by id ``y*n + x``.

    Periodic (or True): 1 everywhere. Aperiodic (or False): 1 within
    ``R - dr`` of the sheet's centre, ``exp(-a0 ((|x| - R + dr) / dr)^2)``
    beyond, with R = n / 2 and ``|x|`` the distance from the centre
    ((n - 1) / 2, (n - 1) / 2) in neurons; ``dr = n / 2`` (the default) makes
    it the Gaussian ``exp(-a0 |x|^2 / R^2)`` of the authors' published code."""
    n = _size(n)
    if boundary is True or boundary == "periodic":
        return np.ones(n * n)
    if not (boundary is False or boundary == "aperiodic"):
        raise ModelError(f"envelope: boundary must be one of {BOUNDARIES} (or True / False), got {boundary!r}")
    radius = n / 2
    dr = radius if dr is None else dr
    if not (np.isfinite(dr) and 0 < dr <= radius):
        raise ModelError(f"envelope: dr must lie in (0, n/2 = {radius}], got {dr!r}")
    if not (np.isfinite(a0) and a0 >= 0):
        raise ModelError(f"envelope: a0 must be >= 0, got {a0!r}")
    centre = (n - 1) / 2
    y, x = np.mgrid[0:n, 0:n]
    dist = np.hypot(x - centre, y - centre).ravel()
    outer = np.maximum(dist - radius + dr, 0.0)
    return np.exp(-a0 * (outer / dr) ** 2)


def _size(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
        raise ModelError(f"the sheet size n must be an even whole number >= 2 (2x2 tiles of the four "
                         f"directions), got {n!r}")
    return int(n)


def _sheet(n, lam) -> int:
    n = _size(n)
    if not (np.isfinite(lam) and lam > 0):
        raise ModelError(f"lam (the grid period in neurons) must be > 0, got {lam!r}")
    if n < 2 * lam:
        raise ModelError(f"a sheet of n = {n} is too small for a grid period lam = {lam}: it needs at least "
                         f"two periods across (n >= {int(np.ceil(2 * lam))})")
    return n


def _betas(lam, a, gamma_ratio) -> tuple[float, float]:
    if not (np.isfinite(lam) and lam > 0):
        raise ModelError(f"lam (the grid period in neurons) must be > 0, got {lam!r}")
    if not (np.isfinite(a) and a > 0):
        raise ModelError(f"a (the excitatory amplitude) must be > 0, got {a!r}")
    if not (np.isfinite(gamma_ratio) and gamma_ratio > 1):
        raise ModelError(f"gamma_ratio must be > 1 (the excitation narrower than the inhibition), "
                         f"got {gamma_ratio!r}")
    beta = 3.0 / lam ** 2
    return beta, gamma_ratio * beta
