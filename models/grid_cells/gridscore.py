"""Rate maps, spatial autocorrelograms and grid scores.

The grid score follows the convention of Banino et al. (2018) and Sorscher et
al. (2019): a rate map of ``bins x bins`` -> its spatial autocorrelogram
(``(2 bins - 1)`` a side, zero lag at the centre) -> for each ring mask (inner
radius ``0.2 bins``, outer radius one of ``linspace(0.4, 1.0, 10) bins``, in
bins of lag) the Pearson correlation, inside the ring, of the autocorrelogram
with itself rotated by 30, 45, 60, 90, 120, 135 and 150 degrees; then

    score60 = (c60 + c120) / 2 - (c30 + c90 + c150) / 3

and the grid score is the largest score60 over the masks. A hexagonal grid
scores up to about 2, a square grid or a single field scores near or below 0.

Maps are indexed ``[y_bin, x_bin]`` (row = y), as ``imshow(origin="lower")``
draws them.
"""
from __future__ import annotations

import numpy as np
from scipy import fft, ndimage

from spikemem.errors import ModelError

ANGLES = (30, 45, 60, 90, 120, 135, 150)
INNER = 0.2
OUTER = tuple(np.linspace(0.4, 1.0, 10))


def rate_map(positions, values, box, bins: int = 20) -> np.ndarray:
    """Mean of ``values`` in each spatial bin: ``(bins, bins)`` for values
    ``(T,)``, ``(units, bins, bins)`` for values ``(T, units)``; NaN where the
    path never went.

    positions: ``(T, 2)`` x, y in metres, the box's corner at (0, 0); points a
    little outside the box (tracking jitter) count in the edge bins.
    box: ``(width, height)`` in metres; ``bins`` a side, so the bins of a box
    that is not square are not square either, which distorts a grid: grid
    scores want a square box.
    """
    positions = np.asarray(positions, dtype=float)
    values = np.asarray(values, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 2 or len(positions) == 0:
        raise ModelError(f"rate_map: positions must be a non-empty (T, 2) array, got shape {positions.shape}")
    if values.ndim not in (1, 2) or len(values) != len(positions):
        raise ModelError(f"rate_map: values must be (T,) or (T, units) with T = {len(positions)} "
                         f"as positions, got shape {values.shape}")
    width, height = _box(box)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ModelError(f"rate_map: bins must be a whole number >= 2, got {bins!r}")
    if not np.all(np.isfinite(positions)):
        raise ModelError(f"rate_map: positions hold NaN or inf (first at sample "
                         f"{int(np.flatnonzero(~np.isfinite(positions).all(axis=1))[0])})")
    ix = np.clip((positions[:, 0] / width * bins).astype(int), 0, bins - 1)
    iy = np.clip((positions[:, 1] / height * bins).astype(int), 0, bins - 1)
    flat = iy * bins + ix
    counts = np.bincount(flat, minlength=bins * bins).astype(float)
    columns = values[:, None] if values.ndim == 1 else values
    sums = np.stack([np.bincount(flat, weights=c, minlength=bins * bins) for c in columns.T])
    with np.errstate(invalid="ignore", divide="ignore"):
        maps = np.where(counts > 0, sums / counts, np.nan).reshape(-1, bins, bins)
    return maps[0] if values.ndim == 1 else maps


def autocorrelogram(rate_map, min_overlap: int = 2) -> np.ndarray:
    """Spatial autocorrelogram of a rate map ``(ny, nx)`` (or a stack
    ``(units, ny, nx)``): ``(2 ny - 1, 2 nx - 1)``, the value at
    ``[ny - 1 + dy, nx - 1 + dx]`` being the Pearson correlation of the map
    with itself shifted by (dx, dy) bins, over the pairs of bins both visited
    (Sargolini et al. 2006). NaN where fewer than ``min_overlap`` pairs
    overlap or either side is constant."""
    maps = np.asarray(rate_map, dtype=float)
    single = maps.ndim == 2
    if maps.ndim not in (2, 3) or min(maps.shape[-2:]) < 2:
        raise ModelError(f"autocorrelogram: expected a (ny, nx) map or a (units, ny, nx) stack with "
                         f"ny, nx >= 2, got shape {maps.shape}")
    maps = maps[None] if single else maps
    ny, nx = maps.shape[-2:]
    visited = np.isfinite(maps).astype(float)
    x = np.where(visited > 0, maps, 0.0)
    # zero-padded to a fast FFT length: linear, not circular, correlation
    shape = (fft.next_fast_len(2 * ny - 1, real=True), fft.next_fast_len(2 * nx - 1, real=True))
    fx, fm, fxx = (fft.rfft2(a, shape) for a in (x, visited, x * x))
    rows = np.arange(-(ny - 1), ny) % shape[0]
    cols = np.arange(-(nx - 1), nx) % shape[1]

    def corr(fa, fb):
        # sum over p of a(p) b(p + lag), lags -(n-1)..(n-1) with the zero lag at the centre
        full = fft.irfft2(np.conj(fa) * fb, shape)
        return full[:, rows][:, :, cols]

    n = np.rint(corr(fm, fm))
    # the sums over the second member of each pair are those over the first at the opposite lag
    s1, s11, s12 = corr(fx, fm), corr(fxx, fm), corr(fx, fx)
    s2, s22 = s1[:, ::-1, ::-1], s11[:, ::-1, ::-1]
    var1, var2 = n * s11 - s1 * s1, n * s22 - s2 * s2
    # FFT rounding leaves tiny positive variances where a side is constant
    scale = np.maximum(n * np.maximum(s11, s22), 1e-300)
    tiny = 1e-9 * scale
    ok = (n >= min_overlap) & (var1 > tiny) & (var2 > tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        sac = np.where(ok, (n * s12 - s1 * s2) / np.sqrt(np.where(ok, var1 * var2, 1.0)), np.nan)
    sac = np.clip(sac, -1.0, 1.0)
    return sac[0] if single else sac


def ring_masks(size: int, bins: int) -> np.ndarray:
    """Boolean ring masks ``(10, size, size)`` over an autocorrelogram of side
    ``size`` (odd): ``0.2 bins < r <= outer bins`` for each outer radius."""
    r = np.arange(size) - (size - 1) / 2
    dist = np.hypot(r[None, :], r[:, None])
    return np.stack([(dist > INNER * bins) & (dist <= outer * bins) for outer in OUTER])


def grid_scores(rate_maps) -> np.ndarray:
    """Grid scores (score60, the best over the ring masks) of a stack of rate
    maps ``(units, bins, bins)`` -> ``(units,)``. A map with nothing to
    correlate (constant, or almost unvisited) scores NaN."""
    maps = np.asarray(rate_maps, dtype=float)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or maps.shape[1] < 4:
        raise ModelError(f"grid_scores: expected square rate maps (units, bins, bins) with bins >= 4, "
                         f"got shape {maps.shape}")
    bins = maps.shape[1]
    sac = autocorrelogram(maps)
    sac = np.where(np.isfinite(sac), sac, 0.0)       # undefined lags count as uncorrelated, as Banino's code does
    masks = ring_masks(sac.shape[-1], bins)
    corr = {angle: _ring_correlations(sac, ndimage.rotate(sac, angle, axes=(1, 2), reshape=False, order=3), masks)
            for angle in ANGLES}
    score60 = (corr[60] + corr[120]) / 2 - (corr[30] + corr[90] + corr[150]) / 3
    best = np.max(np.where(np.isfinite(score60), score60, -np.inf), axis=1)
    return np.where(np.isfinite(score60).any(axis=1), best, np.nan)


def grid_score(rate_map) -> float:
    """Grid score of one rate map ``(bins, bins)``; see :func:`grid_scores`."""
    rate_map = np.asarray(rate_map, dtype=float)
    if rate_map.ndim != 2:
        raise ModelError(f"grid_score: expected one (bins, bins) map, got shape {rate_map.shape}; "
                         "use grid_scores for a stack")
    return float(grid_scores(rate_map[None])[0])


def _ring_correlations(sac, rotated, masks) -> np.ndarray:
    """Pearson correlation of ``sac`` and ``rotated`` (units, s, s) inside each
    mask -> (units, masks); NaN where either side is constant in the ring."""
    m = masks.reshape(len(masks), -1).astype(float)
    a, b = sac.reshape(len(sac), -1), rotated.reshape(len(rotated), -1)
    count = m.sum(axis=1)
    mean_a, mean_b = a @ m.T / count, b @ m.T / count
    cov = (a * b) @ m.T / count - mean_a * mean_b
    var_a = (a * a) @ m.T / count - mean_a ** 2
    var_b = (b * b) @ m.T / count - mean_b ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((var_a > 1e-12) & (var_b > 1e-12), cov / np.sqrt(var_a * var_b), np.nan)


def _box(box) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ModelError(f"box must be (width, height) in metres, got {box!r}") from None
    if not (width > 0 and height > 0 and np.isfinite(width) and np.isfinite(height)):
        raise ModelError(f"box must be (width, height) in metres, both > 0, got {box!r}")
    return width, height
