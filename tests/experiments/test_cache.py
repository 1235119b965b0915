import os
import subprocess
import sys

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.experiments import Cache, CorruptEntry, Outcome
from spikemem.experiments.cache import _host, entry_key
from spikemem.results import Result, SpikeTrain, Trace


def outcome():
    result = Result({"exc": SpikeTrain([0.1, 0.2], [0, 3], 5)},
                    {"exc.v": Trace([0.0, 0.1], [1], np.array([[-0.07], [-0.06]]), "V")}, {"duration": 0.3})
    return Outcome({"rate": 1.5}, result, {"w": np.arange(6.0).reshape(2, 3), "empty": np.zeros(0)},
                   {"seed": 2})


def test_an_entry_reads_back_whole(tmp_path):
    cache = Cache(tmp_path)
    cache.store("exp", "ab12", outcome())
    back = cache.load("exp", "ab12")
    assert back.metrics == {"rate": 1.5} and back.provenance == {"seed": 2}
    assert np.array_equal(back.state["w"], outcome().state["w"]) and back.state["empty"].size == 0
    assert np.array_equal(back.result.spikes["exc"].ids, [0, 3])
    assert np.array_equal(back.result.traces["exc.v"].values, [[-0.07], [-0.06]])
    assert cache.load("exp", "cd34") is None
    assert [f for f in os.listdir(os.path.dirname(cache.path("exp", "ab12")))] == ["ab12.h5"]


def test_an_entry_is_written_once(tmp_path):
    cache = Cache(tmp_path)
    path = cache.store("exp", "ab12", outcome())
    before = os.stat(path).st_mtime_ns
    cache.store("exp", "ab12", Outcome({"rate": 99.0}))
    assert os.stat(path).st_mtime_ns == before and cache.load("exp", "ab12").metrics == {"rate": 1.5}


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_damaged_entry_is_detected(tmp_path, damage):
    cache = Cache(tmp_path)
    path = cache.store("exp", "ab12", outcome())
    data = bytearray(open(path, "rb").read())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":           # inside the state's and result's compressed, checksummed chunks
        for at in range(len(data) // 2, len(data) - 64, 97):
            data[at] ^= 0xFF
    else:
        data = b"not an hdf5 file"
    open(path, "wb").write(bytes(data))
    with pytest.raises(CorruptEntry):
        cache.load("exp", "ab12")


def test_keys_hold_what_produced_the_outcome():
    base = dict(experiment="e", code="c", params={"tau": 0.02}, seed=1, backend="numba", dtype=None, upstream=None)
    key = entry_key(**base)
    assert key == entry_key(**{**base, "params": {"tau": 0.020000000000000004}})     # 20*ms written two ways
    for change in ({"code": "d"}, {"params": {"tau": 0.03}}, {"seed": 2}, {"backend": "brian2"},
                   {"dtype": "float32"}, {"upstream": "k"}, {"experiment": "f"}):
        assert entry_key(**{**base, **change}) != key, change


def test_leftovers_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folder = tmp_path / "exp" / "ab"
    folder.mkdir(parents=True)
    gone = folder / f".ab12.h5~{dead.stdout.strip()}@{_host()}.x1y2.tmp"
    running = folder / f".ab13.h5~{os.getpid()}@{_host()}.x1y2.tmp"
    gone.write_bytes(b"half")
    running.write_bytes(b"half")
    assert Cache(tmp_path).removed_leftovers == 1
    assert not gone.exists() and running.exists()


def test_an_unwritable_cache_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="cache directory .*file"):
        Cache(tmp_path / "file" / "cache")
