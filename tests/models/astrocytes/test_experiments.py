"""The experiments at tiny sizes: the report's figures and metrics, NEST
missing, the CLI (run and sweep), the sweep's declaration and bad settings."""
import dataclasses
import json

import pytest

from spikemem.cli import main as cli_main
from spikemem.errors import ModelError
from spikemem.models.astrocytes import experiments, nest_drive
from spikemem.models.astrocytes.experiments import Setting, evaluate
from spikemem.models.astrocytes.report import write_report
from spikemem.zoo import MODELS

TINY = Setting(nest_seconds=0.3, nest_rate_hz=20.0, ring_seconds=200.0, ring_size=6, delays=(0, 3),
               kinds=("lif", "amsu"), iterations=3, budget=200)


@pytest.fixture(scope="module")
def without_nest():
    with pytest.MonkeyPatch.context() as m:
        m.setattr(nest_drive, "nest_available", lambda: False)
        evaluation = evaluate(TINY)
    return evaluation


def test_every_part_runs_and_without_nest_says_so(without_nest):
    nest = without_nest["nest"]
    assert nest["nest"] is None and nest["differences"] is None
    assert "NEST cannot be imported" in nest["note"] and "hardware" in nest["note"]
    assert nest["ours"]["IP3"].shape == (300,) and nest["inputs"] > 0
    ring = without_nest["ring"]
    assert ring["calcium_uM"].shape == (200, 6) and ring["stimulated"] == 3
    rows = without_nest["memory"]["rows"]
    assert [(r["delay"], r["model"]) for r in rows] == [(0, "lif"), (0, "amsu"), (3, "lif"), (3, "amsu")]
    assert all(0 <= r["accuracy"] <= 1 and 150 <= r["parameters"] <= 250 for r in rows)


def test_the_report_holds_the_figures_and_metrics(without_nest, tmp_path):
    data = write_report(tmp_path, without_nest)
    for name in ("nest_traces.png", "ring_kymograph.png", "memory.png", "memory.csv", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(data, default=float))
    assert stored["nest"]["nest_ran"] is False and "ours" not in stored["nest"]
    assert "calcium_uM" not in stored["ring"] and stored["ring"]["arrival_s"] == without_nest["ring"]["arrival_s"]
    assert stored["memory"]["rows"][3]["accuracy"] == without_nest["memory"]["rows"][3]["accuracy"]
    assert len((tmp_path / "memory.csv").read_text().splitlines()) == 5
    lines = experiments.summary_lines("quick", data)
    assert any("NEST cannot be imported" in line for line in lines)
    assert any(line.startswith("recall D=3: lif") for line in lines)


def test_a_part_alone_writes_its_own_figure(tmp_path):
    data = write_report(tmp_path, evaluate(dataclasses.replace(TINY, parts=("ring",))))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "ring_kymograph.png"]
    assert set(data) == {"setting", "backend", "seconds", "ring"}


@pytest.mark.hardware
def test_with_nest_the_report_compares(tmp_path):
    data = write_report(tmp_path, evaluate(dataclasses.replace(TINY, parts=("nest",))))
    assert data["nest"]["nest_ran"] and data["nest"]["differences"]["IP3"]["max_abs"] < 1e-11


def test_cli_runs_an_experiment_on_a_backend(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(experiments.SETTINGS, "ring", dataclasses.replace(TINY, parts=("ring",)))
    out = tmp_path / "report"
    assert cli_main(["run", "astrocytes", "--experiment", "ring", "--backend", "torch", "--out", str(out),
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "ring (torch)" in printed and "the wave reached" in printed
    assert json.loads((out / "metrics.json").read_text())["ring"]["backend"] == "torch"


def test_cli_refuses_an_unknown_experiment_and_backend(tmp_path, capsys):
    assert cli_main(["run", "astrocytes", "--experiment", "figure-9", "--out", str(tmp_path / "x")]) == 2
    assert "quick, nest, ring, memory" in capsys.readouterr().err
    assert cli_main(["run", "astrocytes", "--backend", "nosuch", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_cli_sweeps_the_recall_experiment(tmp_path):
    out = tmp_path / "sweep"
    assert cli_main(["sweep", "astrocytes", "--set", "kind=lif,amsu", "--set", "delay=2", "--set", "iterations=2",
                     "--set", "budget=200", "--seeds", "0", "--scheduler", "in-process", "--no-cache",
                     "--out", str(out), "--no-progress"]) == 0
    record = json.loads((out / "provenance.json").read_text())
    assert record["counts"]["computed"] == 2


def test_the_sweepable_experiment_declares_its_parameters():
    declared = MODELS.get("astrocytes").experiment()
    assert declared is experiments.recall_at_delay
    assert list(declared.params) == ["kind", "delay", "budget", "iterations"]
    result = declared(seed=0, kind="lstm", delay=1, budget=300, iterations=2)
    assert set(result.metrics) == {"accuracy", "loss", "chance", "parameters", "seconds"}
    assert result.metrics["chance"] == 0.25
    with pytest.raises(ModelError, match="transformer"):
        declared.resolve({"kind": "transformer"})


@pytest.mark.parametrize("bad, match", [
    (dict(parts=("nest", "figure-3")), r"parts \['nest', 'figure-3'\]"),
    (dict(kinds=()), "kinds"),
    (dict(nest_seconds=0.0), "nest_seconds must be"),
    (dict(ring_size=2), "ring_size must be"),
    (dict(delays=()), "at least one delay"),
    (dict(delays=(5, -1)), "delay -1"),
    (dict(iterations=0), "iterations must be"),
])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ModelError, match=match):
        Setting(**bad)
