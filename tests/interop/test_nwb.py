"""NWB export and import (spikemem.interop.nwb): exact round trips, what the file
holds for NWB tools, refusals, files written atomically."""
import os
import sys

import numpy as np
import pynwb
import pytest

from spikemem.errors import ModelError
from spikemem.interop.nwb import read_nwb, write_nwb
from spikemem.results import Result, Trace

from interop.results import assert_same, hand_made_result, simulated_result


@pytest.mark.parametrize("make", [simulated_result, hand_made_result])
def test_files_round_trip_exactly(tmp_path, make):
    result = make()
    path = tmp_path / "run.nwb"
    write_nwb(result, path)
    assert_same(result, read_nwb(path))
    assert os.listdir(tmp_path) == ["run.nwb"]


def test_units_table_has_a_unit_per_recorded_neuron(tmp_path):
    result = simulated_result()
    write_nwb(result, tmp_path / "run.nwb", session_description="Poisson drive", identifier="run-1")
    with pynwb.NWBHDF5IO(tmp_path / "run.nwb", "r") as io:
        nwb = io.read()
        assert nwb.session_description == "Poisson drive" and nwb.identifier == "run-1"
        units = nwb.units.to_dataframe()
        assert len(units) == sum(t.n_recorded for t in result.spikes.values())
        cells = units[units.population == "cells"]
        assert cells.neuron_id.tolist() == result.spikes["cells"].recorded.tolist()
        for nid, times in zip(cells.neuron_id, cells.spike_times):
            train = result.spikes["cells"]
            assert np.array_equal(times, train.times[train.ids == nid])
        v = nwb.acquisition["cells.v"]
        assert v.unit == "V" and np.array_equal(v.data[:], result.traces["cells.v"].values)


def test_regular_samples_are_stored_as_a_rate(tmp_path):
    write_nwb(hand_made_result(), tmp_path / "run.nwb")
    with pynwb.NWBHDF5IO(tmp_path / "run.nwb", "r") as io:
        series = io.read().acquisition["x.rate"]
        assert series.rate == 1000.0 and series.starting_time == 0.0 and series.timestamps is None


def test_identifiers_differ_unless_given(tmp_path):
    identifiers = []
    for name in ("a.nwb", "b.nwb"):
        write_nwb(hand_made_result(), tmp_path / name)
        with pynwb.NWBHDF5IO(tmp_path / name, "r") as io:
            identifiers.append(io.read().identifier)
    assert identifiers[0] != identifiers[1]


def test_missing_pynwb_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ModelError, match=r"pip install spikemem\[experiments\]"):
        write_nwb(hand_made_result(), tmp_path / "run.nwb")
    with pytest.raises(ModelError, match=r"pip install spikemem\[experiments\]"):
        read_nwb(tmp_path / "run.nwb")
    assert os.listdir(tmp_path) == []


def test_trace_name_with_a_slash_is_refused_before_any_file(tmp_path):
    result = Result(traces={"p/q.v": Trace([0.0], [0], [[1.0]], "V")})
    with pytest.raises(ModelError, match=r"trace 'p/q\.v'"):
        write_nwb(result, tmp_path / "run.nwb")
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_nothing_new_on_disk(tmp_path, monkeypatch):
    path = tmp_path / "run.nwb"
    path.write_bytes(b"old")

    def fail(self, container, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        write_nwb(hand_made_result(), path)
    assert os.listdir(tmp_path) == ["run.nwb"] and path.read_bytes() == b"old"


def test_nwb_file_from_elsewhere_and_missing_file_are_refused(tmp_path):
    import datetime
    nwb = pynwb.NWBFile(session_description="recording", identifier="x",
                        session_start_time=datetime.datetime.now(datetime.timezone.utc))
    with pynwb.NWBHDF5IO(tmp_path / "other.nwb", "w") as io:
        io.write(nwb)
    with pytest.raises(ModelError, match=r"other\.nwb.*not written by spikemem"):
        read_nwb(tmp_path / "other.nwb")
    with pytest.raises(FileNotFoundError, match="absent.nwb"):
        read_nwb(tmp_path / "absent.nwb")
