"""Trajectories: the recordings shipped with ratinabox, random motion, user
files, and the checks that catch NaN, disordered time, gaps and centimetres."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.grid_cells.trajectory import (Trajectory, load_trajectory, random_trajectory, sargolini,
                                                   tanni)


def circle(steps=201, dt=0.01, radius=0.3):
    t = np.arange(steps) * dt
    return Trajectory(t, np.column_stack([0.5 + radius * np.cos(t), 0.5 + radius * np.sin(t)]), (1.0, 1.0), "circle")


def test_sargolini_is_ten_minutes_at_50_hz_in_a_metre_box():
    path = sargolini()
    assert len(path) == 29800 and path.box == (1.0, 1.0)
    assert path.t[0] == 0.0 and path.duration == pytest.approx(599.64)
    assert path.dt == pytest.approx(0.02)
    assert path.xy.min() >= 0.0 and path.xy.max() <= 1.0
    assert len(path.gaps()) == 8
    assert 0.05 < np.median(path.speed()) < 0.3           # a foraging rat, in m/s


def test_tanni_is_two_hours_at_30_hz_in_a_large_box():
    path = tanni()
    assert len(path) == 219670 and path.box == (3.5, 2.5)
    assert path.duration == pytest.approx(7322.9, abs=0.01)
    assert path.dt == pytest.approx(1 / 30)
    assert np.ptp(path.xy[:, 0]) > 3.0 and np.ptp(path.xy[:, 1]) > 2.0


def test_velocity_held_piecewise_constant_integrates_back_to_the_path():
    path = sargolini().slice(0, 60)
    v = path.velocity()
    xy = path.xy[0] + np.vstack([[0, 0], np.cumsum(v[:-1] * np.diff(path.t)[:, None], axis=0)])
    np.testing.assert_allclose(xy, path.xy, atol=1e-12)


def test_resample_interpolates_onto_a_regular_grid():
    path = circle()
    fine = path.resample(0.0025)
    assert np.allclose(np.diff(fine.t), 0.0025)
    assert fine.t[-1] == pytest.approx(path.t[-1])
    np.testing.assert_allclose(fine.xy[::4], path.xy, atol=1e-12)
    # the velocity of a circle of radius 0.3 at 1 rad/s is 0.3 m/s, tangent
    np.testing.assert_allclose(fine.speed()[:-1], 0.3, rtol=1e-3)


def test_resample_bridges_the_recorded_gaps():
    path = sargolini().resample(0.02)
    assert len(path.gaps()) == 0
    assert path.check() is path


def test_slice_keeps_the_clock_and_from_zero_restarts_it():
    part = circle().slice(0.5, 1.0)
    assert part.t[0] == pytest.approx(0.5) and part.t[-1] < 1.0 and len(part) == 50
    assert part.from_zero().t[0] == 0.0
    assert part.duration == pytest.approx(0.49)


def test_random_trajectories_repeat_with_the_seed_and_stay_in_the_box():
    state = np.random.get_state()
    a = random_trajectory(10.0, 0.02, (2.0, 1.0), seed=4)
    b = random_trajectory(10.0, 0.02, (2.0, 1.0), seed=4)
    c = random_trajectory(10.0, 0.02, (2.0, 1.0), seed=5)
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert len(a) == 501 and a.t[-1] == pytest.approx(10.0)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert not np.array_equal(a.xy, c.xy)
    assert a.xy[:, 0].max() <= 2.0 and a.xy[:, 1].max() <= 1.0 and a.xy.min() >= 0.0
    assert 0.02 < a.speed().mean() < 0.5
    faster = random_trajectory(10.0, 0.02, (2.0, 1.0), seed=4, speed_mean=0.3)
    assert faster.speed().mean() > a.speed().mean()


def test_user_files_load_from_csv_and_npz(tmp_path):
    path = circle()
    with open(tmp_path / "walk.csv", "w") as f:
        f.write("time,x,y\n" + "".join(f"{t},{x},{y}\n" for t, (x, y) in zip(path.t, path.xy)))
    np.savez(tmp_path / "walk.npz", t=path.t, pos=path.xy)
    np.savez(tmp_path / "split.npz", t=path.t, x=path.xy[:, 0], y=path.xy[:, 1])
    np.savetxt(tmp_path / "bare.csv", np.column_stack([path.t, path.xy]), delimiter=",")
    for name in ("walk.csv", "walk.npz", "split.npz", "bare.csv"):
        loaded = load_trajectory(tmp_path / name, box=(1.0, 1.0))
        np.testing.assert_allclose(loaded.xy, path.xy)
        np.testing.assert_allclose(loaded.t, path.t)
    assert load_trajectory(tmp_path / "walk.csv").box == (0.8, 0.8)     # the extent, rounded up


def write(tmp_path, t, xy):
    np.savez(tmp_path / "bad.npz", t=t, pos=xy)
    return tmp_path / "bad.npz"


def test_bad_files_are_refused_naming_the_sample(tmp_path):
    path = circle()
    xy = path.xy.copy()
    xy[17] = np.nan
    with pytest.raises(ModelError, match="NaN or infinite at sample 17"):
        load_trajectory(write(tmp_path, path.t, xy))
    t = path.t.copy()
    t[30] = t[29]
    with pytest.raises(ModelError, match=r"time must increase, but t\[30\]"):
        load_trajectory(write(tmp_path, t, path.xy))
    t = path.t.copy()
    t[100:] += 1.0
    with pytest.raises(ModelError, match=r"gap of 1.01 s after t\[99\]"):
        load_trajectory(write(tmp_path, t, path.xy))
    assert len(load_trajectory(write(tmp_path, t, path.xy), max_gap=None)) == len(path)
    with pytest.raises(ModelError, match="centimetres"):
        load_trajectory(write(tmp_path, path.t, path.xy * 100))                 # box inferred: speed gives it away
    with pytest.raises(ModelError, match="outside the box"):
        load_trajectory(write(tmp_path, path.t, path.xy * 100), box=(1.0, 1.0))
    with pytest.raises(ModelError, match="no samples"):
        load_trajectory(write(tmp_path, np.zeros(0), np.zeros((0, 2))))
    (tmp_path / "cols.csv").write_text("time,a,b\n0,0,0\n")
    with pytest.raises(ModelError, match="columns"):
        load_trajectory(tmp_path / "cols.csv")
    with pytest.raises(ModelError, match="no file"):
        load_trajectory(tmp_path / "missing.csv")


@pytest.mark.parametrize("call, match", [
    (lambda: circle().resample(0), "resample step"),
    (lambda: circle().resample(10.0), "longer than"),
    (lambda: circle().slice(5, 6), "slice"),
    (lambda: Trajectory([0, 1], [[0, 0], [0, 0]], (1, 0)), "box"),
    (lambda: Trajectory([0], [[0, 0]], (1, 1)), "at least 2"),
    (lambda: Trajectory([0, 1], [[0, 0]], (1, 1)), "xy must be"),
    (lambda: random_trajectory(1.0, 0.02, seed=0, speed=3), "unknown motion"),
    (lambda: random_trajectory(-1.0), "duration"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ModelError, match=match):
        call()
