"""benchmarks/grid_cells.py at a tiny size: the run sets it writes (the runs themselves are benchmarks)."""
import json

import numpy as np
import pytest

import benchmark_scripts

grid_cells_benchmark = benchmark_scripts.load("grid_cells")


def test_integration_writes_a_row_per_variant_and_the_units_gridscores_reads(tmp_path):
    out, units = tmp_path / "integration.json", tmp_path / "units.npz"
    argv = ["integration", "--n", "40", "--seconds", "2", "--variants", "periodic-rate", "--save-units", str(units),
            "--out", str(out)]
    assert grid_cells_benchmark.main(argv) == 0
    data = json.loads(out.read_text())
    assert data["benchmark"] == "grid_cells_integration" and data["label"].startswith("integration --n 40")
    (row,) = data["rows"]
    assert row["variant"] == "periodic-rate" and row["n"] == 40 and row["duration_s"] == pytest.approx(2.0)
    assert 0 <= row["mean_error_m"] < 0.2 and row["gain_m_per_neuron"] > 0 and row["s_per_simulated_s"] > 0
    assert "error_60s_m" not in row                               # a 2 s run reaches no 60 s mark
    saved = np.load(units)
    assert saved["units"].shape == (101, 64) and saved["true_xy"].shape == (101, 2)

    scores = tmp_path / "scores.json"
    assert grid_cells_benchmark.main(["gridscores", "--units", str(units), "--bins", "8", "--out", str(scores)]) == 0
    (score,) = json.loads(scores.read_text())["rows"]
    assert score["n"] == 40 and score["units"] == 64 and 0 <= score["fraction_above"] <= 1


def test_unknown_variants_are_refused(capsys):
    with pytest.raises(SystemExit):
        grid_cells_benchmark.main(["integration", "--variants", "periodic-rate,toroidal"])
    assert "toroidal" in capsys.readouterr().err
