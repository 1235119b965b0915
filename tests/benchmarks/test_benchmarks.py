"""benchmarks/cuba.py's bookkeeping: fastest runs and ratios (the runs themselves are benchmarks); a tiny run of
benchmarks/sweep.py that writes every field."""
import json

import pytest

import benchmark_scripts

cuba_benchmark = benchmark_scripts.load("cuba")


def _row(sim, run_s, rate=5.0):
    return {"simulator": sim, "run_s": run_s, "mean_rate_hz": rate}


def test_each_simulator_keeps_its_fastest_run_and_its_errors():
    rows = [_row("numba", 0.2), _row("brian2-cpp", 0.9), _row("brian2-cython", 3.0),
            _row("numba", 0.1), {"simulator": "brian2-cpp", "error": "timed out"}, _row("brian2-cython", 2.0)]
    best = cuba_benchmark.fastest(rows)
    assert [r["simulator"] for r in best] == ["numba", "brian2-cpp", "brian2-cython"]
    assert best[0]["run_s"] == 0.1 and "error" in best[1] and best[2]["run_s"] == 2.0
    out = cuba_benchmark.ratios(best)
    assert out["run_speedup"] == {"brian2-cython": pytest.approx(20.0)}
    assert out["rate_ratio"] == {"brian2-cython": 1.0}


def test_median_ratio_over_rounds_skips_rounds_a_simulator_missed():
    rounds = [{"brian2-cpp": 4.0, "brian2-cython": 20.0}, {"brian2-cpp": 8.0},
              {"brian2-cpp": 5.0, "brian2-cython": 30.0}]
    assert cuba_benchmark.median_by_round(rounds) == {"brian2-cpp": 5.0, "brian2-cython": 25.0}
    assert cuba_benchmark.median_by_round([{"brian2-cpp": None}]) == {}


def test_repeat_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        cuba_benchmark.main(["--repeat", "0"])
    assert "--repeat must be at least 1" in capsys.readouterr().err


def test_out_writes_the_run_set_the_docs_render(tmp_path, capsys):
    path = tmp_path / "cuba.json"
    assert cuba_benchmark.main(["--quick", "--simulators", "numba,brian2-numpy", "--out", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["benchmark"] == "cuba" and data["label"] == "--quick --simulators numba,brian2-numpy"
    assert data["machine"] and data["date"] and data["command"].startswith("python ")
    (row,) = data["rows"]
    assert set(row["run_s"]) == {"numba", "brian2-numpy"} and row["run_s"]["numba"] > 0
    assert row["run_speedup"]["brian2-numpy"] == pytest.approx(row["run_s"]["brian2-numpy"] / row["run_s"]["numba"])
    assert data["spikes"]["numba"] == data["spikes"]["brian2-numpy"] > 0
    assert list(tmp_path.iterdir()) == [path]          # written atomically: no temporary file left


sweep_benchmark = benchmark_scripts.load("sweep")


@pytest.mark.slow
def test_sweep_benchmark_writes_every_measurement(tmp_path, capsys):
    path = tmp_path / "sweep.json"
    assert sweep_benchmark.main(["--runs", "4", "--n", "200", "--duration", "0.05", "--workers", "2",
                                 "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["benchmark"] == "sweep" and data["label"] == "--runs 4 --n 200 --duration 0.05 --workers 2"
    assert data["machine"] and data["date"] and data["command"].startswith("python ")
    assert (data["runs"], data["n"], data["workers"]) == (4, 200, 2)
    measures = [r["measure"] for r in data["rows"]]
    assert measures == ["sequential, direct calls", "runner, in-process", "Dask cluster start, 2 workers (not counted)",
                        "runner, Dask, 2 fresh workers", "runner, Dask, 2 warm workers",
                        "runner, Dask, 2 warm workers, no cache", "runner, Dask, constant tasks (no cache)"]
    assert all(r["wall_s"] > 0 for r in data["rows"])
    assert all(r["per_task_ms"] > 0 for k, r in enumerate(data["rows"]) if k != 2)
    fresh, warm = data["rows"][3], data["rows"][4]
    assert fresh["speedup"] > 0 and warm["speedup"] > 0 and warm["ran_again"] is True
    summary = data["summary"]
    for key in ("cluster_start_s", "speedup_fresh", "speedup_warm", "overhead_ms", "outside_task_ms", "dask_task_ms",
                "recompiled", "goals", "met", "kernel_sources"):
        assert key in summary, key
    # every task ran on one of the two workers, each reporting its kernels
    workers = summary["per_worker"]
    assert 1 <= len(workers) <= 2 and sum(w["tasks"] for w in workers) == 4
    for w in workers:
        assert w["first_build_s"] > 0 and w["kernels"] >= 1 and isinstance(w["recompiled"], bool)
    assert list(tmp_path.iterdir()) == [path]
