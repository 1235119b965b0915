"""The ``spikemem`` command line (numba backend only: fast and always available)."""
import json
import os
import subprocess
import sys

import pytest

from spikemem.cli import main
from spikemem.results import Result

N = 400
DURATION = "0.1"
BENCH_KEYS = {"simulator", "N", "synapses", "bio_s", "build_s", "run_s", "spikes", "mean_rate_hz"}
SPIKEMEM = os.path.join(os.path.dirname(sys.executable), "spikemem")


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    assert run_cli("run", "cuba", "--n", N, "--duration", DURATION, "--out", out, "--no-progress") == 0
    return out


def test_run_writes_all_files(run_dir):
    assert sorted(os.listdir(run_dir)) == ["metrics.json", "raster.png", "rate.png", "result.h5"]
    # nothing left behind next to it
    assert os.listdir(run_dir.parent) == ["out"]


def test_run_metrics(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["backend"] == "numba"
    assert metrics["duration"] == pytest.approx(float(DURATION))
    assert set(metrics["populations"]) == {"exc", "inh"}
    for pop, n in (("exc", 320), ("inh", 80)):
        m = metrics["populations"][pop]
        assert m["n"] == n
        assert m["count"] > 0
        assert m["mean_rate_hz"] > 0
        assert m["cv_isi"] is None or m["cv_isi"] >= 0
    assert metrics["timings"]["build_s"] > 0 and metrics["timings"]["run_s"] > 0
    assert isinstance(metrics["network_hash"], str) and metrics["network_hash"]


def test_run_result_file(run_dir):
    result = Result.load(run_dir / "result.h5")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert result.meta["network_hash"] == metrics["network_hash"]
    assert {p: s["count"] for p, s in result.summary().items()} == \
        {p: m["count"] for p, m in metrics["populations"].items()}


def test_run_refuses_nonempty_dir(run_dir, tmp_path, capsys):
    before = {p: (run_dir / p).stat().st_mtime_ns for p in os.listdir(run_dir)}
    assert run_cli("run", "cuba", "--n", N, "--duration", DURATION, "--out", run_dir) == 2
    assert "not empty" in capsys.readouterr().err
    assert {p: (run_dir / p).stat().st_mtime_ns for p in os.listdir(run_dir)} == before


def test_run_force_replaces_and_empty_dir_ok(tmp_path):
    out = tmp_path / "out"
    out.mkdir()                                   # existing but empty: fine
    assert run_cli("run", "cuba", "--n", N, "--duration", "0.02", "--out", out, "--no-progress") == 0
    (out / "stale.txt").write_text("x")
    assert run_cli("run", "cuba", "--n", N, "--duration", "0.02", "--out", out,
                   "--no-progress", "--force") == 0
    assert "stale.txt" not in os.listdir(out)
    assert "metrics.json" in os.listdir(out)
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("argv", [[], ["run"], ["bench"]])
def test_help(argv, capsys):
    assert run_cli(*argv, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: spikemem")
    if argv:
        assert f"spikemem {argv[0]}" in out


def test_console_script_help():
    proc = subprocess.run([SPIKEMEM, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage: spikemem" in proc.stdout
    assert "run" in proc.stdout and "bench" in proc.stdout


def test_unknown_model(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "no_such_model", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: ")
    assert "no_such_model" in err and "cuba" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_missing_network_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", tmp_path / "missing.json", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: ") and "missing.json" in err
    assert not out.exists()


def test_unknown_backend(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "cuba", "--n", N, "--backend", "nest", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: ") and "nest" in err and "numba" in err
    assert not out.exists()


def test_model_error_before_output(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "cuba", "--n", "1", "--out", out) == 2     # 'inh' would be empty
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: ") and "inh" in err
    assert not out.exists() and os.listdir(tmp_path) == []


def test_bad_duration(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "cuba", "--n", N, "--duration", "-1", "--out", out) == 2
    assert "--duration" in capsys.readouterr().err
    assert not out.exists()


def test_bench_json(capsys):
    assert run_cli("bench", "cuba", "--backend", "numba", "--n", N, "--duration", "0.05",
                   "--json", "--memory") == 0
    row = json.loads(capsys.readouterr().out)
    assert BENCH_KEYS <= set(row)
    assert row["simulator"] == "numba" and row["N"] == N and row["bio_s"] == 0.05
    assert row["synapses"] > 0 and row["spikes"] > 0 and row["mean_rate_hz"] > 0
    assert row["build_s"] > 0 and row["run_s"] > 0
    # a uint16 target per synapse; CUBA's weights are one number per projection
    # (4 x 8 bytes); row pointers: int64 per presynaptic neuron + 1 (320 exc, 80 inh)
    syn = row["synapses"]
    assert row["bytes_per_synapse"] == pytest.approx((2 * syn + 4 * 8 + 8 * 2 * (321 + 81)) / syn)


def test_bench_text(capsys):
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02") == 0
    out = capsys.readouterr().out
    assert out.startswith("numba: N=400") and "run=" in out


def test_bench_memory_numba_only(capsys):
    assert run_cli("bench", "cuba", "--backend", "brian2-cython", "--n", N, "--memory") == 2
    assert "numba" in capsys.readouterr().err


def test_bench_threads(capsys):
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02", "--threads", "2", "--json") == 0
    assert json.loads(capsys.readouterr().out)["threads"] == 2
    assert run_cli("bench", "cuba", "--backend", "brian2-numpy", "--n", N, "--threads", "2") == 2
    assert "--threads" in capsys.readouterr().err


def test_bench_fast_math(capsys):
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02", "--json") == 0
    assert json.loads(capsys.readouterr().out)["strict_float"] is True
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02", "--fast-math", "--json") == 0
    assert json.loads(capsys.readouterr().out)["strict_float"] is False
    assert run_cli("bench", "cuba", "--backend", "torch", "--n", N, "--fast-math") == 2
    assert "--fast-math" in capsys.readouterr().err


def test_bench_dtype(capsys):
    from spikemem.cli.common import dtype_choices
    assert {"float64", "float32", "int24", "s16.15"} <= set(dtype_choices())
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02", "--json") == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "float64"
    assert run_cli("bench", "cuba", "--n", N, "--duration", "0.02", "--dtype", "float32", "--json") == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "float32"
    # the backend's capabilities decide: torch-float64 is float64 only
    assert run_cli("bench", "cuba", "--backend", "torch-float64", "--n", N, "--dtype", "float32") == 2
    err = capsys.readouterr().err
    assert "--dtype float32" in err and "torch-float64" in err


def test_network_file_round_trip(tmp_path):
    from spikemem.models.cuba.network import cuba
    path = tmp_path / "net.json"
    net = cuba(n=200, record_state=True)
    net.save(path)
    out = tmp_path / "out"
    assert run_cli("run", path, "--duration", "0.05", "--out", out, "--no-progress") == 0
    assert sorted(os.listdir(out)) == ["metrics.json", "raster.png", "rate.png", "result.h5", "traces.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["network_hash"] == net.hash()
    assert metrics["populations"]["exc"]["n"] == 160
    assert "exc.v" in Result.load(out / "result.h5").traces
    # --n is for models only
    assert run_cli("run", path, "--n", "100", "--out", tmp_path / "out2") == 2
    assert not (tmp_path / "out2").exists()


@pytest.mark.torch
def test_export_nir(tmp_path, capsys):
    from spikemem.connectors import AllToAll
    from spikemem.interop.nir import read_nir
    from spikemem.network import Network
    from spikemem.interop.nir import LIF
    net = Network(dt=1e-3)
    net.spike_source("s", 2, [[1e-3], []])
    net.population("l", 3, LIF(tau=5e-3))
    net.connect("s", "l", AllToAll(), weight=0.5, receptor="input")
    path = tmp_path / "net.json"
    net.save(path)
    out = tmp_path / "net.nir"
    assert run_cli("export", "nir", path, "-o", out) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    graph = read_nir(out)
    assert type(graph.nodes["l"]).__name__ == "LIF" and graph.metadata["spikemem.network_hash"] == net.hash()
    assert run_cli("export", "nir", path, "-o", out) == 2               # exists
    assert "--force" in capsys.readouterr().err
    assert run_cli("export", "nir", path, "-o", out, "--force") == 0
    # a model NIR cannot carry: every offender named, exit status 2, no file
    assert run_cli("export", "nir", "cuba", "--n", 100, "-o", tmp_path / "c.nir") == 2
    err = capsys.readouterr().err
    assert "population 'exc'" in err and "population 'inh'" in err
    assert sorted(os.listdir(tmp_path)) == ["net.json", "net.nir"]


def test_help_lists_what_the_registries_hold(capsys):
    from spikemem.backends import BACKENDS
    from spikemem.zoo import MODELS, Model, register_model
    register_model(Model("toy-model", "spikemem.models.cuba.network:cuba", summary="registered by a test"))
    try:
        assert run_cli("run", "--help") == 0
        out = capsys.readouterr().out
        assert all(name in out for name in [*MODELS.names(), *BACKENDS.names()])
        assert "registered by a test" in out and "functional, stress, map" in out
        assert "(experiments: quick, nest, ring, memory)" in out          # the astrocytes' experiments
    finally:
        MODELS.unregister("toy-model")


# ---------------------------------------------------------------- output paths refused before the work
def _no_simulation(monkeypatch):
    import spikemem.backends as backends

    def refuse(*a, **k):
        raise AssertionError("the output path should be refused before any simulation")
    monkeypatch.setattr(backends, "simulation", refuse)


def test_run_refuses_an_out_below_a_file_before_simulating(tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("")
    _no_simulation(monkeypatch)
    out = tmp_path / "afile" / "sub"
    assert run_cli("run", "cuba", "--n", N, "--duration", DURATION, "--out", out, "--no-progress") == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: --out ") and str(out) in err and "afile" in err
    assert os.listdir(tmp_path) == ["afile"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_run_refuses_an_out_that_cannot_be_created_before_simulating(capsys, monkeypatch):
    _no_simulation(monkeypatch)
    assert run_cli("run", "cuba", "--n", N, "--duration", DURATION, "--out", "/proc/x", "--no-progress") == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: --out '/proc/x'") and ".tmp-" not in err


def test_export_nir_refuses_an_output_below_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    assert run_cli("export", "nir", "cuba", "-o", tmp_path / "afile" / "x.nir") == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: -o ") and "afile" in err and "not a directory" in err
    assert run_cli("export", "nir", "cuba", "-o", tmp_path / "nodir" / "x.nir") == 2
    assert "does not exist" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["afile"]
