"""The hardware commands on SpiNNaker: ``spikemem check|map --target spinnaker`` and
``export pynn --target spinnaker`` (the hardware extra)."""
import json
import os

import pytest

from spikemem.cli import main

pytestmark = pytest.mark.hardware
pytest.importorskip("spynnaker")


def run_cli(*argv):
    return main([str(a) for a in argv])


def test_check_exit_status_and_json(capsys):
    assert run_cli("check", "ca3-cam", "--target", "spinnaker") == 0
    assert "passes every check" in capsys.readouterr().out
    assert run_cli("check", "cuba", "--n", 100, "--target", "spinnaker", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and {v["where"] for v in data["violations"]} >= {"population 'exc'", "population 'inh'"}
    assert run_cli("check", "no-such-model", "--target", "spinnaker") == 2


def test_map_spinnaker_json(capsys):
    assert run_cli("map", "cuba-curr-exp", "--n", 300, "--target", "spinnaker", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["population"]: r for r in data["rows"]}
    assert rows["exc"]["neurons"] == 240 and rows["exc"]["neuron_cores"] == 1
    assert data["totals"]["cores"] >= 2


def test_export_pynn_for_spinnaker_checks_first(tmp_path, capsys):
    out = tmp_path / "exp"
    assert run_cli("export", "pynn", "ca3-cam", "-o", out, "--duration", 0.05, "--target", "spinnaker") == 0
    assert sorted(os.listdir(out)) == ["README.txt", "model.json", "network.npz", "run.py"]
    capsys.readouterr()
    assert run_cli("export", "pynn", "cuba", "--n", 100, "-o", tmp_path / "c", "--duration", 0.05,
                   "--target", "spinnaker") == 2
    assert "constraint(s) of spinnaker" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["exp"]            # the refused export wrote nothing


def test_map_spinnaker_refuses_what_check_rejects(capsys):
    assert run_cli("map", "cuba", "--n", 100, "--target", "spinnaker") == 2
    captured = capsys.readouterr()
    assert "population 'exc'" in captured.err and "cores" not in captured.out
