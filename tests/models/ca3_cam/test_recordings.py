"""The authors' SpiNNaker recordings: loading, bad input, and exact replay on every backend."""
import pytest

from spikemem.errors import ModelError
from spikemem.models.ca3_cam.recordings import RECORDINGS, load_recording, replay

BACKENDS = [("numba", {}), ("brian2-numpy", {}),
            pytest.param("torch", {"dtype": "float64", "device": "cpu"}, marks=pytest.mark.torch),
            ("spinnaker", {})]


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_shipped_recordings_load_with_their_sizes(name):
    rec = load_recording(name)
    _, n, m, steps, op_steps = RECORDINGS[name]
    assert (rec.n_cues, rec.n_content, rec.steps, rec.operation_steps) == (n, m, steps, op_steps)
    steps, ids = rec.inputs()
    assert steps.size and steps.max() < rec.steps and ids.max() < n + m
    assert rec.recorded("OUTcont")          # the board answered


@pytest.mark.parametrize("name", sorted(RECORDINGS))
@pytest.mark.parametrize("backend, options", BACKENDS)
def test_replay_reproduces_every_recorded_spike_and_no_other(name, backend, options):
    result = replay(name, backend, **options)
    assert result.exact, result.table()
    assert result.recorded == {"functional": 262, "map": 402}[name]


def _csv(tmp_path, body):
    path = tmp_path / "rec.csv"
    path.write_text("t_ms,population,neurons\n" + body)
    return path


@pytest.mark.parametrize("body, named", [
    ("0,INcue,0\n3,CA3Gate,1\n", "'CA3Gate'"),                 # a population the network lacks
    ("0,INcue,0\n3,CA3cueCueRecall,5\n", "'5'"),              # n = 5: ids 0..4
    ("0,INcue,0\n2.5,OUTcont,1\n", "t_ms 2.5"),                # not a whole step
    ("0,INcue,0\n99,OUTcont,1\n", "t_ms 99"),                  # after the end
    ("x,INcue,0\n", "'x'"),
    ("nan,INcue,0\n", "'nan'"),
    ("0,INcue\n", "3 fields"),
    ("0,INcue,+1\n", "'\\+1' is not a neuron id"),
])
def test_bad_recording_names_the_offending_entry(tmp_path, body, named):
    with pytest.raises(ModelError, match=named) as err:
        load_recording(_csv(tmp_path, body), n_cues=5, n_content=10, steps=20)
    assert "line" in str(err.value)


def test_a_csv_needs_its_sizes_and_an_unknown_name_is_refused(tmp_path):
    with pytest.raises(ModelError, match="n_cues, n_content and steps"):
        load_recording(_csv(tmp_path, "0,INcue,0\n"))
    with pytest.raises(ModelError, match="no such file"):
        load_recording(tmp_path / "missing.csv", n_cues=5, n_content=10, steps=20)
    with pytest.raises(ModelError, match="ships with its sizes"):
        load_recording("functional", n_cues=99)
    with pytest.raises(ModelError, match="n_cues"):
        load_recording(_csv(tmp_path, "0,INcue,0\n"), n_cues=5.5, n_content=10, steps=20)
