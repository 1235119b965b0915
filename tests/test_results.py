import os

import h5py
import numpy as np
import pytest

from spikemem.results import Result, SpikeTrain, Trace


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    exc = SpikeTrain(times=np.sort(rng.uniform(0, 1.0, 500)), ids=rng.integers(0, 80, 500), n=80)
    inh = SpikeTrain(times=np.array([0.1, 0.2, 0.35]), ids=np.array([0, 19, 3]), n=20)
    silent = SpikeTrain(times=np.array([]), ids=np.array([], dtype=np.int64), n=5)
    t = np.arange(100) * 1e-4
    v = Trace(times=t, ids=np.array([0, 7, 42]), values=rng.normal(-0.065, 0.005, (100, 3)), unit="V")
    meta = {
        "backend": "numba",
        "versions": {"spikemem": "0.1.0", "numpy": np.__version__},
        "seed": 1234,
        "dt": 1e-4,
        "duration": 1.0,
        "network_hash": "abc123",
        "delays": [0.001, 0.002],
    }
    return Result(spikes={"exc": exc, "inh": inh, "silent": silent}, traces={"exc.v": v}, meta=meta)


def assert_results_equal(a: Result, b: Result):
    assert a.meta == b.meta
    assert a.spikes.keys() == b.spikes.keys()
    for pop in a.spikes:
        sa, sb = a.spikes[pop], b.spikes[pop]
        assert sa.n == sb.n
        np.testing.assert_array_equal(sa.times, sb.times)
        np.testing.assert_array_equal(sa.ids, sb.ids)
        assert sb.times.dtype == np.float64 and sb.ids.dtype == np.int64
    assert a.traces.keys() == b.traces.keys()
    for key in a.traces:
        ta, tb = a.traces[key], b.traces[key]
        assert ta.unit == tb.unit
        np.testing.assert_array_equal(ta.times, tb.times)
        np.testing.assert_array_equal(ta.ids, tb.ids)
        np.testing.assert_array_equal(ta.values, tb.values)


def test_spiketrain_count_and_rates():
    st = SpikeTrain(times=[0.1, 0.2, 0.3, 0.5], ids=[0, 0, 2, 0], n=4)
    assert st.count() == 4
    np.testing.assert_allclose(st.rates(2.0), [1.5, 0.0, 0.5, 0.0])


def test_spiketrain_validation():
    with pytest.raises(ValueError):
        SpikeTrain(times=[0.1, 0.2], ids=[0], n=2)
    with pytest.raises(ValueError):
        SpikeTrain(times=[0.1], ids=[5], n=2)
    with pytest.raises(ValueError):
        Trace(times=[0, 1], ids=[0], values=np.zeros((3, 1)), unit="V")


def test_round_trip(tmp_path, result):
    path = tmp_path / "run.h5"
    result.save(path)
    assert_results_equal(result, Result.load(path))
    # Only the target is left behind: the temporary file was renamed onto it.
    assert os.listdir(tmp_path) == ["run.h5"]


def test_round_trip_empty_result(tmp_path):
    empty = Result(spikes={}, traces={}, meta={})
    empty.save(tmp_path / "empty.h5")
    assert_results_equal(empty, Result.load(tmp_path / "empty.h5"))


def test_meta_numpy_values_are_stored_as_json(tmp_path, result):
    result.meta["seed"] = np.int64(7)
    result.meta["weights"] = np.array([0.5, 1.5])
    result.save(tmp_path / "run.h5")
    meta = Result.load(tmp_path / "run.h5").meta
    assert meta["seed"] == 7 and meta["weights"] == [0.5, 1.5]


def test_overwrite_replaces_existing(tmp_path, result):
    path = tmp_path / "run.h5"
    Result(meta={"duration": 2.0}).save(path)
    result.save(path)
    assert_results_equal(result, Result.load(path))


def _fail_on_second_dataset(monkeypatch):
    original = h5py.Group.create_dataset
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", flaky)
    return calls


def test_failed_save_leaves_no_files(tmp_path, result, monkeypatch):
    calls = _fail_on_second_dataset(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        result.save(tmp_path / "run.h5")
    assert calls["n"] == 2  # the failure really happened midway through writing
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_previous_file(tmp_path, result, monkeypatch):
    path = tmp_path / "run.h5"
    result.save(path)
    before = path.read_bytes()
    _fail_on_second_dataset(monkeypatch)
    with pytest.raises(OSError):
        Result(spikes={"a": SpikeTrain([0.1], [0], 1)}, meta={}).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.h5"]


def test_non_json_meta_fails_before_writing(tmp_path):
    with pytest.raises(TypeError):
        Result(meta={"bad": object()}).save(tmp_path / "run.h5")
    assert os.listdir(tmp_path) == []


def test_load_truncated_file(tmp_path, result):
    good = tmp_path / "run.h5"
    result.save(good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.h5"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.h5"):
        Result.load(bad)


def test_load_random_bytes(tmp_path):
    bad = tmp_path / "noise.h5"
    bad.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ValueError, match="noise.h5"):
        Result.load(bad)


def test_load_foreign_hdf5(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=[1, 2, 3])
    with pytest.raises(ValueError, match=r"other\.h5.*format"):
        Result.load(path)


def test_load_missing_member(tmp_path, result):
    path = tmp_path / "run.h5"
    result.save(path)
    with h5py.File(path, "a") as f:
        del f["spikes/exc/ids"]
    with pytest.raises(ValueError, match="run.h5"):
        Result.load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        Result.load(tmp_path / "nope.h5")


def test_bad_population_name(tmp_path):
    with pytest.raises(ValueError):
        Result(spikes={"a/b": SpikeTrain([], [], 1)}).save(tmp_path / "x.h5")
    assert os.listdir(tmp_path) == []


def test_summary(result):
    s = result.summary()
    assert s["inh"] == {"count": 3, "mean_rate": pytest.approx(3 / (20 * 1.0))}
    assert s["exc"]["count"] == 500
    assert s["exc"]["mean_rate"] == pytest.approx(500 / 80)
    assert s["silent"] == {"count": 0, "mean_rate": 0.0}
