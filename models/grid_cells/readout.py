"""Reading the position out of a grid-cell sheet: the phase of its pattern.

A hexagonal pattern on the sheet is dominated by three wave vectors k_j
(60 degrees apart). Translating the pattern by d neurons turns the phase of
its Fourier component at k_j by ``-k_j . d``; so, with the wave vectors found
once from the pattern's spectrum and then held, each frame's three phases
give its displacement (least squares over the three), and unwrapping the
phases over time follows the pattern across any number of periods, as long
as it moves less than half a period between frames.

The sheet's displacement maps to the animal's by a similarity transform (a
gain in metres per neuron, a rotation and possibly a mirror, as the sheet's
axes need not match the arena's), which :func:`fit_gain` fits on the first
minute and then holds; :meth:`Readout.position` applies it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from spikemem.errors import ModelError


def find_wave_vectors(sheet, lam: float | None = None, periodic: bool = True) -> np.ndarray:
    """(3, 2) wave vectors ``(kx, ky)`` in radians per neuron of a hexagonal
    pattern on ``sheet`` (n_y, n_x), indexed ``[y, x]``: the strongest peak
    of its spectrum and the strongest about 60 and 120 degrees from it.

    lam: a hint, the expected period in neurons; peaks are then sought at
    periods between lam / 2 and 2 lam. periodic: on a periodic sheet the
    pattern closes on the torus, so its wave vectors lie on the FFT's grid;
    otherwise each peak is refined off the FFT's grid."""
    sheet = _frame(sheet, "find_wave_vectors")
    ny, nx = sheet.shape
    pad = 1 if periodic else 4
    power = np.abs(np.fft.fft2(sheet - sheet.mean(), (pad * ny, pad * nx)))
    ky = 2 * np.pi * np.fft.fftfreq(pad * ny)
    kx = 2 * np.pi * np.fft.fftfreq(pad * nx)
    KX, KY = np.meshgrid(kx, ky)
    size = np.hypot(KX, KY)
    # one of each +-k pair: the upper half plane, and the positive x half-axis
    allowed = (size > 0) & ((KY > 0) | ((KY == 0) & (KX > 0)))
    if lam is not None:
        if not (np.isfinite(lam) and lam > 0):
            raise ModelError(f"find_wave_vectors: lam must be a period in neurons > 0, got {lam!r}")
        allowed &= (size >= np.pi / lam) & (size <= 4 * np.pi / lam)
    if not allowed.any() or power[allowed].max() <= 0:
        raise ModelError("find_wave_vectors: the sheet holds no pattern (its activity is uniform)")
    score = np.where(allowed, power, -np.inf)
    first = np.unravel_index(np.argmax(score), score.shape)
    k1 = np.array([KX[first], KY[first]])
    angle = np.arctan2(KY, KX) - np.arctan2(k1[1], k1[0])
    vectors = [k1]
    for turn in (np.pi / 3, 2 * np.pi / 3):
        off = np.abs((angle - turn + np.pi / 2) % np.pi - np.pi / 2)       # angles of +-k alike
        near = allowed & (off < np.pi / 9) & (np.abs(size / np.hypot(*k1) - 1) < 0.3)
        if not near.any():
            raise ModelError(f"find_wave_vectors: no peak {np.degrees(turn):.0f} degrees from the strongest one: "
                             "the sheet's pattern is not hexagonal")
        best = np.unravel_index(np.argmax(np.where(near, power, -np.inf)), power.shape)
        if power[best] < 0.1 * power[first]:
            raise ModelError(f"find_wave_vectors: the peak {np.degrees(turn):.0f} degrees from the strongest one "
                             f"holds {power[best] / power[first]:.2g} of its amplitude: the sheet's pattern is "
                             "not hexagonal")
        vectors.append(np.array([KX[best], KY[best]]))
    if periodic:
        return np.array(vectors)
    return np.array([_refine(sheet - sheet.mean(), k, 2 * np.pi / (pad * max(ny, nx))) for k in vectors])


def _refine(sheet, k, step) -> np.ndarray:
    """The wave vector near ``k`` where the spectrum's magnitude peaks (off
    the FFT's grid, for a pattern that does not close on the sheet)."""
    result = optimize.minimize(lambda q: -np.abs(_spectrum(sheet, q)), k, method="Nelder-Mead",
                               options={"initial_simplex": [k, k + [step, 0], k + [0, step]],
                                        "xatol": 1e-6, "fatol": 1e-12})
    return result.x


def _spectrum(sheet, k) -> complex:
    ny, nx = sheet.shape
    return np.exp(-1j * k[1] * np.arange(ny)) @ sheet @ np.exp(-1j * k[0] * np.arange(nx))


def pattern_phase(sheet, wave_vectors) -> np.ndarray:
    """Phases in radians of the sheet's Fourier components at the wave
    vectors, ``arg sum_x s(x) exp(-i k . x)`` with x = (column, row): (m,)
    for one sheet (n_y, n_x), (T, m) for frames (T, n_y, n_x). A long run
    can be read frame block by frame block and the phases joined for
    :func:`displacement`."""
    sheet = np.asarray(sheet, dtype=float)
    if sheet.ndim == 2:
        return _phases(_frame(sheet, "pattern_phase")[None], _vectors(wave_vectors))[0]
    return _phases(_frames(sheet, "pattern_phase"), _vectors(wave_vectors))


def unwrap(phases) -> np.ndarray:
    """Phases over time (T, ...) made continuous along time: each step is
    taken as the one within half a turn."""
    return np.unwrap(np.asarray(phases, dtype=float), axis=0)


def displacement(phases, wave_vectors) -> np.ndarray:
    """(T, 2) displacement ``(dx, dy)`` in neurons since the first frame from
    the phases (T, m) at the wave vectors (m, 2): unwrapped over time, then
    ``-k_j . d = phase_j - phase_j[0]`` solved by least squares."""
    k = _vectors(wave_vectors)
    phases = np.asarray(phases, dtype=float)
    if phases.ndim != 2 or phases.shape[1] != len(k) or len(phases) == 0:
        raise ModelError(f"displacement: phases must be (T, {len(k)}), one column per wave vector, "
                         f"got shape {phases.shape}")
    turned = unwrap(phases)
    turned -= turned[0]
    return -np.linalg.lstsq(k, turned.T, rcond=None)[0].T


def decode(activities, wave_vectors=None, lam: float | None = None, periodic: bool = True) -> np.ndarray:
    """(T, 2) displacement ``(dx, dy)`` in neurons of the sheet's pattern
    since the first frame, from activities (T, n_y, n_x). The wave vectors
    are found in the first frame (:func:`find_wave_vectors`, with ``lam`` and
    ``periodic``) unless given, then held. The pattern must move less than
    half a period between frames."""
    activities = _frames(activities, "decode")
    if wave_vectors is None:
        wave_vectors = find_wave_vectors(activities[0], lam, periodic)
    return displacement(pattern_phase(activities, wave_vectors), wave_vectors)


@dataclass(frozen=True)
class Readout:
    """The map from the sheet's displacement (neurons) to the animal's
    position (metres): ``position = origin + gain * R(rotation) M d`` with M
    the mirror ``diag(1, -1)`` when ``mirrored``; ``matrix`` is the whole
    2x2 map."""
    gain: float                 # metres per neuron
    rotation: float             # radians
    mirrored: bool
    origin: np.ndarray          # the animal's position at the first sample, m
    matrix: np.ndarray          # (2, 2): position - origin = matrix @ d

    def position(self, decoded) -> np.ndarray:
        """(T, 2) positions in metres of displacements (T, 2) in neurons."""
        decoded = np.asarray(decoded, dtype=float)
        if decoded.ndim != 2 or decoded.shape[1] != 2:
            raise ModelError(f"Readout.position: decoded must be (T, 2) displacements, got shape {decoded.shape}")
        return self.origin + (decoded - decoded[0]) @ self.matrix.T


def fit_gain(decoded, true_xy, t, fit_seconds: float = 60.0, linear: bool = False) -> Readout:
    """Fit the sheet-to-arena map on the samples with ``t - t[0] <
    fit_seconds``: a least-squares similarity (gain in m per neuron,
    rotation, mirror if it fits better) from the decoded displacement
    (T, 2) neurons to the true displacement since the first sample (T, 2)
    metres. Later samples are not used: the map is then held.

    linear: fit a general 2x2 linear map instead (for a sheet whose gain
    differs between directions); ``gain`` is then the square root of its
    determinant's magnitude and ``rotation``, ``mirrored`` those of its
    nearest orthogonal map."""
    decoded = np.asarray(decoded, dtype=float)
    true_xy = np.asarray(true_xy, dtype=float)
    t = np.asarray(t, dtype=float)
    if decoded.ndim != 2 or decoded.shape[1] != 2 or true_xy.shape != decoded.shape or t.shape != decoded[:, 0].shape:
        raise ModelError(f"fit_gain: decoded (T, 2), true_xy (T, 2) and t (T,) must agree, got shapes "
                         f"{decoded.shape}, {true_xy.shape} and {t.shape}")
    for what, values in (("decoded", decoded), ("true_xy", true_xy), ("t", t)):
        if not np.all(np.isfinite(values)):
            raise ModelError(f"fit_gain: {what} holds NaN or inf")
    if not (np.isfinite(fit_seconds) and fit_seconds > 0):
        raise ModelError(f"fit_gain: fit_seconds must be > 0, got {fit_seconds!r}")
    window = t - t[0] < fit_seconds
    x = decoded[window] - decoded[0]
    y = true_xy[window] - true_xy[0]
    if window.sum() < 3 or np.linalg.norm(x) == 0 or np.linalg.norm(y) == 0:
        raise ModelError(f"fit_gain: the first {fit_seconds} s ({int(window.sum())} samples) hold no movement "
                         "of the pattern or of the animal to fit a gain on")
    if linear:
        if np.linalg.matrix_rank(x) < 2:
            raise ModelError(f"fit_gain: the pattern moved along one line only in the first {fit_seconds} s: "
                             "a general linear map cannot be fitted")
        matrix = np.linalg.lstsq(x, y, rcond=None)[0].T        # y ~ x @ matrix.T
        u, _, vt = np.linalg.svd(matrix)
        q = (u @ vt).T
        gain = float(np.sqrt(abs(np.linalg.det(matrix))))
    else:
        # orthogonal Procrustes with a scale: y ~ gain * x @ Q
        u, sigma, vt = np.linalg.svd(x.T @ y)
        q = u @ vt
        gain = float(sigma.sum() / np.sum(x * x))
        matrix = gain * q.T
    mirrored = bool(np.linalg.det(q) < 0)
    proper = q.T @ np.diag([1.0, -1.0]) if mirrored else q.T
    rotation = float(np.arctan2(proper[1, 0], proper[0, 0]))
    return Readout(gain, rotation, mirrored, true_xy[0].copy(), matrix)


def position_error(decoded_xy, true_xy) -> np.ndarray:
    """(T,) distance in metres between decoded and true positions (T, 2)."""
    decoded_xy = np.asarray(decoded_xy, dtype=float)
    true_xy = np.asarray(true_xy, dtype=float)
    if decoded_xy.ndim != 2 or decoded_xy.shape[1] != 2 or decoded_xy.shape != true_xy.shape:
        raise ModelError(f"position_error: decoded_xy and true_xy must both be (T, 2), got shapes "
                         f"{decoded_xy.shape} and {true_xy.shape}")
    return np.linalg.norm(decoded_xy - true_xy, axis=1)


def _phases(frames, k) -> np.ndarray:
    """(T, 3) phases of frames (T, n_y, n_x) at wave vectors k (3, 2)."""
    ny, nx = frames.shape[1:]
    waves_x = np.exp(-1j * np.outer(k[:, 0], np.arange(nx)))        # (3, nx)
    waves_y = np.exp(-1j * np.outer(k[:, 1], np.arange(ny)))        # (3, ny)
    # sum over y and x of s[y, x] exp(-i (kx x + ky y)): over x first, then y
    along_x = frames @ waves_x.T                                        # (T, ny, 3)
    return np.angle(np.einsum("tyj,jy->tj", along_x, waves_y))


def _frame(sheet, where) -> np.ndarray:
    sheet = np.asarray(sheet, dtype=float)
    if sheet.ndim != 2 or min(sheet.shape) < 4:
        raise ModelError(f"{where}: expected one sheet (n_y, n_x) of 4 x 4 or more, got shape {sheet.shape}")
    if not np.all(np.isfinite(sheet)):
        raise ModelError(f"{where}: the sheet holds NaN or inf")
    return sheet


def _frames(activities, where) -> np.ndarray:
    activities = np.asarray(activities, dtype=float)
    if activities.ndim != 3 or len(activities) == 0 or min(activities.shape[1:]) < 4:
        raise ModelError(f"{where}: expected activities (T, n_y, n_x) with T >= 1 and a sheet of 4 x 4 or "
                         f"more, got shape {activities.shape}")
    if not np.all(np.isfinite(activities)):
        frame = int(np.flatnonzero(~np.isfinite(activities).reshape(len(activities), -1).all(axis=1))[0])
        raise ModelError(f"{where}: activities hold NaN or inf (first in frame {frame})")
    return activities


def _vectors(wave_vectors) -> np.ndarray:
    k = np.asarray(wave_vectors, dtype=float)
    if k.ndim != 2 or k.shape[1] != 2 or len(k) < 2 or not np.all(np.isfinite(k)):
        raise ModelError(f"wave_vectors must be (m, 2) with m >= 2 finite (kx, ky) rows, got shape {k.shape}")
    if np.linalg.matrix_rank(k) < 2:
        raise ModelError("wave_vectors are parallel: they cannot locate the pattern in two dimensions")
    return k
