"""The RNN path integrator: place code, decoder, random walk, training, decoding
along paths, rate maps, checkpoints and bad input."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells import rnn
from spikemem.models.grid_cells.rnn import (
    PathIntegrator, Settings, decode_positions, decoding_error, place_code, random_walk, rate_maps,
    train_path_integrator, unit_activity, unit_grid_scores)

# 32 place cells in a 0.6 m box lie about as densely as Sorscher's 512 in 2.2 m
SMALL = Settings(n_units=64, n_place=32, box=0.6, batch=50, steps=200, learning_rate=1e-2)


@pytest.fixture(scope="module")
def trained():
    return train_path_integrator(SMALL, seed=1)


def held_out(n=100, steps=20, seed=99):
    return random_walk(n, steps, SMALL.box, np.random.default_rng(seed))


def mean_error(model, paths):
    return np.linalg.norm(model.run(paths)[1] - paths[:, 1:], axis=-1).mean()


def test_place_code_is_a_distribution_peaking_at_the_nearest_centre(rng):
    centres = rng.uniform(-1, 1, (50, 2))
    points = rng.uniform(-1, 1, (7, 3, 2))
    code = place_code(points, centres, 0.12, 2.0)
    assert code.shape == (7, 3, 50)
    assert np.all(code >= 0) and np.allclose(code.sum(-1), 1)
    nearest = np.linalg.norm(points[..., None, :] - centres, axis=-1).argmin(-1)
    assert np.array_equal(code.argmax(-1), nearest)
    gaussian = place_code(points, centres, 0.12, None)
    assert np.allclose(gaussian.sum(-1), 1) and np.array_equal(gaussian.argmax(-1), nearest)
    assert np.all(gaussian.max(-1) > code.max(-1))      # the surround's shift spreads the distribution


def test_decoder_averages_the_top_k_centres(rng):
    centres = rng.uniform(-1, 1, (10, 2))
    activity = np.zeros((2, 10))
    activity[0, [2, 5, 7]] = [3, 2, 1]
    activity[1, 4] = 1
    assert np.allclose(decode_positions(activity, centres, 3)[0], centres[[2, 5, 7]].mean(0))
    assert np.allclose(decode_positions(activity, centres, 1)[1], centres[4])


def test_random_walk_speeds_and_walls():
    walk = random_walk(20, 200, 20.0, np.random.default_rng(0))        # a box too big for the walls to matter
    assert walk.shape == (20, 201, 2)
    speed = np.linalg.norm(np.diff(walk, axis=1), axis=-1) / 0.02
    assert speed.mean() == pytest.approx(rnn.SPEED_SCALE * np.sqrt(np.pi / 2), rel=0.05)   # Rayleigh's mean
    boxed = random_walk(50, 1000, 2.2, np.random.default_rng(0))
    past = np.abs(boxed).max(-1) - 1.1                  # the walls turn the animal after its step: it may overshoot
    assert (past > 0).mean() < 0.02 and past.max() < 0.1
    assert np.array_equal(boxed, random_walk(50, 1000, 2.2, np.random.default_rng(0)))


def test_training_lowers_the_loss_and_the_decoding_error(trained):
    assert trained.losses.shape == trained.errors.shape == (SMALL.steps,)
    assert trained.losses[-20:].mean() < trained.losses[:20].mean() - 0.05
    paths = held_out()
    untrained = PathIntegrator(SMALL, seed=1)
    assert mean_error(trained, paths) < 0.75 * mean_error(untrained, paths)


def test_run_shapes(trained):
    hidden, decoded = trained.run(held_out(n=3, steps=7))
    assert hidden.shape == (3, 7, SMALL.n_units) and decoded.shape == (3, 7, 2)
    hidden, decoded = trained.run(held_out(n=1, steps=5)[0])
    assert hidden.shape == (5, SMALL.n_units) and decoded.shape == (5, 2)
    if SMALL.activation == "relu":
        assert hidden.min() >= 0


def test_decoding_error_along_a_long_path_in_another_frame_and_rate(trained):
    path = held_out(n=1, steps=300)[0]
    error = decoding_error(trained, path, dt=0.02)                     # centred on the middle of its extent
    assert error.shape == (300,) and np.all(error >= 0)
    corner = path + 0.3                                          # the box's corner at (0, 0), sampled every 10 ms
    t = np.arange(301) * 0.02
    fine = np.stack([np.interp(np.arange(0, t[-1] + 1e-9, 0.01), t, corner[:, i]) for i in range(2)], -1)
    again = decoding_error(trained, fine, dt=0.01, origin=(0.3, 0.3))
    assert np.allclose(again, decoding_error(trained, path, dt=0.02, origin=(0, 0)), atol=1e-5)

    class Recorded:                                              # anything with xy, t and its box
        xy, t, box = corner, np.arange(301) * 0.02, (0.6, 0.6)
    assert np.allclose(decoding_error(trained, Recorded), again, atol=1e-5)
    Recorded.xy, Recorded.t = np.delete(corner, np.s_[100:110], 0), np.delete(Recorded.t, np.s_[100:110])
    bridged = decoding_error(trained, Recorded)                  # a gap in the recording, bridged linearly
    assert bridged.shape == (300,) and np.allclose(bridged[:99], again[:99], atol=1e-5)
    positions, activity = unit_activity(trained, corner, dt=0.02, origin=(0.3, 0.3))
    assert positions.shape == (300, 2) and activity.shape == (300, SMALL.n_units)


def test_rate_maps_cover_where_the_paths_went(trained):
    paths = held_out(n=200, steps=20)
    maps = rate_maps(trained, paths, bins=10)
    assert maps.shape == (SMALL.n_units, 10, 10)
    assert np.isfinite(maps[0]).mean() > 0.9
    corner = paths[:, :, :] * 0.2 - 0.2                          # a walk squeezed into one corner of the box
    assert np.isnan(rate_maps(trained, corner, bins=10)[0, -1, -1])
    scores = unit_grid_scores(trained, paths, bins=10)
    assert scores.shape == (SMALL.n_units,)
    active = np.nanstd(maps, axis=(1, 2)) > 0
    assert np.isfinite(scores[active]).all() and np.isnan(scores[~active]).all()


def test_checkpoint_round_trip_and_another_size(trained, tmp_path):
    path = tmp_path / "rnn.npz"
    trained.save(path)
    paths = held_out(n=4)
    copy = PathIntegrator(SMALL, seed=5).load(path)
    assert np.array_equal(copy.run(paths)[0], trained.run(paths)[0])
    assert np.array_equal(copy.centres, trained.centres) and np.array_equal(copy.losses, trained.losses)
    restored = PathIntegrator.from_file(path)
    assert restored.settings == SMALL and np.array_equal(restored.run(paths)[1], trained.run(paths)[1])
    with pytest.raises(ModelError, match="n_units = 64.*n_units = 32"):
        PathIntegrator(Settings(n_units=32, n_place=32), seed=1).load(path)
    with pytest.raises(ModelError, match="n_place = 32.*n_place = 16"):
        PathIntegrator(Settings(n_units=64, n_place=16), seed=1).load(path)
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="junk.npz"):
        PathIntegrator(SMALL, seed=1).load(tmp_path / "junk.npz")


def test_training_is_deterministic_per_seed():
    quick = Settings(n_units=16, n_place=8, box=0.4, batch=8, steps=5)
    a, b, c = (train_path_integrator(quick, seed=s, device="cpu") for s in (3, 3, 4))
    assert np.array_equal(a.losses, b.losses)
    for (name, wa), wb in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert (wa == wb).all(), name
    assert not np.array_equal(a.losses, c.losses)


@pytest.mark.parametrize("field, value", [
    ("n_units", 0), ("n_place", 2.5), ("steps", True), ("place_width", -0.1), ("box", float("nan")),
    ("surround_scale", 1.0), ("weight_decay", -1e-4), ("learning_rate", 0), ("activation", "sigmoid"),
    ("top_k", 600), ("dt", "0.02")])
def test_bad_settings_are_named(field, value):
    with pytest.raises(ModelError, match=field):
        Settings(**{field: value})


class Trajectoryish:
    xy, t = np.zeros((5, 2)), np.array([0, 0.02, 0.01, 0.03, 0.04])


def test_bad_input_is_refused(trained):
    with pytest.raises(ModelError, match="positions"):
        trained.run(np.zeros((5, 3)))
    with pytest.raises(ModelError, match="finite"):
        trained.run(np.full((5, 2), np.nan))
    with pytest.raises(ModelError, match="box"):
        trained.run(np.full((5, 2), 10.0))
    with pytest.raises(ModelError, match="dt"):
        decoding_error(trained, np.zeros((5, 2)))
    with pytest.raises(ModelError, match="times"):
        decoding_error(trained, Trajectoryish())
    with pytest.raises(ModelError, match="seed"):
        PathIntegrator(SMALL, seed=-1)
    with pytest.raises(ModelError, match="nonsense"):
        PathIntegrator(SMALL, seed=1, device="nonsense")
