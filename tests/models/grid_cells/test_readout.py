"""The phase readout on synthetic hexagonal patterns moved along known paths,
and the sheet-to-arena map fitted on the first minute."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.readout import (Readout, decode, displacement, find_wave_vectors, fit_gain,
                                                pattern_phase, position_error, unwrap)

N = 64
Y, X = np.mgrid[0:N, 0:N]
# a hexagon that closes on the 64 x 64 torus (periods 16 and 17.7 neurons), as a periodic network's lattice does
ON_GRID = 2 * np.pi / N * np.array([[3.0, 2.0], [-3.0, 2.0], [0.0, 4.0]])


def hexagon(period, orientation=0.2):
    k = 2 * np.pi / period * 2 / np.sqrt(3)
    return k * np.array([[np.cos(a), np.sin(a)] for a in orientation + np.arange(3) * np.pi / 3])


def pattern(waves, d, rectify=True):
    s = sum(np.cos(kx * (X - d[0]) + ky * (Y - d[1])) for kx, ky in waves)
    return np.maximum(s, 0) if rectify else s


def walk(steps=300, scale=1.5, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    moves = rng.normal(0, scale, (steps, 2))
    moves = np.round(moves) if integer else moves
    return np.vstack([[0.0, 0.0], np.cumsum(moves, axis=0)])


def same_directions(found, expected, tol=1e-9):
    """Wave vectors equal up to order and sign."""
    return all(min(np.abs(k - sign * v).max() for v in expected for sign in (1, -1)) < tol for k in found)


def test_the_three_wave_vectors_are_found_on_the_grid():
    assert same_directions(find_wave_vectors(pattern(ON_GRID, (0, 0))), ON_GRID)
    assert same_directions(find_wave_vectors(pattern(ON_GRID, (0, 0)), lam=16), ON_GRID)


@pytest.mark.parametrize("integer", [True, False])
def test_a_periodic_pattern_decodes_its_path_exactly(integer):
    path = walk(integer=integer)
    assert np.ptp(path, axis=0).max() > 3 * 16          # many periods: the phases wrap many times
    frames = np.stack([pattern(ON_GRID, d, rectify=False) for d in path])
    np.testing.assert_allclose(decode(frames), path, atol=1e-8)


def test_a_rectified_pattern_decodes_to_a_hundredth_of_a_neuron():
    path = walk(seed=1)
    frames = np.stack([pattern(ON_GRID, d) for d in path])
    assert np.abs(decode(frames) - path).max() < 0.02


def test_a_pattern_that_does_not_close_on_the_sheet_decodes_with_refined_wave_vectors():
    waves = hexagon(13.3)
    path = walk(steps=200, scale=1.0, seed=2)
    frames = np.stack([pattern(waves, d) for d in path])
    found = find_wave_vectors(frames[0], lam=13, periodic=False)
    assert same_directions(found, waves, tol=0.01)
    assert np.linalg.norm(decode(frames, periodic=False) - path, axis=1).max() < 0.1


def test_phases_read_block_by_block_give_the_same_path():
    path = walk(steps=100, seed=6)
    frames = np.stack([pattern(ON_GRID, d) for d in path])
    phases = np.concatenate([pattern_phase(block, ON_GRID) for block in np.array_split(frames, 4)])
    assert phases.shape == (101, 3)
    np.testing.assert_allclose(displacement(phases, ON_GRID), decode(frames, ON_GRID), atol=1e-12)


def test_noise_costs_little():
    path = walk(seed=3)
    rng = np.random.default_rng(4)
    frames = np.stack([pattern(ON_GRID, d) + 0.3 * rng.random((N, N)) for d in path])
    assert np.abs(decode(frames, ON_GRID) - path).max() < 0.2


def test_phase_turns_by_minus_k_dot_d_and_unwraps():
    d = np.array([2.5, -1.25])
    turn = (pattern_phase(pattern(ON_GRID, d, rectify=False), ON_GRID)
            - pattern_phase(pattern(ON_GRID, (0, 0), rectify=False), ON_GRID))
    np.testing.assert_allclose(np.angle(np.exp(1j * turn)), np.angle(np.exp(-1j * ON_GRID @ d)), atol=1e-9)
    ramp = np.linspace(0, 40 * np.pi, 500)[:, None] * [1.0, -0.5]
    np.testing.assert_allclose(unwrap(np.angle(np.exp(1j * ramp))), ramp, atol=1e-9)


def arena_walk(seconds=180.0, dt=0.02, seed=5):
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, dt)
    xy = 0.5 + np.cumsum(rng.normal(0, 0.004, (len(t), 2)), axis=0)
    return t, xy


@pytest.mark.parametrize("mirrored", [False, True])
def test_fit_gain_recovers_the_gain_rotation_and_mirror(mirrored):
    t, xy = arena_walk()
    gain, rotation = 0.021, 2.0                                   # m per neuron, radians
    c, s = np.cos(rotation), np.sin(rotation)
    matrix = gain * np.array([[c, -s], [s, c]]) @ (np.diag([1.0, -1.0]) if mirrored else np.eye(2))
    decoded = (xy - xy[0]) @ np.linalg.inv(matrix).T + np.random.default_rng(6).normal(0, 0.05, xy.shape)
    readout = fit_gain(decoded, xy, t)
    assert isinstance(readout, Readout)
    assert readout.gain == pytest.approx(gain, rel=0.01)
    assert readout.rotation == pytest.approx(rotation, abs=0.01)
    assert readout.mirrored is mirrored
    error = position_error(readout.position(decoded), xy)
    assert error.shape == t.shape and error.max() < 0.01


def test_the_gain_is_held_after_the_fit_window():
    t, xy = arena_walk()
    decoded = (xy - xy[0]) / 0.02
    late = t >= 60
    drifted = decoded.copy()
    drifted[late] *= 1.5                                          # a network that loses its gain after a minute
    readout = fit_gain(drifted, xy, t, fit_seconds=60)
    assert readout.gain == pytest.approx(0.02)
    assert position_error(readout.position(drifted), xy)[late].max() > 0.01


@pytest.mark.parametrize("call, match", [
    (lambda: find_wave_vectors(np.ones((N, N))), "no pattern"),
    (lambda: find_wave_vectors(np.cos(2 * np.pi * X / 16)), "not hexagonal"),
    (lambda: find_wave_vectors(np.zeros(5)), "one sheet"),
    (lambda: decode(np.zeros((3, N))), "activities"),
    (lambda: decode(np.full((2, N, N), np.nan)), "frame 0"),
    (lambda: pattern_phase(np.ones((N, N)), [[1.0, 0.0], [2.0, 0.0]]), "parallel"),
    (lambda: displacement(np.zeros((5, 2)), ON_GRID), "one column per wave vector"),
    (lambda: fit_gain(np.zeros((10, 2)), np.zeros((10, 2)), np.arange(10.0)), "no movement"),
    (lambda: fit_gain(np.zeros((10, 2)), np.zeros((9, 2)), np.arange(10.0)), "must agree"),
    (lambda: position_error(np.zeros((3, 2)), np.zeros((4, 2))), "both be"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ModelError, match=match):
        call()


def test_a_linear_fit_recovers_an_anisotropic_map_the_similarity_cannot():
    t, xy = arena_walk()
    matrix = np.array([[0.03, 0.004], [-0.002, -0.012]])           # different gains along x and y, mirrored
    decoded = (xy - xy[0]) @ np.linalg.inv(matrix).T
    linear = fit_gain(decoded, xy, t, linear=True)
    np.testing.assert_allclose(linear.matrix, matrix, rtol=1e-6, atol=1e-9)
    assert linear.gain == pytest.approx(np.sqrt(abs(np.linalg.det(matrix))))
    assert linear.mirrored is True
    assert position_error(linear.position(decoded), xy).max() < 1e-9
    assert position_error(fit_gain(decoded, xy, t).position(decoded), xy).max() > 0.01


def test_a_linear_fit_refuses_movement_along_one_line():
    t = np.arange(0, 10, 0.02)
    xy = np.column_stack([t / 10, np.zeros_like(t)])
    with pytest.raises(ModelError, match="one line"):
        fit_gain(xy / 0.02, xy, t, linear=True)
