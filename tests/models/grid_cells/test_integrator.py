"""Path integration: the pattern forms, follows the recorded path, and the
readout keeps a few numbers per frame."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.integrator import PathIntegrator
from spikemem.models.grid_cells.network import Parameters
from spikemem.models.grid_cells.trajectory import Trajectory, sargolini

P = Parameters(n=32)


@pytest.fixture(scope="module")
def run():
    path = sargolini().resample(0.02).slice(0, 8.0)
    return PathIntegrator(P).run(path, every=0.02, fit_seconds=4.0, units=9)


def test_the_decoded_path_follows_the_rat(run):
    travelled = np.linalg.norm(np.diff(run.true_xy, axis=0), axis=1).sum()
    assert travelled > 0.5                                  # the rat moved far more than the error
    assert run.error.mean() < 0.05 and run.error[-1] < 0.1
    assert 0.005 < run.fit.gain < 0.1                       # metres per neuron of the sheet


def test_without_the_velocity_input_the_pattern_does_not_follow(run):
    still = Parameters(n=32, alpha=1e-9)
    path = sargolini().resample(0.02).slice(0, 8.0)
    unmoved = PathIntegrator(still).run(path, fit_seconds=4.0, units=1)
    assert np.abs(unmoved.displacement).max() < 0.1 * np.abs(run.displacement).max()


def test_only_a_few_numbers_per_frame_are_kept(run):
    frames = len(run.t)
    assert frames == 400 and run.units.shape == (frames, 9)
    assert run.displacement.shape == run.position.shape == (frames, 2)
    assert set(run.snapshots) == {"formed", "end"} and run.snapshots["end"].shape == (32, 32)
    assert run.timings["s_per_simulated_s"] > 0


def test_frames_must_be_whole_steps():
    path = Trajectory(np.arange(10) * 0.1, np.full((10, 2), 0.5), (1, 1))
    with pytest.raises(ModelError, match="every must be a whole number of time steps"):
        PathIntegrator(P).run(path, every=0.0123)
