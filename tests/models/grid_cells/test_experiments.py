"""The experiments: the network on the recorded path with its report, the
targets' refusals, the CLI and the sweep's declaration."""
import json

import numpy as np
import pytest

from spikemem.cli import main as cli_main
from spikemem.errors import ModelError
from spikemem.models.grid_cells import experiments
from spikemem.models.grid_cells.experiments import Setting, hardware_check, integrate
from spikemem.models.grid_cells.report import write_report

TINY = Setting(n=32, duration=4.0, fit_seconds=2.0, units=4)


@pytest.fixture(scope="module")
def evaluation():
    return integrate(TINY)


def test_the_report_holds_figures_and_metrics(evaluation, tmp_path):
    data = write_report(tmp_path, evaluation)
    for name in ("patterns.png", "path.png", "error.png", "rate_maps.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert stored["error_end_m"] == pytest.approx(float(evaluation["run"].error[-1]))
    np.testing.assert_array_equal(stored["grid_scores"], data["grid_scores"])
    assert len(data["grid_scores"]) == 4
    assert stored["setting"]["n"] == 32
    assert evaluation["rate_maps"].shape == (4, 20, 20)


@pytest.mark.parametrize("spiking, kind", [(False, "ReLURate"), (True, "PoissonUnit")])
def test_both_targets_say_what_stops_each_variant(spiking, kind):
    reasons = hardware_check(Setting(n=28, spiking=spiking))
    for target, lines in reasons.items():
        assert any(f"is a {kind}" in line for line in lines), target
        assert any("reads signal 'v' (v_x, v_y)" in line for line in lines), target


@pytest.mark.parametrize("bad, match", [
    (dict(boundary="round"), "boundary 'round'"),
    (dict(duration=-1.0), "duration must be a positive"),
    (dict(duration=10.0, fit_seconds=20.0), "fit_seconds must lie in"),
])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ModelError, match=match):
        Setting(**bad)


def test_a_duration_beyond_the_recording_is_refused_before_work():
    with pytest.raises(ModelError, match="longer than the Sargolini trajectory"):
        integrate(Setting(n=28, duration=700.0))


def test_cli_runs_the_sargolini_experiment(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(experiments.SETTINGS, "sargolini", TINY)
    out = tmp_path / "report"
    assert cli_main(["run", "grid-cells", "--out", str(out), "--no-progress"]) == 0
    assert "path integration, n = 32 periodic" in capsys.readouterr().out
    assert (out / "metrics.json").exists() and (out / "path.png").exists()


def test_cli_runs_the_rnn_experiment(tmp_path, monkeypatch, capsys):
    from spikemem.models.grid_cells import rnn
    monkeypatch.setitem(experiments.SETTINGS, "rnn", rnn.Settings(n_units=32, n_place=16, steps=20, batch=16,
                                                                  surround_scale=None))
    out = tmp_path / "rnn"
    assert cli_main(["run", "grid-cells", "--experiment", "rnn", "--out", str(out), "--no-progress"]) == 0
    assert "RNN path integrator, 32 units" in capsys.readouterr().out
    data = json.loads((out / "metrics.json").read_text())
    assert len(data["grid_scores"]) == 32 and np.isfinite(data["mean_error_m"])


def test_the_sweepable_experiment_declares_its_parameters():
    from spikemem.zoo import MODELS
    params = MODELS.get("grid-cells").experiment().params
    assert list(params) == ["n", "boundary", "spiking", "duration", "fit_seconds"]
    result = MODELS.get("grid-cells").experiment()(seed=0, n=32, duration=3.0, fit_seconds=2.0)
    assert set(result.metrics) == {"error_end_m", "mean_error_m", "gain_m_per_neuron", "s_per_simulated_s"}


def test_the_full_size_sheet_is_reported_too_large_to_list_not_raised():
    for target, lines in hardware_check(Setting(n=128)).items():
        assert any("synapses of a convolution is 60,948,480" in line for line in lines), target
