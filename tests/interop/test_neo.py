"""Neo export and import (spikemem.interop.neo): exact round trips, blocks from
elsewhere, unit errors, files written atomically."""
import os
import sys

import neo
import numpy as np
import pytest
import quantities as pq

from spikemem.errors import ModelError
from spikemem.interop.neo import from_neo, neo_unit, read_neo, to_neo, write_neo
from spikemem.results import Result, Trace

from interop.results import assert_same, hand_made_result, simulated_result


def test_simulated_result_round_trips_exactly():
    result = simulated_result()
    assert result.spikes["cells"].count() > 0 and result.spikes["cells"].recorded is not None
    assert_same(result, from_neo(to_neo(result)))


def test_hand_made_result_round_trips_exactly():
    result = hand_made_result()
    assert_same(result, from_neo(to_neo(result)))


def test_block_has_a_spike_train_per_recorded_neuron():
    result = simulated_result()
    block = to_neo(result)
    assert len(block.segments) == 1
    trains = block.segments[0].spiketrains
    cells = result.spikes["cells"]
    assert len(trains) == cells.n_recorded + result.spikes["inp"].n_recorded
    for st in trains:
        train = result.spikes[st.annotations["population"]]
        nid = st.annotations["neuron_id"]
        assert st.annotations["population_size"] == train.n
        assert st.units == pq.s and st.t_start == 0 * pq.s and st.t_stop == result.meta["duration"] * pq.s
        assert np.array_equal(st.magnitude, train.times[train.ids == nid])
    assert [st.annotations["neuron_id"] for st in trains[:cells.n_recorded]] == cells.recorded.tolist()


def test_block_has_a_signal_per_trace_with_its_unit_and_neuron_ids():
    result = simulated_result()
    block = to_neo(result)
    [signal] = block.segments[0].analogsignals
    trace = result.traces["cells.v"]
    assert signal.name == "cells.v" and signal.units == pq.V
    assert np.array_equal(signal.array_annotations["neuron_id"], trace.ids)
    assert np.array_equal(signal.magnitude, trace.values)
    assert signal.sampling_period.rescale(pq.s).magnitude == pytest.approx(result.meta["dt"])
    assert np.allclose(signal.times.rescale(pq.s).magnitude, trace.times, rtol=0, atol=1e-12)
    assert block.annotations["duration"] == result.meta["duration"]
    assert block.annotations["network_hash"] == result.meta["network_hash"]


def test_elephant_reads_the_exported_spike_trains():
    from elephant.statistics import mean_firing_rate
    result = simulated_result()
    st = to_neo(result).segments[0].spiketrains[0]
    expected = np.count_nonzero(result.spikes["cells"].ids == st.annotations["neuron_id"]) / result.meta["duration"]
    assert float(mean_firing_rate(st).rescale(pq.Hz)) == pytest.approx(expected)


@pytest.mark.parametrize("unit, expected", [("V", pq.V), ("A", pq.A), ("S", pq.S), ("", pq.dimensionless),
                                            ("S/(m^2)", pq.S / pq.m ** 2), ("V^-1", 1 / pq.V)])
def test_unit_strings_map_to_quantities(unit, expected):
    assert neo_unit("p.x", unit).dimensionality == expected.dimensionality


@pytest.mark.parametrize("unit", ["wibbles", "__import__('os')"])
def test_unknown_trace_unit_is_named(unit):
    result = Result(traces={"p.x": Trace([0.0], [0], [[1.0]], unit)})
    with pytest.raises(ModelError, match=r"trace 'p\.x'.*unit"):
        to_neo(result)


def foreign_block():
    """A block as an acquisition system would write it: ms, populations by annotation
    on some trains only, unnamed signals in mV, an irregularly sampled signal."""
    segment = neo.Segment()
    segment.spiketrains += [
        neo.SpikeTrain([5.0, 1.0], units="ms", t_stop=40.0),         # out of order, as files may hold them
        neo.SpikeTrain([2.0], units="ms", t_stop=40.0),
        neo.SpikeTrain([3.0, 7.5], units="ms", t_stop=50.0, population="tet1", neuron_id=4, population_size=8),
    ]
    segment.analogsignals.append(neo.AnalogSignal(np.arange(6.0).reshape(3, 2), units="mV", sampling_rate=1 * pq.kHz))
    segment.irregularlysampledsignals.append(
        neo.IrregularlySampledSignal([0.0, 0.5, 2.0], np.ones((3, 1)), units="nA", time_units="s", name="lfp"))
    block = neo.Block()
    block.segments.append(segment)
    return block


def test_foreign_block_is_read_as_far_as_its_annotations_allow():
    result = from_neo(foreign_block())
    neo_pop, tet = result.spikes["neo"], result.spikes["tet1"]
    assert neo_pop.n == 2 and neo_pop.recorded is None
    assert np.array_equal(neo_pop.times, [0.001, 0.002, 0.005]) and np.array_equal(neo_pop.ids, [0, 1, 0])
    assert tet.n == 8 and np.array_equal(tet.recorded, [4])
    assert np.array_equal(tet.times, [0.003, 0.0075]) and np.array_equal(tet.ids, [4, 4])
    signal = result.traces["neo.signal0"]
    assert signal.unit == "mV" and np.array_equal(signal.ids, [0, 1])
    assert np.allclose(signal.times, [0.0, 0.001, 0.002])
    assert np.array_equal(signal.values, np.arange(6.0).reshape(3, 2))
    assert result.traces["lfp"].unit == "nA" and np.array_equal(result.traces["lfp"].times, [0.0, 0.5, 2.0])
    assert result.meta == {"backend": "neo", "duration": 2.0}      # the lfp outlasts the spike trains


def test_a_segment_is_read_and_a_block_of_several_segments_refused():
    block = foreign_block()
    assert from_neo(block.segments[0]).spikes["tet1"].n == 8
    block.segments.append(neo.Segment())
    with pytest.raises(ModelError, match=r"2 segments.*block\.segments\[i\]"):
        from_neo(block)


def test_signal_times_that_are_not_a_time_are_named():
    block = foreign_block()
    block.segments[0].irregularlysampledsignals[0] = neo.IrregularlySampledSignal(
        [0.0, 1.0], np.ones((2, 1)), units="nA", time_units="V", name="odd")
    with pytest.raises(ModelError, match=r"signal 'odd'.*times in V.*not a unit of time"):
        from_neo(block)


def test_spike_train_times_that_are_not_a_time_are_named():
    block = foreign_block()
    train = block.segments[0].spiketrains[2]
    train._dimensionality = pq.mV.dimensionality      # Neo refuses to make one; a train read from elsewhere may be so
    train.name = "unit 3"
    with pytest.raises(ModelError, match=r"spike train 'unit 3'.*times in mV"):
        from_neo(block)


def test_spike_trains_sharing_a_neuron_id_are_refused():
    block = foreign_block()
    block.segments[0].spiketrains.append(neo.SpikeTrain([1.0], units="ms", t_stop=40.0, population="tet1", neuron_id=4))
    with pytest.raises(ModelError, match=r"population 'tet1'.*share a neuron_id"):
        from_neo(block)


@pytest.mark.parametrize("suffix", [".pkl", ".mat"])
@pytest.mark.parametrize("make", [simulated_result, hand_made_result])
def test_files_round_trip_exactly(tmp_path, suffix, make):
    result = make()
    path = tmp_path / f"run{suffix}"
    write_neo(result, path)
    assert_same(result, read_neo(path))
    assert os.listdir(tmp_path) == [path.name]


def test_nix_without_nixio_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nixio", None)
    with pytest.raises(ModelError, match=r"pip install nixio"):
        write_neo(hand_made_result(), tmp_path / "run.nix")
    assert os.listdir(tmp_path) == []


def test_unknown_suffix_and_missing_file_are_refused(tmp_path):
    with pytest.raises(ModelError, match=r"'\.h5'.*\.pkl, \.mat, \.nix"):
        write_neo(hand_made_result(), tmp_path / "run.h5")
    with pytest.raises(FileNotFoundError, match="run.pkl"):
        read_neo(tmp_path / "run.pkl")
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_nothing_new_on_disk(tmp_path, monkeypatch):
    path = tmp_path / "run.pkl"
    path.write_bytes(b"old")

    def fail(self, block, **kwargs):
        with open(self.filename, "wb") as f:
            f.write(b"half a block")
        raise OSError("disk full")

    monkeypatch.setattr(neo.io.PickleIO, "write_block", fail)
    with pytest.raises(OSError, match="disk full"):
        write_neo(hand_made_result(), path)
    assert os.listdir(tmp_path) == ["run.pkl"] and path.read_bytes() == b"old"


def test_meta_that_is_not_json_fails_before_any_file(tmp_path):
    result = Result(meta={"when": object()})
    with pytest.raises(TypeError, match="meta value"):
        write_neo(result, tmp_path / "run.pkl")
    assert os.listdir(tmp_path) == []
