"""benchmarks/amsu_hardware.py: a tiny run trains, freezes, exports and emulates,
and writes every row and both targets' figures."""
import json

import pytest

import benchmark_scripts

pytest.importorskip("torch")
pytest.importorskip("spynnaker")           # the SpiNNaker check reads the installed sPyNNaker's limits
pytestmark = pytest.mark.torch

bench = benchmark_scripts.load("amsu_hardware")


def test_a_tiny_run_writes_every_row_and_both_targets(tmp_path):
    path = tmp_path / "hw.json"
    bench.main(["--delay", "2", "--budget", "300", "--iterations", "2", "--calibration", "4", "--test", "3",
                "--seeds", "0", "1", "--out", str(path)])
    data = json.loads(path.read_text())
    assert data["benchmark"] == "amsu_hardware" and data["threads"] == 1 and data["chance"] == 0.25
    rows = {r["model"]: r for r in data["rows"]}
    assert len(rows) == 12 and all(0 <= r["accuracy"] <= 1 and len(r["per_seed"]) == 2 for r in rows.values())
    assert rows["AM-SU, trained (torch, float32)"]["change"] == 0
    for r in rows.values():
        assert abs(r["accuracy"] - sum(r["per_seed"]) / 2) < 1e-12
        assert abs(r["change"] - (r["accuracy"] - data["rows"][0]["accuracy"])) < 1e-12
    # the template network on numba spikes as the torch layer; the frozen network as the frozen model
    assert rows["AM-SU template network (numba, float64)"]["spikes_as_torch"] == 1.0
    assert rows["frozen IF_curr_exp network (numba, float64)"]["accuracy"] == rows[
        "frozen a, board reset (torch)"]["accuracy"]
    for name in bench.TARGET_NAMES:
        t = data["seeds"][1]["targets"][name]
        assert t["violations_of_am_su"] >= 3 and t["exported"] and 0 <= t["spikes_as_numba"] <= 1
        assert f"frozen, {name} emulator" in rows
    assert [run["seed"] for run in data["seeds"]] == [0, 1]
    assert len(data["seeds"][0]["a_by_step"]) == 2 * 3 + 2 and data["seeds"][0]["a_by_step"][0] == 0
    held = data["seeds"][0]["held_a"]
    assert 0 <= held["min"] <= held["mean"] <= held["max"] <= 1
