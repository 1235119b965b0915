"""The CA3 memory: operations, agreement of the CPU backends, bad input, report."""
import json

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.ca3_cam import experiments as experiments
from spikemem.models.ca3_cam.network import CA3Memory, ca3_network


@pytest.fixture(scope="module")
def functional():
    """The functional experiment on both CPU backends."""
    return {backend: experiments.experiment("functional", backend) for backend in ("numba", "brian2-numpy")}


def test_functional_experiment_same_answers_and_raster_on_both_backends(functional):
    (m1, rows1, _), (m2, rows2, _) = functional["numba"], functional["brian2-numpy"]
    answers = [[(r["answer_cues"], r["answer_content"], r["latency_steps"]) for r in rows] for rows in (rows1, rows2)]
    assert answers[0] == answers[1]
    for pop in ("OL", "CueCue", "ContCue", "ContCont", "CueCont"):
        a, b = m1.result.spikes[pop], m2.result.spikes[pop]
        assert np.array_equal(a.ids, b.ids) and np.allclose(a.times, b.times, rtol=0, atol=1e-9)
    for name in ("cue_to_content", "content_to_cue"):
        np.testing.assert_allclose(m1.weights()[name], m2.weights()[name], rtol=0, atol=1e-9)


def test_functional_learns_and_recalls_by_cue_and_by_content(functional):
    _, rows, snapshots = functional["numba"]
    before_overwrite = [r for r in rows[:9]]
    assert all(r["correct"] for r in before_overwrite), [r for r in before_overwrite if not r["correct"]]
    by_content = [r for r in before_overwrite if r["kind"] == "recall_by_content"]
    assert by_content[0]["answer_cues"] == [0, 1]          # bit 3 is shared: OR semantics
    assert {r["latency_steps"] for r in rows if r["kind"] == "recall_by_cue"} == {6}
    # one-shot, binary learning: after the first learn the weights are 0 or 6 nA
    first = snapshots[0][1]["cue_to_content"]
    assert set(np.round(first, 6).ravel()) == {0.0, 6.0}
    assert np.flatnonzero(first[0]).tolist() == [0, 3, 7]


def test_overwrite_adds_to_the_old_content(functional):
    """Documented departure from the paper: learning under a used cue adds
    (sPyNNaker's deferred rule potentiates the old pairs too)."""
    _, rows, _ = functional["numba"]
    overwrite = rows[9]
    assert overwrite["kind"] == "learn" and overwrite["answer_content"] == [1, 3, 4, 6, 8]
    assert rows[10]["answer_content"] == [1, 3, 4, 6, 8] and rows[12]["answer_cues"] == [1]


def test_stress_first_fill_exact_then_overwrite_adds():
    """Five codes learned one after the other, every cue and every bit recalled:
    all exact, including the bits shared by cues learned in a row. After the
    complements are learned over them, every cue holds code | complement."""
    _, rows, _ = experiments.experiment("stress")
    half = len(rows) // 2
    assert all(r["correct"] for r in rows[:half]), [r for r in rows[:half] if not r["correct"]]
    shared = [r for r in rows[:half] if r["kind"] == "recall_by_content" and len(r["expected_cues"]) > 1]
    assert shared, "the codes share bits"
    for r in rows[half:]:
        if r["kind"] == "recall_by_cue":
            assert r["answer_content"] == list(range(10))
        elif r["kind"] == "recall_by_content":
            assert r["answer_cues"] == list(range(5))


@pytest.mark.parametrize("call, message", [
    (lambda m: m.learn(5, [1]), "cue 5"),
    (lambda m: m.learn(-1, [1]), "cue -1"),
    (lambda m: m.learn(1.0, [1]), "1.0"),
    (lambda m: m.learn(0, []), "at least one bit"),
    (lambda m: m.learn(0, [10]), "10"),
    (lambda m: m.recall_by_content([3, 99]), "99"),
    (lambda m: m.recall_by_cue(0, start=-5), "in flight"),
    (lambda m: m.learn(0, [1], start=2.5), "2.5"),
])
def test_bad_input_names_the_value_and_changes_nothing(call, message):
    mem = CA3Memory(5, 10)
    mem.learn(0, [1, 2])
    step, weights = mem.sim.step, mem.weights()
    with pytest.raises(ModelError, match=message):
        call(mem)
    assert mem.sim.step == step and len(mem.operations) == 1
    for name, w in mem.weights().items():
        assert np.array_equal(w, weights[name])
    assert mem.recall_by_cue(0).content == {1, 2}     # still works


@pytest.mark.parametrize("n, m", [(5.0, 10), (5, "10"), (0, 10), (True, 10)])
def test_sizes_must_be_positive_integers(n, m):
    with pytest.raises(ModelError):
        ca3_network(n, m)


def test_grid_map_queries_by_state():
    """Every state query returns exactly the cells in that state, also where the
    next learn stores the same state in the next cell (1 -> 2, 4 -> 5, 7 -> 8,
    10 -> 11, 12 -> 13). That learn depresses the first cell's content -> cue
    link twice; sPyNNaker's rule sums the first depression with the potentiation
    still pending from the first learn, so the link keeps 5.77 nA, enough to
    fire CueCont (about 5.6 nA; pair by pair it would keep 5.51 nA)."""
    mem, rows, _ = experiments.experiment("map")
    queries = [r for r in rows if r["kind"] == "recall_by_content"]
    assert len(queries) == len(experiments.MAP_STATES)
    stored = [arg for kind, arg in experiments.map_script() if kind == "learn"]
    for state, (name, r) in enumerate(zip(experiments.MAP_STATES, queries)):
        assert r["answer_cues"] == [cell for cell, bits in stored if state in bits], name
    path = queries[experiments.MAP_STATES.index("path")]
    assert path["answer_cues"] == [1, 2, 6, 10, 11]


def test_cli_main_job_writes_the_report(tmp_path, capsys):
    from spikemem.cli import main
    out = tmp_path / "report"
    assert main(["run", "ca3-cam", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["experiment"] == "functional" and metrics["operations"] == len(experiments.FUNCTIONAL)
    assert metrics["by_kind"]["recall_by_cue"]["correct"] == metrics["by_kind"]["recall_by_cue"]["operations"] - 1
    for name in ("raster.png", "weights.png", "operations.csv"):
        assert (out / name).stat().st_size > 0
    assert "recall_by_content" in capsys.readouterr().out
    assert main(["run", "ca3-cam", "--experiment", "nope", "--out", str(tmp_path / "x")]) == 2
    assert main(["run", "cuba", "--experiment", "map", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
