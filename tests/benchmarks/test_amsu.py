"""benchmarks/amsu.py: a tiny run writes every model's recall and language-modelling figures."""
import importlib.util
import json
import pathlib

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

_path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "amsu.py"
_spec = importlib.util.spec_from_file_location("amsu_benchmark", _path)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_a_tiny_run_writes_every_model_at_equal_parameter_counts(tmp_path):
    path = tmp_path / "amsu.json"
    bench.main(["--delays", "3", "8", "--recall-iterations", "2", "--recall-budget", "800", "--lm-iterations", "2",
                "--lm-budget", "2000", "--max-chars", "3000", "--no-plots", "--out", str(path)])
    data = json.loads(path.read_text())
    kinds = set(bench.KINDS)
    assert data["benchmark"] == "amsu" and data["machine"] and data["threads"] == 1
    assert {(r["model"], r["delay"]) for r in data["recall"]} == {(k, d) for k in kinds for d in (3, 8)}
    assert all(0 <= r["accuracy"] <= 1 and r["chance"] == 0.25 for r in data["recall"])
    rows = data["rows"]                     # one per model: the docs' table
    assert {r["kind"] for r in rows} == kinds
    for r in rows:
        assert set(r["recall"]) == {"3", "8"} and abs(r["recall_parameters"] - 800) < 0.1 * 800
        assert abs(r["lm_parameters"] - 2000) < 0.1 * 2000
        assert r["val_bpc"] > 0 and r["latency_ms"] > 0 and r["tokens_per_s"] > 0 and r["peak_train_mib"] >= 0
