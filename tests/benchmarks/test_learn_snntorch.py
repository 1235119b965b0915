"""benchmarks/learn_snntorch.py: a tiny run writes the run set the docs render."""
import json

import pytest

import benchmark_scripts

pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytestmark = pytest.mark.torch

bench = benchmark_scripts.load("learn_snntorch")


def test_a_tiny_run_writes_every_framework_with_its_speedup(tmp_path):
    path = tmp_path / "learn.json"
    assert bench.main(["--sizes", "8", "6", "3", "--steps", "6", "--batch", "4", "--batches", "2", "--warmup", "1",
                       "--repeats", "1", "--out", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["benchmark"] == "learn_snntorch" and data["machine"] and data["threads"] == 1
    rows = {r["framework"]: r for r in data["rows"]}
    assert set(rows) == {"spikemem-bptt", "spikemem-ottt", "snntorch"}
    assert rows["snntorch"]["speedup_over_snntorch"] == 1.0
    for r in rows.values():
        assert r["samples_per_s"] > 0 and r["sizes"] == "8-6-3"
