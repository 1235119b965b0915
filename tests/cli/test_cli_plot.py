"""``spikemem plot result.h5`` and ``spikemem emulate --out``: figures of saved and emulated runs."""
import json
import os

import numpy as np
import pytest

from spikemem.cli import main
from spikemem.results import Result, SpikeTrain, Trace

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture
def saved(tmp_path):
    """A small result as ``spikemem run`` saves it: two populations' spikes and a voltage trace."""
    rng = np.random.default_rng(0)
    t = np.arange(100) * 1e-3
    result = Result(spikes={"exc": SpikeTrain(np.sort(rng.uniform(0, 0.1, 50)), rng.integers(0, 8, 50), 8),
                            "inh": SpikeTrain([0.05], [1], 2)},
                    traces={"exc.v": Trace(t, [0], -0.065 + 0.01 * np.sin(t)[:, None], "V")},
                    meta={"duration": 0.1, "dt": 1e-4, "backend": "numba"})
    path = tmp_path / "result.h5"
    result.save(path)
    return path


def test_plot_writes_the_figures_of_a_saved_result(saved, tmp_path, capsys):
    out = tmp_path / "figures"
    assert run_cli("plot", saved, "-o", out) == 0
    assert sorted(os.listdir(out)) == ["raster.png", "rate.png", "traces.png"]
    assert all((out / name).read_bytes().startswith(PNG) for name in os.listdir(out))
    assert f"wrote raster.png, rate.png, traces.png to {out}" in capsys.readouterr().out
    assert run_cli("plot", saved, "-o", out) == 2              # taken, as for run --out
    assert "exists and is not empty" in capsys.readouterr().err
    assert run_cli("plot", saved, "-o", out, "--force") == 0


def test_plot_writes_what_run_writes(tmp_path):
    run_dir, plot_dir = tmp_path / "run", tmp_path / "plot"
    assert run_cli("run", "cuba", "--n", 100, "--duration", 0.02, "--out", run_dir, "--no-progress") == 0
    assert run_cli("plot", run_dir / "result.h5", "-o", plot_dir) == 0
    assert sorted(os.listdir(plot_dir)) == sorted(p for p in os.listdir(run_dir) if p.endswith(".png"))


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.h5", "result file '{}' not found"),
    (lambda d: d, "'{}' is a directory, not a result file"),
    (lambda d: (d / "notes.txt").write_text("hello") and d / "notes.txt", "{}: not a valid spikemem result file"),
])
def test_plot_names_a_bad_result_path(tmp_path, capsys, make, message):
    path = make(tmp_path)
    assert run_cli("plot", path, "-o", tmp_path / "out") == 2
    assert capsys.readouterr().err.startswith(f"spikemem: error: {message.format(path)}")
    assert not (tmp_path / "out").exists()


def test_plot_refuses_an_unwritable_folder_before_reading(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert run_cli("plot", tmp_path / "missing.h5", "-o", afile / "sub") == 2
    err = capsys.readouterr().err
    assert f"'{afile / 'sub'}'" in err and f"'{afile}' is a file" in err       # the folder first, then the file
    assert run_cli("plot", tmp_path / "missing.h5") == 2
    assert "give -o DIR to write the figures, or --show" in capsys.readouterr().err


def test_plot_of_a_result_without_recordings_says_so(tmp_path, capsys):
    Result(meta={"duration": 1.0}).save(tmp_path / "empty.h5")
    assert run_cli("plot", tmp_path / "empty.h5", "-o", tmp_path / "out") == 2
    assert "holds no spikes and no traces: nothing to plot" in capsys.readouterr().err


def test_emulate_out_writes_the_difference_raster(tmp_path, capsys):
    out = tmp_path / "emulation"
    assert run_cli("emulate", "cuba-curr-exp", "--target", "spinnaker", "--n", 100, "--duration", 0.05,
                   "--out", out, "--no-progress") == 0
    assert sorted(os.listdir(out)) == ["difference.png", "emulation.json", "reference.h5", "result.h5"]
    assert (out / "difference.png").read_bytes().startswith(PNG)
    report = json.loads((out / "emulation.json").read_text())
    reference, emulated = Result.load(out / "reference.h5"), Result.load(out / "result.h5")
    assert sum(t.count() for t in reference.spikes.values()) == sum(d["reference"] for d in report["distance"].values())
    assert sum(t.count() for t in emulated.spikes.values()) == sum(d["emulated"] for d in report["distance"].values())
    assert f"wrote {out}" in capsys.readouterr().out


def test_emulate_out_refused_before_the_work(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert run_cli("emulate", "cuba-curr-exp", "--target", "spinnaker", "--n", 100, "--out", afile) == 2
    assert f"--out '{afile}': exists and is not a directory" in capsys.readouterr().err
    assert run_cli("emulate", "ca3-cam", "--target", "spinnaker", "--out", tmp_path / "x") == 2
    assert "--out applies to network emulations" in capsys.readouterr().err


def test_plot_draws_each_figure_once_for_the_files_and_the_windows(saved, tmp_path, monkeypatch):
    from spikemem import plot
    from spikemem.cli import plot as cli_plot
    drawn, shown = [], []
    real = plot.figures
    monkeypatch.setattr(plot, "figures", lambda result: drawn.append(1) or real(result))
    monkeypatch.setattr(cli_plot, "_show", lambda figures: shown.append(figures))
    assert run_cli("plot", saved, "-o", tmp_path / "out", "--show") == 0
    assert len(drawn) == 1 and sorted(shown[0]) == ["raster", "rate", "traces"]
    assert sorted(os.listdir(tmp_path / "out")) == ["raster.png", "rate.png", "traces.png"]
