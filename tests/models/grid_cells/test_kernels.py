"""The Burak-Fiete weights as kernels: they equal the paper's weight matrix,
form a hexagonal lattice when strong enough, and move it with the velocity
input along the velocity."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.kernels import (DIRECTIONS, direction_classes, envelope, growth_factor,
                                                kernel_radius, preferred_vectors, recurrent_kernels,
                                                truncation_error, w0)
from spikemem.models.grid_cells.readout import decode, find_wave_vectors


def test_directions_tile_the_sheet_in_2x2_blocks():
    classes = direction_classes(6)
    for y in range(0, 6, 2):
        for x in range(0, 6, 2):
            assert sorted(classes[y:y + 2, x:x + 2].ravel()) == [0, 1, 2, 3]
    ex, ey = preferred_vectors(6)
    names = np.array(DIRECTIONS)[classes.ravel()]
    assert np.all(ey[names == "N"] == 1) and np.all(ey[names == "S"] == -1)
    assert np.all(ex[names == "E"] == 1) and np.all(ex[names == "W"] == -1)
    assert np.all(ex ** 2 + ey ** 2 == 1)
    assert ex[1 * 6 + 0] == ex.reshape(6, 6)[1, 0]          # id = y*n + x


def test_w0_is_the_difference_of_gaussians():
    beta = 3 / 13 ** 2
    assert w0(0, 0) == pytest.approx(0.0)
    assert w0(3, 4) == pytest.approx(np.exp(-1.05 * beta * 25) - np.exp(-beta * 25))
    assert w0(3, 4, a=2) > 0


def convolve(kernels, s, periodic):
    """The Convolution connector's meaning, tap by tap: onto (y, x) from (y - dy, x - dx)."""
    n = len(s)
    classes = direction_classes(n)
    r = (kernels.shape[1] - 1) // 2
    out = np.zeros_like(s)
    for c in range(4):
        source = np.where(classes == c, s, 0.0)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                shifted = np.roll(source, (dy, dx), axis=(0, 1))
                if not periodic:                            # sources off the sheet do not exist
                    shifted = np.pad(source, r)[r - dy:r - dy + n, r - dx:r - dx + n]
                out += kernels[c, r + dy, r + dx] * shifted
    return out


def weight_matrix(n, periodic, radius):
    """W_ij = W0(x_i - x_j - l e_j), the paper's definition."""
    y, x = np.divmod(np.arange(n * n), n)
    ex, ey = preferred_vectors(n)
    dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
    if periodic:                                            # the nearest image on the torus
        dx, dy = (dx + n // 2) % n - n // 2, (dy + n // 2) % n - n // 2
    w = w0(dx - 2 * ex[None, :], dy - 2 * ey[None, :])
    return np.where((np.abs(dx) <= radius) & (np.abs(dy) <= radius), w, 0.0)


@pytest.mark.parametrize("boundary", ["periodic", "aperiodic"])
def test_the_kernels_are_the_papers_weight_matrix(boundary):
    n, periodic = 28, boundary == "periodic"
    kernels = recurrent_kernels(n, boundary=boundary)
    radius = (kernels.shape[1] - 1) // 2
    assert radius == 13                                      # capped by what the sheet holds
    s = np.random.default_rng(0).random((n, n))
    expected = weight_matrix(n, periodic, radius) @ s.ravel()
    np.testing.assert_allclose(convolve(kernels, s, periodic).ravel(), expected, atol=1e-12)


def test_the_default_radius_cuts_at_the_tolerance():
    radius = kernel_radius()
    assert truncation_error(radius) <= 1e-5 < truncation_error(radius - 1)
    assert recurrent_kernels(128).shape == (4, 2 * radius + 1, 2 * radius + 1)
    k = recurrent_kernels(128, radius=40)
    # the E kernel's inhibition is centred l = 2 to the east: K[E][r, r + 2] is W0(0) = 0
    east = DIRECTIONS.index("E")
    assert k[east, 40, 42] == pytest.approx(0.0) and k[east, 40, 40] < 0
    np.testing.assert_allclose(k[DIRECTIONS.index("N")], k[east].T)


def test_the_envelope_is_flat_on_a_torus_and_fades_at_free_edges():
    assert np.all(envelope(16, "periodic") == 1) and np.all(envelope(16, True) == 1)
    a = envelope(64, "aperiodic", dr=16).reshape(64, 64)
    centre = 31.5
    y, x = np.mgrid[0:64, 0:64]
    dist = np.hypot(x - centre, y - centre)
    assert np.all(a[dist <= 16] == 1)
    assert a[32, 0] == pytest.approx(np.exp(-4 * ((dist[32, 0] - 32 + 16) / 16) ** 2))
    np.testing.assert_allclose(envelope(64, False).reshape(64, 64), np.exp(-4 * dist ** 2 / 32 ** 2))


def test_growth_factor_says_when_a_lattice_forms_and_its_period():
    kernels = recurrent_kernels(128)
    factor, period = growth_factor(kernels, 128)
    assert 0.9 < factor < 1                                 # the paper's a = 1 with a slope-1 ReLU: stable
    assert growth_factor(2 * kernels, 128)[0] == pytest.approx(2 * factor)
    assert period == pytest.approx(1.27 * 13, rel=0.05)


def simulate(kernels, s, velocity, steps, alpha=0.10315, tau=0.01, dt=0.0005):
    """The rate network tau ds/dt = -s + relu(W s + 1 + alpha e.v) on a torus, by FFT."""
    n = len(s)
    classes = direction_classes(n)
    ex, ey = (v.reshape(n, n) for v in preferred_vectors(n))
    r = (kernels.shape[1] - 1) // 2
    offsets = np.arange(-r, r + 1) % n
    spectra = []
    for kernel in kernels:
        torus = np.zeros((n, n))
        np.add.at(torus, (offsets[:, None], offsets[None, :]), kernel)
        spectra.append(np.fft.rfft2(torus))
    drive = 1 + alpha * (ex * velocity[0] + ey * velocity[1])
    frames = []
    for _ in range(steps):
        recurrent = sum(np.fft.irfft2(np.fft.rfft2(np.where(classes == c, s, 0)) * f, (n, n))
                        for c, f in enumerate(spectra))
        s = s + dt / tau * (-s + np.maximum(recurrent + drive, 0))
        frames.append(s)
    return np.array(frames)


def test_a_strong_enough_kernel_forms_a_lattice_that_moves_with_the_velocity():
    n = 48
    kernels = recurrent_kernels(n)
    noise = 1e-3 * np.random.default_rng(0).random((n, n))
    weak = simulate(kernels, noise, (0, 0), 1000)[-1]
    assert np.ptp(weak) < 1e-3 * weak.mean()               # no pattern
    sheet = simulate(5 * kernels, noise, (0, 0), 1000)[-1]
    assert np.ptp(sheet) > sheet.mean()                     # a lattice, found by the readout
    waves = find_wave_vectors(sheet)
    moved = {}
    for v in [(0.5, 0), (0, 0.5), (-0.5, 0), (0, -0.25)]:
        moved[v] = decode(simulate(5 * kernels, sheet, v, 600)[::10], waves)[-1]
    rate = moved[(0.5, 0)][0]
    assert rate > 3                                         # neurons in 0.3 s, along +x for velocity +x
    for v, d in moved.items():
        # the same gain in every direction: the four classes are consistent
        np.testing.assert_allclose(d, np.array(v) / 0.5 * rate, atol=0.1 * rate)


@pytest.mark.parametrize("call, match", [
    (lambda: direction_classes(7), "even"),
    (lambda: recurrent_kernels(20), "too small"),
    (lambda: recurrent_kernels(64, boundary="toroidal"), "boundary"),
    (lambda: recurrent_kernels(64, radius=32), "larger than the periodic sheet"),
    (lambda: recurrent_kernels(64, radius=64, boundary="aperiodic"), "larger than the aperiodic sheet"),
    (lambda: recurrent_kernels(64, radius=2), "exceed the shift"),
    (lambda: recurrent_kernels(64, lam=-1), "lam"),
    (lambda: recurrent_kernels(64, gamma_ratio=0.9), "gamma_ratio"),
    (lambda: envelope(64, "open"), "boundary"),
    (lambda: envelope(64, "aperiodic", dr=40), "dr"),
    (lambda: growth_factor(np.zeros((4, 6, 6)), 64), "k odd"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ModelError, match=match):
        call()
