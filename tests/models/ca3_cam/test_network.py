"""The CA3 memory: operations, agreement of the CPU backends, bad input, report."""
import json

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.ca3_cam import compare, experiments
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


def test_functional_learns_recalls_and_forgets_at_ten_steps_per_operation(functional):
    mem, rows, snapshots = functional["numba"]
    assert mem.operation_steps == 10
    assert all(r["correct"] for r in rows), [r for r in rows if not r["correct"]]
    by_content = [r for r in rows if r["kind"] == "recall_by_content"]
    assert by_content[0]["answer_cues"] == [0, 1]          # bit 3 is shared: OR semantics
    assert {r["latency_steps"] for r in rows if r["kind"] == "recall_by_cue"} == {6}
    # one-shot, binary learning; sPyNNaker applies it at the cue's next spike:
    # right after the first learn the weights still stand at 0, settled they hold the memory
    first = snapshots[0][1]["cue_to_content"]
    assert set(np.round(first, 6).ravel()) == {0.0, 6.0} and np.flatnonzero(first[0]).tolist() == [0, 3, 7]


def test_overwrite_forgets_the_old_content(functional):
    """Operation 9 learns cue 1 <- {4, 6} over {1, 3, 8}: the old bits fire once
    (the board shows the same) and are gone from then on, in both directions."""
    mem, rows, _ = functional["numba"]
    overwrite = rows[9]
    assert overwrite["kind"] == "learn" and overwrite["forgotten"] == [1, 3, 8]
    assert overwrite["answer_content"] == [1, 3, 4, 6, 8]
    assert rows[10]["answer_content"] == [4, 6]            # recall by cue 1
    assert rows[12]["answer_cues"] == []                   # bit 8 belonged to cue 1 only
    assert mem.stored()[1] == {4, 6}
    # content -> cue: the old bits keep about 0.5 x 6 nA (a CueCont spike two steps after
    # their echo), waiting for their next spike; CueCont fires from 3.36 nA in one step
    to_cue = mem.weights()["content_to_cue"][:, 1]
    assert np.flatnonzero(to_cue == 6.0).tolist() == [4, 6] and 2.5 < to_cue[[1, 3, 8]].max() < 3.35


def test_stress_overwrites_every_cue_with_its_complement():
    """Five codes learned one after the other, every cue and every bit recalled;
    then the complements learned over them and everything recalled again: all
    exact, the old bits forgotten."""
    _, rows, _ = experiments.experiment("stress")
    wrong = [r for r in rows if not r["correct"]]
    assert not wrong, wrong
    half = len(rows) // 2
    assert any(r["forgotten"] for r in rows[half:] if r["kind"] == "learn")
    shared = [r for r in rows if r["kind"] == "recall_by_content" and len(r["expected_cues"]) > 1]
    assert shared, "the codes share bits"


def test_operation_steps_below_the_answer_latency_are_refused():
    for steps in (6, 7.0, True):
        with pytest.raises(ModelError, match="operation_steps"):
            CA3Memory(5, 10, operation_steps=steps)


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
    """The paper's map, one cell every 7 steps: each query returns exactly the
    cells in one of its states, the route (start, goal, path) in one query."""
    mem, rows, _ = experiments.experiment("map")
    assert mem.operation_steps == 7
    assert all(r["correct"] for r in rows), [r for r in rows if not r["correct"]]
    queries = [r for r in rows if r["kind"] == "recall_by_content"]
    cells = [state for row in experiments.MAP_GRID for state in row]
    for query, r in zip(experiments.MAP_QUERIES, queries):
        assert r["answer_cues"] == [c for c, state in enumerate(cells) if state in query]
    assert queries[0]["answer_cues"] == [2, 6, 10, 12, 13, 14]      # the route, as on the board


def test_random_workload_keeps_set_semantics_with_two_state_synapses():
    """n = m = 48, 15 % of the bits per content, 300 interleaved learns,
    overwrites and recalls by cue and by fragments of 1-3 bits: every recall
    answers exactly the latest contents (the board's circuit does not: see the
    model page)."""
    ops = compare.random_workload(48, 48, 0.15, 300, np.random.default_rng(1))
    kinds = {kind for kind, _ in ops}
    assert kinds == {"learn", "recall_by_cue", "recall_by_content"}
    assert sum(kind == "learn" for kind, _ in ops) > 48                    # overwrites among them
    _, rows, _ = experiments.run_script(ops, 48, 48, memory={"binary_threshold": experiments.BINARY_THRESHOLD})
    wrong = [r for r in rows if not r["correct"]]
    assert not wrong, wrong[:3]


def test_cli_main_job_writes_the_report(tmp_path, capsys):
    from spikemem.cli import main
    out = tmp_path / "report"
    assert main(["run", "ca3-cam", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["experiment"] == "functional" and metrics["operations"] == len(experiments.FUNCTIONAL)
    assert metrics["correct"] == metrics["operations"] and metrics["steps_per_operation"] == 10
    assert metrics["forgotten_bits"] == 3
    for name in ("raster.png", "weights.png", "operations.csv"):
        assert (out / name).stat().st_size > 0
    assert "recall_by_content" in capsys.readouterr().out
    assert main(["run", "ca3-cam", "--experiment", "nope", "--out", str(tmp_path / "x")]) == 2
    assert main(["run", "cuba", "--experiment", "map", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_report_weight_figure_has_labelled_colour_bar_axes_and_title(functional, tmp_path, monkeypatch):
    """Issue 21 item 9: weights.png says what its colours, rows and columns are."""
    import os

    from spikemem import plot
    saved = {}
    real_save = plot.save_figure

    def capture(fig, path, **kw):
        saved[os.path.basename(str(path))] = fig
        real_save(fig, path, **kw)

    monkeypatch.setattr(plot, "save_figure", capture)
    mem, rows, snapshots = functional["numba"]
    experiments.write_report(tmp_path, mem, rows, snapshots)
    fig = saved["weights.png"]
    images = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if not ax.images]
    assert len(images) == 2 * len(snapshots)
    assert len(bars) == 1 and bars[0].get_ylabel() == "weight (nA)"
    assert fig.get_suptitle().startswith("CA3 plastic weights")
    labels = " ".join(ax.get_xlabel() + " " + ax.get_ylabel() for ax in images)
    assert "post: content bit" in labels and "post: cue" in labels and "pre: cue" in labels
    assert "pre: content bit" in labels
    raster_ax = saved["raster.png"].axes[0]
    assert raster_ax.get_xlim() == pytest.approx((0.0, mem.result.meta["duration"]))
