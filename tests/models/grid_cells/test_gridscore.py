"""Rate maps, autocorrelograms and grid scores on patterns whose answer is known:
analytic hexagonal and square patterns, and ratinabox's grid and place cells
sampled along the recorded Sargolini path."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.gridscore import autocorrelogram, grid_score, grid_scores, rate_map
from spikemem.models.grid_cells.trajectory import sargolini

BINS = 20
Y, X = np.mgrid[0:BINS, 0:BINS] + 0.5


def hexagonal(period, orientation=0.3, phase=(0.0, 0.0)):
    """Three plane waves 60 degrees apart: a hexagonal grid of `period` bins."""
    k = 2 * np.pi / period * 2 / np.sqrt(3)
    return sum(np.cos(k * (np.cos(a) * (X - phase[0]) + np.sin(a) * (Y - phase[1])))
               for a in orientation + np.arange(3) * np.pi / 3)


def square(period):
    return np.cos(2 * np.pi * X / period) + np.cos(2 * np.pi * Y / period)


@pytest.mark.parametrize("period", [4, 6, 9])
def test_a_hexagonal_pattern_scores_high_and_a_square_one_low(period):
    assert grid_score(hexagonal(period)) > 1.0
    assert grid_score(square(period)) < 0.0


def test_a_single_field_and_noise_score_low():
    field = np.exp(-((X - 10) ** 2 + (Y - 8) ** 2) / 8)
    assert abs(grid_score(field)) < 0.3
    noise = np.random.default_rng(0).random((40, BINS, BINS))
    assert np.median(grid_scores(noise)) < 0.2


def test_the_score_survives_unvisited_bins():
    pattern = hexagonal(6)
    pattern[3:8, 3:8] = np.nan
    assert grid_score(pattern) > 1.0


def test_a_constant_map_has_no_score():
    assert np.isnan(grid_score(np.ones((BINS, BINS))))


def test_the_batch_matches_one_at_a_time():
    maps = np.stack([hexagonal(5), square(5), hexagonal(8, orientation=1.0)])
    np.testing.assert_allclose(grid_scores(maps), [grid_score(m) for m in maps])


def test_the_autocorrelogram_is_one_at_zero_lag_and_symmetric():
    rng = np.random.default_rng(1)
    m = rng.random((7, 9))
    m[2, 3] = np.nan
    sac = autocorrelogram(m)
    assert sac.shape == (13, 17)
    assert sac[6, 8] == pytest.approx(1.0)
    np.testing.assert_allclose(sac, sac[::-1, ::-1], atol=1e-9)


def test_the_autocorrelogram_is_pearson_over_the_overlap():
    rng = np.random.default_rng(2)
    m = rng.random((6, 6))
    m[0, 1] = np.nan
    sac = autocorrelogram(m)
    dy, dx = 1, 2
    a, b = m[:6 - dy, :6 - dx], m[dy:, dx:]
    both = np.isfinite(a) & np.isfinite(b)
    expected = np.corrcoef(a[both], b[both])[0, 1]
    assert sac[5 + dy, 5 + dx] == pytest.approx(expected)


def test_rate_map_averages_per_bin_and_marks_unvisited_bins():
    positions = np.array([[0.05, 0.05], [0.06, 0.04], [0.95, 0.15], [1.01, 0.15]])   # the last just outside
    values = np.array([1.0, 3.0, 5.0, 7.0])
    m = rate_map(positions, values, (1.0, 1.0), bins=10)
    assert m[0, 0] == 2.0
    assert m[1, 9] == 6.0
    assert np.isnan(m).sum() == 98
    both = rate_map(positions, np.stack([values, -values], axis=1), (1.0, 1.0), bins=10)
    assert both.shape == (2, 10, 10)
    np.testing.assert_array_equal(both[1], -m)


@pytest.mark.parametrize("call, match", [
    (lambda: rate_map(np.zeros((5, 3)), np.zeros(5), (1, 1)), "positions"),
    (lambda: rate_map(np.zeros((5, 2)), np.zeros(4), (1, 1)), "values"),
    (lambda: rate_map(np.zeros((5, 2)), np.zeros(5), (1, -1)), "box"),
    (lambda: rate_map(np.zeros((5, 2)), np.zeros(5), (1, 1), bins=1), "bins"),
    (lambda: rate_map(np.full((5, 2), np.nan), np.zeros(5), (1, 1)), "sample 0"),
    (lambda: grid_scores(np.zeros((3, 20, 10))), "square"),
    (lambda: grid_score(np.zeros((3, 20, 20))), "grid_scores"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ModelError, match=match):
        call()


def test_ratinabox_grid_cells_score_high_and_place_cells_low():
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment
    from ratinabox.Neurons import GridCells, PlaceCells

    np.random.seed(0)                       # ratinabox draws phases and centres from numpy's global generator
    agent = Agent(Environment({"scale": 1.0}))
    grid = GridCells(agent, {"n": 9, "gridscale": (0.3, 0.4, 0.5), "gridscale_distribution": "modules"})
    place = PlaceCells(agent, {"n": 9, "widths": 0.1})
    positions = sargolini().xy
    grid_maps = rate_map(positions, grid.get_state(evaluate_at=None, pos=positions).T, (1.0, 1.0))
    place_maps = rate_map(positions, place.get_state(evaluate_at=None, pos=positions).T, (1.0, 1.0))
    assert np.all(grid_scores(grid_maps) > 0.5)
    assert np.all(grid_scores(place_maps) < 0.2)
